"""Every command-line option given a bad value: exit 1 (bad value) or 2 (bad syntax), a
message naming the option, never a traceback, and nothing started.

tests/test_cli.py already covers a first set (``--fps 0``, ``--network moon``, ...); this file
walks every option of every command, and runs a few through a real subprocess so the
process-level behaviour (exit status, stderr, no traceback) is what a user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import hlmon.sim
from hlmon.cli import main
from tests.support import cli_logging_restored

LOOPBACK = ["--api-url", "http://127.0.0.1:9"]
"""Anything that might start anyway points at a closed loopback port, never the network."""

# (args, exit code, text the message must contain)
BAD_VALUES: list[tuple[list[str], int, str]] = [
    (["--config", "/nonexistent/x.toml"], 1, "--config"),
    (["--config", "/"], 2, "--config"),  # a directory
    (["--network", "moon"], 2, "--network"),
    (["--network", ""], 2, "--network"),
    (["--api-url", "ftp://example.com"], 1, "--api-url"),
    (["--api-url", "not a url"], 1, "--api-url"),
    (["--api-url", "https://"], 1, "--api-url"),
    (["--api-url", "http://example.com"], 1, "--api-url"),  # http only on loopback
    (["--address", "zz"], 1, "--address"),
    (["--address", "0x" + "a" * 41], 1, "--address"),
    (["--address", "0x" + "g" * 40], 1, "--address"),
    (["--coins", ""], 1, "--coins"),
    (["--coins", ",,,"], 1, "--coins"),
    (["--fps", "fast"], 2, "--fps"),
    (["--fps", "nan"], 1, "--fps"),
    (["--fps", "inf"], 1, "--fps"),
    (["--fps", "-1"], 1, "--fps"),
    (["--fps", "61"], 1, "--fps"),
    (["--theme", ""], 1, "--theme"),
    (["--demo=yes"], 2, "--demo"),
    (["--demo-account", "merged"], 2, "--demo-account"),
    (["--via", "sometimes"], 1, "--via"),
    (["--via", "http://10.0.0.1:8765"], 1, "--via"),
    (["--via", "/tmp/d.sock", "--direct"], 1, "--direct"),
    (["--direct=yes"], 2, "--direct"),
    (["snapshot", "--via", ""], 1, "--via"),
    (["--no-ws=1"], 2, "--no-ws"),
    (["--record", "/"], 2, "--record"),  # a directory
    (["--record", "/nonexistent/dir/x.gz"], 1, "--record"),
    (["--log-level", "loud"], 2, "--log-level"),
    (["--log-file", "/"], 2, "--log-file"),  # a directory
    (["--log-file", "/proc/hlmon/x.log"], 1, "--log-file"),  # cannot be created
    (["--network"], 2, "--network"),  # value missing
    (["--bogus"], 2, "--bogus"),
    (["snapshot", "--wait", "soon"], 2, "--wait"),
    (["snapshot", "--wait", "0"], 1, "--wait"),
    (["snapshot", "--wait", "nan"], 1, "--wait"),
    (["snapshot", "--wait", "inf"], 1, "--wait"),
    (["snapshot", "--wait", "1e9"], 1, "--wait"),
    (["snapshot", "--coins", ","], 1, "--coins"),
    (["snapshot", "--fps", "0"], 2, "--fps"),  # not an option of snapshot (no screen)
    (["snapshot", "--address", "0x12"], 1, "--address"),
    (["sim", "--port", "-1"], 2, "--port"),
    (["sim", "--port", "65536"], 2, "--port"),
    (["sim", "--port", "x"], 2, "--port"),
    (["sim", "--seed", "1.5"], 2, "--seed"),
    (["sim", "--profile", "huge"], 2, "--profile"),
    (["sim", "--demo-account", "pm"], 2, "--demo-account"),
    (["sim", "--markets", "huge"], 2, "--markets"),
    (["sim", "--faults=on"], 2, "--faults"),
    (["sim", "--host"], 2, "--host"),
    (["nosuchcommand"], 2, "nosuchcommand"),
    # Newer commands: only syntax errors here (they fail before anything starts).
    (["replay", "--speed", "x", "f.gz"], 2, "--speed"),
    (["replay", "--port", "70000", "f.gz"], 2, "--port"),
    (["serve", "--port", "x"], 2, "--port"),
    (["record", "--duration", "x", "f.gz"], 2, "--duration"),
    (["record", "--via", "/tmp/d.sock", "f.gz"], 2, "--via"),  # a recording is always direct
    (["daemon", "--max-users", "16"], 2, "--max-users"),
    (["daemon", "--rest-budget", "1201"], 2, "--rest-budget"),
    (["daemon", "--tcp-port", "x"], 2, "--tcp-port"),
    (["daemon", "--coins", "BTC"], 2, "--coins"),  # the daemon takes no watchlist
]
CHECKED_COMMANDS = ("hlmon", "snapshot", "sim")
"""Commands whose every option must have a case above."""


class Calls:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        self.calls.append((args, kwargs))
        return 0


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[Calls]]:
    """Fake TUI, snapshot and simulator entry points: nothing may start on a bad value."""
    monkeypatch.chdir(tmp_path)
    fakes = []
    for name, attr in (("hlmon.ui.app", "run_app"), ("hlmon.snapshot", "run_snapshot")):
        calls = Calls()
        module = types.ModuleType(name)
        setattr(module, attr, calls)
        monkeypatch.setitem(sys.modules, name, module)
        fakes.append(calls)
    sim_calls = Calls()
    monkeypatch.setattr(hlmon.sim, "run_standalone", sim_calls, raising=False)
    fakes.append(sim_calls)
    with cli_logging_restored():
        yield fakes


@pytest.mark.parametrize(("args", "code", "needle"), BAD_VALUES, ids=lambda v: repr(v))
def test_bad_value_exits_with_a_message(
    args: list[str], code: int, needle: str, entry_points: list[Calls]
) -> None:
    result = CliRunner().invoke(main, args, prog_name="hlmon")
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert needle in result.stderr, result.stderr
    assert result.stderr.startswith(("hlmon: error:", "Usage:", "Error:")), result.stderr
    assert all(not fake.calls for fake in entry_points)


def test_every_option_has_a_bad_value_case() -> None:
    """Adding an option without a bad-value case here fails this test."""
    covered = {arg.split("=")[0] for args, _, _ in BAD_VALUES for arg in args}
    commands: list[Any] = [main, *main.commands.values()]
    for command in commands:
        if command is not main and command.name not in CHECKED_COMMANDS:
            continue
        for param in command.params:
            names = [n for n in param.opts if n.startswith("--")]
            if not names or names[0] in ("--help", "--version"):
                continue
            assert names[0] in covered, f"{command.name}: {names[0]} has no bad-value case"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HLMON_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hlmon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--fps", "nan", *LOOPBACK], 1),
        (["--log-level", "loud", *LOOPBACK], 2),
        (["sim", "--port", "x"], 2),
        (["snapshot", "--wait", "-1", *LOOPBACK], 1),
    ],
)
def test_bad_values_in_a_real_process(args: list[str], code: int, tmp_path: Path) -> None:
    proc = _run(*args, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip(), "no message"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) <= 4 and ("error" in lines[-1].lower()), lines
