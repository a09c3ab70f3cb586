"""REST ``POST /info``: typed request builders, weights, response structs and decoding.

Builders return an ``InfoRequest`` whose ``body`` is the JSON object to post. Responses are
decoded with ``decode_response`` into the structs below (or those in ``account_types``,
``messages`` and ``meta``), and
``to_message`` turns the answers the store cares about into the same websocket ``Message``
types it already applies, so REST fallback and reconciliation need no second code path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import Struct

# Account item structs live in ``account_types``; re-exported here for callers of /info.
from hlmon.protocol.account_types import EvmEscrow as EvmEscrow
from hlmon.protocol.account_types import OrderWithStatus as OrderWithStatus
from hlmon.protocol.account_types import PortfolioPeriod as PortfolioPeriod
from hlmon.protocol.account_types import SpotBalance as SpotBalance
from hlmon.protocol.account_types import SpotClearinghouseState as SpotClearinghouseState
from hlmon.protocol.account_types import TwapHistoryItem as TwapHistoryItem
from hlmon.protocol.account_types import TwapSliceFill as TwapSliceFill
from hlmon.protocol.account_types import UserFundingDelta as UserFundingDelta
from hlmon.protocol.account_types import UserFundingItem as UserFundingItem
from hlmon.protocol.account_types import UserRole as UserRole
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import (
    AllMids,
    AllMidsMsg,
    Candle,
    ClearinghouseState,
    ClearinghouseStateData,
    ClearinghouseStateMsg,
    Fill,
    FrontendOrder,
    L2Book,
    L2BookMsg,
    LedgerUpdate,
    Message,
    OpenOrdersData,
    OpenOrdersMsg,
    SpotStateData,
    SpotStateMsg,
    Trade,
    UserFills,
    UserFillsMsg,
    UserTwapHistory,
    UserTwapHistoryMsg,
    UserTwapSliceFills,
    UserTwapSliceFillsMsg,
)

# Metadata structs live in ``meta``; re-exported here, where callers have always found them.
from hlmon.protocol.meta import STRICT_TYPES as META_TYPES
from hlmon.protocol.meta import TOLERANT_READERS as META_READERS
from hlmon.protocol.meta import AssetMeta as AssetMeta
from hlmon.protocol.meta import Meta as Meta
from hlmon.protocol.meta import OutcomeMeta as OutcomeMeta
from hlmon.protocol.meta import PerpDex as PerpDex
from hlmon.protocol.meta import SpotMeta as SpotMeta
from hlmon.protocol.meta import SpotPair as SpotPair
from hlmon.protocol.meta import SpotToken as SpotToken
from hlmon.protocol.repair import REST_READERS, tolerance_of
from hlmon.protocol.subscriptions import CANDLE_INTERVALS, check_book_params, check_dex
from hlmon.protocol.subscriptions import MANTISSAS as MANTISSAS
from hlmon.protocol.subscriptions import N_SIG_FIGS as N_SIG_FIGS
from hlmon.protocol.tolerant import decode_with

# --------------------------------------------------------------------------- weights

INFO_WEIGHTS: dict[str, int] = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}
"""Base weight per info type (Docs rate limits); any type not listed costs ``DEFAULT_WEIGHT``."""

DEFAULT_WEIGHT = 20

PER_20_ITEMS: frozenset[str] = frozenset(
    (
        "recentTrades",
        "historicalOrders",
        "userFills",
        "userFillsByTime",
        "fundingHistory",
        "userFunding",
        "nonUserFundingUpdates",
        "twapHistory",
        "userTwapSliceFills",
        "userTwapSliceFillsByTime",
        "delegatorHistory",
        "delegatorRewards",
        "validatorStats",
    )
)
"""Types that cost extra weight per 20 items returned."""

PER_60_ITEMS: frozenset[str] = frozenset(("candleSnapshot",))
"""Types that cost extra weight per 60 items returned."""


def base_weight(info_type: str) -> int:
    """Weight of one request of ``info_type`` before any per-item extra."""
    return INFO_WEIGHTS.get(info_type, DEFAULT_WEIGHT)


def extra_weight(info_type: str, n_items: int) -> int:
    """Extra weight for a response with ``n_items`` items.

    Assumes 1 per block of 20 (60 for ``candleSnapshot``) items, rounded **up**: the Docs do
    not state the amount or the rounding, and over-counting a client-side budget is safe where
    under-counting earns HTTP 429. Types without a per-item charge cost 0 extra.
    """
    if n_items <= 0:
        return 0
    if info_type in PER_20_ITEMS:
        return math.ceil(n_items / 20)
    if info_type in PER_60_ITEMS:
        return math.ceil(n_items / 60)
    return 0


def response_weight(req: InfoRequest, n_items: int) -> int:
    """Total weight of ``req`` once its response held ``n_items`` items."""
    return req.weight + extra_weight(req.type, n_items)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class InfoRequest:
    """One /info request.

    Attributes:
        type: the info ``type``.
        body: the JSON body to post (includes ``type``).
        weight: base rate-limit weight (see ``response_weight`` for the per-item extra).
    """

    type: str
    body: dict[str, Any] = field(hash=False)
    weight: int


def from_body(body: Mapping[str, Any]) -> InfoRequest:
    """An ``InfoRequest`` for an already-built body (any info type, no validation of params)."""
    info_type = body.get("type")
    if not isinstance(info_type, str) or not info_type:
        raise ValueError(f"info body needs a non-empty string 'type', got {info_type!r}")
    return InfoRequest(info_type, dict(body), base_weight(info_type))


def _req(info_type: str, **params: Any) -> InfoRequest:
    body: dict[str, Any] = {"type": info_type}
    body.update((k, v) for k, v in params.items() if v is not None)
    return InfoRequest(info_type, body, base_weight(info_type))


def _check_str(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _check_ms(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a non-negative int of ms, got {value!r}")
    return value


def _flag(value: bool) -> bool | None:
    return True if value else None  # omitted when false: that is the server default


def _dex(dex: str | None) -> str | None:
    """The ``dex`` body value: omitted (None) for the default dex, as the exchange expects."""
    return check_dex(dex) or None


def all_mids(dex: str | None = None) -> InfoRequest:
    """Flat map coin -> mid (``dex`` None or "" = default perp dex, which includes spot)."""
    return _req("allMids", dex=_dex(dex))


def l2_book(coin: str, n_sig_figs: int | None = None, mantissa: int | None = None) -> InfoRequest:
    """Top 20 levels per side; ``n_sig_figs`` 2..5, ``mantissa`` 2 or 5 only with 5.

    Raises ValueError for any other combination (``mantissa: 1`` answers HTTP 500).
    """
    check_book_params(n_sig_figs, mantissa)
    return _req("l2Book", coin=_check_str("coin", coin), nSigFigs=n_sig_figs, mantissa=mantissa)


def recent_trades(coin: str) -> InfoRequest:
    """The last few trades of ``coin`` (the websocket ``trades`` shape; 20 + 1 per 20 items)."""
    return _req("recentTrades", coin=_check_str("coin", coin))


def clearinghouse_state(user: str, dex: str | None = None) -> InfoRequest:
    """Perp account state of ``user``."""
    return _req("clearinghouseState", user=_check_str("user", user), dex=_dex(dex))


def spot_clearinghouse_state(user: str) -> InfoRequest:
    """Spot balances of ``user``."""
    return _req("spotClearinghouseState", user=_check_str("user", user))


def open_orders(user: str, dex: str | None = None) -> InfoRequest:
    """Open orders of ``user`` (basic shape)."""
    return _req("openOrders", user=_check_str("user", user), dex=_dex(dex))


def frontend_open_orders(user: str, dex: str | None = None) -> InfoRequest:
    """Open orders of ``user`` with trigger/TP-SL details (the WS ``openOrders`` shape)."""
    return _req("frontendOpenOrders", user=_check_str("user", user), dex=_dex(dex))


def user_fills(user: str, aggregate_by_time: bool = False) -> InfoRequest:
    """Most recent fills of ``user`` (at most 2000)."""
    return _req(
        "userFills", user=_check_str("user", user), aggregateByTime=_flag(aggregate_by_time)
    )


def user_fills_by_time(
    user: str, start_time: int, end_time: int | None = None, aggregate_by_time: bool = False
) -> InfoRequest:
    """Fills of ``user`` in ``[start_time, end_time]`` ms (end defaults to now server-side)."""
    return _req(
        "userFillsByTime",
        user=_check_str("user", user),
        startTime=_check_ms("start_time", start_time),
        endTime=_check_ms("end_time", end_time),
        aggregateByTime=_flag(aggregate_by_time),
    )


def candle_snapshot(coin: str, interval: str, start_time: int, end_time: int) -> InfoRequest:
    """Candles of ``coin`` at ``interval`` between two ms timestamps (note the nested ``req``)."""
    if interval not in CANDLE_INTERVALS:
        raise ValueError(f"interval must be one of {' '.join(sorted(CANDLE_INTERVALS))}")
    inner = {
        "coin": _check_str("coin", coin),
        "interval": interval,
        "startTime": _check_ms("start_time", start_time),
        "endTime": _check_ms("end_time", end_time),
    }
    return _req("candleSnapshot", req=inner)


def meta(dex: str | None = None) -> InfoRequest:
    """Perp universe of one dex (names, size decimals, max leverage, collateral token)."""
    return _req("meta", dex=_dex(dex))


def meta_and_asset_ctxs(dex: str | None = None) -> InfoRequest:
    """``[meta, ctxs]`` with one perp context per universe entry (an unknown dex: HTTP 500)."""
    return _req("metaAndAssetCtxs", dex=_dex(dex))


def perp_dexs() -> InfoRequest:
    """Every perp dex: ``[null, {name, fullName, ...}, ...]``; element 0 is the default dex."""
    return _req("perpDexs")


def all_perp_metas() -> InfoRequest:
    """One ``Meta`` per perp dex, in ``perpDexs`` order (bare metas, not ``[meta, ctxs]``)."""
    return _req("allPerpMetas")


def outcome_meta() -> InfoRequest:
    """HIP-4 outcome markets (``#N`` coins) and the questions that group them."""
    return _req("outcomeMeta")


def spot_meta() -> InfoRequest:
    """Spot pairs and tokens."""
    return _req("spotMeta")


def spot_meta_and_asset_ctxs() -> InfoRequest:
    """``[spotMeta, ctxs]`` with one spot context per pair."""
    return _req("spotMetaAndAssetCtxs")


def funding_history(coin: str, start_time: int, end_time: int | None = None) -> InfoRequest:
    """Hourly funding rates of ``coin`` (at most 500 per response; paginate by time)."""
    return _req(
        "fundingHistory",
        coin=_check_str("coin", coin),
        startTime=_check_ms("start_time", start_time),
        endTime=_check_ms("end_time", end_time),
    )


def user_funding(user: str, start_time: int, end_time: int | None = None) -> InfoRequest:
    """Funding payments of ``user`` in a time range."""
    return _req(
        "userFunding",
        user=_check_str("user", user),
        startTime=_check_ms("start_time", start_time),
        endTime=_check_ms("end_time", end_time),
    )


def exchange_status() -> InfoRequest:
    """Cheap liveness / L1-time probe."""
    return _req("exchangeStatus")


def user_abstraction(user: str) -> InfoRequest:
    """The account mode of ``user``: a bare string (``unifiedAccount``, ``portfolioMargin``,
    ``disabled``, ``default``, ``dexAbstraction``); read it once per address."""
    return _req("userAbstraction", user=_check_str("user", user))


def user_role(user: str) -> InfoRequest:
    """``user``, ``agent`` (+ its master), ``vault``, ``subAccount`` (+ master) or ``missing``.

    Weight 60, the most of any info type: call it once when an address is added.
    """
    return _req("userRole", user=_check_str("user", user))


def portfolio(user: str) -> InfoRequest:
    """Equity and PnL history: ``[[period, {accountValueHistory, pnlHistory, vlm}], ...]``."""
    return _req("portfolio", user=_check_str("user", user))


def user_twap_slice_fills(user: str) -> InfoRequest:
    """The last 2000 TWAP slice fills of ``user`` (they are not in ``userFills``)."""
    return _req("userTwapSliceFills", user=_check_str("user", user))


def user_twap_slice_fills_by_time(
    user: str, start_time: int, end_time: int | None = None
) -> InfoRequest:
    """TWAP slice fills of ``user`` in ``[start_time, end_time]`` ms, oldest first, at most 2000
    (end defaults to now server-side): the REST poll's cursor, as ``userFillsByTime``."""
    return _req(
        "userTwapSliceFillsByTime",
        user=_check_str("user", user),
        startTime=_check_ms("start_time", start_time),
        endTime=_check_ms("end_time", end_time),
    )


def twap_history(user: str) -> InfoRequest:
    """TWAP state changes of ``user``; each item's ``time`` is in seconds."""
    return _req("twapHistory", user=_check_str("user", user))


def order_status(user: str, oid: int | str) -> InfoRequest:
    """Status of one order of ``user`` by ``oid`` (int) or cloid (hex string)."""
    if isinstance(oid, bool) or not isinstance(oid, int | str) or oid == "":
        raise ValueError(f"oid must be an int or a cloid string, got {oid!r}")
    return _req("orderStatus", user=_check_str("user", user), oid=oid)


# --------------------------------------------------------------------------- response structs


class FundingHistoryItem(Struct):
    coin: str
    fundingRate: str
    premium: str
    time: int


class ExchangeStatus(Struct):
    time: int
    specialStatuses: Any = None


class OrderStatus(Struct):
    """``status`` is ``order`` (then ``order`` is set) or ``unknownOid``."""

    status: str
    order: OrderWithStatus | None = None


RESPONSE_TYPES: dict[str, Any] = {
    "allMids": dict[str, str],
    "l2Book": L2Book,
    "recentTrades": list[Trade],
    "clearinghouseState": ClearinghouseState,
    "spotClearinghouseState": SpotClearinghouseState,
    "openOrders": list[FrontendOrder],
    "frontendOpenOrders": list[FrontendOrder],
    "historicalOrders": list[OrderWithStatus],
    "userFills": list[Fill],
    "userFillsByTime": list[Fill],
    "candleSnapshot": list[Candle],
    **META_TYPES,
    "fundingHistory": list[FundingHistoryItem],
    "userFunding": list[UserFundingItem],
    "userNonFundingLedgerUpdates": list[LedgerUpdate],
    "exchangeStatus": ExchangeStatus,
    "orderStatus": OrderStatus,
    "userAbstraction": str,
    "userRole": UserRole,
    "portfolio": list[tuple[str, PortfolioPeriod]],
    "userTwapSliceFills": list[TwapSliceFill],
    "userTwapSliceFillsByTime": list[TwapSliceFill],
    "twapHistory": list[TwapHistoryItem],
}
"""Decoded type per info type; other types decode to plain JSON values."""

TOLERANT_READERS: dict[str, Any] = {**META_READERS, **REST_READERS}
"""Info types read item by item when their strict decode fails (see ``decode_response``)."""

_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(tp) for name, tp in RESPONSE_TYPES.items()
}
_GENERIC: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def decode_response(req: InfoRequest, body: bytes | str) -> Any:
    """Decode the response ``body`` of ``req`` into its type from ``RESPONSE_TYPES``.

    Unknown info types decode to plain JSON values. An answer of a type in
    ``TOLERANT_READERS`` (market metadata, fills, fundings, orders, ledger updates, states,
    TWAPs) that fails the strict decode is read again item by item (see ``tolerant``): an odd
    item is defaulted or left out, and counted (``tolerance_of``), instead of losing the whole
    answer. The strict pass is unchanged, so a well-formed answer costs nothing extra.

    Raises:
        ProtocolError: on malformed JSON or a body that does not fit the expected type.
    """
    decoder = _DECODERS.get(req.type, _GENERIC)
    try:
        return decoder.decode(body)
    except RecursionError:
        raise ProtocolError(f"{req.type} response nests too deeply", body) from None
    except Exception as exc:  # msgspec, unicode and type errors alike mean "malformed"
        reader = TOLERANT_READERS.get(req.type)
        if reader is not None:
            return decode_with(reader, req.type, body)
        raise ProtocolError(f"invalid {req.type} response: {exc}", body) from None


