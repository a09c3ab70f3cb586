"""TWAP orders of the demo account: the schedule of slices, states, history and slice fills.

A TWAP of ``sz`` over ``minutes`` sends one slice every 30 seconds (``minutes * 2`` slices),
each taking the book like a market order; slice ``k`` brings the executed size to
``sz * (k + 1) / n`` rounded down to the coin's lot, and the last one takes the rest. Slice
fills never come on ``userFills``: they go to ``userTwapSliceFills``, the ``user`` channel's
``twapSliceFills`` member and REST ``userTwapSliceFills``, with an all-zero hash and the
``twapId``. History items (``userTwapHistory``, REST ``twapHistory``) carry ``time`` in
**seconds**. When a TWAP finishes the book schedules the next one a minute later on the same
coin, the other way, so a demo always has one running.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hlmon.sim.numbers import fmt_decimal, fmt_exact

SLICE_MS = 30_000
"""One slice every 30 s (the exchange's TWAP cadence)."""
RESTART_MS = 60_000
"""Pause between a finished demo TWAP and the next one."""
MAX_SLICE_FILLS = 2000
"""Slice fills kept (REST ``userTwapSliceFills`` serves the last 2000)."""
MAX_TWAP_HISTORY = 2000
"""History items kept (a demo TWAP restarts forever: two items per run)."""
TRIM_SLACK = 500
"""A list is trimmed once this far over its cap (one slice delete, not one per item)."""


@dataclass(slots=True)
class Twap:
    """One TWAP order."""

    twap_id: int
    coin: str
    dex: str
    side: str
    sz: Decimal
    minutes: int
    start: int
    """Start time (ms); ``timestamp`` on the wire."""
    sz_decimals: int
    reduce_only: bool = False
    randomize: bool = False
    executed_sz: Decimal = Decimal(0)
    executed_ntl: Decimal = Decimal(0)
    slices_done: int = 0

    @property
    def n_slices(self) -> int:
        return max(1, self.minutes * 60_000 // SLICE_MS)

    @property
    def next_at(self) -> int:
        """When the next slice is due (ms)."""
        return self.start + (self.slices_done + 1) * SLICE_MS

    @property
    def done(self) -> bool:
        return self.slices_done >= self.n_slices

    def slice_size(self) -> Decimal:
        """Size of the next slice (0 when the rounding leaves nothing for this one)."""
        k = self.slices_done + 1
        if k >= self.n_slices:
            return self.sz - self.executed_sz
        lot = Decimal(1).scaleb(-self.sz_decimals)
        target = (self.sz * k / self.n_slices).quantize(lot, rounding=ROUND_DOWN)
        return max(target - self.executed_sz, Decimal(0))

    def state(self, user: str) -> dict[str, Any]:
        """The ``TwapState`` wire object."""
        return {
            "coin": self.coin,
            "user": user,
            "side": self.side,
            "sz": fmt_exact(self.sz),
            "executedSz": fmt_exact(self.executed_sz),
            "executedNtl": fmt_decimal(self.executed_ntl),
            "minutes": self.minutes,
            "reduceOnly": self.reduce_only,
            "randomize": self.randomize,
            "timestamp": self.start,
            "trigger": None,
            "stopPx": None,
        }


class TwapBook:
    """Active TWAPs, their history and slice fills, for one user."""

    def __init__(self, user: str, first_id: int = 812_000) -> None:
        self.user = user
        self.active: dict[int, Twap] = {}
        self.history: list[dict[str, Any]] = []
        """History items, oldest first (``time`` in seconds)."""
        self.slice_fills: list[dict[str, Any]] = []
        """``{fill, twapId}`` items, oldest first."""
        self.pending: list[tuple[int, str, str, str, Decimal, int, int]] = []
        """TWAPs to start later: (at ms, coin, dex, side, sz, minutes, szDecimals)."""
        self._next_id = first_id

    def start(
        self,
        coin: str,
        dex: str,
        side: str,
        sz: Decimal,
        minutes: int,
        now: int,
        sz_decimals: int,
    ) -> tuple[Twap, dict[str, Any]]:
        """Start a TWAP now; returns it and its ``activated`` history item."""
        self._next_id += 1
        twap = Twap(self._next_id, coin, dex, side, sz, minutes, now, sz_decimals)
        self.active[twap.twap_id] = twap
        return twap, self._history(twap, now, "activated")

    def _history(self, twap: Twap, now: int, status: str) -> dict[str, Any]:
        item = {
            "time": now // 1000,
            "state": twap.state(self.user),
            "status": {"status": status},
            "twapId": twap.twap_id,
        }
        self.history.append(item)
        if len(self.history) > MAX_TWAP_HISTORY + TRIM_SLACK:
            del self.history[: len(self.history) - MAX_TWAP_HISTORY]
        return item

    def due(self, now: int) -> list[Twap]:
        """Active TWAPs with a slice due at ``now``, in id order."""
        return [t for _, t in sorted(self.active.items()) if t.next_at <= now]

    def record_slice(self, twap: Twap, fill: dict[str, Any] | None) -> dict[str, Any] | None:
        """Count one slice (``fill`` None: nothing to trade this time); returns the
        ``{fill, twapId}`` item."""
        twap.slices_done += 1
        if fill is None:
            return None
        sz = Decimal(fill["sz"])
        twap.executed_sz += sz
        twap.executed_ntl += sz * Decimal(fill["px"])
        item = {"fill": fill, "twapId": twap.twap_id}
        self.slice_fills.append(item)
        if len(self.slice_fills) > MAX_SLICE_FILLS + TRIM_SLACK:
            del self.slice_fills[: len(self.slice_fills) - MAX_SLICE_FILLS]
        return item

    def finish(
        self, twap: Twap, now: int, status: str = "finished", *, restart: bool = True
    ) -> dict[str, Any]:
        """End a TWAP (``finished`` or ``terminated``) and, with ``restart``, schedule the next
        demo TWAP."""
        self.active.pop(twap.twap_id, None)
        item = self._history(twap, now, status)
        if not restart:
            return item
        other = "A" if twap.side == "B" else "B"
        self.pending.append(
            (now + RESTART_MS, twap.coin, twap.dex, other, twap.sz, twap.minutes, twap.sz_decimals)
        )
        return item

    def take_pending(self, now: int) -> list[tuple[str, str, str, Decimal, int, int]]:
        """Scheduled TWAPs due at ``now`` (removed from the schedule)."""
        due = [p for p in self.pending if p[0] <= now]
        self.pending = [p for p in self.pending if p[0] > now]
        return [p[1:] for p in due]

    def states(self, dex: str) -> list[list[Any]]:
        """``twapStates`` ``states`` of one perp dex: ``[twapId, state]`` pairs."""
        return [[tid, t.state(self.user)] for tid, t in sorted(self.active.items()) if t.dex == dex]

    def recent_slice_fills(self, limit: int = MAX_SLICE_FILLS) -> list[dict[str, Any]]:
        """REST ``userTwapSliceFills``: the most recent slice fills, newest first."""
        return list(reversed(self.slice_fills[-limit:]))

    def slice_fills_between(
        self, start: int, end: int, limit: int = MAX_SLICE_FILLS
    ) -> list[dict[str, Any]]:
        """REST ``userTwapSliceFillsByTime``: slices with ``start <= time <= end``, oldest
        first, at most ``limit`` (as ``userFillsByTime`` pages)."""
        return [i for i in self.slice_fills if start <= i["fill"]["time"] <= end][:limit]
