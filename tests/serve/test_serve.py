"""``hlmon serve``: the command line it builds, its warnings, and the TUI reaching a browser.

The live tests start ``hlmon serve --demo`` on a free loopback port. One reads the app's output
over textual-serve's own websocket (no browser needed, so CI runs it); one drives a headless
Chromium through the DevTools protocol: it reads the terminal's text out of the page (xterm.js's
buffer), takes screenshots and presses a key. ``make test`` requires Chromium (``.ci/run``
installs it); a bare ``pytest`` skips that test when no Chromium is installed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
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


def _find_chromium() -> Path | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


CHROMIUM = _find_chromium()
REQUIRE_CHROMIUM = os.environ.get("HLMON_REQUIRE_CHROMIUM") == "1"
"""Set by ``make test``: there the browser test must run. Read at import, before the autouse
fixture that clears HLMON_* variables."""
DASHBOARD_WORDS = ("Watchlist", "LIVE", "Book BTC", "Positions", "Trades")
HELP_WORDS = ("hlmon help", "Keys", "this help")
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
    """Just enough of the Chrome DevTools protocol: evaluate, screenshot, keys, the terminal."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.n = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        await self.ws.send_json({"id": self.n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise AssertionError(f"DevTools {method} failed: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        res = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        return base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"])

    async def find_terminal(self) -> bool:
        """Keep the page's xterm.js ``Terminal`` as ``window.__hlmonTerm``.

        textual.js keeps it in a closure, so it is found through the heap: ``queryObjects``
        lists every object, and the one with xterm's public API (``loadAddon``, ``buffer``) is
        the terminal. Its buffer is the text the canvas shows.
        """
        proto = await self.call("Runtime.evaluate", expression="Object.prototype")
        found = await self.call(
            "Runtime.queryObjects", prototypeObjectId=proto["result"]["objectId"]
        )
        array = found["objects"]["objectId"]
        try:
            res = await self.call("Runtime.callFunctionOn", objectId=array, returnByValue=True,
                                  functionDeclaration=_FIND_TERMINAL)  # fmt: skip
        finally:
            await self.call("Runtime.releaseObject", objectId=array)
        return bool(res.get("result", {}).get("value"))

    async def screen_text(self) -> str:
        """The terminal's visible lines, as text."""
        return str(await self.evaluate(_SCREEN_TEXT) or "")

    async def type(self, char: str) -> None:
        """A key press in the page, as a user's (to the focused xterm textarea)."""
        await self.evaluate("window.__hlmonTerm.focus()")
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=char)


_FIND_TERMINAL = """function () {
    for (const o of this) {
        try {
            if (o && typeof o === "object" && "loadAddon" in o && "buffer" in o
                    && typeof o.buffer.active.getLine === "function") {
                window.__hlmonTerm = o;
                return true;
            }
        } catch (e) {}
    }
    return false;
}"""

_SCREEN_TEXT = """(() => {
    const term = window.__hlmonTerm, buf = term.buffer.active, out = [];
    for (let y = 0; y < term.rows; y++) {
        const line = buf.getLine(buf.viewportY + y);
        out.push(line ? line.translateToString(true) : "");
    }
    return out.join("\\n");
})()"""


async def _until(check: Callable[[], Awaitable[object]], interval: float = 0.05) -> None:
    """Poll ``check`` until it returns something true (the caller bounds the time)."""
    while True:
        if await check():
            return
        await asyncio.sleep(interval)


async def _stop_browser(browser: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL to the whole group: a Chromium whose main thread is stuck (a
    first start building its font cache, a renderer that crashed) may never act on SIGTERM,
    and a cleanup that waits for it without bound hangs the run."""
    with contextlib.suppress(ProcessLookupError):
        browser.terminate()
    try:
        await asyncio.wait_for(browser.wait(), 10)
    except TimeoutError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(browser.pid, signal.SIGKILL)  # and any child left behind
    await asyncio.wait_for(browser.wait(), 10)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR", png[:16]
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture
def chromium() -> Path:
    """The Chromium binary. Under ``make test`` (HLMON_REQUIRE_CHROMIUM=1) a missing browser
    fails the run; elsewhere the test is skipped."""
    if CHROMIUM is not None:
        return CHROMIUM
    if REQUIRE_CHROMIUM:
        pytest.fail(
            "Chromium is required by `make test` (HLMON_REQUIRE_CHROMIUM=1) but was not found: "
            "install it (`apt-get install -y chromium`; .ci/run does this) or run pytest directly"
        )
    pytest.skip("needs Chromium (apt-get install chromium); `make test` requires it")


async def test_headless_chromium_shows_the_live_dashboard_and_takes_keys(
    served: str, chromium: Path, tmp_path: Path
) -> None:
    """A real browser loads the page and shows the live dashboard: a screenshot is taken, the
    terminal's text holds the panels and a live BTC price and keeps changing, and a key pressed
    in the page (``?``) reaches the app (its help appears)."""
    profile = tmp_path / "chromium"
    browser = await asyncio.create_subprocess_exec(
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's small /dev/shm crashes renderers
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
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its zygote, renderer and GPU processes go in one group
    )
    text = ""
    try:
        async with asyncio.timeout(60):
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
                    assert await devtools.find_terminal(), "no xterm.js terminal in the page"

                    async def dashboard() -> bool:
                        nonlocal text
                        text = await devtools.screen_text()
                        live = LIVE_BTC.search(text) is not None
                        return live and all(w in text for w in DASHBOARD_WORDS)

                    await _until(dashboard, 0.1)
                    shot = await devtools.screenshot()
                    (tmp_path / "dashboard.png").write_bytes(shot)
                    width, height = _png_size(shot)
                    assert width == 1280 and height > 600 and len(shot) > 20_000
                    first = text

                    async def repainted() -> bool:  # live data (and the clock) move on
                        return await devtools.screen_text() != first

                    await _until(repainted, 0.1)

                    assert not any(w in text for w in HELP_WORDS[::2])  # not before the key
                    await devtools.type("?")

                    async def help_shown() -> bool:
                        nonlocal text
                        text = await devtools.screen_text()
                        return all(w in text for w in HELP_WORDS)

                    await _until(help_shown, 0.1)
                    help_shot = await devtools.screenshot()
                    (tmp_path / "help.png").write_bytes(help_shot)
                    # The pixels follow the key too, not only xterm's text buffer.
                    assert _png_size(help_shot) == (width, height) and help_shot != shot
    except TimeoutError:
        pytest.fail(f"the browser did not show what was expected; its terminal read:\n{text}")
    finally:
        await _stop_browser(browser)