def to_message(req: InfoRequest, response: Any, user: str | None = None) -> Message | None:
    """Turn a decoded REST answer into the websocket ``Message`` the store already applies.

    ``user`` defaults to ``req.body["user"]`` and is lower-cased like websocket frames.
    Returns None for types with no websocket counterpart (or when a user is needed and
    unknown). REST fills become a non-snapshot
    ``UserFillsMsg``, so the store merges them (deduping by tid/oid) instead of replacing; TWAP
    slice fills and history likewise. ``spotClearinghouseState`` becomes a ``spotState`` push.
    What the tolerant decoder left out or defaulted is carried over (``tolerance_of``).
    Per-dex answers (``allMids``, ``clearinghouseState``, ``openOrders``/``frontendOpenOrders``)
    carry the request's ``dex`` exactly as the websocket frames do (``allMids`` of the default
    dex without one, the others with ``""`` for it), so their stream keys match.
    """
    body_user = req.body.get("user")
    who = user if user is not None else body_user if isinstance(body_user, str) else None
    if who is not None:
        who = who.lower()  # websocket frames carry lower-case addresses; keep one spelling
    dex = req.body.get("dex") or ""
    if req.type == "allMids" and isinstance(response, dict):
        return AllMidsMsg(data=AllMids(mids=response, dex=dex or None))
    if req.type == "l2Book" and isinstance(response, L2Book):
        return L2BookMsg(data=response)
    if who is None:
        return None
    if req.type == "clearinghouseState" and isinstance(response, ClearinghouseState):
        data = ClearinghouseStateData(user=who, clearinghouseState=response, dex=dex)
        return ClearinghouseStateMsg(data=data)
    if req.type == "spotClearinghouseState" and isinstance(response, SpotClearinghouseState):
        return SpotStateMsg(data=SpotStateData(user=who, spotState=response))
    if not isinstance(response, list):
        return None
    seen = tolerance_of(response)
    counts = {"dropped": seen.dropped, "defaulted": seen.defaulted}
    items = list(response)  # a plain list: the counts move to the message
    if req.type in ("openOrders", "frontendOpenOrders"):
        return OpenOrdersMsg(data=OpenOrdersData(user=who, orders=items, dex=dex, **counts))
    if req.type in ("userFills", "userFillsByTime"):
        return UserFillsMsg(data=UserFills(user=who, fills=items, isSnapshot=False, **counts))
    if req.type in ("userTwapSliceFills", "userTwapSliceFillsByTime"):
        slices = UserTwapSliceFills(user=who, twapSliceFills=items, isSnapshot=False, **counts)
        return UserTwapSliceFillsMsg(data=slices)
    if req.type == "twapHistory":
        history = UserTwapHistory(user=who, history=items, isSnapshot=False, **counts)
        return UserTwapHistoryMsg(data=history)
    return None
