"""What the user types goes through the market catalog: ``a`` against the real runtime and
simulator (whose socket drops over any unlisted name), and the waiting / cached cues."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label

from hlmon.alerts import AlertSettings, parse_price_rule
from hlmon.config import Settings
from hlmon.runtime.root import Runtime
from hlmon.sim.server import SimServer
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.screens.prompts import NOT_LOADED, AddCoinScreen
from tests.catalogs import catalog_of
from tests.fakes import FakeRuntime
from tests.support import running_sim

from .helpers import FakeClock, pilot_wait, populated_store, settings

SIZE = (120, 40)


async def wait_for(pilot: Pilot[int], cond: Callable[[], object], limit: float = 15.0) -> None:
    await pilot_wait(pilot, cond, limit, interval=0.05)


def hint(app: HlmonApp) -> str:
    return str(app.screen.query_one("#hint", Label).render())


def sim_coins(sim: SimServer) -> set[str]:
    return {sub.coin for conn in sim.connections for sub in conn.subs.values() if sub.coin}


async def type_coin(pilot: Pilot[int], app: HlmonApp, text: str) -> None:
    """Open the prompt if needed, replace what is typed, press enter."""
    if not isinstance(app.screen, AddCoinScreen):
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddCoinScreen))
    app.screen.query_one(Input).value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()


@pytest.mark.slow
async def test_add_coin_against_the_simulator() -> None:
    """``btcx`` is refused under the field (nothing subscribed, the prompt stays open);
    ``eth`` adds ETH; ``tsla`` lists its dexes; ``xyz:tsla`` adds xyz:TSLA, shown with its dex
    prefix, mid and book."""
    async with running_sim() as sim:
        runtime = Runtime(Settings(network="custom", api_url=sim.url, watchlist=("BTC",), fps=20.0))
        app = build_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))
            before = sim_coins(sim)
            assert before == {"BTC"}

            await type_coin(pilot, app, "btcx")
            assert isinstance(app.screen, AddCoinScreen)
            assert hint(app) == "unknown market 'btcx'; closest listed: BTC"
            assert sim_coins(sim) == before and runtime.engine.watchlist == ("BTC",)
            await pilot.press("backspace")  # editing the name: the error was about 'btcx'
            await wait_for(pilot, lambda: hint(app) == "enter: add   esc: cancel")

            await type_coin(pilot, app, "tsla")
            assert isinstance(app.screen, AddCoinScreen)
            assert "xyz:TSLA" in hint(app) and "flx:TSLA" in hint(app)

            await type_coin(pilot, app, "eth")
            await wait_for(pilot, lambda: app.screen is d)
            assert list(runtime.engine.watchlist) == ["BTC", "ETH"]
            await wait_for(pilot, lambda: "ETH" in sim_coins(sim))
            assert d.watchlist.selected == "ETH"

            await type_coin(pilot, app, "xyz:tsla")
            await wait_for(pilot, lambda: app.screen is d)
            assert list(runtime.engine.watchlist) == ["BTC", "ETH", "xyz:TSLA"]
            await wait_for(pilot, lambda: d.book.coin == "xyz:TSLA")
            assert "Book xyz:TSLA" in str(d.book.border_title)
            await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))
            row = next(line for line in d.watchlist.text_lines if "xyz:TSLA" in line)
            await wait_for(
                pilot,
                lambda: any("xyz:TSLA" in ln and "%" in ln for ln in d.watchlist.text_lines),
            )
            assert row.startswith("▶ xyz:TSLA")
            assert {"BTC", "ETH", "xyz:TSLA"} <= sim_coins(sim)
            assert runtime.engine.store.health.connection.reconnects == 0


async def test_waiting_for_the_catalog_is_said_and_a_coin_cannot_be_added_yet() -> None:
    clock = FakeClock()
    runtime = FakeRuntime(settings(), populated_store(clock), clock, waiting=True)
    app = build_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        d = app.dashboard
        await wait_for(pilot, lambda: runtime.started)
        await wait_for(
            pilot, lambda: "waiting for market catalog…" in "\n".join(d.watchlist.text_lines)
        )
        assert d.status.text_lines and "catalog waiting" in d.status.text_lines[0]
        d.book.show(None)
        d.book.rebuild()
        assert "waiting for market catalog…" in "\n".join(d.book.text_lines)
        await type_coin(pilot, app, "BTC")
        assert isinstance(app.screen, AddCoinScreen) and hint(app) == NOT_LOADED
        assert runtime.named("add_coin") == []


async def test_a_cached_catalog_shows_its_age() -> None:
    clock = FakeClock()
    old = catalog_of(loaded_at=clock.now - 7200)
    runtime = FakeRuntime(settings(), populated_store(clock), clock, catalog=old, from_cache=True)
    app = build_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        status = app.dashboard.status
        await wait_for(pilot, lambda: "catalog cached 2h00m" in status.text_lines[0])


async def test_the_watchlist_follows_the_resolved_names_and_config_alerts_too() -> None:
    """The feeds resolved ``eth`` to ETH and skipped NOPE: the pane follows; an alert rule
    on ``btc`` watches BTC, one on NOPE is refused (logged)."""
    clock = FakeClock()
    rules = (parse_price_rule("btc > 1"), parse_price_rule("NOPE > 1"))
    s = settings(watchlist=("BTC", "eth", "NOPE"), alerts=AlertSettings(rules=rules))
    runtime = FakeRuntime(s, populated_store(clock), clock, catalog=catalog_of())
    runtime.watchlist = ["BTC", "ETH"]  # what the engine resolved
    app = build_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        d = app.dashboard
        await wait_for(pilot, lambda: d.watchlist.coins == ["BTC", "ETH"])
        await wait_for(pilot, lambda: [r.rule_id for r in app.alerts.rules] == ["price BTC > 1"])
        logged = [e.text for e in app.store.health.events]
        assert "alert 'price NOPE > 1' refused: unknown market 'NOPE'" in logged
        assert "alert 'price btc > 1' watches BTC" in logged
