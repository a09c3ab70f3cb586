"""Issue #13 ("truth on screen") without pictures: the rules behind the snapshots, and the
cues a pilot can check: rows hidden below a pane's edge are counted, the log scrolls and shows
a line whole, a panel waits before it calls itself empty, the book's spread never comes from
aggregated buckets, and toasts stay off the status line."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hlmon.protocol.messages import FrontendOrder
from hlmon.state import ConnState, RestPlanView, Source, Store
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.fmt import fmt_column, fmt_compact, fmt_px, fmt_size
from hlmon.ui.screens.detail import RowDetailScreen
from hlmon.ui.widgets.account import order_rows, position_rows, trigger_text
from hlmon.ui.widgets.lines import Column, content_widths, fit_columns
from hlmon.ui.widgets.table import DETAIL
from tests.fakes import FakeRuntime

from .helpers import (
    T0,
    T0_MS,
    USER,
    FakeClock,
    frontend_order,
    msg,
    populated_store,
    settings,
    trigger_orders_msg,
)
from .helpers import pilot_wait as wait_for


def order(**kw: Any) -> FrontendOrder:
    data = frontend_order(kw.pop("oid", 1), kw.pop("coin", "ETH"), kw.pop("side", "B"),
                          kw.pop("limit", "4190.3"), kw.pop("sz", "2.0"), **kw)  # fmt: skip
    return msg("openOrders", {"user": USER, "orders": [data]}).data.orders[0]  # type: ignore[union-attr]


def text(rows: list[dict[str, Any]], key: str) -> list[str]:
    return [r[key][0] if key in r else "" for r in rows]


class TestNumbers:
    def test_one_rule_for_abbreviations(self) -> None:
        """Two decimals below 10 of the unit, one above; rounding moves to the next unit."""
        assert [fmt_compact(v) for v in (1_404_000, 950_842, 9_996, 999_960, 3.041e9)] == [
            "1.40M", "950.8K", "10.0K", "1.00M", "3.04B",
        ]  # fmt: skip
        assert fmt_compact("0.79135", 5) == "0.79135"  # below 1,000: the amount itself

    def test_a_column_abbreviates_all_its_large_amounts_or_none(self) -> None:
        """The book's total column never mixes ``1.4M`` and ``950,842.0``."""
        fits = fmt_column(["12.5", "950842.0"], 1, 9)
        assert fits == ["12.5", "950,842.0"]
        mixed = fmt_column(["12.5", "950842.0", "1404000.0"], 1, 9)
        assert mixed == ["12.5", "950.8K", "1.40M"]

    def test_integers_and_trailing_zeros(self) -> None:
        assert fmt_px("101900.0") == "101,900"  # BTC's tick is a whole dollar there
        assert fmt_px("104412.5") == "104,412.5"  # a mid half a tick between prices
        assert fmt_px("3587.4") == "3,587.4"
        assert fmt_size("400.0") == "400" and fmt_size("0.50") == "0.5"


class TestColumns:
    COLS = (
        Column("coin", "coin", 4, "left", priority=100),
        Column("px", "price", 5, priority=90),
        Column("flags", "", 0, "left", priority=60, alt="flags_short"),
        Column("oid", "oid", 3, priority=40),
        Column("note", "note", 6, "left", priority=10, cut=True),
    )
    ROWS = [
        {"coin": ("xyz:TSLA", ""), "px": ("188.20", ""), "flags": ("reduce only", ""),
         "flags_short": ("RO", ""), "oid": ("4100000101", ""),
         "note": ("a long free-text note", "")},
        {"coin": ("xyz:TSLL", ""), "px": ("14.120", ""), "oid": ("4100000102", "")},
    ]  # fmt: skip

    def fit(self, width: int) -> dict[str, int]:
        cols = fit_columns(self.COLS, width, content=content_widths(self.ROWS))
        return {c.key: c.width for c in cols}

    def test_nothing_is_cut_while_there_is_room(self) -> None:
        assert self.fit(200) == {"coin": 8, "px": 6, "flags": 11, "oid": 10, "note": 21}

    def test_narrow_panes_shrink_free_text_then_shorten_then_drop(self) -> None:
        # free text first, down to its declared width
        assert self.fit(49)["note"] == 10
        # then the least important column: the note goes, then flags take their short form
        assert self.fit(38) == {"coin": 8, "px": 6, "flags": 11, "oid": 10}
        assert self.fit(33) == {"coin": 8, "px": 6, "flags": 11}
        assert self.fit(26) == {"coin": 8, "px": 6, "flags_short": 2}
        # names are never cut: whole columns go instead
        assert self.fit(17) == {"coin": 8, "px": 6}
        assert self.fit(9) == {"coin": 8}

    def test_a_column_empty_in_every_row_takes_no_room(self) -> None:
        rows = [{"coin": ("BTC", ""), "px": ("1", "")}]
        cols = fit_columns(self.COLS, 80, content=content_widths(rows))
        assert [c.key for c in cols] == ["coin", "px"]


