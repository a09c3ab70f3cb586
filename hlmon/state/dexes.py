"""Per-dex account figures: which dexes an account is active on, each dex's summary in its
own collateral token, and totals per token.

Since HIP-3 every perp dex keeps its own margin pool, in that dex's collateral token (USDC for
the default dex, USDH, USDE, USDT... for others; 2026 protocol page §2.4, §4.4). In standard
mode a dex's ``accountValue``, ``withdrawable`` and PnL are amounts of that token, so figures
of different tokens are never added: ``token_totals`` sums per token only. A dex whose token
is not known (no catalog yet) is its own group, token ``None`` (shown as ``?``).

Pure: no I/O; the store passes states, stamps and the collateral lookup in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from hlmon.protocol.messages import ClearinghouseState
from hlmon.round_memo import RoundMemo

from .decimals import fmt_dec, pct, try_dec
from .positions import account_summary
from .types import PositionView, Stamp

if TYPE_CHECKING:
    from .catalog import MarketCatalog

DEFAULT_DEX = ""
DEFAULT_COLLATERAL = "USDC"
"""The default dex settles in USDC (documented); assumed for it only, never for a HIP-3 dex."""
DEFAULT_DEX_LABEL = "main"
"""How the default dex is named on screen (its wire name is ``""``)."""
FILL_ACTIVITY_MS = 3_600_000
"""A fill or order update this recent makes its dex active: a position opened there shows
within a poll, and a dex traded on hours ago does not cost an orders poll (20 weight) every
few seconds on REST."""
FUNDING_ACTIVITY_MS = 2 * 3_600_000
"""A funding payment this recent makes its dex active: fundings are hourly, so a position held
on a dex (however long ago it was opened) names its dex within the hour."""

CollateralOf = Callable[[str], "str | None"]
"""dex name -> its collateral token's name, or None when unknown."""

_ZERO = Decimal(0)


def coin_dex(coin: str) -> str:
    """The perp dex a coin belongs to: ``"xyz:AAPL"`` -> ``"xyz"``; ``"BTC"``, spot -> ``""``."""
    dex, sep, _ = coin.partition(":")
    return dex if sep else DEFAULT_DEX


def dex_label(dex: str) -> str:
    """``main`` for the default dex, the dex name otherwise."""
    return dex or DEFAULT_DEX_LABEL


def account_feed(dex: str) -> str:
    """Feed key of a dex's clearinghouse state: ``account`` (default dex), ``account:xyz``."""
    return f"account:{dex}" if dex else "account"


def orders_feed(dex: str) -> str:
    """Feed key of a dex's open-orders list: ``orders`` (default dex), ``orders:xyz``."""
    return f"orders:{dex}" if dex else "orders"


def collateral_lookup(catalog: MarketCatalog | None) -> CollateralOf:
    """dex -> collateral token name, from the catalog; the default dex is USDC without one."""

    def of(dex: str) -> str | None:
        if catalog is not None:
            known = catalog.dex(dex)
            if known is not None and known.collateral is not None:
                return known.collateral
            return DEFAULT_COLLATERAL if dex == DEFAULT_DEX and known is None else None
        return DEFAULT_COLLATERAL if dex == DEFAULT_DEX else None

    return of


def has_margin_or_position(state: ClearinghouseState) -> bool:
    """The account holds something on this dex: a position, margin, or a non-zero value.

    An ``allDexsClearinghouseState`` push lists every dex, empty ones too; only these count
    as activity. (Under a unified account ``accountValue`` reads about 0 while positions
    still show, hence the position test first.)
    """
    if state.assetPositions:
        return True
    for text in (state.marginSummary.accountValue, state.marginSummary.totalMarginUsed):
        value = try_dec(text)
        if value is not None and value != _ZERO:
            return True
    return False


