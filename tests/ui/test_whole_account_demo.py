"""``hlmon --demo`` shows the whole account (#14): the app on a real ``Runtime`` (in-process
simulator, feed engine, loopback sockets), driven with Pilot: spot balances in the Spot tab,
the unified demo variant's equity and unified ratio in the header, a stop order that triggers
and stays listed, a TWAP's slices in Fills, and the liquidation alert."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal

import pytest
from textual.pilot import Pilot

from hlmon.config import Settings
from hlmon.runtime.root import Runtime
from hlmon.ui.app import HlmonApp, build_app

from .helpers import pilot_wait

pytestmark = pytest.mark.slow

SIZE = (140, 40)


async def wait_for(pilot: Pilot[int], cond: Callable[[], object], limit: float = 20.0) -> None:
    await pilot_wait(pilot, cond, limit, interval=0.05)


def demo_app(account: str = "standard") -> tuple[HlmonApp, Runtime]:
    settings = dataclasses.replace(
        Settings(watchlist=("BTC", "ETH"), fps=20.0), demo=True, demo_account=account
    )
    runtime = Runtime(settings)
    return build_app(runtime), runtime


def table(app: HlmonApp, tab: str) -> str:
    t = app.dashboard.lower.tables[tab]
    return "\n".join(t.row_text(i) for i in range(t.row_count))


def header(app: HlmonApp) -> str:
    lines = app.dashboard.header.text_lines
    return lines[0] if lines else ""


async def test_demo_shows_spot_balances_a_triggered_stop_and_twap_fills() -> None:
    app, runtime = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        sim = runtime.sim
        assert sim is not None
        await pilot.press("3")
        await wait_for(pilot, lambda: "FELIX" in table(app, "spot"))
        spot = table(app, "spot")
        for token in ("USDC", "HYPE", "USDH", "PURR"):
            assert f"token: {token}" in spot
        # FELIX trades against USDH only: valued through USDH's own USDC pair.
        await wait_for(pilot, lambda: " via " in table(app, "spot"))
        assert "value $: ?" not in table(app, "spot")
        assert str(app.dashboard.lower.border_subtitle).startswith("total $")
        # A stop order: trigger it; it stays listed, marked triggered, across snapshots.
        await pilot.press("1")
        store = app.store
        await wait_for(pilot, lambda: runtime.engine.reconciled.is_set())
        stop = next(o for o in store.open_orders() if o.orderType == "Stop Limit" and o.isTrigger)
        assert sim.force_trigger(stop.oid) is not None
        await wait_for(pilot, lambda: store.order_flag(stop.oid) == "triggered")
        stamp = store.stamp("orders")
        await wait_for(pilot, lambda: store.stamp("orders") is not stamp)
        await wait_for(pilot, lambda: "triggered" in table(app, "orders"))
        assert stop.oid in {o.oid for o in store.open_orders()}
        # A TWAP's slices come to the Fills tab, marked.
        await sim.advance(31)
        await pilot.press("2")
        await wait_for(pilot, lambda: "TWAP " in table(app, "fills"))
        assert "fees " in str(app.dashboard.lower.border_subtitle)
        await pilot.press("4")
        await wait_for(pilot, lambda: " / " in table(app, "twap"))


async def test_unified_demo_shows_its_equity_and_the_unified_ratio() -> None:
    app, _ = demo_app("unified")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "mode: unified" in header(app))
        await wait_for(
            pilot, lambda: "UA ratio " in header(app) and "UA ratio …" not in header(app)
        )
        await wait_for(pilot, lambda: app.store.equity().equity_usd is not None)
        figures = app.store.equity()
        assert Decimal(figures.equity_usd or "0") > 0
        await wait_for(pilot, lambda: "+?" not in header(app) and "equity …" not in header(app))
        # The perp account value alone would read a fraction of it: the collateral is in spot.
        summary = app.store.account_summary()
        assert summary is not None
        assert Decimal(summary.account_value) * 2 < Decimal(figures.equity_usd or "0")


async def test_demo_liquidation_fires_the_alert() -> None:
    app, runtime = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        sim = runtime.sim
        assert sim is not None
        await wait_for(pilot, lambda: runtime.engine.reconciled.is_set())
        await wait_for(pilot, lambda: app.store.stamp("account") is not None)
        assert sim.liquidate("HYPE") is not None
        await wait_for(
            pilot, lambda: any(n.title.startswith("LIQUIDATED") for n in app._notifications)
        )
        assert any(e.text.startswith("alert: LIQUIDATED") for e in app.store.health.events)
