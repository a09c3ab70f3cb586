"""``hlmon daemon``: run the daemon until SIGINT/SIGTERM; and start one in the background for
``hlmon serve``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from hlmon import event_loop
from hlmon.c_heap import HeapTrimmer
from hlmon.cancelling import cancel_and_wait
from hlmon.config import Settings
from hlmon.daemon import paths
from hlmon.daemon.limits import DaemonLimits
from hlmon.daemon.server import DaemonConfig, DaemonServer
from hlmon.feeds.nats_endpoint import NatsEndpoint
from hlmon.shutdown import stop_event


def run_daemon(
    settings: Settings,
    *,
    socket_path: Path | None = None,
    tcp_host: str = "127.0.0.1",
    tcp_port: int | None = None,
    token: str | None = None,
    max_users: int = 10,
    rest_budget: int = 1000,
    resume_window: float = 60.0,
    nats_url: str | None = None,
    nats_token: str | None = None,
) -> int:
    """Serve ``settings``' exchange until told to stop; returns the exit code (1 when it
    cannot listen or reach NATS, 2 for a bad NATS URL or token). ``socket_path`` defaults to
    the network's socket in the runtime dir."""
    if nats_url is not None:
        try:
            NatsEndpoint.parse(nats_url, nats_token)
        except ValueError as exc:  # never repeats the credentials
            print(f"hlmon daemon: error: --nats: {exc}", file=sys.stderr)
            return 2
    config = DaemonConfig(
        api_url=settings.api_url,
        socket_path=(socket_path or paths.default_socket_path(settings.api_url)).expanduser(),
        tcp_host=tcp_host,
        tcp_port=tcp_port,
        token=token,
        limits=DaemonLimits(max_users=max_users, rest_weight_per_minute=rest_budget),
        timings=settings.websocket,
        resume_window=resume_window,
        nats_url=nats_url,
        nats_token=nats_token,
    )
    try:
        return event_loop.run(_serve(config), settings.event_loop)
    except OSError as exc:
        print(f"hlmon daemon: error: {exc}", file=sys.stderr)
        return 1


async def _serve(config: DaemonConfig) -> int:
    stop = stop_event()
    server = DaemonServer(config)
    await server.start()
    # Free C heap pages back to the system once a minute: a daemon runs for weeks.
    heap_trim = asyncio.create_task(HeapTrimmer().run(), name="heap-trim")
    try:
        where = [] if server.socket_path is None else [f"unix:{server.socket_path}"]
        if server.tcp_port is not None:
            where.append(f"http://{config.tcp_host}:{server.tcp_port}")
        if server.nats is not None:
            where.append(f"NATS {server.nats.endpoint.display} (hl.{server.nats.network}.>)")
        print(
            f"hlmon daemon: upstream {config.api_url}; listening on {', '.join(where)}",
            flush=True,
        )
        if server.tcp_port is not None and server.token is not None:
            token_file = _token_file(config)
            paths.write_private(token_file, server.token + "\n")
            print(
                f"hlmon daemon: TCP token in {token_file} (send it as "
                "'Authorization: Bearer TOKEN', or set HLMON_DAEMON_TOKEN for hlmon --via)",
                flush=True,
            )
        await stop.wait()
    finally:
        await cancel_and_wait([heap_trim], what="heap trim")
        await server.stop()
    return 0


def _token_file(config: DaemonConfig) -> Path:
    if config.socket_path is not None:
        return paths.token_path(config.socket_path)
    directory = paths.runtime_dir()
    paths.ensure_private_dir(directory)
    return directory / f"daemon-{paths.upstream_name(config.api_url)}.token"


def start_background(
    argv: list[str], socket_path: Path, wait: float = 10.0
) -> subprocess.Popen[bytes]:
    """Start ``python -m hlmon daemon <argv>`` and wait until its socket answers.

    Raises:
        OSError: it exited or did not answer within ``wait`` seconds (it is stopped then).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlmon", "daemon", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a ctrl+c in the terminal reaches serve, which stops it
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if paths.probe(socket_path):
            return proc
        if proc.poll() is not None:
            raise OSError(f"hlmon daemon exited with status {proc.returncode}")
        time.sleep(0.05)
    proc.terminate()
    proc.wait(5)
    raise OSError(f"hlmon daemon did not answer on {socket_path} within {wait:g} s")