@dataclass(frozen=True, slots=True)
class DexSummary:
    """One dex's account numbers, in that dex's collateral token (exchange strings)."""

    dex: str
    """``""`` is the default dex."""
    collateral: str | None
    """The dex's collateral token name; None when unknown (shown as ``?``)."""
    account_value: str
    total_margin_used: str
    withdrawable: str
    maintenance: str
    """crossMaintenanceMarginUsed."""
    margin_ratio_pct: str | None
    """crossMaintenanceMarginUsed / crossMarginSummary.accountValue * 100, 2 dp: this dex's
    own risk figure (each dex liquidates on its own)."""
    total_upnl: str
    """Sum of the positions' exchange ``unrealizedPnl``."""
    positions: int
    active: bool
    """The account has a position, margin or a non-zero value here."""
    stamp: Stamp
    """When, from where, and with which exchange time this dex's state arrived."""
    equity: str = ""
    """``account_value`` moved by the rows' live uPnL (``live_upnl - total_upnl``): what the
    exchange will report at the marks ``Store.positions()`` shows (as the default dex's
    ``AccountSummary.account_value``); the exchange's own figure without rows."""
    live_upnl: str = ""
    """Sum of this dex's rows' ``live_upnl``; ``total_upnl`` without rows."""

    @property
    def label(self) -> str:
        return dex_label(self.dex)


def dex_summary(
    dex: str,
    state: ClearinghouseState,
    collateral: str | None,
    stamp: Stamp,
    rows: Sequence[PositionView] | None = None,
) -> DexSummary:
    """Summarise one dex's clearinghouse state; ``rows``: its positions as shown (their live
    uPnL moves ``equity``, as ``positions.account_summary`` does for the default dex)."""
    maint = try_dec(state.crossMaintenanceMarginUsed)
    cross_value = try_dec(state.crossMarginSummary.accountValue)
    ratio = pct(maint, cross_value) if maint is not None and cross_value is not None else None
    upnl = _ZERO
    with contextlib.suppress(ArithmeticError):  # overflow: hostile input only
        for ap in state.assetPositions:
            upnl += try_dec(ap.position.unrealizedPnl) or _ZERO
    live = account_summary(state, stamp.source, stamp.received_at, rows)
    return DexSummary(
        dex=dex,
        collateral=collateral,
        account_value=state.marginSummary.accountValue,
        total_margin_used=state.marginSummary.totalMarginUsed,
        withdrawable=state.withdrawable,
        maintenance=state.crossMaintenanceMarginUsed,
        margin_ratio_pct=ratio,
        total_upnl=fmt_dec(upnl),
        positions=len(state.assetPositions),
        active=has_margin_or_position(state),
        stamp=stamp,
        equity=live.account_value,
        live_upnl=live.total_upnl,
    )


def dex_summaries(
    states: Mapping[str, ClearinghouseState],
    stamps: Mapping[str, Stamp],
    collateral_of: CollateralOf,
    rows: Sequence[PositionView] | None = None,
    memo: RoundMemo[str, DexSummary] | None = None,
) -> tuple[DexSummary, ...]:
    """Every dex with a state and a stamp, the default dex first, then by name; ``rows``: the
    positions as shown (each dex's equity then moves with its rows' marks). ``memo``: the last
    call's summaries, each reused while its dex's state, stamp, token and rows are the same (a
    new mark moves the rows of its own dex only)."""
    by_dex: dict[str, list[PositionView]] = {}
    for row in rows or ():
        by_dex.setdefault(row.dex, []).append(row)
    if memo is not None:
        memo.begin()
    out: list[DexSummary] = []
    for dex in sorted(states):
        stamp = stamps.get(dex)
        if stamp is None:
            continue
        state, collateral = states[dex], collateral_of(dex)
        mine = by_dex.get(dex, []) if rows is not None else None
        build = partial(dex_summary, dex, state, collateral, stamp, mine)
        if memo is None:
            out.append(build())
        else:
            inputs = (state, stamp, collateral, None if mine is None else tuple(mine))
            out.append(memo.get(dex, inputs, build))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TokenTotal:
    """Sums over the dexes that settle in one collateral token (never across tokens)."""

    token: str | None
    """The token's name; None: dexes whose token is unknown (each such sum is marked ``?``)."""
    account_value: str
    total_margin_used: str
    withdrawable: str
    total_upnl: str
    margin_ratio_pct: str | None
    """The highest per-dex maintenance ratio in the group: each dex liquidates on its own, so
    a sum would hide the dex at risk."""
    positions: int
    dexes: tuple[str, ...]
    """The dexes summed, in display order."""
    equity: str = ""
    """Sum of the dexes' ``equity`` (at the rows' marks)."""
    live_upnl: str = ""
    """Sum of the dexes' ``live_upnl``."""


