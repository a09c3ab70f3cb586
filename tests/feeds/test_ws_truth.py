"""What the websocket feed tells the status bar: a short reason while not connected, the
attempt of the current outage, and an outage measured from the last data before it.

Real sockets on loopback: the scripted ``MiniServer`` of ``test_ws_feed`` and, for an HTTP
status on the upgrade, a small aiohttp server.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from hlmon.feeds.ws_feed import WsFeed
from hlmon.listen import listen
from hlmon.protocol import subscriptions as subs
from hlmon.state import ConnState, Store
from tests.feeds.test_ws_feed import FAST, MiniServer, Wait


class Recorder(Store):
    """A real store that keeps every (state, attempt) it was given, in order."""

    def __init__(self) -> None:
        super().__init__(time.time)
        self.states: list[tuple[ConnState, int]] = []
        push = self.health.set_connection

        def recording(state: ConnState, **kw: Any) -> None:
            self.states.append((state, kw.get("attempt", 0)))
            push(state, **kw)

        self.health.set_connection = recording  # type: ignore[method-assign]


@pytest.fixture
async def mini() -> AsyncIterator[tuple[MiniServer, str]]:
    server = MiniServer()
    url = await server.start()
    yield server, url
    assert server.server is not None
    server.server.close()
    await server.server.wait_closed()


async def run(feed: WsFeed) -> asyncio.Task[None]:
    return asyncio.create_task(feed.run())


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_refused_says_so_briefly_and_logs_the_whole_error(wait: Wait) -> None:
    port = free_port()
    store = Store(time.time)
    feed = WsFeed(f"ws://127.0.0.1:{port}/ws", store, FAST, rng=random.Random(1))
    task = await run(feed)
    try:
        await wait(lambda: store.health.connection.reason is not None, 3)
        conn = store.health.connection
        assert conn.state is ConnState.CONNECTING
        assert conn.reason == f"cannot connect: 127.0.0.1:{port} refused"
        assert "Cannot connect to host" in (conn.last_error or "")
        assert any("Cannot connect to host" in e.text for e in store.health.events)
    finally:
        await stop(task)


async def test_an_http_status_on_the_upgrade_is_named(wait: Wait) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=503, text="Service Unavailable")

    app = web.Application()
    app.router.add_get("/ws", refuse)
    runner, port = await listen(app, "127.0.0.1", 0)
    store = Store(time.time)
    feed = WsFeed(f"ws://127.0.0.1:{port}/ws", store, FAST, rng=random.Random(1))
    task = await run(feed)
    try:
        await wait(lambda: store.health.connection.reason is not None, 3)
        assert store.health.connection.reason == "HTTP 503"
    finally:
        await stop(task)
        await runner.cleanup()


async def test_each_outage_counts_its_own_attempts(mini: Any, wait: Wait) -> None:
    """RECONNECTING n is the attempt of this outage, not a count that runs on across
    outages (the backoff may still grow with quick deaths: that is not what is shown)."""
    server, url = mini
    store = Recorder()
    feed = WsFeed(url, store, FAST, rng=random.Random(1))
    feed.subscribe(subs.all_mids())
    task = await run(feed)
    try:
        for outage in range(3):
            await wait(lambda: feed.live.is_set(), 3)
            mark = len(store.states)
            server.kill()  # dies at once, again and again: quick failures
            wanted = outage + 2
            await wait(lambda: feed.stats.connects == wanted and feed.live.is_set(), 3)  # noqa: B023
            retries = [a for s, a in store.states[mark:] if s is ConnState.RECONNECTING]
            assert retries and retries[0] == 1, store.states[mark:]
    finally:
        await stop(task)


async def test_the_outage_runs_from_the_last_data_not_from_detection(mini: Any, wait: Wait) -> None:
    server, url = mini
    outages: list[float | None] = []
    store = Store(time.time)
    feed = WsFeed(url, store, FAST, rng=random.Random(1), on_live=outages.append)
    feed.subscribe(subs.all_mids())  # one allMids on subscribe, then only pongs
    task = await run(feed)
    try:
        await wait(lambda: store.mid("BTC") is not None, 3)
        data_at = time.monotonic()
        # Pongs keep the socket alive; no data arrives for a while, then the socket drops.
        await wait(lambda: store.health.frames_by_channel.get("pong", 0) >= 3, 3)
        quiet = time.monotonic() - data_at
        server.kill()
        await wait(lambda: len(outages) == 2, 3)
        assert outages[0] is None  # the first connection is no outage
        second = outages[1]
        assert second is not None and second >= quiet
    finally:
        await stop(task)
