"""Derived numbers against hand-computed values, as exact decimal strings."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hlmon.state import MarkSource, Source, Store, fmt_dec

from .conftest import FakeClock, clearinghouse, msg, position


def ctx(mark: str) -> dict[str, str]:
    return {"funding": "0.0", "openInterest": "1.0", "prevDayPx": "1.0", "dayNtlVlm": "1.0",
            "oraclePx": mark, "markPx": mark}  # fmt: skip


BTC_LONG = position("BTC", "0.4", "102110.0", value="40844.0", upnl="920.0", roe="0.45",
                    liq="81020.5", lev=20)  # fmt: skip
ETH_SHORT = position("ETH", "-2.0", "3735.3", value="7376.4", upnl="94.0", roe="0.126",
                     liq="4190.0", lev=10, lev_type="isolated")  # fmt: skip
SOL_BARE = position("SOL", "10", "200.0", value="2015.5", upnl="15.5", roe="0.0775", lev=5)


class TestPositions:
    def test_mark_sources_and_live_numbers(self, store: Store) -> None:
        """BTC marks from ctx, ETH from the mid, SOL from positionValue / |szi|.

        BTC: uPnL 0.4 * (104413.0 - 102110.0) = 921.2;
             ROE 921.2 / (0.4 * 102110.0 / 20) = 921.2 / 2042.2 = 45.1082...% -> 45.11;
             liq distance |104413.0 - 81020.5| / 104413.0 = 23392.5 / 104413 = 22.4038...% -> 22.40.
        ETH: uPnL -2.0 * (3688.2 - 3735.3) = 94.2;
             ROE 94.2 / (2.0 * 3735.3 / 10) = 94.2 / 747.06 = 12.6094...% -> 12.61;
             liq distance 501.8 / 3688.2 = 13.6055...% -> 13.61.
        SOL: mark 2015.5 / 10 = 201.55; uPnL 10 * 1.55 = 15.5; ROE 15.5 / (2000 / 5) = 3.875%
             -> 3.88 (half-up); no liquidation price -> no distance.
        """
        store.apply(clearinghouse([BTC_LONG, ETH_SHORT, SOL_BARE]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"BTC": "1.0", "ETH": "3688.2"}}))
        btc, eth, sol = store.positions()

        assert (btc.coin, btc.side, btc.szi, btc.size) == ("BTC", "LONG", "0.4", "0.4")
        assert btc.mark_px == "104413.0"  # ctx wins over the mid
        assert btc.live_upnl == "921.2"
        assert btc.live_roe_pct == "45.11"
        assert btc.liq_distance_pct == "22.40"
        assert btc.unrealized_pnl == "920.0" and btc.return_on_equity == "0.45"  # untouched
        assert (btc.leverage_type, btc.leverage_value) == ("cross", 20)

        assert (eth.side, eth.szi, eth.size) == ("SHORT", "-2.0", "2.0")
        assert eth.mark_px == "3688.2"
        assert eth.live_upnl == "94.2"
        assert eth.live_roe_pct == "12.61"
        assert eth.liq_distance_pct == "13.61"
        assert eth.leverage_type == "isolated"

        assert sol.mark_px == "201.55"
        assert sol.live_upnl == "15.5"
        assert sol.live_roe_pct == "3.88"
        assert sol.liquidation_px is None and sol.liq_distance_pct is None

    def test_recorded_clearinghouse_sample(self, store: Store) -> None:
        """The protocol notes' BTC position: szi 0.00061, entry 82771.8, value 47.66235, 20x.

        Implied mark 47.66235 / 0.00061 = 78135 (exact). With no fresher mark than the push's
        own, uPnL and ROE are the exchange's: -2.82848 and -1.1203935447 -> -112.04 % (from
        the implied mark they would be 0.00061 * (78135 - 82771.8) = -2.828448, ROE
        -112.036...%: rounding noise, not news).
        """
        p = position("BTC", "0.00061", "82771.8", value="47.66235", upnl="-2.82848",
                     roe="-1.1203935447", lev=20)  # fmt: skip
        store.apply(clearinghouse([p], maint="0.595779", value="179.007426"))
        (v,) = store.positions()
        assert v.mark_px == "78135" and v.mark_source is MarkSource.ACCOUNT
        assert v.live_upnl == "-2.82848"
        assert v.live_roe_pct == "-112.04"
        s = store.account_summary()
        assert s is not None
        # 0.595779 / 179.007426 = 0.0033282...% of 100 -> 0.33
        assert s.margin_ratio_pct == "0.33"
        assert s.total_upnl == "-2.82848"

    def test_marks_follow_the_latest_ctx(self, store: Store) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        assert store.positions()[0].live_upnl == "921.2"
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("102000.0")}))
        # 0.4 * (102000.0 - 102110.0) = -44
        assert store.positions()[0].live_upnl == "-44"
        assert store.positions()[0].live_roe_pct == "-2.15"  # -880 / 40844 = -2.1545...%

    def test_no_entry_price_falls_back_to_exchange_upnl(self, store: Store) -> None:
        store.apply(clearinghouse([position("BTC", "0.1", None, value="10.0", upnl="1.5")]))
        (v,) = store.positions()
        assert v.live_upnl == "1.5" and v.live_roe_pct is None

    def test_hip3_positions_listed_after_default_dex(self, store: Store) -> None:
        store.apply(clearinghouse([position("xyz:AAPL", "1", "200", value="201")], dex="xyz"))
        store.apply(clearinghouse([BTC_LONG]))
        assert [p.coin for p in store.positions()] == ["BTC", "xyz:AAPL"]
        s = store.account_summary()
        assert s is not None and s.total_upnl == "920"  # default dex only


class TestAccountSummary:
    def test_margin_ratio_and_passthrough(self, store: Store, clock: FakeClock) -> None:
        """2202.78 / 18204.77 = 12.1000...% -> 12.10."""
        store.apply(clearinghouse([BTC_LONG, ETH_SHORT]), Source.REST)
        s = store.account_summary()
        assert s is not None
        assert s.margin_ratio_pct == "12.10"
        assert s.total_upnl == "1014"  # 920.0 + 94.0
        assert (s.account_value, s.withdrawable) == ("18204.77", "14870.02")
        assert (s.total_margin_used, s.total_ntl_pos) == ("2200.0", "44930.0")
        assert s.cross_maintenance_margin_used == "2202.78"
        assert s.source is Source.REST and s.received_at == clock.now

    def test_zero_account_value(self, store: Store) -> None:
        store.apply(clearinghouse([], maint="0.0", value="0.0"))
        s = store.account_summary()
        assert s is not None and s.margin_ratio_pct is None and s.total_upnl == "0"

    def test_summary_follows_new_pushes(self, store: Store) -> None:
        store.apply(clearinghouse([], value="100.0", maint="1.0"))
        first = store.account_summary()
        store.apply(clearinghouse([], value="200.0", maint="1.0"))
        second = store.account_summary()
        assert first is not None and second is not None
        assert (first.margin_ratio_pct, second.margin_ratio_pct) == ("1.00", "0.50")


class TestMarkFreshness:
    """H1: a frozen ctx markPx must not hide a moving market."""

    def test_stale_ctx_gives_way_to_the_mid(self, store: Store, clock: FakeClock) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"BTC": "104000.0"}}))
        (v,) = store.positions()
        assert (v.mark_px, v.mark_feed) == ("104413.0", "ctx:BTC")
        clock.advance(6.0)  # ctx threshold 5 s; mids (15 s) still fresh, no push in between
        (v,) = store.positions()
        assert (v.mark_px, v.mark_feed) == ("104000.0", "mids")
        assert v.live_upnl == "756"  # 0.4 * (104000.0 - 102110.0)

    def test_all_marks_stale_falls_back_to_the_clearinghouse(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"BTC": "104000.0"}}))
        clock.advance(20.0)
        store.apply(clearinghouse([BTC_LONG]))  # fresh account, stale ctx and mids
        (v,) = store.positions()
        assert (v.mark_px, v.mark_feed) == ("102110", None)  # 40844.0 / 0.4

    def test_forget_ctx(self, store: Store) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.positions()
        store.forget_ctx("BTC")
        assert store.ctx("BTC") is None and store.stamp("ctx:BTC") is None
        (v,) = store.positions()
        assert v.mark_feed is None and v.mark_px == "102110"


class TestLiqDistanceSign:
    """L1: the distance is signed; negative once the mark is past the liquidation price."""

    def test_long_and_short_on_both_sides(self, store: Store) -> None:
        long_ = position("BTC", "1", "100", value="91", liq="90", lev=10)
        short = position("ETH", "-1", "100", value="109", liq="110", lev=10)
        store.apply(clearinghouse([long_, short]))
        store.apply(msg("allMids", {"mids": {"BTC": "91", "ETH": "109"}}))
        assert [p.liq_distance_pct for p in store.positions()] == ["1.10", "0.92"]
        store.apply(msg("allMids", {"mids": {"BTC": "89", "ETH": "111"}}))  # both past liq
        assert [p.liq_distance_pct for p in store.positions()] == ["-1.12", "-0.90"]


class TestTotalsFollowTheRows:
    """The header's uPnL and equity come from the same marks as the rows, read in one frame."""

    def test_upnl_is_the_sum_of_the_rows_and_equity_moves_with_it(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.apply(clearinghouse([BTC_LONG, ETH_SHORT]))  # exchange: 920.0 + 94.0, 18204.77
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"ETH": "3700.3"}}))
        rows = store.positions()
        s = store.account_summary()
        assert s is not None
        # BTC 0.4 * (104413.0 - 102110.0) = 921.2; ETH -2 * (3700.3 - 3735.3) = 70
        assert [r.live_upnl for r in rows] == ["921.2", "70"]
        assert s.total_upnl == "991.2"
        # 18204.77 + (991.2 - 1014.0) = 18181.97
        assert s.account_value == "18181.97"
        assert (s.exchange_upnl, s.exchange_account_value) == ("1014", "18204.77")
        # A new mark moves rows and totals together.
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104000.0")}))
        rows, s2 = store.positions(), store.account_summary()
        assert s2 is not None and rows[0].live_upnl == "756"
        assert s2.total_upnl == "826" and s2.account_value == "18016.77"

    def test_marks_say_where_they_came_from(self, store: Store, clock: FakeClock) -> None:
        store.apply(clearinghouse([BTC_LONG, ETH_SHORT, SOL_BARE]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"ETH": "3688.2"}}))
        btc, eth, sol = store.positions()
        assert (btc.mark_source, eth.mark_source, sol.mark_source) == (
            MarkSource.MARK,
            MarkSource.MID,
            MarkSource.ACCOUNT,
        )
        # The context goes stale: the mid takes over, and the totals follow.
        store.apply(msg("allMids", {"mids": {"BTC": "104300.0", "ETH": "3688.2"}}))
        clock.advance(6)
        btc = store.positions()[0]
        assert (btc.mark_source, btc.mark_px) == (MarkSource.MID, "104300.0")
        s = store.account_summary()
        assert s is not None
        assert s.total_upnl == _sum(r.live_upnl for r in store.positions())

    def test_without_fresher_marks_the_totals_are_the_exchanges(self, store: Store) -> None:
        store.apply(clearinghouse([BTC_LONG, ETH_SHORT]))
        s = store.account_summary()
        assert s is not None and (s.total_upnl, s.account_value) == ("1014", "18204.77")


