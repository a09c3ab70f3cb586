"""The exchange's websocket limits as it reports them, and the user-subscription gate.

The exchange refuses work past its limits with ``error`` frames that echo nothing of the
request (2026 protocol page §1.2-1.3): ``Cannot track more than N total users.``, ``Cannot
subscribe to more than 1000 channels.``, ``Cannot send more than 2000 messages per minute.``,
``too many pending post requests id=<n>``. None closes the socket. ``parse_limit_error`` reads
them.

Because a user refusal cannot be matched to its request, ``UserGate`` sends the subscriptions of
a user not yet acknowledged on the connection one at a time: the next new user waits for the
ack, the error or a timeout. Subscriptions of a user already acknowledged go at once. When the
users refusal arrives, the cap becomes the number of users acknowledged then (the server's text
says 15 while it refuses the 15th user), and it stays for the run; users past the cap are not
subscribed (REST keeps their rows). Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from hlmon.protocol.subscriptions import Subscription

MAX_USERS_HARD = 15
"""The most users the exchange tracks per IP (its own text); ``max_users`` cannot exceed it."""


class LimitKind(StrEnum):
    USERS = "users"
    CHANNELS = "channels"
    MESSAGES = "messages"
    POSTS = "posts"


@dataclass(frozen=True, slots=True)
class LimitError:
    """A limit the server says was hit: its kind and the number in its text (None if none)."""

    kind: LimitKind
    limit: int | None
    text: str


_PATTERNS: tuple[tuple[LimitKind, re.Pattern[str]], ...] = (
    (LimitKind.USERS, re.compile(r"Cannot track more than (\d+) total users")),
    (LimitKind.CHANNELS, re.compile(r"Cannot subscribe to more than (\d+) channels")),
    (LimitKind.MESSAGES, re.compile(r"Cannot send more than (\d+) messages per minute")),
    (LimitKind.POSTS, re.compile(r"too many pending post requests()")),
)


def parse_limit_error(text: object) -> LimitError | None:
    """The limit an ``error`` frame's text reports, or None for any other error."""
    if not isinstance(text, str):
        return None
    for kind, pattern in _PATTERNS:
        found = pattern.search(text)
        if found is not None:
            digits = found.group(1)
            return LimitError(kind, int(digits) if digits else None, text)
    return None


def user_of(sub: Subscription) -> str | None:
    """The (lower-case) user a subscription is about, or None for market data."""
    user = sub.get("user")
    return user.lower() if isinstance(user, str) else None


class UserGate:
    """Which user subscriptions may be sent now, on one connection at a time.

    ``offer`` a user subscription, ``acked`` / ``failed`` the one in flight; each returns the
    subscriptions to send now, in order. ``reset`` at every new connection (the cap stays).
    """

    def __init__(self, max_users: int, *, learn_cap: bool = True) -> None:
        self.cap = max(0, min(max_users, MAX_USERS_HARD))
        """Users subscribed at most; lowered for good when the server refuses one."""
        self.learn_cap = learn_cap
        """Lower ``cap`` on a refusal (False: the owner keeps the cap across its sockets, as
        the daemon does)."""
        self.capped: list[str] = []
        """Users left unsubscribed because of the cap (on the current connection), in order."""
        self._acked: set[str] = set()
        self._inflight: Subscription | None = None
        self._queue: deque[Subscription] = deque()

    def reset(self) -> None:
        """A new connection: nobody is acknowledged on it yet."""
        self._acked.clear()
        self._inflight = None
        self._queue.clear()
        self.capped = []

    @property
    def inflight(self) -> Subscription | None:
        """The new user's subscription awaiting its ack (or error, or timeout)."""
        return self._inflight

    @property
    def acked_users(self) -> frozenset[str]:
        return frozenset(self._acked)

    @property
    def queued(self) -> list[Subscription]:
        return list(self._queue)

    def offer(self, sub: Subscription) -> list[Subscription]:
        """A user subscription to send: now if its user is acknowledged, else in turn."""
        user = user_of(sub)
        if user is None or user in self._acked:
            return [sub]
        self._queue.append(sub)
        return self._pump()

    def withdraw(self, sub: Subscription) -> None:
        """An unsubscribed subscription that was still waiting its turn."""
        self._queue = deque(s for s in self._queue if s.key != sub.key)

    def acked(self, sub: Subscription) -> list[Subscription]:
        """``sub`` was acknowledged: its user counts, and what waited on it may go."""
        user = user_of(sub)
        if user is not None:
            self._acked.add(user)
        if self._inflight is not None and self._inflight.key == sub.key:
            self._inflight = None
        return self._pump()

    def failed(self) -> list[Subscription]:
        """The subscription in flight got no ack (error or timeout): move on to the next."""
        self._inflight = None
        return self._pump()

    def refused(self, limit: int | None) -> list[Subscription]:
        """The server refused a new user: cap at the users acknowledged now (and at the
        server's number); the one in flight is given up."""
        if self.learn_cap:
            self.cap = min(self.cap, len(self._acked), limit if limit is not None else self.cap)
        return self.failed()

    def _pump(self) -> list[Subscription]:
        out: list[Subscription] = []
        waiting: deque[Subscription] = deque()
        while self._queue:
            sub = self._queue.popleft()
            user = user_of(sub) or ""
            if user in self._acked:
                out.append(sub)
            elif self._inflight is None and len(self._acked) < self.cap:
                self._inflight = sub
                out.append(sub)
            elif self._inflight is not None and user == user_of(self._inflight):
                waiting.append(sub)  # the same new user: after its first ack
            elif self._inflight is None:
                if user not in self.capped:
                    self.capped.append(user)
            else:
                waiting.append(sub)
        self._queue = waiting
        return out
