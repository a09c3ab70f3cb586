"""The whole market as one table: every listed perp of every dex and every spot pair.

Fed by the market-wide streams: ``fastAssetCtxs`` (mark and mid of everything, ~1/s: deltas
merged field by field, the first frame after ``reset_prices`` taken as the snapshot) and full
contexts (``allDexsAssetCtxs`` on the websocket, ``metaAndAssetCtxs`` / ``spotMetaAndAssetCtxs``
over REST) for funding, open interest, volume and the previous day's price.

Rows are immutable and replaced on change, so a screen can hold them across frames. Views
(filtered and sorted) are cached: the filter until the catalog changes, the order until a value
of the sorted column changes (a price tick does not re-sort a table sorted by funding).

Freshness: a row keeps when its prices and its context were last set, and whether its prices
come from the fast stream; a delta frame confirms the prices of every coin it leaves out
(unchanged), so ``price_time`` is the last fast frame for those.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter

from msgspec import UnsetType

from hlmon.protocol.market_streams import FastAssetCtxs, JoinedCtxs, join_all
from hlmon.protocol.messages import AllDexsAssetCtxs, PerpAssetCtx, SpotAssetCtx
from hlmon.protocol.meta import Meta
from hlmon.state.catalog import Market, MarketCatalog, MarketKind
from hlmon.state.market_query import MarketQuery, SortColumn, SortSpec
from hlmon.state.types import Clock, Source

HOURS_PER_YEAR = 24 * 365
MAX_UNKNOWN_NAMES = 64
"""Names seen in the streams but not in the catalog that are kept (to say which ones)."""
_VIEW_CACHE_SIZE = 8
EVERYTHING = MarketQuery()
DEFAULT_SORT = SortSpec()
"""Biggest 24 h volume first."""

_PRICE_COLUMNS = frozenset((SortColumn.MARK, SortColumn.MID, SortColumn.CHANGE,
                            SortColumn.OPEN_INTEREST))  # fmt: skip


def _num(text: str | None) -> float | None:
    """A wire decimal as a float for sorting and ratios; None when absent or not finite."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(slots=True)