def _sum(values: Iterable[str]) -> str:
    return fmt_dec(sum((Decimal(v) for v in values), Decimal(0)))


class TestOneMoment:
    """A UI frame reads positions, their totals and the dex summaries many times: inside
    ``one_moment`` the marks' freshness is judged once; outside, at every read."""

    def test_inside_a_moment_the_marks_are_judged_once(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx("104413.0")}))
        store.apply(msg("allMids", {"mids": {"BTC": "104000.0"}}))
        with store.one_moment():
            (v,) = store.positions()
            assert v.mark_feed == "ctx:BTC"
            clock.advance(6.0)  # the ctx goes stale mid-frame: the frame keeps one picture
            (v,) = store.positions()
            assert v.mark_feed == "ctx:BTC"
        (v,) = store.positions()  # the next read (the next frame) judges again
        assert (v.mark_px, v.mark_feed) == ("104000.0", "mids")

    def test_a_write_inside_a_moment_is_not_hidden(self, store: Store) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        with store.one_moment():
            assert [p.coin for p in store.positions()] == ["BTC"]
            store.apply(clearinghouse([BTC_LONG, ETH_SHORT]))
            assert [p.coin for p in store.positions()] == ["BTC", "ETH"]

    def test_dex_summaries_are_built_again_only_after_a_change(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.apply(clearinghouse([BTC_LONG]))
        store.apply(msg("allMids", {"mids": {"BTC": "104000.0"}}))
        first = store.dex_summaries()
        assert store.dex_summaries() is first  # nothing moved: the same answer
        store.apply(msg("allMids", {"mids": {"BTC": "105000.0"}}))  # a new mark
        second = store.dex_summaries()
        assert second is not first and second[0].live_upnl == "1156"  # 0.4 * (105000-102110)
        store.apply(clearinghouse([BTC_LONG, SOL_BARE]))  # a new state (same values or not)
        assert store.dex_summaries() is not second
        clock.advance(20.0)  # the mids go stale: the rows fall back to the account's marks
        assert store.dex_summaries()[0].live_upnl == "935.5"  # 920.0 + 15.5
