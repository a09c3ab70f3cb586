"""``SubscriptionBook``: what one websocket is subscribed to, what is sent, acked, held back.

The websocket feed (``hlmon.feeds.ws_feed``) does the I/O; this decides, without any, which
subscribe frames go out and when:

* market subscriptions go at once; a user's go through ``UserGate`` (one new user at a time,
  each acknowledged before the next, at most ``cap`` users: ``hlmon.feeds.ws_limits``);
* every frame sent is remembered until its ack (``pending``), so a late one is logged once and
  a user subscription in flight that times out lets the next one go;
* **hold-back**: since 2026 the exchange drops the whole socket about 0.1 s after a subscription
  naming a coin it does not list, with no close frame and no error (2026 protocol page §1.1).
  Names come from the market catalog, so this should not happen; if it does anyway (a catalog
  behind the exchange), the market subscriptions sent within ``burst_window`` of the drop and
  still unanswered, on a socket that was answering others, are held back: left out of every
  resubscription instead of taking the socket down again on each reconnect. Account feeds are
  never held back.

Pure: no I/O, no asyncio; times are the caller's monotonic seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hlmon.feeds.ws_limits import LimitError, LimitKind, UserGate, parse_limit_error, user_of
from hlmon.protocol.messages import SubscriptionAck
from hlmon.protocol.subscriptions import Subscription, ack_matches

BURST_WINDOW = 1.0
"""A socket dropped within this many seconds of a subscription's send, with that subscription
unanswered, counts as dropped over it (the exchange drops 0.1-0.16 s after a bad name)."""
HELD_BACK_KEPT = 64
"""Held-back subscriptions remembered (a drop after every subscribe of a weeks-long session
must not pile them up)."""


@dataclass
class Pending:
    """A subscribe frame sent on the current connection and not acknowledged yet."""

    sub: Subscription
    sent_at: float


class SubscriptionBook:
    """Subscriptions of one feed across its connections (see the module docstring)."""

    def __init__(
        self, max_users: int, *, burst_window: float = BURST_WINDOW, learn_cap: bool = True
    ) -> None:
        self.gate = UserGate(max_users, learn_cap=learn_cap)
        self.burst_window = burst_window
        self.subs: dict[str, Subscription] = {}
        """Everything subscribed (sent now if connected, and after every reconnect)."""
        self.pending: dict[str, Pending] = {}
        self.connected = False
        self.acks_on_connection = 0
        """Acks received on the current connection: proof the server answers there."""
        self.held_back: deque[Subscription] = deque(maxlen=HELD_BACK_KEPT)
        """The last ``HELD_BACK_KEPT`` subscriptions held back, oldest first."""

    # ------------------------------------------------------------------ the set

    def add(self, sub: Subscription, now: float) -> list[Subscription]:
        """Subscribe ``sub``; returns what to send now (nothing if already subscribed)."""
        if sub.key in self.subs:
            return []
        self.subs[sub.key] = sub
        return self._offer(sub, now) if self.connected else []

    def discard(self, sub: Subscription) -> bool:
        """Unsubscribe ``sub``; True if it was subscribed (then an unsubscribe is due)."""
        if self.subs.pop(sub.key, None) is None:
            return False
        self.pending.pop(sub.key, None)
        self.gate.withdraw(sub)
        return True

    def _offer(self, sub: Subscription, now: float) -> list[Subscription]:
        out = self.gate.offer(sub) if user_of(sub) is not None else [sub]
        return self._sent(out, now)

    def _sent(self, subs: list[Subscription], now: float) -> list[Subscription]:
        for sub in subs:
            self.pending[sub.key] = Pending(sub, now)
        return subs

    # ------------------------------------------------------------------ a connection

    def connect(self, now: float) -> list[Subscription]:
        """A new connection: everything is due again (users one at a time)."""
        self.connected = True
        self.pending.clear()
        self.gate.reset()
        self.acks_on_connection = 0
        out: list[Subscription] = []
        for sub in list(self.subs.values()):
            out.extend(self._offer(sub, now))
        return out

    def ack(self, echoed: SubscriptionAck, now: float) -> list[Subscription]:
        """A subscription response: match it; returns user subscriptions it releases."""
        if echoed.method != "subscribe":
            return []
        for key, pending in list(self.pending.items()):
            if ack_matches(pending.sub, echoed):
                del self.pending[key]
                self.acks_on_connection += 1
                if user_of(pending.sub) is not None:
                    return self._sent(self.gate.acked(pending.sub), now)
                return []
        return []

    def error(self, text: object, now: float) -> tuple[LimitError | None, list[Subscription]]:
        """An ``error`` frame: the limit it reports (if any) and what that releases.

        Users refusal: the user in flight is given up and the cap lowered. Messages refusal:
        every pending request failed (it is resent on the next connection). Other errors:
        nothing changes here.
        """
        limit = parse_limit_error(text)
        if limit is None:
            return None, []
        inflight = self.gate.inflight
        if limit.kind is LimitKind.USERS:
            if inflight is not None:
                self.pending.pop(inflight.key, None)
            return limit, self._sent(self.gate.refused(limit.limit), now)
        if limit.kind is LimitKind.MESSAGES:
            self.pending.clear()
            if inflight is not None:
                return limit, self._sent(self.gate.failed(), now)
        return limit, []

    def late(self, now: float, timeout: float) -> tuple[list[str], list[Subscription]]:
        """Pending subscriptions older than ``timeout`` (forgotten: logged once by the caller)
        and what the user one among them releases."""
        late = [key for key, p in self.pending.items() if now - p.sent_at >= timeout]
        released: list[Subscription] = []
        inflight = self.gate.inflight
        for key in late:
            del self.pending[key]
            if inflight is not None and key == inflight.key:
                released = self._sent(self.gate.failed(), now)
        return late, released

    def oldest_pending(self) -> float | None:
        """Send time of the oldest unacknowledged subscription (for the ack deadline)."""
        return min((p.sent_at for p in self.pending.values()), default=None)

    def disconnect(self, now: float, *, dropped: bool) -> list[Subscription]:
        """The connection ended; ``dropped``: by the server or the network (not by us).

        Returns the market subscriptions held back (see the module docstring); they are no
        longer subscribed.
        """
        self.connected = False
        held: list[Subscription] = []
        if dropped and self.acks_on_connection:
            held = [
                p.sub
                for p in self.pending.values()
                if user_of(p.sub) is None and now - p.sent_at <= self.burst_window
            ]
        for sub in held:
            del self.subs[sub.key]
        self.held_back.extend(held)
        self.pending.clear()
        return held


def sub_label(sub: Subscription) -> str:
    """``l2Book NOPE``, ``allMids dex xyz``: a subscription named for the log."""
    coin, dex = sub.get("coin"), sub.get("dex")
    return f"{sub.type} {coin}" if coin else f"{sub.type} dex {dex}" if dex else sub.type
