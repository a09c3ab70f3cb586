"""Account state for the watched address: clearinghouse, open orders, fills, fundings, ledger.

Plain data plus the merge rules; the Store decides which messages reach it (user filter) and
stamps them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import msgspec

from hlmon.protocol.messages import (
    ClearinghouseState,
    Fill,
    FrontendOrder,
    Funding,
    LedgerUpdate,
    Liquidation,
    OrderUpdate,
)

from .dexes import FILL_ACTIVITY_MS
from .dexes import coin_dex as coin_dex
from .order_status import OrderClass, classify_status
from .rings import DedupeRing

_TERMINAL_MEMORY = 4096
"""How many closed oids to remember, so a late ``open`` update cannot resurrect them."""


FillKey = tuple[int | str, ...]


def fill_key(f: Fill) -> FillKey:
    """A fill's identity for dedupe: ``(tid, oid)``. Fills without a trade id (``tid`` 0, as
    in older history) are told apart by ``(oid, hash, time, coin, px, sz)`` instead: several
    partial fills of one order would otherwise collapse into one."""
    if f.tid:
        return (f.tid, f.oid)
    return (f.oid, f.hash, f.time, f.coin, f.px, f.sz)


def _fill_order(f: Fill) -> tuple[int, int, int]:
    # oid breaks ties so the order is total and eviction deterministic
    return (f.time, f.tid, f.oid)


def _funding_key(f: Funding) -> tuple[int, str]:
    return (f.time, f.coin)


def _ledger_key(u: LedgerUpdate) -> tuple[str, int]:
    return (u.hash, u.time)


def _ledger_order(u: LedgerUpdate) -> tuple[int, str]:
    return (u.time, u.hash)


class AccountState:
    """Everything hlmon knows about one account."""

    def __init__(self, *, fills_cap: int, fundings_cap: int, ledger_cap: int) -> None:
        self.clearinghouse: dict[str, ClearinghouseState] = {}
        """By perp dex NAME (``""`` is the default dex). A dex missing here is unknown, not
        empty: an ``allDexsClearinghouseState`` push without a dex leaves its state alone."""
        self.dexes_listed = False
        """An ``allDexsClearinghouseState`` push has listed the account's dexes."""
        self.orders_loaded: set[str] = set()
        """Dexes whose full open-orders list has arrived (``replace_orders``)."""
        self.activity: dict[str, int] = {}
        """dex -> exchange time (ms) until which a fill, funding or order update seen on it
        keeps it "active" (its orders fetched), besides margin or positions."""
        self.orders: dict[int, FrontendOrder] = {}
        self.order_flags: dict[int, str] = {}
        """oid -> the last non-``open`` status that kept it listed: ``triggered``, or a
        status hlmon does not know (until the next ``openOrders`` snapshot settles it)."""
        self._closed_oids: set[int] = set()
        self._closed_ring: deque[int] = deque()
        self._closing: dict[str, dict[int, None]] = {}
        """dex -> oids ended by an update since that dex's last snapshot: the first snapshot
        after the update may have been built before it, so it cannot list them again; the
        one after it is the authority (never a marker that hides an order for good). Ordered
        and capped like the closed-order memory, for a dex whose snapshots stop coming."""
        self._orders_sorted: list[FrontendOrder] | None = None
        self.fills: DedupeRing[Fill] = DedupeRing(fills_cap, fill_key, _fill_order)
        self.fundings: DedupeRing[Funding] = DedupeRing(fundings_cap, _funding_key, _funding_key)
        self.ledger: DedupeRing[LedgerUpdate] = DedupeRing(ledger_cap, _ledger_key, _ledger_order)
        self.liquidations: deque[Liquidation] = deque(maxlen=50)

    def clear(self) -> None:
        """Forget everything (the watched address changed)."""
        self.clearinghouse.clear()
        self.dexes_listed = False
        self.orders_loaded.clear()
        self.activity.clear()
        self.orders.clear()
        self.order_flags.clear()
        self._closed_oids.clear()
        self._closed_ring.clear()
        self._closing.clear()
        self._orders_sorted = None
        self.fills.clear()
        self.fundings.clear()
        self.ledger.clear()
        self.liquidations.clear()

    # ------------------------------------------------------------------ orders

    def _remember_closed(self, oid: int, coin: str) -> None:
        closing = self._closing.setdefault(coin_dex(coin), {})
        closing[oid] = None
        if len(closing) > _TERMINAL_MEMORY:
            del closing[next(iter(closing))]
        self.order_flags.pop(oid, None)
        if oid in self._closed_oids:
            return
        self._closed_oids.add(oid)
        self._closed_ring.append(oid)
        if len(self._closed_ring) > _TERMINAL_MEMORY:
            self._closed_oids.discard(self._closed_ring.popleft())

    def note_activity(self, coin: str, time_ms: int, keep_ms: int = FILL_ACTIVITY_MS) -> None:
        """A fill, funding or order update on ``coin`` at ``time_ms``: its dex is active for
        ``keep_ms`` more."""
        dex = coin_dex(coin)
        until = time_ms + keep_ms
        if until > self.activity.get(dex, -1):
            self.activity[dex] = until

    def replace_orders(self, dex: str, orders: list[FrontendOrder]) -> bool:
        """A full ``openOrders`` list for one dex replaces that dex's orders; True if what is
        held changed (the exchange re-pushes the list every few seconds, mostly the same:
        nothing on screen needs rebuilding then).

        The snapshot is the authority: only an order ended by an update since the dex's
        previous snapshot is left out (this push may predate the update), and only this once.
        Flags of unknown statuses are settled by it; ``triggered`` stays on listed orders.
        """
        before = self._dex_orders(dex)
        first = dex not in self.orders_loaded
        self.orders_loaded.add(dex)
        closing = self._closing.pop(dex, {})
        for oid in [oid for oid, o in self.orders.items() if coin_dex(o.coin) == dex]:
            del self.orders[oid]
        for order in orders:
            if order.oid not in closing:
                self.orders[order.oid] = order
        for oid in [oid for oid in self.order_flags if oid not in self.orders]:
            del self.order_flags[oid]
        for oid, flag in list(self.order_flags.items()):
            if flag != "triggered" and coin_dex(self.orders[oid].coin) == dex:
                del self.order_flags[oid]
        if not first and self._dex_orders(dex) == before:
            self.orders.update(before[0])  # the held objects stay, as the sorted list has them
            return False
        self._orders_sorted = None
        return True

    def _dex_orders(self, dex: str) -> tuple[dict[int, FrontendOrder], dict[int, str]]:
        """``dex``'s orders and their flags, by oid (to tell a changed list from a re-push)."""
        orders = {oid: o for oid, o in self.orders.items() if coin_dex(o.coin) == dex}
        return orders, {oid: f for oid, f in self.order_flags.items() if oid in orders}

    def apply_order_updates(self, updates: list[OrderUpdate]) -> bool:
        """Apply status updates by class (``order_status``): ``open`` and ``triggered`` upsert
        the order (``triggered`` is flagged: it now rests on the book), ``filled`` and every
        cancel/reject remove it, an unknown status keeps it flagged until the next snapshot.
        True if anything changed."""
        changed = False
        for upd in updates:
            o = upd.order
            self.note_activity(o.coin, upd.statusTimestamp)
            cls = classify_status(upd.status)
            if cls in (OrderClass.FILLED, OrderClass.ENDED):
                self._remember_closed(o.oid, o.coin)
                if self.orders.pop(o.oid, None) is not None:
                    changed = True
                continue
            if o.oid in self._closed_oids:
                continue  # a late update for an order already closed
            if upd.status != "open":
                self.order_flags[o.oid] = upd.status
            old = self.orders.get(o.oid)
            if old is None:
                self.orders[o.oid] = FrontendOrder(
                    coin=o.coin,
                    side=o.side,
                    limitPx=o.limitPx,
                    sz=o.sz,
                    oid=o.oid,
                    timestamp=o.timestamp,
                    origSz=o.origSz,
                    cloid=o.cloid,
                    reduceOnly=bool(o.reduceOnly),
                )
            else:
                # Keep the richer frontend fields (orderType, tif, trigger...) and take the
                # fresh remaining size and price.
                self.orders[o.oid] = msgspec.structs.replace(
                    old,
                    limitPx=o.limitPx,
                    sz=o.sz,
                    origSz=o.origSz,
                    cloid=o.cloid if o.cloid is not None else old.cloid,
                    reduceOnly=old.reduceOnly if o.reduceOnly is None else o.reduceOnly,
                )
            changed = True
        if changed:
            self._orders_sorted = None
        return changed

    def cancel_oids(self, oids: Iterable[int]) -> bool:
        """System cancels (``nonUserCancel``); True if an open order was removed."""
        changed = False
        for oid in oids:
            order = self.orders.pop(oid, None)
            if order is not None:
                changed = True
            self._remember_closed(oid, order.coin if order is not None else "")
        if changed:
            self._orders_sorted = None
        return changed

    def open_orders(self) -> list[FrontendOrder]:
        """Open orders, newest first (placement time, then oid)."""
        if self._orders_sorted is None:
            self._orders_sorted = sorted(
                self.orders.values(), key=lambda o: (o.timestamp, o.oid), reverse=True
            )
        return list(self._orders_sorted)
