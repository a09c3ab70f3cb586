"""Market metadata answers of ``/info``: perp dexes, perp and spot metas, outcome markets.

These answers build the market catalog, so losing one of them to a single odd entry would
leave hlmon without any coin it may subscribe. Each type therefore decodes in two steps: a
strict typed pass (the normal, fast case) and, only when that fails, a tolerant pass that
converts entry by entry and leaves out what does not fit, counting it. Only a top-level shape
that is wrong (not a list, no ``universe``...) still raises ``ProtocolError``.

Tolerant results keep the wire's shape, so re-encoding a decoded answer and decoding it again
gives the same value:

- ``perpDexs``: ``list[PerpDex | None]``, element *i* is perp dex *i*. Element 0 is the default
  dex (``null`` on the wire); ``None`` anywhere else marks an entry that could not be read.
- ``allPerpMetas``: ``list[Meta | None]`` aligned with ``perpDexs``; ``None`` = unreadable.
- ``Meta.dropped_at``: wire positions of universe entries left out, so asset indices (and the
  ``ctxs`` of ``metaAndAssetCtxs``, dropped in step) stay aligned.
- ``SpotMeta.dropped`` / ``OutcomeMeta.dropped``: how many entries were left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from msgspec import Struct

from hlmon.protocol.messages import PerpAssetCtx, SpotAssetCtx
from hlmon.protocol.tolerant import (
    Bad,
    convert,
    decode_with,
    int_or_none,
    items,
    list_or_empty,
    obj,
)

_Name = Annotated[str, msgspec.Meta(min_length=1)]

ISOLATED_ONLY_MODES: frozenset[str] = frozenset(("strictIsolated", "noCross"))
"""``marginMode`` values under which a perp cannot be traded with cross margin."""

# --------------------------------------------------------------------------- perp dexes


class PerpDex(Struct):
    """One HIP-3 builder-deployed perp dex (an element of ``perpDexs`` after the first).

    Only ``name`` is needed; the rest is informative and typed loosely so a changed detail
    never costs the whole dex.
    """

    name: _Name
    fullName: str = ""
    deployer: str | None = None
    oracleUpdater: Any = None
    feeRecipient: Any = None
    deployerFeeScale: Any = None
    assetToStreamingOiCap: Any = None
    assetToFundingMultiplier: Any = None


# --------------------------------------------------------------------------- perp meta


class AssetMeta(Struct):
    """One perp in a ``meta.universe``; its position is its asset index on its dex.

    HIP-3 names arrive already prefixed (``xyz:TSLA``). ``maxLeverage`` is absent in 2023-era
    answers, hence optional.
    """

    name: _Name
    szDecimals: int
    maxLeverage: int | None = None
    marginTableId: int | None = None
    isDelisted: bool = False
    onlyIsolated: bool = False
    marginMode: str | None = None
    """``strictIsolated`` or ``noCross`` restrict margin to isolated; others are informative."""
    growthMode: str | None = None

    @property
    def isolated_only(self) -> bool:
        """True when the perp cannot use cross margin (either wire spelling of that)."""
        return self.onlyIsolated or self.marginMode in ISOLATED_ONLY_MODES


class Meta(Struct):
    """A perp dex's ``meta``: its universe, margin tables and collateral token."""

    universe: list[AssetMeta]
    marginTables: list[Any] = []
    collateralToken: int | None = None
    """Index into ``spotMeta.tokens`` of the token this dex settles in; absent in old answers."""
    dropped_at: list[int] = []
    """Not on the wire: positions of universe entries the tolerant decoder left out."""

    def asset_indices(self) -> list[int]:
        """The wire position (asset index on the dex) of each entry of ``universe``."""
        if not self.dropped_at:
            return list(range(len(self.universe)))
        gone = set(self.dropped_at)
        out: list[int] = []
        pos = 0
        for _ in self.universe:
            while pos in gone:
                pos += 1
            out.append(pos)
            pos += 1
        return out


# --------------------------------------------------------------------------- spot meta


class SpotPair(Struct):
    """A spot pair: ``PURR/USDC`` keeps its name, every other pair is ``@<index>``."""

    name: _Name
    tokens: list[int]
    """``[base, quote]`` token indices."""
    index: int
    isCanonical: bool = False


class SpotToken(Struct):
    name: str
    szDecimals: int
    weiDecimals: int
    index: int
    tokenId: str | None = None
    isCanonical: bool = False
    evmContract: Any = None
    """null, or ``{address, evm_extra_wei_decimals}`` on current servers."""
    fullName: str | None = None


class SpotMeta(Struct):
    universe: list[SpotPair]
    tokens: list[SpotToken]
    dropped: int = 0
    """Not on the wire: pairs, tokens (and contexts) the tolerant decoder left out."""


# --------------------------------------------------------------------------- outcome meta


class OutcomeSide(Struct):
    name: str
    token: int | None = None


class Outcome(Struct):
    """A HIP-4 outcome market; side *s* trades as ``#<10 * outcome + s>``."""

    outcome: int
    name: str = ""
    description: str = ""
    sideSpecs: list[OutcomeSide] = []
    quoteToken: int | None = None
    deployer: str | None = None


class Question(Struct):
    question: int
    name: str = ""
    description: str = ""
    fallbackOutcome: int | None = None
    namedOutcomes: list[int] = []
    settledNamedOutcomes: list[int] = []


