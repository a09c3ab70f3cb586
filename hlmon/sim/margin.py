"""Margin maths of a perp account: summaries, per-position values, liquidation prices.

``accountValue = totalRawUsd + sum(szi * markPx)`` (cross part and total); cross margin used is
``|szi| * mark / leverage``; an isolated position's margin is ``rawUsd + szi * mark``;
maintenance margin is half the initial margin at the coin's max leverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hlmon.sim.market import Market
from hlmon.sim.numbers import RATE_QUANTUM, fmt_decimal, fmt_exact
from hlmon.sim.orders import Position


class Margin:
    """Computes the exchange's account views from positions, cash and the market's marks."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def mark(self, coin: str) -> Decimal:
        """Mark price of ``coin`` as a Decimal."""
        st = self.market.coin(coin)
        assert st is not None
        return self.market.mark_decimal(st)

    def mm_rate(self, coin: str) -> Decimal:
        """Maintenance margin rate: half the initial margin at max leverage."""
        st = self.market.coin(coin)
        assert st is not None
        return Decimal(1) / (2 * st.spec.max_leverage)

    def summary(self, cash: Decimal, positions: Iterable[Position]) -> dict[str, Decimal]:
        """Totals used by every state view (all Decimal)."""
        cross_ntl = cross_signed = cross_margin = cross_mm = Decimal(0)
        iso_raw = iso_ntl = iso_signed = iso_margin = Decimal(0)
        cross_upnl = upnl = Decimal(0)
        for pos in positions:
            mark = self.mark(pos.coin)
            ntl = abs(pos.szi) * mark
            pnl = pos.szi * (mark - pos.entry)
            upnl += pnl
            if pos.cross:
                cross_upnl += pnl
                cross_ntl += ntl
                cross_signed += pos.szi * mark
                cross_margin += ntl / pos.leverage
                cross_mm += ntl * self.mm_rate(pos.coin)
            else:
                iso_raw += pos.raw_usd
                iso_ntl += ntl
                iso_signed += pos.szi * mark
                iso_margin += pos.raw_usd + pos.szi * mark
        cross_value = cash + cross_signed
        value = cross_value + iso_raw + iso_signed
        return {
            "cross_value": cross_value,
            "cross_ntl": cross_ntl,
            "cross_raw": cash,
            "cross_margin": cross_margin,
            "cross_mm": cross_mm,
            "value": value,
            "ntl": cross_ntl + iso_ntl,
            "raw": cash + iso_raw,
            "margin": cross_margin + iso_margin,
            "withdrawable": max(Decimal(0), cross_value - cross_margin),
            "upnl": upnl,
            "cross_upnl": cross_upnl,
            "iso_margin": iso_margin,
            "iso_raw": iso_raw,
            # Realised money, margin included (every position closed at entry): what a
            # unified account keeps in its spot balance.
            "settled": value - upnl,
        }

    def liquidation_px(self, pos: Position, totals: dict[str, Decimal]) -> Decimal | None:
        """Mark at which the position's margin falls to maintenance (None if never)."""
        mark = self.mark(pos.coin)
        side = 1 if pos.szi > 0 else -1
        mm_rate = self.mm_rate(pos.coin)
        if pos.cross:
            available = totals["cross_value"] - totals["cross_mm"]
        else:
            available = pos.raw_usd + pos.szi * mark - abs(pos.szi) * mark * mm_rate
        liq = mark - side * available / abs(pos.szi) / (1 - mm_rate * side)
        return liq if liq > 0 else None

    def position_dict(self, pos: Position, totals: dict[str, Decimal]) -> dict[str, Any]:
        """One ``assetPositions[].position`` object."""
        mark = self.mark(pos.coin)
        st = self.market.coin(pos.coin)
        assert st is not None
        ntl = abs(pos.szi) * mark
        upnl = pos.szi * (mark - pos.entry)
        init_margin = abs(pos.szi) * pos.entry / pos.leverage
        margin = ntl / pos.leverage if pos.cross else pos.raw_usd + pos.szi * mark
        leverage: dict[str, Any] = {
            "type": "cross" if pos.cross else "isolated",
            "value": pos.leverage,
        }
        if not pos.cross:
            leverage["rawUsd"] = fmt_decimal(pos.raw_usd)
        liq = self.liquidation_px(pos, totals)
        return {
            "coin": pos.coin,
            "szi": fmt_exact(pos.szi),
            "leverage": leverage,
            "entryPx": fmt_decimal(pos.entry, Decimal(1).scaleb(min(st.exp - 1, 0))),
            "positionValue": fmt_decimal(ntl),
            "unrealizedPnl": fmt_decimal(upnl),
            "returnOnEquity": fmt_decimal(upnl / init_margin, RATE_QUANTUM),
            "liquidationPx": None if liq is None else fmt_decimal(liq, Decimal("0.00000001")),
            "marginUsed": fmt_decimal(margin),
            "maxLeverage": st.spec.max_leverage,
            "cumFunding": {
                "allTime": fmt_decimal(pos.cum_all),
                "sinceOpen": fmt_decimal(pos.cum_open),
                "sinceChange": fmt_decimal(pos.cum_change),
            },
        }

    def clearinghouse_state(
        self, cash: Decimal, positions: list[Position], *, collateral_in_spot: bool = False
    ) -> dict[str, Any]:
        """REST ``clearinghouseState`` body.

        ``collateral_in_spot`` (unified and portfolio-margin accounts): the balance lives in the
        spot clearinghouse, so the perp side holds only the margin of its positions:
        ``accountValue`` = margin used + the cross positions' unrealised PnL (an isolated
        margin already holds its own; 0 with no position, as the exchange shows),
        ``withdrawable`` 0. Positions, margins, maintenance margin and liquidation
        prices stay what they are.
        """
        t = self.summary(cash, positions)
        if collateral_in_spot:
            cross_value = t["cross_margin"] + t["cross_upnl"]
            value = cross_value + t["iso_margin"]
            cross_raw = cross_value - (t["cross_value"] - t["cross_raw"])
            raw, withdrawable = cross_raw + t["iso_raw"], Decimal(0)
        else:
            cross_value, value = t["cross_value"], t["value"]
            cross_raw, raw, withdrawable = t["cross_raw"], t["raw"], t["withdrawable"]
        cross = {
            "accountValue": fmt_decimal(cross_value),
            "totalNtlPos": fmt_decimal(t["cross_ntl"]),
            "totalRawUsd": fmt_decimal(cross_raw),
            "totalMarginUsed": fmt_decimal(t["cross_margin"]),
        }
        return {
            "marginSummary": {
                "accountValue": fmt_decimal(value),
                "totalNtlPos": fmt_decimal(t["ntl"]),
                "totalRawUsd": fmt_decimal(raw),
                "totalMarginUsed": fmt_decimal(t["margin"]),
            },
            "crossMarginSummary": cross,
            "crossMaintenanceMarginUsed": fmt_decimal(t["cross_mm"]),
            "withdrawable": fmt_decimal(withdrawable),
            "assetPositions": [
                {"type": "oneWay", "position": self.position_dict(p, t)} for p in positions
            ],
            "time": self.market.now,
        }


