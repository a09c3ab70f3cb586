"""WsFeed against a small scripted websocket server on loopback (real sockets, no mocks).

The simulator tests cover the whole engine; these pin the feed's own rules precisely:
resubscribe-all, ack tracking, heartbeat deadlines, rejected frames, the connection limiter.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from hlmon.feeds.settings import WebsocketSettings
from hlmon.feeds.ws_feed import WsFeed
from hlmon.protocol import subscriptions as subs
from hlmon.state import ConnState, Store

Wait = Callable[..., Awaitable[float]]

FAST = WebsocketSettings(
    ping_interval=0.2,
    pong_timeout=0.3,
    silence_timeout=0.6,
    backoff_initial=0.02,
    backoff_max=0.2,
    max_new_per_minute=30,
    ack_timeout=0.3,
    stable_after=0.5,
)


class MiniServer:
    """Acks subscribes, answers pings, pushes one allMids per subscribe; can stall or kill."""

    def __init__(self) -> None:
        self.conns: set[ServerConnection] = set()
        self.received: list[tuple[int, dict[str, Any]]] = []
        self.connections = 0
        self.stalled = False
        self.ack = True
        self.server: Server | None = None

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        n = self.connections
        self.conns.add(ws)
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.received.append((n, msg))
                if self.stalled:
                    continue
                if msg.get("method") == "ping":
                    await ws.send('{"channel":"pong"}')
                elif msg.get("method") in ("subscribe", "unsubscribe"):
                    if self.ack:
                        await ws.send(json.dumps({"channel": "subscriptionResponse", "data": msg}))
                    if msg["method"] == "subscribe" and msg["subscription"]["type"] == "allMids":
                        await ws.send('{"channel":"allMids","data":{"mids":{"BTC":"100.5"}}}')
        except Exception:
            pass
        finally:
            self.conns.discard(ws)

    async def start(self) -> str:
        self.server = await serve(self.handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    def kill(self) -> None:
        for ws in list(self.conns):
            ws.transport.abort()

    async def broadcast(self, text: str) -> None:
        for ws in list(self.conns):
            await ws.send(text)

    def subscribes(self, conn: int) -> list[str]:
        return [
            m["subscription"]["type"]
            for n, m in self.received
            if n == conn and m.get("method") == "subscribe"
        ]


@pytest.fixture
async def mini() -> AsyncIterator[tuple[MiniServer, str]]:
    server = MiniServer()
    url = await server.start()
    yield server, url
    assert server.server is not None
    server.server.close()
    await server.server.wait_closed()


@pytest.fixture
async def feed_factory() -> AsyncIterator[Callable[..., tuple[WsFeed, Store]]]:
    tasks: list[asyncio.Task[None]] = []

    def make(url: str, timings: WebsocketSettings = FAST) -> tuple[WsFeed, Store]:
        store = Store(time.time)
        feed = WsFeed(url, store, timings, rng=random.Random(3))
        feed.subscribe(subs.all_mids())
        feed.subscribe(subs.bbo("BTC"))
        tasks.append(asyncio.create_task(feed.run()))
        return feed, store

    yield make
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_connects_subscribes_and_applies(mini: Any, feed_factory: Any, wait: Wait) -> None:
    server, url = mini
    feed, store = feed_factory(url)
    await wait(lambda: store.mid("BTC") == "100.5", 3)
    assert store.health.connection.state is ConnState.LIVE
    assert server.subscribes(1) == ["allMids", "bbo"]
    await wait(lambda: not feed.pending_acks, 2)
    # Counts are pushed once per loop turn: a read may be one turn behind.
    await wait(lambda: store.health.frames_by_channel.get("allMids") == 1, 2)


async def test_kill_reconnects_and_resubscribes_everything(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    server, url = mini
    feed, store = feed_factory(url)
    await wait(lambda: feed.live.is_set(), 3)
    feed.subscribe(subs.trades("ETH"))  # added while running
    await wait(lambda: "trades" in server.subscribes(1), 2)
    server.kill()
    took = await wait(lambda: server.connections == 2 and len(server.subscribes(2)) == 3, 3)
    assert sorted(server.subscribes(2)) == ["allMids", "bbo", "trades"]
    await wait(lambda: store.health.connection.state is ConnState.LIVE, 2)
    assert store.health.connection.reconnects == 1
    assert took < 1.0


async def test_stall_detected_by_heartbeat(mini: Any, feed_factory: Any, wait: Wait) -> None:
    """Socket open, nothing sent (not even pongs): dead within ping_interval + pong_timeout."""
    server, url = mini
    feed, store = feed_factory(url)
    await wait(lambda: feed.live.is_set(), 3)
    await wait(lambda: store.health.frames_by_channel.get("pong", 0) >= 1, 2)  # heartbeat works
    assert (
        store.health.ws_rtt_ms is not None and 0 <= store.health.ws_rtt_ms < 1000
    )  # round trip measured
    assert feed.stats.dead_detected == 0
    server.stalled = True
    t0 = time.monotonic()
    await wait(lambda: feed.stats.dead_detected == 1, 3)
    detect = time.monotonic() - t0
    assert detect <= FAST.ping_interval + FAST.pong_timeout + 0.15
    assert "no pong" in (feed.stats.last_dead_reason or "")
    server.stalled = False
    await wait(lambda: server.connections >= 2 and feed.live.is_set(), 3)


async def test_silence_detected_even_with_pongs_disabled(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    """With a long ping interval, the silence deadline alone catches a dead socket."""
    server, url = mini
    timings = replace(FAST, ping_interval=30.0, silence_timeout=0.4)
    feed, _ = feed_factory(url, timings)
    await wait(lambda: feed.live.is_set(), 3)
    server.stalled = True
    took = await wait(lambda: feed.stats.dead_detected == 1, 2)
    assert took <= 0.4 + 0.15
    assert "no frame" in (feed.stats.last_dead_reason or "")


async def test_probe_ping_finds_a_stall_before_the_scheduled_ping(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    """A quiet socket is probed at once: dead within probe_after + pong_timeout."""
    server, url = mini
    timings = replace(FAST, ping_interval=30.0, silence_timeout=30.0, probe_after=0.3)
    feed, _ = feed_factory(url, timings)
    await wait(lambda: feed.live.is_set(), 3)
    server.stalled = True
    took = await wait(lambda: feed.stats.dead_detected == 1, 2)
    assert took <= 0.3 + FAST.pong_timeout + 0.15
    assert "no pong" in (feed.stats.last_dead_reason or "")


async def test_a_server_that_accepts_and_says_nothing_is_not_live(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    """Live means the server spoke on this socket, not that the upgrade succeeded."""
    server, url = mini
    server.stalled = True
    feed, store = feed_factory(url)
    await wait(lambda: server.connections >= 1 and len(server.received) >= 2, 3)
    assert not feed.live.is_set()
    assert store.health.connection.state is not ConnState.LIVE
    server.stalled = False
    await wait(lambda: feed.live.is_set() and store.health.connection.state is ConnState.LIVE, 3)


async def test_malformed_and_error_frames_counted_not_fatal(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    server, url = mini
    feed, store = feed_factory(url)
    await wait(lambda: feed.live.is_set() and server.conns, 3)
    await server.broadcast("this is not json")
    await server.broadcast('{"channel":"l2Book","data":{"coin":5}}')
    await server.broadcast('{"channel":"error","data":"Already subscribed: {}"}')
    await server.broadcast('{"channel":"allMids","data":{"mids":{"BTC":"101"}}}')
    await wait(lambda: store.mid("BTC") == "101", 2)
    assert store.health.frames_rejected == 2
    assert store.health.server_errors == 1
    assert server.connections == 1 and feed.live.is_set()


async def test_frame_counts_pushed_whole_after_a_burst(
    mini: Any, feed_factory: Any, wait: Wait
) -> None:
    """The feed counts in batches and pushes them each loop turn: after a burst the health
    holds every frame (and no more), per channel, with the socket alive."""
    server, url = mini
    feed, store = feed_factory(url)
    health = store.health
    await wait(lambda: feed.live.is_set() and server.conns, 3)
    await wait(lambda: health.frames_by_channel.get("allMids") == 1, 2)
    for i in range(500):
        await server.broadcast(f'{{"channel":"allMids","data":{{"mids":{{"BTC":"{i}"}}}}}}')
    await server.broadcast("not json")
    await wait(lambda: health.frames_by_channel.get("?") == 1, 3)
    assert store.mid("BTC") == "499" and health.frames_rejected == 1
    assert health.frames_by_channel.get("allMids") == 501  # the same push as the "?" frame
    assert health.msgs_per_s() > 0 and health.socket_alive()


async def test_unacked_subscription_logged(mini: Any, feed_factory: Any, wait: Wait) -> None:
    server, url = mini
    server.ack = False
    feed, store = feed_factory(url)
    await wait(lambda: feed.stats.unacked_logged == 2, 3)
    assert any("not acknowledged" in e.text for e in store.health.events)


async def test_unsubscribe_sends_frame(mini: Any, feed_factory: Any, wait: Wait) -> None:
    server, url = mini
    feed, _ = feed_factory(url)
    await wait(lambda: feed.live.is_set(), 3)
    feed.unsubscribe(subs.bbo("BTC"))
    await wait(lambda: any(m.get("method") == "unsubscribe" for _, m in server.received), 2)
    assert [s.type for s in feed.subscriptions] == ["allMids"]


async def test_refused_connections_respect_limiter(wait: Wait) -> None:
    """Nothing listening: attempts keep coming (never give up) but at most N per minute."""
    timings = replace(FAST, max_new_per_minute=4, backoff_max=0.01)
    store = Store(time.time)
    feed = WsFeed("ws://127.0.0.1:1/ws", store, timings, rng=random.Random(0))
    task = asyncio.create_task(feed.run())
    try:
        await wait(lambda: feed.stats.attempts >= 4, 3)
        await asyncio.sleep(0.3)  # would allow ~30 more attempts without the limiter
        assert feed.stats.attempts == 4
        assert store.health.connection.state is ConnState.CONNECTING
        assert store.health.connection.next_retry_at is not None
        assert store.health.connection.next_retry_at - time.time() > 50  # waits out the minute
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_proxy_from_the_environment_as_websockets_chose_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transport moved from websockets (which honours proxy env vars) to aiohttp: the same
    proxy is still used, and no_proxy still bypasses it."""
    from hlmon.feeds.proxy import env_proxy as _env_proxy

    for var in ("http_proxy", "https_proxy", "ws_proxy", "wss_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    assert _env_proxy("wss://api.hyperliquid.xyz/ws") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.local:8080")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert _env_proxy("wss://api.hyperliquid.xyz/ws") == "http://proxy.local:3128"
    assert _env_proxy("ws://example.com/ws") == "http://proxy.local:3128"
    assert _env_proxy("ws://127.0.0.1:8000/ws") is None
    monkeypatch.setenv("WSS_PROXY", "http://ws-only.local:9000")
    assert _env_proxy("wss://api.hyperliquid.xyz/ws") == "http://ws-only.local:9000"
