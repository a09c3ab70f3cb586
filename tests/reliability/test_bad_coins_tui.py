"""``hlmon --coins NOPE`` refuses before the TUI takes the terminal: exit 1, the message with
the closest listed names, and nothing drawn (no alternate screen). Run as a user runs it: a
subprocess on a pseudo-terminal, against the simulator on loopback. The same run with a listed
coin does take the screen (so the check can see a drawing), and quits on ``q``; with or without
``--coins``, the TUI runs on uvloop (``hlmon.event_loop``), or on asyncio's loop when told."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from subprocess import Popen

import pytest

from hlmon.sim import SimServer
from tests.support import running_sim

pytestmark = pytest.mark.slow

ALT_SCREEN = b"\x1b[?1049h"
"""What a full-screen app writes first to take the terminal over."""


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server


class PtyRun:
    """``python -m hlmon ARGS`` on a pseudo-terminal of 80x24; its output collected by a
    thread until the terminal closes."""

    def __init__(self, args: list[str], cwd: Path, env_extra: dict[str, str] | None = None) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HLMON_")}
        env.update({"TERM": "xterm-256color", "XDG_CONFIG_HOME": str(cwd), "HOME": str(cwd),
                    "HLMON_CACHE_DIR": str(cwd / "cache")})  # fmt: skip
        env.pop("TMUX", None)
        env.update(env_extra or {})
        self.proc = subprocess_on(slave, args, cwd, env)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                if self.proc.poll() is not None and not self._drain():
                    return
                continue
            if not self._drain():
                return

    def _drain(self) -> bool:
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every slave side is closed
            return False
        if not chunk:
            return False
        with self._lock:
            self.output += chunk
        return True

    def text(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    async def until(self, cond: Callable[[], bool], limit: float, what: str) -> None:
        deadline = time.monotonic() + limit
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not reached; output:\n{self.text()[-2000:]!r}")
            await asyncio.sleep(0.05)

    async def finish(self, limit: float = 30) -> int:
        await self.until(lambda: self.proc.poll() is not None, limit, "exit")
        self._reader.join(timeout=5)
        os.close(self.master)
        code = self.proc.returncode
        assert code is not None
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def subprocess_on(tty: int, args: list[str], cwd: Path, env: dict[str, str]) -> Popen:
    return Popen([sys.executable, "-m", "hlmon", *args], stdin=tty, stdout=tty, stderr=tty,
                 cwd=cwd, env=env, start_new_session=True)  # fmt: skip


async def test_unlisted_coin_exits_1_before_anything_is_drawn(
    sim: SimServer, tmp_path: Path
) -> None:
    run = PtyRun(["--api-url", sim.url, "--direct", "--coins", "BTC,NOPE"], tmp_path)
    try:
        code = await run.finish()
    finally:
        if run.proc.poll() is None:
            run.kill()
    out = run.text()
    assert code == 1, out
    assert b"hlmon: error: --coins: unknown market 'NOPE'; closest listed: OP" in out
    assert ALT_SCREEN not in out, "the screen was taken over before the refusal"
    assert b"Traceback" not in out


def _loop_lines(log: Path) -> list[str]:
    """The ``event loop: NAME`` lines of a run's log file."""
    lines = log.read_text(encoding="utf-8").splitlines()
    return [
        line.rpartition("hlmon.event_loop: ")[2] for line in lines if "hlmon.event_loop" in line
    ]


async def test_listed_coins_take_the_screen_and_quit_on_q(sim: SimServer, tmp_path: Path) -> None:
    log = tmp_path / "hlmon.log"
    args = ["--api-url", sim.url, "--direct", "--coins", "btc,ETH", "--log-file", str(log)]
    run = PtyRun(args, tmp_path)
    await _draw_and_quit(run, ALT_SCREEN)
    assert _loop_lines(log) == ["event loop: uvloop"]


async def _draw_and_quit(run: PtyRun, screen_taken: bytes | None = None) -> None:
    """Wait for the TUI (its taking the screen first, when given) and the dashboard, quit
    with ``q`` and check it exits cleanly."""
    try:
        if screen_taken is not None:
            await run.until(lambda: screen_taken in run.text(), 60, "the TUI taking the screen")
        await run.until(lambda: b"Watchlist" in run.text(), 60, "the dashboard drawn")
        os.write(run.master, b"q")
        code = await run.finish()
    finally:
        if run.proc.poll() is None:
            run.kill()
    assert code == 0, run.text()[-2000:]


@pytest.mark.parametrize(("env_value", "loop"), [(None, "uvloop"), ("asyncio", "asyncio")])
async def test_the_tui_runs_on_the_event_loop_chosen(
    sim: SimServer, tmp_path: Path, env_value: str | None, loop: str
) -> None:
    """``hlmon`` without ``--coins`` (the TUI drawn at once, the runtime behind it): uvloop by
    default, asyncio's own loop with ``HLMON_EVENT_LOOP=asyncio``; the log says which."""
    log = tmp_path / "hlmon.log"
    env = {} if env_value is None else {"HLMON_EVENT_LOOP": env_value}
    run = PtyRun(["--api-url", sim.url, "--direct", "--log-file", str(log)], tmp_path, env)
    await _draw_and_quit(run)
    assert _loop_lines(log) == [f"event loop: {loop}"]
