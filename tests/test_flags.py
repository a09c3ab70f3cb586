"""The shared flags table: click options, settings overrides and the serve argv all come from
it, its defaults are the Settings defaults, and each command takes only the flags it uses."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from hlmon.cli import main
from hlmon.config import Settings
from hlmon.config.flags import FLAG_NAMES, SHARED_FLAGS, Command, flags_for
from hlmon.config.layers import KEYS
from hlmon.serve import app_args
from tests.support import cli_logging_restored

ADDRESS_A = "0x" + "ab" * 20
ADDRESS_B = "0x" + "cd" * 20

# The help of each flag that shows a default must show exactly this: Settings' own default,
# typed as a user would give it. Written out here so a hand-written default in the code (like
# the old "--fps ... (default 10)" when the default was 12) cannot agree with itself.
EXPECTED_DEFAULTS: dict[str, str] = {
    "--network": Settings().network,
    "--coins": ",".join(Settings().watchlist),
    "--fps": f"{Settings().fps:g}",
    "--theme": Settings().theme,
    "--demo-account": Settings().demo_account,
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with cli_logging_restored():
        yield


def _command(name: Command) -> click.Command:
    if name == "tui":
        return main
    assert isinstance(main, click.Group)
    command = main.commands[name]
    return command


def _options(name: Command) -> dict[str, click.Option]:
    return {
        opt: param
        for param in _command(name).params
        if isinstance(param, click.Option)
        for opt in param.opts
    }


COMMANDS: tuple[Command, ...] = ("tui", "snapshot", "record", "serve")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_shown_default_is_the_settings_default(command: Command) -> None:
    """A flag's help shows a default only if it is the Settings default."""
    options = _options(command)
    for flag in flags_for(command):
        help_text = options[flag.name].help or ""
        if flag.name in EXPECTED_DEFAULTS:
            assert help_text.endswith(f"[default: {EXPECTED_DEFAULTS[flag.name]}]"), help_text
            assert help_text.count("default") == 1, help_text
        elif flag.settings:
            assert "default" not in help_text.lower(), help_text


def test_the_table_never_writes_a_default_by_hand() -> None:
    """Defaults are appended from Settings; a row's own help must not state one."""
    for flag in SHARED_FLAGS:
        if flag.settings:
            assert "default" not in flag.help.lower(), flag.name


def test_fps_help_says_12() -> None:
    """The drift the table exists to prevent: --fps said "default 10" while it was 12."""
    result = CliRunner().invoke(main, ["--help"], prog_name="hlmon")
    assert result.exit_code == 0
    assert "[default: 12]" in result.output
    assert "default 10" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_declares_exactly_its_table_rows(command: Command) -> None:
    """Every shared option a command has comes from the table, with the table's applicability."""
    options = _options(command)
    shared = {flag.name for flag in SHARED_FLAGS}
    declared = {name for name in options if name in shared}
    assert declared == {flag.name for flag in flags_for(command)}


def test_screen_flags_only_where_there_is_a_screen() -> None:
    """--fps and --theme mean nothing without a screen: only the TUI and serve take them."""
    for command in ("snapshot", "record"):
        help_text = CliRunner().invoke(main, [command, "--help"], prog_name="hlmon").output
        assert "--fps" not in help_text and "--theme" not in help_text
        assert "--coins" in help_text and "--demo" in help_text
    for command in ("serve",):
        help_text = CliRunner().invoke(main, [command, "--help"], prog_name="hlmon").output
        assert "--fps" in help_text and "--theme" in help_text


@pytest.mark.parametrize(
    "args",
    [
        ["snapshot", "--fps", "5"],
        ["--fps", "5", "snapshot"],
        ["--theme", "nord", "record", "out.jsonl.gz"],
        ["record", "--theme", "nord", "out.jsonl.gz"],
    ],
)
def test_screen_flags_refused_on_headless_commands(args: list[str]) -> None:
    """Given after the command, click refuses it; given before, the group does (never ignored)."""
    result = CliRunner().invoke(main, args, prog_name="hlmon")
    assert result.exit_code == 2, result.output
    flag = "--fps" if "--fps" in args else "--theme"
    assert flag in result.output


def test_flag_names_cover_every_setting_a_flag_sets() -> None:
    """Overrides name their flag in errors; every flag sets only real top-level keys."""
    for flag in SHARED_FLAGS:
        for setting in flag.settings:
            assert setting in KEYS, (flag.name, setting)
            # --via and --direct both set ``daemon``: errors name the first (--via).
            first = next(f.name for f in SHARED_FLAGS if setting in f.settings)
            assert FLAG_NAMES[setting] == first
    assert FLAG_NAMES["watchlist"] == "--coins"
    assert FLAG_NAMES["daemon"] == "--via"
    assert FLAG_NAMES["use_websocket"] == "--no-ws"


def _fake_run_app(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    seen: list[Settings] = []

    def run_app(settings: Settings, **_: object) -> int:  # (clipboard=...)
        seen.append(settings)
        return 0

    module = types.ModuleType("hlmon.ui.app")
    module.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hlmon.ui.app", module)
    return seen


def test_serve_argv_gives_the_app_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every TUI flag given to serve reaches the app and resolves to the same Settings."""
    config = tmp_path / "c.toml"
    config.write_text('theme = "from-file"\n', encoding="utf-8")
    opts: dict[str, Any] = {
        "config_path": config,
        "network": None,
        "api_url": "http://127.0.0.1:9999",
        "address": (ADDRESS_A, ADDRESS_B),
        "coins": "BTC,kPEPE",
        "demo": True,
        "demo_account": "unified",
        "no_ws": True,
        "via": "/run/hl/d.sock",
        "direct": False,
        "fps": 5.0,
        "theme": "nord",
    }
    assert {flag.dest for flag in flags_for("serve")} == set(opts)
    seen = _fake_run_app(monkeypatch)
    argv = app_args(opts, python="/py")[3:]
    result = CliRunner().invoke(main, argv, prog_name="hlmon")
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert settings.api_url == "http://127.0.0.1:9999"
    assert (settings.address, settings.addresses) == (ADDRESS_A, (ADDRESS_A, ADDRESS_B))
    assert settings.watchlist == ("BTC", "kPEPE")
    assert (settings.demo, settings.use_websocket) == (True, False)
    assert (settings.fps, settings.theme) == (5.0, "nord")
    assert settings.daemon == "unix:/run/hl/d.sock"


def test_flags_not_given_do_not_override_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A switch not given is "not given", never its opposite: the file's value stays."""
    config = tmp_path / "c.toml"
    config.write_text("demo = true\nuse_websocket = false\nfps = 30\n", encoding="utf-8")
    seen = _fake_run_app(monkeypatch)
    result = CliRunner().invoke(main, ["--config", str(config)], prog_name="hlmon")
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert (settings.demo, settings.use_websocket, settings.fps) == (True, False, 30.0)
