"""Connection facts, the event log, counters and change keys."""

from __future__ import annotations

import pytest

from hlmon.protocol.messages import UnknownMsg
from hlmon.state import ConnState, Store

from .conftest import FakeClock, msg


class TestConnection:
    def test_initial(self, clock: FakeClock) -> None:
        c = Store(clock).connection
        assert (c.state, c.attempt, c.reconnects, c.url) == (ConnState.CONNECTING, 0, 0, "")
        assert c.last_alive is None and c.connected_since is None and c.next_retry_at is None

    def test_reconnects_counted_after_the_first_live(self, clock: FakeClock) -> None:
        s = Store(clock)
        s.set_connection(ConnState.CONNECTING, url="wss://a/ws")
        s.set_connection(ConnState.LIVE)
        s.set_connection(ConnState.LIVE)  # repeated: not a transition
        assert s.connection.reconnects == 0
        assert s.connection.connected_since == clock.now
        clock.advance(10)
        s.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=2.5, error="timeout")
        c = s.connection
        assert (c.state, c.attempt, c.next_retry_at) == (
            ConnState.RECONNECTING,
            1,
            clock.now + 2.5,
        )
        assert c.last_error == "timeout" and c.connected_since is None
        assert c.url == "wss://a/ws"  # kept when not passed
        s.set_connection(ConnState.CONNECTING, attempt=1)
        clock.advance(3)
        s.set_connection(ConnState.LIVE)
        c = s.connection
        assert c.reconnects == 1 and c.connected_since == clock.now and c.last_alive == clock.now
        assert c.next_retry_at is None

    def test_transitions_logged_and_status_changed(self, clock: FakeClock) -> None:
        s = Store(clock)
        s.set_connection(ConnState.CONNECTING, url="wss://a/ws")
        s.set_connection(ConnState.CONNECTING, attempt=1, next_retry_in=0.25, error="refused")
        s.set_connection(ConnState.CONNECTING, attempt=1, next_retry_in=0.1)  # limiter wait
        s.set_connection(ConnState.LIVE)
        s.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=0.5, error="closed")
        s.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=0.5)  # no new facts
        s.set_connection(ConnState.LIVE)
        s.set_connection(ConnState.DOWN, error="gave up")
        assert [(e.level, e.text) for e in s.events] == [
            ("info", "connecting to wss://a/ws"),
            ("warn", "connect failed: refused, retry 1 in 0.2 s"),
            ("info", "connected to wss://a/ws"),
            ("warn", "connection lost: closed, retry 1 in 0.5 s"),
            ("info", "reconnected to wss://a/ws (reconnect 1)"),
            ("error", "websocket down: gave up"),
        ]
        assert s.take_changes() == {"status", "log"}

    def test_note_alive(self, store: Store, clock: FakeClock) -> None:
        clock.advance(5)
        store.note_alive()
        assert store.connection.last_alive == clock.now
        assert store.socket_alive()
        clock.advance(20.5)
        assert not store.socket_alive()
        assert store.take_changes() == set()  # liveness is read on the UI tick, no change key


