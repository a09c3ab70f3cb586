"""``MarketSubscriptions``: every subscription that takes a coin, and only catalog names.

Since 2026 the exchange drops the whole socket (every feed on it) over a subscription naming a
coin it does not list, a mis-cased one or a HIP-3 name without its dex prefix (2026 protocol
page §1.1). So nothing here subscribes a coin before the market catalog is in force, and then
only the catalog's exact, listed names:

* before the catalog: the watchlist and the selected coin wanted (from the settings or the
  user) are kept as typed, and nothing that takes a coin is subscribed (the screen says it is
  waiting for the catalog). Only the default dex's ``allMids`` (no coin) goes out at once;
* when the catalog arrives they are resolved (``btc`` -> ``BTC``, ``xyz:tsla`` -> ``xyz:TSLA``);
  a name it does not list is skipped with a warning naming the closest listed ones
  (``rejected`` keeps them: ``--coins`` turns them into an error);
* afterwards ``select_coin`` / ``add_coin`` take exact listed names only and raise
  ``ValueError`` for anything else (the UI resolves what the user typed first);
* a reloaded catalog that no longer lists a watched coin (delisted) unsubscribes it.

Mids of a HIP-3 dex come from ``allMids`` with that ``dex``, subscribed for the dexes on the
watchlist only (feed key ``mids:<dex>``); the default dex's (``mids``) holds spot and outcomes.
"""

from __future__ import annotations

from collections.abc import Callable

from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog, Resolution
from hlmon.state.market import dex_of_coin

SubChange = Callable[[Subscription, str | None], None]
"""Subscribe (or unsubscribe) one subscription and expect (or stop expecting) its feed key."""


