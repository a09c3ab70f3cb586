"""Client websocket requests: parsing, validation and normalisation of subscriptions.

The exchange answers a request it cannot deserialize with
``Error parsing JSON into valid websocket request: {...}``. A well-formed subscription naming
something it does not list (a coin that is unknown, mis-cased like ``btc``, an upper-case dex
prefix like ``XYZ:TSLA``, a HIP-3 name without its prefix like ``TSLA``, an unknown ``dex``) or
carrying bad ``l2Book`` options raises ``InvalidSubscription``; the server then drops the socket
(2026) or answers ``Invalid subscription {...}`` (older behaviour). Every accepted subscription
is echoed in its ack *after* normalisation (``l2Book`` gains ``nSigFigs``/``mantissa``/``fast``,
``userFills`` gains ``aggregateByTime``, ``candle`` keys are reordered; a ``dex`` is echoed as
sent). This module reproduces those rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from hlmon.sim.candles import INTERVAL_MS
from hlmon.sim.universe import Universe

PARSE_ERROR = "Error parsing JSON into valid websocket request: "
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")

USER_TYPES = {
    "clearinghouseState": "clearinghouseState",
    "openOrders": "openOrders",
    "orderUpdates": "orderUpdates",
    "userEvents": "user",
    "userFills": "userFills",
    "userFundings": "userFundings",
    "userNonFundingLedgerUpdates": "userNonFundingLedgerUpdates",
    "webData3": "webData3",
    "notification": "notification",
    "activeAssetData": "activeAssetData",
    "allDexsClearinghouseState": "allDexsClearinghouseState",
    "spotState": "spotState",
    "twapStates": "twapStates",
    "userTwapSliceFills": "userTwapSliceFills",
    "userTwapHistory": "userTwapHistory",
}
"""User-scoped subscription types and the channel their data frames use."""
COIN_TYPES = {"l2Book", "trades", "bbo", "candle", "activeAssetCtx"}
MARKET_WIDE_TYPES = {"fastAssetCtxs", "allDexsAssetCtxs"}
"""Subscriptions over every coin at once (2026 page §5), taking no parameter."""


class RequestParseError(Exception):
    """The request cannot be deserialized; answered only with an ``error`` frame."""


class InvalidSubscription(Exception):
    """Well-formed subscription naming something that does not exist, or bad book options."""


def compact(value: Any) -> str:
    """Compact JSON text as the exchange embeds it in error strings."""
    return msgspec.json.encode(value).decode()


@dataclass(frozen=True, slots=True)
class Subscription:
    """One validated, normalised subscription."""

    type: str
    key: str
    """Identity used for duplicates, unsubscribe and fan-out (users lower-cased)."""
    echo: dict[str, Any]
    """The normalised subscription echoed in ``subscriptionResponse``."""
    sent: str
    """The subscription as the client sent it (compact JSON), for error texts."""
    channel: str
    coin: str | None = None
    user: str | None = None
    interval: str | None = None
    """A candle's interval; for user feeds the variant that changes the frames
    (``agg``: ``userFills`` aggregated by time; ``ignorePortfolioMargin``: ``spotState``)."""
    n_sig_figs: int | None = None
    mantissa: int | None = None
    fast: bool = False
    dex: str = ""


def _opt_int(sub: dict[str, Any], name: str) -> int | None:
    value = sub.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestParseError
    return value


def _str(sub: dict[str, Any], name: str) -> str:
    value = sub.get(name)
    if not isinstance(value, str):
        raise RequestParseError
    return value


def _dex(sub: dict[str, Any], universe: Universe) -> str:
    """The ``dex`` of a subscription (absent or null = the default dex ``""``)."""
    if sub.get("dex") is None:
        return ""
    dex = _str(sub, "dex")
    if not universe.has_dex(dex):
        raise InvalidSubscription(f"unknown dex {dex!r}")
    return dex


def parse_subscription(sub: Any, universe: Universe) -> Subscription:
    """Validate and normalise a ``subscription`` object.

    Raises:
        RequestParseError: the object does not deserialize (missing/wrong fields, unknown type,
            ``webData2``).
        InvalidSubscription: it deserializes but names an unknown coin or dex, or bad options.
    """
    if not isinstance(sub, dict):
        raise RequestParseError
    kind = sub.get("type")
    sent = compact(sub)
    coin = user = interval = None
    n_sig = mantissa = None
    fast = False
    dex = ""
    if kind == "allMids":
        dex = _dex(sub, universe)
        echo = dict(sub)
        channel = "allMids"
    elif kind in MARKET_WIDE_TYPES:
        echo = {"type": kind}
        channel = kind
    elif kind in COIN_TYPES:
        coin = _str(sub, "coin")
        spec = universe.get(coin)
        channel = kind
        if kind == "l2Book":
            n_sig = _opt_int(sub, "nSigFigs")
            mantissa = _opt_int(sub, "mantissa")
            fast_v = sub.get("fast", False)
            if fast_v is None:
                fast_v = False
            if not isinstance(fast_v, bool):
                raise RequestParseError
            fast = fast_v
            echo = {
                "type": kind,
                "coin": coin,
                "nSigFigs": n_sig,
                "mantissa": mantissa,
                "fast": fast,
            }
            if n_sig is not None and not 2 <= n_sig <= 5:
                raise InvalidSubscription(f"nSigFigs {n_sig}")
            if mantissa is not None and (n_sig != 5 or mantissa not in (1, 2, 5)):
                raise InvalidSubscription(f"mantissa {mantissa} with nSigFigs {n_sig}")
        elif kind == "candle":
            interval = _str(sub, "interval")
            if interval not in INTERVAL_MS:
                raise RequestParseError
            echo = {"type": kind, "interval": interval, "coin": coin}
        else:
            echo = {"type": kind, "coin": coin}
        if spec is None:
            raise InvalidSubscription(f"unknown coin {coin!r}")
        if kind == "activeAssetCtx" and spec.is_spot:
            channel = "activeSpotAssetCtx"
    elif kind in USER_TYPES:
        raw_user = _str(sub, "user")
        if not ADDRESS_RE.match(raw_user):
            raise RequestParseError
        user = raw_user.lower()
        channel = USER_TYPES[kind]
        echo = dict(sub)
        if kind == "userFills":
            agg = sub.get("aggregateByTime", False)
            if not isinstance(agg, bool):
                raise RequestParseError
            echo = {"type": kind, "user": raw_user, "aggregateByTime": agg}
            interval = "agg" if agg else None
        if kind == "spotState":
            # Echoed as sent; true leaves the portfolio-margin extras out of the pushes.
            ignore_pm = sub.get("ignorePortfolioMargin", False)
            if not isinstance(ignore_pm, bool):
                raise RequestParseError
            interval = "ignorePortfolioMargin" if ignore_pm else None
        if kind in ("clearinghouseState", "openOrders", "twapStates"):
            dex = _dex(sub, universe)
        if kind == "activeAssetData":
            coin = _str(sub, "coin")
            spec = universe.get(coin)
            if spec is None or spec.is_spot:
                raise InvalidSubscription(f"not a perp {coin!r}")
    else:
        raise RequestParseError
    key = f"{kind}|{coin}|{user}|{interval}|{n_sig}|{mantissa}|{int(fast)}|{dex}"
    return Subscription(
        kind, key, echo, sent, channel, coin, user, interval, n_sig, mantissa, fast, dex
    )


@dataclass(frozen=True, slots=True)
class Ping:
    """``{"method":"ping"}``."""


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """``subscribe`` or ``unsubscribe`` with its raw subscription object."""

    method: str
    subscription: Any


@dataclass(frozen=True, slots=True)
class PostRequest:
    """``post`` with its id, request type (``info``/``action``) and payload."""

    id: int
    type: str
    payload: Any


ClientRequest = Ping | SubscribeRequest | PostRequest


def parse_request(raw: str | bytes) -> ClientRequest:
    """Parse one client frame. Raises RequestParseError if it is not a valid request."""
    try:
        msg = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise RequestParseError from None
    if not isinstance(msg, dict):
        raise RequestParseError
    method = msg.get("method")
    if method == "ping":
        return Ping()
    if method in ("subscribe", "unsubscribe"):
        if "subscription" not in msg:
            raise RequestParseError
        return SubscribeRequest(method, msg["subscription"])
    if method == "post":
        rid = msg.get("id")
        req = msg.get("request")
        if isinstance(rid, bool) or not isinstance(rid, int) or not isinstance(req, dict):
            raise RequestParseError
        rtype = req.get("type")
        if rtype not in ("info", "action") or not isinstance(req.get("payload"), dict):
            raise RequestParseError
        return PostRequest(rid, rtype, req["payload"])
    raise RequestParseError


def parse_error_text(raw: str | bytes) -> str:
    """The ``error`` frame text for a request that does not parse."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    return PARSE_ERROR + text.strip()
