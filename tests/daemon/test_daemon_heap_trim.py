"""``hlmon daemon`` trims the C heap once a minute while it serves (``hlmon.c_heap``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hlmon.c_heap import HeapTrimmer
from hlmon.daemon import standalone
from hlmon.daemon.limits import DaemonLimits
from hlmon.daemon.server import DaemonConfig
from tests.support import wait_for


class StubServer:
    """Listens nowhere: the test is about what runs beside the server."""

    def __init__(self, config: DaemonConfig) -> None:
        self.socket_path = config.socket_path
        self.tcp_port = None
        self.nats = None
        self.stopped = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True


async def test_the_daemon_trims_while_it_serves_and_stops_trimming_on_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trims: list[int] = []
    stop = asyncio.Event()
    servers: list[StubServer] = []

    def server(config: DaemonConfig) -> Any:
        servers.append(StubServer(config))
        return servers[-1]

    monkeypatch.setattr(standalone, "DaemonServer", server)
    monkeypatch.setattr(standalone, "stop_event", lambda: stop)
    monkeypatch.setattr(
        standalone, "HeapTrimmer", lambda: HeapTrimmer(lambda: trims.append(1), every_s=0.01)
    )
    config = DaemonConfig(
        api_url="http://127.0.0.1:9",
        socket_path=tmp_path / "d.sock",
        limits=DaemonLimits(),
    )
    serving = asyncio.create_task(standalone._serve(config))
    await wait_for(lambda: len(trims) >= 3, 10)
    assert [t for t in asyncio.all_tasks() if t.get_name() == "heap-trim"]  # the one stopped
    stop.set()
    assert await serving == 0
    assert servers[0].stopped
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "heap-trim"]
