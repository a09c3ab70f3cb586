"""Several accounts through the real simulator over loopback: a row per watched address, the
detail feeds only for the selected one, switching the selected account (subscriptions move,
the store follows, reconciliation runs), and the REST upkeep of stale rows.

The second account is an address the simulator answers with an empty clearinghouse state (it
has one demo account). Every wait is a condition with a deadline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from hlmon.config import Settings, StaleThresholds
from hlmon.feeds.engine import FeedEngine
from hlmon.protocol import subscriptions as subs
from hlmon.sim import SimServer
from hlmon.state import FeedState, Source
from tests.support import TEST_WS, engine_factory, running_sim, wait_for

from .helpers import B

DETAIL_TYPES = {"openOrders", "orderUpdates", "userEvents", "userFills", "userFundings",
                "twapStates", "userTwapSliceFills", "userNonFundingLedgerUpdates"}  # fmt: skip
STATE_TYPES = {"allDexsClearinghouseState", "clearinghouseState", "spotState"}
"""Every watched account's state subscriptions (one user slot): every dex, the default dex's
own (kept known when an allDexs push leaves the default entry out) and its spot state (the
collateral of a unified or portfolio-margin account)."""


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    base = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        addresses=(sim.demo_address, B),
        labels=((B, "empty"),),
        watchlist=("BTC",),
        websocket=TEST_WS,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def engines() -> AsyncIterator[Callable[..., Awaitable[FeedEngine]]]:
    async with engine_factory() as make:
        yield make


def server_subs(sim: SimServer) -> set[tuple[str, str | None]]:
    """(type, user) of every subscription the simulator holds."""
    return {(s.type, s.user) for c in sim.connections for s in c.subs.values()}


def row_polls(engine: FeedEngine, address: str) -> int:
    """Answered REST clearinghouseState polls of ``address`` (any dex)."""
    return sum(
        n
        for key, n in engine.rest.polls.items()
        if key.kind == "clearinghouseState" and key.param("user") == address
    )


def rows_filled(engine: FeedEngine) -> bool:
    return all(r.account_value is not None for r in engine.store.accounts())


async def test_rows_for_every_address_detail_for_the_selected(sim: SimServer, engines: Any) -> None:
    """Every dex's state per watched address; the detail feeds for the selected only."""
    demo = sim.demo_address
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: rows_filled(engine) and engine.reconciled.is_set())
    a, b = store.accounts()
    assert (a.address, a.selected, b.address, b.selected, b.label) == (
        demo,
        True,
        B,
        False,
        "empty",
    )
    assert a.account_value is not None and Decimal(a.account_value) > 0
    assert (b.account_value, b.positions, b.total_upnl) == ("0.0", 0, "0")
    # The selected row may come from the startup reconciliation (REST) or a push.
    assert a.state in (FeedState.LIVE, FeedState.FALLBACK) and b.state is FeedState.LIVE
    await wait_for(lambda: ("userFundings", demo) in server_subs(sim))
    held = server_subs(sim)
    assert {("clearinghouseState", demo), ("clearinghouseState", B)} <= held
    assert {t for t, u in held if u == B} == STATE_TYPES
    assert {t for t, u in held if u == demo} == DETAIL_TYPES | STATE_TYPES
    rows = store.accounts()
    total = store.accounts_total(rows)
    assert total.accounts == total.accounts_with_data == 2
    assert Decimal(total.account_value) == Decimal(rows[0].account_value or "")
    # Rows keep updating: the other account's pushes keep arriving.
    first = b.received_at
    await wait_for(lambda: (store.accounts()[1].received_at or 0) > (first or 0))


