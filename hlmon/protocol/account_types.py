"""Typed structs for the items of account answers: positions, orders, fills, fundings, ledger
updates, spot balances, TWAPs, roles and portfolio history.

Shared by the websocket frames (``messages``) and the REST answers (``info``). Field names
mirror the wire exactly; prices, sizes and money stay the exchange's decimal strings. Unknown
fields are ignored, so additions on the exchange side never break decoding. Fields the exchange
does not always send are optional here; required ones that are missing make the strict decode
fail, and the tolerant pass (``repair``) then defaults or drops just that item.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct


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
    """A user's perp account on one dex.

    Under a unified or portfolio-margin account, ``accountValue`` and ``withdrawable`` are not
    balances (the spot clearinghouse is); positions and maintenance margin still are.
    """

    marginSummary: MarginSummary
    crossMarginSummary: MarginSummary
    withdrawable: str
    assetPositions: list[AssetPosition]
    crossMaintenanceMarginUsed: str = "0.0"
    time: int | None = None
    dropped: int = 0
    """Not on the wire: positions the tolerant decoder left out (see ``repair``)."""
    defaulted: int = 0
    """Not on the wire: items kept with a default for a missing field (``withdrawable``...)."""


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
    """On the fill of the *other side* of a liquidation: names the liquidated user."""

    markPx: str
    method: str
    """``market`` or ``backstop``."""
    liquidatedUser: str | None = None


class Fill(Struct):
    """One fill. ``fee`` is in ``feeToken`` (not always USDC) and includes ``builderFee``."""

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
    """Absent only on 2023-era fills, which all paid USDC. ``""`` = unknown: the tolerant
    decoder sets it when ``fee`` itself was missing (then ``fee`` is a stand-in ``"0"``)."""
    builderFee: str | None = None
    cloid: str | None = None
    liquidation: FillLiquidation | None = None
    twapId: int | None = None
    """The TWAP this fill is a slice of; null for every other fill."""

    @property
    def fee_known(self) -> bool:
        """False when the exchange did not say the fee (the tolerant decoder put in ``"0"``)."""
        return bool(self.feeToken)


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


class OrderWithStatus(Struct):
    """An order plus its status (``orderStatus.order`` and ``historicalOrders`` items)."""

    order: FrontendOrder
    status: str
    statusTimestamp: int


class UserFundingDelta(Struct):
    type: str
    coin: str
    usdc: str
    szi: str
    fundingRate: str
    nSamples: int | None = None


class UserFundingItem(Struct):
    time: int
    hash: str
    delta: UserFundingDelta


# --------------------------------------------------------------------------- spot


class SpotBalance(Struct):
    """One row of ``spotClearinghouseState.balances``.

    A token row names its token (``token`` = index in ``spotMeta.tokens``). An outcome row
    (``coin`` ``+N`` held, ``oN`` settled) has no ``token``. ``entryNtl`` is the cost basis in
    USDC. The last four fields appear only under portfolio margin.
    """

    coin: str
    total: str
    hold: str
    token: int | None = None
    entryNtl: str | None = None
    spotHold: str | None = None
    ltv: str | None = None
    borrowed: str | None = None
    supplied: str | None = None

    @property
    def is_outcome(self) -> bool:
        """An outcome side (``+N`` held, ``oN`` settled), not a token."""
        return self.token is None and self.coin[:1] in ("+", "o")


class EvmEscrow(Struct):
    """A balance in transit to or from HyperEVM."""

    coin: str
    total: str
    token: int | None = None


class SpotClearinghouseState(Struct):
    """Spot balances (REST ``spotClearinghouseState``, WS ``spotState``).

    Under a unified or portfolio-margin account this is where the collateral lives.
    """

    balances: list[SpotBalance]
    portfolioMarginEnabled: bool | None = None
    portfolioMarginRatio: str | None = None
    """Portfolio margin: the account can be liquidated above 0.95."""
    tokenToPortfolioBorrowRatio: list[tuple[int, str]] | None = None
    tokenToPortfolioSupplyRatio: list[tuple[int, str]] | None = None
    tokenToAvailableAfterMaintenance: list[tuple[int, str]] | None = None
    evmEscrows: list[EvmEscrow] | None = None
    dropped: int = 0
    """Not on the wire: balance rows the tolerant decoder left out."""
    defaulted: int = 0
    """Not on the wire: rows kept with a default, or optional fields set to null, by it."""


# --------------------------------------------------------------------------- TWAP


class TwapTrigger(Struct):
    px: str
    above: bool


class TwapState(Struct):
    """A TWAP order; ``timestamp`` (ms) is when it started, ``minutes`` how long it runs."""

    coin: str
    side: str
    sz: str
    executedSz: str
    executedNtl: str
    minutes: int
    timestamp: int
    user: str = ""
    reduceOnly: bool = False
    randomize: bool = False
    trigger: TwapTrigger | None = None
    stopPx: str | None = None


class TwapSliceFill(Struct):
    """A fill of one TWAP slice (these never come on ``userFills``); its ``hash`` is zeros."""

    fill: Fill
    twapId: int


class TwapStatus(Struct):
    status: str
    """``activated``, ``finished``, ``terminated``, ``waitingForTrigger``, ``stopped``,
    ``error``... (an open set)."""
    description: str | None = None


class TwapHistoryItem(Struct):
    """A TWAP's state change. ``time`` is in **seconds** (not ms, unlike everything else)."""

    time: int
    state: TwapState
    status: TwapStatus
    twapId: int | None = None

    @property
    def time_ms(self) -> int:
        return self.time * 1000


# --------------------------------------------------------------------------- roles, history


class UserRoleData(Struct):
    user: str | None = None
    """Agent wallets: the master account the agent trades for."""
    master: str | None = None
    """Sub-accounts: their master account."""


class UserRole(Struct):
    """``userRole``: ``user``, ``agent`` (+ ``data.user``), ``vault``, ``subAccount``
    (+ ``data.master``) or ``missing``. Others may come: keep the string."""

    role: str
    data: UserRoleData | None = None

    @property
    def master(self) -> str | None:
        """The account to watch instead: an agent's user, a sub-account's master."""
        if self.data is None:
            return None
        if self.role == "agent":
            return self.data.user
        if self.role == "subAccount":
            return self.data.master
        return None


class PortfolioPeriod(Struct):
    """One period of ``portfolio``: sparse ``[ms, "value"]`` samples and the volume."""

    accountValueHistory: list[tuple[int, str]] = []
    pnlHistory: list[tuple[int, str]] = []
    vlm: str | None = None
