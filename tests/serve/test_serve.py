"""``hlmon serve``: the command line it builds, its warnings, and the TUI reaching a browser.

The live tests start ``hlmon serve --demo`` on a free loopback port. One reads the app's output
over textual-serve's own websocket (no browser needed, so CI runs it); one drives a headless
Chromium through the DevTools protocol and is skipped when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

import hlmon.serve
from hlmon.cli import main
from hlmon.serve import app_args, app_command

CHROMIUM = Path("/usr/bin/chromium")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
LIVE_BTC = re.compile(r"BTC\s+\d{1,3}(?:,\d{3})*\.\d")
"""A watchlist row with a mid price, e.g. ``BTC      103,375.5``."""


# ------------------------------------------------------------------ the command line


def test_app_command_passes_the_shared_options_on(tmp_path: Path) -> None:
    """Every shared option given to serve reaches the app process; nothing else does."""
    opts: dict[str, Any] = {
        "config_path": Path("conf.toml"),
        "network": None,
        "api_url": "http://127.0.0.1:9999",
        "address": ("0x" + "ab" * 20, "0x" + "cd" * 20),
        "coins": "BTC, ETH kPEPE",
        "demo": True,
        "no_ws": False,
        "fps": 5.0,
        "theme": None,
    }
    argv = app_args(opts, python="/py")
    assert argv == [
        "/py",
        "-m",
        "hlmon",
        "--config",
        str(Path("conf.toml").absolute()),
        "--api-url",
        "http://127.0.0.1:9999",
        "--address",
        "0x" + "ab" * 20,
        "--address",
        "0x" + "cd" * 20,
        "--coins",
        "BTC, ETH kPEPE",
        "--demo",
        "--fps",
        "5.0",
    ]
    assert "'BTC, ETH kPEPE'" in app_command(opts, python="/py")
    assert app_args({"address": "0x" + "ab" * 20}, python="/py")[3:] == [
        "--address",
        "0x" + "ab" * 20,
    ]


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_warns_when_not_bound_to_loopback(
    monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_run_serve(opts: Any, host: str, port: int, public_url: str | None) -> int:
        calls.append((opts, host, port, public_url))
        return 0

    monkeypatch.setattr(hlmon.serve, "run_serve", fake_run_serve)
    result = CliRunner().invoke(main, ["serve", "--demo", "--host", host, "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert ("not a loopback address" in result.output) is warned
    assert ("no authentication" in result.output) is warned
    assert calls and calls[0][1:3] == (host, 8123) and calls[0][0]["demo"]


def test_bad_options_fail_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad address is an error at once, not one in every browser tab."""
    monkeypatch.setattr(hlmon.serve, "run_serve", lambda *a, **k: pytest.fail("served"))
    result = CliRunner().invoke(main, ["serve", "--address", "0x1234"])
    assert result.exit_code == 1 and "hlmon: error:" in result.output


# ------------------------------------------------------------------ live


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``hlmon serve --demo`` on a free loopback port; yields its URL once it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlmon", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its app subprocesses go in one group we can clean up
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"hlmon serve did not come up: {err[-2000:]}")
            time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any app process left behind
        proc.wait(timeout=5)


async def test_page_and_app_session_over_websocket(served: str) -> None:
    """The page is textual-serve's; its websocket starts a TUI process that paints live data."""
    async with aiohttp.ClientSession() as http:
        async with http.get(served + "/") as resp:
            assert resp.status == 200
            page = await resp.text()
        assert 'class="textual-terminal"' in page
        assert f'data-session-websocket-url="ws://127.0.0.1:{served.rsplit(":", 1)[1]}/ws"' in page
        async with http.get(served + "/static/js/textual.js") as resp:
            assert resp.status == 200

        screen = ""
        async with http.ws_connect(served + "/ws?width=120&height=40") as ws:
            await ws.send_json(["resize", {"width": 120, "height": 40}])
            async with asyncio.timeout(30):
                while not ("Watchlist" in screen and "LIVE" in screen and LIVE_BTC.search(screen)):
                    msg = await ws.receive()
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        screen += ANSI.sub("", msg.data.decode("utf-8", "replace"))
                    elif msg.type != aiohttp.WSMsgType.TEXT:
                        pytest.fail(f"session ended: {msg.type}; screen so far: {screen[-500:]}")
            await ws.send_str('["stdin", "q"]')  # quit the app cleanly


class _DevTools:
    """Just enough of the Chrome DevTools protocol: evaluate and screenshot."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.n = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        await self.ws.send_json({"id": self.n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == self.n:
                result: dict[str, Any] = msg.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        res = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"])


async def _until(check: Callable[[], Awaitable[object]], interval: float = 0.05) -> None:
    """Poll ``check`` until it returns something true (the caller bounds the time)."""
    while True:
        if await check():
            return
        await asyncio.sleep(interval)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt install chromium)")
async def test_headless_chromium_shows_the_tui(served: str, tmp_path: Path) -> None:
    """A real browser loads the page, gets the app's first bytes over the websocket and keeps
    repainting (the screen changes while the data is live)."""
    profile = tmp_path / "chromium"
    browser = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        # Only loopback resolves: the page's web font (and anything else) never leaves the box.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        served + "/",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(45):
            port_file = profile / "DevToolsActivePort"

            async def port_known() -> bool:
                return port_file.exists() and bool(port_file.read_text().strip())

            await _until(port_known)
            port = int(port_file.read_text().split()[0])
            async with aiohttp.ClientSession() as http:
                pages: list[dict[str, Any]] = []
                while not pages:
                    async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                        pages = [t for t in await resp.json() if t.get("type") == "page"]
                    await asyncio.sleep(0.05)
                target = pages[0]["webSocketDebuggerUrl"]
                async with http.ws_connect(target, max_msg_size=0) as ws:
                    devtools = _DevTools(ws)

                    # textual.js adds -first-byte to <body> when the app's output arrives.
                    async def painted() -> bool:
                        body = "document.body ? document.body.className : ''"
                        return "-first-byte" in (await devtools.evaluate(body) or "")

                    await _until(painted, 0.1)
                    assert await devtools.evaluate("document.querySelectorAll('canvas').length")
                    first = await devtools.screenshot()
                    (tmp_path / "first.png").write_bytes(first)
                    # Live data keeps repainting the terminal: a later screenshot differs.
                    later = first
                    while later == first:
                        await asyncio.sleep(0.2)
                        later = await devtools.screenshot()
                    (tmp_path / "later.png").write_bytes(later)
                    assert first.startswith(b"\x89PNG") and len(later) > 20_000
    finally:
        with contextlib.suppress(ProcessLookupError):
            browser.terminate()
        await browser.wait()
