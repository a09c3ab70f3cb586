"""Websocket subscriptions: typed constructors, canonical keys, ack matching, client frames.

The server echoes each (un)subscribe in a ``subscriptionResponse`` ack *after normalising it*:
it adds ``nSigFigs: null``, ``mantissa: null``, ``fast: false`` to ``l2Book``,
``aggregateByTime: false`` to ``userFills``, may reorder keys and may send ``dex: ""``. So acks
are matched through ``canonical_key``, which removes exactly those differences, never by
comparing bytes.

Two keys exist for a subscription:

- ``key``: identifies the subscription itself (what to unsubscribe, what an ack confirms).
- ``stream_key``: identifies the data stream, without presentation-only parameters
  (``nSigFigs``, ``mantissa``, ``fast`` on ``l2Book``; ``aggregateByTime`` on ``userFills``;
  ``ignorePortfolioMargin`` on ``spotState``).
  ``message_sub_key(msg)`` returns this key for a data message, because frames do not say
  which presentation parameters produced them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from hlmon.protocol.messages import (
    ActiveAssetCtxMsg,
    ActiveAssetDataMsg,
    ActiveSpotAssetCtxMsg,
    AllDexsClearinghouseStateMsg,
    AllMidsMsg,
    BboMsg,
    CandleMsg,
    ClearinghouseStateMsg,
    L2BookMsg,
    Message,
    OpenOrdersMsg,
    SpotStateMsg,
    SubscriptionAck,
    TradesMsg,
    TwapStatesMsg,
    UserFillsMsg,
    UserFundingsMsg,
    UserNonFundingLedgerUpdatesMsg,
    UserTwapHistoryMsg,
    UserTwapSliceFillsMsg,
    WebData3Msg,
)

CANDLE_INTERVALS: frozenset[str] = frozenset(
    ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
)
"""Candle intervals the exchange accepts (case matters: ``1m`` minute vs ``1M`` month)."""

N_SIG_FIGS: frozenset[int] = frozenset((2, 3, 4, 5))
"""Allowed ``nSigFigs`` besides null: ``6`` closes the whole socket (2026 protocol page §1.6)."""
MANTISSAS: frozenset[int] = frozenset((2, 5))
"""Allowed ``mantissa`` values, only together with ``nSigFigs`` 5. The docs also list 1, but
REST answers it with HTTP 500; on the websocket a bad ``mantissa`` closes the socket."""

PING_FRAME = '{"method":"ping"}'
"""Application-level keep-alive; the server answers ``{"channel":"pong"}``."""

# Values the server fills in when a client leaves the parameter out; equal to "absent".
_SERVER_DEFAULTS: dict[str, object] = {
    "fast": False,
    "aggregateByTime": False,
    "dex": "",
    "ignorePortfolioMargin": False,
}
# Parameters that change how a stream is presented, not which stream it is (frames do not
# say which value produced them).
_PRESENTATION_PARAMS = frozenset(
    ("nSigFigs", "mantissa", "fast", "aggregateByTime", "ignorePortfolioMargin")
)
# Keys whose values are addresses: compared case-insensitively.
_ADDRESS_KEYS = frozenset(("user",))
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")

_encode = msgspec.json.encode


def _normalise(sub: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in sub.items():
        if value is None:
            continue
        if (
            name in _SERVER_DEFAULTS
            and value == _SERVER_DEFAULTS[name]
            and type(value) is type(_SERVER_DEFAULTS[name])
        ):
            continue
        if name in _ADDRESS_KEYS and isinstance(value, str):
            value = value.lower()
        out[name] = value
    return out


def canonical_key(sub: Mapping[str, Any]) -> str:
    """Return a canonical string for a subscription object as sent or as echoed in an ack.

    Drops null parameters and the defaults the server adds (``fast: false``,
    ``aggregateByTime: false``, ``dex: ""``), lower-cases addresses and sorts keys, then
    encodes as compact JSON, e.g. ``{"coin":"BTC","type":"l2Book"}``.
    """
    normal = _normalise(sub)
    return _encode(dict(sorted(normal.items()))).decode()


def stream_key(sub: Mapping[str, Any]) -> str:
    """Like ``canonical_key`` but without presentation parameters (see module docstring)."""
    normal = {k: v for k, v in sub.items() if k not in _PRESENTATION_PARAMS}
    return canonical_key(normal)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One websocket subscription, immutable and hashable.

    Attributes:
        type: the subscription ``type`` on the wire, e.g. ``l2Book``.
        params: the set parameters as ``(wire_name, value)`` pairs, in wire order.
    """

    type: str
    params: tuple[tuple[str, Any], ...] = ()
    key: str = field(init=False, compare=False, repr=False)
    """Canonical key (``canonical_key`` of ``to_wire()``)."""
    stream_key: str = field(init=False, compare=False, repr=False)
    """Key of the data stream, as ``message_sub_key`` returns for its messages."""

    def __post_init__(self) -> None:
        wire = self.to_wire()
        object.__setattr__(self, "key", canonical_key(wire))
        object.__setattr__(self, "stream_key", stream_key(wire))

    def to_wire(self) -> dict[str, Any]:
        """The ``subscription`` object to send: ``type`` plus only the parameters that are set."""
        wire: dict[str, Any] = {"type": self.type}
        wire.update(self.params)
        return wire

    def get(self, name: str, default: Any = None) -> Any:
        """Value of the wire parameter ``name``, or ``default`` when it is not set."""
        return dict(self.params).get(name, default)

    @property
    def user(self) -> str | None:
        """The (lower-case) address this subscription is about, or None for market data.

        The exchange caps distinct users per IP (about 10); every subscription with a user
        counts toward that user's slot.
        """
        value = self.get("user")
        return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- validation


