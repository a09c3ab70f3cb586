"""``hlmon record FILE``: run the feed engine headless and record every frame it receives.

The recording (gzip JSON lines, see ``hlmon.feeds.recorder``) is what ``hlmon replay FILE``
serves back. Runs for ``--duration`` seconds, or until SIGINT/SIGTERM; either way the file is
flushed and closed cleanly. With ``--demo`` the in-process simulator is recorded.

Exit codes: 0 after a clean stop, 1 on bad input (message on stderr).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from pathlib import Path

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.recorder import FrameRecorder, make_header
from hlmon.shutdown import stop_event
from hlmon.state import Store


class RecordInputError(ValueError):
    """Bad input: exit 1 with this message."""


def check_record_path(path: str | Path) -> Path:
    """The path to record to, or ``RecordInputError`` if it cannot be created."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise RecordInputError(f"{path}: is a directory")
    parent = target.parent
    if not parent.is_dir():
        raise RecordInputError(f"{path}: directory {parent} does not exist")
    return target


async def record(
    settings: Settings,
    path: str | Path,
    duration: float | None = None,
    *,
    stop: asyncio.Event | None = None,
    progress: bool = True,
) -> FrameRecorder:
    """Record until ``duration`` seconds passed or ``stop`` is set; return the closed recorder."""
    target = check_record_path(path)
    stop = stop or asyncio.Event()
    sim = None
    network = settings.network
    if settings.demo:
        from hlmon.sim import SimServer  # imported only for --demo

        sim = SimServer(seed=int(time.time()) % 100_000)
        await sim.start(host="127.0.0.1", port=0)
        network = "demo"
        settings = dataclasses.replace(
            settings, api_url=sim.url, address=settings.address or sim.demo_address
        )
    recorder = FrameRecorder(
        target,
        make_header(
            network=network,
            api_url=settings.api_url,
            address=settings.address,
            coins=settings.watchlist,
        ),
    )
    store = Store(time.time, settings.stale)
    engine = FeedEngine(settings, store, recorder=recorder)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await engine.start()
        if progress:
            until = f" for {duration:g} s" if duration else " until interrupted (ctrl+c)"
            print(f"recording {settings.ws_url} to {target}{until}", file=sys.stderr, flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
    finally:
        await engine.stop()
        if sim is not None:
            await sim.stop()
    if progress:
        took = loop.time() - started
        dropped = f", {recorder.dropped} dropped" if recorder.dropped else ""
        print(
            f"recorded {recorder.frames} frames in {took:.1f} s to {target} "
            f"({recorder.bytes_written / 1024:.1f} KiB{dropped})",
            file=sys.stderr,
            flush=True,
        )
    return recorder


def run_record(settings: Settings, path: str, duration: float | None = None) -> int:
    """Blocking entry point for the CLI; returns the process exit code."""

    async def main() -> None:
        await record(settings, path, duration, stop=stop_event())

    try:
        asyncio.run(main())
    except RecordInputError as exc:
        print(f"hlmon record: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hlmon record: error: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
