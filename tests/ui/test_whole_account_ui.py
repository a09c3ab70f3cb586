"""The whole account on screen (#14), Pilot tests on hand-made stores: the Spot tab (names,
values through a non-USDC quote, unknown prices, waiting vs empty), the TWAP tab, triggered
orders, TWAP fills and fees per token, the header by mode, the agent-wallet offer, and the
liquidation alert; snapshots of the Spot tab at 120x40 and 80x24."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot

from hlmon.protocol.account_types import TwapState
from hlmon.state import ConnState, Store
from hlmon.state.twap import twap_progress
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.widgets.whole_account import (
    TWAP_DERIVED,
    TWAP_PARTIAL,
    TWAP_SLICES_WAITING,
    twap_footer,
    twap_rows,
)
from tests.fakes import FakeRuntime
from tests.whole_account import SPOT_MIDS, balance, spot_catalog, spot_msg, use_catalog

from .helpers import T0_MS, USER, FakeClock, apply_rest, msg, populated_store, settings
from .helpers import pilot_wait as wait_for
from .test_snapshots import settle

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
MASTER = "0x" + "c" * 40
TWAP = {"coin": "ETH", "user": USER, "side": "B", "sz": "2.0", "executedSz": "0.5",
        "executedNtl": "1860.0", "minutes": 30, "timestamp": T0_MS - 600_000,
        "reduceOnly": False, "randomize": True}  # fmt: skip


def spot_store(clock: FakeClock, **spot: Any) -> Store:
    store = populated_store(clock)
    use_catalog(store, spot_catalog())
    mids = {**{c: store.mid(c) for c in ("BTC", "ETH", "SOL")}, **SPOT_MIDS}
    store.apply(msg("allMids", {"mids": mids}))
    store.apply(spot_msg(USER, **spot))
    return store


def test_rebuilt_twap_rows_are_marked_and_the_footer_says_why() -> None:
    """REST mode's rows: ``~`` on what the slice fills add up to, ``≥`` when older slices may
    be missing; the footer explains the marks in one line that fits 80 columns."""
    state = msgspec.convert(TWAP, TwapState)
    exact = dataclasses.replace(twap_progress(1, state, T0_MS), derived=True)
    partial = dataclasses.replace(exact, partial=True)
    live = twap_progress(2, state, T0_MS)
    waiting = dataclasses.replace(exact, slices_waiting=True)
    rows, _ = twap_rows([exact, partial, live, waiting])
    assert [(r["done"][0], r["pct"][0], r["avg"][0], r["bar"][0]) for r in rows] == [
        ("~0.5 / 2", "~25.0%", "~3,720.0", rows[0]["bar"][0]),
        ("≥0.5 / 2", "≥25.0%", "~3,720.0", rows[1]["bar"][0]),
        ("0.5 / 2", "25.0%", "3,720.0", rows[2]["bar"][0]),
        ("… / 2", "…", "…", ""),  # no slice fills answered yet: unknown, no bar
    ]
    assert rows[0]["bar"][0].strip()
    assert twap_footer([live]) == ""
    assert twap_footer([exact, live]) == TWAP_DERIVED
    assert twap_footer([exact, partial]) == TWAP_PARTIAL
    assert twap_footer([partial, waiting]) == TWAP_SLICES_WAITING
    footers = (TWAP_DERIVED, TWAP_PARTIAL, TWAP_SLICES_WAITING)
    assert max(map(len, footers)) <= 76  # inside an 80-column border


def test_a_twap_average_is_shown_at_price_precision() -> None:
    """The average is executed notional / executed size: a quotient with many digits, shown at
    the exchange's 5 significant figures (as the coin's prices are), not all of them."""
    sliced = {"coin": "xyz:TSLA", "sz": "1.5", "executedSz": "0.075", "executedNtl": "32.10521"}
    states = [
        msgspec.convert({**TWAP, **sliced}, TwapState),
        msgspec.convert({**TWAP, "executedSz": "0.0", "executedNtl": "0.0"}, TwapState),
    ]
    rows, _ = twap_rows([twap_progress(1, s, T0_MS) for s in states])
    assert str(twap_progress(1, states[0], T0_MS).average_px).startswith("428.06946666")
    assert [r["avg"][0] for r in rows] == ["428.07", "–"]


def app_on(store: Store, clock: FakeClock, **kw: Any) -> HlmonApp:
    return build_app(FakeRuntime(settings(**kw), store, clock))


def lines(app: HlmonApp, tab: str) -> str:
    return "\n".join(app.dashboard.lower.tables[tab].text_lines)


def all_rows(app: HlmonApp, tab: str) -> list[str]:
    """Every row of a table, also those scrolled out of view."""
    table = app.dashboard.lower.tables[tab]
    return [table.row_text(i) for i in range(table.row_count)]


async def test_spot_tab_names_values_and_says_what_it_cannot_price() -> None:
    clock = FakeClock()
    app = app_on(spot_store(clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: "FELIX" in lines(app, "spot"))
        text = "\n".join(all_rows(app, "spot"))
        rows = {row.split("\n")[0]: row for row in all_rows(app, "spot")}
        assert "value $: 1,250.50" in rows["token: USDC"] and "hold: 200" in rows["token: USDC"]
        hype = rows["token: HYPE"]  # 12.5 x 40 USDC, less its cost basis 400
        assert "value $: 500.00" in hype and "uPnL $: +100.00" in hype
        # FELIX has only a USDH pair: 20,000 x 0.05 USDH x 0.999 USD
        felix = rows["token: FELIX"]
        assert "value $: 999.00" in felix and "priced from: FELIX/USDH via USDH/USDC" in felix
        assert "BTC above 150k: Yes" in text  # an outcome side by name
        assert "o14881" in text and "settled: no price" in text
        # The settled outcome is not valued: the total is at least this much.
        footer = str(app.dashboard.lower.border_subtitle)
        assert footer == "total $5,260.99+? (no price: o14881)"
        assert "3 Spot" in str(app.dashboard.lower.border_title)


async def test_spot_tab_waits_then_is_empty_then_follows_the_mids() -> None:
    clock = FakeClock()
    store = populated_store(clock, account=False)
    use_catalog(store, spot_catalog())
    app = app_on(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: "waiting for spot balances" in lines(app, "spot"))
        store.apply(spot_msg(USER, balances=[]))
        await wait_for(pilot, lambda: "no spot balances" in lines(app, "spot"))
        store.apply(spot_msg(USER, balances=[balance("HYPE", "2.0", 150)]))
        await wait_for(pilot, lambda: "?" in lines(app, "spot"))  # no mid yet: unknown
        store.apply(msg("allMids", {"mids": {"@107": "41.5"}}))
        await wait_for(pilot, lambda: "83.00" in lines(app, "spot"))


@pytest.mark.parametrize("size", SIZES)
async def test_twap_tab_in_rest_mode_is_rebuilt_and_says_so(size: tuple[int, int]) -> None:
    """Without the websocket there is no ``twapStates``: the tab waits for the TWAP history
    (REST), then lists the running TWAP with what its slice fills add up to, marked ``~``, and
    its footer says where that comes from, whole at 80 columns."""
    clock = FakeClock()
    store = populated_store(clock)
    store.health.set_connection(ConnState.REST, url="wss://x/ws")
    app = app_on(store, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: "waiting for TWAP orders" in lines(app, "twap"))
        started = {**TWAP, "executedSz": "0.0", "executedNtl": "0.0"}
        history = [{"time": (T0_MS - 600_000) // 1000, "state": started,
                    "status": {"status": "activated"}, "twapId": 42}]  # fmt: skip
        apply_rest(store, msg("userTwapHistory", {"user": USER, "history": history}))
        # No slice fills answered yet: how much has executed is not known (not ``~0``).
        await wait_for(pilot, lambda: "… / 2" in lines(app, "twap"))
        assert "~0" not in lines(app, "twap")
        painted = [line.text for line in app.screen._compositor.render_strips()]
        assert any(TWAP_SLICES_WAITING in line for line in painted)
        apply_rest(store, msg("userTwapSliceFills", {"user": USER, "twapSliceFills": []}))
        await wait_for(pilot, lambda: "~0 / 2" in lines(app, "twap"))
        sliced = {"coin": "ETH", "px": "3720.0", "sz": "0.5", "side": "B", "time": T0_MS - 1000,
                  "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0",
                  "hash": "0x" + "0" * 64, "oid": 77, "crossed": True, "tid": 901,
                  "fee": "0.5", "feeToken": "USDC"}  # fmt: skip
        slices = {"user": USER, "twapSliceFills": [{"fill": sliced, "twapId": 42}]}
        apply_rest(store, msg("userTwapSliceFills", slices))
        await wait_for(pilot, lambda: "~0.5 / 2" in lines(app, "twap"))
        text = lines(app, "twap")
        assert "~25.0%" in text and "~3,720" in text
        assert "4 TWAP 1" in str(app.dashboard.lower.border_title)
        painted = [line.text for line in app.screen._compositor.render_strips()]
        assert any(TWAP_DERIVED in line for line in painted)  # whole, not cut at the edge


async def test_twap_tab_lists_progress_and_time_left() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    app = app_on(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: "waiting for TWAP orders" in lines(app, "twap"))
        store.apply(msg("twapStates", {"user": USER, "dex": "", "states": [[42, TWAP]]}))
        await wait_for(pilot, lambda: "0.5 / 2" in lines(app, "twap"))
        text = lines(app, "twap")
        assert "25.0%" in text and "3,720" in text and "20m00s" in text and "randomized" in text
        assert "4 TWAP 1" in str(app.dashboard.lower.border_title)
        clock.advance(61)  # time left moves on its own, once a second
        await wait_for(pilot, lambda: "18m59s" in lines(app, "twap"))
        store.apply(msg("twapStates", {"user": USER, "dex": "", "states": []}))
        await wait_for(pilot, lambda: "no active TWAP orders" in lines(app, "twap"))


async def test_a_triggered_stop_stays_listed_and_is_marked() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    app = app_on(store, clock)
    oid = store.open_orders()[0].oid
    upd = {"order": {"coin": "BTC", "side": "B", "limitPx": "101000.0", "sz": "0.1",
                     "oid": oid, "timestamp": T0_MS, "origSz": "0.1"},
           "status": "triggered", "statusTimestamp": T0_MS}  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        store.apply(msg("orderUpdates", [upd]))
        await wait_for(pilot, lambda: "triggered" in lines(app, "orders"))
        rests = {**upd["order"], "orderType": "Stop Limit", "triggerCondition": "Triggered",  # type: ignore[dict-item]
                 "triggerPx": "100900.0", "isTrigger": False}  # fmt: skip
        store.apply(msg("openOrders", {"user": USER, "orders": [rests]}))
        await wait_for(pilot, lambda: "triggered 100,900" in lines(app, "orders"))
        assert app.dashboard.lower.tables["orders"].row_count == 1


async def test_twap_fills_are_marked_and_fees_summed_per_token() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    app = app_on(store, clock)
    base = {"px": "3720.0", "sz": "0.1", "side": "B", "time": T0_MS - 1000,
            "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0",
            "hash": "0x" + "0" * 64, "oid": 77, "crossed": True}  # fmt: skip
    slice_fill = {**base, "coin": "ETH", "tid": 901, "fee": "0.5", "feeToken": "USDC"}
    usdh_fill = {**base, "coin": "flx:TSLA", "tid": 902, "fee": "0.25", "feeToken": "USDH",
                 "oid": 78, "hash": "0x01"}  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        store.apply(msg("user", {"twapSliceFills": [{"fill": slice_fill, "twapId": 42}]}))
        store.apply(msg("userFills", {"user": USER, "fills": [usdh_fill]}))
        await wait_for(pilot, lambda: "TWAP 42" in lines(app, "fills"))
        assert "0.2500 USDH" in lines(app, "fills")
        footer = str(app.dashboard.lower.border_subtitle)
        # 3 x 0.0412 fixture fills + 0.5, in USDC; the USDH fee on its own
        assert footer == "fees 0.6236 USDC · 0.2500 USDH"
        await pilot.press("1")
        await wait_for(pilot, lambda: str(app.dashboard.lower.border_subtitle) == "")


async def test_header_by_mode_unified_equity_ratio_and_sparkline() -> None:
    clock = FakeClock()
    store = spot_store(clock, balances=[balance("USDC", "10000.0", 0)])
    store.set_account_mode(USER, "unifiedAccount")
    store.set_portfolio(USER, [("week", _history([(i * 3_600_000, str(9000 + i * 100))
                                                   for i in range(12)]))])  # fmt: skip
    app = app_on(store, clock)
    async with app.run_test(size=(160, 40)) as pilot:
        header = app.dashboard.header
        # 10,000 USDC in spot + the positions' uPnL at the marks the rows show (1,076.60, the
        # header's uPnL too); the unified ratio is the cross maintenance margin 581.3 over the
        # spot USDC less the isolated ETH margin (737.64): 581.3 / 9,262.36 = 6.28 %.
        await wait_for(pilot, lambda: "equity 11,076.60" in header.text_lines[0])
        assert "uPnL +1,076.60" in header.text_lines[0]
        text = header.text_lines[0]
        assert "mode: unified" in text and "UA ratio 6.28%" in text
        assert "withdrawable" not in text  # not a balance under a unified account
        assert "▁" in text and "11h" in text


def _history(points: list[tuple[int, str]]) -> Any:
    from hlmon.protocol.account_types import PortfolioPeriod

    return PortfolioPeriod(accountValueHistory=points)


async def test_an_agent_wallet_is_offered_its_master_and_watched_on_request() -> None:
    from hlmon.protocol.account_types import UserRole, UserRoleData

    clock = FakeClock()
    store = populated_store(clock)
    runtime = FakeRuntime(settings(), store, clock)
    app = build_app(runtime)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        store.set_user_role(USER, UserRole("agent", UserRoleData(user=MASTER)))
        await wait_for(pilot, lambda: any("agent" in n.message for n in app._notifications))
        note = next(n for n in app._notifications if "agent" in n.message)
        assert "shift+w" in note.message and "0xcccc…cccc" in note.message
        assert "agent wallet" in app.dashboard.header.text_lines[0]
        titles = [c.title for c in app.get_system_commands(app.dashboard)]
        assert "Watch master account" in titles
        await pilot.press("W")
        await wait_for(pilot, lambda: runtime.named("watch_instead") == [(USER, MASTER)])
        assert store.user == MASTER and app.dashboard.address == MASTER


async def test_own_liquidation_alerts_and_logs() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    app = app_on(store, clock)
    liq = {"coin": "HYPE", "px": "37.1", "sz": "120.0", "side": "A", "time": T0_MS + 500,
           "startPosition": "120.0", "dir": "Liquidated Cross Long", "closedPnl": "-96.0",
           "hash": "0xdead", "oid": 5, "crossed": True, "fee": "0.0", "tid": 999}  # fmt: skip
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        store.apply(msg("userFills", {"user": USER, "fills": [liq]}))
        await wait_for(pilot, lambda: any(n.title == "LIQUIDATED: HYPE"
                                          for n in app._notifications))  # fmt: skip
        await pilot.press("6")
        await wait_for(pilot, lambda: "LIQUIDATED: 120 HYPE at 37.1" in lines(app, "log"))
        await pilot.press("2")
        await wait_for(pilot, lambda: "LIQ" in lines(app, "fills"))


def spot_app() -> HlmonApp:
    clock = FakeClock()
    return app_on(spot_store(clock), clock)


@pytest.mark.parametrize("size", SIZES)
def test_spot_tab_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    """The Spot tab: token names (on-chain name beside a renamed one), total, hold, USD
    value at the current mid (FELIX through its USDH pair), cost basis, uPnL, an outcome side
    by name, a settled outcome without a price, and the total marked as partial."""

    async def show(pilot: Pilot[Any]) -> None:
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(spot_app(), terminal_size=size, run_before=show)


async def test_hidden_spot_and_fills_tabs_are_brought_up_to_date_when_shown() -> None:
    """Hidden, the Spot tab and the Fills tab's fee line are not redrawn on every change
    (nothing of them is on screen); shown, they are what following every change gives."""
    clock = FakeClock()
    store = spot_store(clock, balances=[balance("HYPE", "2.0", 150)])
    app = app_on(store, clock)
    usdh_fill = {"coin": "flx:TSLA", "px": "3720.0", "sz": "0.1", "side": "B",
                 "time": T0_MS - 1000, "startPosition": "0.0", "dir": "Open Long",
                 "closedPnl": "0.0", "hash": "0x01", "oid": 78, "crossed": True, "tid": 902,
                 "fee": "0.25", "feeToken": "USDH"}  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: "HYPE" in lines(app, "spot"))
        await pilot.press("1")  # the orders: Spot and Fills hidden
        store.apply(spot_msg(USER, balances=[balance("HYPE", "3.0", 150)]))
        store.apply(msg("allMids", {"mids": {"@107": "41.5"}}))
        store.apply(msg("userFills", {"user": USER, "fills": [usdh_fill]}))
        # The frame that took those changes ran (the Fills tab's name counts the new fill).
        await wait_for(pilot, lambda: "Fills 4" in str(app.dashboard.lower.border_title))
        await pilot.press("3")
        await wait_for(pilot, lambda: "124.50" in lines(app, "spot"))  # 3.0 HYPE x 41.5
        assert str(app.dashboard.lower.border_subtitle).startswith("total $")
        await pilot.press("2")
        await wait_for(
            pilot,
            lambda: str(app.dashboard.lower.border_subtitle) == "fees 0.1236 USDC · 0.2500 USDH",
        )


async def test_spot_orders_and_fills_show_the_pair_not_the_exchange_index() -> None:
    """``@107`` is how the exchange names the HYPE/USDC pair; the Orders, Fills and TWAP tabs
    show the pair, as the watchlist and the market screen do, once the catalog says so."""
    clock = FakeClock()
    store = populated_store(clock)
    spot_fill = {"coin": "@107", "px": "40.0", "sz": "2.5", "side": "B", "time": T0_MS - 5_000,
                 "startPosition": "0.0", "dir": "Buy", "closedPnl": "0.0", "hash": "0x00",
                 "oid": 88000999, "crossed": True, "fee": "0.01", "tid": 999,
                 "feeToken": "HYPE"}  # fmt: skip
    store.apply(msg("userFills", {"user": USER, "fills": [spot_fill]}))
    spot_order = {"coin": "@107", "side": "A", "limitPx": "45.0", "sz": "2.0", "oid": 88000777,
                  "timestamp": T0_MS - 2_000, "origSz": "2.0", "orderType": "Limit",
                  "reduceOnly": False, "tif": "Gtc"}  # fmt: skip
    store.apply(msg("openOrders", {"user": USER, "orders": [spot_order]}))
    spot_twap = {**TWAP, "coin": "@107"}
    store.apply(msg("twapStates", {"user": USER, "dex": "", "states": [[43, spot_twap]]}))
    app = app_on(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: "@107" in lines(app, "fills"))  # no catalog yet: as listed
        use_catalog(store, spot_catalog())
        await wait_for(pilot, lambda: "HYPE/USDC" in lines(app, "fills"))
        assert "@107" not in lines(app, "fills")
        await pilot.press("1")
        await wait_for(pilot, lambda: "HYPE/USDC" in "\n".join(all_rows(app, "orders")))
        assert "@107" not in "\n".join(all_rows(app, "orders"))
        await pilot.press("4")
        await wait_for(pilot, lambda: "HYPE/USDC" in lines(app, "twap"))
        assert "@107" not in lines(app, "twap")
