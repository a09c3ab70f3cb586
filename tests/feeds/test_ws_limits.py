"""The exchange's limit errors, the one-user-at-a-time gate and the hold-back rule, without a
network (the loopback tests drive the same code against the simulator)."""

from __future__ import annotations

from hlmon.feeds.ws_limits import LimitKind, UserGate, parse_limit_error
from hlmon.feeds.ws_subscriptions import HELD_BACK_KEPT, SubscriptionBook
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.messages import SubscriptionAck
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import Store
from tests.support import FakeClock

A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40


def ack(sub: Subscription) -> SubscriptionAck:
    return SubscriptionAck(method="subscribe", subscription=sub.to_wire())


def test_limit_texts_are_read_verbatim() -> None:
    users = parse_limit_error("Cannot track more than 15 total users.")
    assert users is not None and (users.kind, users.limit) == (LimitKind.USERS, 15)
    channels = parse_limit_error("Cannot subscribe to more than 1000 channels.")
    assert channels is not None and (channels.kind, channels.limit) == (LimitKind.CHANNELS, 1000)
    messages = parse_limit_error("Cannot send more than 2000 messages per minute.")
    assert messages is not None and (messages.kind, messages.limit) == (LimitKind.MESSAGES, 2000)
    posts = parse_limit_error("too many pending post requests id=17")
    assert posts is not None and (posts.kind, posts.limit) == (LimitKind.POSTS, None)
    assert parse_limit_error("Already subscribed: {}") is None
    assert parse_limit_error(None) is None


class TestUserGate:
    def test_one_new_user_at_a_time(self) -> None:
        gate = UserGate(10)
        a_state, a_fills, b_state = (
            subs.clearinghouse_state(A), subs.user_fills(A), subs.clearinghouse_state(B)
        )  # fmt: skip
        assert gate.offer(a_state) == [a_state]  # the first new user goes at once
        assert gate.offer(a_fills) == []  # its other feeds wait for its first ack
        assert gate.offer(b_state) == []  # and so does the next new user
        assert gate.acked(a_state) == [a_fills, b_state]
        assert gate.inflight == b_state
        assert gate.offer(subs.open_orders(A)) == [subs.open_orders(A)]  # A is known now
        assert gate.offer(subs.l2_book("BTC")) == [subs.l2_book("BTC")]  # no user: no wait

    def test_refusal_caps_at_the_users_acknowledged(self) -> None:
        """'Cannot track more than 15 total users.' while the 3rd user is in flight: the cap
        becomes 2 for good, and later users are not sent (on this or any connection)."""
        gate = UserGate(10)
        for user in (A, B):
            sub = subs.clearinghouse_state(user)
            assert gate.offer(sub) == [sub]
            gate.acked(sub)
        c = subs.clearinghouse_state(C)
        assert gate.offer(c) == [c]
        assert gate.refused(15) == []
        assert gate.cap == 2 and gate.inflight is None
        d = subs.clearinghouse_state("0x" + "d" * 40)
        assert gate.offer(d) == []
        assert gate.capped == ["0x" + "d" * 40]
        gate.reset()
        assert gate.cap == 2
        assert [gate.offer(subs.clearinghouse_state(u)) for u in (A, B, C)] == [
            [subs.clearinghouse_state(A)], [], []
        ]  # fmt: skip

    def test_a_timeout_lets_the_next_user_go(self) -> None:
        gate = UserGate(10)
        a, b = subs.clearinghouse_state(A), subs.clearinghouse_state(B)
        gate.offer(a)
        gate.offer(b)
        assert gate.failed() == [b]

    def test_cap_never_above_the_exchange_maximum(self) -> None:
        assert UserGate(99).cap == 15


