"""The market screen, standalone in a tiny app: ~1,600 names sorted, filtered, chosen, closed;
live updates, freshness, mouse, and SVG snapshots at 120x40 and 80x24 with a fixed clock.

Update the snapshots with ``pytest tests/ui/test_market_screen.py --snapshot-update`` and look
at them before committing.
"""

from __future__ import annotations

import random
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from hlmon.protocol.market_streams import FastAssetCtxs, FastCtx
from hlmon.protocol.messages import SpotAssetCtx
from hlmon.state.catalog import Dex, Market, MarketCatalog, MarketKind
from hlmon.state.market_query import MarketQuery, SortColumn, SortSpec
from hlmon.state.market_table import MarketRow, MarketTable
from hlmon.state.types import Source
from hlmon.ui.screens.market import MarketPane, MarketScreen
from tests.market_fixtures import filled_table, perp_ctx
from tests.support import T0, FakeClock


class MarketApp(App[None]):
    """Hosts the screen alone and records what it asks the app to do."""

    def __init__(self, table: MarketTable, clock: FakeClock, **kw: Any) -> None:
        super().__init__()
        self.market = MarketScreen(table, clock=clock, **kw)
        self.chosen: list[str] = []

    def on_mount(self) -> None:
        self.push_screen(self.market)

    def on_market_screen_coin_chosen(self, event: MarketScreen.CoinChosen) -> None:
        self.chosen.append(event.coin)


def make_app(**kw: Any) -> tuple[MarketApp, MarketTable, FakeClock]:
    clock = FakeClock()
    table = filled_table(clock)
    return MarketApp(table, clock, **kw), table, clock


def pane_of(app: MarketApp) -> MarketPane:
    return app.market.pane


def shown(app: MarketApp) -> list[str]:
    """Names of the rows on screen, top to bottom."""
    pane = pane_of(app)
    return [n for y in range(1, pane.inner_height) if (n := pane.name_at(y)) is not None]


def row_of(table: MarketTable, name: str) -> MarketRow:
    found = table.row(name)
    assert found is not None, name
    return found


def header(app: MarketApp) -> str:
    return pane_of(app).text_lines[0]


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    app = pilot.app
    assert isinstance(app, MarketApp)
    app.market.refresh_frame()
    await pilot.pause()


# ------------------------------------------------------------------ sorting


async def test_default_view_is_every_market_by_volume() -> None:
    app, table, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = pane_of(app)
        want = table.view_names(MarketQuery(), SortSpec(SortColumn.VOLUME, True))
        assert len(pane.names) == 1600 and pane.names == want
        assert (
            shown(app) == list(want[: len(shown(app))]) and len(shown(app)) == 36
        )  # 40 - footer - border - header
        assert "▼ vol 24h $" in header(app)
        assert "Markets  1,600" in str(pane.border_title) and "vol 24h $ ▼" in str(
            pane.border_title
        )
        assert pane.selected == want[0]


async def test_the_title_counts_the_rows_from_the_first_paint() -> None:
    """The first rows come from the pane's first resize, after the screen's first frame found
    it without a size: the title counts them then, not at the next frame (a second later)."""
    app, _, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = pane_of(app)
        for _ in range(50):  # a few message-loop turns, far less than a frame (1 s)
            await pilot.pause()
            if shown(app):
                break
        assert shown(app) and "Markets  1,600" in str(pane.border_title)


async def test_s_cycles_the_sort_column_and_S_flips_it() -> None:
    app, table, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # volume -> name, ascending
        assert "market ▲" in header(app)
        names = pane_of(app).names
        displays = [row_of(table, n).display.casefold() for n in names]
        assert displays == sorted(displays)
        await pilot.press("s")  # -> mark, biggest first
        assert "▼ mark" in header(app) and pane_of(app).names[0] == "BTC"
        await pilot.press("S")
        assert "▲ mark" in header(app) and pane_of(app).names[-1] in _no_mark(table)
        marks = [row_of(table, n).value(SortColumn.MARK) for n in pane_of(app).names]
        known = [m for m in marks if m is not None]
        assert known == sorted(known) and marks[len(known) :] == [None] * (len(marks) - len(known))


