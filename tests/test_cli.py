"""The command line: help, version, flags to Settings, errors, subcommands, logging."""

from __future__ import annotations

import importlib
import logging
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import hlmon.sim
from hlmon.cli import main
from hlmon.config import NETWORK_URLS, Settings
from tests.support import REPO_ROOT, cli_logging_restored, python_stdout

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = "0x" + "AbCdEf0123" * 4


@pytest.fixture(autouse=True)
def _cwd_and_logging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Run from an empty directory (no ./config.toml) and undo the CLI's logging setup."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with cli_logging_restored():
        yield


class Calls:
    """Records the calls a fake entry point receives and returns a set exit code."""

    def __init__(self, result: int = 0) -> None:
        self.result = result
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        self.calls.append((args, kwargs))
        return self.result

    @property
    def settings(self) -> Settings:
        assert len(self.calls) == 1
        settings = self.calls[0][0][0]
        assert isinstance(settings, Settings)
        return settings


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, attr: str, result: int = 0) -> Calls:
    calls = Calls(result)
    module = types.ModuleType(name)
    setattr(module, attr, calls)
    monkeypatch.setitem(sys.modules, name, module)
    return calls


@pytest.fixture
def run_app(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return _fake_module(monkeypatch, "hlmon.ui.app", "run_app")


@pytest.fixture
def run_snapshot(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return _fake_module(monkeypatch, "hlmon.snapshot", "run_snapshot")


@pytest.fixture
def run_standalone(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()
    monkeypatch.setattr(hlmon.sim, "run_standalone", calls, raising=False)
    return calls


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, prog_name="hlmon")


def assert_clean_failure(result: Result, code: int) -> None:
    """Failed as expected, with a message and no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


class TestHelpAndVersion:
    def test_help_lists_commands_and_options(self) -> None:
        """--help shows both subcommands and every shared option."""
        result = invoke("--help")
        assert result.exit_code == 0
        for word in ("sim", "snapshot", "--config", "--network", "--api-url", "--address"):
            assert word in result.output
        for word in ("--coins", "--demo", "--no-ws", "--fps", "--theme", "--version", "--log-file"):
            assert word in result.output
        assert invoke("-h").output == result.output

    def test_subcommand_help(self) -> None:
        """snapshot takes the shared options plus --wait; sim its own."""
        snap = invoke("snapshot", "--help")
        assert snap.exit_code == 0
        for word in ("--wait", "--address", "--coins", "--demo", "--config"):
            assert word in snap.output
        sim = invoke("sim", "--help")
        assert sim.exit_code == 0
        for word in ("--host", "--port", "--seed", "--profile", "standard|stress", "--faults"):
            assert word in sim.output
        for word in ("--demo-account", "unified", "portfolio", "liquidate", "trigger", "twap"):
            assert word in sim.output

    def test_version(self) -> None:
        """--version: hlmon X.Y.Z (textual A.B.C, python ...)."""
        result = invoke("--version")
        assert result.exit_code == 0
        assert re.fullmatch(
            r"hlmon \d+\.\d+\.\d+\S* \(textual \d+\.\d+\.\d+\S*, python 3\.\d+\.\d+\S*\)\n",
            result.output,
        )

    def test_version_does_not_import_textual(self) -> None:
        """The Textual version comes from package metadata, not an import."""
        code = (
            "import sys\n"
            "from hlmon.cli import main\n"
            "try:\n"
            "    main(['--version'], prog_name='hlmon')\n"
            "except SystemExit:\n"
            "    pass\n"
            "print('textual' in sys.modules)\n"
        )
        stdout = python_stdout(code)
        assert stdout.splitlines()[-1] == "False"


class TestRealProcess:
    """One real run of ``python -m hlmon``: the entry point wiring, not just the click object."""

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hlmon", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_version(self) -> None:
        """The version line on stdout, exit 0."""
        out = self._run("--version")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("hlmon ")
        assert "textual " in out.stdout and "python " in out.stdout

    def test_help(self) -> None:
        """Help names the program "hlmon", not "python -m hlmon"."""
        out = self._run("--help")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("Usage: hlmon [OPTIONS]")
        assert "snapshot" in out.stdout and "sim" in out.stdout

    def test_bad_flag(self) -> None:
        """A usage error exits 2 with click's message, no traceback."""
        out = self._run("--bogus")
        assert out.returncode == 2
        assert "No such option" in out.stderr and "Traceback" not in out.stderr


class TestTui:
    def test_flags_reach_settings(self, run_app: Calls) -> None:
        """Every shared flag lands in the Settings handed to run_app."""
        result = invoke(
            "--network",
            "testnet",
            "--address",
            ADDRESS,
            "--coins",
            "BTC, kPEPE @107",
            "--demo",
            "--no-ws",
            "--fps",
            "20",
            "--theme",
            "nord",
        )
        assert result.exit_code == 0, result.output
        settings = run_app.settings
        assert settings.network == "testnet"
        assert settings.api_url == NETWORK_URLS["testnet"]
        assert settings.address == ADDRESS.lower()
        assert settings.watchlist == ("BTC", "kPEPE", "@107")
        assert (settings.demo, settings.use_websocket) == (True, False)
        assert (settings.fps, settings.theme) == (20.0, "nord")

    def test_defaults_without_flags(self, run_app: Calls) -> None:
        """No flags, no files, no env: exactly the defaults."""
        assert invoke().exit_code == 0
        assert run_app.settings == Settings()

    def test_exit_code_is_run_apps(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """hlmon exits with whatever run_app returns."""
        _fake_module(monkeypatch, "hlmon.ui.app", "run_app", result=3)
        assert invoke().exit_code == 3

    def test_loopback_http_api_url(self, run_app: Calls) -> None:
        """http is fine for a local simulator and implies a custom network."""
        assert invoke("--api-url", "http://127.0.0.1:3001").exit_code == 0
        assert run_app.settings.network == "custom"
        assert run_app.settings.ws_url == "ws://127.0.0.1:3001/ws"

    def test_non_loopback_http_refused(self, run_app: Calls) -> None:
        """--api-url http://example.com is refused: exit 1, a clear message."""
        result = invoke("--api-url", "http://example.com")
        assert_clean_failure(result, 1)
        assert result.stderr.startswith("hlmon: error: --api-url: expected an https:// URL")
        assert run_app.calls == []

    def test_env_and_config_file(self, run_app: Calls, tmp_path: Path) -> None:
        """$HLMON_ADDRESS beats the file; --address beats $HLMON_ADDRESS."""
        a_file, a_env, a_flag = ("0x" + c * 40 for c in "abc")
        path = tmp_path / "c.toml"
        path.write_text(f'address = "{a_file}"\nfps = 30\n', encoding="utf-8")
        assert invoke("--config", str(path)).exit_code == 0
        env = {"HLMON_ADDRESS": a_env, "HLMON_CONFIG": str(path)}
        assert invoke(env=env).exit_code == 0
        assert invoke("--address", a_flag, env=env).exit_code == 0
        got = [(args[0].address, args[0].fps) for args, _ in run_app.calls]
        assert got == [(a_file, 30.0), (a_env, 30.0), (a_flag, 30.0)]

    def test_config_error_is_one_line(self, run_app: Calls, tmp_path: Path) -> None:
        """A bad file is reported as 'hlmon: error: <file>: key ...', exit 1."""
        path = tmp_path / "c.toml"
        path.write_text('[stale]\nbook = "x"\n', encoding="utf-8")
        result = invoke("--config", str(path))
        assert_clean_failure(result, 1)
        assert result.stderr == (
            f"hlmon: error: {path}: key 'stale.book': expected a number of seconds > 0, got \"x\"\n"
        )

    @pytest.mark.parametrize(
        ("args", "code", "needle"),
        [
            (["--bogus"], 2, "No such option"),
            (["--network", "moon"], 2, "Invalid value for '--network'"),
            (["--fps", "fast"], 2, "Invalid value for '--fps'"),
            (["--fps", "0"], 1, "hlmon: error: --fps: expected a number 1..60"),
            (["--coins", " , "], 1, "hlmon: error: --coins: expected a non-empty"),
            (["--address", "0x1234"], 1, "hlmon: error: --address: expected an address"),
            (["--config", "/nonexistent/hlmon.toml"], 1, "no such file"),
            (["--theme", ""], 1, "hlmon: error: --theme: expected a theme name"),
        ],
    )
    def test_bad_input(self, run_app: Calls, args: list[str], code: int, needle: str) -> None:
        """Bad values exit 1, bad flag syntax 2; always a message, never a traceback."""
        result = invoke(*args)
        assert_clean_failure(result, code)
        assert needle in result.stderr
        assert run_app.calls == []

    def test_not_built_yet(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without hlmon.ui.app the TUI command says so and exits 1."""
        monkeypatch.setitem(sys.modules, "hlmon.ui.app", None)
        result = invoke()
        assert_clean_failure(result, 1)
        assert "the TUI is not built yet" in result.stderr

    def test_broken_import_is_not_not_built(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A dependency missing inside the TUI is reported as a load failure."""
        real = importlib.import_module

        def fake(name: str, package: str | None = None) -> types.ModuleType:
            if name == "hlmon.ui.app":
                raise ModuleNotFoundError("No module named 'somedep'", name="somedep")
            return real(name, package)

        monkeypatch.setattr(importlib, "import_module", fake)
        result = invoke()
        assert_clean_failure(result, 1)
        assert "the TUI failed to load: No module named 'somedep'" in result.stderr


class TestPrivateKey:
    @pytest.mark.parametrize(
        "args",
        [
            ["--address", "0x" + KEY],
            ["--address", KEY.upper()],
            [f"--address=0x{KEY}"],
            ["snapshot", "--address", "0x" + KEY],
            ["--address", "0x" + KEY, "snapshot"],
        ],
    )
    def test_refused_and_never_echoed(
        self,
        args: list[str],
        run_app: Calls,
        run_snapshot: Calls,
        caplog: pytest.LogCaptureFixture,
        tmp_path: Path,
    ) -> None:
        """The warning is shown; the digits appear in no output, log record or log file."""
        caplog.set_level(logging.DEBUG)
        log_file = tmp_path / "hlmon.log"
        result = invoke("--log-file", str(log_file), *args)
        assert_clean_failure(result, 1)
        assert "PRIVATE KEY" in result.stderr and "never needs" in result.stderr
        everything = result.output + caplog.text + log_file.read_text(encoding="utf-8")
        assert KEY not in everything.lower()
        assert run_app.calls == [] and run_snapshot.calls == []

    def test_from_environment(self, run_app: Calls) -> None:
        """$HLMON_ADDRESS holding a key is refused the same way."""
        result = invoke(env={"HLMON_ADDRESS": KEY})
        assert_clean_failure(result, 1)
        assert result.stderr.startswith("hlmon: error: $HLMON_ADDRESS: this looks like a PRIVATE")
        assert KEY not in result.output.lower()

    @pytest.mark.parametrize(
        "args", [[KEY], ["--network", KEY], ["--address", ADDRESS, "0x" + KEY], ["sim", KEY]]
    )
    def test_misplaced_key_not_echoed_by_usage_errors(self, args: list[str]) -> None:
        """Click quotes bad arguments back; a key-like one is hidden."""
        result = invoke(*args)
        assert_clean_failure(result, 2)
        assert "looks like a private key" in result.stderr
        assert KEY not in result.output.lower()


class TestSnapshot:
    def test_options_before_and_after(self, run_snapshot: Calls) -> None:
        """Shared options work on either side of 'snapshot'; the later one wins."""
        result = invoke(
            "--coins",
            "BTC",
            "--network",
            "testnet",
            "snapshot",
            "--coins",
            "ETH,SOL",
            "--wait",
            "2.5",
        )
        assert result.exit_code == 0, result.output
        settings = run_snapshot.settings
        assert settings.watchlist == ("ETH", "SOL")
        assert settings.network == "testnet"
        assert run_snapshot.calls[0][1] == {"wait": 2.5}

    def test_default_wait_and_exit_code(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """--wait defaults to 10; the exit code is run_snapshot's."""
        calls = _fake_module(monkeypatch, "hlmon.snapshot", "run_snapshot", result=4)
        assert invoke("snapshot", "--demo").exit_code == 4
        assert calls.calls[0][1] == {"wait": 10.0}
        assert calls.settings.demo is True

    @pytest.mark.parametrize(
        ("args", "code"),
        [
            (["--wait", "0"], 1),
            (["--wait", "-3"], 1),
            (["--wait", "soon"], 2),
            (["--coins", " , "], 1),
            (["--fps", "12"], 2),  # no screen, no frame rate: not an option of snapshot
            (["--api-url", "http://example.com"], 1),
        ],
    )
    def test_bad_input(self, run_snapshot: Calls, args: list[str], code: int) -> None:
        """Bad values exit 1, bad syntax 2, and run_snapshot is never called."""
        result = invoke("snapshot", *args)
        assert_clean_failure(result, code)
        assert run_snapshot.calls == []

    def test_not_built_yet(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without hlmon.snapshot the command says so and exits 1."""
        monkeypatch.setitem(sys.modules, "hlmon.snapshot", None)
        result = invoke("snapshot")
        assert_clean_failure(result, 1)
        assert "snapshot is not built yet" in result.stderr


class TestSim:
    def test_arguments_passed(self, run_standalone: Calls) -> None:
        """Every option reaches run_standalone as a keyword; loopback gives no warning."""
        result = invoke(
            "sim", "--port", "3001", "--seed", "7", "--profile", "stress", "--faults",
            "--demo-account", "unified", "--markets", "large",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert run_standalone.calls == [
            (
                (),
                {
                    "host": "127.0.0.1",
                    "port": 3001,
                    "seed": 7,
                    "profile": "stress",
                    "faults": True,
                    "demo_account": "unified",
                    "markets": "large",
                },
            )
        ]
        assert "warning" not in result.stderr

    @pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com", "::"])
    def test_non_loopback_host_warns(self, run_standalone: Calls, host: str) -> None:
        """Listening beyond loopback is allowed but warned about on stderr."""
        result = invoke("sim", "--host", host)
        assert result.exit_code == 0
        assert result.stderr.startswith("hlmon: warning: the simulator will listen on")
        assert run_standalone.calls[0][1]["host"] == host

    @pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "::1"])
    def test_loopback_hosts_do_not_warn(self, run_standalone: Calls, host: str) -> None:
        """127.0.0.0/8, localhost and ::1 are loopback."""
        result = invoke("sim", "--host", host)
        assert result.exit_code == 0 and result.stderr == ""

    @pytest.mark.parametrize(
        "args",
        [["--port", "70000"], ["--profile", "huge"], ["--seed", "x"], ["--demo-account", "pm"]],
    )
    def test_bad_flags(self, run_standalone: Calls, args: list[str]) -> None:
        """Out-of-range port, unknown profile, non-integer seed: usage errors."""
        assert_clean_failure(invoke("sim", *args), 2)
        assert run_standalone.calls == []

    def test_not_built_yet(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without hlmon.sim.run_standalone the command says so and exits 1."""
        monkeypatch.delattr(hlmon.sim, "run_standalone", raising=False)
        result = invoke("sim")
        assert_clean_failure(result, 1)
        assert "the simulator is not built yet" in result.stderr


class TestLogging:
    def test_no_log_file_by_default(self, run_app: Calls, tmp_path: Path) -> None:
        """Without --log-file or $HLMON_LOG nothing is written anywhere."""
        assert invoke().exit_code == 0
        assert not any(p.is_file() for p in tmp_path.rglob("*.log"))

    def test_log_file_flag(self, run_app: Calls, tmp_path: Path) -> None:
        """--log-file PATH gets the settings summary, with the address only as 'set'."""
        log_file = tmp_path / "logs" / "hlmon.log"
        result = invoke("--log-file", str(log_file), "--address", ADDRESS)
        assert result.exit_code == 0, result.output
        text = log_file.read_text(encoding="utf-8")
        assert "settings: network=mainnet" in text and "address=set" in text
        assert ADDRESS.lower() not in text.lower()

    def test_request_urls_and_frames_stay_out_of_the_log(
        self, run_app: Calls, tmp_path: Path
    ) -> None:
        """httpx logs request URLs at INFO and websockets frames at DEBUG: both are capped, so
        a token in a custom api_url or account data in frames never reaches the log file."""
        log_file = tmp_path / "hlmon.log"
        assert invoke("--log-file", str(log_file), "--log-level", "debug").exit_code == 0
        for name in ("httpx", "httpcore", "websockets"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger("hlmon").isEnabledFor(logging.DEBUG)

    def test_hlmon_log_env(self, run_app: Calls, tmp_path: Path) -> None:
        """$HLMON_LOG=PATH logs there; $HLMON_LOG=1 uses the user log dir."""
        log_file = tmp_path / "env.log"
        assert invoke(env={"HLMON_LOG": str(log_file)}).exit_code == 0
        assert "settings:" in log_file.read_text(encoding="utf-8")

        import platformdirs

        default = Path(platformdirs.user_log_dir("hlmon")) / "hlmon.log"
        assert str(default).startswith(str(tmp_path))  # the conftest isolation works
        assert invoke(env={"HLMON_LOG": "1"}).exit_code == 0
        assert "settings:" in default.read_text(encoding="utf-8")

    def test_unwritable_log_file(self, run_app: Calls, tmp_path: Path) -> None:
        """A log path that cannot be opened is a clear error."""
        blocker = tmp_path / "file"
        blocker.write_text("", encoding="utf-8")
        result = invoke("--log-file", str(blocker / "sub" / "x.log"))
        assert_clean_failure(result, 1)
        assert "hlmon: error: --log-file" in result.stderr
