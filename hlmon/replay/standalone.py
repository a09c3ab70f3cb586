"""``hlmon replay FILE`` as a process: print the address, serve until a signal."""

from __future__ import annotations

import asyncio
import sys

from hlmon.replay.recording import RecordingError, load_recording
from hlmon.replay.server import ReplayServer
from hlmon.shutdown import stop_event


async def serve_replay(
    path: str,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    paused: bool = False,
) -> None:
    """Serve ``path`` until SIGINT/SIGTERM. Prints ``listening on URL`` first.

    Raises:
        RecordingError: the file is not a readable recording.
    """
    recording = load_recording(path)
    server = ReplayServer(recording, speed=speed, paused=paused)
    await server.start(host=host, port=port)
    header = recording.header
    print(f"listening on {server.url}", flush=True)
    when = "paused" if paused else "starting with the first subscription"
    print(
        f"replaying {path}: {len(recording.frames)} frames over {recording.duration:.1f} s "
        f"at {speed:g}x ({when}); recorded from {header.get('network')} "
        f"{header.get('api_url')}, address {header.get('address') or 'none'}",
        flush=True,
    )
    if recording.truncated:
        print("warning: the recording ends mid-frame (recorder killed?); replaying up to there")
    print(
        f"control: POST {server.url}/_replay/pause|resume|seek|speed, "
        f"GET {server.url}/_replay/status",
        flush=True,
    )
    stop = stop_event()
    try:
        await stop.wait()
    finally:
        await server.stop()


def run_replay(
    path: str,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float = 1.0,
    paused: bool = False,
) -> int:
    """Blocking entry point for the CLI; returns the process exit code."""
    try:
        asyncio.run(serve_replay(path, host, port, speed, paused))
    except RecordingError as exc:
        print(f"hlmon replay: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the port is taken
        print(f"hlmon replay: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0