def _coin(coin: str) -> str:
    if not isinstance(coin, str) or not coin or coin != coin.strip():
        raise ValueError(f"coin must be a non-empty string without spaces, got {coin!r}")
    return coin


def _user(user: str) -> str:
    if not isinstance(user, str) or not _ADDRESS_RE.fullmatch(user):
        raise ValueError(f"user must be a 0x-prefixed 40-hex-digit address, got {user!r}")
    # The exchange treats addresses case-insensitively; lower case keeps keys stable.
    return user.lower()


def check_dex(dex: str | None) -> str:
    """Validate a perp dex name; returns ``""`` for the default dex (None or ``""``).

    Only the form is checked (a string without spaces or ``:``); whether the dex exists is
    the market catalog's business.
    """
    if dex is None:
        return ""
    if not isinstance(dex, str):
        raise ValueError(f"dex must be a string or None, got {dex!r}")
    if dex and (dex != dex.strip() or ":" in dex or any(c.isspace() for c in dex)):
        raise ValueError(f"dex must be a bare dex name such as 'xyz', got {dex!r}")
    return dex


def check_book_params(n_sig_figs: int | None, mantissa: int | None) -> None:
    """Raise ValueError unless ``nSigFigs``/``mantissa`` is a combination the exchange takes.

    Safe: ``n_sig_figs`` None or 2..5; ``mantissa`` None, or 2 or 5 with ``n_sig_figs`` 5.
    Anything else closes the whole websocket (2026 protocol page §1.6), so it must never be sent.
    """
    if n_sig_figs is not None and (isinstance(n_sig_figs, bool) or n_sig_figs not in N_SIG_FIGS):
        raise ValueError(f"n_sig_figs must be one of 2, 3, 4, 5 or None, got {n_sig_figs!r}")
    if mantissa is not None:
        if n_sig_figs != 5:
            raise ValueError("mantissa is only allowed together with n_sig_figs=5")
        if isinstance(mantissa, bool) or mantissa not in MANTISSAS:
            raise ValueError(f"mantissa must be 2 or 5, got {mantissa!r}")


def _dex(dex: str | None) -> list[tuple[str, Any]]:
    # "" is the default dex; leaving it out matches what the server echoes (and means the same)
    name = check_dex(dex)
    return [("dex", name)] if name else []


def _flag(name: str, value: bool) -> list[tuple[str, Any]]:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return [(name, True)] if value else []


