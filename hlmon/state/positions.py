"""Derived account numbers: position views (mark, live uPnL, ROE, liquidation distance) and
the account summary (margin ratio, total uPnL).

All arithmetic is ``Decimal`` on the exchange strings. Exchange strings are passed through
unchanged next to hlmon's own numbers so the two can be compared on screen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

from hlmon.protocol.messages import ClearinghouseState, Position
from hlmon.round_memo import RoundMemo

from .decimals import fmt_dec, pct, quantize_sig, try_dec
from .types import AccountSummary, MarkSource, PositionView, Source

_ZERO = Decimal(0)
_USD_STEP = Decimal("0.000001")  # USDC has 6 decimals on Hyperliquid


def _usd(d: Decimal) -> str:
    """A USD amount rounded to 6 decimals (USDC precision), trailing zeros dropped."""
    try:
        d = d.quantize(_USD_STEP)
    except ArithmeticError:
        pass  # more digits than the context holds (hostile input): shown unrounded
    return fmt_dec(d)


def mark_price(
    position: Position,
    ctx_mark: str | None,
    mid: str | None,
    mid_feed: str = "mids",
) -> tuple[str | None, str | None, MarkSource | None]:
    """The best mark hlmon has for a position, the feed it came from and what it is: ctx
    markPx, else the mid (from ``mid_feed``: ``mids``, or ``mids:xyz`` for xyz), else
    value / |size|.

    The caller passes ``ctx_mark`` / ``mid`` only while their feeds are fresh: a frozen ctx
    must not hide a moving market. The last resort is the clearinghouse's own implied mark
    (positionValue is |szi| * mark at the time of the push), rounded like an exchange price;
    its feed is None (it is as fresh as ``account``).
    """
    if ctx_mark is not None and try_dec(ctx_mark) is not None:
        return ctx_mark, "ctx:" + position.coin, MarkSource.MARK
    if mid is not None and try_dec(mid) is not None:
        return mid, mid_feed, MarkSource.MID
    szi = try_dec(position.szi)
    value = try_dec(position.positionValue)
    if szi is None or value is None or szi == _ZERO:
        return None, None, None
    return fmt_dec(quantize_sig(value / abs(szi))), None, MarkSource.ACCOUNT


def position_view(
    position: Position,
    ctx_mark: str | None,
    mid: str | None,
    dex: str = "",
    collateral: str | None = None,
    *,
    mid_feed: str = "mids",
) -> PositionView:
    """Build the display record for one position (``ctx_mark`` / ``mid``: fresh ones only) on
    ``dex``, whose amounts are in ``collateral``; ``mid_feed``: the freshness key of the mids
    ``mid`` came from (``mids:xyz`` for xyz)."""
    p = position
    szi = try_dec(p.szi) or _ZERO
    mark_s, mark_feed, mark_source = mark_price(p, ctx_mark, mid, mid_feed)
    mark = try_dec(mark_s)
    entry = try_dec(p.entryPx)
    liq = try_dec(p.liquidationPx)
    lev = p.leverage.value

    live_upnl = p.unrealizedPnl
    live_roe: str | None = None
    liq_dist: str | None = None
    # Numbers too large for Decimal's context (only hostile frames have them) leave hlmon's
    # own figures out rather than raise on every read.
    with contextlib.suppress(ArithmeticError):
        if mark is not None and entry is not None:
            upnl = szi * (mark - entry)
            live_upnl = _usd(upnl)
            # Exchange ROE = uPnL / initial margin at entry = uPnL / (|szi| * entry / leverage).
            if lev > 0:
                live_roe = pct(upnl * lev, abs(szi) * entry)
        if liq is not None and mark is not None and mark != _ZERO:
            # Signed: how far the mark may still move against the position; negative once the
            # mark is past the liquidation price (a long below it, a short above it).
            liq_dist = pct(mark - liq if szi >= _ZERO else liq - mark, mark)
    if mark_source is MarkSource.ACCOUNT and try_dec(p.unrealizedPnl) is not None:
        # No fresher mark than the push's own: its uPnL is the exchange's, exactly
        # (recomputed from the rounded implied mark it would only differ by noise, and the
        # equity it adds up to is the exchange's too).
        live_upnl = p.unrealizedPnl

    return PositionView(
        coin=p.coin,
        side="SHORT" if szi < _ZERO else "LONG",
        szi=p.szi,
        size=p.szi.lstrip("-"),
        entry_px=p.entryPx,
        mark_px=mark_s,
        position_value=p.positionValue,
        unrealized_pnl=p.unrealizedPnl,
        return_on_equity=p.returnOnEquity,
        liquidation_px=p.liquidationPx,
        liq_distance_pct=liq_dist,
        margin_used=p.marginUsed,
        leverage_type=p.leverage.type,
        leverage_value=lev,
        live_upnl=live_upnl,
        live_roe_pct=live_roe,
        mark_feed=mark_feed,
        mark_source=mark_source,
        dex=dex,
        collateral=collateral,
    )


ViewInputs = tuple[Position, str | None, str | None, str, str | None, str]
"""What one position's view is built from: (position, fresh ctx mark, fresh mid, dex,
collateral, mid feed), the arguments of ``position_view``."""


class PositionViews:
    """``position_view`` for a list of positions, reusing the view of a position whose inputs
    did not change since the last list (``RoundMemo``: a position is replaced on every push,
    never changed in place). Under load a mids push rebuilds every row several times a second
    while most positions' marks did not move. Holds the last list's views only."""

    def __init__(self) -> None:
        self._memo: RoundMemo[tuple[str, str], PositionView] = RoundMemo()

    def build(self, inputs: Sequence[ViewInputs]) -> list[PositionView]:
        """The views of ``inputs``, in order (each as ``position_view`` builds it)."""
        memo = self._memo
        memo.begin()
        views: list[PositionView] = []
        for args in inputs:
            position, ctx_mark, mid, dex, collateral, mid_feed = args
            build = partial(
                position_view, position, ctx_mark, mid, dex, collateral, mid_feed=mid_feed
            )
            views.append(memo.get((dex, position.coin), args, build))
        return views


def account_summary(
    ch: ClearinghouseState,
    source: Source,
    received_at: float,
    rows: Sequence[PositionView] | None = None,
) -> AccountSummary:
    """Account-level numbers from one clearinghouse state.

    ``rows``: the state's positions as shown (``position_view`` with the frame's marks). The
    uPnL total is then their sum, and the equity the exchange's account value moved by the
    difference between their uPnL and the exchange's (see ``AccountSummary``), so the totals
    and the rows agree; without rows both are the exchange's figures.
    """
    maint = try_dec(ch.crossMaintenanceMarginUsed)
    cross_value = try_dec(ch.crossMarginSummary.accountValue)
    ratio = None
    if maint is not None and cross_value is not None:
        ratio = pct(maint, cross_value)
    exchange = _ZERO
    with contextlib.suppress(ArithmeticError):  # overflow: hostile input only
        for ap in ch.assetPositions:
            exchange += try_dec(ap.position.unrealizedPnl) or _ZERO
    exchange_upnl = fmt_dec(exchange)
    value_s = ch.marginSummary.accountValue
    upnl_s, equity_s = exchange_upnl, value_s
    if rows is not None:
        live = _ZERO
        with contextlib.suppress(ArithmeticError):
            for row in rows:
                live += try_dec(row.live_upnl) or _ZERO
            upnl_s = _usd(live)
            value = try_dec(value_s)
            if value is not None and live != exchange:
                equity_s = _usd(value + live - exchange)
    return AccountSummary(
        account_value=equity_s,
        total_margin_used=ch.marginSummary.totalMarginUsed,
        total_ntl_pos=ch.marginSummary.totalNtlPos,
        withdrawable=ch.withdrawable,
        cross_maintenance_margin_used=ch.crossMaintenanceMarginUsed,
        margin_ratio_pct=ratio,
        total_upnl=upnl_s,
        source=source,
        received_at=received_at,
        exchange_account_value=value_s,
        exchange_upnl=exchange_upnl,
    )
