"""The market catalog against the real simulator on loopback (which drops the whole socket over
a subscription naming a coin it does not list, as the exchange does since 2026): only catalog
names reach the socket, HIP-3 coins work end to end, the cache stands in when /info fails,
nothing that takes a coin goes out without a catalog, and the users cap is read from the
exchange's refusal."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.feeds.catalog_loader import load_catalog, write_catalog_cache
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.ws_feed import WsFeed
from hlmon.protocol import subscriptions as subs
from hlmon.runtime.root import CoinsRejected, Runtime
from hlmon.sim import SimLimits, SimServer
from hlmon.state import FeedState, Store
from hlmon.state.catalog import MarketCatalog
from hlmon.state.catalog_state import CatalogOrigin
from tests.support import FAST_PROFILE, TEST_TIMINGS, engine_factory, running_sim, wait_for

pytestmark = pytest.mark.slow

Make = Callable[..., Awaitable[FeedEngine]]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server


@pytest.fixture
async def engines() -> AsyncIterator[Make]:
    async with engine_factory() as make:
        yield make


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    base: dict[str, Any] = {"network": "custom", "api_url": sim.url, "watchlist": ("BTC",)}
    return Settings(**{**base, **changes})


def sim_subs(sim: SimServer) -> list[Any]:
    """Every subscription the simulator holds, on every connection."""
    return [sub for conn in sim.connections for sub in conn.subs.values()]


def sim_coins(sim: SimServer) -> set[str]:
    return {sub.coin for sub in sim_subs(sim) if sub.coin}


def new_connections(sim: SimServer) -> int:
    """Websocket connections the simulator accepted from loopback in the last minute."""
    return sim.tracker.client("127.0.0.1").new_connections.used()


def log_text(engine: FeedEngine) -> str:
    return "\n".join(e.text for e in engine.store.health.events)


async def book_pushes(store: Store, coin: str, n: int) -> None:
    """Wait until ``n`` more ``coin`` books have arrived (proof the socket kept working)."""
    seen = 0
    last = store.book(coin)
    deadline = time.monotonic() + 15
    while seen < n:
        assert time.monotonic() < deadline, f"only {seen} of {n} {coin} books arrived"
        await asyncio.sleep(0.02)
        book = store.book(coin)
        if book is not None and book is not last:
            seen, last = seen + 1, book


async def test_an_unknown_watchlist_coin_is_named_skipped_and_never_drops_the_socket(
    sim: SimServer, engines: Make
) -> None:
    """A config watchlist with NOPE: a warning names it with the closest listed name, BTC
    is live, NOPE never reaches the socket, and the one connection stays up."""
    engine = await engines(settings_for(sim, watchlist=("BTC", "NOPE")))
    await wait_for(lambda: engine.store.book("BTC") is not None and engine.store.ctx("BTC"), 10)
    assert "watchlist: unknown market 'NOPE'; closest listed: OP; skipped" in log_text(engine)
    assert engine.watchlist == ("BTC",) and engine.store.watchlist == ("BTC",)
    await book_pushes(engine.store, "BTC", 3)
    assert "NOPE" not in sim_coins(sim) and "BTC" in sim_coins(sim)
    assert new_connections(sim) == 1
    assert engine.store.health.connection.reconnects == 0
    assert engine.store.feed_status("ctx:BTC").state is FeedState.LIVE


async def test_runtime_refuses_unknown_coins_typed_on_the_command_line(sim: SimServer) -> None:
    """--coins (strict): the runtime waits for the catalog and raises with the message; what
    it started is stopped."""
    settings = settings_for(sim, watchlist=("BTC", "NOPE", "TSLA"), strict_watchlist=True)
    runtime = Runtime(settings)
    with pytest.raises(CoinsRejected) as info:
        async with runtime:
            pass
    message = str(info.value)
    assert message.startswith("--coins: unknown market 'NOPE'; closest listed: OP")
    assert "'TSLA' trades on several dexes: xyz:TSLA, flx:TSLA" in message
    await wait_for(lambda: not sim.connections, 5)


async def test_a_hip3_coin_gets_its_dex_mids_context_and_book(
    sim: SimServer, engines: Make
) -> None:
    """xyz:TSLA: allMids of dex xyz (alongside the default dex's, which it does not wipe),
    its activeAssetCtx and book; the xyz mids go when the last xyz coin leaves."""
    engine = await engines(settings_for(sim, watchlist=("BTC",)))
    await wait_for(lambda: engine.watchlist == ("BTC",), 10)
    with pytest.raises(ValueError, match="spelled xyz:TSLA"):
        engine.add_coin("XYZ:TSLA")
    engine.add_coin("xyz:TSLA")
    engine.select_coin("xyz:TSLA")
    store = engine.store
    await wait_for(
        lambda: store.mid("xyz:TSLA") and store.ctx("xyz:TSLA") and store.book("xyz:TSLA"), 10
    )
    await wait_for(lambda: store.mid("BTC") is not None, 5)
    assert store.feed_status("mids:xyz").state is FeedState.LIVE
    assert {(s.type, s.dex) for s in sim_subs(sim) if s.type == "allMids"} == {
        ("allMids", ""), ("allMids", "xyz")
    }  # fmt: skip
    engine.select_coin("BTC")
    engine.remove_coin("xyz:TSLA")
    await wait_for(lambda: all(s.dex != "xyz" for s in sim_subs(sim)), 5)
    assert "xyz:TSLA" not in sim_coins(sim)


async def _aged_cache(sim: SimServer, directory: Path, age: float) -> MarketCatalog:
    """The simulator's catalog, written to ``directory`` as if fetched ``age`` s ago."""
    info = InfoClient(sim.url, budget=1200)
    try:
        fresh = (await load_catalog(info)).catalog
    finally:
        await info.aclose()
    old = MarketCatalog(
        fresh.markets(listed_only=False), fresh.dexes(), loaded_at=time.time() - age
    )
    write_catalog_cache(directory, old)
    return old


async def test_the_cached_catalog_stands_in_when_info_fails(
    sim: SimServer, engines: Make, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    await _aged_cache(sim, cache, 7200)
    sim.faults.info_status(500)
    engine = await engines(settings_for(sim, watchlist=("BTC", "xyz:TSLA")), cache_dir=cache)
    status = engine.store.catalog_state
    await wait_for(lambda: status.catalog is not None, 20)
    assert status.status.origin is CatalogOrigin.CACHE and status.status.problem
    assert 7190 < (status.age() or 0) < 7300
    assert "using the cached one from 2.0 h ago" in log_text(engine)
    await wait_for(lambda: engine.store.ctx("xyz:TSLA") is not None, 10)
    sim.faults.clear()  # the keeper keeps retrying the exchange while it runs on the cache
    await wait_for(lambda: status.status.origin is CatalogOrigin.EXCHANGE, 30)
    assert (status.age() or 99) < 60


async def test_no_catalog_no_coin_reaches_the_socket(
    sim: SimServer, engines: Make, tmp_path: Path
) -> None:
    """/info fails and nothing is cached: the account and default-dex mids feeds run, nothing
    that takes a coin is subscribed, and the screen's state says it waits; once /info answers
    again the catalog loads and the coins follow."""
    sim.faults.info_status(500)
    engine = await engines(
        settings_for(sim, address=sim.demo_address, watchlist=("BTC", "ETH")),
        cache_dir=tmp_path / "empty",
    )
    store = engine.store
    await wait_for(lambda: engine.catalog.failures >= 1, 20)
    assert store.catalog_state.status.waiting and store.catalog is None
    assert "no coin is subscribed until it loads" in log_text(engine)
    await wait_for(lambda: store.mids and store.feed_status("account").source is not None, 10)
    kinds = {sub.type for sub in sim_subs(sim)}
    assert "allMids" in kinds and "clearinghouseState" in kinds
    assert sim_coins(sim) == set()
    sim.faults.clear()
    await wait_for(lambda: store.catalog is not None, 30)
    await wait_for(lambda: sim_coins(sim) == {"BTC", "ETH"}, 10)
    assert not store.catalog_state.status.waiting


async def test_the_users_cap_is_read_from_the_refusal_and_kept(tmp_path: Path) -> None:
    """A server that tracks 2 users (and says 3, as the exchange says 15 while refusing the
    15th): the third user is refused once, the cap drops to 2, the third's other feeds and the
    fourth user are never sent, the socket stays up."""
    addresses = tuple("0x" + c * 40 for c in "1234")
    server = SimServer(seed=11, profile=FAST_PROFILE, limits=SimLimits(max_users=2))
    await server.start(host="127.0.0.1", port=0)
    try:
        settings = settings_for(server, address=addresses[0], addresses=addresses)
        engine = FeedEngine(
            settings, Store(time.time, settings.stale), rng=random.Random(5), timings=TEST_TIMINGS
        )
        await engine.start()
        try:
            assert engine.ws is not None
            ws = engine.ws
            await wait_for(lambda: addresses[3] in log_text(engine), 10)
            text = log_text(engine)
            assert "the exchange refused another user: at most 2 users" in text
            capped = next(line for line in text.splitlines() if line.startswith("user cap 2:"))
            assert addresses[3] in capped and addresses[0] not in capped
            assert ws.book.gate.cap == 2 and ws.stats.limit_errors == {"users": 1}
            users = {sub.user for sub in sim_subs(server) if sub.user}
            assert users == set(addresses[:2])
            assert ws.stats.connects == 1 and new_connections(server) == 1
            assert engine.store.health.server_errors == 1
        finally:
            await engine.stop()
    finally:
        await server.stop()


async def test_a_name_the_socket_dies_over_is_held_back_not_resubscribed(
    sim: SimServer,
) -> None:
    """A subscription the catalog would never let through, sent anyway: the simulator drops
    the socket 0.1 s later; the feed reconnects once without it and stays up."""
    store = Store(time.time)
    feed = WsFeed(sim.ws_url, store, TEST_TIMINGS, rng=random.Random(3))
    feed.subscribe(subs.all_mids())
    feed.subscribe(subs.l2_book("BTC"))
    task = asyncio.create_task(feed.run())
    try:
        await wait_for(lambda: store.book("BTC") is not None, 10)
        feed.subscribe(subs.l2_book("NOPE"))
        await wait_for(lambda: feed.stats.held_back == 1 and feed.stats.connects == 2, 10)
        await wait_for(lambda: feed.live.is_set(), 5)
        await book_pushes(store, "BTC", 3)
        assert feed.stats.connects == 2 and feed.stats.held_back == 1
        assert subs.l2_book("NOPE").key not in {s.key for s in feed.subscriptions}
        assert any("held back" in e.text for e in store.health.events)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.close()
