"""The store and its health: frames the store classifies land in ``store.health``, the health's
change keys come out of ``Store.take_changes``, and both share one rebasing clock.
(FeedHealth on its own: ``test_health.py``.)"""

from __future__ import annotations

from hlmon.protocol.messages import UnknownMsg
from hlmon.state import ConnState, FeedState, RestPlanView, Source, Store

from .conftest import FakeClock, msg

CTX = {"funding": "0.0000125", "openInterest": "100.0", "prevDayPx": "99.0",
       "dayNtlVlm": "1000.0", "oraclePx": "100.0", "markPx": "100.5"}  # fmt: skip


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


class TestRestCadence:
    """REST data is judged by the cadence it is polled at (``health.rest_plan``)."""

    @staticmethod
    def plan(**cadences: float) -> RestPlanView:
        keyed = {k.replace("_", ":"): v for k, v in cadences.items()}
        return RestPlanView(keyed, 100.0, 600, (), (), "REST plan")

    def test_rest_data_stale_only_past_its_planned_cadence(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.health.set_rest_plan(self.plan(ctx_BTC=6.0))
        assert store.threshold("ctx:BTC") == 5.0  # nothing received yet: the websocket's
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": CTX}), Source.REST)
        assert store.threshold("ctx:BTC") == 15.0  # 2.5 planned intervals
        clock.advance(5.5)
        assert store.feed_status("ctx:BTC").state is FeedState.FALLBACK  # fresh at 5.5 s
        clock.advance(10.0)
        assert store.feed_status("ctx:BTC").state is FeedState.STALE

    def test_websocket_data_keeps_the_websocket_threshold(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.health.set_rest_plan(self.plan(ctx_BTC=6.0))
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": CTX}), Source.WS)
        assert store.threshold("ctx:BTC") == 5.0

    def test_never_sooner_than_the_configured_threshold(self, store: Store) -> None:
        store.health.set_rest_plan(self.plan(mids=2.0))
        store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}), Source.REST)
        assert store.threshold("mids") == 15.0

    def test_rest_mode_connection_is_information_said_once(self, store: Store) -> None:
        for _ in range(2):
            store.health.set_connection(ConnState.REST, url="wss://x/ws")
        said = [e for e in store.health.events if "websocket off by choice" in e.text]
        assert [e.level for e in said] == ["info"]
        assert store.health.rest_mode and not store.health.socket_alive()