class OutcomeMeta(Struct):
    outcomes: list[Outcome] = []
    questions: list[Question] = []
    dropped: int = 0
    """Not on the wire: outcomes and questions the tolerant decoder left out."""


# --------------------------------------------------------------------------- tolerant decoding

STRICT_TYPES: dict[str, Any] = {
    "perpDexs": list[PerpDex | None],
    "allPerpMetas": list[Meta | None],
    "meta": Meta,
    "metaAndAssetCtxs": tuple[Meta, list[PerpAssetCtx]],
    "spotMeta": SpotMeta,
    "spotMetaAndAssetCtxs": tuple[SpotMeta, list[SpotAssetCtx]],
    "outcomeMeta": OutcomeMeta,
}
"""Decoded type per metadata info type (the tolerant pass returns the same types)."""


def _meta(raw: Any) -> Meta:
    fields = obj(raw, "meta")
    universe, dropped = items(fields.get("universe"), AssetMeta, "meta.universe")
    return Meta(
        universe=universe,
        marginTables=list_or_empty(fields.get("marginTables")),
        collateralToken=int_or_none(fields.get("collateralToken")),
        dropped_at=dropped,
    )


def _perp_dexs(raw: Any) -> list[PerpDex | None]:
    if not isinstance(raw, list):
        raise Bad("perpDexs is not a list")
    # An unreadable dex becomes None in its slot: positions are dex indices.
    return [None if item is None else convert(item, PerpDex) for item in raw]


def _all_perp_metas(raw: Any) -> list[Meta | None]:
    if not isinstance(raw, list):
        raise Bad("allPerpMetas is not a list")
    out: list[Meta | None] = []
    for item in raw:
        try:
            out.append(_meta(item))
        except Bad:
            out.append(None)
    return out


def _meta_and_ctxs(raw: Any) -> tuple[Meta, list[PerpAssetCtx]]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise Bad("metaAndAssetCtxs is not a [meta, ctxs] pair")
    meta_obj = obj(raw[0], "meta")
    universe_raw, ctxs_raw = meta_obj.get("universe"), raw[1]
    if not isinstance(universe_raw, list) or not isinstance(ctxs_raw, list):
        raise Bad("metaAndAssetCtxs has no universe or ctxs list")
    # ctxs[i] belongs to universe[i]: keep or drop them together so they stay aligned.
    universe: list[AssetMeta] = []
    ctxs: list[PerpAssetCtx] = []
    dropped: list[int] = []
    for pos in range(len(universe_raw)):
        asset = convert(universe_raw[pos], AssetMeta)
        ctx = convert(ctxs_raw[pos], PerpAssetCtx) if pos < len(ctxs_raw) else None
        if asset is None or ctx is None:
            dropped.append(pos)
        else:
            universe.append(asset)
            ctxs.append(ctx)
    meta = Meta(
        universe=universe,
        marginTables=list_or_empty(meta_obj.get("marginTables")),
        collateralToken=int_or_none(meta_obj.get("collateralToken")),
        dropped_at=dropped,
    )
    return meta, ctxs


def _spot_meta(raw: Any) -> SpotMeta:
    fields = obj(raw, "spotMeta")
    pairs, bad_pairs = items(fields.get("universe"), SpotPair, "spotMeta.universe")
    tokens, bad_tokens = items(fields.get("tokens"), SpotToken, "spotMeta.tokens")
    return SpotMeta(universe=pairs, tokens=tokens, dropped=len(bad_pairs) + len(bad_tokens))


def _spot_meta_and_ctxs(raw: Any) -> tuple[SpotMeta, list[SpotAssetCtx]]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise Bad("spotMetaAndAssetCtxs is not a [spotMeta, ctxs] pair")
    meta = _spot_meta(raw[0])
    ctxs, bad = items(raw[1], SpotAssetCtx, "spotMetaAndAssetCtxs ctxs")  # each names its coin
    meta.dropped += len(bad)
    return meta, ctxs


def _outcome_meta(raw: Any) -> OutcomeMeta:
    fields = obj(raw, "outcomeMeta")
    # Absent or null lists are an empty market, not a broken answer.
    outcomes, bad_o = items(fields.get("outcomes") or [], Outcome, "outcomeMeta.outcomes")
    questions, bad_q = items(fields.get("questions") or [], Question, "outcomeMeta.questions")
    return OutcomeMeta(outcomes=outcomes, questions=questions, dropped=len(bad_o) + len(bad_q))


TOLERANT_READERS: dict[str, Callable[[Any], Any]] = {
    "perpDexs": _perp_dexs,
    "allPerpMetas": _all_perp_metas,
    "meta": _meta,
    "metaAndAssetCtxs": _meta_and_ctxs,
    "spotMeta": _spot_meta,
    "spotMetaAndAssetCtxs": _spot_meta_and_ctxs,
    "outcomeMeta": _outcome_meta,
}
"""Tolerant reader (parsed JSON in, ``STRICT_TYPES`` value out) per metadata info type."""


def decode_tolerant(info_type: str, body: bytes | str) -> Any:
    """Decode a metadata answer entry by entry, leaving out what does not fit.

    The fallback after the strict decode of ``STRICT_TYPES[info_type]`` failed.

    Raises:
        ProtocolError: when the body is not JSON or its top-level shape is wrong.
        KeyError: when ``info_type`` is not a metadata type.
    """
    return decode_with(TOLERANT_READERS[info_type], info_type, body)
