"""Reconciliation over REST after every reconnect (and once at startup).

``orderUpdates`` and ``userEvents`` never replay after a reconnect, and how much history the
``userFills`` snapshot carries is not documented, so after every outage hlmon asks ``/info``
for every fill since the newest one it held when the socket went down (minus a margin, paging
when a full page (2000) comes back), then the account state and the open orders of each active
dex (``Store.active_dexes``: the default dex, dexes with margin or positions, dexes of recent
fills; the fills come first so their dexes count): 2 + 20 weight per active dex, never a sweep
of every dex; and the spot balances (2: the collateral of unified and portfolio-margin
accounts). Everything goes through ``Store.apply``/``apply_fills``, which dedupe fills
(``state.account.fill_key``): a fill seen over the websocket and again over REST is kept once,
and no fill made during the outage is missed.

What changed is measured against a ``Mark`` taken when the socket was lost (not when the REST
answers arrive): the resubscribed websocket may already have delivered the same data by then,
and the user wants to know what happened during the outage, whichever path brought it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hlmon.feeds.dex_fetch import fetch_into, orders_request, sendable_dex, state_request
from hlmon.feeds.info_client import InfoClient, ServerError
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest
from hlmon.protocol.messages import Fill
from hlmon.state import Source, Store
from hlmon.state.account import FillKey, fill_key

PAGE_SIZE = 2000
"""Fills per ``userFillsByTime`` response at most; a full page means "ask again"."""
MAX_PAGES = 6
"""Only the 10 000 most recent fills are reachable anyway; stop paging after that."""
DEFAULT_MARGIN_MS = 5_000
"""Ask from a little before the newest fill held: block times of fills can tie or arrive out
of order across feeds, and duplicates cost nothing (dedupe)."""


@dataclass(frozen=True)
class Mark:
    """What the store held when the websocket was lost."""

    at: float
    """Wall-clock seconds when the socket was lost."""
    newest_fill_time: int | None
    fill_keys: frozenset[FillKey]
    order_oids: frozenset[int]


@dataclass(frozen=True)
class ReconcileResult:
    """What one reconciliation found."""

    new_fills: int
    """Fills present now that were not held at the mark (or, without a mark, added by REST)."""
    order_changes: int
    """Size of the symmetric difference of open-order oids, mark vs now."""
    fills_fetched: int
    """Fill rows REST returned (duplicates included)."""
    pages: int
    """``userFills``/``userFillsByTime`` requests made."""
    open_orders: int = 0
    """Open orders held after the merge."""
    fills_held: int | None = None
    """Fills held after the merge (None: not counted); more than ``new_fills`` when the
    websocket's snapshot delivered them before REST answered."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Reconciler:
    """Brings the store's account state up to date from ``/info``."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        user: str,
        *,
        clock: Callable[[], float] = time.time,
        margin_ms: int = DEFAULT_MARGIN_MS,
    ) -> None:
        self._client = client
        self._store = store
        self.user = user.lower()
        self._clock = clock
        self.margin_ms = margin_ms

    def mark(self) -> Mark:
        """Record what the store holds now (call when the socket is lost)."""
        store = self._store
        return Mark(
            at=self._clock(),
            newest_fill_time=store.newest_fill_time(),
            fill_keys=frozenset(fill_key(f) for f in store.fills()),
            order_oids=frozenset(o.oid for o in store.open_orders()),
        )

    async def reconcile(self, mark: Mark | None = None) -> ReconcileResult:
        """Fetch account, orders and fills since ``mark`` and merge them into the store.

        Raises:
            InfoError: when /info fails after the client's retries (the caller retries).
        """
        store = self._store
        oids_before = mark.order_oids if mark is not None else None

        # Fills first: they are what must never be lost, and the account/orders fetched after
        # them are then at least as new as the fills (no "position without its fill" moment).
        fetched, pages, added = await self._fetch_fills(mark)

        # States before orders: a state may show a position on a dex no fill named yet.
        for dex in self._dexes():
            await self._fetch(state_request(self.user, dex), dex)
        for dex in self._dexes():
            await self._fetch(orders_request(self.user, dex), dex)

        # Spot balances (weight 2): the collateral of unified and portfolio-margin accounts.
        req_spot = info.spot_clearinghouse_state(self.user)
        spot = await self._client.info(req_spot)
        msg = info.to_message(req_spot, spot, self.user)
        if msg is not None:
            store.apply(msg, Source.REST)

        oids_after = frozenset(o.oid for o in store.open_orders())
        new_fills = added
        if mark is not None:
            # Also count outage fills the resubscribed websocket delivered before REST did;
            # ``added`` still wins when more fills came than the store's ring keeps.
            held_now = sum(1 for f in store.fills() if fill_key(f) not in mark.fill_keys)
            new_fills = max(added, held_now)
        changes = len(oids_before ^ oids_after) if oids_before is not None else 0
        return ReconcileResult(
            new_fills, changes, fetched, pages, len(oids_after), len(store.fills())
        )

    def _dexes(self) -> list[str]:
        return [d for d in self._store.active_dexes(self.user) if sendable_dex(self._store, d)]

    async def _fetch(self, req: InfoRequest, dex: str) -> None:
        """Fetch one per-dex answer into the store. An HIP-3 dex answering HTTP 500 (a dex
        the exchange no longer knows, 2026 page §3.4) is logged and skipped: it must not hold
        back the rest of the account."""
        try:
            await fetch_into(self._client, self._store, req, self.user)
        except ServerError as exc:
            if not dex:
                raise
            self._store.health.log(f"reconciliation: dex {dex!r} skipped ({exc})", "warn")

    async def _fetch_fills(self, mark: Mark | None) -> tuple[int, int, int]:
        """Return (rows fetched, requests made, fills new to the store)."""
        store = self._store
        # With a mark, only the mark bounds the window: the store's newest fill may have come
        # over the resubscribed websocket after the outage, past fills still missing.
        since = mark.newest_fill_time if mark is not None else store.newest_fill_time()
        if since is None:
            # Nothing held (before the outage): the most recent fills (up to 2000) are what
            # the screen shows.
            req = info.user_fills(self.user)
            fills: list[Fill] = await self._client.info(req)
            return len(fills), 1, store.apply_fills(fills, Source.REST)
        start = max(0, since - self.margin_ms)
        fetched = pages = added = 0
        while pages < MAX_PAGES:
            req = info.user_fills_by_time(self.user, start)
            page: list[Fill] = await self._client.info(req)
            pages += 1
            fetched += len(page)
            added += store.apply_fills(page, Source.REST)
            if len(page) < PAGE_SIZE:
                break
            newest = max(f.time for f in page)
            # Both bounds are inclusive: restart at the newest time seen (dedupe absorbs the
            # overlap); if a whole page shares one ms, step past it rather than loop forever.
            start = newest if newest > start else start + 1
        return fetched, pages, added

    @staticmethod
    def describe(result: ReconcileResult, outage_s: float | None) -> str:
        """The log line, e.g. ``reconnected after 14 s; recovered 2 fills, 1 order change``."""
        if outage_s is None:
            fills = _plural(result.new_fills, "fill")
            held = result.fills_held
            if held is not None and held > result.new_fills:
                # The websocket's snapshot came first: "0 fills" would read as none held.
                fills = f"{_plural(held, 'fill')} ({result.new_fills} new over REST)"
            return f"account loaded over REST: {_plural(result.open_orders, 'open order')}, {fills}"
        return (
            f"reconnected after {outage_s:.0f} s; recovered {_plural(result.new_fills, 'fill')}, "
            f"{_plural(result.order_changes, 'order change')}"
        )
