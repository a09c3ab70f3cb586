"""Fixtures for simulator tests: real servers on loopback (port 0) and websocket clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect

from hlmon.sim import ManualClock, SimServer

from .support import FAST, START_MS, WsClient


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A deterministic simulator: manual clock, moves only on ``advance``; fault routes on."""
    server = SimServer(seed=7, clock=ManualClock(START_MS), fault_routes=True)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def live_sim() -> AsyncIterator[SimServer]:
    """A wall-clock simulator with short cadences (blocks every 20 ms)."""
    server = SimServer(seed=7, profile=FAST, fault_routes=True)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def open_ws() -> AsyncIterator[Callable[[SimServer], Awaitable[WsClient]]]:
    """Factory: ``await open_ws(sim)`` connects a WsClient; all are closed at teardown."""
    conns: list[ClientConnection] = []

    async def _open(server: SimServer) -> WsClient:
        ws = await connect(
            server.ws_url, open_timeout=5, close_timeout=1, ping_interval=None, max_queue=None
        )
        conns.append(ws)
        return WsClient(ws)

    yield _open
    for ws in conns:
        await ws.close()
