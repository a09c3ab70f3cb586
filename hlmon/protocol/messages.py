"""Typed structs for every Hyperliquid websocket frame and /info response hlmon reads.

Field names mirror the wire exactly (camelCase included) so values pass through unchanged;
prices, sizes and money stay the exchange's decimal strings. Unknown fields are ignored by
msgspec, so additions on the exchange side never break decoding.

Each websocket message class is a member of a msgspec tagged union on the ``channel`` key,
which lets ``decode`` pick the right struct in one pass over the bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct, field

# --------------------------------------------------------------------------- market data


class Level(Struct, frozen=True):
    """One price level of a book: price, total size, number of resting orders."""

    px: str
    sz: str
    n: int


class L2Book(Struct):
    """A full top-of-book snapshot; never a diff."""

    coin: str
    time: int
    levels: tuple[list[Level], list[Level]]
    """Bids (descending) and asks (ascending); index 0 is the touch. A side can be empty."""
    spread: str | None = None
    fast: bool | None = None


class Trade(Struct):
    coin: str
    side: str
    """Aggressor side: ``B`` buyer took liquidity, ``A`` seller."""
    px: str
    sz: str
    time: int
    tid: int
    hash: str = ""
    users: list[str] | None = None


class Bbo(Struct):
    coin: str
    time: int
    bbo: tuple[Level | None, Level | None]


class Candle(Struct):
    open_time: int = field(name="t")
    close_time: int = field(name="T")
    coin: str = field(name="s")
    interval: str = field(name="i")
    open: str = field(name="o")
    close: str = field(name="c")
    high: str = field(name="h")
    low: str = field(name="l")
    volume: str = field(name="v")
    trades: int = field(name="n")


class AllMids(Struct):
    """Mids of one perp dex. Keys are exact coin names (``xyz:TSLA`` on a HIP-3 dex)."""

    mids: dict[str, str]
    dex: str | None = None
    """Set on HIP-3 dexes' frames; absent (None) on the default dex's. Route by ``dex_name``."""

    @property
    def dex_name(self) -> str:
        """The dex these mids belong to: ``""`` for the default dex."""
        return self.dex or ""


class PerpAssetCtx(Struct):
    funding: str
    openInterest: str
    prevDayPx: str
    dayNtlVlm: str
    oraclePx: str
    markPx: str
    premium: str | None = None
    midPx: str | None = None
    impactPxs: list[str] | None = None
    dayBaseVlm: str | None = None


class SpotAssetCtx(Struct):
    prevDayPx: str
    dayNtlVlm: str
    markPx: str
    midPx: str | None = None
    circulatingSupply: str | None = None
    coin: str | None = None
    totalSupply: str | None = None
    dayBaseVlm: str | None = None


class ActiveAssetCtx(Struct):
    coin: str
    ctx: PerpAssetCtx


class ActiveSpotAssetCtx(Struct):
    coin: str
    ctx: SpotAssetCtx


# --------------------------------------------------------------------------- account data


class Leverage(Struct):
    type: str
    """``cross`` or ``isolated``."""
    value: int
    rawUsd: str | None = None


class CumFunding(Struct):
    allTime: str
    sinceOpen: str
    sinceChange: str


class Position(Struct):
    coin: str
    szi: str
    leverage: Leverage
    entryPx: str | None
    positionValue: str
    unrealizedPnl: str
    returnOnEquity: str
    marginUsed: str
    liquidationPx: str | None = None
    maxLeverage: int | None = None
    cumFunding: CumFunding | None = None


class AssetPosition(Struct):
    position: Position
    type: str = "oneWay"


class MarginSummary(Struct):
    accountValue: str
    totalNtlPos: str
    totalRawUsd: str
    totalMarginUsed: str


class ClearinghouseState(Struct):
    marginSummary: MarginSummary
    crossMarginSummary: MarginSummary
    withdrawable: str
    assetPositions: list[AssetPosition]
    crossMaintenanceMarginUsed: str = "0.0"
    time: int | None = None


class FrontendOrder(Struct):
    """An open order in the frontend shape (REST ``frontendOpenOrders``, WS ``openOrders``).

    The plain REST ``openOrders`` shape is a subset, so the extra fields have defaults.
    """

    coin: str
    side: str
    limitPx: str
    sz: str
    oid: int
    timestamp: int
    origSz: str | None = None
    cloid: str | None = None
    isTrigger: bool = False
    triggerCondition: str = "N/A"
    triggerPx: str = "0.0"
    isPositionTpsl: bool = False
    reduceOnly: bool = False
    orderType: str = "Limit"
    tif: str | None = None
    children: list[FrontendOrder] = []


class OrderUpdateOrder(Struct):
    coin: str
    side: str
    limitPx: str
    sz: str
    oid: int
    timestamp: int
    origSz: str
    cloid: str | None = None
    reduceOnly: bool | None = None


class OrderUpdate(Struct):
    order: OrderUpdateOrder
    status: str
    statusTimestamp: int


class FillLiquidation(Struct):
    markPx: str
    method: str
    liquidatedUser: str | None = None


class Fill(Struct):
    coin: str
    px: str
    sz: str
    side: str
    time: int
    startPosition: str
    dir: str
    closedPnl: str
    hash: str
    oid: int
    crossed: bool
    fee: str
    tid: int = 0
    """0 when absent (2023-era REST fills) and for system fills such as dust conversion."""
    feeToken: str = "USDC"
    builderFee: str | None = None
    cloid: str | None = None
    liquidation: FillLiquidation | None = None
    twapId: int | None = None


class Funding(Struct):
    """One hourly funding payment (WS ``userFundings`` item and ``user`` funding event)."""

    time: int
    coin: str
    usdc: str
    szi: str
    fundingRate: str
    nSamples: int | None = None


class LedgerUpdate(Struct):
    time: int
    hash: str
    delta: dict[str, Any]


class Liquidation(Struct):
    lid: int
    liquidator: str
    liquidated_user: str
    liquidated_ntl_pos: str
    liquidated_account_value: str


class NonUserCancel(Struct):
    coin: str
    oid: int


class UserEvent(Struct):
    """A ``user`` channel frame: exactly one of the members is set."""

    fills: list[Fill] | None = None
    funding: Funding | None = None
    liquidation: Liquidation | None = None
    nonUserCancel: list[NonUserCancel] | None = None


class UserFills(Struct):
    user: str
    fills: list[Fill]
    isSnapshot: bool = False
    """Absent on the wire after the first frame; absent means False."""


class UserFundings(Struct):
    user: str
    fundings: list[Funding]
    isSnapshot: bool = False


class UserNonFundingLedgerUpdates(Struct):
    user: str
    nonFundingLedgerUpdates: list[LedgerUpdate]
    isSnapshot: bool = False


class ClearinghouseStateData(Struct):
    user: str
    clearinghouseState: ClearinghouseState
    dex: str = ""
    """The perp dex of this state; ``""`` (or absent) for the default dex."""


class AllDexsClearinghouseState(Struct):
    """Perp account state of ``user`` on every dex, as ``[dex, state]`` tuples.

    Join by dex name (the first element), never by position. The default dex's ``""`` entry
    can be missing: a dex without an entry is unknown, not empty.
    """

    user: str
    clearinghouseStates: list[tuple[str, ClearinghouseState]]
    dropped: int = 0
    """Not on the wire: entries that could not be read and were left out (see ``decode``)."""

    def by_dex(self) -> dict[str, ClearinghouseState]:
        """The states keyed by dex name (``""`` = default dex), in wire order."""
        return dict(self.clearinghouseStates)


class OpenOrdersData(Struct):
    user: str
    orders: list[FrontendOrder]
    dex: str = ""
    """The perp dex of these orders; ``""`` (or absent) for the default dex (and spot)."""


class ActiveAssetData(Struct):
    user: str
    coin: str
    leverage: Leverage
    maxTradeSzs: list[str]
    availableToTrade: list[str]
    markPx: str | None = None


class Notification(Struct):
    notification: str


class SubscriptionAck(Struct):
    method: str
    subscription: dict[str, Any]


class PostResponse(Struct):
    type: str
    """``info``, ``action`` or ``error``."""
    payload: Any


class PostReply(Struct):
    id: int
    response: PostResponse


# --------------------------------------------------------------------------- frames
# One struct per channel; ``channel`` is the msgspec tag. ``data`` holds the typed payload.


class _Frame(Struct, tag_field="channel"):
    pass


class AllMidsMsg(_Frame, tag="allMids"):
    data: AllMids


class L2BookMsg(_Frame, tag="l2Book"):
    data: L2Book


class TradesMsg(_Frame, tag="trades"):
    data: list[Trade]


class BboMsg(_Frame, tag="bbo"):
    data: Bbo


class CandleMsg(_Frame, tag="candle"):
    data: Candle


class ActiveAssetCtxMsg(_Frame, tag="activeAssetCtx"):
    data: ActiveAssetCtx


class ActiveSpotAssetCtxMsg(_Frame, tag="activeSpotAssetCtx"):
    data: ActiveSpotAssetCtx


class ActiveAssetDataMsg(_Frame, tag="activeAssetData"):
    data: ActiveAssetData


class ClearinghouseStateMsg(_Frame, tag="clearinghouseState"):
    data: ClearinghouseStateData


class AllDexsClearinghouseStateMsg(_Frame, tag="allDexsClearinghouseState"):
    data: AllDexsClearinghouseState


class OpenOrdersMsg(_Frame, tag="openOrders"):
    data: OpenOrdersData


class OrderUpdatesMsg(_Frame, tag="orderUpdates"):
    data: list[OrderUpdate]


class UserEventsMsg(_Frame, tag="user"):
    """``userEvents`` subscriptions arrive on channel ``user``."""

    data: UserEvent


class UserFillsMsg(_Frame, tag="userFills"):
    data: UserFills


class UserFundingsMsg(_Frame, tag="userFundings"):
    data: UserFundings


class UserNonFundingLedgerUpdatesMsg(_Frame, tag="userNonFundingLedgerUpdates"):
    data: UserNonFundingLedgerUpdates


class WebData3Msg(_Frame, tag="webData3"):
    data: dict[str, Any]


class NotificationMsg(_Frame, tag="notification"):
    data: Notification


class SubscriptionResponseMsg(_Frame, tag="subscriptionResponse"):
    data: SubscriptionAck


class PongMsg(_Frame, tag="pong"):
    pass


class ErrorMsg(_Frame, tag="error"):
    data: str


class PostMsg(_Frame, tag="post"):
    data: PostReply


class FastAssetCtxsMsg(_Frame, tag="fastAssetCtxs"):
    """Mark and mid of every coin; ``data`` is base64 of raw DEFLATE JSON: read it with
    ``market_streams.decode_fast_asset_ctxs``."""

    data: str


class AllDexsAssetCtxs(Struct):
    """``[dex, [ctx, ...]]`` entries kept raw: contexts carry no coin, and are named by position
    (``market_streams.read_all_dexs_asset_ctxs``), so one unreadable entry costs only itself."""

    ctxs: list[msgspec.Raw]


class AllDexsAssetCtxsMsg(_Frame, tag="allDexsAssetCtxs"):
    data: AllDexsAssetCtxs


class UnknownMsg(Struct):
    """A frame on a channel hlmon does not know; kept, never an exception."""

    channel: str
    data: Any = None


KnownMsg = (
    AllMidsMsg
    | L2BookMsg
    | TradesMsg
    | BboMsg
    | CandleMsg
    | ActiveAssetCtxMsg
    | ActiveSpotAssetCtxMsg
    | ActiveAssetDataMsg
    | ClearinghouseStateMsg
    | AllDexsClearinghouseStateMsg
    | OpenOrdersMsg
    | OrderUpdatesMsg
    | UserEventsMsg
    | UserFillsMsg
    | UserFundingsMsg
    | UserNonFundingLedgerUpdatesMsg
    | WebData3Msg
    | NotificationMsg
    | SubscriptionResponseMsg
    | PongMsg
    | ErrorMsg
    | PostMsg
    | FastAssetCtxsMsg
    | AllDexsAssetCtxsMsg
)
"""Every websocket message ``decode`` can return, besides ``UnknownMsg``."""

Message = KnownMsg | UnknownMsg

KNOWN_CHANNELS: frozenset[str] = frozenset(cls.__struct_config__.tag for cls in KnownMsg.__args__)

__all__ = [name for name in dir() if not name.startswith("_")]
_ = msgspec  # keep the import explicit for readers: these are msgspec structs