class MarketRow:
    """One market and what is known of it. Prices and amounts are the exchange's strings.

    Never changed once made: an update is a new row (screens tell a changed row by its
    identity). Not ``frozen``: a frozen row costs ~7 times as much to make (1.85 against
    0.27 us, 2026-12, 2-core Xeon) and ``fastAssetCtxs`` makes ~1,600 of them a second.

    Attributes:
        market: the catalog entry (name, display name, kind, dex, size decimals).
        mark, mid: latest mark and mid price (None: not known yet, or no book for ``mid``).
        prev_day: price 24 h ago; funding: hourly rate; open_interest: in coins (perps);
            volume: 24 h notional volume.
        prices_at: clock time the prices were last set; None before any.
        prices_fast: the prices come from the fast stream's current snapshot, so every fast
            frame confirms them (see ``MarketTable.price_time``).
        ctx_at: clock time the context (funding, OI, volume, prevDayPx) was last set.
        source: where the last update came from.
    """

    market: Market
    mark: str | None = None
    mid: str | None = None
    prev_day: str | None = None
    funding: str | None = None
    open_interest: str | None = None
    volume: str | None = None
    prices_at: float | None = None
    prices_fast: bool = False
    ctx_at: float | None = None
    source: Source | None = None
    _numbers: tuple[float | None, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def numbers(self) -> tuple[float | None, ...]:
        """Sort values by ``SortColumn`` position (index 0, the name, is unused); computed on
        first use: a price frame replaces ~1,600 rows a second, most never sorted or shown."""
        values = self._numbers
        if values is None:
            mark, mid = _num(self.mark), _num(self.mid)
            prev, funding, oi = _num(self.prev_day), _num(self.funding), _num(self.open_interest)
            price = mark if mark is not None else mid
            change = (price - prev) / prev * 100 if price is not None and prev else None
            apr = funding * 100 * HOURS_PER_YEAR if funding is not None else None
            oi_usd = oi * mark if oi is not None and mark is not None else None
            values = (None, mark, mid, change, funding, apr, oi_usd, _num(self.volume))
            self._numbers = values
        return values

    @property
    def name(self) -> str:
        return self.market.name

    @property
    def display(self) -> str:
        return self.market.display or self.market.name

    @property
    def kind(self) -> MarketKind:
        return self.market.kind

    @property
    def dex(self) -> str:
        return self.market.dex

    def value(self, column: SortColumn) -> float | None:
        """The number in ``column`` (None for the name column and for unknown values)."""
        return self.numbers[_COLUMN_INDEX[column]]

    @property
    def change_pct(self) -> float | None:
        """24 h change in percent (mark, or mid when there is no mark, against prevDayPx)."""
        return self.numbers[3]

    @property
    def funding_apr(self) -> float | None:
        """Hourly funding annualised, in percent."""
        return self.numbers[5]

    @property
    def oi_usd(self) -> float | None:
        """Open interest in USD (in the dex's collateral on HIP-3 dexes)."""
        return self.numbers[6]


_COLUMN_INDEX = {col: i for i, col in enumerate(SortColumn)}
_FIELD_OF = {SortColumn.MARK: "mark", SortColumn.MID: "mid", SortColumn.FUNDING: "funding",
             SortColumn.VOLUME: "volume"}  # fmt: skip
"""Columns whose value is one field as a number: a sort by them (the default, by volume)
parses that field only, not all of a row's numbers (a price frame makes every row new)."""


class MarketTable:
    """Rows for the catalog's listed perps and spot pairs, merged from the market streams."""

    def __init__(self, catalog: MarketCatalog | None = None, clock: Clock = time.time) -> None:
        self._clock = clock
        self._catalog: MarketCatalog | None = None
        self._rows: dict[str, MarketRow] = {}
        self._order: tuple[str, ...] = ()
        self._universes: dict[str, list[str | None]] = {}
        self._versions = {"catalog": 0, "prices": 0, "ctx": 0}
        self._filters: dict[MarketQuery, tuple[str, ...]] = {}
        self._views: dict[tuple[MarketQuery, SortSpec], tuple[tuple[int, ...], tuple[str, ...]]]
        self._views = {}
        self.fast_at: float | None = None
        """Clock time of the last ``fastAssetCtxs`` frame since the last reset."""
        self.ctx_at: float | None = None
        """Clock time of the last full context update (any dex)."""
        self.awaiting_snapshot = True
        """No fast snapshot since the start or the last ``reset_prices``."""
        self.fast_frames = 0
        self.dropped = 0
        """Entries and contexts the streams sent that could not be read."""
        self.unknown_names: set[str] = set()
        """Names in the streams that the catalog does not know (at most ``MAX_UNKNOWN_NAMES``)."""
        self.last_source: Source | None = None
        """Where the last applied prices or contexts came from (REST while the socket is out)."""
        self.reload_reason: str | None = None
        """Why the catalog looks out of date (a listing it lacks); cleared by ``set_catalog``."""
        if catalog is not None:
            self.set_catalog(catalog)

    # ------------------------------------------------------------------ catalog

    @property
    def catalog(self) -> MarketCatalog | None:
        return self._catalog

    @property
    def catalog_reload_wanted(self) -> bool:
        return self.reload_reason is not None

    def set_catalog(self, catalog: MarketCatalog) -> None:
        """Rows for ``catalog``'s listed perps and spot pairs; known values are kept by name."""
        self._catalog = catalog
        rows: dict[str, MarketRow] = {}
        for mk in catalog.markets():
            if mk.kind in (MarketKind.PERP, MarketKind.SPOT):
                old = self._rows.get(mk.name)
                rows[mk.name] = replace(old, market=mk) if old is not None else MarketRow(mk)
        self._rows = rows
        self._order = tuple(rows)
        universes: dict[str, list[str | None]] = {d.name: [] for d in catalog.dexes()}
        for mk in catalog.markets(MarketKind.PERP, listed_only=False):
            names = universes.setdefault(mk.dex, [])
            names.extend([None] * (mk.asset_index + 1 - len(names)))
            names[mk.asset_index] = mk.name
        self._universes = universes
        self.unknown_names.clear()
        self.reload_reason = None
        self._filters.clear()
        self._bump("catalog", "prices", "ctx")

    def universe(self, dex: str) -> list[str | None]:
        """The names of ``dex`` by wire position, delisted ones included (None: unreadable)."""
        return list(self._universes.get(dex, ()))

    # ------------------------------------------------------------------ writes

    def reset_prices(self) -> None:
        """The fast stream (re)connected: its next frame is a full snapshot. Prices already
        shown stay, but are no longer confirmed by fast frames until the snapshot names them."""
        self.awaiting_snapshot = True
        self.fast_at = None
        for name, row in self._rows.items():
            if row.prices_fast:
                self._rows[name] = replace(row, prices_fast=False)
        self._bump("prices")

    def apply_fast(self, frame: FastAssetCtxs, source: Source = Source.WS) -> int:
        """Merge one ``fastAssetCtxs`` frame; returns how many rows changed.

        In a delta, a field left out is unchanged; in the snapshot (the first frame after a
        reset) every named coin's prices are replaced, a field left out becoming unknown.
        """
        now = self._clock()
        snapshot = self.awaiting_snapshot
        self.awaiting_snapshot = False
        self.fast_at = now
        self.last_source = source
        self.fast_frames += 1
        self.dropped += frame.dropped
        rows = self._rows
        changed = 0
        for name, entry in frame.prices.items():
            row = rows.get(name)
            if row is None:
                self._note_unknown(name)
                continue
            new_mark = _merged(entry.markPx, row.mark, snapshot)
            new_mid = _merged(entry.midPx, row.mid, snapshot)
            if new_mark == row.mark and new_mid == row.mid and row.prices_fast:
                continue
            # Built directly (``dataclasses.replace`` costs several times more, ~1,600 a frame).
            rows[name] = MarketRow(row.market, new_mark, new_mid, row.prev_day, row.funding,
                                   row.open_interest, row.volume, now, True, row.ctx_at,
                                   source)  # fmt: skip
            changed += 1
        if changed:
            self._bump("prices")
        return changed

    def apply_all_dexs(
        self, data: AllDexsAssetCtxs, source: Source = Source.WS
    ) -> list[JoinedCtxs]:
        """Apply an ``allDexsAssetCtxs`` frame, naming each context by its position in the
        catalog's universe of that dex. A dex with more contexts than the catalog knows names
        asks for a catalog reload (``reload_reason``); the contexts it can name still apply."""
        joined, bad = join_all(data, self._universes)
        self.dropped += bad
        for dex in joined:
            self.dropped += dex.unreadable
            if dex.needs_catalog_reload and self._catalog is not None:
                self.reload_reason = (
                    f"dex {dex.dex or 'default'} has {dex.unnamed} more contexts than the "
                    "catalog has names"
                )
            self.apply_perp_contexts(dex.by_coin, source)
        return joined

    def apply_meta_and_ctxs(
        self, meta: Meta, ctxs: Sequence[PerpAssetCtx], source: Source = Source.REST
    ) -> int:
        """Apply a REST ``metaAndAssetCtxs`` answer (its own universe names its contexts)."""
        named = {asset.name: ctx for asset, ctx in zip(meta.universe, ctxs, strict=False)}
        return self.apply_perp_contexts(named, source)

    def apply_perp_contexts(
        self, ctxs: Mapping[str, PerpAssetCtx], source: Source = Source.WS
    ) -> int:
        """Apply full perp contexts by exact name; returns how many rows changed."""
        now = self._clock()
        changed = 0
        for name, ctx in ctxs.items():
            row = self._rows.get(name)
            if row is None:
                self._note_unknown(name)
                continue
            # Prices a REST answer set are its own (judged by its time, not the stream's).
            fast = row.prices_fast and source is Source.WS
            self._rows[name] = MarketRow(
                row.market, ctx.markPx, ctx.midPx, ctx.prevDayPx, ctx.funding,
                ctx.openInterest, ctx.dayNtlVlm, now, fast, now, source,
            )  # fmt: skip
            changed += 1
        self._after_ctx(now, changed, source)
        return changed

    def apply_spot_contexts(
        self, ctxs: Iterable[SpotAssetCtx], source: Source = Source.REST
    ) -> int:
        """Apply spot contexts (``spotMetaAndAssetCtxs``: each names its coin)."""
        now = self._clock()
        changed = 0
        for ctx in ctxs:
            row = self._rows.get(ctx.coin) if ctx.coin is not None else None
            if row is None:
                if ctx.coin is not None:
                    self._note_unknown(ctx.coin)
                continue
            self._rows[row.name] = replace(
                row, mark=ctx.markPx, mid=ctx.midPx, prev_day=ctx.prevDayPx,
                volume=ctx.dayNtlVlm, prices_at=now, ctx_at=now, source=source,
                prices_fast=row.prices_fast and source is Source.WS,
            )  # fmt: skip
            changed += 1
        self._after_ctx(now, changed, source)
        return changed

    def _after_ctx(self, now: float, changed: int, source: Source) -> None:
        if changed:
            self.ctx_at = now
            self.last_source = source
            self._bump("prices", "ctx")

    def _note_unknown(self, name: str) -> None:
        """A name with no row: worth a catalog reload only if the catalog does not know it
        (delisted perps and outcomes are known, they just have no row)."""
        if self._catalog is None or name in self._catalog:
            return
        if len(self.unknown_names) < MAX_UNKNOWN_NAMES:
            self.unknown_names.add(name)
        if self.reload_reason is None:
            self.reload_reason = f"{name} is not in the catalog"

    def _bump(self, *names: str) -> None:
        for name in names:
            self._versions[name] += 1

    # ------------------------------------------------------------------ reads

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes whenever anything shown changes (catalog, prices, contexts)."""
        v = self._versions
        return (v["catalog"], v["prices"], v["ctx"])

    def __len__(self) -> int:
        return len(self._rows)

    def row(self, name: str) -> MarketRow | None:
        return self._rows.get(name)

    def rows(self) -> list[MarketRow]:
        """Every row in catalog order."""
        return [self._rows[n] for n in self._order]

    def price_time(self, row: MarketRow) -> float | None:
        """When ``row``'s prices were last known current: the last fast frame when the fast
        stream holds them (a delta leaving a coin out says it did not change), else when they
        were last set."""
        if row.prices_fast and self.fast_at is not None:
            return self.fast_at
        return row.prices_at

    def view(
        self, query: MarketQuery = EVERYTHING, sort: SortSpec = DEFAULT_SORT
    ) -> list[MarketRow]:
        """The rows ``query`` keeps, sorted by ``sort`` (stable: ties keep catalog order)."""
        names = self.view_names(query, sort)
        rows = self._rows
        return [rows[n] for n in names]

    def view_names(self, query: MarketQuery, sort: SortSpec) -> tuple[str, ...]:
        """Like ``view`` but the names only; cached until the sorted values change."""
        deps = self._deps(sort.column)
        key = (query, sort)
        hit = self._views.get(key)
        if hit is not None and hit[0] == deps:
            return hit[1]
        names = self._sorted(self._filtered(query), sort)
        if len(self._views) >= _VIEW_CACHE_SIZE:
            self._views.pop(next(iter(self._views)))
        self._views[key] = (deps, names)
        return names

    def _deps(self, column: SortColumn) -> tuple[int, ...]:
        v = self._versions
        if column is SortColumn.NAME:
            return (v["catalog"],)
        if column in _PRICE_COLUMNS:
            return (v["catalog"], v["prices"], v["ctx"])
        return (v["catalog"], v["ctx"])

    def _filtered(self, query: MarketQuery) -> tuple[str, ...]:
        if query.is_empty:
            return self._order
        hit = self._filters.get(query)
        if hit is None:
            rows = self._rows
            hit = tuple(n for n in self._order if query.matches(rows[n].market))
            if len(self._filters) >= _VIEW_CACHE_SIZE:
                self._filters.pop(next(iter(self._filters)))
            self._filters[query] = hit
        return hit

    def _sorted(self, names: tuple[str, ...], sort: SortSpec) -> tuple[str, ...]:
        rows = self._rows
        if sort.column is SortColumn.NAME:
            key = lambda n: rows[n].display.casefold()  # noqa: E731
            return tuple(sorted(names, key=key, reverse=sort.descending))
        idx = _COLUMN_INDEX[sort.column]
        field_name = _FIELD_OF.get(sort.column)
        known: list[tuple[float, str]] = []
        unknown: list[str] = []
        for n in names:
            row = rows[n]
            value = _num(getattr(row, field_name)) if field_name else row.numbers[idx]
            if value is None:
                unknown.append(n)
            else:
                known.append((value, n))
        known.sort(key=itemgetter(0), reverse=sort.descending)  # stable: ties keep their order
        return (*(n for _, n in known), *unknown)


def _merged(new: str | UnsetType | None, old: str | None, snapshot: bool) -> str | None:
    """A fast field over the current one: left out = unchanged (delta) or unknown (snapshot)."""
    if isinstance(new, UnsetType):
        return None if snapshot else old
    return new