# --------------------------------------------------------------------------- constructors


def all_mids(dex: str | None = None) -> Subscription:
    """Mid prices of every coin of one perp dex (default when None/"").

    The default dex's map also holds spot (``@N``, ``PURR/USDC``) and outcome (``#N``) mids.
    Frames of a HIP-3 dex carry ``data.dex``; the default dex's frames carry none.
    """
    return Subscription("allMids", tuple(_dex(dex)))


def l2_book(
    coin: str, n_sig_figs: int | None = None, mantissa: int | None = None, fast: bool = False
) -> Subscription:
    """Top-of-book snapshots: 20 levels (~every 5 s), or 5 levels ~every 0.5 s with ``fast``.

    ``n_sig_figs`` (2..5) buckets prices; ``mantissa`` (2 or 5) only with ``n_sig_figs=5``.
    Any other combination raises ValueError: the exchange would close the socket over it.
    """
    params: list[tuple[str, Any]] = [("coin", _coin(coin))]
    check_book_params(n_sig_figs, mantissa)
    if n_sig_figs is not None:
        params.append(("nSigFigs", n_sig_figs))
    if mantissa is not None:
        params.append(("mantissa", mantissa))
    params += _flag("fast", fast)
    return Subscription("l2Book", tuple(params))


def trades(coin: str) -> Subscription:
    """Trade tape; the first frame is a backfill of recent trades."""
    return Subscription("trades", (("coin", _coin(coin)),))


def bbo(coin: str) -> Subscription:
    """Best bid/offer, pushed when it changed in a block."""
    return Subscription("bbo", (("coin", _coin(coin)),))


def candle(coin: str, interval: str) -> Subscription:
    """The open candle of ``coin`` at ``interval`` (one of ``CANDLE_INTERVALS``)."""
    if interval not in CANDLE_INTERVALS:
        allowed = " ".join(sorted(CANDLE_INTERVALS))
        raise ValueError(f"interval must be one of {allowed}, got {interval!r}")
    return Subscription("candle", (("coin", _coin(coin)), ("interval", interval)))


def active_asset_ctx(coin: str) -> Subscription:
    """Asset context; arrives on channel ``activeAssetCtx`` (perp) or ``activeSpotAssetCtx``."""
    return Subscription("activeAssetCtx", (("coin", _coin(coin)),))


def active_asset_data(user: str, coin: str) -> Subscription:
    """Leverage and tradeable size of ``user`` on perp ``coin``."""
    return Subscription("activeAssetData", (("user", _user(user)), ("coin", _coin(coin))))


def clearinghouse_state(user: str, dex: str | None = None) -> Subscription:
    """Full perp account state on one dex (default when None/""), re-pushed every ~4 s.

    ``dex`` sits inside the subscription (the server ignores a top-level one); frames carry
    ``data.dex``.
    """
    return Subscription("clearinghouseState", (("user", _user(user)), *_dex(dex)))


def all_dexs_clearinghouse_state(user: str) -> Subscription:
    """Perp account state on every dex in one frame, ~every 5 s (one user slot)."""
    return Subscription("allDexsClearinghouseState", (("user", _user(user)),))


def open_orders(user: str, dex: str | None = None) -> Subscription:
    """Full list of open orders on one dex (frontend shape), re-pushed every ~4 s.

    Spot orders come only with the default dex.
    """
    return Subscription("openOrders", (("user", _user(user)), *_dex(dex)))


def order_updates(user: str) -> Subscription:
    """Incremental order status changes; no snapshot, no replay after reconnect."""
    return Subscription("orderUpdates", (("user", _user(user)),))


def user_events(user: str) -> Subscription:
    """Fills, funding, liquidations, system cancels; data arrives on channel ``user``."""
    return Subscription("userEvents", (("user", _user(user)),))


def user_fills(user: str, aggregate_by_time: bool = False) -> Subscription:
    """Fills of ``user``: an ``isSnapshot`` frame first, then new fills."""
    return Subscription(
        "userFills", (("user", _user(user)), *_flag("aggregateByTime", aggregate_by_time))
    )


