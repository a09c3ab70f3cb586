"""Pilot tests of the dashboard: keys, selection, watchlist edits, tabs, layout, themes, help,
copying, and the status bar and panels following the store's connection and freshness."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from textual.geometry import Region

from hlmon.protocol.messages import Message
from hlmon.state import ConnState, RestPlanView, Source, Store
from hlmon.ui.app import THEMES, HlmonApp, build_app
from hlmon.ui.screens.help import HelpScreen
from hlmon.ui.screens.prompts import AddCoinScreen
from hlmon.ui.widgets.lines import set_border_subtitle
from tests.fakes import FakeRuntime

from .helpers import (
    T0_MS,
    USER,
    FakeClock,
    book_msg,
    clearinghouse_msg,
    msg,
    note_calls,
    orders_msg,
    populated_store,
    settings,
)
from .helpers import pilot_wait as wait_for


def fills_msg_with(tid: int, ago: int) -> Message:
    """A userFills update (not a snapshot) with one new fill ``ago`` seconds before T0."""
    fill = {"coin": "BTC", "px": "104400.0", "sz": "0.01", "side": "B",
            "time": T0_MS - ago * 1000, "startPosition": "0.4", "dir": "Open Long",
            "closedPnl": "0.0", "hash": "0x00", "oid": 88000000 + tid, "crossed": True,
            "fee": "0.01", "tid": tid}  # fmt: skip
    return msg("userFills", {"user": USER, "fills": [fill]})


SIZE = (120, 40)


def status_text(app: HlmonApp) -> str:
    return app.dashboard.status.text_lines[0]


class TestLayout:
    async def test_every_panel_has_data_at_120x40(self, app: HlmonApp) -> None:
        """Header, watchlist, book, tape, positions, orders and status all show the store."""
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            d = app.dashboard
            assert "0x8a31…f02c" in d.header.text_lines[0]
            # Equity at the rows' marks: 18,204.77 + (1,076.60 - 1,076.84) (see HeaderTotals).
            assert "equity 18,204.53" in d.header.text_lines[0]
            assert "14:13:20" in d.header.text_lines[0]
            wl = "\n".join(d.watchlist.text_lines)
            assert "▶ BTC" in wl and "104,412.5" in wl and "+1.50%" in wl and "3.04B" in wl
            book = "\n".join(d.book.text_lines)
            # BTC above 100,000 trades in whole dollars: no ".0" on its prices
            assert "spread 1 (0.10 bps)" in book and "104,413 " in book
            assert "Trades BTC" in str(d.tape.border_title)
            assert any("104,41" in line for line in d.tape.text_lines[1:])
            pos = "\n".join(d.positions.text_lines)
            assert "LONG" in pos and "SHORT" in pos and "iso 10x" in pos
            assert "88123401" in "\n".join(d.lower.tables["orders"].text_lines)
            assert status_text(app).startswith(" ● LIVE")
            assert "REST 12/600 w/min" in status_text(app)

    async def test_resize_to_compact_tiny_and_back(self, app: HlmonApp) -> None:
        """80x24 is compact (book and trades share a column), 60x20 still works, smaller
        shows only the status line and a note; nothing crashes on the way back."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            assert not d.has_class("-compact")
            assert d.tape.display and d.book.display

            await pilot.resize_terminal(80, 24)
            await wait_for(pilot, lambda: d.has_class("-compact"))
            await pilot.pause()
            assert d.book.region.width > 0 and d.tape.region.width == 0
            assert d.positions.region.width == 80
            await pilot.press("b")
            await pilot.pause()
            assert d.tape_alt.region.width > 0 and d.book.region.width == 0
            await wait_for(pilot, lambda: any("104,41" in ln for ln in d.tape_alt.text_lines[1:]))
            await pilot.press("b")

            await pilot.resize_terminal(60, 20)
            await pilot.pause()
            assert d.has_class("-compact") and not d.has_class("-too-small")
            assert d.watchlist.region.height > 0 and d.status.region.y == 18

            await pilot.resize_terminal(50, 15)
            await wait_for(pilot, lambda: d.has_class("-too-small"))
            await pilot.pause()
            assert d.watchlist.region.height == 0
            assert d.query_one("#too-small").region.height > 0
            assert d.status.region.height == 1 and d.status.text_lines[0].startswith(" ● LIVE")

            await pilot.resize_terminal(*SIZE)
            await wait_for(pilot, lambda: not d.has_class("-compact"))
            await pilot.pause()
            assert d.book.region.width == 56
            await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))


