"""Lag end to end: the real simulator on loopback delays every frame by 3 s (``POST
/_sim/latency``); the app's stack (``Runtime``: engine, store with its steady lag clock) shows
the selected coin's book LAGGING by about 3 s, then LIVE again once the latency is cleared.

The websocket runs with the default heartbeat (a 10 s pong timeout): 3 s of latency delays the
pongs too, but must not be taken for a dead socket; the point is that the data is late.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hlmon.config import Settings
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer
from hlmon.state import ConnState, FeedState
from tests.support import FAST_PROFILE, wait_for

LATENCY_MS = 3000


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(seed=11, profile=FAST_PROFILE, fault_routes=True)
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


async def set_latency(sim: SimServer, ms: float) -> None:
    async with httpx.AsyncClient() as client:
        reply = await client.post(f"{sim.url}/_sim/latency", json={"ms": ms})
        reply.raise_for_status()


async def test_three_seconds_of_latency_show_as_lag_then_go(sim: SimServer) -> None:
    settings = Settings(
        network="custom", api_url=sim.url, address=sim.demo_address, watchlist=("BTC", "ETH")
    )
    async with Runtime(settings) as rt:
        store = rt.store

        def book() -> FeedState:
            return store.feed_status("book:BTC").state

        await wait_for(lambda: book() is FeedState.LIVE, 10)
        # On-time data from more than one moment: the usual delay (the floor) is learnt.
        await wait_for(lambda: store.lag_settled, 10)
        assert book() is FeedState.LIVE and store.lag_floor is not None

        await set_latency(sim, LATENCY_MS)
        await wait_for(lambda: book() is FeedState.LAGGING, 10)
        st = store.feed_status("book:BTC")
        assert st.lag_s is not None and 2.5 <= st.lag_s <= 3.8, st
        assert store.health.connection.state is ConnState.LIVE  # late, not dead
        # allMids carries no time: over the same socket it lags with it.
        await wait_for(lambda: store.feed_status("mids").state is FeedState.LAGGING, 10)

        await set_latency(sim, 0)
        await wait_for(lambda: book() is FeedState.LIVE, 10)
        await wait_for(lambda: store.feed_status("mids").state is FeedState.LIVE, 10)
        assert store.health.connection.reconnects == 0