class TestOrders:
    def test_trigger_condition_and_price(self) -> None:
        """The trigger (3,587.4), not the slippage limit (3,228.7), is what a stop waits for."""
        stop = order(kind="Stop Market", trigger="3587.4", condition="Price below 3587.4")
        assert trigger_text(stop) == "below 3,587.4"
        tp = order(kind="Take Profit Market", trigger="3809.4", condition="Price above 3809.4")
        assert trigger_text(tp) == "above 3,809.4"
        fired = order(kind="Stop Limit", trigger="101900.0", condition="Triggered")
        assert trigger_text(fired) == "triggered 101,900"
        assert trigger_text(order()) == ""
        odd = order(kind="Stop Market", trigger="1.5", condition="Mark crosses 1.5")
        assert trigger_text(odd) == "Mark crosses 1.5 (1.5000)"  # as written, not guessed

    def test_rows_carry_type_trigger_limit_and_marks(self) -> None:
        orders = trigger_orders_msg().data.orders  # type: ignore[union-attr]
        rows, keys = order_rows(orders, T0)
        first = rows[0]
        assert first["type"][0] == "Stop Market" and first["trigger"][0] == "above 3,809.4"
        assert first["px"][0] == "4,190.3" and first["tpsl"][0] == "SL"
        assert first["flags"][0] == "position, reduce only"
        # the SOL entry's legs come right under it, once each (they are also listed alone)
        i = keys.index(4000000860)
        assert keys[i + 1 : i + 3] == [4000000861, 4000000862]
        assert rows[i + 1]["type"][0] == "└ Take Profit Limit"
        assert len(keys) == len(set(keys)) == 9

    def test_tpsl_under_the_position_it_protects(self) -> None:
        store = populated_store(FakeClock())
        store.apply(trigger_orders_msg())
        rows, _ = position_rows(store.positions(), store.open_orders())
        by_coin = {r["coin"][0]: r for r in rows}
        assert by_coin["ETH"][DETAIL][0] == "  └ TP 3,587.4 / SL 3,809.4"
        assert by_coin["BTC"]["tpsl"][0] == "SL 101,900 triggered"
        # SOL's legs wait for their entry order: they protect nothing yet; HYPE has none
        assert DETAIL not in by_coin["HYPE"]


def app_on(store: Store, clock: FakeClock) -> HlmonApp:
    return build_app(FakeRuntime(settings(), store, clock))


