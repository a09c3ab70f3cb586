"""FeedHealth on its own: connection facts, liveness, counters, REST usage and the event log."""

from __future__ import annotations

import pytest

from hlmon.state import ConnState, FeedHealth
from hlmon.state.health import ALIVE_WINDOW

from .conftest import FakeClock


@pytest.fixture
def health(clock: FakeClock) -> FeedHealth:
    """A health with a live socket, changes drained."""
    h = FeedHealth(clock)
    h.set_connection(ConnState.LIVE, url="wss://example/ws")
    h.take_changes()
    return h


class TestConnection:
    def test_initial(self, clock: FakeClock) -> None:
        c = FeedHealth(clock).connection
        assert (c.state, c.attempt, c.reconnects, c.url) == (ConnState.CONNECTING, 0, 0, "")
        assert c.last_alive is None and c.connected_since is None and c.next_retry_at is None

    def test_reconnects_counted_after_the_first_live(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.CONNECTING, url="wss://a/ws")
        h.set_connection(ConnState.LIVE)
        h.set_connection(ConnState.LIVE)  # repeated: not a transition
        assert h.connection.reconnects == 0
        assert h.connection.connected_since == clock.now
        clock.advance(10)
        h.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=2.5, error="timeout")
        c = h.connection
        assert (c.state, c.attempt, c.next_retry_at) == (
            ConnState.RECONNECTING,
            1,
            clock.now + 2.5,
        )
        assert c.last_error == "timeout" and c.connected_since is None
        assert c.url == "wss://a/ws"  # kept when not passed
        h.set_connection(ConnState.CONNECTING, attempt=1)
        clock.advance(3)
        h.set_connection(ConnState.LIVE)
        c = h.connection
        assert c.reconnects == 1 and c.connected_since == clock.now and c.last_alive == clock.now
        assert c.next_retry_at is None

    def test_transitions_logged_and_status_changed(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.CONNECTING, url="wss://a/ws")
        h.set_connection(ConnState.CONNECTING, attempt=1, next_retry_in=0.25, error="refused")
        h.set_connection(ConnState.CONNECTING, attempt=1, next_retry_in=0.1)  # limiter wait
        h.set_connection(ConnState.LIVE)
        h.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=0.5, error="closed")
        h.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=0.5)  # no new facts
        h.set_connection(ConnState.LIVE)
        h.set_connection(ConnState.DOWN, error="gave up")
        assert [(e.level, e.text) for e in h.events] == [
            ("info", "connecting to wss://a/ws"),
            ("warn", "connect failed: refused, retry 1 in 0.2 s"),
            ("info", "connected to wss://a/ws"),
            ("warn", "connection lost: closed, retry 1 in 0.5 s"),
            ("info", "reconnected to wss://a/ws (reconnect 1)"),
            ("error", "websocket down: gave up"),
        ]
        assert h.take_changes() == {"status", "log"}
        assert h.take_changes() == set()

    def test_note_alive(self, health: FeedHealth, clock: FakeClock) -> None:
        clock.advance(5)
        health.note_alive()
        assert health.connection.last_alive == clock.now
        assert health.socket_alive()
        assert health.socket_alive(clock.now + ALIVE_WINDOW)
        clock.advance(ALIVE_WINDOW + 0.5)
        assert not health.socket_alive()

    def test_silent_for_counts_from_the_last_frame_or_the_daemons_link(
        self, health: FeedHealth, clock: FakeClock
    ) -> None:
        """Through a daemon, frames keep coming from it while its own link to the exchange is
        down: the exchange is silent since that link went down."""
        health.note_alive()
        clock.advance(3)
        assert health.silent_for() == 3.0
        health.set_via("daemon")
        health.set_upstream(ConnState.RECONNECTING, attempt=1)
        clock.advance(2)
        health.note_alive()  # the daemon's own frames
        assert health.silent_for() == 2.0
        health.set_upstream(ConnState.LIVE)
        assert health.silent_for() == 0.0

    def test_note_alive_records_a_change_only_after_a_gap(
        self, health: FeedHealth, clock: FakeClock
    ) -> None:
        """A steady stream of frames records nothing (liveness is read when painting); proof
        of life after a second of silence is news the screen must paint at once."""
        health.note_alive()
        health.take_changes()
        for _ in range(50):
            clock.advance(0.1)
            health.note_alive()
        assert health.take_changes() == set()
        clock.advance(4.0)  # the status bar shows "silent 4.0s" by now
        health.note_alive()
        assert health.take_changes() == {"status"}

    def test_alive_only_while_live(self, health: FeedHealth, clock: FakeClock) -> None:
        health.note_alive()
        health.set_connection(ConnState.RECONNECTING, attempt=1)
        assert not health.socket_alive()  # a recent frame does not make a lost socket alive

    def test_rtt(self, health: FeedHealth) -> None:
        assert health.ws_rtt_ms is None
        health.note_rtt(23.4)
        assert health.ws_rtt_ms == 23.4 and health.take_changes() == {"status"}

    def test_clock_step_back_rebases_times(self, health: FeedHealth, clock: FakeClock) -> None:
        """A step back of the clock moves the held times with it, so ages stay true."""
        health.note_alive()
        since = health.connection.connected_since
        assert since is not None
        clock.advance(10)
        health.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=5.0)
        clock.advance(-3600)
        health.msgs_per_s()  # any read of the clock sees the step
        c = health.connection
        assert c.last_alive == clock.now - 10
        assert c.next_retry_at == clock.now + 5.0


