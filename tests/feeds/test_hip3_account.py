"""The demo account's HIP-3 positions and orders through the real simulator on loopback: over
the websocket (``allDexsClearinghouseState`` + per-dex ``openOrders``) and over the REST
poller with the websocket refused (per-dex ``clearinghouseState`` and ``frontendOpenOrders``
for the active dexes only, a discovery sweep for the others). Each
position and order carries its dex, each dex its collateral token from the market catalog."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.feeds.catalog_loader import load_catalog
from hlmon.feeds.engine import FeedEngine
from hlmon.sim import SimServer
from hlmon.state import FeedState, Source, Store
from tests.hip3 import use_catalog
from tests.support import TEST_WS, engine_factory, running_sim

Wait = Callable[..., Awaitable[float]]

COLLATERAL = {"": "USDC", "xyz": "USDC", "flx": "USDH"}
"""The simulator's dexes with demo positions, and their collateral tokens (hyna: USDE, empty)."""


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server


@pytest.fixture
async def engines() -> AsyncIterator[Callable[..., Awaitable[FeedEngine]]]:
    async with engine_factory() as make:
        yield make


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    base = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC",),
        websocket=TEST_WS,
    )
    return dataclasses.replace(base, **changes)


async def with_catalog(engine: FeedEngine) -> None:
    """The market catalog in force, loaded from the simulator as the feeds load it."""
    use_catalog(engine.store, (await load_catalog(engine.info)).catalog)


def hip3_loaded(store: Store) -> bool:
    dexes = {p.dex for p in store.positions()}
    orders = {o.coin.partition(":")[0] for o in store.open_orders() if ":" in o.coin}
    return {"xyz", "flx"} <= dexes and {"xyz", "flx"} <= orders and store.orders_ready()


def check_hip3(store: Store, sim: SimServer) -> None:
    """Positions and orders of every dex match the simulator's truth, each with its dex."""
    views = store.positions()
    truth = sim.truth
    coins = {ap["position"]["coin"] for st in truth.dex_states.values()
             for ap in st["assetPositions"]}  # fmt: skip
    assert {p.coin for p in views} == coins
    oids = {o["oid"] for orders in truth.dex_open_orders.values() for o in orders}
    assert {o.oid for o in store.open_orders()} == oids
    for p in views:
        assert p.dex == (p.coin.split(":")[0] if ":" in p.coin else "")
        assert p.collateral == COLLATERAL[p.dex]
    summaries = {s.dex: s for s in store.dex_summaries()}
    assert {d for d, s in summaries.items() if s.active} == {"", "xyz", "flx"}
    # hyna is listed (allDexs, the sweep) but empty: known, not a place of activity.
    assert summaries["hyna"].active is False
    assert {d: s.collateral for d, s in summaries.items()} == {**COLLATERAL, "hyna": "USDE"}
    tokens = [t.token for t in store.token_totals()]
    assert tokens == ["USDC", "USDH"]  # never one sum over both
    assert store.active_dexes() == ("", "flx", "xyz")


class TestWebsocket:
    async def test_positions_and_orders_of_every_dex(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        engine = await engines(settings_for(sim))
        await with_catalog(engine)
        store = engine.store
        await wait(lambda: hip3_loaded(store) and engine.reconciled.is_set(), 8)
        await wait(lambda: store.dexes_listed(), 5)
        check_hip3(store, sim)
        keys = ("account:xyz", "account:flx", "orders:xyz", "orders:flx")
        await wait(lambda: set(keys) <= store.expected, 5)  # followed once found active
        for key in keys:
            await wait(lambda key=key: store.source_of(key) is Source.WS, 5)
        # One allDexs subscription plus per-dex openOrders for the active dexes only.
        held = {(s.type, s.dex) for c in sim.connections for s in c.subs.values()}
        assert ("allDexsClearinghouseState", "") in held
        assert {("openOrders", d) for d in ("", "xyz", "flx")} <= held
        assert ("openOrders", "hyna") not in held
        assert not any(t == "clearinghouseState" and d for t, d in held)

    async def test_a_hip3_fill_moves_that_dexs_position_and_orders(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """A fill of the resting flx:CRCL order: its fill arrives, the order leaves, and the
        flx position grows, pushed by the per-dex feeds (no REST needed)."""
        engine = await engines(settings_for(sim))
        store = engine.store
        await wait(lambda: hip3_loaded(store) and engine.reconciled.is_set(), 8)

        def crcl_size() -> str | None:
            return next((p.szi for p in store.positions() if p.coin == "flx:CRCL"), None)

        size_before = crcl_size()
        fill = sim.force_fill("flx:CRCL")
        assert fill is not None and fill["coin"] == "flx:CRCL"
        await wait(lambda: any(f.tid == fill["tid"] for f in store.fills()), 5)
        await wait(lambda: fill["oid"] not in {o.oid for o in store.open_orders()}, 5)
        await wait(lambda: crcl_size() != size_before, 5)
        flx = sim.truth.dex_states["flx"]["assetPositions"]
        szi = next(ap["position"]["szi"] for ap in flx if ap["position"]["coin"] == "flx:CRCL")
        await wait(lambda: crcl_size() == szi, 5)


class TestRestFallback:
    async def test_websocket_refused_hip3_over_rest(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """No websocket at all: the fallback learns the active dexes (sweep and fills) and
        polls state and orders of those only, every answer stamped REST."""
        sim.faults.refuse_connections(120.0)
        engine = await engines(settings_for(sim))
        await with_catalog(engine)
        store = engine.store
        await wait(lambda: hip3_loaded(store), 12)
        await wait(lambda: engine.sweeps.swept(sim.demo_address), 5)  # the discovery sweep
        await wait(lambda: "hyna" in {s.dex for s in store.dex_summaries()}, 5)
        assert engine.dexes_known()
        check_hip3(store, sim)
        assert not store.dexes_listed()  # no websocket push ever listed them
        for key in ("account", "account:xyz", "account:flx", "orders:xyz", "orders:flx"):
            await wait(lambda key=key: store.feed_status(key).state is FeedState.FALLBACK, 5)
        assert engine.ws is not None and not engine.ws.live.is_set()

        def polled(kind: str) -> set[str]:
            return {k.param("dex") or "" for k in engine.rest.polls if k.kind == kind}

        await wait(lambda: {"xyz", "flx"} <= polled("frontendOpenOrders"), 10)
        await wait(lambda: {"xyz", "flx"} <= polled("clearinghouseState"), 10)
        # The planner never polls the empty dex (only the sweep asked about it, once).
        assert "hyna" not in polled("frontendOpenOrders") | polled("clearinghouseState")
        assert engine.info.budget.peak <= engine.settings.rest_weight_budget
