"""Lag: how late data is on arrival, from the exchange's own timestamps.

A feed can arrive on time with old data (a lagging node, a slow path, a queue somewhere):
staleness (time since the last update) cannot see that. Books, bbo, trades and clearinghouse
states carry the exchange's ``time`` (ms); ``delay = received_at - time`` is the network and
server delay plus the difference between the two clocks. The clocks are never assumed to
agree: the usual delay (the *floor*) is estimated from the data itself, and only the part of a
delay above it counts as lag.

The floor is a low minimum of the delays over a sliding window (``LAG_WINDOW_S``): delays are
kept as one minimum per ``BUCKET_S`` bucket of receive time, and the floor is the *second*
smallest bucket minimum (the smallest while there is only one bucket), so one frame with a
bogus future ``time`` cannot make every other frame look late. Consequences worth knowing:

* a clock skew of any size (the machine's clock minutes off) is absorbed: it is in every
  delay, so in the floor too;
* a lag that started before hlmon did, or that lasts longer than the window, becomes the new
  floor and is no longer flagged (it cannot be told from a skew);
* delays are measured on a monotonic clock in the app (``Store(lag_clock=time.monotonic)``),
  which a step of the wall clock does not move: the floor absorbs the constant difference
  between it and the exchange's clock. (Measured on the store's own clock instead, a step
  back is followed by shifting the floor, and a step forward looks like lag until the window
  has passed.)
* delays beyond ``MAX_DELAY_S`` either way are implausible (a corrupt ``time``, a clock off by
  days) and are ignored: no sample, no lag.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from .types import Source

LAG_WINDOW_S = 300.0
"""Seconds of delays the floor is taken over."""
BUCKET_S = 2.0
"""Delays are kept as one minimum per bucket of this many seconds of receive time."""
MAX_DELAY_S = 86_400.0
"""A delay (either sign) beyond a day is a corrupt timestamp or clock, not a measurement."""
LAG_TIMED_FEEDS = frozenset(("book", "bbo", "trades", "account"))
"""Feed kinds whose ``time`` is when the exchange produced the data: lag is measured on them.
(Fills, fundings and candles carry times of past events, not of the push.)"""
LAG_INHERIT_FEEDS = frozenset(("mids", "ctx", "orders"))
"""Feed kinds without a usable time: over the websocket they take the socket's lag (the
newest lag measured on it), since frames on one socket arrive in the order they were sent."""
SOCKET_LAG_TTL = 30.0
"""A socket lag sample older than this says nothing about the frames arriving now."""


class LagMeter:
    """The floor of the delays over a sliding window, and each sample's lag above it."""

    def __init__(self, window_s: float = LAG_WINDOW_S, bucket_s: float = BUCKET_S) -> None:
        self._bucket_s = bucket_s
        self._n_buckets = max(1, round(window_s / bucket_s))
        self._buckets: deque[list[float]] = deque()
        """``[bucket index, minimum delay]``, oldest first."""
        self._floor: float | None = None
        self._last: list[float] | None = None
        """The newest bucket, and where it ends (receive time): the hot path's check."""
        self._last_end = 0.0

    @property
    def floor(self) -> float | None:
        """The usual delay (seconds, clock difference included); None before any sample."""
        return self._floor

    @property
    def settled(self) -> bool:
        """Delays from two buckets at least: the floor no longer rests on one moment (a lag
        that starts before this is taken for the usual delay)."""
        return len(self._buckets) >= 2

    def observe(self, received_at: float, exchange_ms: int) -> float | None:
        """Record one delay; return its lag in seconds (>= 0), None for an implausible one."""
        delay = received_at - exchange_ms * 0.001
        last = self._last
        # The hot path (thousands of frames a second): same bucket, not a new minimum.
        if last is not None and received_at < self._last_end and delay >= last[1]:
            floor = self._floor
            return delay - floor if floor is not None and delay > floor else 0.0
        if not -MAX_DELAY_S <= delay <= MAX_DELAY_S:
            return None
        return self._observe_slow(received_at, delay)

    def _observe_slow(self, received_at: float, delay: float) -> float:
        index = received_at // self._bucket_s
        buckets = self._buckets
        floor = self._floor
        recompute = False
        if buckets and buckets[-1][0] == index:
            last = buckets[-1]
            if delay < last[1]:
                last[1] = delay
                recompute = floor is None or delay <= floor
        elif not buckets or index > buckets[-1][0]:
            buckets.append([index, delay])
            recompute = floor is None or delay <= floor or len(buckets) <= 2
            while buckets[0][0] <= index - self._n_buckets:
                buckets.popleft()
                recompute = True
        # (A sample for an older bucket than the newest only happens within one loop turn
        # around a bucket edge; it is simply not kept.)
        self._last = buckets[-1]
        self._last_end = (buckets[-1][0] + 1) * self._bucket_s
        if recompute:
            floor = self._floor = _second_smallest([b[1] for b in buckets])
        return max(0.0, delay - floor) if floor is not None else 0.0

    def shift(self, delta: float) -> None:
        """The local clock stepped by ``delta`` s and held receive times moved with it: every
        delay measured so far moves by ``delta`` too."""
        steps = math.floor(delta / self._bucket_s)
        for bucket in self._buckets:
            bucket[0] += steps
            bucket[1] += delta
        if self._floor is not None:
            self._floor += delta
        self._last = None  # the next sample takes the slow path and re-reads the buckets


def _second_smallest(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    lo, second = (values[0], values[1]) if values[0] <= values[1] else (values[1], values[0])
    for v in values[2:]:
        if v < lo:
            lo, second = v, lo
        elif v < second:
            second = v
    return second


class LagStamps:
    """The store's lag bookkeeping, shared by its ingest halves (a base class of both, like
    them bound to the store): one ``LagMeter`` for every timed feed, and the newest lag
    measured on the websocket (which the feeds without a time inherit)."""

    # Set by Store.__init__.
    _lag: LagMeter
    _lag_clock: Callable[[], float] | None
    """Where delays are measured (a monotonic clock in the app), None: the store's clock."""
    _socket_lag: float | None
    _socket_lag_at: float | None

    def _measure_lag(self, exchange_ms: int, source: Source, now: float) -> float | None:
        """Lag of data stamped ``exchange_ms`` received ``now``; a websocket sample also
        becomes the socket's lag."""
        lag_clock = self._lag_clock
        lag = self._lag.observe(now if lag_clock is None else lag_clock(), exchange_ms)
        if source is Source.WS and lag is not None:
            self._socket_lag = lag
            self._socket_lag_at = now
        return lag

    def socket_lag(self, now: float) -> float | None:
        """The newest lag measured on the websocket, if recent (``SOCKET_LAG_TTL``)."""
        at = self._socket_lag_at
        if at is None or not -1.0 <= now - at <= SOCKET_LAG_TTL:
            return None
        return self._socket_lag
