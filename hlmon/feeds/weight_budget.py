"""A rolling-window REST weight budget: reserve before sending, settle after the answer.

The exchange counts request weight per IP per minute (1200). hlmon spends at most its own
budget (``Settings.rest_weight_budget``, default half). Some requests cost extra per item
returned, which is only known after the response, so a request reserves its worst case up
front and the reservation is settled to the true cost afterwards: the window's total never
exceeds the budget, not even briefly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Reservation:
    """Weight held in the window for one request; ``settle`` sets its true cost."""

    at: float
    weight: int
    tag: str = ""
    """Who spent it (``WeightBudget.used`` can leave one spender out)."""


class WeightBudget:
    """Tracks weight spent in the last ``window`` seconds against ``budget``."""

    def __init__(
        self,
        budget: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if budget < 1:
            raise ValueError("budget must be positive")
        self.budget = budget
        self.window = window
        self._clock = clock
        self._entries: list[Reservation] = []
        self._paused_until = 0.0
        self.peak = 0
        """Highest window total ever observed (tests assert it never passes the budget)."""

    def _expire(self, now: float) -> None:
        cutoff = now - self.window
        if self._entries and self._entries[0].at <= cutoff:
            self._entries = [e for e in self._entries if e.at > cutoff]

    def used(self, *, except_tag: str | None = None) -> int:
        """Weight spent (or reserved) in the current window; with ``except_tag``, leaving out
        what reservations with that tag hold."""
        self._expire(self._clock())
        if except_tag is None:
            return sum(e.weight for e in self._entries)
        return sum(e.weight for e in self._entries if e.tag != except_tag)

    def wait_time(self, weight: int) -> float:
        """Seconds until ``weight`` fits in the window (0 = now; inf = never, too big)."""
        if weight > self.budget:
            return float("inf")
        now = self._clock()
        self._expire(now)
        wait = max(0.0, self._paused_until - now)
        total = sum(e.weight for e in self._entries)
        excess = total + weight - self.budget
        if excess > 0:
            # Entries leave the window oldest first; find when enough weight has left.
            freed = 0
            for entry in self._entries:
                freed += entry.weight
                if freed >= excess:
                    wait = max(wait, entry.at + self.window - now)
                    break
        return wait

    def reserve(self, weight: int, tag: str = "") -> Reservation:
        """Hold ``weight`` now, for the spender ``tag``. The caller must have checked
        ``wait_time(weight) == 0``."""
        now = self._clock()
        self._expire(now)
        entry = Reservation(at=now, weight=weight, tag=tag)
        self._entries.append(entry)
        self._note_peak()
        return entry

    def settle(self, reservation: Reservation, actual: int) -> None:
        """Replace a reservation's weight with what the request really cost."""
        reservation.weight = max(0, actual)
        self._note_peak()

    def pause_until(self, when: float) -> None:
        """Hold every request until ``when`` (clock time), e.g. after a 429 with Retry-After."""
        self._paused_until = max(self._paused_until, when)

    def _note_peak(self) -> None:
        self.peak = max(self.peak, sum(e.weight for e in self._entries))
