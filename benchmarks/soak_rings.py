"""The soak's view of every capped structure in a running ``Store``: how full it is and how
many bytes its items hold, so a heap slope measured while a ring still fills toward its cap
can be told apart from growth without a bound.

A ring that fills is growth, but growth toward a known ceiling: it is reported as such
("fills 1,230/2,000, 0.8 MB now, plateau 1.3 MB"), and the heap slope net of every capped
structure's bytes is what says whether anything *else* grows. Sizes are deep
``sys.getsizeof`` sums over the items (shared objects counted once per structure), which is
close to, not equal to, what ``tracemalloc`` attributes to them; the soak says so.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hlmon.state import Store
from hlmon.state.account import _TERMINAL_MEMORY

_SKIP = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def deep_bytes(roots: Iterable[Any]) -> int:
    """Bytes held by ``roots`` and everything they reach (classes, modules and functions
    excluded: they are not the structure's), each object counted once."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP) or obj is None:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


@dataclass(frozen=True)
class RingFill:
    """One capped structure at one moment."""

    name: str
    held: int
    cap: int
    bytes: int

    @property
    def full(self) -> bool:
        return self.held >= self.cap


def _ring(name: str, held: int, cap: int, roots: Iterable[Any]) -> RingFill:
    return RingFill(name, held, cap, deep_bytes(roots))


def ring_fills(store: Store) -> list[RingFill]:
    """Every capped structure of ``store`` that holds records (fills, tapes, histories, log,
    dedupe memories), with its cap. Per-coin rings are summed: their cap is the ring's cap
    times the coins held, and the coins per table are capped too (``coins_cap``)."""
    acct = store._account
    market = store._market
    extras = store._extras
    dedupe = (("fills", acct.fills), ("fundings", acct.fundings), ("ledger", acct.ledger))
    out = [_ring(name, len(ring), ring._cap, [ring._items, ring._sorted]) for name, ring in dedupe]
    log = store.health._log
    out.append(_ring("log", len(log), log.maxlen or 0, [log]))
    tapes = market.tapes
    out.append(
        _ring(
            f"trades ({len(tapes)} coins)",
            sum(len(t.ring) for t in tapes.values()),
            market._trades_cap * len(tapes),
            [tapes],
        )
    )
    candles = market.candles
    out.append(
        _ring(
            f"candles ({len(candles)} series)",
            sum(len(c) for c in candles.values()),
            market._candles_cap * len(candles),
            [candles],
        )
    )
    out.append(
        _ring(
            "closed order ids",
            len(acct._closed_ring),
            _TERMINAL_MEMORY,
            [acct._closed_ring, acct._closed_oids],
        )
    )
    twaps = extras.twap_history
    out.append(_ring("twap history", len(twaps), twaps.maxlen or 0, [twaps, extras._history_keys]))
    detector = extras.detector
    if detector is not None:
        out.append(
            _ring(
                "liquidation keys",
                len(detector._order),
                detector._memory,
                [detector._order, detector._seen],
            )
        )
    return out


def capped_mb(fills: list[RingFill]) -> float:
    return sum(f.bytes for f in fills) / 1e6


def plateau_rows(
    first: list[RingFill], last: list[RingFill], minutes: float
) -> list[dict[str, Any]]:
    """Each structure at the end: held/cap, bytes now, projected bytes when full, and, for one
    still filling, its fill rate after warm-up and the minutes until it is full."""
    before = {f.name.split(" (")[0]: f for f in first}
    rows = []
    for f in last:
        start = before.get(f.name.split(" (")[0])
        rate = None if start is None or minutes <= 0 else (f.held - start.held) / minutes
        # An empty ring has no item size to project from: its plateau is unknown (None).
        plateau = float(f.bytes) if f.full else (f.bytes / f.held * f.cap if f.held else None)
        rows.append(
            {
                "name": f.name,
                "held": f.held,
                "cap": f.cap,
                "full": f.full,
                "mb": round(f.bytes / 1e6, 3),
                "plateau_mb": None if plateau is None else round(plateau / 1e6, 3),
                "to_plateau_mb": None if plateau is None else round((plateau - f.bytes) / 1e6, 3),
                "fill_per_min": None if rate is None else round(rate, 1),
                "full_in_min": (
                    round((f.cap - f.held) / rate, 1) if rate and rate > 0 and not f.full else None
                ),
            }
        )
    return rows
