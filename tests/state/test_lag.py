"""Lag: data late on arrival, by the exchange's own timestamps, relative to the usual delay
(so a skewed local clock does not make everything lag)."""

from __future__ import annotations

import pytest

from hlmon.config import StaleThresholds
from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, Source, Store
from hlmon.state.clock import SteadyClock
from hlmon.state.lag import LagMeter

from .conftest import FakeClock, clearinghouse, msg, trade


def book(t_ms: int, coin: str = "BTC") -> Message:
    return msg("l2Book", {"coin": coin, "time": t_ms, "levels": [[], []]})


def bbo(t_ms: int) -> Message:
    return msg("bbo", {"coin": "BTC", "time": t_ms, "bbo": [None, None]})


def ms(clock: FakeClock, late: float = 0.0, skew: float = 0.0) -> int:
    """An exchange time for data sent ``late`` s ago, by a clock ``skew`` s ahead of ours."""
    return int((clock.now - late + skew) * 1000)


def feed(store: Store, clock: FakeClock, seconds: float, late: float, skew: float = 0.0) -> None:
    """A book and a bbo every 0.5 s for ``seconds``, each ``late`` s old on arrival, over a
    socket whose feed notes it alive (as ``WsFeed`` does after each batch)."""
    for _ in range(int(seconds * 2)):
        clock.advance(0.5)
        store.apply(book(ms(clock, late, skew)))
        store.apply(bbo(ms(clock, late, skew)))
        store.health.note_alive()


class TestLagMeter:
    def test_floor_is_the_usual_delay_and_lag_is_above_it(self) -> None:
        meter = LagMeter(window_s=60, bucket_s=2)
        for i in range(20):  # 40 s of ~50 ms delays, a clock 7 s behind the exchange's
            lag = meter.observe(100.0 + 2 * i, int((100.0 + 2 * i + 7 - 0.05) * 1000))
            assert lag == pytest.approx(0.0, abs=0.002)
        assert meter.floor == pytest.approx(-6.95, abs=0.002)
        assert meter.observe(141.0, int((141.0 + 7 - 3.05) * 1000)) == pytest.approx(3.0, abs=0.002)

    def test_one_bogus_future_time_does_not_make_everything_lag(self) -> None:
        meter = LagMeter(window_s=60, bucket_s=2)
        for i in range(10):
            meter.observe(100.0 + 2 * i, int((100.0 + 2 * i - 0.1) * 1000))
        meter.observe(121.0, int((121.0 + 3600) * 1000))  # an hour in the future
        assert meter.observe(123.0, int((123.0 - 0.1) * 1000)) == pytest.approx(0.0)

    def test_implausible_delays_are_no_sample(self) -> None:
        meter = LagMeter()
        assert meter.observe(1_790_000_000.0, 1) is None  # a 'time' of 1 ms after 1970
        assert meter.floor is None

    def test_a_lag_lasting_the_whole_window_becomes_the_floor(self) -> None:
        """Documented limit: a lasting lag cannot be told from a skew."""
        meter = LagMeter(window_s=20, bucket_s=2)
        for i in range(10):
            meter.observe(2.0 * i, int((2.0 * i - 0.05) * 1000))
        lags = [meter.observe(20.0 + 2 * i, int((20.0 + 2 * i - 3.05) * 1000)) for i in range(12)]
        assert lags[0] == pytest.approx(3.0) and lags[-1] == pytest.approx(0.0)


