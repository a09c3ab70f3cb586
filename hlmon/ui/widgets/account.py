"""Columns and row builders for the account tables: positions, orders, fills, funding, log,
accounts. Each builder turns store records into ``(text, style)`` cells for a ``TableView``.

Every colour-coded meaning also reads without colour: sides are words (``LONG``, ``Sell``),
amounts carry their sign, a close liquidation is marked ``!`` / ``!!``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import partial

from hlmon.protocol.messages import Fill, FrontendOrder, Funding
from hlmon.round_memo import RoundMemo
from hlmon.state import FeedState, LogEvent, MarkSource, PositionView, try_dec
from hlmon.state.account_modes import AccountMode
from hlmon.state.accounts import AccountRow, AccountTotals
from hlmon.state.dexes import TokenTotal
from hlmon.state.liquidations import is_liquidated_dir
from hlmon.state.order_status import status_text
from hlmon.ui.fmt import (
    DASH,
    as_listed,
    fmt_age,
    fmt_clock,
    fmt_money,
    fmt_num,
    fmt_payment,
    fmt_pct,
    fmt_px,
    fmt_size,
    fmt_when,
    price_decimals,
)
from hlmon.ui.widgets.dexes import token_name
from hlmon.ui.widgets.lines import Cell, Column
from hlmon.ui.widgets.table import DETAIL
from hlmon.ui.widgets.whole_account import (
    AccountFacts,
    account_fact_cells,
    fee_text,
    role_suffix,
    signed_style,
    usd_total_cell,
)

LIQ_WARN_PCT = 15.0
"""Liquidation distance under this is shown in warning colour."""
LIQ_DANGER_PCT = 5.0
"""Liquidation distance under this is shown in error colour."""

Rows = tuple[list[dict[str, Cell]], list[Hashable]]

# Declared widths are minimums: the tables size columns by their content (``fit_columns``).
POSITION_COLUMNS: tuple[Column, ...] = (
    Column("coin", "coin", 4, "left", priority=100),
    Column("side", "side", 5, "left", priority=95),
    Column("size", "size", 4, "right", priority=90),
    Column("entry", "entry", 5, "right", priority=40),
    Column("mark", "mark", 4, "right", priority=50),
    Column("upnl", "uPnL", 4, "right", priority=85),
    Column("roe", "ROE", 3, "right", priority=70),
    Column("liq", "liq", 3, "right", priority=45),
    Column("dist", "dist", 4, "right", priority=80),
    Column("risk", "", 0, "left", priority=79),
    Column("lev", "lev", 3, "left", priority=30),
    Column("tpsl", "tp/sl", 5, "left", priority=35, alt="tpsl_short"),
    Column("_", "", 0, priority=0, flex=True),
)
"""The ``tpsl`` column shows a position's TP/SL triggers in full when there is room, else
``TP SL`` marks with the prices on a line under the row (when the pane has the lines)."""

ORDER_COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 5, "left", priority=60),
    Column("coin", "coin", 4, "left", priority=100),
    Column("side", "side", 4, "left", priority=95),
    Column("type", "type", 4, "left", priority=88),
    Column("trigger", "trigger", 7, "left", priority=87),
    Column("px", "limit", 5, "right", priority=90),
    Column("sz", "size", 4, "right", priority=85),
    Column("filled", "filled", 6, "right", priority=30),
    Column("tpsl", "tp/sl", 5, "left", priority=80),
    Column("oid", "oid", 3, "right", priority=45),
    Column("flags", "", 0, "left", priority=65, alt="flags_short"),
    Column("_", "", 0, priority=0, flex=True),
)

FILL_COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 5, "left", priority=80),
    Column("coin", "coin", 4, "left", priority=100),
    Column("dir", "dir", 3, "left", priority=90),
    Column("px", "price", 5, "right", priority=95),
    Column("sz", "size", 4, "right", priority=85),
    Column("pnl", "closed PnL", 4, "right", priority=60),
    Column("fee", "fee", 3, "right", priority=40),
    Column("liq", "", 0, "left", priority=70),
    Column("twap", "", 0, "left", priority=65),
    Column("_", "", 0, priority=0, flex=True),
)

FUNDING_COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 5, "left", priority=80),
    Column("coin", "coin", 4, "left", priority=100),
    Column("szi", "size", 4, "right", priority=60),
    Column("rate", "rate/h", 6, "right", priority=70),
    Column("usdc", "payment", 7, "right", priority=90),
    Column("_", "", 0, priority=0, flex=True),
)

LOG_COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 8, "left", priority=80),
    Column("level", "", 0, "left", priority=60),
    Column("text", "event", 20, "left", priority=100, flex=True, cut=True, wrap=True),
)

ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column("sel", "", 1, "left", priority=100),
    Column("addr", "address", 11, "left", priority=100),
    Column("label", "label", 5, "left", priority=35, cut=True),
    Column("mode", "mode", 4, "left", priority=70),
    Column("usd", "total $", 7, "right", priority=96),
    Column("risk", "risk", 4, "right", priority=75),
    Column("token", "token", 1, "left", priority=92),
    Column("equity", "equity", 6, "right", priority=95),
    Column("margin", "margin used", 6, "right", priority=60),
    Column("ratio", "maint %", 7, "right", priority=50),
    Column("upnl", "uPnL", 4, "right", priority=90),
    Column("npos", "pos", 3, "right", priority=30),
    Column("age", "age", 3, "left", priority=85),
    Column("_", "", 0, priority=0, flex=True),
)


def liq_style(dist_pct: str | None) -> str:
    """Colour for a liquidation distance: red under 5 %, yellow under 15 %."""
    d = try_dec(dist_pct)
    if d is None:
        return "pane--muted"
    if d < LIQ_DANGER_PCT:
        return "pane--bad"
    if d < LIQ_WARN_PCT:
        return "pane--warn"
    return ""


def liq_mark(dist_pct: str | None) -> str:
    """The glyph beside a close liquidation distance (``!`` under 15 %, ``!!`` under 5 %),
    so the warning does not depend on seeing yellow or red."""
    d = try_dec(dist_pct)
    if d is None or d >= LIQ_WARN_PCT:
        return ""
    return "!!" if d < LIQ_DANGER_PCT else "!"


def leverage_text(kind: str, value: int) -> str:
    """``cross 20x`` / ``iso 10x``."""
    return f"{'iso' if kind == 'isolated' else kind} {value}x"


MARK_MARKERS = {MarkSource.MID: "≈", MarkSource.ACCOUNT: "~"}
"""Before a mark that is not the exchange's mark price: a mid (``≈``), or the account's own
positionValue / size as of its last push (``~``); see the help legend."""


def mark_text(p: PositionView) -> str:
    """The position's mark, marked by where it came from unless it is the exchange's."""
    marker = MARK_MARKERS.get(p.mark_source) if p.mark_source is not None else None
    return (marker or "") + fmt_px(p.mark_px)


def tpsl_kind(order: FrontendOrder) -> str:
    """``TP`` for a take-profit trigger, ``SL`` for a stop, else ``""``."""
    if not order.isTrigger:
        return ""
    kind = order.orderType.lower()
    if kind.startswith("take profit"):
        return "TP"
    if kind.startswith("stop"):
        return "SL"
    return ""


def is_triggered(order: FrontendOrder, flag: str | None = None) -> bool:
    """The trigger has fired and the order is working: its ``triggered`` order update
    (``flag``), or ``triggerCondition`` saying so (then ``isTrigger`` may already be false)."""
    return flag == "triggered" or "triggered" in order.triggerCondition.lower()


def trigger_text(order: FrontendOrder) -> str:
    """``below 3,587.4`` / ``above 3,809.4`` / ``triggered 101,900``; blank for a plain order.

    The price is the order's ``triggerPx`` at the exchange's precision; an unknown condition
    text is shown as the exchange wrote it rather than guessed at."""
    cond = order.triggerCondition.lower()
    if "triggered" in cond:
        return f"triggered {fmt_px(order.triggerPx)}" if _has_px(order) else "triggered"
    if not order.isTrigger:
        return ""
    px = fmt_px(order.triggerPx)
    for word in ("above", "below"):
        if word in cond:
            return f"{word} {px}"
    return f"{order.triggerCondition} ({px})"


def _has_px(order: FrontendOrder) -> bool:
    px = try_dec(order.triggerPx)
    return px is not None and px != 0


def child_oids(orders: Sequence[FrontendOrder]) -> dict[int, int]:
    """``child oid -> parent oid`` for the TP/SL legs nested under open orders."""
    out: dict[int, int] = {}
    for o in orders:
        for c in o.children:
            out.setdefault(c.oid, o.oid)
    return out


def position_tpsl(
    position: PositionView,
    orders: Sequence[FrontendOrder],
    parents: dict[int, int] | None = None,
) -> dict[str, list[str]]:
    """A position's TP and SL trigger prices (``{"TP": ["170.00"], "SL": [...]}``).

    Counted: trigger orders on the position's coin that close it (the opposite side) and are
    reduce-only or position TP/SL. Legs still waiting for their parent order to fill do not
    protect the position yet and are left out.
    """
    closing = "A" if position.side == "LONG" else "B"
    if parents is None:
        parents = child_oids(orders)
    found: dict[str, list[str]] = {"TP": [], "SL": []}
    for o in orders:
        if o.coin != position.coin or o.side != closing or not o.isTrigger:
            continue
        if not (o.reduceOnly or o.isPositionTpsl) or o.oid in parents:
            continue
        kind = tpsl_kind(o)
        if kind:
            found[kind].append(fmt_px(o.triggerPx) + (" triggered" if is_triggered(o) else ""))
    return {kind: pxs for kind, pxs in found.items() if pxs}


PositionRowMemo = RoundMemo[tuple[str, str], dict[str, Cell]]
"""(dex, coin) -> a row's cells but its TP/SL, built from the view: the store hands out the
same view object while its position and marks did not change."""


def position_rows(
    positions: Sequence[PositionView],
    orders: Sequence[FrontendOrder] = (),
    memo: PositionRowMemo | None = None,
) -> Rows:
    """Table rows for open positions (live uPnL/ROE from the latest mark), each with its
    TP/SL triggers on a line under it when it has any. ``memo``: the cells of the last call
    (updated to this call's), so a view that did not change is not formatted again."""
    rows: list[dict[str, Cell]] = []
    parents = child_oids(orders)
    if memo is not None:
        memo.begin()
    for p in positions:
        if memo is None:
            cells = _position_cells(p)
        else:
            cells = memo.get((p.dex, p.coin), (p,), partial(_position_cells, p))
        row = dict(cells)
        tpsl = position_tpsl(p, orders, parents)
        if tpsl:
            full = " / ".join(f"{kind} {', '.join(pxs)}" for kind, pxs in tpsl.items())
            row["tpsl"] = (full, "")
            row["tpsl_short"] = (" ".join(tpsl), "pane--strong")
            row[DETAIL] = (f"  └ {full}", "pane--muted")
        rows.append(row)
    return rows, [p.coin for p in positions]


def _position_cells(p: PositionView) -> dict[str, Cell]:
    """A position's cells but its TP/SL (``position_rows``)."""
    side_style = "pane--up" if p.side == "LONG" else "pane--down"
    roe = try_dec(p.live_roe_pct)
    return {
        "coin": (p.coin, "pane--strong"),
        "side": (p.side, side_style),
        "size": (fmt_size(p.size), ""),
        "entry": (fmt_sig(p.entry_px), ""),
        "mark": (mark_text(p), ""),
        "upnl": (fmt_money(p.live_upnl, sign=True), signed_style(p.live_upnl)),
        "roe": (
            fmt_pct(float(roe), 1) if roe is not None else DASH,
            signed_style(p.live_roe_pct),
        ),
        "liq": (fmt_sig(p.liquidation_px), ""),
        "dist": (
            f"{fmt_num(p.liq_distance_pct, 1)}%" if p.liq_distance_pct else DASH,
            liq_style(p.liq_distance_pct),
        ),
        "risk": (liq_mark(p.liq_distance_pct), liq_style(p.liq_distance_pct)),
        "lev": (leverage_text(p.leverage_type, p.leverage_value), "pane--muted"),
    }


def fmt_sig(px: str | None) -> str:
    """A derived price (average entry, liquidation) at the exchange's 5 significant figures."""
    return fmt_px(px, price_decimals(px)) if px is not None else DASH


def _order_flags(o: FrontendOrder) -> tuple[str, str]:
    """(long, short) form of the order's flags: ``position, reduce only`` / ``pos RO``."""
    long, short = [], []
    if o.isPositionTpsl:
        long.append("position")
        short.append("pos")
    if o.reduceOnly:
        long.append("reduce only")
        short.append("RO")
    return ", ".join(long), " ".join(short)


OrderRowMemo = RoundMemo[tuple[int, bool], dict[str, Cell]]
"""(oid, leg) -> its row, built from (the order, its flag, the local day): an order is replaced
on every change, never changed in place, so the same order with the same flag on the same day
has the same row (its time shows the date once it is not today's)."""


def order_rows(
    orders: Sequence[FrontendOrder],
    now: float,
    flags: Mapping[int, str] | None = None,
    memo: OrderRowMemo | None = None,
    shown: Callable[[str], str] = as_listed,
) -> Rows:
    """Table rows for open orders, keyed by oid; the TP/SL legs of an order directly under
    it (``└ Stop Market``), the rest newest first. ``flags``: the status that keeps an order
    listed besides ``open`` (``triggered``: it now rests on the book; a status hlmon does not
    know: shown until the next snapshot settles it). ``memo``: the rows of the last call
    (updated to this call's), so an order that did not change is not formatted again (under
    load the orders list is rebuilt several times a second for one or two changed orders).
    ``shown``: the name a coin is shown by (the catalog's: ``HYPE/USDC`` for ``@107``)."""
    flags = flags or {}
    by_oid = {o.oid: o for o in orders}
    parents = child_oids(orders)
    listed: list[tuple[FrontendOrder, bool]] = []
    for o in orders:
        if parents.get(o.oid) in by_oid:
            continue  # shown under its parent
        listed.append((o, False))
        # The top-level copy of a leg is the fresher one (order updates reach it).
        listed.extend((by_oid.get(c.oid, c), True) for c in o.children)
    rows: list[dict[str, Cell]] = []
    local = time.localtime(now)
    day = (local.tm_year, local.tm_yday)
    if memo is not None:
        memo.begin()  # only the orders listed now are kept: bounded by the list
    for o, leg in listed:
        flag = flags.get(o.oid)
        name = shown(o.coin)
        if memo is None:
            rows.append(_order_row(o, leg, flag, now, name))
        else:
            build = partial(_order_row, o, leg, flag, now, name)
            rows.append(memo.get((o.oid, leg), (o, flag, day, name), build))
    return rows, [o.oid for o, _ in listed]


def _order_row(
    o: FrontendOrder, leg: bool, flag: str | None, now: float, name: str
) -> dict[str, Cell]:
    """One order's row (``order_rows``)."""
    buy = o.side == "B"
    filled = None
    orig, sz = try_dec(o.origSz), try_dec(o.sz)
    if orig is not None and sz is not None:
        filled = fmt_size(str(orig - sz)) if orig != sz else "0"
    marks, marks_short = _order_flags(o)
    triggered = is_triggered(o, flag)
    trigger = trigger_text(o)
    if triggered and not trigger.startswith("triggered"):
        trigger = "triggered"  # the update said so before the order's own fields did
    if flag is not None and flag != "triggered":
        marks = ", ".join(filter(None, (f"status {status_text(flag)}?", marks)))
        marks_short = " ".join(filter(None, ("?", marks_short)))
    kind = tpsl_kind(o)
    return {
        "time": (fmt_when(o.timestamp, now), "pane--muted"),
        "coin": (name, "pane--strong"),
        "side": ("Buy" if buy else "Sell", "pane--up" if buy else "pane--down"),
        "type": (("└ " if leg else "") + o.orderType, ""),
        "trigger": (trigger, "pane--accent" if triggered else ""),
        "px": (fmt_px(o.limitPx), ""),
        "sz": (fmt_size(o.sz), ""),
        "filled": (filled or DASH, "pane--muted"),
        "tpsl": (kind, "pane--strong"),
        "flags": (marks, "pane--warn" if flag and flag != "triggered" else "pane--muted"),
        "flags_short": (marks_short, "pane--muted"),
        "oid": (str(o.oid), "pane--muted"),
    }


def fill_rows(fills: Sequence[Fill], now: float, shown: Callable[[str], str] = as_listed) -> Rows:
    """Table rows for fills, newest first, keyed by (tid, oid); each coin by its ``shown``
    name (the catalog's: a spot fill of ``@107`` is ``HYPE/USDC``)."""
    rows: list[dict[str, Cell]] = []
    for f in fills:
        buy = f.side == "B"
        rows.append(
            {
                "time": (fmt_when(f.time, now), "pane--muted"),
                "coin": (shown(f.coin), "pane--strong"),
                "dir": (f.dir, "pane--up" if buy else "pane--down"),
                "px": (fmt_px(f.px), ""),
                "sz": (fmt_size(f.sz), ""),
                "pnl": (fmt_money(f.closedPnl, sign=True), signed_style(f.closedPnl)),
                "fee": (fee_text(f.fee, f.feeToken, f.fee_known), "pane--muted"),
                "liq": (
                    "LIQ" if f.liquidation is not None or is_liquidated_dir(f.dir) else "",
                    "pane--bad",
                ),
                "twap": (f"TWAP {f.twapId}" if f.twapId is not None else "", "pane--accent"),
            }
        )
    return rows, [(f.tid, f.oid) for f in fills]


def funding_rows(fundings: Sequence[Funding], now: float) -> Rows:
    """Table rows for funding payments, newest first."""
    rows: list[dict[str, Cell]] = []
    for f in fundings:
        rate = try_dec(f.fundingRate)
        rows.append(
            {
                "time": (fmt_when(f.time, now), "pane--muted"),
                "coin": (f.coin, "pane--strong"),
                "szi": (fmt_size(f.szi), ""),
                "rate": (
                    fmt_pct(float(rate * 100), 4, sign=False) if rate is not None else DASH,
                    "",
                ),
                "usdc": (fmt_payment(f.usdc, sign=True), signed_style(f.usdc)),
            }
        )
    return rows, [(f.time, f.coin) for f in fundings]


_LEVEL_STYLE = {"warn": "pane--warn", "error": "pane--bad"}


def log_rows(events: Sequence[LogEvent]) -> Rows:
    """Table rows for the event log, oldest first (the table shows the tail)."""
    rows: list[dict[str, Cell]] = []
    for e in events:
        style = _LEVEL_STYLE.get(e.level, "")
        rows.append(
            {
                "time": (fmt_clock(e.time), "pane--muted"),
                "level": ("" if e.level == "info" else e.level.upper(), style),
                "text": (e.text, style),
            }
        )
    return rows, list(range(len(rows)))


def account_rows(
    accounts: Sequence[AccountRow],
    totals: AccountTotals | None = None,
    facts: Mapping[str, AccountFacts] | None = None,
) -> Rows:
    """The accounts tab: one row per watched address and collateral token (``▶`` marks the
    one shown in detail), each address with its own age; totals per token when there is more
    than one address. Amounts of different tokens are never added: each token has its row.

    ``facts`` (#14): per address its mode, role and equity by the rules of the mode, shown on
    its first row (``total $`` in USD, the mode's ``risk`` ratio, the role after the label).
    Under a unified or portfolio-margin account the per-token perp equity and maintenance
    ratio are not balances: they show ``–``."""
    facts = facts or {}
    rows: list[dict[str, Cell]] = []
    keys: list[Hashable] = []
    for a in accounts:
        known = facts.get(a.address)
        spot_collateral = known is not None and known.figures.mode not in (
            None,
            AccountMode.STANDARD,
        )
        if a.state is FeedState.STALE:
            age: Cell = (f"{fmt_age(a.age_s)} STALE", "pane--bad")
        elif a.state is FeedState.FALLBACK:
            age = (f"{fmt_age(a.age_s)} REST", "pane--warn")
        elif a.state is FeedState.MISSING:
            age = ("waiting…", "pane--muted")
        else:
            age = (fmt_age(a.age_s), "pane--muted")
        head: dict[str, Cell] = {
            "sel": ("▶" if a.selected else "", "pane--accent"),
            "addr": (a.short_address, "pane--strong"),
            "label": ((a.label or "") + role_suffix(known.role if known else None), "pane--muted"),
            "age": age,
        }
        if known is not None:
            head |= account_fact_cells(known)
        if not a.tokens:
            ratio = a.margin_ratio_pct
            cells: dict[str, Cell] = {
                "equity": (fmt_money(a.account_value), ""),
                "margin": (fmt_money(a.total_margin_used), ""),
                "ratio": (f"{ratio}%" if ratio is not None else DASH, ""),
                "upnl": (fmt_money(a.total_upnl, sign=True), signed_style(a.total_upnl)),
                "npos": (str(a.positions) if a.positions is not None else DASH, ""),
            }
            if spot_collateral:  # the collateral is in spot: these are not balances
                cells |= {"equity": (DASH, "pane--muted"), "ratio": (DASH, "pane--muted")}
            rows.append(head | cells)
            keys.append(a.address)
            continue
        for i, t in enumerate(a.tokens):
            cells = _token_cells(t)
            if spot_collateral:  # the collateral is in spot: these are not balances
                cells |= {"equity": (DASH, "pane--muted"), "ratio": (DASH, "pane--muted")}
            rows.append((head if i == 0 else {}) | cells)
            keys.append(a.address if i == 0 else (a.address, t.token))
    if totals is not None and len(accounts) > 1:
        for i, t in enumerate(totals.by_token):
            cells = _token_cells(t)
            cells["equity"] = (cells["equity"][0], "pane--strong")
            head = {"addr": (f"total ({totals.accounts})", "pane--head")}
            if i == 0 and facts:
                head["usd"] = usd_total_cell(
                    [facts[a.address] for a in accounts if a.address in facts]
                )
            rows.append({**head, **cells})
            keys.append(("total", t.token))
    return rows, keys


def _token_cells(t: TokenTotal) -> dict[str, Cell]:
    """One collateral token's sums (``?``: dexes whose token is not known yet)."""
    ratio = t.margin_ratio_pct
    return {
        "token": (token_name(t.token), "pane--muted" if t.token is not None else "pane--warn"),
        "equity": (fmt_money(t.account_value), ""),
        "margin": (fmt_money(t.total_margin_used), ""),
        "ratio": (f"{ratio}%" if ratio is not None else DASH, ""),
        "upnl": (fmt_money(t.total_upnl, sign=True), signed_style(t.total_upnl)),
        "npos": (str(t.positions), ""),
    }
