"""Market data: mids, books, BBOs, trade tapes, contexts, candles, mid history."""

from __future__ import annotations

from typing import Any

from hlmon.state import Source, Store

from .conftest import FakeClock, msg, trade


def book(
    coin: str = "BTC", time: int = 1, bid: str = "100.0", ask: str = "101.0"
) -> dict[str, Any]:
    return {
        "coin": coin,
        "time": time,
        "levels": [[{"px": bid, "sz": "1.0", "n": 1}], [{"px": ask, "sz": "2.0", "n": 3}]],
    }


class TestMids:
    def test_stored_as_is_and_stamped(self, store: Store, clock: FakeClock) -> None:
        """allMids is kept without copying; the feed is stamped with time and source."""
        m = msg("allMids", {"mids": {"BTC": "104412.5", "ETH": "3688.2"}})
        store.apply(m)
        assert store._market.mids_by_dex[""] is m.data.mids  # type: ignore[union-attr]
        assert dict(store.mids) == m.data.mids  # type: ignore[union-attr]
        assert store.mid("BTC") == "104412.5"
        assert store.mid("DOGE") is None
        assert store.take_changes() == {"mids"}
        st = store.stamp("mids")
        assert st is not None and st.received_at == clock.now and st.source is Source.WS


class TestBookAndBbo:
    def test_book_replaced_per_coin(self, store: Store) -> None:
        store.apply(msg("l2Book", book("BTC", time=5)))
        store.apply(msg("l2Book", book("ETH", time=5)))
        store.apply(msg("l2Book", book("BTC", time=6, bid="99.0")))
        b = store.book("BTC")
        assert b is not None and b.time == 6 and b.levels[0][0].px == "99.0"
        assert store.book("SOL") is None
        assert store.take_changes() == {"book:BTC", "book:ETH"}
        st = store.stamp("book:BTC")
        assert st is not None and st.exchange_time == 6

    def test_bbo_with_empty_side(self, store: Store) -> None:
        store.apply(msg("bbo", {"coin": "MATIC", "time": 9, "bbo": [None, None]}))
        b = store.bbo("MATIC")
        assert b is not None and b.bbo == (None, None)
        assert store.take_changes() == {"bbo:MATIC"}

    def test_hip3_coin_keys(self, store: Store) -> None:
        store.apply(msg("l2Book", book("xyz:AAPL")))
        assert store.take_changes() == {"book:xyz:AAPL"}
        assert store.feed_status("book:xyz:AAPL").state == "live"


class TestTrades:
    def test_newest_last_and_dedupe(self, store: Store) -> None:
        """The reconnect backfill repeats trades already seen: kept once, order preserved."""
        store.apply(msg("trades", [trade(1, 100), trade(2, 101)]))
        store.apply(msg("trades", [trade(2, 101), trade(3, 102)]))
        assert [t.tid for t in store.trades("BTC")] == [1, 2, 3]
        assert store.take_changes() == {"trades:BTC"}

    def test_same_tid_different_time_is_a_different_trade(self, store: Store) -> None:
        store.apply(msg("trades", [trade(7, 100), trade(7, 200)]))
        assert len(store.trades("BTC")) == 2

    def test_only_duplicates_stamp_but_do_not_change(self, store: Store, clock: FakeClock) -> None:
        store.apply(msg("trades", [trade(1, 100)]))
        store.take_changes()
        clock.advance(5)
        store.apply(msg("trades", [trade(1, 100)]))
        assert store.take_changes() == set()
        assert store.feed_status("trades:BTC").age_s == 0.0

    def test_out_of_order_backfill_is_sorted_in(self, store: Store) -> None:
        store.apply(msg("trades", [trade(1, 100), trade(3, 300)]))
        store.apply(msg("trades", [trade(2, 200)]))
        assert [t.tid for t in store.trades("BTC")] == [1, 2, 3]

    def test_ring_bounded_and_dedupe_set_follows(self, clock: FakeClock) -> None:
        s = Store(clock, trades_cap=3)
        for i in range(10):
            s.apply(msg("trades", [trade(i, 1000 + i)]))
        assert [t.tid for t in s.trades("BTC")] == [7, 8, 9]
        # an evicted trade replayed is older than everything kept: not re-added
        s.apply(msg("trades", [trade(2, 1002)]))
        assert [t.tid for t in s.trades("BTC")] == [7, 8, 9]
        assert len(s._market.tapes["BTC"].keys) == 3  # the dedupe set is bounded too

    def test_multi_coin_frame_and_empty_frame(self, store: Store) -> None:
        store.apply(msg("trades", [trade(1, 1, coin="BTC"), trade(1, 1, coin="ETH")]))
        assert store.take_changes() == {"trades:BTC", "trades:ETH"}
        store.apply(msg("trades", []))
        assert store.take_changes() == set()
        assert store.trades("SOL") == []


class TestContexts:
    def test_perp_ctx(self, store: Store) -> None:
        ctx = {"funding": "0.0000125", "openInterest": "1.0", "prevDayPx": "1.0",
               "dayNtlVlm": "1.0", "oraclePx": "1.0", "markPx": "104413.0"}  # fmt: skip
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": ctx}))
        c = store.ctx("BTC")
        assert c is not None and c.markPx == "104413.0"
        assert store.take_changes() == {"ctx:BTC"}

    def test_spot_ctx(self, store: Store) -> None:
        ctx = {"prevDayPx": "0.21", "dayNtlVlm": "1.0", "markPx": "0.22695"}
        store.apply(msg("activeSpotAssetCtx", {"coin": "PURR/USDC", "ctx": ctx}))
        sc = store.spot_ctx("PURR/USDC")
        assert sc is not None and sc.markPx == "0.22695"
        assert store.ctx("PURR/USDC") is None
        assert store.take_changes() == {"ctx:PURR/USDC"}


def candle(t: int, c: str, interval: str = "1m", coin: str = "BTC") -> dict[str, Any]:
    return {"t": t, "T": t + 59_999, "s": coin, "i": interval, "o": "1", "c": c, "h": "2",
            "l": "0.5", "v": "3", "n": 4}  # fmt: skip


class TestCandles:
    def test_open_candle_replaced_then_next_appended(self, store: Store) -> None:
        store.apply(msg("candle", candle(0, "1.0")))
        store.apply(msg("candle", candle(0, "1.5")))
        store.apply(msg("candle", candle(60_000, "1.7")))
        assert [(c.open_time, c.close) for c in store.candles("BTC")] == [
            (0, "1.5"),
            (60_000, "1.7"),
        ]
        assert store.take_changes() == {"candle:BTC"}

    def test_late_push_for_an_older_candle(self, store: Store) -> None:
        store.apply(msg("candle", candle(0, "1.0")))
        store.apply(msg("candle", candle(60_000, "1.7")))
        store.apply(msg("candle", candle(0, "1.1")))
        assert [c.close for c in store.candles("BTC")] == ["1.1", "1.7"]

    def test_intervals_kept_apart_and_bounded(self, clock: FakeClock) -> None:
        s = Store(clock, candles_cap=2)
        for i in range(5):
            s.apply(msg("candle", candle(i * 60_000, str(i))))
        s.apply(msg("candle", candle(0, "9", interval="1h")))
        assert [c.close for c in s.candles("BTC", "1m")] == ["3", "4"]
        assert [c.close for c in s.candles("BTC")] == ["9"]  # the interval pushed last
        assert s.candles("ETH") == []