def _no_mark(table: MarketTable) -> set[str]:
    return {r.name for r in table.rows() if r.mark is None} or {"BTC"}


async def test_number_keys_sort_by_a_column_and_again_flip_it() -> None:
    app, table, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        assert pane_of(app).sort == SortSpec(SortColumn.CHANGE, True)
        first = table.row(pane_of(app).names[0])
        assert first is not None and first.change_pct == max(
            r.change_pct for r in table.rows() if r.change_pct is not None
        )
        await pilot.press("4")
        assert pane_of(app).sort == SortSpec(SortColumn.CHANGE, False)
        assert "▲ 24h %" in header(app)


# ------------------------------------------------------------------ filtering


async def test_slash_filters_as_you_type_and_enter_keeps_it() -> None:
    app, _, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.market.query_one("#market-filter", Input)
        assert box.has_focus and box.display
        await pilot.press(*"dex:xyz")
        await settle(pilot)
        assert len(pane_of(app).names) == 60
        assert all(n.startswith("xyz:") for n in pane_of(app).names)
        await pilot.press("space", *"nv")
        assert pane_of(app).names == ("xyz:NVDA",)
        await pilot.press("enter")
        assert not box.display and pane_of(app).has_focus
        assert '1 of 1,600  filter: dex xyz, "nv"' in str(pane_of(app).border_title)
        assert app.chosen == []  # enter in the box applies the filter, it chooses nothing
        await pilot.press("enter")
        assert app.chosen == ["xyz:NVDA"]


async def test_keys_right_behind_the_slash_go_to_the_filter_box() -> None:
    """A terminal hands over a burst of keys at once (a paste, tmux send-keys, a fast typist
    over SSH): those queued behind ``/`` land in the box, none reaches the pane."""
    app, _, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, char in (("slash", "/"), ("h", "h"), ("y", "y"), ("p", "p")):
            app.post_message(events.Key(key, char))  # all queued before any is handled
        await settle(pilot)
        box = app.market.query_one("#market-filter", Input)
        assert box.has_focus and box.value == "hyp"
        assert pane_of(app).filter == MarketQuery.parse("hyp")
        app.post_message(events.Key("escape", None))
        await settle(pilot)
        # Typed into the box with the rest: the old filter is replaced, enter keeps the new
        # one and the key after it moves the table's selection; escape in a burst undoes.
        before = pane_of(app).selected
        burst = [("slash", "/"), *((c, c) for c in "dex:xyq"), ("backspace", "\x7f"),
                 ("z", "z"), ("enter", "\r"), ("j", "j")]  # fmt: skip
        for key, char in burst:
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert not box.display and pane_of(app).has_focus
        assert pane_of(app).filter == MarketQuery.parse("dex:xyz")
        names = pane_of(app).names
        assert before not in names and pane_of(app).selected == names[1]
        undone: list[tuple[str, str | None]] = [("slash", "/"), ("z", "z"), ("escape", None)]
        for key, typed in undone:
            app.post_message(events.Key(key, typed))
        await settle(pilot)
        assert pane_of(app).filter == MarketQuery.parse("dex:xyz") and pane_of(app).has_focus


async def test_kind_filter_and_no_match() -> None:
    app, table, _ = make_app(query="spot")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert len(pane_of(app).names) == 1139
        assert all(row_of(table, n).kind is MarketKind.SPOT for n in pane_of(app).names)
        await pilot.press("slash", "ctrl+u", *"perp hype")
        await settle(pilot)
        assert pane_of(app).names == ("HYPE",)
        await pilot.press("ctrl+u", *"zzzz")
        await settle(pilot)
        assert pane_of(app).names == ()
        assert "no market matches 'zzzz'" in pane_of(app).text_lines[1]


async def test_escape_in_the_filter_box_undoes_the_edit_then_closes_the_screen() -> None:
    app, _, _ = make_app(query="dex:flx")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "ctrl+u", *"spot")
        assert len(pane_of(app).names) == 1139
        await pilot.press("escape")
        assert app.screen is app.market  # still open
        assert pane_of(app).filter == MarketQuery.parse("dex:flx") and len(pane_of(app).names) == 60
        await pilot.press("escape")
        assert app.screen is not app.market


