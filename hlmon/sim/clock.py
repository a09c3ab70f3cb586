"""Time sources for the simulator.

Every timestamp the simulator emits comes from one clock in milliseconds. ``WallClock`` follows
real time (optionally faster); ``ManualClock`` only moves when told to, which makes frames fully
deterministic for a seed. Any ``Callable[[], int]`` returning ms can be injected instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ClockFn = Callable[[], int]


class WallClock:
    """Real time in ms, optionally running ``rate`` times faster from ``start_ms``."""

    def __init__(self, rate: float = 1.0, start_ms: int | None = None) -> None:
        self._rate = rate
        self._mono0 = time.monotonic()
        self._start = int(time.time() * 1000) if start_ms is None else start_ms

    def __call__(self) -> int:
        return self._start + int((time.monotonic() - self._mono0) * 1000 * self._rate)


class ManualClock:
    """A clock that stands still until ``set``/``advance`` is called (tests, determinism)."""

    manual = True

    def __init__(self, start_ms: int = 1_790_000_000_000) -> None:
        self._now = start_ms

    def __call__(self) -> int:
        return self._now

    def set(self, now_ms: int) -> None:
        """Move the clock to ``now_ms`` (never backwards)."""
        self._now = max(self._now, now_ms)

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms``."""
        self._now += ms


def is_manual(clock: ClockFn) -> bool:
    """True for clocks that only move when the simulator is told to advance."""
    return bool(getattr(clock, "manual", False))
