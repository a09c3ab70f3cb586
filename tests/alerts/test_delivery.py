"""Delivery: exact terminal byte strings (bell, OSC 9, OSC 777, tmux passthrough), sanitising,
a real command with a timeout, and a real webhook server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hlmon.alerts import Alert
from hlmon.alerts.delivery import (
    AlertOutputs,
    CommandNotifier,
    TerminalNotifier,
    WebhookNotifier,
    osc9,
    osc777,
    sanitize,
    tmux_wrap,
)
from hlmon.alerts.settings import AlertSettings, check_webhook_url

ALERT = Alert("price BTC > 110000", "BTC above 110000", "BTC mid 110001 crossed", "warn", 1.0)


class TestSequences:
    def test_osc9(self) -> None:
        assert osc9("BTC above 110000") == "\x1b]9;BTC above 110000\x07"

    def test_osc777(self) -> None:
        assert osc777("BTC above", "mid 110001") == "\x1b]777;notify;BTC above;mid 110001\x07"

    def test_tmux_wrap_doubles_every_esc(self) -> None:
        assert tmux_wrap("\x1b]9;hi\x07") == "\x1bPtmux;\x1b\x1b]9;hi\x07\x1b\\"
        assert tmux_wrap("\x1b]777;notify;a;b\x1b\\") == (
            "\x1bPtmux;\x1b\x1b]777;notify;a;b\x1b\x1b\\\x1b\\"
        )

    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            ("BTC\x1b]0;pwned\x07", "BTC ]0,pwned"),  # cannot close the OSC and start another
            ("a\x9b31mb", "a 31mb"),  # 8-bit CSI: no longer a sequence
            ("x\x9c\x90y", "x y"),  # 8-bit ST and DCS
            ("line1\nline2\r\tend\x7f", "line1 line2 end"),
            ("a;b;c", "a,b,c"),  # cannot shift OSC 777 fields
            ("  kPEPE @107 ünï  ", "kPEPE @107 ünï"),
        ],
    )
    def test_sanitize(self, raw: str, clean: str) -> None:
        assert sanitize(raw) == clean

    def test_injection_through_a_coin_name(self) -> None:
        """Whatever the texts hold, exactly one ESC starts and one BEL ends each sequence."""
        evil = "X\x1b\\\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J"
        seq = osc777(evil, evil) + osc9(evil)
        assert seq.count("\x1b") == 2 and seq.count("\x07") == 2
        assert seq.startswith("\x1b]777;notify;X \\ ]52,c,ZWNobyBoaQ== [2J;")

    def test_length_capped(self) -> None:
        assert len(sanitize("x" * 1000)) == 300
        assert sanitize("x" * 1000).endswith("\u2026")
        title = osc777("t" * 200, "b").split(";")[2]
        assert len(title) == 80

    def test_terminal_notifier(self) -> None:
        both = TerminalNotifier(tmux=False).sequences(ALERT)
        assert both == (
            "\x07"
            "\x1b]9;BTC above 110000: BTC mid 110001 crossed\x07"
            "\x1b]777;notify;BTC above 110000;BTC mid 110001 crossed\x07"
        )
        quiet = TerminalNotifier(bell=False, osc=(777,), tmux=False).sequences(ALERT)
        assert quiet == "\x1b]777;notify;BTC above 110000;BTC mid 110001 crossed\x07"
        assert TerminalNotifier(bell=False, desktop=False, tmux=False).sequences(ALERT) == ""
        in_tmux = TerminalNotifier(osc=(9,), tmux=True).sequences(ALERT)
        # The bell goes as is (tmux forwards it); the OSC is wrapped.
        assert in_tmux == (
            "\x07\x1bPtmux;\x1b\x1b]9;BTC above 110000: BTC mid 110001 crossed\x07\x1b\\"
        )

    def test_tmux_detected_from_env(self) -> None:
        outputs = AlertOutputs.from_settings(AlertSettings(), env={"TMUX": "/tmp/tmux-1/x,1,0"})
        assert outputs.terminal.tmux
        assert not AlertOutputs.from_settings(AlertSettings(), env={"TMUX": ""}).terminal.tmux


class TestCommand:
    async def test_runs_a_real_command_with_placeholders(self, tmp_path: Path) -> None:
        out = tmp_path / "out.txt"
        code = "import sys; open(sys.argv[1], 'w').write('|'.join(sys.argv[2:]))"
        argv = [sys.executable, "-c", code, str(out), "{title}", "{body}", "{level}", "{x}"]
        notifier = CommandNotifier(argv, timeout=10)
        evil = Alert("r", "a\x1b]0;t\x07 b", "$(rm -rf /); `x`", "error", 1.0)
        assert await notifier.send(evil) is None
        # No shell: the text arrives literally (minus control characters), braces kept.
        assert out.read_text() == "a ]0,t  b|$(rm -rf /), `x`|error|{x}"

    async def test_timeout_kills_it(self) -> None:
        notifier = CommandNotifier(
            [sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.3
        )
        t0 = time.monotonic()
        error = await notifier.send(ALERT)
        assert error is not None and "killed after 0.3 s" in error
        assert time.monotonic() - t0 < 5

    async def test_failures_are_reported_not_raised(self, tmp_path: Path) -> None:
        failing = CommandNotifier(
            [sys.executable, "-c", "import sys; sys.stderr.write('no display'); sys.exit(3)"]
        )
        assert await failing.send(ALERT) == (
            f"alert command {sys.executable!r} exited with 3: no display"
        )
        missing = CommandNotifier([str(tmp_path / "no-such-program")])
        error = await missing.send(ALERT)
        assert error is not None and "failed to start" in error


class Hook:
    """A real HTTP server on 127.0.0.1 that records what is posted to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append({"json": await request.json(), "type": request.content_type})
        return web.Response(status=self.status, text="ok")


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    h = Hook()
    app = web.Application()
    app.router.add_post("/hook/secret-token", h.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    h.url = f"http://127.0.0.1:{port}/hook/secret-token"
    yield h
    await runner.cleanup()


class TestWebhook:
    async def test_posts_json(self, hook: Hook) -> None:
        notifier = WebhookNotifier(hook.url, timeout=5)
        try:
            assert await notifier.send(ALERT) is None
        finally:
            await notifier.aclose()
        assert hook.posts == [
            {
                "type": "application/json",
                "json": {
                    "text": "BTC above 110000: BTC mid 110001 crossed",
                    "title": "BTC above 110000",
                    "body": "BTC mid 110001 crossed",
                    "level": "warn",
                    "rule": "price BTC > 110000",
                    "time": 1.0,
                },
            }
        ]

    async def test_errors_are_returned_without_the_token(self, hook: Hook) -> None:
        hook.status = 500
        notifier = WebhookNotifier(hook.url, timeout=5)
        try:
            assert await notifier.send(ALERT) == "alert webhook 127.0.0.1: HTTP 500"
        finally:
            await notifier.aclose()
        # Nothing listening: a connection error, reported, never raised.
        with socket_closed_port() as port:
            dead = WebhookNotifier(f"http://127.0.0.1:{port}/hook/secret-token", timeout=5)
            error = await dead.send(ALERT)
            await dead.aclose()
        assert error is not None and error.startswith("alert webhook 127.0.0.1: ")
        assert "secret-token" not in error

    @pytest.mark.parametrize(
        "url",
        ["http://hooks.example.com/x", "ftp://127.0.0.1/x", "hooks.example.com", "https://"],
    )
    def test_https_only_except_loopback(self, url: str) -> None:
        with pytest.raises(ValueError):
            check_webhook_url(url)

    @pytest.mark.parametrize(
        "url", ["https://hooks.example.com/x?t=1", "http://localhost:8080/x", "http://[::1]/x"]
    )
    def test_accepted_urls(self, url: str) -> None:
        assert check_webhook_url(url) == url

    async def test_outputs_send_both(self, hook: Hook, tmp_path: Path) -> None:
        out = tmp_path / "cmd.txt"
        settings = AlertSettings(
            command=(
                sys.executable,
                "-c",
                "import sys; open(sys.argv[1], 'w').write(sys.argv[2])",
                str(out),
                "{rule}",
            ),
            webhook=hook.url,
        )
        outputs = AlertOutputs.from_settings(settings, env={})
        try:
            assert outputs.has_external
            assert await outputs.send_external(ALERT) == []
        finally:
            await outputs.aclose()
        assert out.read_text() == "price BTC > 110000"
        assert len(hook.posts) == 1


class socket_closed_port:
    """A loopback port that was free a moment ago (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        s.close()
        return port

    def __exit__(self, *exc: object) -> None:
        return None


def test_alerts_core_never_imports_textual() -> None:
    """hlmon.alerts (all of it) is headless: no Textual in a fresh interpreter."""
    code = (
        "import sys, hlmon.alerts, hlmon.alerts.delivery, hlmon.alerts.settings, hlmon.config\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