def user_fundings(user: str) -> Subscription:
    """Hourly funding payments of ``user``, with a snapshot first."""
    return Subscription("userFundings", (("user", _user(user)),))


def user_non_funding_ledger_updates(user: str) -> Subscription:
    """Deposits, withdrawals, transfers... of ``user``, with a snapshot first."""
    return Subscription("userNonFundingLedgerUpdates", (("user", _user(user)),))


def spot_state(user: str, ignore_portfolio_margin: bool = False) -> Subscription:
    """Spot balances of ``user``: the full ``spotClearinghouseState`` on every push.

    ``ignorePortfolioMargin`` is always sent: the server echoes it in its ack, and ``false`` is
    its default (so an echo with or without it confirms ``false``). It is the collateral of
    unified and portfolio-margin accounts. Counts as a user subscription (one user slot).
    """
    if not isinstance(ignore_portfolio_margin, bool):
        raise ValueError(f"ignore_portfolio_margin must be a bool, got {ignore_portfolio_margin!r}")
    return Subscription(
        "spotState", (("user", _user(user)), ("ignorePortfolioMargin", ignore_portfolio_margin))
    )


def twap_states(user: str, dex: str | None = None) -> Subscription:
    """Active TWAPs of ``user`` on one perp dex (default when None/""); frames carry ``dex``."""
    return Subscription("twapStates", (("user", _user(user)), *_dex(dex)))


def user_twap_slice_fills(user: str) -> Subscription:
    """Fills of ``user``'s TWAP slices (never on ``userFills``), with a snapshot first."""
    return Subscription("userTwapSliceFills", (("user", _user(user)),))


def user_twap_history(user: str) -> Subscription:
    """State changes of ``user``'s TWAPs, with a snapshot first; ``time`` is in seconds."""
    return Subscription("userTwapHistory", (("user", _user(user)),))


def web_data3(user: str) -> Subscription:
    """Frontend user blob (no positions/orders). ``webData2`` is rejected by the server."""
    return Subscription("webData3", (("user", _user(user)),))


def notification(user: str) -> Subscription:
    """Free-text UI notifications for ``user``."""
    return Subscription("notification", (("user", _user(user)),))


# --------------------------------------------------------------------------- frames and acks

SubLike = Subscription | Mapping[str, Any]


def _wire(sub: SubLike) -> Mapping[str, Any]:
    return sub.to_wire() if isinstance(sub, Subscription) else sub


def subscribe_frame(sub: SubLike) -> str:
    """The client frame that subscribes to ``sub``."""
    return _encode({"method": "subscribe", "subscription": _wire(sub)}).decode()


def unsubscribe_frame(sub: SubLike) -> str:
    """The client frame that cancels ``sub`` (server matches on the normalised form)."""
    return _encode({"method": "unsubscribe", "subscription": _wire(sub)}).decode()


class _HasInfoBody(Protocol):
    """An ``info.InfoRequest`` (not imported: ``info`` imports this module)."""

    @property
    def body(self) -> Mapping[str, Any]: ...


def post_frame(id: int, info_body: Mapping[str, Any] | _HasInfoBody) -> str:
    """A websocket ``post`` carrying an /info body (or an ``InfoRequest``); the reply comes on
    channel ``post``."""
    if isinstance(id, bool) or not isinstance(id, int) or id < 0:
        raise ValueError(f"post id must be a non-negative int, got {id!r}")
    body = info_body if isinstance(info_body, Mapping) else info_body.body
    request = {"type": "info", "payload": dict(body)}
    return _encode({"method": "post", "id": id, "request": request}).decode()


def _split(obj: SubLike | SubscriptionAck) -> tuple[str | None, Mapping[str, Any]]:
    """(method or None, subscription object) from a subscription, envelope or ack payload."""
    if isinstance(obj, Subscription):
        return None, obj.to_wire()
    if isinstance(obj, SubscriptionAck):
        return obj.method, obj.subscription
    inner = obj.get("subscription")
    if isinstance(inner, Mapping):
        method = obj.get("method")
        return (method if isinstance(method, str) else None), inner
    return None, obj