class TestFeedLag:
    @pytest.mark.parametrize("skew", [40.0, -40.0, 3600.0])
    def test_skewed_clock_alone_never_lags(self, clock: FakeClock, skew: float) -> None:
        """The machine's clock behind (or ahead of) the exchange's: no lag."""
        store = Store(clock)
        store.health.set_connection(ConnState.LIVE)
        feed(store, clock, 10, late=0.05, skew=skew)
        assert store.feed_status("book:BTC").state is FeedState.LIVE
        assert store.feed_status("bbo:BTC").state is FeedState.LIVE

    def test_late_data_is_lagging_then_live_again(self, store: Store, clock: FakeClock) -> None:
        feed(store, clock, 10, late=0.05, skew=12.0)
        feed(store, clock, 3, late=3.05, skew=12.0)
        st = store.feed_status("book:BTC")
        assert st.state is FeedState.LAGGING and st.lag_s == pytest.approx(3.0, abs=0.01)
        assert st.age_s == 0.0  # fresh: it moves, but shows the past
        feed(store, clock, 1, late=0.05, skew=12.0)
        assert store.feed_status("book:BTC").state is FeedState.LIVE

    def test_threshold_is_configurable_and_inclusive(self, clock: FakeClock) -> None:
        store = Store(clock, StaleThresholds(lag=5.0))
        feed(store, clock, 10, late=0.0)
        feed(store, clock, 1, late=5.0)
        assert store.feed_status("book:BTC").state is FeedState.LIVE
        feed(store, clock, 1, late=5.5)
        assert store.feed_status("book:BTC").state is FeedState.LAGGING

    def test_stale_wins_over_lagging(self, store: Store, clock: FakeClock) -> None:
        feed(store, clock, 10, late=0.0)
        feed(store, clock, 1, late=4.0)
        clock.advance(16)
        assert store.feed_status("book:BTC").state is FeedState.STALE

    def test_rest_answers_lag_too(self, store: Store, clock: FakeClock) -> None:
        feed(store, clock, 10, late=0.0)
        store.apply(clearinghouse([], time_ms=ms(clock, late=4.0)), Source.REST)
        st = store.feed_status("account")
        assert st.state is FeedState.LAGGING and st.source is Source.REST

    def test_feeds_without_a_time_take_the_socket_lag(self, store: Store, clock: FakeClock) -> None:
        """allMids and contexts carry no time: over the websocket they lag with it."""
        store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
        feed(store, clock, 10, late=0.0)
        store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
        assert store.feed_status("mids").state is FeedState.LIVE
        feed(store, clock, 1, late=3.0)
        store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
        st = store.feed_status("mids")
        assert st.state is FeedState.LAGGING and st.lag_s == pytest.approx(3.0)
        # Over REST they were fetched, not queued behind the socket: no lag.
        store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}), Source.REST)
        assert store.feed_status("mids").state is FeedState.FALLBACK

    def test_a_new_subscriptions_first_trades_are_a_replay_not_a_lag(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.health.set_connection(ConnState.LIVE)
        feed(store, clock, 10, late=0.0)
        now = ms(clock)
        store.apply(msg("trades", [trade(1, now - 20_000), trade(2, now - 15_000)]))
        assert store.feed_status("trades:BTC").state is FeedState.LIVE  # the snapshot
        clock.advance(1)
        store.apply(msg("trades", [trade(3, ms(clock, late=4.0))]))
        assert store.feed_status("trades:BTC").state is FeedState.LAGGING
        # A new socket (or a resubscription) replays again: not measured.
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        store.health.set_connection(ConnState.LIVE)
        clock.advance(1)
        store.apply(msg("trades", [trade(4, ms(clock, late=25.0))]))
        assert store.feed_status("trades:BTC").state is FeedState.LIVE

    def test_lagging_marks_are_still_used(self, store: Store, clock: FakeClock) -> None:
        """A lagging context is still the freshest mark there is."""
        feed(store, clock, 10, late=0.0)
        feed(store, clock, 1, late=3.0)
        store.apply(clearinghouse([], time_ms=ms(clock, late=3.0)))
        assert store.feed_status("account").state is FeedState.LAGGING
        assert store.account_summary() is not None


class TestLagClock:
    def test_a_wall_clock_step_forward_is_not_lag_on_a_steady_clock(self) -> None:
        wall = FakeClock()
        mono = FakeClock(1000.0)
        store = Store(wall, lag_clock=SteadyClock(wall, mono))

        def tick(n: int) -> None:
            for _ in range(n):
                wall.advance(0.5)
                mono.advance(0.5)
                exchange_ms = int((mono.now - 1000.0 + 1_790_000_000.0) * 1000)
                store.apply(book(exchange_ms))

        tick(20)
        wall.advance(30.0)  # NTP steps the wall clock forward: the exchange's did not move
        tick(2)
        assert store.feed_status("book:BTC").state is FeedState.LIVE

    def test_on_the_store_clock_a_step_back_shifts_the_floor(
        self, store: Store, clock: FakeClock
    ) -> None:
        feed(store, clock, 10, late=0.05)
        clock.now -= 60.0  # the clock steps back; the exchange's times do not
        store.feed_status("book:BTC")  # the first read sees the step
        feed(store, clock, 1, late=0.05 - 60.0)
        assert store.feed_status("book:BTC").state is FeedState.LIVE
        feed(store, clock, 1, late=3.05 - 60.0)
        assert store.feed_status("book:BTC").state is FeedState.LAGGING