class TestKeys:
    async def test_arrows_and_jk_select_coin_and_book_and_tape_follow(
        self, app: HlmonApp, runtime: FakeRuntime
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await wait_for(pilot, lambda: runtime.started)
            await pilot.press("down")
            await wait_for(pilot, lambda: ("ETH",) in runtime.named("select_coin"))
            assert d.watchlist.selected == "ETH"
            assert d.book.coin == "ETH" and d.tape.coin == "ETH"
            assert "waiting for the ETH book" in "\n".join(d.book.text_lines)
            assert "Book ETH" in str(d.book.border_title)
            assert "Trades ETH" in str(d.tape.border_title)
            assert any(line.startswith("▶ ETH") for line in d.watchlist.text_lines)

            await pilot.press("j", "j")
            await pilot.pause()
            assert d.watchlist.selected == "LTC"
            await pilot.press("k", "up", "up", "up")  # clamps at the top
            await pilot.pause()
            assert d.watchlist.selected == "BTC"
            await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))
            assert runtime.named("select_coin")[-1] == ("BTC",)

    async def test_add_coin_prompt(self, app: HlmonApp, runtime: FakeRuntime) -> None:
        """``a`` opens a prompt; the coin is added, selected and subscribed."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, AddCoinScreen))
            await pilot.press("!", "enter")  # rejected: stays open
            await pilot.pause()
            assert isinstance(app.screen, AddCoinScreen)
            await pilot.press("backspace", *"doge", "enter")
            await wait_for(pilot, lambda: app.screen is d)
            assert d.watchlist.coins[-1] == "DOGE" and d.watchlist.selected == "DOGE"
            await wait_for(pilot, lambda: ("DOGE",) in runtime.named("add_coin"))
            assert runtime.named("select_coin")[-1] == ("DOGE",)
            assert any(line.startswith("▶ DOGE") for line in d.watchlist.text_lines)

            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, AddCoinScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is d)
            assert len(d.watchlist.coins) == 7

    async def test_remove_coin(self, app: HlmonApp, runtime: FakeRuntime) -> None:
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.press("d")
            await wait_for(pilot, lambda: ("BTC",) in runtime.named("remove_coin"))
            assert "BTC" not in d.watchlist.coins
            assert d.watchlist.selected == "ETH" and d.book.coin == "ETH"
            assert not any("BTC" in line for line in d.watchlist.text_lines)

    async def test_remove_every_coin_then_add(self, app: HlmonApp) -> None:
        """An empty watchlist says how to add a coin; nothing crashes."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()  # the dashboard shown: a key pressed before goes elsewhere
            assert len(d.watchlist.coins) == 6
            await pilot.press(*"dddddd")
            await pilot.pause()
            assert d.watchlist.coins == []
            # Painted by the next frame, which a busy host may run after one more pause.
            await wait_for(pilot, lambda: "press a to add" in "\n".join(d.watchlist.text_lines))
            await wait_for(pilot, lambda: "no coin selected" in "\n".join(d.book.text_lines))
            await pilot.press("down", "f", "g")
            await pilot.press("a", *"btc", "enter")
            await wait_for(pilot, lambda: d.watchlist.coins == ["BTC"])
            await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))

    async def test_number_keys_switch_lower_tabs(self, app: HlmonApp) -> None:
        async with app.run_test(size=SIZE) as pilot:
            lower = app.dashboard.lower
            expected = {"1": "orders", "2": "fills", "3": "spot", "4": "twap", "5": "funding",
                        "6": "log", "7": "accounts"}  # fmt: skip
            for key, tab in expected.items():
                await pilot.press(key)
                await pilot.pause()
                assert lower.active == tab
                assert lower.active_table.region.height > 0
                label = "TWAP" if tab == "twap" else tab.capitalize()
                count = {"orders": " 3", "fills": " 3", "funding": " 2"}.get(tab, "")
                assert f"[b reverse] {key} {label}{count} [/" in str(lower.border_title)
            fills = "\n".join(lower.tables["fills"].text_lines)
            assert "Close Long" in fills and "+12.35" in fills
            assert "-0.52" in "\n".join(lower.tables["funding"].text_lines)
            assert "reconciled at startup" in "\n".join(lower.tables["log"].text_lines)
            assert "18,204.77" in "\n".join(lower.tables["accounts"].text_lines)

    async def test_accounts_tab_rows_per_watched_address(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Tab 7 lists every watched address with its own age, and a total line."""
        other = "0x31ca8395cf837de08b24da3f660e77761dfb974b"
        watching = settings(addresses=(USER, other), labels=((other, "hedge"),))
        app = build_app(FakeRuntime(watching, store, clock))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("7")
            await pilot.pause()
            table = app.dashboard.lower.tables["accounts"]
            await wait_for(pilot, lambda: table.row_count == 3)
            lines = table.text_lines
            assert lines[1].startswith(" ▶ 0x8a31…f02c") and "18,204.77" in lines[1]
            assert "0x31ca…974b" in lines[2] and "hedge" in lines[2] and "waiting" in lines[2]
            store.apply(clearinghouse_msg(user=other))
            await wait_for(pilot, lambda: "36,409.54" in "\n".join(table.text_lines))
            assert "total (2)" in table.text_lines[3]

    async def test_fast_book_and_aggregation(self, app: HlmonApp, runtime: FakeRuntime) -> None:
        """``f`` toggles fast/full, ``g`` cycles none,5,4,3,2; both go to the engine."""
        async with app.run_test(size=SIZE) as pilot:
            book = app.dashboard.book
            await pilot.press("f")
            await wait_for(pilot, lambda: runtime.named("set_book_mode") == [(True, None)])
            assert "fast 5" in str(book.border_title)
            # fast mode shows at most 5 levels per side
            levels = [line for line in book.text_lines if "104,4" in line and "spread" not in line]
            assert len(levels) == 10
            await pilot.press("g", "g", "g", "g", "g")
            await wait_for(pilot, lambda: len(runtime.named("set_book_mode")) == 6)
            assert [a[1] for a in runtime.named("set_book_mode")] == [None, 5, 4, 3, 2, None]
            await pilot.press("g", "f")
            await wait_for(pilot, lambda: len(runtime.named("set_book_mode")) == 8)
            assert runtime.named("set_book_mode")[-1] == (False, 5)
            assert "full 20" in str(book.border_title) and "agg 5 sf" in str(book.border_title)

    async def test_theme_cycles(self, app: HlmonApp) -> None:
        async with app.run_test(size=SIZE) as pilot:
            assert app.theme == "textual-dark"
            seen = []
            for _ in range(3):
                await pilot.press("t")
                await pilot.pause()
                seen.append(app.theme)
            assert seen == [t for t in THEMES if t in app.available_themes][1:4]
            assert any("104,412.5" in line for line in app.dashboard.watchlist.text_lines)

    async def test_help_screen_opens_and_closes(self, app: HlmonApp) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("down")  # dashboard keys do not leak through the modal
            await pilot.pause()
            assert app.dashboard.watchlist.selected == "BTC"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("q")  # q closes help, it does not quit
            await wait_for(pilot, lambda: app.screen is app.dashboard)
            assert app.is_running

    async def test_copy_address_and_focused_order_id(self, app: HlmonApp) -> None:
        """``y`` copies the address; with the orders table focused, the order id."""
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("y")
            await pilot.pause()
            assert app.clipboard == USER
            await pilot.press("tab")
            await pilot.pause()
            orders = app.dashboard.lower.tables["orders"]
            assert orders.has_focus
            await pilot.press("down", "y")
            await pilot.pause()
            assert app.clipboard == "88123455"
            # arrows moved the order cursor, not the coin
            assert app.dashboard.watchlist.selected == "BTC"

    async def test_quit_key(self, app: HlmonApp, runtime: FakeRuntime) -> None:
        """``q`` quits and the engine is stopped on the way out."""
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: runtime.started)
            await pilot.press("q")
            await pilot.pause()
        assert runtime.stopped

    async def test_command_palette_lists_main_actions(self, app: HlmonApp) -> None:
        async with app.run_test(size=SIZE) as pilot:
            titles = [c.title for c in app.get_system_commands(app.dashboard)]
            for title in ("Add coin", "Remove coin", "Fast/full book", "Aggregate book",
                          "Tab 6: Log", "Tab 3: Spot", "Copy address", "Next theme", "Help",
                          "Quit"):  # fmt: skip
                assert title in titles
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"fast")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.dashboard.book.fast)


class TestFreshness:
    async def test_status_bar_follows_live_reconnecting_fallback_live(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The store as the engine drives it: the status line and the panels say so."""
        app = build_app(FakeRuntime(settings(), store, clock))
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            assert status_text(app).startswith(" ● LIVE")
            assert not d.book.is_stale

            store.health.set_connection(ConnState.RECONNECTING, attempt=3, next_retry_in=4.2)
            await wait_for(pilot, lambda: "◌ RECONNECTING 3 (next 4.2 s)" in status_text(app))

            clock.advance(18.0)  # nothing arrives: periodic feeds go stale
            await wait_for(pilot, lambda: d.book.is_stale)
            assert "STALE 19s" in str(d.book.border_title)
            assert d.book.has_class("-stale") and d.watchlist.is_stale
            # nine stale feeds do not fit one by one: grouped, none dropped. The event feeds
            # (trades, fills, funding) are among them, however recent: a socket down vouches
            # for no "nothing newer happened".
            assert re.search(
                r"STALE 2\ds: mids book bbo trades ctx acct orders fills funding ", status_text(app)
            )
            assert "RECONNECTING 3 (retrying)" in status_text(app)
            assert "STALE" in d.header.text_lines[0]

            # The fallback takes over: REST-fed values say REST, not STALE.
            store.health.set_fallback_active(True)
            store.apply(book_msg(t_ms=T0_MS + 18_000), Source.REST)
            store.apply(clearinghouse_msg(t_ms=T0_MS + 18_000), Source.REST)
            await wait_for(pilot, lambda: not d.book.is_stale)
            assert "REST" in str(d.book.border_title)
            assert "REST" in str(d.positions.border_title)
            assert "REST: book acct" in status_text(app) and "FALLBACK" in status_text(app)
            assert re.search(
                r"STALE 2\ds: mids bbo trades ctx orders fills funding ", status_text(app)
            )

            store.health.set_connection(ConnState.LIVE)
            store.health.set_fallback_active(False)
            store.apply(book_msg(t_ms=T0_MS + 19_000))
            store.apply(msg("allMids", {"mids": {"BTC": "104420.0"}}))
            await wait_for(pilot, lambda: status_text(app).startswith(" ● LIVE"))
            await wait_for(pilot, lambda: "REST" not in str(d.book.border_title))
            assert "reconn 1" in status_text(app)
            await pilot.press("6")
            await pilot.pause()
            log = d.lower.tables["log"].text_lines
            assert "reconnected to wss://api.hyperliquid.xyz/ws" in log[-1]  # newest at the bottom
            assert any("WARN   connection lost" in line for line in log)

    async def test_live_shows_round_trip_then_silence(self, store: Store, clock: FakeClock) -> None:
        """A live socket shows its ping round trip; one that goes quiet says so at once."""
        app = build_app(FakeRuntime(settings(), store, clock))
        async with app.run_test(size=SIZE) as pilot:
            store.health.note_alive()
            store.health.note_rtt(23.4)
            await wait_for(pilot, lambda: status_text(app).startswith(" ● LIVE  ws 23 ms"))
            clock.advance(4.0)  # no frame, no pong: still "live" to the heartbeat
            await wait_for(pilot, lambda: status_text(app).startswith(" ● LIVE silent 4.0s"))
            store.health.note_alive()
            await wait_for(pilot, lambda: status_text(app).startswith(" ● LIVE  ws 23 ms"))

    async def test_server_text_with_escapes_is_drawn_inert(
        self, store: Store, clock: FakeClock
    ) -> None:
        """A server error text carrying ESC/BEL (say, a title-setting OSC) is shown with
        visible marks: the raw control characters never reach the terminal."""
        app = build_app(FakeRuntime(settings(), store, clock))
        async with app.run_test(size=SIZE) as pilot:
            store.apply(msg("error", "bad \x1b]0;pwned\x07 \x1b[2J end"))
            await pilot.press("6")
            table = app.dashboard.lower.tables["log"]
            await wait_for(pilot, lambda: any("pwned" in line for line in table.text_lines))
            drawn = "".join(
                seg.text for y in range(table.size.height) for seg in table.render_line(y)
            )
            assert "pwned" in drawn and "end" in drawn
            assert "\x1b" not in drawn and "\x07" not in drawn

    async def test_down_state_and_missing_feeds(self, clock: FakeClock) -> None:
        """A store that never got data: panels wait, the status line says DOWN."""
        store = Store(clock)
        store.health.set_connection(ConnState.DOWN, url="wss://x/ws", error="websocket disabled")
        store.expect("mids")
        app = build_app(FakeRuntime(settings(address=None), store, clock))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert status_text(app).startswith(" ✖ DOWN")
            assert "mids –" in status_text(app)
            assert "market data only" in app.dashboard.header.text_lines[0]
            assert "waiting for the BTC book" in "\n".join(app.dashboard.book.text_lines)
            await pilot.press("y")  # no address: a warning, not a crash
            await pilot.press("7")
            await pilot.pause()
            assert "pass --address" in "\n".join(app.dashboard.lower.active_table.text_lines)

    async def test_rest_mode_is_a_mode_not_an_outage(self, clock: FakeClock) -> None:
        """Websocket off by choice: ``⇄ REST`` with no error colour, each feed's age next to
        its planned poll interval; a stretched plan is said; STALE still shows past it."""
        store = Store(clock)
        store.health.set_connection(ConnState.REST, url="wss://x/ws")
        cadences = {"mids": 7.0, "book:BTC": 2.0}
        store.health.set_rest_plan(
            RestPlanView(cadences, 480.0, 600, ("mids",), (), "REST plan: 480/600 w/min")
        )
        for key in ("mids", "book:BTC"):
            store.expect(key)
        store.apply(msg("allMids", {"mids": {"BTC": "104400.5"}}), Source.REST)
        store.apply(msg("l2Book", {"coin": "BTC", "time": T0_MS, "levels": [[], []]}), Source.REST)
        app = build_app(FakeRuntime(settings(address=None), store, clock))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            text = status_text(app)
            assert text.startswith(" ⇄ REST plan stretched")
            assert "mids 0.0s/7.0s" in text and "book 0.0s/2.0s" in text
            assert "DOWN" not in text and "FALLBACK" not in text
            styles = {style for _, style in app.dashboard.status.rows[0]}
            assert "pane--bad" not in styles
            # Past its threshold (here the configured 15 s, more than 2.5 planned intervals)
            # without an answer the book is stale, in red; mids (2.5 x 7 s) not yet.
            clock.advance(16.0)
            await wait_for(pilot, lambda: "book 16s STALE" in status_text(app))
            assert "mids 16s/7.0s" in status_text(app)


class TestRenderCost:
    async def test_only_changed_panes_repaint(self, app: HlmonApp, store: Store) -> None:
        """A burst of trades touches the tape only; the watchlist and book repaint nothing."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause(0.3)
            wl, book = d.watchlist.lines_painted, d.book.lines_painted
            frames = d.frames
            for i in range(5000):
                store.apply(
                    msg("trades", [{"coin": "BTC", "side": "B" if i % 2 else "A",
                                    "px": f"{104400 + i % 20}.0", "sz": "0.01",
                                    "time": T0_MS + i, "tid": 10_000 + i}])
                )  # fmt: skip
            await wait_for(pilot, lambda: d.frames >= frames + 1)
            await pilot.pause(0.2)
            assert d.watchlist.lines_painted == wl
            assert d.book.lines_painted == book
            # the tape repainted at most its visible lines a few times, not 5000 times
            assert d.tape.lines_painted < 10 * d.tape.region.height

    async def test_an_unchanged_dex_line_repaints_nothing(self, app: HlmonApp) -> None:
        """The dex line under the positions, set again with the same markup every frame that
        refreshes the freshness, repaints nothing (Textual's getter gives back other markup)."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            refreshed: list[tuple[Region, ...]] = []
            refresh = d.positions.refresh

            def spy(*regions: Region, **kw: bool) -> object:
                refreshed.append(regions)
                return refresh(*regions, **kw)

            d.positions.refresh = spy  # type: ignore[method-assign,assignment]
            markup = "dexes: [b]main[/] 1.00 USDC"
            set_border_subtitle(d.positions, markup)
            assert (
                len(refreshed) == 1
                and d.positions.border_subtitle == "dexes: [b]main[/b] 1.00 USDC"
            )
            for _ in range(3):
                set_border_subtitle(d.positions, markup)
            assert len(refreshed) == 1
            set_border_subtitle(d.positions, "")
            assert len(refreshed) == 2

    async def test_a_new_title_repaints_the_border_line_only(
        self, app: HlmonApp, store: Store
    ) -> None:
        """The same book at a new exchange time: the title (which shows the time) is redrawn,
        the ladder is not."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            painted = d.book.lines_painted
            refreshed: list[tuple[Region, ...]] = []
            refresh = d.book.refresh

            def spy(*regions: Region, **kw: bool) -> object:
                refreshed.append(regions)
                return refresh(*regions, **kw)

            d.book.refresh = spy  # type: ignore[method-assign,assignment]
            store.apply(book_msg(t_ms=T0_MS + 5_300))
            await wait_for(pilot, lambda: "14:13:25.3" in str(d.book.border_title))
            await pilot.pause()
            assert d.book.lines_painted == painted
            # one line: the top border (not a whole-pane refresh, which has no region)
            assert [[r.height for r in regions] for regions in refreshed] == [[1]]
            width = d.book.outer_size.width
            top = d.book.render_lines(Region(0, 0, width, 1))[0].text
            assert "14:13:25.3" in top

    async def test_hidden_tabs_are_filled_when_shown(self, app: HlmonApp, store: Store) -> None:
        """New fills while the Orders tab is shown are not formatted until the Fills tab is;
        its name counts them at once all the same."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.press("2")
            await pilot.pause()
            fills = d.lower.tables["fills"]
            assert fills.row_count == 3
            await pilot.press("1")
            lines = list(fills.text_lines)
            store.apply(fills_msg_with(tid=9, ago=1))
            await wait_for(pilot, lambda: fills.row_count == 4)  # the count, for the tab name
            assert "fills" in d.tab_rows.stale
            assert fills.text_lines == lines  # hidden: no row formatted
            await wait_for(pilot, lambda: "2 Fills 4" in str(d.lower.border_title))
            await pilot.press("2")
            await pilot.pause()
            assert fills.row_count == 4 and fills.text_lines != lines

    async def test_state_pushes_refill_the_orders_only_when_they_change_them(
        self, app: HlmonApp, store: Store
    ) -> None:
        """A clearinghouse push (several a second under load) leaves the Orders tab's rows
        alone unless it changes what they show, and so does the same orders list pushed
        again (every few seconds); an orders change refills them."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            orders = d.lower.tables["orders"]
            assert orders.loaded and d.lower.active == "orders"
            filled: list[int] = []
            note_calls(orders, "set_data", lambda: filled.append(1))
            frames = d.frames
            store.apply(clearinghouse_msg(t_ms=T0_MS + 1000))
            await wait_for(pilot, lambda: d.frames > frames)
            assert filled == []
            frames = d.frames
            store.apply(orders_msg())  # the same list pushed again: nothing to refill
            await wait_for(pilot, lambda: d.frames > frames)
            assert filled == []
            store.apply(orders_msg(btc_sz="0.02"))
            await wait_for(pilot, lambda: filled == [1])

    async def test_idle_frames_repaint_nothing_but_ages(
        self, app: HlmonApp, clock: FakeClock
    ) -> None:
        """Frames with no data change (the age tick) repaint the bars, not the panes."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause(0.3)
            panes = (d.watchlist, d.book, d.tape, d.positions)
            before = {p.id: p.lines_painted for p in panes}
            bars = d.status.lines_painted + d.header.lines_painted
            for _ in range(6):
                clock.advance(0.5)
                d.refresh_frame()
                await pilot.pause()
            assert {p.id: p.lines_painted for p in panes} == before
            assert d.status.lines_painted + d.header.lines_painted > bars

    async def test_no_change_no_frame(self, app: HlmonApp, store: Store) -> None:
        """Nothing arrives and the clock stands still: no frame is painted; the first change
        after the quiet period is."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause(0.3)
            frames = d.frames
            await pilot.pause(0.4)
            assert d.frames <= frames + 1  # at most the once-a-second wake-up, never 12 fps
            frames = d.frames
            store.apply(msg("allMids", {"mids": {"BTC": "104499.5"}}))
            await wait_for(pilot, lambda: any("104,499.5" in x for x in d.watchlist.text_lines))
            assert d.frames == frames + 1

    async def test_wakes_when_the_next_feed_goes_stale(
        self, app: HlmonApp, store: Store, clock: FakeClock
    ) -> None:
        """Without any data the frame still comes when a feed passes its threshold (sooner
        than the next whole second here), so live -> stale is never late."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            soonest = store.next_state_change()
            assert soonest is not None
            clock.advance(soonest - clock() - 0.4)  # the next feed goes stale in 0.4 s
            # (and no price move held back for later: that would wake the screen sooner)
            d.paint.monotonic = FakeClock(time.monotonic() + 10)
            d.refresh_frame()
            schedule = d.schedule
            assert schedule is not None and schedule.deadline is not None
            wake_in = schedule.deadline - asyncio.get_running_loop().time()
            assert 0.3 < wake_in <= 0.41


class TestErrors:
    async def test_backend_start_failure_is_shown(self, store: Store, clock: FakeClock) -> None:
        """A backend that fails to start is logged and notified, and the app keeps running."""
        runtime = FakeRuntime(settings(), store, clock, fail_start=RuntimeError("boom"))
        app = build_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: any("boom" in e.text for e in store.health.events))
            assert any(n.severity == "error" and "boom" in n.message for n in app._notifications)
            assert app.is_running

    async def test_refusal_is_shown(self, store: Store, clock: FakeClock) -> None:
        """The backend refusing a coin name becomes a notification, not a crash."""
        runtime = FakeRuntime(settings(watchlist=("BTC", " BAD")), store, clock)
        app = build_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: runtime.started)
            await pilot.press("down")
            await wait_for(
                pilot, lambda: any("without spaces" in e.text for e in store.health.events)
            )
            assert runtime.named("select_coin") == [("BTC",)]
            assert any(n.severity == "error" for n in app._notifications)
            assert app.is_running

    async def test_choices_before_the_backend_started_are_replayed(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Keys pressed while the backend starts reach it, in order, once it has."""
        gate = asyncio.Event()

        class SlowRuntime(FakeRuntime):
            async def __aenter__(self) -> FakeRuntime:
                await gate.wait()
                return await super().__aenter__()

        runtime = SlowRuntime(settings(), store, clock)
        app = build_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down", "f")
            await pilot.pause()
            assert runtime.calls == [] and app.dashboard.watchlist.selected == "ETH"
            gate.set()
            await wait_for(pilot, lambda: runtime.started)
            assert [c for c in runtime.calls if c[0] != "start"][:2] == [
                ("select_coin", ("ETH",)),
                ("set_book_mode", (True, None)),
            ]
            assert runtime.named("select_coin")[-1] == ("ETH",)


async def test_no_color_runs(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """NO_COLOR: Textual renders monochrome; stale panes still say STALE in their titles."""
    monkeypatch.setenv("NO_COLOR", "1")
    store = populated_store(clock)
    app = build_app(FakeRuntime(settings(), store, clock))
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        clock.advance(30)
        await wait_for(pilot, lambda: "STALE" in str(app.dashboard.book.border_title))