async def test_switch_user_moves_detail_and_reconciles(sim: SimServer, engines: Any) -> None:
    """select_user: the old detail feeds go, the new ones come, the store and REST follow."""
    demo = sim.demo_address
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: rows_filled(engine) and engine.reconcile_count >= 1)
    await wait_for(lambda: bool(store.open_orders()) and bool(store.fills()))
    demo_orders = {o.oid for o in store.open_orders()}
    count = engine.reconcile_count

    engine.select_user(B)
    assert (engine.user, store.user) == (B, B)
    # Detail panels follow at once: the new (empty) account, seeded from its row.
    assert store.open_orders() == [] and store.fills() == [] and store.positions() == []
    summary = store.account_summary()
    assert summary is not None and summary.account_value == "0.0"
    assert [r.selected for r in store.accounts()] == [False, True]
    await wait_for(lambda: engine.reconcile_count == count + 1)
    assert engine.last_reconcile is not None and engine.last_reconcile.open_orders == 0
    await wait_for(lambda: {t for t, u in server_subs(sim) if u == B} == DETAIL_TYPES | STATE_TYPES)
    assert {t for t, u in server_subs(sim) if u == demo} == STATE_TYPES
    # The demo account trades on: its row updates, the detail stays B's (empty).
    before = store.account_stamp(demo)
    assert sim.force_fill() is not None
    await wait_for(lambda: store.account_stamp(demo) != before)
    # The fill was pushed before that row update on the same socket: had it been taken for
    # the selected account, it would be here by now.
    assert store.fills() == [] and store.open_orders() == []
    assert store.account_summary().account_value == "0.0"

    # And back: the demo account's orders and fills return (REST bootstrap + websocket).
    engine.select_user(demo.upper().replace("0X", "0x"))
    assert store.user == demo
    await wait_for(lambda: engine.reconcile_count == count + 2)
    await wait_for(lambda: bool(store.fills()) and bool(store.open_orders()))
    assert {o.oid for o in store.open_orders()} <= demo_orders | {
        o["oid"] for o in sim.truth.open_orders
    }
    assert any(e.text == f"account {demo} selected" for e in store.health.events)
    assert store.feed_statuses()["orders"].state is not FeedState.MISSING


async def test_new_users_fills_arrive_after_switch(sim: SimServer, engines: Any) -> None:
    """Start on the empty account, switch to the demo one: a fill made now shows up."""
    engine = await engines(settings_for(sim, address=B))
    store = engine.store
    await wait_for(lambda: rows_filled(engine) and engine.reconciled.is_set())
    assert store.fills() == []
    engine.select_user(sim.demo_address)
    await wait_for(lambda: engine.reconcile_count >= 2)
    fill = sim.force_fill()
    assert fill is not None
    await wait_for(lambda: any(f.tid == fill["tid"] for f in store.fills()))


async def test_select_user_refuses_unwatched(sim: SimServer, engines: Any) -> None:
    engine = await engines(settings_for(sim))
    with pytest.raises(ValueError, match="not a watched address"):
        engine.select_user("0x" + "cd" * 20)
    engine.select_user(sim.demo_address)  # already selected: nothing happens
    assert engine.reconcile_count <= 1


async def test_rest_only_rows_come_from_rest(sim: SimServer, engines: Any) -> None:
    """Websocket disabled: the other account's row is polled over /info (weight 2)."""
    engine = await engines(settings_for(sim, use_websocket=False))
    store = engine.store
    await wait_for(lambda: rows_filled(engine))
    a, b = store.accounts()
    assert a.source is b.source is Source.REST
    assert b.state is FeedState.FALLBACK
    assert row_polls(engine, B) >= 1
    assert row_polls(engine, sim.demo_address) >= 1  # the selected one: its ``account`` feed


async def test_stale_row_polled_until_the_push_returns(sim: SimServer, engines: Any) -> None:
    """A row whose push stops goes stale, is polled over REST, and is handed back."""
    stale = StaleThresholds(account=1.0)
    engine = await engines(settings_for(sim, stale=stale))
    store = engine.store
    await wait_for(lambda: rows_filled(engine))
    assert engine.ws is not None
    for sub in (subs.clearinghouse_state(B), subs.all_dexs_clearinghouse_state(B)):
        engine.ws.unsubscribe(sub)  # the pushes stop
    await wait_for(lambda: store.accounts()[1].source is Source.REST, 5)
    assert row_polls(engine, B) >= 1
    assert store.accounts()[1].state is FeedState.FALLBACK
    engine.ws.subscribe(subs.all_dexs_clearinghouse_state(B))
    await wait_for(lambda: store.accounts()[1].source is Source.WS, 5)