class TestLogAndCounters:
    def test_log_ring_and_levels(self, clock: FakeClock) -> None:
        h = FeedHealth(clock, log_cap=3)
        for i in range(5):
            h.log(f"line {i}", "warning" if i == 4 else "info")
        assert [e.text for e in h.events] == ["line 2", "line 3", "line 4"]
        assert h.events[-1].level == "warn" and h.events[-1].time == clock.now
        assert h.take_changes() == {"log"}

    def test_rejected_frames_counted_log_rate_limited(
        self, health: FeedHealth, clock: FakeClock
    ) -> None:
        """A garbage flood is counted in full but cannot push everything else out of the log."""
        n = len(health.events)
        for _ in range(1000):
            health.note_rejected("invalid json", "{garbage" * 100)
        assert health.frames_rejected == 1000
        assert len(health.events) == n + 1
        assert health.events[-1].level == "warn" and len(health.events[-1].text) < 200
        clock.advance(1.0)
        health.note_rejected("invalid json", "x")
        assert health.events[-1].text.endswith("(+999 more)")

    def test_server_errors_and_unknown_channels(self, health: FeedHealth) -> None:
        health.note_server_error("Already subscribed: {}")
        for _ in range(3):
            health.note_unknown("twapStates")
        assert (health.server_errors, health.unknown_frames) == (1, 3)
        assert [(e.level, e.text) for e in health.events[1:]] == [
            ("error", "server error: Already subscribed: {}"),
            ("warn", "ignoring frames on unknown channel 'twapStates'"),
        ]

    def test_frames_and_rate(self, health: FeedHealth, clock: FakeClock) -> None:
        clock.now = 1000.0
        for _ in range(10):
            for _ in range(20):
                health.note_frame("bbo", 100)
            clock.advance(1.0)
        # window: 5 whole seconds plus the current (empty) one
        assert health.msgs_per_s() == pytest.approx(100 / 5)
        assert health.frames_total == 200 and health.bytes_total == 20_000
        assert health.frames_by_channel == {"bbo": 200}
        clock.advance(10)
        assert health.msgs_per_s() == 0.0

    def test_batched_frames_count_like_single_ones(
        self, health: FeedHealth, clock: FakeClock
    ) -> None:
        """``note_frames`` (a feed's batch) leaves the same totals and rate as ``note_frame``."""
        clock.now = 1000.0
        for _ in range(10):
            health.note_frames(20, 2000, {"bbo": 15, "trades": 5})
            clock.advance(1.0)
        assert health.msgs_per_s() == pytest.approx(100 / 5)
        assert health.frames_total == 200 and health.bytes_total == 20_000
        assert health.frames_by_channel == {"bbo": 150, "trades": 50}
        health.note_frames(0, 0, {})  # an empty batch is a no-op
        assert health.frames_total == 200

    def test_reads_are_what_was_pushed(self, health: FeedHealth, clock: FakeClock) -> None:
        """Nothing is pulled on read: a socket silent past ``alive_window`` is not alive until
        a feed pushes ``note_alive`` again, and counters move only with a push."""
        clock.advance(30)
        assert not health.socket_alive() and health.frames_total == 0
        health.note_alive()
        health.note_frames(3, 300, {"bbo": 3})
        assert health.socket_alive() and health.frames_total == 3
        assert health.connection.last_alive == clock.now

    def test_rest_usage_and_fallback(self, health: FeedHealth) -> None:
        health.set_rest_usage(12, 600)
        assert (health.rest_weight_used, health.rest_budget) == (12, 600)
        assert health.take_changes() == {"status"}
        health.set_rest_usage(12, 600)
        assert health.take_changes() == set()
        health.set_fallback_active(True)
        assert health.fallback_active
        assert health.take_changes() == {"status"}  # the poller logs the switch itself
        health.set_fallback_active(True)
        assert health.take_changes() == set()
        health.set_fallback_active(False)
        assert not health.fallback_active
