"""The whole account end to end (#14): the feed engine against the real simulator on loopback.

Spot balances over the websocket (a token quoted only in USDH valued through it), each demo
account mode's equity and ratio, a Stop Limit that triggers and stays listed, TWAP slices in
the fills, the account's own liquidation from all three signals firing the default alert,
the one-off checks (role, mode) and their weight, an agent wallet watched through its master,
and spot over REST when the websocket is refused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from hlmon.alerts import AlertEngine
from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.rest_plan import PollKey
from hlmon.feeds.rest_sources import FILL_MARGIN_MS, build_request
from hlmon.sim import DEMO_AGENT_ADDRESS, DEMO_SUB_ACCOUNT_ADDRESS, SimServer
from hlmon.state import Source
from hlmon.state.account_modes import AccountMode
from hlmon.state.equity import RatioKind
from hlmon.state.liquidations import LiquidationSource
from tests.support import FAST_PROFILE, TEST_WS, engine_factory, wait_for

Make = Callable[..., Awaitable[FeedEngine]]


@pytest.fixture
async def engines() -> AsyncIterator[Make]:
    async with engine_factory() as make:
        yield make


async def start_sim(mode: str = "standard") -> SimServer:
    sim = SimServer(seed=11, profile=FAST_PROFILE, demo_account=mode)
    await sim.start(host="127.0.0.1", port=0)
    return sim


@pytest.fixture
async def sims() -> AsyncIterator[Callable[[str], Awaitable[SimServer]]]:
    started: list[SimServer] = []

    async def make(mode: str = "standard") -> SimServer:
        sim = await start_sim(mode)
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            await sim.stop()


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    base = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC", "ETH"),
        websocket=TEST_WS,
    )
    return dataclasses.replace(base, **changes)


async def test_spot_balances_named_and_valued_through_a_usdh_quote(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("standard")
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: store.spot_state() is not None and store.catalog is not None, 10)
    await wait_for(lambda: (v := store.spot_valuation()) is not None and v.row(0) is not None)
    truth = {b["coin"]: b for b in sim.truth.spot_state["balances"]}

    def felix_priced() -> bool:
        valued = store.spot_valuation()
        row = next((r for r in valued.rows if r.coin == "FELIX"), None) if valued else None
        return row is not None and row.value_usd is not None

    await wait_for(felix_priced, 10)
    valued = store.spot_valuation()
    assert valued is not None
    rows = {r.coin: r for r in valued.rows}
    assert set(rows) == set(truth)
    for coin, row in rows.items():  # the exchange's strings unchanged
        assert (row.total, row.hold) == (truth[coin]["total"], truth[coin]["hold"])
    felix = rows["FELIX"]
    assert felix.price_via is not None and " via " in felix.price_via  # FELIX/USDH x USDH/USDC
    # Over the websocket: the start-up reconciliation's REST answer may land just after the
    # first push (a race of a few ms on loopback); the next push, every ``user_ms``, is the
    # websocket's again.
    await wait_for(lambda: store.source_of("spot") is Source.WS, 5)
    outcome = next(r for r in valued.rows if r.coin.startswith("+"))
    assert outcome.name != outcome.coin  # named from the catalog's outcomeMeta


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("standard", RatioKind.CROSS_MAINTENANCE),
        ("unified", RatioKind.UNIFIED),
        ("portfolio", RatioKind.PORTFOLIO_MARGIN),
    ],
)
async def test_each_demo_mode_reads_its_equity_and_ratio(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make, mode: str, kind: RatioKind
) -> None:
    sim = await sims(mode)
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: store.equity().ratio is not None, 10)
    await wait_for(lambda: store.equity().equity_usd is not None, 10)
    figures = store.equity()
    assert figures.ratio_kind is kind
    equity = Decimal(figures.equity_usd or "0")
    assert equity > 0
    perp_value = Decimal(store.account_summary().account_value)  # type: ignore[union-attr]
    if mode == "standard":
        assert figures.mode is AccountMode.STANDARD and equity > perp_value
    else:
        # The perp figure is not a balance here: the collateral is in spot.
        assert equity > perp_value * 2
    if mode == "portfolio":  # the server's own figure, as pushed
        spot = store.spot_state()
        assert spot is not None and figures.ratio == spot.portfolioMarginRatio
    await wait_for(lambda: "portfolio" in engine.checks.asked, 10)
    assert engine.checks.asked == {"userRole": 1, "userAbstraction": 1, "portfolio": 1}


async def test_the_same_money_reads_the_same_equity_in_every_mode(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    """The simulator keeps the same money in each mode, only where it shows differs (perp
    pools for standard, spot for unified and portfolio margin): each mode's rules must add it
    up to the same equity, though the perp account value alone differs widely."""
    equities: dict[str, Decimal] = {}
    perp_values: dict[str, Decimal] = {}
    for mode in ("standard", "unified", "portfolio"):
        sim = await sims(mode)
        engine = await engines(settings_for(sim))
        store = engine.store
        await wait_for(lambda: store.equity().equity_usd is not None, 10)  # noqa: B023
        equities[mode] = Decimal(store.equity().equity_usd or "0")
        perp_values[mode] = Decimal(store.account_summary().account_value)  # type: ignore[union-attr]
    low, high = min(equities.values()), max(equities.values())
    assert low > 0 and (high - low) / low < Decimal("0.01"), equities
    assert perp_values["standard"] > perp_values["unified"] * 2  # where it shows differs


async def test_a_stop_limit_triggers_and_stays_listed(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("standard")
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: engine.reconciled.is_set() and store.open_orders(), 10)
    stop = next(o for o in store.open_orders() if o.orderType == "Stop Limit" and o.isTrigger)
    update = sim.force_trigger(stop.oid)
    assert update is not None and update["status"] == "triggered"
    await wait_for(lambda: store.order_flag(stop.oid) == "triggered", 5)
    before = store.stamp("orders")
    await wait_for(lambda: store.stamp("orders") is not before, 5)  # the next snapshot
    listed = {o.oid: o for o in store.open_orders()}
    assert stop.oid in listed and not listed[stop.oid].isTrigger
    assert store.order_flag(stop.oid) == "triggered"


async def test_twap_slices_land_in_the_fills_with_their_twap_id(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("standard")
    engine = await engines(settings_for(sim))
    store = engine.store
    await wait_for(lambda: store.twaps() and engine.reconciled.is_set(), 10)
    listed = {t.twap_id for t in store.twaps()}
    await sim.advance(31)
    await wait_for(lambda: {f.twapId for f in store.fills()} & listed, 10)
    truth_ids = {s["fill"]["tid"] for s in sim.truth.twap_slice_fills}
    slices = [f for f in store.fills() if f.twapId is not None]
    assert slices and {f.tid for f in slices} <= truth_ids
    assert all(f.hash == "0x" + "0" * 64 for f in slices)  # never from userFills
    # twapStates follows: the TWAP's executed size moved.
    await wait_for(lambda: any(Decimal(t.executed) > 0 for t in store.twaps()), 5)


async def test_own_liquidation_from_three_signals_fires_the_default_alert(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("standard")
    engine = await engines(settings_for(sim))
    store = engine.store
    alerts = AlertEngine(Settings().alerts.rules, clock=time.time)
    await wait_for(lambda: engine.reconciled.is_set() and store.stamp("account") is not None, 10)
    alerts.evaluate(store, store.take_changes())  # history seen: nothing to say
    liq = sim.liquidate("HYPE")
    assert liq is not None
    sources = lambda: {e.source for e in store.own_liquidations()}  # noqa: E731
    await wait_for(lambda: sources() == {LiquidationSource.FILL, LiquidationSource.USER_EVENT}, 10)
    # The ledger's liquidation delta arrives too; it names the fill's hash and coin, so it is
    # the same liquidation (deduped on hash, user, coin), not a third one.
    await wait_for(lambda: any(u.delta.get("type") == "liquidation" for u in store.ledger()), 10)
    assert len(store.own_liquidations()) == 2
    fired = alerts.evaluate(store, store.take_changes())
    assert [a.rule_id for a in fired] == ["liquidation"]
    assert fired[0].level == "error" and "HYPE" in fired[0].body
    assert any(e.text.startswith("LIQUIDATED") for e in store.health.events)
    assert alerts.evaluate(store, store.take_changes()) == []  # each liquidation once


async def test_an_agent_wallet_names_its_master_and_is_watched_through_it(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("standard")
    # A budget whose one-off share (a fifth) holds both addresses' userRole in one minute.
    settings = settings_for(sim, address=DEMO_AGENT_ADDRESS, addresses=(DEMO_AGENT_ADDRESS,
                            DEMO_SUB_ACCOUNT_ADDRESS), rest_weight_budget=1200)  # fmt: skip
    engine = await engines(settings)
    store = engine.store
    await wait_for(lambda: store.user_role() is not None, 10)
    role = store.user_role()
    assert role is not None and role.role == "agent" and role.master == sim.demo_address
    await wait_for(lambda: store.user_role(DEMO_SUB_ACCOUNT_ADDRESS) is not None, 10)
    assert any("agent (API) wallet" in e.text for e in store.health.events)
    engine.watch_instead(DEMO_AGENT_ADDRESS, sim.demo_address)
    assert store.user == sim.demo_address
    assert engine.users == (sim.demo_address, DEMO_SUB_ACCOUNT_ADDRESS)
    await wait_for(lambda: store.positions() and store.spot_state() is not None, 10)
    await wait_for(lambda: store.account_mode() is not None, 10)  # the new address's mode
    # Its role comes when this minute's share for one-off requests has room again; the
    # agent's is never asked again.
    assert ("userRole", sim.demo_address) in engine.checks.pending()
    assert engine.checks.asked["userRole"] == 2


async def test_spot_over_rest_when_the_websocket_is_refused(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    sim = await sims("unified")
    engine = await engines(settings_for(sim, use_websocket=False))
    store = engine.store
    await wait_for(lambda: store.spot_state() is not None, 10)
    assert store.source_of("spot") is Source.REST
    await wait_for(lambda: store.equity().equity_usd is not None, 10)


async def test_twap_slices_reach_the_fills_in_rest_mode(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    """TWAP slices are never in ``userFills``: without the websocket (``--no-ws``), the Fills
    tab lacked every slice while the positions moved with them. REST now asks for them on
    their own call and cursor (``userTwapSliceFillsByTime``), and a slice polled first never
    moves the plain fills' cursor past a fill not polled yet."""
    sim = await sims("standard")
    engine = await engines(settings_for(sim, use_websocket=False))
    store = engine.store
    await sim.advance(61)  # two slices of each running TWAP
    truth = sim.truth.twap_slice_fills
    assert truth
    await wait_for(lambda: {f.tid for f in store.fills() if f.twapId is not None}
                   >= {s["fill"]["tid"] for s in truth}, 15)  # fmt: skip
    assert store.source_of("fills") is Source.REST
    newest_slice = store.newest_fill_time(twap=True)
    newest_plain = store.newest_fill_time(twap=False)
    assert newest_slice is not None and newest_slice == max(s["fill"]["time"] for s in truth)
    assert newest_plain is not None and newest_plain < newest_slice
    # The next poll asks by time, from the newest slice held (the start-up loads stretch
    # the plan for their first minute: built here rather than waited for).
    screen = engine.rest._state
    req = build_request(PollKey.of("userTwapSliceFillsByTime", user=sim.demo_address), screen,
                        store, int(time.time() * 1000))  # fmt: skip
    assert req.type == "userTwapSliceFillsByTime"
    assert req.body["startTime"] == newest_slice - FILL_MARGIN_MS
    answer = await engine.info.info(req)
    assert {s.fill.tid for s in answer} <= {f.tid for f in store.fills()}  # nothing missed


