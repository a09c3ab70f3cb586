"""Typed structs for every Hyperliquid websocket frame and /info response hlmon reads.

The items of account answers (positions, orders, fills, spot balances, TWAPs...) live in
``account_types`` and are re-exported here. Field names mirror the wire exactly (camelCase
included) so values pass through unchanged; prices, sizes and money stay the exchange's
decimal strings. Unknown fields are ignored by
msgspec, so additions on the exchange side never break decoding.

Each websocket message class is a member of a msgspec tagged union on the ``channel`` key,
which lets ``decode`` pick the right struct in one pass over the bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct, field

# Re-exported (``X as X``): callers have always imported the account structs from here.
from hlmon.protocol.account_types import AssetPosition as AssetPosition
from hlmon.protocol.account_types import ClearinghouseState as ClearinghouseState
from hlmon.protocol.account_types import CumFunding as CumFunding
from hlmon.protocol.account_types import EvmEscrow as EvmEscrow
from hlmon.protocol.account_types import Fill as Fill
from hlmon.protocol.account_types import FillLiquidation as FillLiquidation
from hlmon.protocol.account_types import FrontendOrder as FrontendOrder
from hlmon.protocol.account_types import Funding as Funding
from hlmon.protocol.account_types import LedgerUpdate as LedgerUpdate
from hlmon.protocol.account_types import Leverage as Leverage
from hlmon.protocol.account_types import Liquidation as Liquidation
from hlmon.protocol.account_types import MarginSummary as MarginSummary
from hlmon.protocol.account_types import NonUserCancel as NonUserCancel
from hlmon.protocol.account_types import OrderUpdate as OrderUpdate
from hlmon.protocol.account_types import OrderUpdateOrder as OrderUpdateOrder
from hlmon.protocol.account_types import PortfolioPeriod as PortfolioPeriod
from hlmon.protocol.account_types import Position as Position
from hlmon.protocol.account_types import SpotBalance as SpotBalance
from hlmon.protocol.account_types import SpotClearinghouseState as SpotClearinghouseState
from hlmon.protocol.account_types import TwapHistoryItem as TwapHistoryItem
from hlmon.protocol.account_types import TwapSliceFill as TwapSliceFill
from hlmon.protocol.account_types import TwapState as TwapState
from hlmon.protocol.account_types import TwapStatus as TwapStatus
from hlmon.protocol.account_types import TwapTrigger as TwapTrigger
from hlmon.protocol.account_types import UserRole as UserRole
from hlmon.protocol.account_types import UserRoleData as UserRoleData

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


# --------------------------------------------------------------------------- account frames


class UserEvent(Struct):
    """A ``user`` channel frame: exactly one of the members is set.

    ``twapSliceFills`` and ``twapHistory`` are members too (TWAP slice fills never come on
    ``userFills``). A member hlmon does not know leaves every field None: see ``is_empty``.
    """

    fills: list[Fill] | None = None
    funding: Funding | None = None
    liquidation: Liquidation | None = None
    nonUserCancel: list[NonUserCancel] | None = None
    twapSliceFills: list[TwapSliceFill] | None = None
    twapHistory: list[TwapHistoryItem] | None = None
    dropped: int = 0
    """Not on the wire: items the tolerant decoder left out (see ``repair``)."""
    defaulted: int = 0
    """Not on the wire: items kept with a default for a missing non-essential field."""

    @property
    def is_empty(self) -> bool:
        """No member hlmon knows is set (a new member, or everything was unreadable)."""
        return (
            self.fills is None
            and self.funding is None
            and self.liquidation is None
            and self.nonUserCancel is None
            and self.twapSliceFills is None
            and self.twapHistory is None
        )


class UserFills(Struct):
    user: str
    fills: list[Fill]
    isSnapshot: bool = False
    """Absent on the wire after the first frame; absent means False."""
    dropped: int = 0
    """Not on the wire: fills the tolerant decoder left out (see ``repair``)."""
    defaulted: int = 0
    """Not on the wire: fills kept with a default for a missing field (``fee``...)."""


class UserFundings(Struct):
    user: str
    fundings: list[Funding]
    isSnapshot: bool = False
    dropped: int = 0
    defaulted: int = 0


class UserNonFundingLedgerUpdates(Struct):
    user: str
    nonFundingLedgerUpdates: list[LedgerUpdate]
    isSnapshot: bool = False
    dropped: int = 0
    defaulted: int = 0


class SpotStateData(Struct):
    """A ``spotState`` push: the full spot state every time."""

    user: str
    spotState: SpotClearinghouseState


class TwapStatesData(Struct):
    """Active TWAPs of ``user`` on one perp dex, as ``[twapId, state]`` pairs."""

    user: str
    states: list[tuple[int, TwapState]]
    dex: str = ""
    dropped: int = 0
    defaulted: int = 0


class UserTwapSliceFills(Struct):
    user: str
    twapSliceFills: list[TwapSliceFill]
    isSnapshot: bool = False
    dropped: int = 0
    defaulted: int = 0


class UserTwapHistory(Struct):
    user: str
    history: list[TwapHistoryItem]
    isSnapshot: bool = False
    dropped: int = 0
    defaulted: int = 0


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
    """Not on the wire: entries (and positions) that could not be read and were left out."""
    defaulted: int = 0
    """Not on the wire: items kept with a default for a missing field (see ``repair``)."""

    def by_dex(self) -> dict[str, ClearinghouseState]:
        """The states keyed by dex name (``""`` = default dex), in wire order."""
        return dict(self.clearinghouseStates)


class OpenOrdersData(Struct):
    user: str
    orders: list[FrontendOrder]
    dex: str = ""
    """The perp dex of these orders; ``""`` (or absent) for the default dex (and spot)."""
    dropped: int = 0
    defaulted: int = 0


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
    dropped: int = 0
    """Not on the wire: updates the tolerant decoder left out (see ``repair``)."""
    defaulted: int = 0


class UserEventsMsg(_Frame, tag="user"):
    """``userEvents`` subscriptions arrive on channel ``user``."""

    data: UserEvent


class UserFillsMsg(_Frame, tag="userFills"):
    data: UserFills


class UserFundingsMsg(_Frame, tag="userFundings"):
    data: UserFundings


class UserNonFundingLedgerUpdatesMsg(_Frame, tag="userNonFundingLedgerUpdates"):
    data: UserNonFundingLedgerUpdates


class SpotStateMsg(_Frame, tag="spotState"):
    data: SpotStateData


class TwapStatesMsg(_Frame, tag="twapStates"):
    data: TwapStatesData


class UserTwapSliceFillsMsg(_Frame, tag="userTwapSliceFills"):
    data: UserTwapSliceFills


class UserTwapHistoryMsg(_Frame, tag="userTwapHistory"):
    data: UserTwapHistory


class WebData3Msg(_Frame, tag="webData3"):
    data: dict[str, Any]

    @property
    def user(self) -> str | None:
        """``userState.user``, when the frame carries it."""
        value = _user_state(self.data).get("user")
        return value if isinstance(value, str) else None

    @property
    def abstraction(self) -> str | None:
        """``userState.abstraction`` as the exchange spells it (``unifiedAccount``,
        ``portfolioMargin``, ``disabled``...), or None when the frame does not say."""
        value = _user_state(self.data).get("abstraction")
        return value if isinstance(value, str) and value else None


def _user_state(data: dict[str, Any]) -> dict[str, Any]:
    state = data.get("userState")
    return state if isinstance(state, dict) else {}


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
    | SpotStateMsg
    | TwapStatesMsg
    | UserTwapSliceFillsMsg
    | UserTwapHistoryMsg
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
