"""Progress of active TWAP orders from ``twapStates`` (2026 protocol page §6.2). Pure: no I/O.

A TWAP of ``sz`` runs for ``minutes`` from ``timestamp`` (ms); ``executedSz`` / ``executedNtl``
say how much it has done. Progress = executed / total size; time left = start + duration -
now, never below zero (a TWAP past its end that is still listed is finishing its last slice).

Without ``twapStates`` (a websocket-only stream: REST mode) ``derived_twaps`` rebuilds them:
the TWAPs whose latest history entry (``twapHistory``) says they run, each with what its slice
fills held add up to. The exchange answers the last 2000 slice fills at most, so a TWAP older
than the slices held may have executed more than they show (``partial``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from hlmon.protocol.account_types import Fill, TwapHistoryItem, TwapState
from hlmon.protocol.messages import TwapStatesData
from hlmon.state.decimals import SAFE, dec_str, try_dec
from hlmon.state.dexes import coin_dex

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
    derived: bool = False
    """Rebuilt from the history and the slice fills held (no ``twapStates``): ``executed``,
    ``executed_ntl`` and the average are what those fills add up to."""
    partial: bool = False
    """``derived`` from slices that may not reach back to the TWAP's start: it has executed
    at least ``executed``."""
    slices_waiting: bool = False
    """``derived`` before any slice fills were answered: how much has executed is not known
    yet (``executed`` says 0 only for want of slices)."""

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


SLICES_ANSWERED = 2000
"""The most slice fills one ``userTwapSliceFills`` answer holds (the latest ones)."""
RUNNING = frozenset(("activated", "waitingForTrigger"))
"""History statuses of a TWAP that still runs (or waits for its trigger)."""


def derived_twaps(
    history: Iterable[TwapHistoryItem],
    fills: Iterable[Fill],
    now_ms: int,
    slices_from_ms: int | None = None,
    slices_loaded: bool = True,
) -> list[TwapProgress]:
    """The running TWAPs by their history, oldest first, with the size and notional their
    slice ``fills`` add up to; ``slices_from_ms``: the time before which slices may be missing
    (None: every slice is held); ``slices_loaded``: False while no slice fills have been
    answered (the TWAPs' progress is then unknown, not zero)."""
    latest: dict[int, TwapHistoryItem] = {}
    for item in history:
        if item.twapId is not None:
            seen = latest.get(item.twapId)
            if seen is None or item.time >= seen.time:  # same second: the later entry
                latest[item.twapId] = item
    running = {tid: item for tid, item in latest.items() if item.status.status in RUNNING}
    sums: dict[int, tuple[Decimal, Decimal]] = {}
    for fill in fills:
        if fill.twapId not in running:
            continue
        sz, px = try_dec(fill.sz), try_dec(fill.px)
        if sz is None or px is None:
            continue
        size, ntl = sums.get(fill.twapId, (Decimal(0), Decimal(0)))
        sums[fill.twapId] = (SAFE.add(size, sz), SAFE.add(ntl, SAFE.multiply(sz, px)))
    out = []
    for tid, item in running.items():
        size, ntl = sums.get(tid, (Decimal(0), Decimal(0)))
        state = msgspec.structs.replace(
            item.state, executedSz=dec_str(size) or "0", executedNtl=dec_str(ntl) or "0"
        )
        progress = twap_progress(tid, state, now_ms, coin_dex(state.coin))
        partial = slices_from_ms is not None and slices_from_ms > state.timestamp
        out.append(
            dataclasses.replace(
                progress, derived=True, partial=partial, slices_waiting=not slices_loaded
            )
        )
    return sorted(out, key=lambda t: (t.started_ms, t.twap_id))
