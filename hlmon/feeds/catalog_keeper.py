"""``CatalogKeeper``: the market catalog in force, loaded at start and kept current.

At start it loads the catalog (``perpDexs`` + ``allPerpMetas`` + ``spotMeta`` + ``outcomeMeta``,
``hlmon.feeds.catalog_loader``) and pushes it to ``store.catalog_state``; the engine subscribes
nothing that takes a coin before that (a name the exchange does not list drops the socket).
Then it reloads every ``reload_every`` seconds (10 min), and once when a frame or a fill names
a coin the catalog lacks (``request_reload``), never more often than ``min_reload_gap``.

Outcome markets (``outcomeMeta``, 20 of the 80 weight) are skipped when the load would leave
less than half of the minute's REST budget. When the exchange cannot be reached: the catalog
in force stays; without one, the last good catalog from the disk cache is used (its age is
logged and shown); without that, the screen says it is waiting, and the load is retried with
backoff (2 s up to 60 s) until it succeeds.
Every fresh catalog is written to the cache.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.feeds.catalog_loader import (
    CachedCatalog,
    CatalogLoad,
    load_catalog,
    read_catalog_cache,
    write_catalog_cache,
)
from hlmon.feeds.info_client import InfoClient, InfoError
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog

RELOAD_EVERY = 600.0
"""Seconds between catalog reloads (new perps are listed, old ones delisted)."""
MIN_RELOAD_GAP = 60.0
"""An unknown name triggers a reload at most this often (a catalog load costs 80 weight)."""
FULL_LOAD_WEIGHT = 80
"""perpDexs + allPerpMetas + spotMeta + outcomeMeta, 20 each."""

CatalogCallback = Callable[[MarketCatalog, bool], None]
"""Told each catalog put in force, and whether it came from the disk cache."""


def network_cache_dir(base: Path, api_url: str) -> Path:
    """The catalog cache of the exchange at ``api_url``, inside ``base``: one per endpoint
    (host and port), so a start that falls back to its cache on mainnet never gets testnet's
    or a local server's markets."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "unknown").lower()
    name = host if parts.port is None else f"{host}_{parts.port}"
    return base / "catalogs" / re.sub(r"[^a-z0-9._-]", "_", name)


