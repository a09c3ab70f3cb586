"""HIP-3 on screen: positions of every dex (the coin carries its dex), the per-dex line under
the positions with each dex's value in its own token, the header's equity per token, and the
Accounts tab's rows and totals per token (never adding different tokens)."""

from __future__ import annotations

import time
from typing import Any

from textual.pilot import Pilot

from hlmon.config import Settings
from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime
from tests.hip3 import (
    FLX,
    HYNA,
    MAIN,
    T_MS,
    XYZ,
    all_dexs,
    open_orders,
    order,
    per_dex,
    position,
    state,
    use_catalog,
)

from .helpers import USER, FakeClock, pilot_wait, populated_store, settings

OTHER = "0x" + "b2" * 20
SIZE = (120, 40)


def hip3_store(clock: FakeClock, *, with_catalog: bool = True) -> Store:
    """The UI tests' populated store, plus HIP-3 positions on xyz (USDC) and flx (USDH) and an
    xyz order, as ``allDexsClearinghouseState`` and per-dex ``openOrders`` deliver them."""
    store = populated_store(clock)
    if with_catalog:
        use_catalog(store)
    store.expect("account:xyz")
    store.expect("account:flx")
    store.apply(all_dexs(USER, [("", MAIN), ("xyz", XYZ), ("flx", FLX), ("hyna", HYNA)]))
    store.apply(open_orders(USER, "xyz", [order(91, "xyz:NVDA", px="170.0", sz="30")]))
    store.apply(open_orders(USER, "flx", []))
    return store


def make_app(store: Store, clock: FakeClock, **kw: Any) -> HlmonApp:
    return build_app(FakeRuntime(settings(**kw), store, clock))


def header(app: HlmonApp) -> str:
    lines = app.dashboard.header.text_lines
    return lines[0] if lines else ""


async def test_hip3_positions_and_the_dex_line() -> None:
    clock = FakeClock()
    store = hip3_store(clock)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        dash = app.dashboard
        await pilot_wait(pilot, lambda: dash.positions.row_count == 3)
        text = "\n".join(dash.positions.text_lines)
        assert "xyz:NVDA" in text and "flx:CRCL" in text and "SHORT" in text
        assert str(dash.positions.border_subtitle) == (
            "dexes: main 18,204.77 USDC · flx 6,500.00 USDH · xyz 2,110.40 USDC"
        )
        # Equity and uPnL per token: USDC dexes summed, USDH apart, never added.
        await pilot_wait(pilot, lambda: "equity" in header(app))
        assert "equity 20,315.17 USDC · 6,500.00 USDH" in header(app)
        assert "uPnL +1,125.20 USDC · +12.00 USDH" in header(app)
        await pilot.press("1")
        orders = "\n".join(dash.lower.tables["orders"].text_lines)
        assert "xyz:NVDA" in orders
        assert store.orders_ready()


async def test_unknown_collateral_is_marked_not_guessed() -> None:
    """Without the market catalog a HIP-3 dex's token is unknown: ``?``, and not summed into
    USDC."""
    clock = FakeClock()
    store = hip3_store(clock, with_catalog=False)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        dash = app.dashboard
        await pilot_wait(pilot, lambda: bool(dash.positions.border_subtitle))
        assert str(dash.positions.border_subtitle) == (
            "dexes: main 18,204.77 USDC · flx 6,500.00 ? · xyz 2,110.40 ?"
        )
        assert "equity 18,204.77 USDC · 8,610.40 ?" in header(app)


async def test_default_dex_only_shows_no_dex_line() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    store.apply(all_dexs(USER, [("", MAIN), ("hyna", HYNA)]))
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot_wait(pilot, lambda: "equity" in header(app))
        assert not app.dashboard.positions.border_subtitle
        assert "equity 18,204.77 " in header(app) and "USDC" not in header(app)


async def test_accounts_tab_totals_per_token() -> None:
    clock = FakeClock()
    store = hip3_store(clock)
    app = make_app(store, clock, addresses=(USER, OTHER))
    async with app.run_test(size=SIZE) as pilot:
        await pilot_wait(pilot, lambda: store.watched_users == (USER, OTHER))
        store.apply(all_dexs(USER, [("", MAIN), ("xyz", XYZ), ("flx", FLX)]))
        store.apply(all_dexs(OTHER, [("", state("1000.0")), ("flx", FLX)]))
        await pilot.press("7")
        table = app.dashboard.lower.tables["accounts"]
        # USER: USDC and USDH rows; OTHER: USDC and USDH rows; totals: one per token.
        await pilot_wait(pilot, lambda: table.row_count == 6)
        lines = table.text_lines
        total_usdc = next(line for line in lines if "total" in line and "USDC" in line)
        total_usdh = next(line for line in lines if "total" in line and "USDH" in line)
        assert "21,315.17" in total_usdc and "13,000.00" in total_usdh
        assert not any("27,815.17" in line or "34,315.17" in line for line in lines)


def test_dex_line_snapshot(snap_compare: Any) -> None:
    """The positions pane with a HIP-3 position and the per-dex line under it."""
    clock = FakeClock()
    store = hip3_store(clock)
    app = make_app(store, clock)

    async def settle(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app.dashboard.refresh_frame()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_settings_with_two_addresses() -> None:
    """The accounts test's settings watch both addresses (guards the fixture above)."""
    assert Settings(address=USER, addresses=(USER, OTHER)).watched_addresses == (USER, OTHER)


async def test_the_dex_line_follows_the_positions() -> None:
    """A push that only re-marks a dex (its value moved, its positions the same) reaches the
    dex line with the positions, in the same frame, with no tick between."""
    clock = FakeClock()
    store = hip3_store(clock)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        dash = app.dashboard
        await pilot_wait(pilot, lambda: "flx 6,500.00" in str(dash.positions.border_subtitle))
        dash.paint.monotonic = FakeClock(time.monotonic() + 1.0)  # quiet since the last build
        flx = state("6600.0", positions=[position("flx:CRCL", "10", "80.0", value="812.0",
                    upnl="12.0")], margin="266.0", maint="100.0", time=T_MS + 1000)  # fmt: skip
        store.apply(per_dex(USER, "flx", flx))
        dash.refresh_frame()
        assert "flx 6,600.00 USDH" in str(dash.positions.border_subtitle)
