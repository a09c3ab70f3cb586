"""The real TUI in tmux against a standalone ``hlmon sim --faults``: what the screen shows
while the connection is refused, and that it exits cleanly."""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.chaos.report import round_s
from benchmarks.common import REPO


class Tmux:
    """One program in a detached tmux session on a private server (``-L``): never touches
    anyone else's tmux sessions; ``close`` kills only that private server."""

    def __init__(self, name: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"hlchaos-{os.getpid()}"
        self.session = name
        self.width, self.height = width, height
        self.status_file = Path("/nonexistent")

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, command: str, status_file: Path) -> None:
        """Run ``command``; its exit status is written to ``status_file`` when it ends."""
        self.status_file = status_file
        out = self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(self.width),
            "-y", str(self.height), f"cd {REPO} && {command}; echo $? > {status_file}",
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"tmux: {out.stderr.strip()}")
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def dead_status(self) -> int | None:
        """The program's exit status once it exited, else None."""
        try:
            text = self.status_file.read_text(encoding="ascii").strip()
        except OSError:
            return None
        return int(text) if text else None

    def close(self) -> None:
        self._tmux("kill-server")


def _pump(stream: Any, out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)


def _post(url: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
        resp.read()


def _wait_sync(cond: Callable[[], bool], within: float) -> float | None:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > within:
            return None
        time.sleep(0.1)
    return time.monotonic() - start


TUI_CONFIG = """\
# Asset contexts push every second: with a 2 s threshold the watchlist turns STALE quickly
# while the websocket is refused (REST cannot serve them). Other feeds keep their defaults.
[stale]
ctx = 2.0

[websocket]
ping_interval = 1.0
pong_timeout = 1.0
silence_timeout = 3.0
backoff_initial = 0.2
backoff_max = 1.0
"""


def tui_scenario() -> dict[str, Any]:
    """The real TUI in tmux against a standalone ``hlmon sim --faults``: RECONNECTING/STALE
    while the connection is refused, LIVE again after, and a clean exit on ``q``."""
    try:
        if importlib.util.find_spec("hlmon.ui.app") is None:
            return {"skipped": "the TUI (hlmon.ui.app) is not importable yet"}
        from hlmon.ui.app import build_app  # noqa: F401
    except Exception as exc:  # a half-built UI must not stop the rest of the chaos run
        return {"skipped": f"the TUI is not importable yet: {exc!r}"}
    if shutil.which("tmux") is None:
        return {"skipped": "tmux is not installed"}
    hlmon_bin = str(Path(sys.executable).parent / "hlmon")
    result: dict[str, Any] = {}
    sim = subprocess.Popen(
        [hlmon_bin, "sim", "--faults", "--port", "0", "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    tmux = Tmux("chaos-tui")
    tmpdir = tempfile.mkdtemp(prefix="hlmon-chaos-")
    try:
        url = address = None
        lines: queue.Queue[str] = queue.Queue()
        # A thread reads the pipe: select() on a buffered text pipe misses lines already read.
        threading.Thread(target=_pump, args=(sim.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + 15
        while (url is None or address is None) and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line.startswith("listening on "):
                url = line.split()[-1].strip()
            elif line.startswith("demo address "):
                address = line.split()[-1].strip()
        if url is None or address is None:
            return {"failed": "the standalone simulator did not start"}
        cfg = Path(tmpdir) / "config.toml"
        cfg.write_text(TUI_CONFIG, encoding="utf-8")
        tmux.start(
            f"{hlmon_bin} --config {cfg} --api-url {url} --address {address}",
            Path(tmpdir) / "exit-status",
        )

        def screen_has(*needles: str) -> Callable[[], bool]:
            return lambda: any(n in tmux.capture() for n in needles)

        def healthy() -> bool:
            screen = tmux.capture()
            return "● LIVE" in screen and "RECONN" not in screen and "STALE" not in screen

        if _wait_sync(healthy, 20) is None:
            result["failed"] = "never LIVE (without STALE) at start"
            result["screen"] = tmux.capture()
            return result
        _post(f"{url}/_sim/refuse_connections", {"seconds": 5})
        _post(f"{url}/_sim/drop_all", {})
        t0 = time.monotonic()
        seen_reconn = _wait_sync(screen_has("RECONNECTING", "RECONN"), 5)
        seen_stale = _wait_sync(screen_has("STALE"), 6)
        result["reconnecting_shown_after_s"] = round_s(seen_reconn)
        result["stale_shown_after_s"] = round_s(
            None if seen_stale is None else time.monotonic() - t0
        )
        live = _wait_sync(healthy, 20)
        result["live_again_after_s"] = round_s(None if live is None else time.monotonic() - t0)
        tmux.keys("q")
        _wait_sync(lambda: tmux.dead_status() is not None, 10)
        result["exit_status"] = tmux.dead_status()
        screen = tmux.capture()
        result["traceback_on_screen"] = "Traceback" in screen
        problems = []
        if seen_reconn is None:
            problems.append("RECONNECTING never shown")
        if seen_stale is None:
            problems.append("STALE never shown")
        if live is None:
            problems.append("never LIVE again")
        if result["exit_status"] != 0:
            problems.append(f"exit status {result['exit_status']}")
        if result["traceback_on_screen"]:
            problems.append("traceback on screen")
        if problems:
            result["failed"] = "; ".join(problems)
            result["screen"] = screen
        return result
    finally:
        tmux.close()
        sim.terminate()
        try:
            sim.wait(5)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait(5)
        shutil.rmtree(tmpdir, ignore_errors=True)