def age_text(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.2 h``, ``2.0 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class CatalogKeeper:
    """Loads, caches and reloads the market catalog for one engine (see the module doc)."""

    def __init__(
        self,
        info: InfoClient,
        store: Store,
        cache_dir: Path | None,
        *,
        on_catalog: CatalogCallback,
        initial: MarketCatalog | None = None,
        reload_every: float = RELOAD_EVERY,
        min_reload_gap: float = MIN_RELOAD_GAP,
        retry_initial: float = 2.0,
        retry_max: float = 60.0,
        outcomes: bool = True,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """
        Args:
            info: the engine's REST client (the loads count against its budget).
            store: where the catalog goes (``store.catalog_state``) and the log.
            cache_dir: where the last good catalog is kept (None: no disk cache).
            on_catalog: called with every catalog put in force.
            initial: a catalog to start with (loaded elsewhere); the first reload comes after
                ``reload_every``.
            reload_every: seconds between reloads.
            min_reload_gap: at least this long between loads asked for by unknown names.
            retry_initial, retry_max: backoff of retries while loads fail.
            outcomes: also load ``outcomeMeta`` (skipped when the budget has no room).
            rng: random source of the backoff.
            wall_clock: epoch seconds, for the catalog's age.
        """
        self._info = info
        self._store = store
        self.cache_dir = cache_dir
        self._on_catalog = on_catalog
        self.reload_every = reload_every
        self.min_reload_gap = min_reload_gap
        self.outcomes = outcomes
        self._backoff = FullJitterBackoff(retry_initial, retry_max, rng or random.Random())
        self._wall = wall_clock
        self._catalog: MarketCatalog | None = None
        self._from_cache = False
        self._requested: str | None = None
        self._wake = asyncio.Event()
        self._last_started: float | None = None
        self.attempted = asyncio.Event()
        """Set once the first load has been tried (a catalog may or may not be in force)."""
        self.ready = asyncio.Event()
        """Set once a catalog is in force (fresh or cached)."""
        self.last_load: CatalogLoad | None = None
        """The last successful load from the exchange (its weight and time)."""
        self.loads = 0
        """Successful loads from the exchange."""
        self.failures = 0
        """Failed loads from the exchange."""
        store.catalog_state.on_unknown(self._unknown_name)
        if initial is not None:
            self._use(initial, from_cache=False)
            self.attempted.set()

    @property
    def catalog(self) -> MarketCatalog | None:
        """The catalog in force, or None."""
        return self._catalog

    @property
    def from_cache(self) -> bool:
        """The catalog in force came from the disk cache (the exchange could not be reached)."""
        return self._from_cache

    def request_reload(self, why: str) -> None:
        """Reload soon (at most once per ``min_reload_gap``); ``why`` goes to the log."""
        if self._requested is None:
            self._requested = why
        self._wake.set()

    def _unknown_name(self, name: str) -> None:
        self.request_reload(f"{name!r} is not in the market catalog")

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Load now (unless started with a catalog), then keep the catalog current."""
        if self._catalog is None:
            self._store.catalog_state.expect()
        else:
            # Started with a catalog: it counts as loaded now (an unknown name waits the gap).
            self._last_started = asyncio.get_running_loop().time()
            await self._wait(self.reload_every)
        failures = 0
        while True:
            try:
                fresh = await self.load_once()
            finally:
                # Even when a load crashes (a bug, not an InfoError): whoever waits for the
                # first attempt (the start's --coins check) must not wait for ever.
                self.attempted.set()
            failures = 0 if fresh else failures + 1
            if fresh:
                await self._wait(self.reload_every)
            else:
                await self._wait(self._backoff.delay(failures - 1))

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` s, cut short by a reload request (after the minimum gap)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while True:
            if self._requested is not None:
                earliest = (self._last_started or 0.0) + self.min_reload_gap
                deadline = min(deadline, max(earliest, loop.time()))
            left = deadline - loop.time()
            if left <= 0:
                return
            self._wake.clear()
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that
                # lands in the turn the wake-up comes, and this loop would then outlive stop().
                async with asyncio.timeout(left):
                    await self._wake.wait()
            except TimeoutError:
                return

    async def load_once(self) -> bool:
        """One load from the exchange; True if a fresh catalog is now in force."""
        why, self._requested = self._requested, None
        self._last_started = asyncio.get_running_loop().time()
        log = self._store.health.log
        if why is not None:
            log(f"{why}: reloading the market catalog")
        try:
            load = await load_catalog(self._info, outcomes=self._outcomes_fit(), clock=self._wall)
        except (InfoError, TypeError, ValueError) as exc:
            cached = None
            if self._catalog is None and self.cache_dir is not None:
                cached = await asyncio.to_thread(read_catalog_cache, self.cache_dir)
            self._failed(str(exc) or type(exc).__name__, cached)
            self.failures += 1  # counted once said and in force: a reader of it sees both
            return False
        self.loads += 1
        self.last_load = load
        catalog = load.catalog
        for note in (*load.notes, *catalog.warnings):
            log(f"market catalog: {note}", "warn")
        # In force first, cached after: the coins are subscribed (and the screen leaves
        # "waiting for market catalog…") without waiting for a thread and an fsync.
        self._use(catalog, from_cache=False)
        log(
            f"market catalog loaded: {len(catalog)} markets, {len(catalog.dexes())} perp dexes "
            f"({load.seconds * 1000:.0f} ms, REST weight {load.weight})"
        )
        if self.cache_dir is not None:
            try:
                # Off the event loop: the write ends with an fsync, which a busy disk can make
                # last long enough to starve the sockets' heartbeats.
                await asyncio.to_thread(write_catalog_cache, self.cache_dir, catalog)
            except OSError as exc:
                log(f"market catalog not cached in {self.cache_dir}: {exc}", "warn")
        return True

    def _outcomes_fit(self) -> bool:
        """Outcome markets are a nicety (20 weight): load them only while the whole load
        leaves half of the minute's REST budget to what the screen needs (a small budget
        skips them; its catalog is then 60 weight)."""
        budget = self._info.budget
        left = budget.budget - budget.used() - FULL_LOAD_WEIGHT
        return self.outcomes and left >= budget.budget / 2

    def _failed(self, problem: str, cached: CachedCatalog | None) -> None:
        state = self._store.catalog_state
        log = self._store.health.log
        if self._catalog is not None:
            state.failed(problem)
            age = age_text(self._catalog.age(self._wall()))
            log(f"market catalog not reloaded ({problem}); keeping the one from {age} ago", "warn")
            return
        if cached is not None and cached.catalog is not None:
            catalog = cached.catalog
            self._use(catalog, from_cache=True, problem=problem)
            log(
                f"market catalog not loaded ({problem}); using the cached one from "
                f"{age_text(catalog.age(self._wall()))} ago",
                "warn",
            )
            return
        state.failed(problem)
        extra = f"; {cached.problem}" if cached is not None and cached.problem else ""
        log(
            f"market catalog not loaded ({problem}){extra}: no coin is subscribed until it loads",
            "error",
        )

    def _use(self, catalog: MarketCatalog, *, from_cache: bool, problem: str | None = None) -> None:
        self._catalog = catalog
        self._from_cache = from_cache
        self.ready.set()
        self._store.catalog_state.use(catalog, from_cache=from_cache, problem=problem)
        self._on_catalog(catalog, from_cache)
