"""The workspace (#17): maximise and restore a panel by key and by a click on its title, the
mouse selecting a coin, a tab and an order, the wheel scrolling a table, the layout of a big
terminal with the candle chart, and the 24 h sparklines built from candles.

Pilot tests on the populated store and the ``FakeRuntime`` (which records what the UI asks).
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.pilot import Pilot

from hlmon.state import Source, Store
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.screens.workspace import PANELS
from hlmon.ui.widgets.candles import resample, span_text
from tests.fakes import FakeRuntime

from .helpers import COINS, FakeClock, hourly_candles, populated_store, settings


def make_app(store: Store | None = None) -> tuple[HlmonApp, FakeRuntime, FakeClock]:
    clock = FakeClock()
    runtime = FakeRuntime(settings(), store or populated_store(clock), clock)
    return build_app(runtime), runtime, clock


async def settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, HlmonApp)
    await pilot.pause()
    app.dashboard.refresh_frame()
    await pilot.pause()


def regions(app: HlmonApp) -> dict[str, tuple[int, int, int, int]]:
    """Each panel's screen region (0x0 when hidden)."""
    out = {}
    for panel in PANELS:
        r = app.dashboard.query_one(f"#{panel}").region
        out[panel] = (r.x, r.y, r.width, r.height)
    return out


async def wheel(pilot: Pilot[Any], event: type[events.MouseEvent], selector: str) -> None:
    """One notch of the wheel over ``selector`` (the pilot has no public wheel helper; this is
    the path its ``click`` takes: the event forwarded by the screen to the widget under it)."""
    await pilot._post_mouse_events([event], selector, offset=(4, 3))


