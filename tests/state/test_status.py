"""The store and its health: frames the store classifies land in ``store.health``, the health's
change keys come out of ``Store.take_changes``, and both share one rebasing clock.
(FeedHealth on its own: ``test_health.py``.)"""

from __future__ import annotations

from hlmon.protocol.messages import UnknownMsg
from hlmon.state import ConnState, FeedState, Store

from .conftest import FakeClock, msg


class TestFramesIntoHealth:
    def test_server_error(self, store: Store) -> None:
        store.apply(msg("error", "Already subscribed: {}"))
        assert store.health.server_errors == 1
        last = store.health.events[-1]
        assert (last.level, last.text) == ("error", "server error: Already subscribed: {}")
        assert store.take_changes() == {"log"}

    def test_unknown_channels_counted_and_logged_once(self, store: Store) -> None:
        for _ in range(3):
            store.apply(UnknownMsg("twapStates", {"x": 1}))
        assert store.health.unknown_frames == 3
        assert sum("twapStates" in e.text for e in store.health.events) == 1

    def test_pong_ack_post_change_nothing(self, store: Store) -> None:
        n = len(store.health.events)
        store.apply(msg("pong"))
        store.apply(msg("subscriptionResponse", {"method": "subscribe",
                                                 "subscription": {"type": "allMids"}}))  # fmt: skip
        store.apply(msg("post", {"id": 1, "response": {"type": "info", "payload": {}}}))
        assert store.take_changes() == set()
        assert len(store.health.events) == n and store.health.acks == 1

    def test_notification_logged(self, store: Store) -> None:
        store.apply(msg("notification", {"notification": "Order filled"}))
        assert store.health.events[-1].text == "notification: Order filled"

    def test_log_cap_and_alive_window_reach_the_health(self, clock: FakeClock) -> None:
        s = Store(clock, log_cap=2, alive_window=5.0)
        for i in range(3):
            s.health.log(f"line {i}")
        assert [e.text for e in s.health.events] == ["line 1", "line 2"]
        s.health.set_connection(ConnState.LIVE)
        clock.advance(5.5)
        assert not s.health.socket_alive()


class TestChanges:
    def test_take_changes_resets(self, store: Store) -> None:
        store.apply(msg("allMids", {"mids": {}}))
        store.apply(msg("bbo", {"coin": "ETH", "time": 1, "bbo": [None, None]}))
        assert store.take_changes() == {"mids", "bbo:ETH"}
        assert store.take_changes() == set()

    def test_health_changes_merged(self, store: Store) -> None:
        store.health.set_connection(ConnState.RECONNECTING, attempt=1, error="closed")
        store.apply(msg("allMids", {"mids": {}}))
        assert store.take_changes() == {"mids", "status", "log"}
        assert store.take_changes() == set()


class TestSharedClock:
    def test_one_step_back_rebases_store_and_health(self, store: Store, clock: FakeClock) -> None:
        """Whichever reads the clock first sees the step, and both move their times."""
        store.expect("mids")
        store.apply(msg("allMids", {"mids": {}}))
        store.health.note_alive()
        clock.advance(10)
        assert store.feed_status("mids").age_s == 10.0  # the store read the clock last
        clock.advance(-3600)
        store.health.msgs_per_s()  # the health's read sees the step ...
        clock.advance(3590)  # ... (an hour passes before the store reads the clock again) ...
        assert store.feed_status("mids").age_s == 3600.0  # ... and the store's stamps moved too
        assert store.health.connection.last_alive == clock.now - 3600

    def test_freshness_asks_the_health(self, store: Store, clock: FakeClock) -> None:
        """An event feed past its threshold is QUIET only while the health says alive."""
        store.expect("bbo:ETH")
        store.apply(msg("bbo", {"coin": "ETH", "time": 1, "bbo": [None, None]}))
        clock.advance(store.threshold("bbo:ETH") + 1)
        store.health.note_alive()
        assert store.feed_status("bbo:ETH").state is FeedState.QUIET
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        assert store.feed_status("bbo:ETH").state is FeedState.STALE
