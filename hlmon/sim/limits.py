"""Exchange-like limits: connections, subscriptions, users, inbound messages and REST weight.

All limits are per client IP and configurable, so tests can hit them quickly and benchmarks can
lift them. Windows are sliding 60 s windows over real (monotonic) time. A refused subscription
or message gets an ``error`` frame with the exchange's text, which echoes nothing of the
request; the socket stays open.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

MAX_CLIENTS = 1024
"""Client addresses with a budget at once (a sim reachable on a network sees many)."""


@dataclass(frozen=True, slots=True)
class SimLimits:
    """Per-IP limits (defaults are Hyperliquid's documented values)."""

    max_connections: int = 10
    """Concurrent websocket connections."""
    new_connections_per_minute: int = 30
    """New websocket connections in any 60 s."""
    max_subscriptions: int = 1000
    """Subscriptions across all connections."""
    max_users: int = 14
    """Distinct users (lower-cased) across the user-scoped subscriptions of all of an IP's
    connections; the next new user is refused (a user already held costs nothing more)."""
    max_users_text: int | None = None
    """The N of ``Cannot track more than N total users.``; None: ``max_users + 1``, as the
    exchange of 2026 says 15 while it refuses the 15th user."""
    messages_per_minute: int = 2000
    """Client->server websocket messages in any 60 s."""
    rest_weight_per_minute: int = 1200
    """REST /info weight in any 60 s (ws ``post`` info requests count too)."""
    send_queue_max: int = 50_000
    """Frames queued for one socket before the server drops that slow socket."""
    window_s: float = 60.0
    """Length of the sliding windows."""


def users_refusal(limits: SimLimits) -> str:
    """The ``error`` text for a new user past the cap (verbatim exchange wording)."""
    n = limits.max_users + 1 if limits.max_users_text is None else limits.max_users_text
    return f"Cannot track more than {n} total users."


def subscriptions_refusal(limits: SimLimits) -> str:
    """The ``error`` text for a subscription past the per-IP cap."""
    return f"Cannot subscribe to more than {limits.max_subscriptions} channels."


def messages_refusal(limits: SimLimits) -> str:
    """The ``error`` text for a client message past the per-minute budget."""
    return f"Cannot send more than {limits.messages_per_minute} messages per minute."


class SlidingWindow:
    """Sum of amounts added in the last ``window_s`` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._items: deque[tuple[float, int]] = deque()
        self._total = 0

    def used(self, now: float | None = None) -> int:
        """Amount used in the window ending at ``now``."""
        now = time.monotonic() if now is None else now
        cutoff = now - self.window_s
        while self._items and self._items[0][0] <= cutoff:
            self._total -= self._items.popleft()[1]
        return self._total

    def add(self, amount: int, now: float | None = None) -> None:
        """Record ``amount`` at ``now``."""
        now = time.monotonic() if now is None else now
        self._items.append((now, amount))
        self._total += amount


@dataclass(slots=True)
class ClientBudget:
    """Usage counters of one client IP."""

    connections: int = 0
    new_connections: SlidingWindow = field(default_factory=lambda: SlidingWindow(60.0))
    messages: SlidingWindow = field(default_factory=lambda: SlidingWindow(60.0))
    rest_weight: SlidingWindow = field(default_factory=lambda: SlidingWindow(60.0))


class LimitTracker:
    """Budgets per IP, checked by the server before it accepts work."""

    def __init__(self, limits: SimLimits) -> None:
        self.limits = limits
        self._clients: dict[str, ClientBudget] = {}

    def client(self, ip: str) -> ClientBudget:
        """The budget of ``ip`` (created on first use)."""
        budget = self._clients.pop(ip, None)
        if budget is not None:
            self._clients[ip] = budget  # last used last: the idle ones come first
            return budget
        if len(self._clients) >= MAX_CLIENTS:
            self._forget_one_idle()
        w = self.limits.window_s
        budget = ClientBudget(0, SlidingWindow(w), SlidingWindow(w), SlidingWindow(w))
        self._clients[ip] = budget
        return budget

    def _forget_one_idle(self) -> None:
        """Drop the least recently used client with no connection open (its windows are a
        minute long: one idle for longer than that loses nothing by being forgotten)."""
        for ip, budget in self._clients.items():
            if budget.connections == 0:
                del self._clients[ip]
                return

    def try_connect(self, ip: str) -> str | None:
        """Account a new connection; returns a refusal reason or None if allowed."""
        b = self.client(ip)
        if b.connections >= self.limits.max_connections:
            return "Too many connections"
        if b.new_connections.used() >= self.limits.new_connections_per_minute:
            return "Too many new connections"
        b.connections += 1
        b.new_connections.add(1)
        return None

    def disconnect(self, ip: str) -> None:
        """Release a connection slot."""
        b = self.client(ip)
        b.connections = max(0, b.connections - 1)

    def try_message(self, ip: str) -> bool:
        """Count one inbound ws message; False if over the per-minute cap."""
        b = self.client(ip)
        if b.messages.used() >= self.limits.messages_per_minute:
            return False
        b.messages.add(1)
        return True

    def rest_allowed(self, ip: str, weight: int) -> bool:
        """True if a request of ``weight`` fits in the budget now."""
        return self.client(ip).rest_weight.used() + weight <= self.limits.rest_weight_per_minute

    def charge_rest(self, ip: str, weight: int) -> None:
        """Record REST weight spent."""
        self.client(ip).rest_weight.add(weight)
