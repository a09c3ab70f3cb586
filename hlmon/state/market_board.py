"""``MarketBoard``: the whole-market table the store keeps for the market screen.

It owns a ``MarketTable`` (``hlmon.state.market_table``) and keeps it on the catalog in force
(re-set whenever the store's catalog object changes, values kept by name). The store hands it
the market-wide frames (``fastAssetCtxs``, ``allDexsAssetCtxs``) and the REST answers that
serve the same table (``metaAndAssetCtxs`` per dex, ``spotMetaAndAssetCtxs``); the store stamps
the feed keys below so the REST planner and the status bar judge their freshness like any
other feed.

A ``fastAssetCtxs`` subscription's first frame is a full snapshot and later ones deltas: the
feeds call ``expect_snapshot`` when they (re)subscribe, and a new websocket (``live_epoch``
moved) is treated the same way, so a delta is never taken for the whole market.

Feed keys (kind ``market``, periodic): ``market:perp:<dex>`` (``market:perp:`` for the default
dex) for each perp dex's contexts, ``market:spot`` for the spot pairs' contexts (served only
over REST: no websocket stream carries them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.market_streams import decode_fast_asset_ctxs
from hlmon.protocol.messages import AllDexsAssetCtxs, PerpAssetCtx, SpotAssetCtx
from hlmon.protocol.meta import Meta

from .catalog import MarketCatalog
from .market_table import MarketTable
from .types import Clock, Source

MARKET_SPOT = "market:spot"
"""Feed key of the spot pairs' contexts on the market screen."""
REST_ONLY_FEEDS = frozenset((MARKET_SPOT,))
"""Feed keys no websocket stream serves: REST polls them whenever they are due, and doing so
is no fallback (the socket may be perfectly live)."""


def market_feed(dex: str) -> str:
    """Feed key of one perp dex's contexts on the market screen (``""``: the default dex)."""
    return "market:perp:" + dex


class MarketBoard:
    """The market table, its catalog, and what it has been fed."""

    def __init__(
        self,
        catalog: Callable[[], MarketCatalog | None],
        live_epoch: Callable[[], int],
        clock: Clock,
    ) -> None:
        self.table = MarketTable(clock=clock)
        self._catalog = catalog
        self._live_epoch = live_epoch
        self._epoch: int | None = None
        """``live_epoch`` of the socket whose snapshot the table holds (None: none yet)."""

    def synced(self) -> MarketTable:
        """The table, on the catalog in force (re-set when the catalog object changed)."""
        catalog = self._catalog()
        table = self.table
        if catalog is not None and catalog is not table.catalog:
            table.set_catalog(catalog)
        return table

    def expect_snapshot(self) -> None:
        """``fastAssetCtxs`` was (re)subscribed: its next frame is the full snapshot."""
        self._epoch = None

    # ------------------------------------------------------------------ writes

    def apply_fast(self, data: str, source: Source) -> str | None:
        """Merge one ``fastAssetCtxs`` ``data`` string; returns why it was refused (not
        readable: the table is unchanged), else None."""
        table = self.synced()
        try:
            frame = decode_fast_asset_ctxs(data)
        except ProtocolError as exc:
            return exc.reason
        epoch = self._live_epoch()
        if source is Source.WS and epoch != self._epoch:
            table.reset_prices()  # a new subscription or socket: this frame is the snapshot
            self._epoch = epoch
        table.apply_fast(frame, source)
        return None

    def apply_all_dexs(self, data: AllDexsAssetCtxs, source: Source) -> list[str]:
        """Apply an ``allDexsAssetCtxs`` frame; returns the dexes it carried."""
        joined = self.synced().apply_all_dexs(data, source)
        return [j.dex for j in joined]

    def apply_perps(
        self, meta: Meta, ctxs: Sequence[PerpAssetCtx], source: Source = Source.REST
    ) -> int:
        """A ``metaAndAssetCtxs`` answer of one dex; returns the rows changed."""
        return self.synced().apply_meta_and_ctxs(meta, ctxs, source)

    def apply_spot(self, ctxs: Sequence[SpotAssetCtx], source: Source = Source.REST) -> int:
        """The contexts of a ``spotMetaAndAssetCtxs`` answer; returns the rows changed."""
        return self.synced().apply_spot_contexts(ctxs, source)