class TestCues:
    async def test_hidden_orders_are_counted_and_scrolled_to(self) -> None:
        clock = FakeClock()
        store = populated_store(clock)
        store.apply(trigger_orders_msg())
        app = app_on(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            orders = app.dashboard.lower.tables["orders"]
            await wait_for(pilot, lambda: orders.hidden_rows > 0)
            assert orders.text_lines[-1].startswith(" ▼ 7 more · 9 orders · tab: scroll")
            assert "1 Orders 9" in str(app.dashboard.lower.border_title)
            await pilot.press("tab")  # the cursor shows as soon as the table has the focus
            await wait_for(pilot, lambda: orders.text_lines[1].startswith("▶ETH  Buy  Stop"))
            assert "tab: scroll" not in orders.text_lines[-1]
            await pilot.press("end")  # the oldest order, the ETH take profit
            await wait_for(pilot, lambda: orders.selected_key == 4000000957)
            assert orders.text_lines[-2].startswith("▶ETH  Buy  Take Profit Market")
            assert orders.text_lines[-1].startswith(" ▲ 7 above · 9 orders")
            app.dashboard.set_focus(None)  # and hides when it leaves
            await wait_for(pilot, lambda: not any(s.startswith("▶") for s in orders.text_lines))

    async def test_log_scrolls_follows_and_shows_a_line_whole(self) -> None:
        clock = FakeClock()
        store = populated_store(clock)
        long = "reconnected after 42 s without data: " + "detail " * 40 + "END"
        for i in range(30):
            store.health.log(long if i == 5 else f"event {i}")
        app = app_on(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            log = app.dashboard.lower.tables["log"]
            await pilot.press("6", "tab")
            await wait_for(pilot, lambda: log.has_focus)
            assert "event 29" in log.text_lines[-2] and "above" in log.text_lines[-1]
            store.health.log("event 30")  # the tail follows new lines
            await wait_for(pilot, lambda: "event 30" in "\n".join(log.text_lines))
            await pilot.press("home")  # up to the oldest: new lines no longer move the view
            await wait_for(pilot, lambda: log.selected_key == 0)
            store.health.log("event 31")
            await wait_for(pilot, lambda: "event 31" in log.row_text(log.row_count - 1))
            assert "event 31" not in "\n".join(log.text_lines)
            index = next(i for i, e in enumerate(store.health.events) if e.text == long)
            await pilot.press(*["down"] * index)
            await wait_for(pilot, lambda: log.selected_key == index)
            assert any("detail detail" in line and "…" in line for line in log.text_lines)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RowDetailScreen))
            assert isinstance(app.screen, RowDetailScreen) and app.screen.text.endswith("END")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard)

    async def test_a_log_line_wider_than_the_pane_goes_on_below_not_cut(self) -> None:
        """At 80 columns a REST plan line (~100 characters) is read whole over two lines,
        the time and level said once; a very long one takes three and ends in ``…``."""
        clock = FakeClock()
        store = populated_store(clock)
        plan = (
            "REST plan: 480/600 w/min (120 reserved); book BTC every 2 s; account every"
            " 6.2 s (stretched) END"
        )
        store.health.log(plan, level="warn")
        store.health.log("reconnected after 42 s without data: " + "detail " * 40 + "END")
        store.health.log("the event after")
        app = app_on(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            log = app.dashboard.lower.tables["log"]
            await pilot.press("6", "tab", "z")  # the log, maximised
            await wait_for(pilot, lambda: any("REST plan" in line for line in log.text_lines))
            lines = log.text_lines
            first = next(i for i, line in enumerate(lines) if "REST plan" in line)
            assert "WARN" in lines[first] and "…" not in lines[first]
            assert "(stretched) END" in lines[first + 1]  # the rest of it, on the next line
            assert lines[first + 1][:14].strip() == ""  # no time or level of its own
            start = next(i for i, line in enumerate(lines) if "reconnected after" in line)
            assert "detail" in lines[start + 2] and lines[start + 2].rstrip().endswith("…")
            assert "the event after" in lines[start + 3]  # three lines at most

    async def test_a_maximised_log_has_no_blank_line_above_its_cue(self) -> None:
        """Two-line events in a maximised log: at one of two heights the room left above the
        newest events is one line. The event there shows its first line, cut with ``…``,
        not a blank line."""
        left_over: list[bool] = []
        bottom_cut: list[bool] = []
        for height in (24, 25):
            clock = FakeClock()
            store = populated_store(clock)
            for i in range(30):
                store.health.log(f"event {i:02d} " + "word " * 16 + "END")
            app = app_on(store, clock)
            async with app.run_test(size=(80, height)) as pilot:
                log = app.dashboard.lower.tables["log"]
                await pilot.press("6", "tab", "z")
                await wait_for(pilot, lambda: any("event 29" in s for s in log.text_lines))  # noqa: B023
                lines = log.text_lines
                assert "above" in lines[-1]  # the cue
                assert all(line.strip() for line in lines[:-1]), (height, lines)
                firsts = [i for i, line in enumerate(lines) if re.search(r"event \d\d", line)]
                cut = [i for i in firsts if lines[i].rstrip().endswith("…")]
                assert cut in ([], [firsts[0]]) and firsts[0] == 1  # only the top one is cut
                assert sum("END" in line for line in lines) == len(firsts) - len(cut)
                left_over.append(bool(cut))
                # The wheel moves whole rows, a partly shown one not counted as shown.
                top = log._top
                log.scroll_rows(-3)
                assert log._top == top - 3, (height, top, log._top)
                # At the oldest events the room left is at the bottom: the same, below.
                log.action_cursor(-len(log._data))
                await pilot.pause()
                lines = log.text_lines
                assert "more" in lines[-1] and all(line.strip() for line in lines[:-1]), lines
                bottom_cut.append(lines[-2].rstrip().endswith("…") and "END" not in lines[-2])
        assert left_over == [False, True] or left_over == [True, False]  # one height each
        assert sorted(bottom_cut) == [False, True]


class TestWaiting:
    async def test_positions_wait_then_show_then_say_empty(self) -> None:
        clock = FakeClock()
        store = populated_store(clock, account=False)
        app = app_on(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            d = app.dashboard
            await pilot.pause()
            assert "waiting for account…" in d.positions.text_lines[1]
            assert "waiting for orders…" in d.lower.tables["orders"].text_lines[1]
            assert "waiting for account…" in d.header.text_lines[0]
            store.apply(msg("openOrders", {"user": USER, "orders": []}))
            d.refresh_frame()  # the frame that takes the orders in
            await pilot.pause()
            # orders arrived, the account has not: positions still wait, never "no open...";
            # so do the orders: the state may show a HIP-3 dex whose orders are not in yet.
            assert "waiting for account…" in d.positions.text_lines[1]
            assert "waiting for orders…" in d.lower.tables["orders"].text_lines[1]
            flat = {"marginSummary": {"accountValue": "10.0", "totalNtlPos": "0.0",
                                      "totalRawUsd": "10.0", "totalMarginUsed": "0.0"},
                    "withdrawable": "10.0", "assetPositions": [], "time": T0_MS}  # fmt: skip
            flat["crossMarginSummary"] = flat["marginSummary"]
            flat["crossMaintenanceMarginUsed"] = "0.0"
            store.apply(msg("clearinghouseState", {"user": USER, "clearinghouseState": flat}))
            await wait_for(pilot, lambda: "no open positions" in d.positions.text_lines[1])
            await wait_for(
                pilot, lambda: "no open orders" in d.lower.tables["orders"].text_lines[1]
            )

    async def test_watchlist_cells_wait_for_their_feed(self) -> None:
        clock = FakeClock()
        store = populated_store(clock)
        app = build_app(FakeRuntime(settings(watchlist=("BTC", "NEWCOIN")), store, clock))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            line = next(s for s in app.dashboard.watchlist.text_lines if "NEWCOIN" in s)
            assert line.split()[1:6] == ["…"] * 5 and "–" not in line


class TestBookSpread:
    async def test_aggregated_book_takes_spread_from_bbo_or_says_agg(self) -> None:
        """Buckets of 1,000 must not make a 1,000 spread: the bbo says 1."""
        clock = FakeClock()
        store = populated_store(clock)
        app = app_on(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            book = app.dashboard.book
            book.set_mode(False, 3)
            bucketed = {"coin": "BTC", "time": T0_MS,
                        "levels": [[{"px": "104000.0", "sz": "9.5", "n": 40}],
                                   [{"px": "105000.0", "sz": "8.1", "n": 33}]]}  # fmt: skip
            store.apply(msg("l2Book", bucketed))
            await wait_for(pilot, lambda: "104,000" in "\n".join(book.text_lines))
            lines = "\n".join(book.text_lines)
            assert "spread 1 (0.10 bps)   mid 104,412.5  bbo" in lines
            assert "1,000" not in lines
            store.apply(msg("l2Book", {**bucketed, "time": T0_MS + 60_000}))  # bbo now old
            await wait_for(pilot, lambda: "agg" in "\n".join(book.text_lines))
            assert "spread –  mid –  (agg: no live bbo)" in "\n".join(book.text_lines)

    async def test_rest_bbo_is_used_only_while_rest_polls_it(self) -> None:
        """REST mode: a bbo comes only with a full-precision book poll. Once the poll is
        aggregated (``g``) the last one is frozen, young as it is: the line says ``agg``
        instead of a spread nobody is keeping up."""
        clock = FakeClock()
        store = populated_store(clock)
        store.health.set_connection(ConnState.REST, url="wss://x/ws")
        rest_bbo = {"coin": "BTC", "time": T0_MS,
                    "bbo": [{"px": "104412.0", "sz": "0.8", "n": 2},
                            {"px": "104413.0", "sz": "1.1", "n": 3}]}  # fmt: skip
        store.apply(msg("bbo", rest_bbo), Source.REST)
        plan = ({"book:BTC": 2.0}, 100.0, 600, (), (), "REST plan")
        store.health.set_rest_plan(RestPlanView(*plan))  # the aggregated book only
        app = app_on(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            book = app.dashboard.book
            book.set_mode(False, 3)
            bucketed = {"coin": "BTC", "time": T0_MS + 1_000,
                        "levels": [[{"px": "104000.0", "sz": "9.5", "n": 40}],
                                   [{"px": "105000.0", "sz": "8.1", "n": 33}]]}  # fmt: skip
            store.apply(msg("l2Book", bucketed), Source.REST)
            await wait_for(pilot, lambda: "104,000" in "\n".join(book.text_lines))
            assert "spread –  mid –  (agg: no live bbo)" in "\n".join(book.text_lines)
            # A plan that polls the bbo too (a full-precision book): the same bbo is used.
            store.health.set_rest_plan(RestPlanView({"book:BTC": 2.0, "bbo:BTC": 2.0}, *plan[1:]))
            store.apply(msg("l2Book", {**bucketed, "time": T0_MS + 2_000}), Source.REST)
            await wait_for(pilot, lambda: "mid 104,412.5" in "\n".join(book.text_lines))
            assert "spread 1 (0.10 bps)   mid 104,412.5  bbo" in "\n".join(book.text_lines)


class TestLabelsAndToasts:
    async def test_header_says_what_the_margin_figures_are(
        self, store: Store, clock: FakeClock
    ) -> None:
        # No catalog: the ``app`` fixture's lists HIP-3 dexes whose states never arrive here,
        # and once a frame has drawn it the header rightly says equity "+?" and maint "…".
        app = build_app(FakeRuntime(settings(), store, clock))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            header = app.dashboard.header.text_lines[0]
            # 2,202.78 / 18,204.77 = 12.1 %. The maintenance ratio waits (`maint …`) until the
            # account's mode is known: in a unified account it is not this pool's figure.
            assert "margin 2,202.78 (12.1% of equity)  maint " in header

    @pytest.mark.parametrize("size", [(120, 40), (80, 24)])
    async def test_toasts_stay_above_the_status_line(self, app: HlmonApp, size: Any) -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            app.notify("BTC crossed 105,000", timeout=30)
            await wait_for(pilot, lambda: bool(app.screen.query("Toast")))
            await pilot.pause()
            toast = app.screen.query_one("Toast")
            status = app.dashboard.status
            assert toast.region.bottom <= status.region.y
