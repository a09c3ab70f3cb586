"""The market screen's feeds, wanted only while the screen is shown.

On the websocket: ``fastAssetCtxs`` (mark and mid of every coin, ~1/s) and ``allDexsAssetCtxs``
(every perp dex's full contexts, ~14 s), two subscriptions that take no coin name, so nothing
unlisted can reach the socket. They are sent once the screen is shown *and* a market catalog
is in force (before it, contexts could not be named and the one snapshot frame would be
wasted), and unsubscribed when the screen closes.

Over REST (REST mode, or the websocket fallback) the same table is served by the poller: the
feed keys ``market:perp:<dex>`` (one per catalog dex: ``metaAndAssetCtxs``, 20 weight each) and
``market:spot`` (``spotMetaAndAssetCtxs``, 20 weight; spot contexts have no stream, so REST
serves it in every mode) are expected while the screen is shown, and the planner
(``rest_demand``) fits them into the weight budget. Nothing is polled once it closes.
"""

from __future__ import annotations

from collections.abc import Callable

from hlmon.protocol.market_streams import all_dexs_asset_ctxs, fast_asset_ctxs
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import Store
from hlmon.state.market_board import MARKET_SPOT, market_feed

SubscriptionCall = Callable[[Subscription, str | None], None]
"""The engine's ``_add`` / ``_remove``: (subscription, feed key expected with it)."""


class MarketWide:
    """Subscribes the market-wide streams and expects the market feed keys while shown."""

    def __init__(self, store: Store, *, add: SubscriptionCall, remove: SubscriptionCall) -> None:
        self._store = store
        self._add = add
        self._remove = remove
        self.shown = False
        """The market screen is shown."""
        self.subscribed = False
        """The two streams are subscribed (shown, and a catalog is in force)."""
        self._keys: frozenset[str] = frozenset()

    def show(self, on: bool) -> None:
        """The market screen opened (``True``) or closed."""
        if on != self.shown:
            self.shown = on
            self.sync()

    def sync(self) -> None:
        """Subscribe or unsubscribe, and expect the feed keys, for what is shown now and the
        catalog in force (called again when a catalog is put in force)."""
        catalog = self._store.catalog
        want = self.shown and catalog is not None
        if want and not self.subscribed:
            self._store.market_board.expect_snapshot()
            self._add(fast_asset_ctxs(), None)
            self._add(all_dexs_asset_ctxs(), None)
            self.subscribed = True
        elif not want and self.subscribed:
            self._remove(fast_asset_ctxs(), None)
            self._remove(all_dexs_asset_ctxs(), None)
            self.subscribed = False
        keys: frozenset[str] = frozenset()
        if want and catalog is not None:
            keys = frozenset((MARKET_SPOT, *(market_feed(d.name) for d in catalog.dexes())))
        for key in self._keys - keys:
            self._store.unexpect(key)
        for key in sorted(keys - self._keys):
            self._store.expect(key)
        self._keys = keys

    def dexes(self) -> tuple[str, ...]:
        """The perp dexes whose contexts the screen shows, in catalog order (empty: closed)."""
        catalog = self._store.catalog
        if not self._keys or catalog is None:
            return ()
        return tuple(d.name for d in catalog.dexes())

    @property
    def spot(self) -> bool:
        """The screen shows spot pairs (their contexts come over REST)."""
        return bool(self._keys)
