"""The exchange's per-IP limits, enforced by the daemon for all its clients together.

Every terminal behind one daemon shares one egress IP, so the daemon counts for them all and
refuses, with the exchange's own ``error`` texts (2026 protocol page §1.3), whatever would make
the exchange refuse: a client then sees exactly what it would have seen upstream, but nothing
is sent that would burn a slot or a message for everyone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_USERS_CEILING = 15
"""The server's refusal text says 15 (§1.2); more can never be tracked per IP."""


@dataclass(frozen=True)
class DaemonLimits:
    """What the daemon allows all its clients together (per egress IP)."""

    max_users: int = 10
    """Unique users across user subscriptions: the documented 10 by default, at most 15."""
    max_subscriptions: int = 1000
    """Upstream subscriptions across every upstream socket."""
    messages_per_minute: int = 2000
    """Frames the daemon sends upstream (subscribes, unsubscribes, pings) in any minute."""
    rest_weight_per_minute: int = 1000
    """REST weight spent upstream in any minute (the exchange allows 1200 per IP; the rest is
    left for anything else on the host)."""
    max_upstream_sockets: int = 4
    """Upstream websockets the daemon opens at most (the exchange allows 10 per IP)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_users <= MAX_USERS_CEILING:
            raise ValueError(f"max_users must be 1..{MAX_USERS_CEILING}, got {self.max_users}")
        if not 1 <= self.rest_weight_per_minute <= 1200:
            raise ValueError("rest_weight_per_minute must be 1..1200 (the exchange's limit)")
        if not 1 <= self.max_upstream_sockets <= 10:
            raise ValueError("max_upstream_sockets must be 1..10 (the exchange's limit)")
        if not 1 <= self.max_subscriptions <= 1000:
            raise ValueError("max_subscriptions must be 1..1000 (the exchange's limit)")
        if not 1 <= self.messages_per_minute <= 2000:
            raise ValueError("messages_per_minute must be 1..2000 (the exchange's limit)")


def users_text(limit: int) -> str:
    """The exchange's refusal of one user too many."""
    return f"Cannot track more than {limit} total users."


def subscriptions_text(limit: int) -> str:
    """The exchange's refusal of one subscription too many."""
    return f"Cannot subscribe to more than {limit} channels."


def messages_text(limit: int) -> str:
    """The exchange's refusal of one client message too many in a minute."""
    return f"Cannot send more than {limit} messages per minute."


def sockets_text(limit: int) -> str:
    """The daemon's own refusal when a subscription would need one upstream socket too many
    (frames of some streams cannot be told apart on one socket, see ``upstream``)."""
    return (
        f"Cannot open more than {limit} upstream connections "
        "(hlmon daemon: this subscription conflicts with one on every open socket)"
    )


class MessageWindow:
    """Frames sent upstream in the last ``window`` seconds (sliding)."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._times: deque[tuple[float, int]] = deque()
        self._total = 0

    def used(self) -> int:
        """Frames in the window ending now."""
        cutoff = self._clock() - self.window
        times = self._times
        while times and times[0][0] <= cutoff:
            self._total -= times.popleft()[1]
        return self._total

    def add(self, n: int = 1) -> None:
        """Count ``n`` frames sent now."""
        if n > 0:
            self._times.append((self._clock(), n))
            self._total += n
