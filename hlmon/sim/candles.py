"""Candles: a synthetic deterministic past joined to live candles built from simulated trades.

History before the simulator started comes from a smooth pseudo-random price path anchored at
each coin's start price, so ``candleSnapshot`` can serve any range cheaply. Since the start, the
price of every coin at each minute is recorded compactly (one float per coin-minute), and
candles of untracked intervals are built from those. Exact live candles (OHLCV from trades) are
tracked per (coin, interval) from the first time someone asks for that pair.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hlmon.sim.numbers import fmt_ticks

MINUTE = 60_000
INTERVAL_MS: dict[str, int] = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": 60 * MINUTE,
    "2h": 120 * MINUTE,
    "4h": 240 * MINUTE,
    "8h": 480 * MINUTE,
    "12h": 720 * MINUTE,
    "1d": 1440 * MINUTE,
    "3d": 3 * 1440 * MINUTE,
    "1w": 7 * 1440 * MINUTE,
    "1M": 30 * 1440 * MINUTE,
}
"""Interval lengths; ``1M`` is handled on calendar months, this value is only its nominal size."""
MAX_CANDLES = 5000
MAX_MINUTES = 5000
"""Minute prices kept per coin (the oldest are dropped in chunks)."""
MINUTES_SLACK = 1000
"""Minutes over ``MAX_MINUTES`` before a chunk is dropped."""


def bucket_start(t_ms: int, interval: str) -> int:
    """Open time of the candle containing ``t_ms``."""
    if interval == "1M":
        d = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
        return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)
    if interval == "1w":  # weeks open on Monday 00:00 UTC; the epoch was a Thursday
        offset = 4 * 1440 * MINUTE
        return (t_ms + offset) // INTERVAL_MS["1w"] * INTERVAL_MS["1w"] - offset
    dur = INTERVAL_MS[interval]
    return t_ms // dur * dur


def bucket_end(t_open: int, interval: str) -> int:
    """Open time of the next candle."""
    if interval == "1M":
        d = datetime.fromtimestamp(t_open / 1000, tz=UTC)
        year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
    return t_open + INTERVAL_MS[interval]


def _noise(*key: int) -> float:
    """A stable pseudo-random number in [0, 1) from integers."""
    return (hash(key) & 0xFFFFFFFF) / 2**32


@dataclass(slots=True)
class LiveCandle:
    """The open candle of one (coin, interval): OHLC in ticks, volume in lots."""

    t: int
    close_t: int
    o: int
    h: int
    low: int
    c: int
    v: int
    n: int


@dataclass(slots=True)
class SyntheticPath:
    """A smooth deterministic price path for one coin, equal to ``anchor_px`` at ``anchor_t``."""

    seed: int
    coin_index: int
    anchor_px: float
    anchor_t: int
    vol: float
    base_lots_per_min: float
    _scale: float = field(default=1.0, init=False)

    def __post_init__(self) -> None:
        self._scale = self.anchor_px / self._raw(self.anchor_t)

    def _raw(self, t: int) -> float:
        ph1 = _noise(self.seed, self.coin_index, 1) * 6.283
        ph2 = _noise(self.seed, self.coin_index, 2) * 6.283
        x = (
            self.vol * 0.4 * math.sin(t / (3 * 86_400_000) * 6.283 + ph1)
            + self.vol * 0.15 * math.sin(t / (7 * 3_600_000) * 6.283 + ph2)
            + self.vol * 0.05 * (_noise(self.seed, self.coin_index, t // MINUTE) - 0.5)
        )
        return math.exp(x)

    def px(self, t: int) -> float:
        """Price at ``t`` ms."""
        return self._raw(t) * self._scale


class CandleBook:
    """Candles for all coins: synthetic history plus tracked live candles."""

    def __init__(self, seed: int, start_ms: int) -> None:
        self.seed = seed
        self.start_ms = start_ms
        self.paths: dict[int, SyntheticPath] = {}
        self.live: dict[tuple[int, str], LiveCandle] = {}
        self.closed: dict[tuple[int, str], list[LiveCandle]] = {}
        self._intervals: dict[int, list[str]] = {}
        self._minutes: dict[int, array[float]] = {}
        self._minute0: dict[int, int] = {}

    def record_minute(self, coin: int, minute: int, px: float) -> None:
        """Record ``px`` as the price of ``coin`` at the start of minute index ``minute``."""
        arr = self._minutes.get(coin)
        if arr is None:
            self._minutes[coin] = array("d", [px])
            self._minute0[coin] = minute
            return
        last = self._minute0[coin] + len(arr) - 1
        if minute <= last:
            return
        fill = arr[-1]
        for _ in range(minute - last - 1):  # minutes skipped by a coarse advance
            arr.append(fill)
        arr.append(px)
        if len(arr) > MAX_MINUTES + MINUTES_SLACK:
            drop = len(arr) - MAX_MINUTES
            del arr[:drop]
            self._minute0[coin] += drop

    def px_at(self, coin: int, t: int) -> float:
        """Price of ``coin`` at ``t``: recorded minute price, else the synthetic past."""
        arr = self._minutes.get(coin)
        if arr is not None:
            i = t // MINUTE - self._minute0[coin]
            if 0 <= i < len(arr):
                return arr[i]
            if i >= len(arr):
                return arr[-1]
        return self.paths[coin].px(t)

    def _range_px(self, coin: int, t: int, nxt: int) -> tuple[float, float] | None:
        """Max and min recorded minute prices in ``[t, nxt)``, or None if none recorded."""
        arr = self._minutes.get(coin)
        if arr is None:
            return None
        lo = max(t // MINUTE - self._minute0[coin], 0)
        hi = min((nxt - 1) // MINUTE - self._minute0[coin] + 1, len(arr))
        if lo >= hi:
            return None
        window = arr[lo:hi]
        return max(window), min(window)

    def add_path(self, path: SyntheticPath) -> None:
        """Register a coin's synthetic history."""
        self.paths[path.coin_index] = path

    def track(self, coin: int, interval: str, now: int, exp: int, mid_ticks: int) -> LiveCandle:
        """Start (or continue) tracking live candles of ``coin`` at ``interval``."""
        key = (coin, interval)
        cur = self.live.get(key)
        if cur is not None:
            return cur
        t = bucket_start(now, interval)
        o = max(1, round(self.px_at(coin, max(t, 0)) / 10**exp))
        cur = LiveCandle(
            t, bucket_end(t, interval) - 1, o, max(o, mid_ticks), min(o, mid_ticks), mid_ticks, 0, 0
        )
        self.live[key] = cur
        self.closed.setdefault(key, [])
        self._intervals.setdefault(coin, []).append(interval)
        return cur

    def tracked_intervals(self, coin: int) -> list[str]:
        """Intervals currently tracked for ``coin``."""
        return self._intervals.get(coin, [])

    def on_trade(self, coin: int, t: int, px_ticks: int, lots: int) -> list[LiveCandle]:
        """Fold one trade into every tracked candle of the coin; returns the touched candles."""
        touched = []
        for interval in self.tracked_intervals(coin):
            cur = self.roll(coin, interval, t, px_ticks)
            cur.h = max(cur.h, px_ticks)
            cur.low = min(cur.low, px_ticks)
            cur.c = px_ticks
            cur.v += lots
            cur.n += 1
            touched.append(cur)
        return touched

    def roll(self, coin: int, interval: str, t: int, last_ticks: int) -> LiveCandle:
        """The live candle for time ``t``, closing the previous one if ``t`` passed its end."""
        key = (coin, interval)
        cur = self.live[key]
        if t > cur.close_t:
            hist = self.closed[key]
            hist.append(cur)
            if len(hist) > MAX_CANDLES:
                del hist[: len(hist) - MAX_CANDLES]
            start = bucket_start(t, interval)
            cur = LiveCandle(
                start, bucket_end(start, interval) - 1, cur.c, cur.c, cur.c, cur.c, 0, 0
            )
            self.live[key] = cur
        return cur

    def snapshot(
        self,
        coin: int,
        name: str,
        interval: str,
        start: int,
        end: int,
        now: int,
        exp: int,
        sz_decimals: int,
    ) -> list[dict[str, object]]:
        """Candles with open time in ``[bucket(start), end]`` and not in the future (max 5000)."""
        key = (coin, interval)
        known: dict[int, LiveCandle] = {c.t: c for c in self.closed.get(key, [])}
        live = self.live.get(key)
        if live is not None:
            known[live.t] = live
        end = min(end, now)
        t = bucket_start(max(start, 0), interval)
        # Only the most recent MAX_CANDLES are reachable.
        if interval != "1M":
            oldest = bucket_start(now, interval) - (MAX_CANDLES - 1) * INTERVAL_MS[interval]
            t = max(t, oldest)
        out: list[dict[str, object]] = []
        path = self.paths[coin]
        lots_per_min = path.base_lots_per_min
        while t <= end and len(out) < MAX_CANDLES:
            nxt = bucket_end(t, interval)
            c = known.get(t)
            if c is None:
                c = self._synthetic(path, coin, t, min(nxt, now), nxt, exp, lots_per_min)
            out.append(candle_dict(c, name, interval, exp, sz_decimals))
            t = nxt
        return out

    def _synthetic(
        self,
        path: SyntheticPath,
        coin: int,
        t: int,
        close_at: int,
        nxt: int,
        exp: int,
        lots_per_min: float,
    ) -> LiveCandle:
        scale = 10**exp
        o = max(1, round(self.px_at(coin, t) / scale))
        c = max(1, round(self.px_at(coin, close_at) / scale))
        minutes = max((nxt - t) // MINUTE, 1)
        wiggle = path.vol * 0.004 * math.sqrt(minutes)
        u1, u2, u3 = (_noise(self.seed, coin, t, k) for k in (11, 12, 13))
        top, bottom = max(o, c), min(o, c)
        seen = self._range_px(coin, t, nxt)
        if seen is not None:
            top = max(top, round(seen[0] / scale))
            bottom = min(bottom, round(seen[1] / scale))
        h = top + round(top * wiggle * u1 * 0.3)
        low = max(1, bottom - round(bottom * wiggle * u2 * 0.3))
        v = max(1, int(lots_per_min * minutes * (0.4 + u3)))
        n = max(1, int(minutes * (3 + 40 * u3)))
        return LiveCandle(t, nxt - 1, o, h, low, c, v, n)


def candle_dict(c: LiveCandle, name: str, interval: str, exp: int, szd: int) -> dict[str, object]:
    """The wire shape of a candle (key order as the exchange sends it)."""
    return {
        "t": c.t,
        "T": c.close_t,
        "s": name,
        "i": interval,
        "o": fmt_ticks(c.o, exp),
        "c": fmt_ticks(c.c, exp),
        "h": fmt_ticks(c.h, exp),
        "l": fmt_ticks(c.low, exp),
        "v": fmt_ticks(c.v, -szd),
        "n": c.n,
    }