class TestMaximise:
    async def test_z_maximises_the_watchlist_and_z_or_escape_restores(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            before = regions(app)
            await pilot.press("z")
            await settle(pilot)
            after = regions(app)
            # The body is every line but the header, the status line and the footer.
            assert after["watchlist"] == (0, 1, 120, 37)
            assert all(after[p][2:] == (0, 0) for p in PANELS if p != "watchlist")
            assert app.dashboard.workspace.zoomed == "watchlist"
            assert app.dashboard.watchlist.has_class("-zoom-target")
            assert app.dashboard.status.region.height == 1  # the status line stays
            await pilot.press("z")
            await settle(pilot)
            assert regions(app) == before
            await pilot.press("z", "escape")
            await settle(pilot)
            assert regions(app) == before and app.dashboard.workspace.zoomed is None

    async def test_a_click_on_a_title_maximises_that_panel_and_restores_it(self) -> None:
        app, runtime, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            before = regions(app)
            await pilot.click("#book", offset=(6, 0))
            await settle(pilot)
            assert app.dashboard.workspace.zoomed == "book"
            assert regions(app)["book"] == (0, 1, 120, 37)
            assert app.dashboard.book.inner_height == 35  # every line of the body: more levels
            await pilot.click("#book", offset=(6, 0))
            await settle(pilot)
            assert regions(app) == before
            # The clicked panel stays current: ``z`` maximises it again.
            await pilot.press("z")
            await settle(pilot)
            assert app.dashboard.workspace.zoomed == "book"
            assert runtime.named("select_coin") == [("BTC",)]  # a title click selects nothing

    async def test_the_focused_table_is_the_one_maximised(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("tab")  # the orders table takes the focus
            await settle(pilot)
            assert app.dashboard.lower.tables["orders"].has_focus
            await pilot.press("z")
            await settle(pilot)
            assert app.dashboard.workspace.zoomed == "lower"
            assert regions(app)["lower"] == (0, 1, 120, 37)


class TestMouse:
    async def test_a_click_on_a_watchlist_row_selects_that_coin(self) -> None:
        app, runtime, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            # Border, header, then one line per coin: ETH is the second.
            await pilot.click("#watchlist", offset=(4, 3))
            await settle(pilot)
            assert app.dashboard.watchlist.selected == "ETH"
            assert runtime.named("select_coin")[-1] == ("ETH",)  # as the arrow keys do
            assert app.dashboard.book.coin == "ETH"
            await pilot.click("#watchlist", offset=(4, 1))  # the header selects nothing
            await settle(pilot)
            assert app.dashboard.watchlist.selected == "ETH"

    async def test_a_click_on_a_tab_name_shows_that_tab(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            lower = app.dashboard.lower
            start = next(s for s, _, tab in lower._spans if tab == "fills")
            await pilot.click("#lower", offset=(start + 3 + 2, 0))
            await settle(pilot)
            assert lower.active == "fills"
            assert app.dashboard.workspace.zoomed is None  # a tab click is not a zoom

    async def test_a_click_on_an_order_row_selects_that_order(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            orders = app.dashboard.lower.tables["orders"]
            # Border, header, then the orders: the second one.
            await pilot.click("#lower", offset=(10, 3))
            await settle(pilot)
            assert orders.has_focus
            assert orders.selected_key == orders._keys[1]
            assert "▶" in orders.text_lines[2]

    async def test_the_wheel_scrolls_a_table(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            for i in range(40):
                app.store.health.log(f"event number {i}")
            await settle(pilot)
            await pilot.press("6")  # the log, showing its newest lines
            await settle(pilot)
            log = app.dashboard.lower.tables["log"]
            assert any("event number 39" in line for line in log.text_lines)
            await wheel(pilot, events.MouseScrollUp, "#lower")
            await wheel(pilot, events.MouseScrollUp, "#lower")
            await settle(pilot)
            assert not any("event number 39" in line for line in log.text_lines)
            assert "▲" in log.text_lines[-1] and "▼ 6 more" in log.text_lines[-1]
            await wheel(pilot, events.MouseScrollDown, "#lower")
            await wheel(pilot, events.MouseScrollDown, "#lower")
            await settle(pilot)
            assert any("event number 39" in line for line in log.text_lines)

    async def test_the_wheel_scrolls_the_watchlist_not_the_selection(self) -> None:
        app, runtime, _ = make_app()
        async with app.run_test(size=(80, 20)) as pilot:
            await settle(pilot)
            watchlist = app.dashboard.watchlist
            room = len(watchlist.text_lines) - 1
            hidden = len(COINS) - room
            assert hidden > 0 and watchlist.text_lines[1].startswith("▶ BTC")
            assert f"▼ {hidden} more" in str(watchlist.border_title)
            await wheel(pilot, events.MouseScrollDown, "#watchlist")
            await settle(pilot)
            top = min(3, hidden)  # three a notch, down to the last screenful
            shown = [line.split()[0] for line in watchlist.text_lines[1:]]
            assert shown == list(COINS[top : top + room])  # the selected BTC scrolled away
            assert f"▲ {top} above" in str(watchlist.border_title)
            assert watchlist.selected == "BTC" and runtime.named("select_coin") == [("BTC",)]
            await pilot.press("down")  # a new selection is brought into view
            await settle(pilot)
            assert watchlist.selected == "ETH"
            assert watchlist.text_lines[1].startswith("▶ ETH")


class TestBigTerminal:
    async def test_200x60_gives_rows_to_content_and_shows_the_chart(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(200, 60)) as pilot:
            await settle(pilot)
            r = regions(app)
            assert r["watchlist"][3] == len(COINS) + 3  # as tall as its coins
            assert r["chart"][3] >= 15 and r["chart"][2] == r["watchlist"][2]
            assert r["tape-alt"][2] == 44 and r["tape-alt"][3] >= 25  # beside the book
            assert r["tape"][2:] == (0, 0)
            assert r["positions"][2] == 200  # the whole width
            assert r["lower"][3] >= 14  # was 9 at every size
            chart = app.dashboard.chart
            assert chart.border_title is not None
            assert "Chart BTC 1h" in str(chart.border_title)
            text = "\n".join(chart.text_lines)
            assert "◂104,412" in text  # the last close on the price axis
            assert any(ch in text for ch in "█▀▄")

    async def test_the_layout_follows_a_resize_and_120x40_is_unchanged(self) -> None:
        app, _, _ = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            before = regions(app)
            assert before["chart"][2:] == (0, 0) and before["lower"][3] == 9
            await pilot.resize_terminal(200, 60)
            await settle(pilot)
            assert regions(app)["chart"][3] > 0
            await pilot.resize_terminal(120, 40)
            await settle(pilot)
            assert regions(app) == before

    async def test_the_chart_is_built_only_when_candles_or_size_change(self) -> None:
        app, _, clock = make_app()
        async with app.run_test(size=(200, 60)) as pilot:
            await settle(pilot)
            chart = app.dashboard.chart
            builds = chart.builds
            app.store.apply(_trades_msg())
            clock.advance(1.0)
            await settle(pilot)
            assert chart.builds == builds  # trades and a tick of the ages: no new chart
            candles = hourly_candles("BTC", "104500.0")
            app.store.apply_candles("BTC", "1h", candles, Source.REST)
            await settle(pilot)
            assert chart.builds == builds + 1
            assert "◂104,500" in "\n".join(chart.text_lines)

    async def test_chart_and_sparklines_say_waiting_until_candles_come(self) -> None:
        store = populated_store(FakeClock())
        for coin in COINS:  # the same market before the keeper's first answer
            store._stamps.pop(f"candles:{coin}", None)
            store._market.candles.pop((coin, "1h"), None)
        app, _, _ = make_app(store)
        async with app.run_test(size=(200, 60)) as pilot:
            await settle(pilot)
            chart = app.dashboard.chart
            assert "waiting for candles…" in chart.text_lines[0]
            head, btc = app.dashboard.watchlist.text_lines[:2]
            assert head.rstrip().endswith("24h")  # the span, in the header
            assert btc.rstrip().endswith("…")


def _trades_msg() -> Any:
    from .helpers import trades_msg

    return trades_msg(n=3, t_ms=1_700_000_000_000)


def test_resample_spans_the_whole_period() -> None:
    values = [float(i) for i in range(24)]
    assert resample(values, 6) == [0.0, 5.0, 9.0, 14.0, 18.0, 23.0]
    assert resample(values, 30) == values
    assert resample(values, 1) == [23.0]
    assert [span_text(h) for h in (24, 47, 48, 60, 96)] == ["24h", "47h", "2d", "2.5d", "4d"]
