"""Freshness: live / quiet / stale / fallback / missing, periodic vs event feeds."""

from __future__ import annotations

import pytest

from hlmon.config import StaleThresholds
from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, FeedStatus, Source, Store
from hlmon.state.freshness import classify, next_state_change, stale_for
from hlmon.state.health import ALIVE_WINDOW
from hlmon.state.types import Stamp

from .conftest import USER, FakeClock, clearinghouse, fill, msg, trade


def mids() -> Message:
    return msg("allMids", {"mids": {"BTC": "1.0"}})


def bbo() -> Message:
    return msg("bbo", {"coin": "BTC", "time": 1, "bbo": [None, None]})


class TestTransitions:
    def test_missing_until_first_update(self, store: Store) -> None:
        st = store.feed_status("mids")
        assert (st.state, st.age_s, st.source) == (FeedState.MISSING, None, None)

    def test_periodic_feed_goes_stale_even_on_a_live_socket(
        self, store: Store, clock: FakeClock
    ) -> None:
        """allMids stopping while pongs still arrive is the bug hlmon must show."""
        store.apply(mids())
        clock.advance(15.0)
        store.health.note_alive()
        assert store.feed_status("mids").state is FeedState.LIVE  # threshold is inclusive
        clock.advance(0.5)
        store.health.note_alive()
        st = store.feed_status("mids")
        assert st.state is FeedState.STALE and st.age_s == pytest.approx(15.5)

    def test_event_feed_quiet_while_socket_alive(self, store: Store, clock: FakeClock) -> None:
        store.apply(bbo())
        clock.advance(60)
        store.health.note_alive()
        assert store.feed_status("bbo:BTC").state is FeedState.QUIET
        # no proof of life for longer than alive_window: stale
        clock.advance(ALIVE_WINDOW + 1)
        assert store.feed_status("bbo:BTC").state is FeedState.STALE
        store.health.note_alive()
        assert store.feed_status("bbo:BTC").state is FeedState.QUIET

    def test_event_feed_stale_when_socket_not_live(self, store: Store, clock: FakeClock) -> None:
        store.apply(msg("trades", [trade(1, 1)]))
        clock.advance(31)
        store.health.note_alive()
        assert store.feed_status("trades:BTC").state is FeedState.QUIET
        store.health.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=1.0)
        assert store.feed_status("trades:BTC").state is FeedState.STALE

    @pytest.mark.parametrize(
        ("key", "fresh_for"),
        [("bbo:BTC", 10.0), ("trades:BTC", 30.0), ("fills", 60.0), ("fundings", 3900.0)],
    )
    def test_event_feeds_are_live_within_threshold(
        self, store: Store, clock: FakeClock, key: str, fresh_for: float
    ) -> None:
        store.apply(bbo())
        store.apply(msg("trades", [trade(1, 1)]))
        store.apply(msg("userFills", {"user": USER, "fills": [fill(1, 1, 1)]}))
        store.apply(msg("userFundings", {"user": USER, "fundings": []}))
        clock.advance(fresh_for)
        store.health.note_alive()  # the socket vouches that nothing newer came
        assert store.feed_status(key).state is FeedState.LIVE
        clock.advance(0.01)
        store.health.note_alive()
        assert store.feed_status(key).state is FeedState.QUIET
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        assert store.feed_status(key).state is FeedState.STALE
        store.health.set_connection(ConnState.LIVE)  # the new handshake proves the socket alive
        assert store.feed_status(key).state is FeedState.QUIET

    @pytest.mark.parametrize("key", ["bbo:BTC", "trades:BTC", "fills"])
    def test_event_feed_from_the_socket_is_stale_once_the_socket_falls_silent(
        self, store: Store, clock: FakeClock, key: str
    ) -> None:
        """A recent trade on a socket that went half-open: the tape's "nothing newer" is no
        longer vouched for, long before the trade itself is 30 s old. A periodic feed keeps
        its own threshold (its age says how old it is)."""
        store.health.note_alive()
        store.apply(bbo())
        store.apply(msg("trades", [trade(1, 1)]))
        store.apply(msg("userFills", {"user": USER, "fills": [fill(1, 1, 1)]}))
        store.apply(mids())
        clock.advance(ALIVE_WINDOW)
        assert store.feed_status(key).state is FeedState.LIVE
        clock.advance(0.5)
        assert store.feed_status(key).state is FeedState.STALE
        assert store.feed_status("mids").state is FeedState.LIVE  # its age is its truth
        store.health.note_alive()  # a pong: the socket is back in touch, nothing was missed
        assert store.feed_status(key).state is FeedState.LIVE
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        assert store.feed_status(key).state is FeedState.STALE

    def test_event_feed_from_rest_keeps_its_threshold_without_a_socket(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The fallback's answer is the feed while the socket is away: FALLBACK."""
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        store.apply(msg("trades", [trade(1, 1)]), source=Source.REST)
        clock.advance(30.0)
        assert store.feed_status("trades:BTC").state is FeedState.FALLBACK

    def test_how_long_a_feed_has_been_stale(self) -> None:
        """``stale_for``: a periodic feed since its threshold; an event feed since the socket
        went quiet (over REST: its threshold, if that came later)."""
        ws_fills = FeedStatus("fills", FeedState.STALE, 600.0, Source.WS)
        rest_fills = FeedStatus("fills", FeedState.STALE, 70.0, Source.REST)
        mids_st = FeedStatus("mids", FeedState.STALE, 20.0, Source.WS)
        assert stale_for(ws_fills, 60.0, 1.0) == 1.0  # a reconnect, not a 9-minute outage
        assert stale_for(rest_fills, 60.0, 30.0) == 10.0
        assert stale_for(rest_fills, 60.0, 4.0) == 4.0
        assert stale_for(mids_st, 15.0, 1.0) == 5.0
        assert stale_for(ws_fills, 60.0, None) == 540.0
        assert stale_for(FeedStatus("fills", FeedState.QUIET, 600.0, Source.WS), 60.0, 1.0) is None

    def test_a_fresh_event_feed_from_the_socket_changes_when_the_socket_goes_quiet(self) -> None:
        """``next_state_change``: a frame wakes the screen when the socket stops vouching for
        a websocket event feed, not at its own (later) threshold; a REST one waits for that."""
        ws, rest = Stamp(100.0, None, Source.WS), Stamp(100.0, None, Source.REST)
        assert next_state_change([("trades:BTC", ws, 30.0)], 101.0, 120.0) == 120.0
        assert next_state_change([("trades:BTC", rest, 30.0)], 101.0, 120.0) == 130.0
        assert next_state_change([("mids", ws, 15.0)], 101.0, 120.0) == 115.0
        assert next_state_change([("trades:BTC", ws, 30.0)], 101.0, None) == 130.0

    @pytest.mark.parametrize(
        ("key", "threshold"),
        [("mids", 15.0), ("book:BTC", 15.0), ("ctx:BTC", 5.0), ("account", 12.0),
         ("orders", 12.0)],
    )  # fmt: skip
    def test_periodic_thresholds(
        self, store: Store, clock: FakeClock, key: str, threshold: float
    ) -> None:
        assert store.threshold(key) == threshold

    def test_fast_book_threshold(self, store: Store, clock: FakeClock) -> None:
        store.apply(msg("l2Book", {"coin": "BTC", "time": 1, "levels": [[], []]}))
        clock.advance(3.0)
        store.health.note_alive()
        assert store.feed_status("book:BTC").state is FeedState.LIVE
        store.take_changes()
        store.set_book_fast(True)
        assert store.take_changes() == {"status"}
        assert store.feed_status("book:BTC").state is FeedState.STALE  # 3 s > 2.5 s
        store.set_book_fast(False)
        assert store.feed_status("book:BTC").state is FeedState.LIVE

    def test_custom_thresholds(self, clock: FakeClock) -> None:
        s = Store(clock, StaleThresholds(mids=1.0))
        s.apply(msg("allMids", {"mids": {}}))
        clock.advance(1.5)
        assert s.feed_status("mids").state is FeedState.STALE

    def test_clock_stepping_back_gives_age_zero(self, store: Store, clock: FakeClock) -> None:
        store.apply(mids())
        clock.advance(-5)
        st = store.feed_status("mids")
        assert st.state is FeedState.LIVE and st.age_s == 0.0

    def test_clock_stepping_back_does_not_revive_stale_feeds(
        self, store: Store, clock: FakeClock
    ) -> None:
        """M1: a feed silent for 30 s stays stale (and 30 s old) when the clock steps back 1 h;
        the socket that proved nothing since is not alive either."""
        store.set_watched_users([USER])
        store.apply(mids())
        store.apply(clearinghouse([]))
        clock.advance(30)
        assert store.feed_status("mids").state is FeedState.STALE
        clock.advance(-3600)
        st = store.feed_status("mids")
        assert (st.state, st.age_s) == (FeedState.STALE, 30.0)
        assert not store.health.socket_alive()
        assert store.accounts()[0].state is FeedState.STALE
        clock.advance(600)
        assert store.feed_status("mids").age_s == 630.0
        store.apply(mids())
        assert store.feed_status("mids").state is FeedState.LIVE


class TestFallback:
    def test_rest_then_back_to_ws(self, store: Store, clock: FakeClock) -> None:
        """REST-fed data says FALLBACK; the next websocket push makes it LIVE again."""

        def pushed() -> Message:  # stamped by the exchange when it was sent, as they are
            return clearinghouse([], time_ms=int(clock.now * 1000))

        store.apply(pushed())
        clock.advance(20)
        assert store.feed_status("account").state is FeedState.STALE
        store.apply(pushed(), Source.REST)
        st = store.feed_status("account")
        assert (st.state, st.source) == (FeedState.FALLBACK, Source.REST)
        assert store.source_of("account") is Source.REST
        summary = store.account_summary()
        assert summary is not None and summary.source is Source.REST
        clock.advance(13)
        assert store.feed_status("account").state is FeedState.STALE  # poller stopped too
        store.apply(pushed())
        st = store.feed_status("account")
        assert (st.state, st.source) == (FeedState.LIVE, Source.WS)
        summary = store.account_summary()
        assert summary is not None and summary.source is Source.WS


class TestExpected:
    def test_statuses_list_expected_feeds_in_stable_order(self, store: Store) -> None:
        for key in ("fills", "trades:BTC", "book:ETH", "mids", "book:BTC", "account", "ledger"):
            store.expect(key)
        assert store.take_changes() == {"status"}
        assert list(store.feed_statuses()) == [
            "mids", "book:BTC", "book:ETH", "trades:BTC", "account", "fills", "ledger",
        ]  # fmt: skip
        store.unexpect("book:ETH")
        store.unexpect("nope")
        assert "book:ETH" not in store.feed_statuses()

    def test_stale_feeds(self, store: Store, clock: FakeClock) -> None:
        for key in ("mids", "bbo:BTC", "account", "orders"):
            store.expect(key)
        store.apply(mids())
        store.apply(bbo())
        store.apply(clearinghouse([]), Source.REST)
        assert store.stale_feeds() == ["orders"]  # missing
        clock.advance(16)
        store.health.note_alive()
        # mids stale, bbo quiet, account fell back and the poller stopped
        assert store.stale_feeds() == ["mids", "account", "orders"]


class TestClassify:
    def test_pure_function(self) -> None:
        stamp = Stamp(100.0, None, Source.WS)
        assert classify("x", None, 0, 1, socket_alive=True).state is FeedState.MISSING
        assert classify("mids", stamp, 101, 1, socket_alive=True).state is FeedState.LIVE
        assert classify("mids", stamp, 102, 1, socket_alive=True).state is FeedState.STALE
        assert classify("weird:X", stamp, 102, 1, socket_alive=True).state is FeedState.QUIET


class TestRemembered:
    """``feed_statuses`` runs every frame: the order and thresholds it reads are remembered,
    and follow every change."""

    def test_listed_feeds_follow_expect_and_unexpect(self, store: Store) -> None:
        store.expect("trades:BTC")
        store.expect("mids")
        assert list(store.feed_statuses()) == ["mids", "trades:BTC"]
        store.expect("book:BTC")
        assert list(store.feed_statuses()) == ["mids", "book:BTC", "trades:BTC"]
        store.unexpect("mids")
        assert list(store.feed_statuses()) == ["book:BTC", "trades:BTC"]

    def test_threshold_memory_is_bounded(self, store: Store) -> None:
        from hlmon.state.store import BASE_THRESHOLDS_CAP

        for i in range(BASE_THRESHOLDS_CAP + 10):
            assert store.threshold(f"book:C{i}") == store.threshold("book:BTC")
        assert len(store._base_thresholds) <= BASE_THRESHOLDS_CAP