class TestLogAndCounters:
    def test_log_ring_and_levels(self, clock: FakeClock) -> None:
        s = Store(clock, log_cap=3)
        for i in range(5):
            s.log(f"line {i}", "warning" if i == 4 else "info")
        assert [e.text for e in s.events] == ["line 2", "line 3", "line 4"]
        assert s.events[-1].level == "warn" and s.events[-1].time == clock.now
        assert s.take_changes() == {"log"}

    def test_server_error(self, store: Store) -> None:
        store.apply(msg("error", "Already subscribed: {}"))
        assert store.server_errors == 1
        assert (store.events[-1].level, store.events[-1].text) == (
            "error",
            "server error: Already subscribed: {}",
        )
        assert store.take_changes() == {"log"}

    def test_unknown_channels_counted_and_logged_once(self, store: Store) -> None:
        for _ in range(3):
            store.apply(UnknownMsg("twapStates", {"x": 1}))
        assert store.unknown_frames == 3
        assert sum("twapStates" in e.text for e in store.events) == 1

    def test_pong_ack_post_change_nothing(self, store: Store) -> None:
        n = len(store.events)
        store.apply(msg("pong"))
        store.apply(msg("subscriptionResponse", {"method": "subscribe",
                                                 "subscription": {"type": "allMids"}}))  # fmt: skip
        store.apply(msg("post", {"id": 1, "response": {"type": "info", "payload": {}}}))
        assert store.take_changes() == set()
        assert len(store.events) == n and store.acks == 1

    def test_notification_logged(self, store: Store) -> None:
        store.apply(msg("notification", {"notification": "Order filled"}))
        assert store.events[-1].text == "notification: Order filled"

    def test_rejected_frames_counted_log_rate_limited(self, store: Store, clock: FakeClock) -> None:
        """A garbage flood is counted in full but cannot push everything else out of the log."""
        n = len(store.events)
        for _ in range(1000):
            store.note_rejected("invalid json", "{garbage" * 100)
        assert store.frames_rejected == 1000
        assert len(store.events) == n + 1
        assert store.events[-1].level == "warn" and len(store.events[-1].text) < 200
        clock.advance(1.0)
        store.note_rejected("invalid json", "x")
        assert store.events[-1].text.endswith("(+999 more)")

    def test_frames_and_rate(self, store: Store, clock: FakeClock) -> None:
        clock.now = 1000.0
        for _ in range(10):
            for _ in range(20):
                store.note_frame("bbo", 100)
            clock.advance(1.0)
        # window: 5 whole seconds plus the current (empty) one
        assert store.msgs_per_s() == pytest.approx(100 / 5)
        assert store.frames_total == 200 and store.bytes_total == 20_000
        assert store.frames_by_channel == {"bbo": 200}
        clock.advance(10)
        assert store.msgs_per_s() == 0.0

    def test_batched_frames_count_like_single_ones(self, store: Store, clock: FakeClock) -> None:
        """``note_frames`` (a feed's batch) leaves the same totals and rate as ``note_frame``."""
        clock.now = 1000.0
        for _ in range(10):
            store.note_frames(20, 2000, {"bbo": 15, "trades": 5})
            clock.advance(1.0)
        assert store.msgs_per_s() == pytest.approx(100 / 5)
        assert store.frames_total == 200 and store.bytes_total == 20_000
        assert store.frames_by_channel == {"bbo": 150, "trades": 50}
        store.note_frames(0, 0, {})  # an empty batch is a no-op
        assert store.frames_total == 200

    def test_frame_flusher_runs_before_every_read(self, store: Store, clock: FakeClock) -> None:
        """Counts a feed still holds are pulled before any read: reads are exact."""
        pending = {"bbo": 3}

        def flush() -> None:
            if pending:
                store.note_alive()
                store.note_frames(sum(pending.values()), 300, pending)
                pending.clear()

        store.add_frame_flusher(flush)
        store.set_connection(ConnState.LIVE)
        clock.advance(30)  # past alive_window: only the pending frames make it alive
        assert store.frames_total == 3 and not pending
        assert store.connection.last_alive == clock.now
        assert store.socket_alive()

    def test_rest_usage_and_fallback(self, store: Store) -> None:
        store.set_rest_usage(12, 600)
        assert (store.rest_weight_used, store.rest_budget) == (12, 600)
        assert store.take_changes() == {"status"}
        store.set_rest_usage(12, 600)
        assert store.take_changes() == set()
        store.set_fallback_active(True)
        assert store.fallback_active
        assert store.take_changes() == {"status"}  # the poller logs the switch itself
        store.set_fallback_active(True)
        assert store.take_changes() == set()
        store.set_fallback_active(False)
        assert not store.fallback_active


class TestChanges:
    def test_take_changes_resets(self, store: Store) -> None:
        store.apply(msg("allMids", {"mids": {}}))
        store.apply(msg("bbo", {"coin": "ETH", "time": 1, "bbo": [None, None]}))
        assert store.take_changes() == {"mids", "bbo:ETH"}
        assert store.take_changes() == set()
