"""``CatalogState``: the market catalog in force, where it came from, and names it lacks.

The feeds load the catalog (``hlmon.feeds.catalog_keeper``) and push it here; the UI reads it
to resolve what the user types and to say "waiting for market catalog…" or "catalog from
cache, 2 h old". The store tells it the coin names frames carry (``allMids`` keys, fills), so
a name the catalog lacks (a market listed since it was loaded) can trigger one reload.

Pure like the rest of ``hlmon.state``: no I/O, time from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from .catalog import MarketCatalog
from .types import Clock

MAX_UNKNOWN_KEPT = 256
"""Unknown names remembered (each triggers at most one reload request); bounded, as a hostile
or broken feed could send any number of them."""


class CatalogOrigin(StrEnum):
    EXCHANGE = "exchange"
    """Fetched from the exchange by this run."""
    CACHE = "cache"
    """The last good catalog from the disk cache: the exchange could not be reached."""


@dataclass(frozen=True, slots=True)
class CatalogStatus:
    """What the screen says about the catalog.

    Attributes:
        catalog: the catalog in force, or None.
        origin: where it came from (None without one).
        waiting: the feeds need a catalog and have none yet: nothing that takes a coin is
            subscribed until one loads.
        problem: why the last load from the exchange failed (None after a success).
        loaded_at: wall-clock time the catalog's answers were fetched (its age counts from
            here, also for a cached one).
    """

    catalog: MarketCatalog | None = None
    origin: CatalogOrigin | None = None
    waiting: bool = False
    problem: str | None = None
    loaded_at: float | None = None

    def age(self, now: float) -> float | None:
        """Seconds since the catalog's answers were fetched; None without a catalog."""
        return None if self.loaded_at is None else max(0.0, now - self.loaded_at)


UnknownListener = Callable[[str], None]
"""Called with the first unknown name of a batch (the feeds reload the catalog on it)."""


class CatalogState:
    """The catalog holder the store owns (``store.catalog_state``); change key ``catalog``."""

    def __init__(self, clock: Clock, on_change: Callable[[], None] | None = None) -> None:
        """``on_change``: called when the status changes (the store records a change key
        there, so whoever listens to the store hears of it)."""
        self._clock = clock
        self._on_change = on_change
        self._status = CatalogStatus()
        self._changed = False
        self._unknown: set[str] = set()
        self._listener: UnknownListener | None = None
        self._mids_sizes: dict[str, int] = {}
        """Size of each dex's last checked ``allMids`` map: new markets are appended, so a
        map whose size did not change needs no new check."""

    # ------------------------------------------------------------------ writes

    def expect(self) -> None:
        """The feeds need a catalog: until one is set, the screen says it is waiting."""
        if self._status.catalog is None and not self._status.waiting:
            self._set(CatalogStatus(waiting=True, problem=self._status.problem))

    def use(self, catalog: MarketCatalog, *, from_cache: bool, problem: str | None = None) -> None:
        """A catalog to use: fresh from the exchange, or the cached one (``problem`` says why
        the exchange's could not be had)."""
        origin = CatalogOrigin.CACHE if from_cache else CatalogOrigin.EXCHANGE
        self._set(CatalogStatus(catalog, origin, False, problem, catalog.loaded_at))
        self._unknown = {name for name in self._unknown if name not in catalog}
        self._mids_sizes.clear()

    def clear(self) -> None:
        """No catalog in force (and none awaited)."""
        if self._status != CatalogStatus():
            self._set(CatalogStatus())
        self._mids_sizes.clear()

    def failed(self, problem: str) -> None:
        """A load from the exchange failed; the catalog in force (if any) stays."""
        st = self._status
        self._set(CatalogStatus(st.catalog, st.origin, st.catalog is None, problem, st.loaded_at))

    def on_unknown(self, listener: UnknownListener | None) -> None:
        """Who to tell when a frame names a coin the catalog lacks (the catalog keeper)."""
        self._listener = listener

    def note_mids(self, dex: str, mids: Iterable[str], size: int) -> None:
        """An ``allMids`` map of ``size`` keys arrived: check its names when its size moved."""
        if self._status.catalog is None or self._mids_sizes.get(dex) == size:
            return
        self._mids_sizes[dex] = size
        self.note_names(mids)

    def note_names(self, names: Iterable[str]) -> None:
        """Coin names seen in frames; one the catalog lacks is reported once."""
        catalog = self._status.catalog
        if catalog is None:
            return
        new = [n for n in names if n not in catalog and n not in self._unknown]
        if not new:
            return
        room = MAX_UNKNOWN_KEPT - len(self._unknown)
        self._unknown.update(new[: max(0, room)])
        if self._listener is not None:
            self._listener(new[0])

    def _set(self, status: CatalogStatus) -> None:
        self._status = status
        self._changed = True
        if self._on_change is not None:
            self._on_change()

    def take_changes(self) -> set[str]:
        """``catalog`` if the status changed since the last call, with ``account`` and
        ``accounts`` (the catalog names each dex's collateral token those rows show)."""
        if not self._changed:
            return set()
        self._changed = False
        return {"catalog", "account", "accounts"}

    # ------------------------------------------------------------------ reads

    @property
    def status(self) -> CatalogStatus:
        return self._status

    @property
    def catalog(self) -> MarketCatalog | None:
        return self._status.catalog

    @property
    def unknown_names(self) -> frozenset[str]:
        """Names seen in frames that the catalog in force does not list."""
        return frozenset(self._unknown)

    def age(self) -> float | None:
        """Seconds since the catalog in force was fetched (None without one)."""
        return self._status.age(self._clock())
