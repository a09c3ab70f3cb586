"""The state's one reading of time: the injected clock, with steps back rebased away.

Ages are ``now - received_at``: a clock that stepped back an hour (NTP, VM resume) would make
hour-old data look brand new. Every holder of clock times (the store's stamps, the feed
health's liveness) registers a shift with ``on_step_back``; the first read that sees the step
moves every held time back by it, so ages stay true. Steps forward cannot be told from time
passing: data just looks old. One shared instance means one detection for all holders, whoever
happens to read first.
"""

from __future__ import annotations

from collections.abc import Callable

from .types import Clock

CLOCK_STEP_TOLERANCE = 2.0
"""Steps back of the clock up to this many seconds are not rebased (ages clamp at 0)."""


class RebasingClock:
    """Reads the injected wall clock; reports steps back to the holders of clock times."""

    def __init__(self, wall: Clock) -> None:
        """
        Args:
            wall: seconds since the epoch (``time.time`` in the app, a fake in tests).
        """
        self._wall = wall
        self._last: float | None = None
        self._shifts: list[Callable[[float], None]] = []

    def on_step_back(self, shift: Callable[[float], None]) -> None:
        """Call ``shift(delta)`` (``delta`` < 0) whenever the clock is seen stepping back."""
        self._shifts.append(shift)

    def now(self) -> float:
        """The wall clock now; a step back beyond ``CLOCK_STEP_TOLERANCE`` shifts held times."""
        now = self._wall()
        last, self._last = self._last, now
        if last is not None and now < last - CLOCK_STEP_TOLERANCE:
            for shift in self._shifts:
                shift(now - last)
        return now


class SteadyClock:
    """Wall-clock seconds that never step: the wall time when created, advanced by a monotonic
    clock from then on. What the store measures delays on (``Store(lag_clock=...)``): a step of
    the wall clock must not look like every feed lagging."""

    def __init__(self, wall: Clock, monotonic: Clock) -> None:
        """
        Args:
            wall: seconds since the epoch (read once).
            monotonic: a clock that only moves forward (``time.monotonic``).
        """
        self._monotonic = monotonic
        self._base = wall() - monotonic()

    def __call__(self) -> float:
        return self._base + self._monotonic()
