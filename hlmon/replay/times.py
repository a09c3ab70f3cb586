"""Recorded exchange times moved to the present, so a replay does not look like lag.

hlmon measures lag from the exchange's own timestamps (``hlmon.state.lag``): a book stamped
yesterday would be "late" by a day, and at a replay speed other than 1 the recorded times run
faster or slower than the clock they are compared with. The replay server therefore maps every
timestamp the lag is measured on through the same affine map its clock uses to turn recording
time into replay time (``ReplayClockMap``): a frame recorded ``d`` seconds after the exchange
stamped it arrives ``d / speed`` seconds after its new stamp. Lag that was in the recording is
still in the replay (scaled by the speed); a replay by itself adds none. Order is preserved (the
map is increasing), so "older state ignored" rules keep working.

Only the channels whose ``time`` is when the exchange produced the data are rewritten:
``l2Book``, ``bbo``, ``trades`` (every trade), ``clearinghouseState`` and
``allDexsClearinghouseState``. Fills, fundings, orders and candles keep their recorded times
(they date past events, not the push).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PRESENT_CHANNELS = frozenset(
    ("l2Book", "bbo", "trades", "clearinghouseState", "allDexsClearinghouseState")
)
"""Channels whose ``time`` fields are moved to the present."""

_TIME_STR = re.compile(r'"time"(\s*):(\s*)(\d{10,16})')


@dataclass(frozen=True, slots=True)
class ReplayClockMap:
    """Recording time -> wall-clock time now: ``epoch_at_base + (t - pos_base) / speed``."""

    recording_start: float
    """Wall-clock seconds the recording started (its t = 0)."""
    pos_base: float
    """Replay position (s from the recording's start) at the last clock change."""
    epoch_at_base: float
    """Wall-clock seconds at that change."""
    speed: float

    def ms(self, exchange_ms: int) -> int:
        """A recorded exchange time (ms) on today's clock."""
        rel = exchange_ms / 1000.0 - self.recording_start
        return round((self.epoch_at_base + (rel - self.pos_base) / self.speed) * 1000.0)


def present_text(text: str, channel: str, clock: ReplayClockMap) -> str:
    """``text`` with its exchange times moved to the present (unchanged for other channels)."""
    if channel not in PRESENT_CHANNELS:
        return text
    return _TIME_STR.sub(_replace(clock.ms), text)


def present_data(data: object, clock: ReplayClockMap) -> object:
    """A decoded ``/info`` answer (book, clearinghouse state) with its ``time`` moved."""
    if isinstance(data, dict) and isinstance(data.get("time"), int) and data["time"] > 0:
        return {**data, "time": clock.ms(data["time"])}
    return data


def _replace(ms: Callable[[int], int]) -> Callable[[re.Match[str]], str]:
    def one(m: re.Match[str]) -> str:
        return f'"time"{m.group(1)}:{m.group(2)}{ms(int(m.group(3)))}'

    return one
