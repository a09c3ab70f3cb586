"""Orders, positions and account events of the demo account, and their wire shapes.

Shapes follow the exchange: ``orderUpdates`` orders, frontend orders (``frontendOpenOrders`` /
``openOrders`` channel) with TP/SL ``children``, fills (``userFills``/``user``) and fundings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hlmon.sim.numbers import MONEY_QUANTUM, RATE_QUANTUM, fmt_decimal, fmt_exact

FEE_QUANTUM = Decimal("0.00000001")
"""Fees print with up to 8 decimals (a spot fee paid in the base token is small)."""
MAKER_FEE = Decimal("0.00015")
TAKER_FEE = Decimal("0.00045")


@dataclass(slots=True)
class Order:
    """An open order of the demo account (frontend shape fields)."""

    oid: int
    coin: str
    side: str
    limit_px: Decimal
    sz: Decimal
    orig_sz: Decimal
    timestamp: int
    order_type: str = "Limit"
    tif: str | None = "Gtc"
    is_trigger: bool = False
    trigger_px: Decimal = Decimal(0)
    trigger_condition: str = "N/A"
    reduce_only: bool = False
    is_position_tpsl: bool = False
    cloid: str | None = None
    parent: int | None = None
    children: list[int] = field(default_factory=list)
    triggered: bool = False
    """A stop/take-profit limit order whose trigger fired: it now rests as a limit order."""


@dataclass(slots=True)
class Position:
    """An open perp position."""

    coin: str
    szi: Decimal
    entry: Decimal
    leverage: int
    cross: bool
    raw_usd: Decimal = Decimal(0)
    """Isolated only: margin minus ``szi * entry`` (as the exchange reports ``rawUsd``)."""
    cum_all: Decimal = Decimal(0)
    cum_open: Decimal = Decimal(0)
    cum_change: Decimal = Decimal(0)


@dataclass(slots=True)
class AccountEvents:
    """What changed in the account during one block (or one forced fill)."""

    fills: list[dict[str, Any]] = field(default_factory=list)
    order_updates: list[dict[str, Any]] = field(default_factory=list)
    fundings: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    """Tape trades made by the demo account's fills (same tid as the fill)."""
    twap_fills: list[dict[str, Any]] = field(default_factory=list)
    """``{fill, twapId}`` items of TWAP slices (never on ``userFills``)."""
    twap_history: list[dict[str, Any]] = field(default_factory=list)
    twap_dexes: set[str] = field(default_factory=set)
    """Perp dexes whose ``twapStates`` changed."""
    liquidations: list[dict[str, Any]] = field(default_factory=list)
    """``userEvents`` ``liquidation`` objects of the demo account."""
    spot_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.fills
            or self.order_updates
            or self.fundings
            or self.ledger
            or self.twap_fills
            or self.twap_history
            or self.liquidations
            or self.spot_changed
        )


def update_order_dict(order: Order, sz: Decimal | None = None) -> dict[str, Any]:
    """``orderUpdates`` order shape (``sz`` overrides the remaining size, e.g. 0 when filled)."""
    out: dict[str, Any] = {
        "coin": order.coin,
        "side": order.side,
        "limitPx": fmt_exact(order.limit_px),
        "sz": fmt_exact(order.sz if sz is None else sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "origSz": fmt_exact(order.orig_sz),
    }
    if order.reduce_only:
        out["reduceOnly"] = True
    if order.cloid:
        out["cloid"] = order.cloid
    return out


def frontend_order_dict(order: Order, children: list[dict[str, Any]]) -> dict[str, Any]:
    """Frontend order shape with its (already shaped) TP/SL children."""
    return {
        "coin": order.coin,
        "side": order.side,
        "limitPx": fmt_exact(order.limit_px),
        "sz": fmt_exact(order.sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "triggerCondition": order.trigger_condition,
        "isTrigger": order.is_trigger,
        "triggerPx": fmt_exact(order.trigger_px),
        "children": children,
        "isPositionTpsl": order.is_position_tpsl,
        "reduceOnly": order.reduce_only,
        "orderType": order.order_type,
        "origSz": fmt_exact(order.orig_sz),
        "tif": order.tif,
        "cloid": order.cloid,
    }


def plain_order_dict(order: Order) -> dict[str, Any]:
    """REST ``openOrders`` shape."""
    return {
        "coin": order.coin,
        "side": order.side,
        "limitPx": fmt_exact(order.limit_px),
        "sz": fmt_exact(order.sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "origSz": fmt_exact(order.orig_sz),
        "cloid": order.cloid,
    }


def fill_fee(px: Decimal, sz: Decimal, crossed: bool) -> Decimal:
    """Fee of a fill: taker rate when it crossed, maker rate when it rested."""
    return (px * sz * (TAKER_FEE if crossed else MAKER_FEE)).quantize(MONEY_QUANTUM)


def fill_dict(
    coin: str,
    px: Decimal,
    sz: Decimal,
    side: str,
    t: int,
    start: Decimal,
    direction: str,
    closed_pnl: Decimal,
    oid: int,
    crossed: bool,
    tid: int,
    hash_hex: str,
    *,
    fee_token: str = "USDC",
    fee: Decimal | None = None,
    twap_id: int | None = None,
) -> dict[str, Any]:
    """A fill as ``userFills`` / ``user`` / REST ``userFills`` carry it (``fee_token``: the
    collateral token of the coin's dex; ``fee``: when not the usual rate on the notional)."""
    return {
        "coin": coin,
        "px": fmt_exact(px),
        "sz": fmt_exact(sz),
        "side": side,
        "time": t,
        "startPosition": fmt_exact(start),
        "dir": direction,
        "closedPnl": fmt_decimal(closed_pnl),
        "hash": hash_hex,
        "oid": oid,
        "crossed": crossed,
        "fee": fmt_decimal(fill_fee(px, sz, crossed) if fee is None else fee, FEE_QUANTUM),
        "tid": tid,
        "feeToken": fee_token,
        "twapId": twap_id,
    }


def funding_dict(t: int, pos: Position, usdc: Decimal, rate: Decimal) -> dict[str, Any]:
    """One funding payment (``userFundings`` item, ``user`` funding event)."""
    return {
        "time": t,
        "coin": pos.coin,
        "usdc": fmt_decimal(usdc),
        "szi": fmt_exact(pos.szi),
        "fundingRate": fmt_decimal(rate, RATE_QUANTUM),
        "nSamples": None,
    }