class TestSubscriptionBook:
    def test_market_subs_go_at_once_users_in_turn(self) -> None:
        book = SubscriptionBook(10)
        btc = subs.l2_book("BTC")
        book.add(btc, 0.0)
        book.add(subs.clearinghouse_state(A), 0.0)
        book.add(subs.clearinghouse_state(B), 0.0)
        assert book.connect(1.0) == [btc, subs.clearinghouse_state(A)]
        assert book.ack(ack(subs.clearinghouse_state(A)), 1.1) == [subs.clearinghouse_state(B)]
        assert book.oldest_pending() == 1.0

    def test_held_back_only_what_the_socket_died_over(self) -> None:
        """Dropped 0.1 s after a market subscription it never answered, while it answered the
        others: that one is held back, never the account feeds, never what it acked."""
        book = SubscriptionBook(10, burst_window=1.0)
        btc, nope, user = subs.l2_book("BTC"), subs.l2_book("NOPE"), subs.user_fills(A)
        for sub in (btc, user):
            book.add(sub, 0.0)
        book.connect(10.0)
        book.ack(ack(btc), 10.01)
        book.add(nope, 20.0)
        assert book.disconnect(20.1, dropped=True) == [nope]
        assert nope.key not in book.subs and user.key in book.subs and btc.key in book.subs
        assert list(book.held_back) == [nope]
        assert nope not in book.connect(21.0)  # not resubscribed

    def test_nothing_held_back_without_proof(self) -> None:
        """A socket that answered nothing, a drop long after the send, or our own close hold
        nothing back."""
        nope = subs.l2_book("NOPE")
        silent = SubscriptionBook(10)
        silent.add(nope, 0.0)
        silent.connect(0.0)
        assert silent.disconnect(0.1, dropped=True) == []
        late = SubscriptionBook(10)
        late.add(subs.l2_book("BTC"), 0.0)
        late.connect(0.0)
        late.ack(ack(subs.l2_book("BTC")), 0.0)
        late.add(nope, 1.0)
        assert late.disconnect(5.0, dropped=True) == []
        ours = SubscriptionBook(10)
        ours.add(subs.l2_book("BTC"), 0.0)
        ours.connect(0.0)
        ours.ack(ack(subs.l2_book("BTC")), 0.0)
        ours.add(nope, 1.0)
        assert ours.disconnect(1.1, dropped=False) == []

    def test_messages_refusal_fails_every_pending_request(self) -> None:
        book = SubscriptionBook(10)
        a, b = subs.clearinghouse_state(A), subs.clearinghouse_state(B)
        book.add(subs.l2_book("BTC"), 0.0)
        book.add(a, 0.0)
        book.add(b, 0.0)
        book.connect(0.0)
        limit, released = book.error("Cannot send more than 2000 messages per minute.", 0.5)
        assert limit is not None and limit.kind is LimitKind.MESSAGES
        assert released == [b] and list(book.pending) == [b.key]
        limit, released = book.error("Something odd", 0.6)
        assert limit is None and released == []


def test_server_errors_are_logged_rate_limited() -> None:
    """A limit error hundreds of times a second is one log line per 10 s, with a count."""
    clock = FakeClock()
    store = Store(clock)
    for _ in range(300):
        store.health.note_server_error("Cannot track more than 15 total users.")
    store.health.note_server_error("Cannot subscribe to more than 1000 channels.")
    clock.advance(10.5)
    store.health.note_server_error("Cannot track more than 15 total users.")
    lines = [e.text for e in store.health.events]
    assert lines == [
        "server error: Cannot track more than 15 total users.",
        "server error: Cannot subscribe to more than 1000 channels.",
        "server error: Cannot track more than 15 total users. (+299 more)",
    ]
    assert store.health.server_errors == 302


def test_held_back_subscriptions_are_remembered_up_to_a_cap() -> None:
    """A drop right after each new subscription, for weeks: the book remembers the last
    ``HELD_BACK_KEPT`` held back, the newest last, not every one."""
    book = SubscriptionBook(10, burst_window=1.0)
    btc = subs.l2_book("BTC")
    book.add(btc, 0.0)
    book.connect(0.0)
    book.ack(ack(btc), 0.01)
    t = 1.0
    for i in range(3 * HELD_BACK_KEPT):
        sub = subs.l2_book(f"C{i}")
        book.add(sub, t)
        assert book.disconnect(t + 0.1, dropped=True) == [sub]
        book.connect(t + 0.2)
        book.ack(ack(btc), t + 0.3)  # the new connection answers: the next drop is proof again
        t += 1.0
    assert len(book.held_back) == HELD_BACK_KEPT
    assert book.held_back[-1] == subs.l2_book(f"C{3 * HELD_BACK_KEPT - 1}")
