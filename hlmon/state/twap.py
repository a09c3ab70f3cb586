"""Progress of active TWAP orders from ``twapStates`` (2026 protocol page §6.2). Pure: no I/O.

A TWAP of ``sz`` runs for ``minutes`` from ``timestamp`` (ms); ``executedSz`` / ``executedNtl``
say how much it has done. Progress = executed / total size; time left = start + duration -
now, never below zero (a TWAP past its end that is still listed is finishing its last slice).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hlmon.protocol.account_types import TwapState
from hlmon.protocol.messages import TwapStatesData
from hlmon.state.decimals import SAFE, dec_str, try_dec

PROGRESS_PLACES = 6
_ZERO = Decimal(0)
_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class TwapProgress:
    """One active TWAP. Sizes and prices are decimal strings; None = unknown."""

    twap_id: int
    dex: str
    coin: str
    side: str
    """``B`` buy, ``A`` sell."""
    size: str
    executed: str
    remaining: str | None
    """Size still to execute (``size - executed``, not below zero)."""
    fraction: str | None
    """``executed / size`` in 0..1 (6 places); None when the size is not a positive number."""
    executed_ntl: str
    average_px: str | None
    """``executedNtl / executedSz``; None before the first slice."""
    started_ms: int
    ends_ms: int
    time_left_ms: int
    minutes: int
    reduce_only: bool
    randomize: bool
    trigger_px: str | None
    trigger_above: bool | None
    stop_px: str | None

    @property
    def percent(self) -> str | None:
        """Progress in percent with one decimal (``"25.0"``)."""
        fraction = try_dec(self.fraction)
        return None if fraction is None else dec_str(SAFE.multiply(fraction, Decimal(100)), 1)


def twap_progress(twap_id: int, state: TwapState, now_ms: int, dex: str = "") -> TwapProgress:
    """The progress of one TWAP at ``now_ms``."""
    size, executed = try_dec(state.sz), try_dec(state.executedSz)
    ntl = try_dec(state.executedNtl)
    remaining = fraction = average = None
    if size is not None and executed is not None:
        remaining = max(_ZERO, SAFE.subtract(size, executed))
        if size > _ZERO:
            ratio = SAFE.divide(executed, size)
            fraction = SAFE.quantize(ratio, Decimal(1).scaleb(-PROGRESS_PLACES))
    if ntl is not None and executed is not None and executed > _ZERO:
        average = SAFE.divide(ntl, executed)
    ends = state.timestamp + state.minutes * _MINUTE_MS
    trigger = state.trigger
    return TwapProgress(
        twap_id=twap_id,
        dex=dex,
        coin=state.coin,
        side=state.side,
        size=state.sz,
        executed=state.executedSz,
        remaining=dec_str(remaining),
        fraction=dec_str(fraction),
        executed_ntl=state.executedNtl,
        average_px=dec_str(average),
        started_ms=state.timestamp,
        ends_ms=ends,
        time_left_ms=max(0, ends - now_ms),
        minutes=state.minutes,
        reduce_only=state.reduceOnly,
        randomize=state.randomize,
        trigger_px=trigger.px if trigger is not None else None,
        trigger_above=trigger.above if trigger is not None else None,
        stop_px=state.stopPx,
    )


def twaps_of(data: TwapStatesData, now_ms: int) -> list[TwapProgress]:
    """Every TWAP of one ``twapStates`` push, in the push's order."""
    return [twap_progress(tid, state, now_ms, data.dex) for tid, state in data.states]
