"""What the connection facts say: a short reason while not live, the round trip of the current
socket only, and a crashed engine task's recovery that is not a reconnect."""

from __future__ import annotations

import pytest

from hlmon.state import ConnState, FeedHealth
from hlmon.state.reasons import MAX_REASON, short_reason

from .conftest import FakeClock

URL = "ws://127.0.0.1:9/ws"


class TestShortReason:
    @pytest.mark.parametrize(
        ("error", "reason"),
        [
            (
                "ClientConnectorError: Cannot connect to host 127.0.0.1:9 ssl:default "
                "[Connect call failed ('127.0.0.1', 9)]",
                "cannot connect: 127.0.0.1:9 refused",
            ),
            (
                "ClientConnectorDNSError: Cannot connect to host nowhere.invalid:443 "
                "ssl:default [Name or service not known]",
                "DNS: nowhere.invalid not found",
            ),
            (
                "ClientConnectorCertificateError: Cannot connect to host api.x:443 ssl:True "
                "[SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] ...')]",
                "TLS error: certificate",
            ),
            (
                "WSServerHandshakeError: 503, message='Invalid response status', "
                "url='ws://127.0.0.1:8/ws'",
                "HTTP 503",
            ),
            ("TimeoutError: timed out opening the socket", "timed out connecting"),
            ("closed by server (code 1006: going away)", "closed by server (1006)"),
            ("socket dropped without a close frame", "connection dropped"),
            ("SocketDead: no pong within 10 s", "no pong within 10 s"),
            (
                "internal error in fallback: RuntimeError('boom'); restarting it in 0.4 s",
                "internal error in fallback",
            ),
            ("websocket disabled in settings", "websocket disabled"),
        ],
    )
    def test_classified(self, error: str, reason: str) -> None:
        assert short_reason(error) == reason

    def test_unknown_text_is_clipped_not_lost(self) -> None:
        assert short_reason(None) is None
        long = "ValueError: " + "x" * 200
        got = short_reason(long)
        assert got is not None and len(got) == MAX_REASON and got.endswith("…")
        assert got.startswith("xxx")


class TestReason:
    def test_reason_while_not_live_and_gone_once_live(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.CONNECTING, url=URL)
        assert h.connection.reason is None  # nothing went wrong yet
        h.set_connection(
            ConnState.CONNECTING,
            attempt=1,
            next_retry_in=0.5,
            error="ClientConnectorError: Cannot connect to host 127.0.0.1:9 ssl:default [x]",
            reason="cannot connect: 127.0.0.1:9 refused",
        )
        assert h.connection.reason == "cannot connect: 127.0.0.1:9 refused"
        # The rate limiter's extra wait passes no error: the reason stays.
        h.set_connection(ConnState.CONNECTING, attempt=1, next_retry_in=2.0)
        assert h.connection.reason == "cannot connect: 127.0.0.1:9 refused"
        # The full text stays in the log.
        assert "Cannot connect to host 127.0.0.1:9" in h.events[-1].text
        h.set_connection(ConnState.LIVE)
        assert h.connection.reason is None
        assert h.connection.last_error is not None  # history, not shown

    def test_reason_classified_from_the_error_when_not_given(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.DOWN, error="internal error in accounts-poller: KeyError(1)")
        assert h.connection.reason == "internal error in accounts-poller"


class TestRoundTrip:
    def test_a_new_socket_forgets_the_old_round_trip(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.LIVE)
        h.note_rtt(3001.0)
        h.set_connection(ConnState.RECONNECTING, attempt=1, error="closed by server")
        h.set_connection(ConnState.LIVE)
        assert h.ws_rtt_ms is None
        h.note_rtt(12.0)
        assert h.ws_rtt_ms == 12.0

    def test_live_epoch_counts_new_sockets(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        assert h.live_epoch == 0
        h.set_connection(ConnState.LIVE)
        h.set_connection(ConnState.LIVE)
        assert h.live_epoch == 1
        h.set_connection(ConnState.RECONNECTING, attempt=1)
        h.set_connection(ConnState.LIVE)
        assert h.live_epoch == 2


class TestRecovery:
    def test_task_crash_then_recovery_is_not_a_reconnect(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.LIVE, url=URL)
        since = h.connection.connected_since
        h.note_rtt(20.0)
        clock.advance(5)
        h.set_connection(
            ConnState.DOWN, error="internal error in fallback: RuntimeError('x'); restarting"
        )
        c = h.connection
        assert (c.state, c.reason) == (ConnState.DOWN, "internal error in fallback")
        clock.advance(1)
        h.recover("fallback", socket_live=True)
        c = h.connection
        assert (c.state, c.reconnects, c.connected_since) == (ConnState.LIVE, 0, since)
        assert c.reason is None and h.ws_rtt_ms == 20.0 and h.live_epoch == 1
        texts = [e.text for e in h.events]
        assert texts[-1] == "fallback recovered; the websocket stayed connected"
        assert not any(t.startswith("reconnected") for t in texts)

    def test_no_recovery_when_the_socket_went_meanwhile(self, clock: FakeClock) -> None:
        h = FeedHealth(clock)
        h.set_connection(ConnState.LIVE, url=URL)
        h.set_connection(ConnState.DOWN, error="internal error in fallback: x")
        h.recover("fallback", socket_live=False)
        assert h.connection.state is ConnState.DOWN  # the websocket feed reports its own
        # The socket was lost and came back while DOWN: that one is a reconnect.
        h.set_connection(ConnState.RECONNECTING, attempt=1)
        h.set_connection(ConnState.LIVE)
        assert h.connection.reconnects == 1