# ------------------------------------------------------------------ choosing


async def test_enter_chooses_the_selected_market() -> None:
    app, _, _ = make_app(sort=SortSpec(SortColumn.NAME, False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        names = pane_of(app).names
        await pilot.press("enter", "down", "down", "enter", "end", "enter", "up", "enter")
        assert app.chosen == [names[0], names[2], names[-1], names[-2]]
        await pilot.press("home", "pagedown")
        assert pane_of(app).selected == names[20] and shown(app)[-1] == names[20]


async def test_the_selection_follows_its_market_when_prices_reorder_the_table() -> None:
    app, table, clock = make_app(sort=SortSpec(SortColumn.MARK, True))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        chosen = pane_of(app).selected
        assert chosen is not None and pane_of(app).names[1] == chosen
        clock.advance(1)
        table.apply_fast(FastAssetCtxs({chosen: FastCtx(markPx="999999999.0")}))
        await settle(pilot)
        assert pane_of(app).names[0] == chosen and pane_of(app).selected == chosen
        assert "999,999,999" in pane_of(app).text_lines[1]
        await pilot.press("enter")
        assert app.chosen == [chosen]


# ------------------------------------------------------------------ live data and freshness


async def test_a_price_tick_repaints_only_its_line() -> None:
    app, table, _ = make_app(sort=SortSpec(SortColumn.NAME, False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = pane_of(app)
        third = pane.names[2]
        before = pane.lines_painted
        await settle(pilot)
        assert pane.lines_painted == before  # nothing changed: nothing repainted
        table.apply_fast(FastAssetCtxs({third: FastCtx(midPx="0.123456")}))
        await settle(pilot)
        assert pane.lines_painted - before == 1
        assert "0.123456" in pane.text_lines[3]


async def test_stale_prices_are_marked_and_a_missing_catalog_is_said() -> None:
    app, _, clock = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not pane_of(app).is_stale
        assert "prices 0.0s" in str(pane_of(app).border_subtitle)
        clock.advance(30)
        await settle(pilot)
        assert pane_of(app).is_stale and "STALE 30s" in str(pane_of(app).border_title)
        rows = pane_of(app).rows[1:]
        assert all("pane--muted" in style for row in rows for text, style in row if text.strip())
    empty = MarketApp(MarketTable(clock=FakeClock()), FakeClock())
    async with empty.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "market catalog not loaded yet" in pane_of(empty).text_lines[1]
        assert "STALE" not in str(pane_of(empty).border_title)


async def test_names_are_never_cut() -> None:
    long_name = "hyna:AVERYLONGTICKERNAMEINDEED"
    catalog = MarketCatalog(
        [Market(long_name, MarketKind.PERP, "hyna", 2, long_name, asset_index=0),
         Market("BTC", MarketKind.PERP, "", 5, "BTC", asset_index=0)],
        [Dex("", 0), Dex("hyna", 1)],
        loaded_at=T0,
    )  # fmt: skip
    clock = FakeClock()
    table = MarketTable(catalog, clock)
    table.apply_fast(FastAssetCtxs({long_name: FastCtx("123456.5", "123456.75")}))
    app = MarketApp(table, clock, sort=SortSpec(SortColumn.NAME, True))
    async with app.run_test(size=(60, 12)) as pilot:
        await settle(pilot)
        assert pane_of(app).text_lines[1].startswith(long_name + " ")
        assert "123,456.5" in pane_of(app).text_lines[1]


async def test_a_resize_lays_the_table_out_again() -> None:
    app, _, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "fund/yr" in header(app) and len(shown(app)) == 36
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "fund/yr" not in header(app) and len(shown(app)) == 20
        assert all(len(line) == 78 for line in pane_of(app).text_lines)


# ------------------------------------------------------------------ mouse


async def test_clicks_select_a_row_and_sort_by_a_header() -> None:
    app, _, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = pane_of(app)
        region = pane.content_region
        await pilot.click(offset=(region.x + 2, region.y + 4))
        assert pane.selected == pane.names[3]
        await pilot.click(offset=(region.x + 1, region.y))  # the "market" header
        assert pane.sort == SortSpec(SortColumn.NAME, False)


# ------------------------------------------------------------------ snapshots


def test_snapshot_sorted_120x40(snap_compare: Any) -> None:
    """~1,600 names sorted by open interest (key 7), second row selected."""
    app, _, _ = make_app()
    assert snap_compare(app, terminal_size=(120, 40), press=["7", "down"], run_before=settle)


def test_snapshot_filtered_120x40(snap_compare: Any) -> None:
    """Filtered to the perps of dex xyz, sorted by 24h % (key 4)."""
    app, _, _ = make_app()
    keys = ["4", "slash", *"dex:xyz", "enter"]
    assert snap_compare(app, terminal_size=(120, 40), press=keys, run_before=settle)


def test_snapshot_sorted_80x24(snap_compare: Any) -> None:
    """Narrow: the least useful columns dropped, sorted by funding ascending."""
    app, _, _ = make_app()
    assert snap_compare(app, terminal_size=(80, 24), press=["5", "5"], run_before=settle)


def test_snapshot_filtering_80x24(snap_compare: Any) -> None:
    """The filter box open while typing ``spot t``, sorted by name."""
    app, _, _ = make_app(sort=SortSpec(SortColumn.NAME, False))
    keys = ["slash", *"spot t"]
    assert snap_compare(app, terminal_size=(80, 24), press=keys, run_before=settle)


async def test_rest_contexts_keep_prices_current_when_the_stream_stops() -> None:
    """The socket is out and REST serves the contexts (prices included): the table says REST
    and is current by the answers' time, then stale once they stop too."""
    app, table, clock = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        clock.advance(30)  # no fast frame for 30 s
        rng = random.Random(3)
        perps = {r.name: perp_ctx(rng, 10.0) for r in table.rows() if r.kind is MarketKind.PERP}
        table.apply_perp_contexts(perps, Source.REST)
        spots = [SpotAssetCtx("1.0", "5.0", "1.1", "1.1", coin=r.name)
                 for r in table.rows() if r.kind is MarketKind.SPOT]  # fmt: skip
        table.apply_spot_contexts(spots, Source.REST)
        await settle(pilot)
        pane = pane_of(app)
        assert str(pane.border_subtitle) == "REST  prices and funding/OI 0.0s"
        assert not pane.is_stale and "REST" in str(pane.border_title)
        rows = pane.rows[1:]
        assert not any(
            "pane--muted" in style for row in rows for text, style in row if text.strip()
        )
        clock.advance(80)
        await settle(pilot)
        assert pane.is_stale and "STALE" in str(pane.border_title)


async def test_the_name_column_follows_the_filter_and_the_catalog() -> None:
    """The name column is as wide as the longest name in the view, shown or not: a filter
    leaving only short names narrows it, a new catalog with a longer matching name below the
    screen's last row widens it."""
    long_name, longer = "hyna:AVERYLONGTICKERNAMEINDEED", "hyna:BTCZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    short = [f"hyna:BTC{c}" for c in "ABCDEFGHIJKLMNOP"]

    def catalog(*names: str) -> MarketCatalog:
        markets = [Market(n, MarketKind.PERP, "hyna", 2, n, asset_index=i)
                   for i, n in enumerate(names)]  # fmt: skip
        return MarketCatalog(markets, [Dex("", 0), Dex("hyna", 1)], loaded_at=T0)

    clock = FakeClock()
    table = MarketTable(catalog(long_name, *short), clock)
    app = MarketApp(table, clock, sort=SortSpec(SortColumn.NAME, False))
    async with app.run_test(size=(120, 12)) as pilot:
        await settle(pilot)
        assert header(app).index(" mid ") > len(long_name)
        pane_of(app).set_view(MarketQuery.parse("BTC"))
        await settle(pilot)
        assert header(app).index(" mid ") < len(long_name)
        table.set_catalog(catalog(long_name, *short, longer))
        await settle(pilot)
        assert longer not in shown(app)
        assert header(app).index(" mid ") > len(longer)