def empty_clearinghouse_state(now: int) -> dict[str, Any]:
    """``clearinghouseState`` of an address with nothing in it."""
    zero = {
        "accountValue": "0.0",
        "totalNtlPos": "0.0",
        "totalRawUsd": "0.0",
        "totalMarginUsed": "0.0",
    }
    return {
        "marginSummary": dict(zero),
        "crossMarginSummary": dict(zero),
        "crossMaintenanceMarginUsed": "0.0",
        "withdrawable": "0.0",
        "assetPositions": [],
        "time": now,
    }


def apply_fill(pos: Position, start: Decimal, delta: Decimal, px: Decimal) -> Decimal:
    """Move ``pos`` (size ``start`` before) by a fill of ``delta`` at ``px``.

    Returns the change of the pool's cash: a cross position trades against the pool; an
    isolated one moves margin between the pool and its own ``raw_usd``. The caller drops the
    position when its size reaches zero.
    """
    new = start + delta
    cash = Decimal(0)
    if pos.cross:
        cash -= delta * px
        if new != 0:
            if start == 0 or (start > 0) == (delta > 0):
                pos.entry = (pos.entry * abs(start) + px * abs(delta)) / abs(new)
            elif (start > 0) != (new > 0):
                pos.entry = px
                pos.cum_open = Decimal(0)
    else:
        equity = pos.raw_usd + start * px
        if start == 0 or (start > 0) == (delta > 0):
            add = abs(delta) * px / pos.leverage
            cash -= add
            pos.raw_usd += add - delta * px
            pos.entry = (pos.entry * abs(start) + px * abs(delta)) / abs(new)
        elif (start > 0) == (new > 0):
            kept = equity * new / start
            cash += equity - kept
            pos.raw_usd = kept - new * px
        else:
            cash += equity
            if new != 0:
                margin = abs(new) * px / pos.leverage
                cash -= margin
                pos.raw_usd = margin - new * px
                pos.entry = px
                pos.cum_open = Decimal(0)
    pos.szi = new
    pos.cum_change = Decimal(0)
    return cash
