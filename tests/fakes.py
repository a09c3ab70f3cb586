"""``FakeRuntime``: the one stand-in for ``hlmon.runtime.root.Runtime`` in the UI tests.

It implements the same two protocols the app is typed against (``Backend`` and ``Controls``,
``hlmon.runtime.controls``; mypy checks it wherever it is handed to ``build_app``), records
every call, and tells the store what the real feed engine would tell it (watched accounts,
selected account, watchlist, tracked coin, book mode and, when given, the market catalog), with
the engine's own input checks (the protocol's subscription constructors, and exact catalog
names only once a catalog is in force). No network: the tests fill the store by hand.
``catalog=``: put in force on start, as the engine's first load would (``tests.catalogs``);
``waiting=True``: none comes (the screen waits for it, as when the exchange cannot be reached
and nothing is cached); neither: the store's catalog, if the test set one, is left as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from hlmon.config import Settings
from hlmon.config.saved import SavedChoices, save_in_thread
from hlmon.protocol import subscriptions as subs
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog


class FakeRuntime:
    """A ``Backend`` whose ``Controls`` record the UI's calls (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        clock: Callable[[], float] | None = None,
        *,
        network: str | None = None,
        fail_start: BaseException | None = None,
        catalog: MarketCatalog | None = None,
        waiting: bool = False,
        from_cache: bool = False,
    ) -> None:
        self.settings = settings
        self.clock: Callable[[], float] = clock or time.time
        self.store = store if store is not None else Store(self.clock, settings.stale)
        self.network = network or settings.network
        self.address = settings.address
        self.fail_start = fail_start
        """Raised by ``__aenter__`` (a backend that cannot start)."""
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.market_shown = False
        """The UI said the market screen is shown (``show_market``)."""
        """Every call in order: ``("start", ())``, ``("select_coin", ("ETH",))``, ..."""
        self.started = False
        self.stopped = False
        self.users = settings.watched_addresses
        self.user = settings.address.lower() if settings.address else None
        self.watchlist = list(settings.watchlist)
        self.catalog = catalog
        """Put in force on start, as the engine's first catalog load would."""
        self.waiting = waiting
        self.from_cache = from_cache
        self._save_lock = threading.Lock()

    def named(self, name: str) -> list[tuple[Any, ...]]:
        """Arguments of every call to ``name``."""
        return [args for n, args in self.calls if n == name]

    # ------------------------------------------------------------------ Backend

    async def __aenter__(self) -> FakeRuntime:
        self.calls.append(("start", ()))
        if self.fail_start is not None:
            raise self.fail_start
        # What FeedEngine.start tells the store before any data arrives.
        if self.waiting:
            self.store.catalog_state.expect()
        elif self.catalog is not None:
            self.store.catalog_state.use(self.catalog, from_cache=self.from_cache)
        self.store.set_watched_users(self.users, dict(self.settings.labels))
        self.store.set_user(self.user)
        self.store.set_watch(self.watchlist)
        self.started = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.calls.append(("stop", ()))
        self.stopped = True

    # ------------------------------------------------------------------ Controls

    def _require_listed(self, coin: str) -> None:
        """The engine's last line of defence: exact listed names only, once it has a catalog."""
        catalog = self.store.catalog
        if catalog is not None and not catalog.is_listed(coin):
            raise ValueError(catalog.resolve(coin).message or f"{coin!r} is not listed")

    def select_coin(self, coin: str) -> None:
        subs.trades(coin)  # refuses what the engine refuses, before anything changes
        self._require_listed(coin)
        self.calls.append(("select_coin", (coin,)))

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        subs.l2_book("BTC", n_sig_figs=n_sig_figs, fast=fast)
        self.calls.append(("set_book_mode", (fast, n_sig_figs)))
        self.store.set_book_fast(fast)

    def add_coin(self, coin: str) -> None:
        subs.active_asset_ctx(coin)
        self._require_listed(coin)
        self.calls.append(("add_coin", (coin,)))
        if coin not in self.watchlist:
            self.watchlist.append(coin)
        self.store.set_watch(self.watchlist)

    def remove_coin(self, coin: str) -> None:
        self.calls.append(("remove_coin", (coin,)))
        if coin in self.watchlist:
            self.watchlist.remove(coin)
        self.store.set_watch(self.watchlist)

    def select_user(self, address: str) -> None:
        new = address.strip().lower()
        if new not in self.users:
            raise ValueError(f"not a watched address: {address!r}")
        self.calls.append(("select_user", (address,)))
        self.user = new
        self.store.set_user(new)

    def watch_instead(self, old: str, new: str) -> None:
        was, now = old.strip().lower(), new.strip().lower()
        subs.clearinghouse_state(now)
        if was not in self.users:
            raise ValueError(f"not a watched address: {old!r}")
        self.calls.append(("watch_instead", (old, new)))
        self.users = tuple(dict.fromkeys(now if u == was else u for u in self.users))
        self.store.set_watched_users(self.users, dict(self.settings.labels))
        if self.user == was:
            self.user = now
            self.store.set_user(now)

    def show_market(self, on: bool) -> None:
        self.calls.append(("show_market", (on,)))
        self.market_shown = on

    async def save_settings(self, choices: SavedChoices) -> bool:
        # The real writer, in a thread as the runtime does: a second app can read it back.
        self.calls.append(("save_settings", (choices,)))
        return await save_in_thread(self.settings.saved_file, choices, self._save_lock)
