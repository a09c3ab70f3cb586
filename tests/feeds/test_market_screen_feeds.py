"""The market screen's feeds against the real simulator (~1,600 markets) over loopback.

``show_market(True)`` subscribes ``fastAssetCtxs`` and ``allDexsAssetCtxs`` (and polls the spot
contexts, which no stream carries); ``show_market(False)`` unsubscribes and stops polling. In
REST mode the same table is filled by ``metaAndAssetCtxs`` per dex and
``spotMetaAndAssetCtxs`` through the planner, within the weight budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.sim import SimServer
from hlmon.state import Source
from hlmon.state.catalog import MarketKind
from hlmon.state.market_board import MARKET_SPOT, market_feed
from hlmon.state.market_table import MarketTable
from tests.support import FAST_PROFILE, TEST_WS, engine_factory

Wait = Callable[..., Awaitable[float]]
PROFILE = FAST_PROFILE.with_changes(fast_ctxs_ms=300, all_dexs_ctxs_ms=1000)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(seed=11, profile=PROFILE, markets="large")
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def engines() -> AsyncIterator[Callable[..., Awaitable[FeedEngine]]]:
    async with engine_factory() as make:
        yield make


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    return Settings(
        network="custom", api_url=sim.url, watchlist=("BTC",), websocket=TEST_WS, **changes
    )


def complete(table: MarketTable) -> bool:
    """Every row has prices, every perp its funding and every spot pair its 24 h volume."""
    for row in table.rows():
        if row.mark is None or row.volume is None or row.prev_day is None:
            return False
        if row.kind is MarketKind.PERP and row.funding is None:
            return False
    return True


def plans(engine: FeedEngine, kind: str) -> int:
    return sum(1 for e in engine.rest.plan.entries if e.key.kind == kind)


async def test_streams_subscribed_only_while_shown(
    sim: SimServer, engines: Any, wait: Wait
) -> None:
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait(
        lambda: store.catalog is not None and engine.ws is not None and engine.ws.live.is_set(), 5
    )
    await wait(lambda: sim.hub.subscribers("l2Book") == 1, 5)
    assert sim.hub.subscribers("fastAssetCtxs") == 0
    assert plans(engine, "spotMetaAndAssetCtxs") == 0
    table = store.market_board.synced()
    assert len(table) > 1500 and table.fast_at is None

    engine.show_market(True)
    await wait(
        lambda: (
            sim.hub.subscribers("fastAssetCtxs") == 1
            and sim.hub.subscribers("allDexsAssetCtxs") == 1
        ),
        5,
    )
    await wait(lambda: complete(table), 10)
    assert not table.unknown_names and table.dropped == 0
    btc = table.row("BTC")
    assert btc is not None and btc.prices_fast and btc.source is Source.WS
    assert table.price_time(btc) == table.fast_at
    spot = table.row("@6")
    assert spot is not None and spot.volume is not None  # spot contexts: REST in every mode
    expected = store.expected
    assert MARKET_SPOT in expected and market_feed("xyz") in expected
    assert store.stamp(market_feed("xyz")).source is Source.WS
    # Polling spot contexts is no fallback: the fallback never takes them. (On a loaded host
    # the fallback may come on for another feed still missing after its grace.)
    poll, held = engine.rest.needed()
    assert MARKET_SPOT not in poll | held
    taken = [e.text for e in store.health.events if e.text.startswith("fallback on")]
    assert not any(MARKET_SPOT in text for text in taken), taken
    frames = table.fast_frames
    await wait(lambda: table.fast_frames >= frames + 2, 5)  # deltas keep coming

    engine.show_market(False)
    await wait(
        lambda: (
            sim.hub.subscribers("fastAssetCtxs") == 0
            and sim.hub.subscribers("allDexsAssetCtxs") == 0
        ),
        5,
    )
    assert not any(k.startswith("market:") for k in store.expected)
    await wait(lambda: plans(engine, "spotMetaAndAssetCtxs") == 0, 5)
    assert sim.hub.subscribers("l2Book") == 1  # the rest of the screen is untouched

    engine.show_market(True)  # reopened: a fresh snapshot on the same socket
    await wait(lambda: sim.hub.subscribers("fastAssetCtxs") == 1, 5)
    await wait(lambda: not table.awaiting_snapshot and table.row("BTC").prices_fast, 5)


async def test_rest_mode_fills_the_table_within_budget(
    sim: SimServer, engines: Any, wait: Wait
) -> None:
    engine = await engines(settings_for(sim, use_websocket=False))
    store = engine.store
    await wait(lambda: store.catalog is not None, 5)
    assert plans(engine, "spotMetaAndAssetCtxs") == 0
    engine.show_market(True)
    table = store.market_board.synced()
    await wait(lambda: complete(table), 10)
    assert table.last_source is Source.REST and table.fast_at is None
    assert {r.source for r in table.rows()} == {Source.REST}
    dexes = {e.key.param("dex") or "" for e in engine.rest.plan.entries
             if e.key.kind == "metaAndAssetCtxs"}  # fmt: skip
    assert dexes == set(sim.universe.dex_names)
    assert plans(engine, "spotMetaAndAssetCtxs") == 1
    plan = engine.rest.plan
    assert plan.weight_per_min <= plan.available
    assert sim.hub.subscribers("fastAssetCtxs") == 0  # no socket in REST mode
    engine.show_market(False)
    await wait(lambda: plans(engine, "spotMetaAndAssetCtxs") == 0, 5)
    assert dexes - {""} and all(
        e.key.param("dex") in (None, "") for e in engine.rest.plan.entries
        if e.key.kind == "metaAndAssetCtxs"
    )  # fmt: skip


async def test_socket_out_rest_fallback_serves_the_table(
    sim: SimServer, engines: Any, wait: Wait
) -> None:
    """The websocket drops and cannot reconnect: the fallback polls every dex's contexts for
    the open market screen, and the rows say REST."""
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait(lambda: store.catalog is not None and engine.ws is not None, 5)
    engine.show_market(True)
    table = store.market_board.synced()
    await wait(lambda: complete(table) and table.fast_at is not None, 10)
    sim.faults.refuse_connections(30)
    sim.faults.drop_all()
    keys = [market_feed(d) for d in sim.universe.dex_names]

    def rest_served() -> bool:
        stamps = [store.stamp(k) for k in keys]
        return all(s is not None and s.source is Source.REST for s in stamps)

    await wait(rest_served, 10)
    assert store.health.fallback_active
    xyz = table.row("xyz:TSLA")
    assert xyz is not None and xyz.source is Source.REST and not xyz.prices_fast
    assert table.last_source is Source.REST