async def test_rest_mode_rebuilds_the_twap_tab_from_history_and_slices(
    sims: Callable[[str], Awaitable[SimServer]], engines: Make
) -> None:
    """``twapStates`` is websocket-only: without it (``--no-ws``) the TWAP tab waited for ever.
    REST polls ``twapHistory``; the running TWAPs are rebuilt from it, each with what its
    slice fills add up to, which is what the exchange's own state says they executed."""
    sim = await sims("standard")
    engine = await engines(settings_for(sim, use_websocket=False))
    store = engine.store
    await sim.advance(61)  # two slices of each running TWAP
    truth = {tid: state for states in sim.truth.twap_states.values() for tid, state in states}
    assert truth and all(Decimal(s["executedSz"]) > 0 for s in truth.values())

    def rebuilt() -> bool:
        got = {t.twap_id: t for t in store.twaps()}
        return set(got) == set(truth) and all(
            Decimal(got[tid].executed) == Decimal(state["executedSz"])
            for tid, state in truth.items()
        )

    await wait_for(rebuilt, 15)
    assert store.twaps_loaded() and not store.twaps_streamed()
    for t in store.twaps():
        state = truth[t.twap_id]
        assert t.derived and not t.partial
        assert (t.coin, t.side, t.size, t.minutes) == (
            state["coin"], state["side"], state["sz"], state["minutes"],
        )  # fmt: skip
        assert Decimal(t.executed_ntl) == Decimal(state["executedNtl"])