def token_order(token: str | None) -> tuple[int, str]:
    """USDC first, then other tokens by name, unknown last."""
    if token is None:
        return (2, "")
    return (0 if token == DEFAULT_COLLATERAL else 1, token)


def token_totals(summaries: Iterable[DexSummary]) -> tuple[TokenTotal, ...]:
    """Totals per collateral token over ``summaries`` (USDC first, unknown last)."""
    groups: dict[str | None, list[DexSummary]] = {}
    for s in summaries:
        groups.setdefault(s.collateral, []).append(s)
    out: list[TokenTotal] = []
    for token in sorted(groups, key=token_order):
        members = groups[token]
        out.append(
            TokenTotal(
                token=token,
                account_value=_sum(s.account_value for s in members),
                total_margin_used=_sum(s.total_margin_used for s in members),
                withdrawable=_sum(s.withdrawable for s in members),
                total_upnl=_sum(s.total_upnl for s in members),
                margin_ratio_pct=_worst_ratio(members),
                positions=sum(s.positions for s in members),
                dexes=tuple(s.dex for s in members),
                equity=_sum(s.equity or s.account_value for s in members),
                live_upnl=_sum(s.live_upnl or s.total_upnl for s in members),
            )
        )
    return tuple(out)


def merge_token_totals(groups: Iterable[Iterable[TokenTotal]]) -> tuple[TokenTotal, ...]:
    """Add several accounts' per-token totals, token by token (the Accounts tab's total)."""
    by_token: dict[str | None, list[TokenTotal]] = {}
    for totals in groups:
        for t in totals:
            by_token.setdefault(t.token, []).append(t)
    out: list[TokenTotal] = []
    for token in sorted(by_token, key=token_order):
        members = by_token[token]
        ratios = [t.margin_ratio_pct for t in members if t.margin_ratio_pct is not None]
        out.append(
            TokenTotal(
                token=token,
                account_value=_sum(t.account_value for t in members),
                total_margin_used=_sum(t.total_margin_used for t in members),
                withdrawable=_sum(t.withdrawable for t in members),
                total_upnl=_sum(t.total_upnl for t in members),
                margin_ratio_pct=max(ratios, key=_ratio_key) if ratios else None,
                positions=sum(t.positions for t in members),
                dexes=tuple(dict.fromkeys(d for t in members for d in t.dexes)),
                equity=_sum(t.equity or t.account_value for t in members),
                live_upnl=_sum(t.live_upnl or t.total_upnl for t in members),
            )
        )
    return tuple(out)


def _sum(values: Iterable[str]) -> str:
    total = _ZERO
    with contextlib.suppress(ArithmeticError):
        for v in values:
            total += try_dec(v) or _ZERO
    return fmt_dec(total)


def _ratio_key(text: str) -> Decimal:
    return try_dec(text) or _ZERO


def _worst_ratio(members: Iterable[DexSummary]) -> str | None:
    ratios = [s.margin_ratio_pct for s in members if s.margin_ratio_pct is not None]
    return max(ratios, key=_ratio_key) if ratios else None
