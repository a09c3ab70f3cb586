"""The market catalog: every name the exchange lists, and the resolution of what users type.

Since 2026 the exchange closes the whole websocket over a subscription for a coin it does not
list, a mis-cased one (``btc``) or a HIP-3 ticker without its dex prefix. So no coin reaches a
socket unless it came from here: ``MarketCatalog.resolve`` turns user input into the exact wire
name or into an error that names the input and the closest listed names.

Built from ``perpDexs`` + ``allPerpMetas`` + ``spotMeta`` (+ ``outcomeMeta``) by
``build_catalog``; plain immutable data, no I/O. It serialises to JSON (``to_json`` /
``from_json``) with the time it was loaded, so the last good catalog can be used from a disk
cache when the exchange cannot be reached.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import msgspec

from hlmon.protocol.meta import AssetMeta, Meta, OutcomeMeta, PerpDex, SpotMeta, SpotToken

DEFAULT_COLLATERAL_TOKEN = 0
"""The default dex settles in USDC, spot token 0 (documented); assumed only for that dex, and
only when its meta does not say (2023-era answers)."""

USDC_TOKEN = 0
"""Spot token 0 is USDC, the unit every USD value is counted in."""

CACHE_VERSION = 2
"""Bumped whenever the JSON layout changes: an older cache is then ignored, never misread."""

MAX_SUGGESTIONS = 3


class MarketKind(StrEnum):
    PERP = "perp"
    SPOT = "spot"
    OUTCOME = "outcome"


@dataclass(frozen=True, slots=True)
class Market:
    """One tradable name.

    Attributes:
        name: the exact wire name (``BTC``, ``kPEPE``, ``xyz:TSLA``, ``PURR/USDC``, ``@107``,
            ``#14880``): the only spelling ever sent.
        kind: perp, spot or outcome.
        dex: the perp dex (``""`` = default dex; spot and outcomes are ``""`` too).
        sz_decimals: size decimals, or None when the answer did not say (a spot pair whose
            base token is missing from ``spotMeta.tokens``).
        display: what to show: ``HYPE/USDC`` for ``@107``, the name itself otherwise.
        collateral: perps: the dex's collateral token name (None when unknown; never a guess).
        delisted: kept for naming old fills; never subscribed.
        isolated_only: the perp cannot use cross margin.
        asset_index: perps: position in the dex's universe (joins ``allDexsAssetCtxs``);
            spot: the pair index; outcomes: ``10 * outcome + side``.
        base, quote: spot: token names of the pair.
        max_leverage: perps, when the meta says.
        base_token, quote_token: spot: token indices of the pair; outcomes: ``quote_token``
            is the token the outcome is priced in (None when the meta does not say).
    """

    name: str
    kind: MarketKind
    dex: str = ""
    sz_decimals: int | None = None
    display: str = ""
    collateral: str | None = None
    delisted: bool = False
    isolated_only: bool = False
    asset_index: int = 0
    base: str | None = None
    quote: str | None = None
    max_leverage: int | None = None
    base_token: int | None = None
    quote_token: int | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """One spot token (``spotMeta.tokens``): balances, collateral and fees name tokens."""

    index: int
    name: str
    sz_decimals: int | None = None
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class Dex:
    """One perp dex: ``""`` is the default dex (index 0), the others are HIP-3 dexes."""

    name: str
    index: int
    full_name: str = ""
    collateral_token: int | None = None
    collateral: str | None = None
    """The collateral token's name (``USDC``, ``USDE``, ``USDH``...), None when unknown."""


class ResolveError(StrEnum):
    EMPTY = "empty"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    """Several names fit (or a bare HIP-3 ticker): the user must choose among ``candidates``."""
    DELISTED = "delisted"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving user input: a ``name``, or an ``error`` with a ``message``.

    ``candidates`` holds the names to choose from (ambiguous) or the closest listed names
    (unknown); each is something the user can type.
    """

    query: str
    name: str | None = None
    error: ResolveError | None = None
    message: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.name is not None


class _CacheDoc(msgspec.Struct):
    version: int
    loaded_at: float
    dexes: list[Dex]
    markets: list[Market]
    tokens: list[Token] = []
    warnings: list[str] = []
    dropped: int = 0
    misaligned_dexes: list[str] = []


def _fold(text: str) -> str:
    return text.strip().casefold()


@dataclass
class _Index:
    """Lookup tables derived from the markets (rebuilt, never serialised)."""

    by_name: dict[str, Market] = field(default_factory=dict)
    folded: dict[str, list[str]] = field(default_factory=dict)
    """casefold(exact name) -> exact names (two only if the exchange ever lists both)."""
    aliases: dict[str, list[str]] = field(default_factory=dict)
    """casefold(``BASE/QUOTE`` of an ``@N`` pair) -> exact names; names win over aliases."""
    bare: dict[str, list[str]] = field(default_factory=dict)
    """casefold(HIP-3 ticker without its prefix) -> listed exact names."""
    labels: dict[str, str] = field(default_factory=dict)
    """casefold key -> the typeable spelling to suggest (listed markets only)."""


class MarketCatalog:
    """Every market the exchange lists, by exact name; immutable once built."""

    def __init__(
        self,
        markets: Iterable[Market],
        dexes: Iterable[Dex],
        *,
        loaded_at: float,
        tokens: Iterable[Token] = (),
        warnings: Iterable[str] = (),
        dropped: int = 0,
        misaligned_dexes: Iterable[str] = (),
    ) -> None:
        self._markets = tuple(markets)
        self._dexes = tuple(dexes)
        self.loaded_at = loaded_at
        """Wall-clock time (epoch seconds) the answers were fetched."""
        self.warnings = tuple(warnings)
        """What was odd about the answers (unreadable entries, misaligned metas...)."""
        self.dropped = dropped
        """Entries left out of the answers because they could not be read."""
        self.misaligned_dexes = tuple(misaligned_dexes)
        """Dexes whose ``allPerpMetas`` entry was missing or did not carry their prefix: the
        loader fetches their own ``meta`` instead."""
        self._index = _build_index(self._markets)
        self._dex_by_name = {d.name: d for d in self._dexes}
        self._tokens = tuple(tokens)
        self._token_by_index = {t.index: t for t in self._tokens}
        self._pairs_by_base = _pairs_by_base(self._markets)

    # ------------------------------------------------------------------ lookups

    def __len__(self) -> int:
        return len(self._index.by_name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._index.by_name

    def market(self, name: str) -> Market | None:
        """The market with exactly this wire name."""
        return self._index.by_name.get(name)

    def markets(
        self, kind: MarketKind | None = None, *, dex: str | None = None, listed_only: bool = True
    ) -> list[Market]:
        """Markets in catalog order, optionally of one kind and/or one perp dex."""
        return [
            mk
            for mk in self._markets
            if (kind is None or mk.kind == kind)
            and (dex is None or (mk.kind == MarketKind.PERP and mk.dex == dex))
            and not (listed_only and mk.delisted)
        ]

    def dexes(self) -> tuple[Dex, ...]:
        """Every perp dex, default first, with its collateral token name."""
        return self._dexes

    def dex(self, name: str) -> Dex | None:
        return self._dex_by_name.get(name)

    def dex_of(self, name: str) -> str | None:
        """The perp dex of a market (``""`` for default-dex perps, spot and outcomes)."""
        mk = self._index.by_name.get(name)
        return None if mk is None else mk.dex

    def is_listed(self, name: str) -> bool:
        """True for an exact name the exchange lists and has not delisted: safe to subscribe."""
        mk = self._index.by_name.get(name)
        return mk is not None and not mk.delisted

    def display(self, name: str) -> str:
        """The name to show (``HYPE/USDC`` for ``@107``); unknown names show as they are."""
        mk = self._index.by_name.get(name)
        return name if mk is None else mk.display

    def sz_decimals(self, name: str) -> int | None:
        mk = self._index.by_name.get(name)
        return None if mk is None else mk.sz_decimals

    def collateral_of(self, name: str) -> str | None:
        """The collateral token name of a perp's dex (None for spot, outcomes and unknown)."""
        mk = self._index.by_name.get(name)
        return None if mk is None else mk.collateral

    # ------------------------------------------------------------------ spot tokens

    def tokens(self) -> tuple[Token, ...]:
        """Every spot token of ``spotMeta``, in its order."""
        return self._tokens

    def token(self, index: int) -> Token | None:
        return self._token_by_index.get(index)

    def token_name(self, index: int | None) -> str | None:
        """The on-chain name of spot token ``index`` (``UBTC``, ``USDH``...), None if unknown."""
        tok = None if index is None else self._token_by_index.get(index)
        return None if tok is None else tok.name

    def spot_pairs_of(self, base: int) -> list[Market]:
        """Listed spot pairs that sell token ``base``: the USDC pair first, then the others in
        catalog order (their quotes need converting to USD through their own USDC pair)."""
        return list(self._pairs_by_base.get(base, ()))

    def usdc_pair(self, base: int) -> Market | None:
        """The listed ``base``/USDC pair, if there is one."""
        for mk in self._pairs_by_base.get(base, ()):
            if mk.quote_token == USDC_TOKEN:
                return mk
        return None

    def age(self, now: float) -> float:
        """Seconds since the answers were fetched."""
        return max(0.0, now - self.loaded_at)

    # ------------------------------------------------------------------ resolution

    def resolve(self, text: str, *, allow_delisted: bool = False) -> Resolution:
        """Resolve user input to the exact wire name (2026 protocol page §2.5).

        Trimmed and matched case-insensitively (``btc`` -> ``BTC``, ``XYZ:tsla`` ->
        ``xyz:TSLA``, ``hype/usdc`` -> ``@107``). A bare HIP-3 ticker (``TSLA``) that is no
        default-dex name is never guessed: the result is ambiguous and lists the dexes' names.
        Unknown input gets the closest listed names; a delisted market is refused unless
        ``allow_delisted`` (naming old fills).
        """
        query = text.strip() if isinstance(text, str) else ""
        if not query:
            return Resolution(str(text), error=ResolveError.EMPTY, message="no market name given")
        key = query.casefold()
        names = self._index.folded.get(key) or self._index.aliases.get(key)
        if names:
            return self._pick(query, names, allow_delisted)
        if ":" not in query:
            hip3 = self._index.bare.get(key)
            if hip3:
                return _needs_dex(query, tuple(hip3))
        suggestions = self.suggest(query)
        message = f"unknown market {query!r}"
        if suggestions:
            message += f"; closest listed: {', '.join(suggestions)}"
        return Resolution(query, error=ResolveError.UNKNOWN, message=message,
                          candidates=suggestions)  # fmt: skip

    def resolve_all(
        self, texts: Iterable[str], *, allow_delisted: bool = False
    ) -> tuple[list[str], list[Resolution]]:
        """Resolve several inputs: (exact names without repeats, in order; the failures)."""
        names: list[str] = []
        failures: list[Resolution] = []
        for text in texts:
            res = self.resolve(text, allow_delisted=allow_delisted)
            if res.name is None:
                failures.append(res)
            elif res.name not in names:
                names.append(res.name)
        return names, failures

    def suggest(self, text: str, n: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
        """The listed names (or spot aliases) closest to ``text``, best first."""
        labels = self._index.labels
        keys = difflib.get_close_matches(_fold(text), list(labels), n=n, cutoff=0.6)
        return tuple(labels[str(k)] for k in keys)

    def _pick(self, query: str, names: Sequence[str], allow_delisted: bool) -> Resolution:
        if len(names) == 1:
            name = names[0]
        elif query in names:
            name = query  # two names fold alike: only the exact spelling decides
        else:
            listed = ", ".join(names)
            return Resolution(query, error=ResolveError.AMBIGUOUS, candidates=tuple(names),
                              message=f"{query!r} matches several markets: {listed}; "
                              "type the exact name")  # fmt: skip
        mk = self._index.by_name[name]
        if mk.delisted and not allow_delisted:
            shown = name if name == query else f"{query!r} ({name})"
            return Resolution(query, error=ResolveError.DELISTED,
                              message=f"{shown} is delisted")  # fmt: skip
        return Resolution(query, name=name)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> bytes:
        """The catalog as JSON, with its load time, for the disk cache."""
        doc = _CacheDoc(
            version=CACHE_VERSION,
            loaded_at=self.loaded_at,
            dexes=list(self._dexes),
            markets=list(self._markets),
            tokens=list(self._tokens),
            warnings=list(self.warnings),
            dropped=self.dropped,
            misaligned_dexes=list(self.misaligned_dexes),
        )
        return msgspec.json.encode(doc)

    @classmethod
    def from_json(cls, data: bytes | str) -> MarketCatalog:
        """Read ``to_json`` output back.

        Raises:
            ValueError: not JSON, another layout or version, or fields of the wrong type.
        """
        try:
            doc = msgspec.json.decode(data, type=_CacheDoc)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise ValueError(f"not a market catalog: {exc}") from None
        if doc.version != CACHE_VERSION:
            raise ValueError(f"catalog cache version {doc.version}, expected {CACHE_VERSION}")
        return cls(
            doc.markets,
            doc.dexes,
            loaded_at=doc.loaded_at,
            tokens=doc.tokens,
            warnings=doc.warnings,
            dropped=doc.dropped,
            misaligned_dexes=doc.misaligned_dexes,
        )


def _needs_dex(query: str, names: tuple[str, ...]) -> Resolution:
    if len(names) == 1:
        message = f"{query!r} is a HIP-3 market: did you mean {names[0]}?"
    else:
        message = f"{query!r} trades on several dexes: {', '.join(names)}; type one of them"
    return Resolution(query, error=ResolveError.AMBIGUOUS, message=message, candidates=names)


def _pairs_by_base(markets: Iterable[Market]) -> dict[int, tuple[Market, ...]]:
    """Listed spot pairs per base token, the USDC-quoted one first (a stable sort)."""
    out: dict[int, list[Market]] = {}
    for mk in markets:
        if mk.kind == MarketKind.SPOT and mk.base_token is not None and not mk.delisted:
            out.setdefault(mk.base_token, []).append(mk)
    return {
        base: tuple(sorted(pairs, key=lambda mk: mk.quote_token != USDC_TOKEN))
        for base, pairs in out.items()
    }


def _build_index(markets: Iterable[Market]) -> _Index:
    index = _Index()
    for mk in markets:
        if mk.name in index.by_name:
            continue  # the builder already warned; the first one wins
        index.by_name[mk.name] = mk
        spellings = [(mk.name, index.folded)]
        if mk.kind == MarketKind.SPOT and mk.display != mk.name:
            spellings.append((mk.display, index.aliases))  # BASE/QUOTE of an @N pair
        for spelling, table in spellings:
            key = spelling.casefold()
            table.setdefault(key, []).append(mk.name)
            if not mk.delisted:
                index.labels.setdefault(key, spelling)
        if mk.kind == MarketKind.PERP and mk.dex and not mk.delisted:
            ticker = mk.name.partition(":")[2].casefold()
            index.bare.setdefault(ticker, []).append(mk.name)
    return index


# --------------------------------------------------------------------------- building


def build_catalog(
    perp_dexs: Sequence[PerpDex | None],
    all_perp_metas: Sequence[Meta | None],
    spot_meta: SpotMeta | None,
    outcome_meta: OutcomeMeta | None = None,
    *,
    loaded_at: float,
    dex_metas: Mapping[str, Meta] | None = None,
) -> MarketCatalog:
    """Build the catalog from decoded ``/info`` answers.

    ``all_perp_metas[i]`` belongs to ``perp_dexs[i]`` (0 = the default dex). A HIP-3 meta whose
    names lack ``<dex>:`` is not trusted: those entries are left out and the dex is listed in
    ``misaligned_dexes`` so the loader can fetch its own ``meta`` and pass it in ``dex_metas``
    (by dex name; it replaces the ``allPerpMetas`` entry).
    """
    warnings: list[str] = []
    dropped = 0
    misaligned: list[str] = []
    tokens = {t.index: t for t in spot_meta.tokens} if spot_meta is not None else {}
    overrides = dex_metas or {}
    dexes: list[Dex] = []
    markets: list[Market] = []
    seen: set[str] = set()

    def add(mk: Market) -> None:
        if mk.name in seen:
            warnings.append(f"{mk.name} is listed twice; the second one is ignored")
            return
        seen.add(mk.name)
        markets.append(mk)

    for pos in range(max(1, len(perp_dexs))):
        entry = perp_dexs[pos] if pos < len(perp_dexs) else None
        if pos > 0 and entry is None:
            warnings.append(f"perp dex #{pos} could not be read; its markets are left out")
            dropped += 1
            continue
        name = "" if pos == 0 or entry is None else entry.name
        meta = overrides.get(name)
        if meta is None and pos < len(all_perp_metas):
            meta = all_perp_metas[pos]
        token = meta.collateralToken if meta is not None else None
        if token is None and pos == 0 and meta is not None:
            token = DEFAULT_COLLATERAL_TOKEN
        collateral = _token_name(tokens.get(token)) if token is not None else None
        dexes.append(Dex(name, pos, entry.fullName if entry else "", token, collateral))
        if meta is None:
            warnings.append(f"no meta for perp dex {name or 'default'}; its markets are missing")
            misaligned.append(name)
            continue
        dropped += len(meta.dropped_at)
        wrong = 0
        for asset, asset_index in zip(meta.universe, meta.asset_indices(), strict=True):
            if not _belongs(asset.name, name):
                wrong += 1
                continue
            add(_perp(asset, name, asset_index, collateral))
        if wrong:
            dropped += wrong
            misaligned.append(name)
            warnings.append(
                f"{wrong} names in the meta of dex {name or 'default'} lack its prefix; "
                "they are left out"
            )
    if len(all_perp_metas) > max(1, len(perp_dexs)):
        extra = len(all_perp_metas) - max(1, len(perp_dexs))
        warnings.append(f"{extra} perp metas beyond the listed dexes are ignored")

    if spot_meta is not None:
        dropped += spot_meta.dropped
        for pair in spot_meta.universe:
            add(_spot(pair.name, pair.index, pair.tokens, tokens))
    if outcome_meta is not None:
        dropped += outcome_meta.dropped
        for outcome in outcome_meta.outcomes:
            for side, spec in enumerate(outcome.sideSpecs):
                code = 10 * outcome.outcome + side
                label = f"{outcome.name}: {spec.name}" if outcome.name else f"#{code}"
                szd = tokens[spec.token].szDecimals if spec.token in tokens else None
                add(Market(f"#{code}", MarketKind.OUTCOME, "", szd, label, asset_index=code,
                           quote_token=outcome.quoteToken))  # fmt: skip
    if dropped:
        warnings.append(f"{dropped} unreadable entries were left out of the catalog")
    token_list = [Token(t.index, t.name.strip(), t.szDecimals, t.fullName) for t in tokens.values()]
    return MarketCatalog(markets, dexes, loaded_at=loaded_at, tokens=token_list,
                         warnings=warnings, dropped=dropped,
                         misaligned_dexes=misaligned)  # fmt: skip


def _belongs(name: str, dex: str) -> bool:
    """A default-dex name has no ``:``; a HIP-3 name starts with exactly ``<dex>:``."""
    if not dex:
        return ":" not in name
    prefix, colon, ticker = name.partition(":")
    return bool(colon) and prefix == dex and bool(ticker)


def _token_name(token: SpotToken | None) -> str | None:
    return token.name.strip() if token is not None else None


def _perp(asset: AssetMeta, dex: str, asset_index: int, collateral: str | None) -> Market:
    return Market(
        name=asset.name,
        kind=MarketKind.PERP,
        dex=dex,
        sz_decimals=asset.szDecimals,
        display=asset.name,
        collateral=collateral,
        delisted=asset.isDelisted,
        isolated_only=asset.isolated_only,
        asset_index=asset_index,
        max_leverage=asset.maxLeverage,
    )


def _spot(name: str, index: int, pair: Sequence[int], tokens: Mapping[int, SpotToken]) -> Market:
    base_tok = tokens.get(pair[0]) if len(pair) == 2 else None
    quote_tok = tokens.get(pair[1]) if len(pair) == 2 else None
    base, quote = _token_name(base_tok), _token_name(quote_tok)
    display = name
    if name.startswith("@") and base and quote:
        display = f"{base}/{quote}"  # @107 shows (and can be typed) as HYPE/USDC
    return Market(
        name=name,
        kind=MarketKind.SPOT,
        sz_decimals=base_tok.szDecimals if base_tok is not None else None,
        display=display,
        asset_index=index,
        base=base,
        quote=quote,
        base_token=pair[0] if len(pair) == 2 else None,
        quote_token=pair[1] if len(pair) == 2 else None,
    )
