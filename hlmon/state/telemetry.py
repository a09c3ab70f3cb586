"""Frame counters: totals per channel and a sliding msg/s rate, in O(1) per frame."""

from __future__ import annotations

from collections import deque

RATE_WINDOW_S = 5
"""msg/s is averaged over this many whole seconds (plus the current partial second)."""
_MAX_CHANNELS = 64
"""Unknown channels are counted under one bucket beyond this many, so memory stays bounded."""


class FrameCounter:
    """Counts frames in one-second buckets keyed by ``int(clock)``."""

    def __init__(self) -> None:
        self.total = 0
        self.bytes_total = 0
        self.by_channel: dict[str, int] = {}
        self._buckets: deque[list[int]] = deque()  # [second, count], oldest first

    def add(self, now: float, channel: str, nbytes: int) -> None:
        self.total += 1
        self.bytes_total += nbytes
        by = self.by_channel
        if channel not in by and len(by) >= _MAX_CHANNELS:
            channel = "(other)"
        by[channel] = by.get(channel, 0) + 1
        sec = int(now)
        buckets = self._buckets
        if buckets and buckets[-1][0] == sec:
            buckets[-1][1] += 1
        else:
            if buckets and sec < buckets[-1][0]:
                # The clock stepped back (NTP): the buckets are from its "future" and would be
                # counted (and never trimmed) until the clock caught up. Start afresh.
                buckets.clear()
            buckets.append([sec, 1])
            self._trim(sec)

    def add_many(self, now: float, n: int, nbytes: int, by_channel: dict[str, int]) -> None:
        """Count ``n`` frames (``nbytes`` in all, ``by_channel`` per channel) received by ``now``.

        The same totals as ``n`` calls of ``add``, all in the second of ``now``: a feed that
        hands its counts over in batches (every few ms under load) costs one call per batch.
        """
        if n <= 0:
            return
        self.total += n
        self.bytes_total += nbytes
        by = self.by_channel
        for channel, count in by_channel.items():
            if channel not in by and len(by) >= _MAX_CHANNELS:
                channel = "(other)"
            by[channel] = by.get(channel, 0) + count
        sec = int(now)
        buckets = self._buckets
        if buckets and buckets[-1][0] == sec:
            buckets[-1][1] += n
        else:
            if buckets and sec < buckets[-1][0]:
                buckets.clear()  # the clock stepped back: see ``add``
            buckets.append([sec, n])
            self._trim(sec)

    def _trim(self, sec: int) -> None:
        buckets = self._buckets
        while buckets and buckets[0][0] < sec - RATE_WINDOW_S:
            buckets.popleft()

    def rate(self, now: float) -> float:
        """Frames per second over the last ~RATE_WINDOW_S seconds."""
        sec = int(now)
        self._trim(sec)
        # Buckets sec-5 .. sec: 5 whole seconds plus the running one, so divide by the span
        # actually covered to avoid under-reporting mid-second.
        count = sum(c for s, c in self._buckets if sec - RATE_WINDOW_S <= s <= sec)
        span = RATE_WINDOW_S + (now - sec)
        return count / span if span > 0 else 0.0