class MarketSubscriptions:
    """The watchlist, the selected coin, the book mode and per-dex mids of one engine."""

    def __init__(
        self,
        store: Store,
        watchlist: tuple[str, ...],
        *,
        add: SubChange,
        remove: SubChange,
        on_unlisted: Callable[[str], None] | None = None,
    ) -> None:
        """
        Args:
            store: where the watchlist, expectations and log lines go.
            watchlist: the coins wanted, as typed (resolved when the catalog arrives).
            add, remove: the engine's subscribe / unsubscribe.
            on_unlisted: told when a held-back name makes a catalog reload worth it.
        """
        self._store = store
        self._add = add
        self._remove = remove
        self._on_unlisted = on_unlisted
        self.catalog: MarketCatalog | None = None
        self._wanted: list[str] = list(dict.fromkeys(watchlist))
        self._wanted_selected: str | None = self._wanted[0] if self._wanted else None
        self.watchlist: list[str] = []
        """Exact catalog names with an asset-context subscription, in display order."""
        self.selected: str | None = None
        """The coin whose book, trades and bbo are subscribed."""
        self.book_fast = False
        self.n_sig_figs: int | None = None
        self.dex_mids: set[str] = set()
        """HIP-3 dexes whose ``allMids`` is subscribed."""
        self.rejected: list[Resolution] = []
        """Wanted names the catalog could not resolve when it arrived (unknown, ambiguous,
        delisted), in order."""
        self.held_back: dict[str, str] = {}
        """Coins (or ``dex:<name>``) the socket was dropped over: not subscribed again."""
        self.started = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Subscribe what needs no catalog (default-dex mids); the rest if it is in force."""
        self.started = True
        self._store.set_book_fast(self.book_fast)
        self._add(subs.all_mids(), "mids")
        if self.catalog is not None:
            self._apply(self.catalog)

    def use_catalog(self, catalog: MarketCatalog) -> None:
        """A catalog was put in force (first one, or a reload)."""
        first = self.catalog is None
        self.catalog = catalog
        if not self.started:
            return
        if first:
            self._apply(catalog)
        else:
            self._drop_unlisted(catalog)

    def _apply(self, catalog: MarketCatalog) -> None:
        names, failures = catalog.resolve_all(self._wanted)
        self.rejected = failures
        for res in failures:
            self._store.health.log(f"watchlist: {res.message}; skipped", "warn")
        respelled = [f"{w!r} is {n}" for w in self._wanted if (n := catalog.resolve(w).name)
                     and n != w]  # fmt: skip
        if respelled:
            self._store.health.log("watchlist: " + ", ".join(respelled))
        wanted_selected = self._wanted_selected
        self._wanted = []
        self.watchlist = []
        for name in names:
            self._add_listed(name)
        selected: str | None = None
        if wanted_selected is not None:
            res = catalog.resolve(wanted_selected)
            selected = res.name if res.name is not None and catalog.is_listed(res.name) else None
        if selected is None and self.watchlist:
            selected = self.watchlist[0]
        if selected is not None:
            self._select(selected)
        self._store.set_watch(self.watchlist)

    def _drop_unlisted(self, catalog: MarketCatalog) -> None:
        gone = [c for c in self.watchlist if not catalog.is_listed(c)]
        for coin in gone:
            why = "delisted" if catalog.market(coin) is not None else "no longer listed"
            self._store.health.log(f"{coin} is {why}: removed from the watchlist", "warn")
            self.remove_coin(coin)
        if self.selected is not None and not catalog.is_listed(self.selected):
            self._unsubscribe_selected(self.selected)
            self.selected = None

    # ------------------------------------------------------------------ the user's choices

    def require_listed(self, coin: str) -> str:
        """``coin`` itself if it is an exact name the catalog lists.

        Raises:
            ValueError: no catalog yet, or the name is not the exchange's exact listed one.
        """
        catalog = self.catalog
        if catalog is None:
            raise ValueError(f"cannot check {coin!r}: the market catalog is not loaded yet")
        if not isinstance(coin, str) or not catalog.is_listed(coin):
            res = catalog.resolve(coin if isinstance(coin, str) else "")
            if res.name is not None and res.name != coin:
                raise ValueError(f"{coin!r} is spelled {res.name} on the exchange")
            raise ValueError(res.message or f"{coin!r} is not listed")
        return coin

    def select_coin(self, coin: str) -> None:
        """Show ``coin``'s book, trades and bbo (before the catalog: remembered as typed)."""
        if self.catalog is None:
            self._wanted_selected = coin
            return
        self.require_listed(coin)
        subs.trades(coin)  # validates the form before anything changes
        self.held_back.pop(coin, None)  # asked for again: one more try
        if coin == self.selected:
            return
        if self.selected is not None:
            self._unsubscribe_selected(self.selected)
        self._select(coin)

    def add_coin(self, coin: str) -> None:
        """Add ``coin`` to the watchlist (before the catalog: remembered as typed)."""
        if self.catalog is None:
            if coin not in self._wanted:
                self._wanted.append(coin)
            return
        self.require_listed(coin)
        self.held_back.pop(coin, None)  # asked for again: one more try
        if coin in self.watchlist:
            return
        self._add_listed(coin)
        self._store.set_watch(self.watchlist)

    def remove_coin(self, coin: str) -> None:
        """Drop ``coin`` from the watchlist (the selected coin's book stays if selected)."""
        if coin in self._wanted:
            self._wanted.remove(coin)
        if coin not in self.watchlist:
            return
        self.watchlist.remove(coin)
        self._remove(subs.active_asset_ctx(coin), f"ctx:{coin}")
        self._store.forget_ctx(coin)  # a position in it must not keep the last markPx forever
        self._sync_dex_mids()
        self._store.set_watch(self.watchlist)

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        """20 levels/~5 s or 5 levels/~0.5 s (``fast``), optionally bucketed."""
        if self.selected is not None:
            subs.l2_book(self.selected, n_sig_figs=n_sig_figs, fast=fast)  # validate first
        if (fast, n_sig_figs) == (self.book_fast, self.n_sig_figs):
            return
        if self.selected is not None:
            self._remove(self._book_sub(self.selected), None)
        self.book_fast, self.n_sig_figs = fast, n_sig_figs
        self._store.set_book_fast(fast)
        if self.selected is not None:
            self._add(self._book_sub(self.selected), None)

    # ------------------------------------------------------------------ held back

    def hold_back(self, held: list[Subscription]) -> None:
        """The socket was dropped right after these were sent: stop asking for their coins
        (and dexes); they stay out until the user adds them again."""
        for sub in held:
            coin, dex = sub.get("coin"), sub.get("dex")
            if isinstance(coin, str):
                self._hold_coin(coin)
            elif isinstance(dex, str) and dex:
                self.held_back[f"dex:{dex}"] = "the socket was dropped right after its mids"
                self.dex_mids.discard(dex)
                self._remove(sub, f"mids:{dex}")
        if self._on_unlisted is not None and held:
            self._on_unlisted("a subscription was held back")

    def _hold_coin(self, coin: str) -> None:
        if coin in self.held_back:
            return
        self.held_back[coin] = "the socket was dropped right after it was subscribed"
        if coin in self.watchlist:
            self.remove_coin(coin)
        if coin == self.selected:
            self._unsubscribe_selected(coin)
            self.selected = None
        self._store.health.log(
            f"{coin}: held back (the exchange dropped the socket over it); add it again to "
            "retry once",
            "warn",
        )

    # ------------------------------------------------------------------ helpers

    def _add_listed(self, coin: str) -> None:
        self.watchlist.append(coin)
        self._add(subs.active_asset_ctx(coin), f"ctx:{coin}")
        self._sync_dex_mids()

    def _book_sub(self, coin: str) -> Subscription:
        return subs.l2_book(coin, n_sig_figs=self.n_sig_figs, fast=self.book_fast)

    def _select(self, coin: str) -> None:
        self.selected = coin
        self._add(self._book_sub(coin), f"book:{coin}")
        self._add(subs.trades(coin), f"trades:{coin}")
        self._add(subs.bbo(coin), f"bbo:{coin}")

    def _unsubscribe_selected(self, coin: str) -> None:
        self._remove(self._book_sub(coin), f"book:{coin}")
        self._remove(subs.trades(coin), f"trades:{coin}")
        self._remove(subs.bbo(coin), f"bbo:{coin}")

    def _sync_dex_mids(self) -> None:
        """``allMids`` for exactly the HIP-3 dexes on the watchlist."""
        needed = {dex_of_coin(c) for c in self.watchlist} - {""}
        needed = {d for d in needed if f"dex:{d}" not in self.held_back}
        for dex in sorted(needed - self.dex_mids):
            self._add(subs.all_mids(dex), f"mids:{dex}")
        for dex in sorted(self.dex_mids - needed):
            self._remove(subs.all_mids(dex), f"mids:{dex}")
        self.dex_mids = needed
