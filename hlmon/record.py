"""``hlmon record FILE``: run the feed engine headless and record every frame it receives.

The recording (gzip JSON lines, see ``hlmon.feeds.recorder``) is what ``hlmon replay FILE``
serves back. Runs for ``--duration`` seconds, or until SIGINT/SIGTERM; either way the file is
flushed and closed cleanly. The stack, ``--demo``'s simulator included, is the one every
command runs on (``hlmon.runtime.root.Runtime``), which also builds the recorder.

Exit codes: 0 after a clean stop, 1 on bad input (message on stderr).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

from hlmon import event_loop
from hlmon.config import Settings
from hlmon.feeds.recorder import FrameRecorder
from hlmon.runtime.controls import InputRejected
from hlmon.runtime.root import Runtime
from hlmon.shutdown import stop_event


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
    loop = asyncio.get_running_loop()
    started = loop.time()
    recording = dataclasses.replace(settings, record_path=str(target))
    async with Runtime(recording, candles=False) as runtime:  # REST answers are not recorded
        recorder = runtime.recorder
        if recorder is None:  # cannot happen: record_path is set
            raise RuntimeError("the runtime built no recorder")
        if progress:
            until = f" for {duration:g} s" if duration else " until interrupted (ctrl+c)"
            url = runtime.settings.ws_url
            print(f"recording {url} to {target}{until}", file=sys.stderr, flush=True)
        try:
            async with asyncio.timeout(duration):  # (not wait_for: it can lose a cancel on 3.11)
                await stop.wait()
        except TimeoutError:
            pass
    # Leaving the runtime stopped the engine, which flushed and closed the recording.
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
        event_loop.run(main(), settings.event_loop)
    except (RecordInputError, InputRejected) as exc:
        print(f"hlmon record: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hlmon record: error: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
