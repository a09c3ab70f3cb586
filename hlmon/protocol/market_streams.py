"""The market-wide streams (2026 protocol page §5): every coin's prices and contexts at once.

``fastAssetCtxs`` pushes mark and mid of every coin about once a second. Its ``data`` is a
string: base64 of a raw DEFLATE stream (RFC 1951, no zlib header) holding JSON
``{coin: {markPx?, midPx?}}``. The first frame is the full snapshot; later frames hold only
the coins that changed and leave out unchanged fields, so an absent field (``UNSET`` here) is
"unchanged", never "gone". ``midPx`` may be null (no book).

``allDexsAssetCtxs`` pushes the full perp context of every dex about every 14 s, **without coin
names**: ``ctxs[dex][i]`` belongs to ``meta(dex).universe[i]``, delisted entries included. A
context array longer than the known universe means a listing was added: reload the catalog.

Compressed input is inflated with a hard output cap: a small frame that inflates to gigabytes
is refused with a ``ProtocolError`` before it can eat memory.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import AllDexsAssetCtxs, PerpAssetCtx
from hlmon.protocol.subscriptions import Subscription

FAST_ASSET_CTXS = "fastAssetCtxs"
ALL_DEXS_ASSET_CTXS = "allDexsAssetCtxs"

MAX_INFLATED_BYTES = 8 * 1024 * 1024
"""Largest decompressed ``fastAssetCtxs`` payload accepted. Mainnet's full snapshot (1,592 coins
in 2026-09) is about 100 KB, so 8 MB leaves room for growth and still stops a zip bomb."""
MAX_ENCODED_CHARS = 4 * 1024 * 1024
"""Longest base64 ``data`` string read at all (it is decoded to bytes before inflating)."""


def fast_asset_ctxs() -> Subscription:
    """Mark and mid of every coin (all dexes, spot, outcomes) in one subscription, ~1/s."""
    return Subscription(FAST_ASSET_CTXS)


def all_dexs_asset_ctxs() -> Subscription:
    """Full perp contexts of every dex, by position, ~every 14 s (about 116 KB a frame)."""
    return Subscription(ALL_DEXS_ASSET_CTXS)


# --------------------------------------------------------------------------- fastAssetCtxs


class FastCtx(Struct, frozen=True, omit_defaults=True):
    """One coin's entry in a ``fastAssetCtxs`` frame.

    A field left out of a delta is ``UNSET`` (unchanged since the last frame); ``None`` is an
    explicit null (e.g. no mid while the book is empty). Prices are the exchange's decimal
    strings; the numbers the docs promise are turned into strings as well.
    """

    markPx: str | UnsetType | None = UNSET
    midPx: str | UnsetType | None = UNSET


@dataclass(frozen=True, slots=True)
class FastAssetCtxs:
    """One decoded ``fastAssetCtxs`` frame.

    Attributes:
        prices: coin -> its entry (exact wire names: ``BTC``, ``xyz:NVDA``, ``@107``, ``#140``).
        dropped: entries left out because they could not be read (the rest of the frame is kept).
    """

    prices: dict[str, FastCtx]
    dropped: int = 0


_Px = str | float | None | UnsetType


class _WireFastCtx(Struct, frozen=True):
    # What the wire may carry: strings in practice, numbers per the docs.
    markPx: _Px = UNSET
    midPx: _Px = UNSET


_FAST_MAP: msgspec.json.Decoder[dict[str, _WireFastCtx]] = msgspec.json.Decoder(
    dict[str, _WireFastCtx]
)
_FAST_STRINGS: msgspec.json.Decoder[dict[str, FastCtx]] = msgspec.json.Decoder(dict[str, FastCtx])
"""The wire as it is (decimal strings or null): decoded straight into ``FastCtx``, half the
cost of the general path that also takes the numbers the docs promise."""
_GENERIC: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def inflate(data: str, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """base64 text of a raw DEFLATE stream -> the inflated bytes, at most ``limit`` of them.

    Raises:
        ProtocolError: not a string, bad base64, not a complete DEFLATE stream, or an output
            larger than ``limit`` (found without ever holding more than ``limit + 1`` bytes).
    """
    if not isinstance(data, str):
        raise ProtocolError(f"compressed data must be a string, not {type(data).__name__}", data)
    if len(data) > MAX_ENCODED_CHARS:
        raise ProtocolError(f"compressed data longer than {MAX_ENCODED_CHARS} characters", data)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"compressed data is not base64: {exc}", data) from None
    inflater = zlib.decompressobj(wbits=-15)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise ProtocolError(f"compressed data is not a raw DEFLATE stream: {exc}", data) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ProtocolError(f"compressed data inflates to more than {limit} bytes", data)
    if not inflater.eof:
        raise ProtocolError("compressed data is a truncated DEFLATE stream", data)
    return out


def decode_fast_asset_ctxs(data: str, limit: int = MAX_INFLATED_BYTES) -> FastAssetCtxs:
    """Decode the ``data`` string of a ``fastAssetCtxs`` frame.

    An entry that is not ``{markPx?, midPx?}`` with string, number or null values is left out
    and counted in ``dropped``; the other coins of the frame are kept.

    Raises:
        ProtocolError: the string cannot be inflated (see ``inflate``) or is not a JSON object.
    """
    text = inflate(data, limit)
    try:
        return FastAssetCtxs(_FAST_STRINGS.decode(text))
    except msgspec.ValidationError:
        pass  # numbers, or an unreadable entry: the general path below
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"fastAssetCtxs data is not JSON: {exc}", data) from None
    try:
        wire = _FAST_MAP.decode(text)
    except msgspec.ValidationError:
        return _fast_entry_by_entry(text, data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"fastAssetCtxs data is not JSON: {exc}", data) from None
    return FastAssetCtxs({coin: _as_strings(entry) for coin, entry in wire.items()})


def _fast_entry_by_entry(text: bytes, data: str) -> FastAssetCtxs:
    """Slow path after the typed decode failed: keep every readable entry."""
    try:
        obj = _GENERIC.decode(text)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"fastAssetCtxs data is not JSON: {exc}", data) from None
    if not isinstance(obj, dict):
        raise ProtocolError("fastAssetCtxs data is not a JSON object of coins", data)
    prices: dict[str, FastCtx] = {}
    for coin, entry in obj.items():
        try:
            prices[coin] = _as_strings(msgspec.convert(entry, _WireFastCtx))
        except msgspec.ValidationError:
            continue
    return FastAssetCtxs(prices, dropped=len(obj) - len(prices))


def _as_strings(entry: _WireFastCtx) -> FastCtx:
    return FastCtx(markPx=_px_text(entry.markPx), midPx=_px_text(entry.midPx))


def _px_text(value: _Px) -> str | UnsetType | None:
    # repr of a float is its shortest round-trip form ("97500.5"), which Decimal parses exactly.
    return repr(value) if isinstance(value, float) else value


# --------------------------------------------------------------------------- allDexsAssetCtxs

_DEX_ENTRY: msgspec.json.Decoder[tuple[str, list[msgspec.Raw]]] = msgspec.json.Decoder(
    tuple[str, list[msgspec.Raw]]
)
_CTX: msgspec.json.Decoder[PerpAssetCtx] = msgspec.json.Decoder(PerpAssetCtx)


@dataclass(frozen=True, slots=True)
class DexCtxs:
    """The contexts of one dex, by wire position (``ctxs[i]`` belongs to ``universe[i]``).

    Attributes:
        dex: the dex name (``""`` = the default dex).
        ctxs: one slot per position; None where the context could not be read, so the later
            positions stay aligned.
    """

    dex: str
    ctxs: tuple[PerpAssetCtx | None, ...]

    @property
    def unreadable(self) -> int:
        return sum(1 for c in self.ctxs if c is None)


def read_all_dexs_asset_ctxs(data: AllDexsAssetCtxs) -> tuple[list[DexCtxs], int]:
    """The per-dex contexts of an ``allDexsAssetCtxs`` frame, and how many dex entries could not
    be read at all (not a ``[dex, [ctx...]]`` pair); a dex listed twice keeps its first entry."""
    out: list[DexCtxs] = []
    seen: set[str] = set()
    bad = 0
    for raw in data.ctxs:
        try:
            dex, slots = _DEX_ENTRY.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            bad += 1
            continue
        if dex in seen:
            bad += 1
            continue
        seen.add(dex)
        out.append(DexCtxs(dex, tuple(_ctx_or_none(slot) for slot in slots)))
    return out, bad


def _ctx_or_none(raw: msgspec.Raw) -> PerpAssetCtx | None:
    try:
        return _CTX.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class JoinedCtxs:
    """One dex's contexts named by the catalog's universe.

    Attributes:
        dex: the dex name.
        by_coin: exact coin name -> its context (delisted coins included: their slot is theirs).
        unreadable: slots whose context could not be read.
        unnamed: contexts past the end of the known universe (or of a dex the catalog does not
            know): a listing was added, so the catalog must be reloaded before they can be named.
        missing: names of the universe with no context in the frame (a shorter array).
    """

    dex: str
    by_coin: dict[str, PerpAssetCtx]
    unreadable: int = 0
    unnamed: int = 0
    missing: int = 0

    @property
    def needs_catalog_reload(self) -> bool:
        return self.unnamed > 0


def join_asset_ctxs(dex_ctxs: DexCtxs, universe: Sequence[str | None]) -> JoinedCtxs:
    """Name ``dex_ctxs`` by position: ``universe[i]`` is the exact name at wire position ``i``
    (None for a position the catalog could not read, whose context is then skipped)."""
    by_coin: dict[str, PerpAssetCtx] = {}
    unreadable = 0
    for name, ctx in zip(universe, dex_ctxs.ctxs, strict=False):
        if ctx is None:
            unreadable += 1
        elif name is not None:
            by_coin[name] = ctx
    extra = max(0, len(dex_ctxs.ctxs) - len(universe))
    unreadable += sum(1 for c in dex_ctxs.ctxs[len(universe) :] if c is None)
    missing = max(0, len(universe) - len(dex_ctxs.ctxs))
    return JoinedCtxs(dex_ctxs.dex, by_coin, unreadable, extra, missing)


def join_all(
    data: AllDexsAssetCtxs, universes: Mapping[str, Sequence[str | None]]
) -> tuple[list[JoinedCtxs], int]:
    """``read_all_dexs_asset_ctxs`` then ``join_asset_ctxs`` per dex; ``universes`` maps a dex
    name to its names by wire position (a dex missing from it has every context unnamed)."""
    dexes, bad = read_all_dexs_asset_ctxs(data)
    return [join_asset_ctxs(d, universes.get(d.dex, ())) for d in dexes], bad