def ack_matches(sent: SubLike, echoed: Mapping[str, Any] | SubscriptionAck) -> bool:
    """True when an ack's echo confirms ``sent``.

    Both sides may be a bare subscription object, a ``{"method","subscription"}`` envelope (what
    was sent, or an ack's ``data``), a ``Subscription`` or a decoded ``SubscriptionAck``. When
    both carry a ``method`` they must agree; the subscriptions must have the same
    ``canonical_key``.
    """
    sent_method, sent_sub = _split(sent)
    echo_method, echo_sub = _split(echoed)
    if sent_method is not None and echo_method is not None and sent_method != echo_method:
        return False
    return canonical_key(sent_sub) == canonical_key(echo_sub)


# --------------------------------------------------------------------------- message -> key


def message_sub_key(msg: Message) -> str | None:
    """The ``stream_key`` of the subscription that produced data message ``msg``.

    Equal to ``Subscription.stream_key`` of that subscription, so ``l2Book`` frames for BTC map
    to ``l2_book("BTC", ...).stream_key`` whatever ``nSigFigs``/``fast`` were used. Returns
    None when the frame cannot be attributed: ``orderUpdates``, ``user`` and ``notification``
    carry no user, an empty ``trades`` frame carries no coin, and control frames (acks, pong,
    error, post) belong to no subscription. Addresses from the wire are lower-cased.
    """
    sub: dict[str, Any] | None
    if isinstance(msg, L2BookMsg):
        sub = {"type": "l2Book", "coin": msg.data.coin}
    elif isinstance(msg, BboMsg):
        sub = {"type": "bbo", "coin": msg.data.coin}
    elif isinstance(msg, TradesMsg):
        sub = {"type": "trades", "coin": msg.data[0].coin} if msg.data else None
    elif isinstance(msg, AllMidsMsg):
        sub = {"type": "allMids", "dex": msg.data.dex}
    elif isinstance(msg, CandleMsg):
        sub = {"type": "candle", "coin": msg.data.coin, "interval": msg.data.interval}
    elif isinstance(msg, ActiveAssetCtxMsg | ActiveSpotAssetCtxMsg):
        sub = {"type": "activeAssetCtx", "coin": msg.data.coin}
    elif isinstance(msg, ActiveAssetDataMsg):
        sub = {"type": "activeAssetData", "user": msg.data.user, "coin": msg.data.coin}
    elif isinstance(msg, ClearinghouseStateMsg):
        sub = {"type": "clearinghouseState", "user": msg.data.user, "dex": msg.data.dex}
    elif isinstance(msg, AllDexsClearinghouseStateMsg):
        sub = {"type": "allDexsClearinghouseState", "user": msg.data.user}
    elif isinstance(msg, OpenOrdersMsg):
        sub = {"type": "openOrders", "user": msg.data.user, "dex": msg.data.dex}
    elif isinstance(msg, UserFillsMsg):
        sub = {"type": "userFills", "user": msg.data.user}
    elif isinstance(msg, UserFundingsMsg):
        sub = {"type": "userFundings", "user": msg.data.user}
    elif isinstance(msg, UserNonFundingLedgerUpdatesMsg):
        sub = {"type": "userNonFundingLedgerUpdates", "user": msg.data.user}
    elif isinstance(msg, SpotStateMsg):
        sub = {"type": "spotState", "user": msg.data.user}
    elif isinstance(msg, TwapStatesMsg):
        sub = {"type": "twapStates", "user": msg.data.user, "dex": msg.data.dex}
    elif isinstance(msg, UserTwapSliceFillsMsg):
        sub = {"type": "userTwapSliceFills", "user": msg.data.user}
    elif isinstance(msg, UserTwapHistoryMsg):
        sub = {"type": "userTwapHistory", "user": msg.data.user}
    elif isinstance(msg, WebData3Msg):
        user = msg.user
        sub = {"type": "webData3", "user": user} if user is not None else None
    else:
        sub = None
    return None if sub is None else stream_key(sub)
