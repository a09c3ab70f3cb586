"""The market screen inside the app: ``m`` from the dashboard opens it over ~1,600 markets and
asks the backend for its feeds, ``escape`` closes it and stops them, ``enter`` adds a market to
the watchlist; before any data it says it is waiting. SVG snapshots at 120x40 and 80x24.

Update the snapshots with ``pytest tests/ui/test_market_in_app.py --snapshot-update`` and look
at them before committing.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.screens.market import MarketScreen
from tests.fakes import FakeRuntime
from tests.market_fixtures import fill, synthetic_catalog

from .helpers import FakeClock, pilot_wait, populated_store, settings


def make_app(*, data: bool = True) -> tuple[HlmonApp, FakeRuntime]:
    clock = FakeClock()
    store = populated_store(clock)
    runtime = FakeRuntime(settings(), store, clock, catalog=synthetic_catalog())
    if data:
        store.catalog_state.use(runtime.catalog, from_cache=False)  # type: ignore[arg-type]
        fill(store.market_board.synced())
    return build_app(runtime), runtime


def market(app: HlmonApp) -> MarketScreen:
    screen = app.screen
    assert isinstance(screen, MarketScreen), screen
    return screen


async def opened(pilot: Pilot[Any]) -> None:
    """Wait for the backend, press ``m``, and draw one frame of the market screen."""
    app = pilot.app
    assert isinstance(app, HlmonApp)
    await pilot_wait(pilot, lambda: app.controls is not None, 10.0)
    await pilot.press("m")
    await pilot_wait(pilot, lambda: isinstance(app.screen, MarketScreen), 10.0)
    await pilot.pause()
    market(app).refresh_frame()
    await pilot.pause()


async def test_m_opens_the_market_and_escape_closes_it() -> None:
    app, runtime = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        screen = market(app)
        assert screen.table is app.store.market_board.table
        assert len(screen.pane.names) == 1600
        assert runtime.market_shown and runtime.named("show_market") == [(True,)]
        await pilot.press("m")  # already open: nothing more
        await pilot.pause()
        assert len([s for s in app.screen_stack if isinstance(s, MarketScreen)]) == 1
        await pilot.press("escape")
        await pilot_wait(pilot, lambda: app.screen is app.dashboard, 10.0)
        assert not runtime.market_shown
        assert runtime.named("show_market") == [(True,), (False,)]


async def test_enter_adds_the_selected_market_to_the_watchlist() -> None:
    app, runtime = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("slash", *"dex:xyz nvda", "enter")
        await pilot.pause()
        screen = market(app)
        assert screen.pane.names == ("xyz:NVDA",)
        await pilot.press("enter")
        await pilot_wait(pilot, lambda: ("xyz:NVDA",) in runtime.named("add_coin"), 10.0)
        assert "xyz:NVDA" in app.dashboard.watchlist.coins
        assert app.dashboard.watchlist.selected == "xyz:NVDA"
        assert isinstance(app.screen, MarketScreen)  # stays open to add more


async def test_before_data_it_says_waiting_never_no_markets() -> None:
    app, _ = make_app(data=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        pane = market(app).pane
        assert str(pane.border_subtitle) == "waiting for market data…"
        assert len(pane.names) == 1600  # every market listed, values unknown
        assert pane.text_lines[1].split()[0] and "no market" not in " ".join(pane.text_lines)
        assert "STALE" not in str(pane.border_title)


def test_snapshot_in_app_sorted_120x40(snap_compare: Any) -> None:
    """``m``, then sorted by funding a year (key 6), biggest first."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(120, 40), press=["6"], run_before=opened)


def test_snapshot_in_app_filtered_120x40(snap_compare: Any) -> None:
    """``m``, then spot pairs only with ``t`` in the name, sorted by 24h % (key 4)."""
    app, _ = make_app()
    keys = ["4", "slash", *"spot t", "enter"]
    assert snap_compare(app, terminal_size=(120, 40), press=keys, run_before=opened)


def test_snapshot_in_app_sorted_80x24(snap_compare: Any) -> None:
    """Narrow: ``m``, sorted by volume ascending (key 8 flips the default volume order)."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), press=["8"], run_before=opened)


def test_snapshot_in_app_filtered_80x24(snap_compare: Any) -> None:
    """Narrow: ``m``, perps of dex flx, sorted by name (key 1)."""
    app, _ = make_app()
    keys = ["1", "slash", *"dex:flx", "enter"]
    assert snap_compare(app, terminal_size=(80, 24), press=keys, run_before=opened)
