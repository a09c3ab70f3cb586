"""Columns, row builders and header parts for the rest of the account (#14): spot balances,
active TWAPs, fees per token, the account's mode, equity and risk ratio, its equity sparkline
and its role.

Every unknown value reads as unknown: a balance without a price shows ``?`` (no pair, or no
mid yet), a total that lacks some of its parts shows what is known followed by ``+?``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from hlmon.protocol.account_types import UserRole
from hlmon.state import try_dec
from hlmon.state.equity import AccountEquity, RatioKind
from hlmon.state.fees import FeeTotals
from hlmon.state.spot import SpotRow, SpotRowKind, SpotValuation
from hlmon.state.twap import TwapProgress
from hlmon.state.whole_account import EquityHistory, ModeReading, role_label
from hlmon.ui.fmt import (
    DASH,
    WAITING,
    as_listed,
    bar,
    fmt_age,
    fmt_money,
    fmt_num,
    fmt_px,
    fmt_size,
    sparkline,
)
from hlmon.ui.widgets.lines import Cell, Column

Rows = tuple[list[dict[str, Cell]], list[Hashable]]

UNKNOWN = "?"
"""A value hlmon cannot know from what it has (no price for the token)."""
PARTIAL = "+?"
"""Appended to a total some of whose parts are unknown."""
SPARK_WIDTH = 12
"""Samples drawn in the header's equity sparkline."""

SPOT_COLUMNS: tuple[Column, ...] = (
    Column("token", "token", 5, "left", priority=100),
    Column("total", "total", 5, "right", priority=95),
    Column("hold", "hold", 4, "right", priority=70),
    Column("value", "value $", 7, "right", priority=90),
    Column("px", "price $", 7, "right", priority=50),
    Column("entry", "cost $", 6, "right", priority=60),
    Column("upnl", "uPnL $", 6, "right", priority=80),
    Column("loan", "borrowed/supplied", 8, "right", priority=40),
    Column("via", "priced from", 6, "left", priority=20, cut=True),
    Column("_", "", 0, priority=0, flex=True),
)

TWAP_WAITING = "waiting for TWAP orders…"
TWAP_DERIVED = "~ from the TWAP history and slice fills (twapStates is websocket-only)"
"""The TWAP tab's footer when its rows are rebuilt (REST mode): the exchange has no REST call
for the running TWAPs' progress. Fits 80 columns."""
TWAP_PARTIAL = "~ from TWAP history and slice fills · ≥ at least: older slices not held"
"""The footer instead when a TWAP started before the oldest slice fill held. Fits 80 columns."""
TWAP_SLICES_WAITING = "~ from TWAP history and slice fills · … slice fills not loaded yet"
"""The footer while the history is in and the slice fills are not: progress unknown, not 0."""

TWAP_COLUMNS: tuple[Column, ...] = (
    Column("coin", "coin", 4, "left", priority=100),
    Column("side", "side", 4, "left", priority=95),
    Column("done", "executed / size", 8, "right", priority=90),
    Column("bar", "", 10, "left", priority=60),
    Column("pct", "%", 5, "right", priority=85),
    Column("avg", "avg px", 6, "right", priority=50),
    Column("left", "time left", 5, "right", priority=80),
    Column("flags", "", 0, "left", priority=40),
    Column("id", "id", 3, "right", priority=30),
    Column("_", "", 0, priority=0, flex=True),
)


def signed_style(value: str | None) -> str:
    """``pane--up`` for positive, ``pane--down`` for negative, else plain."""
    d = try_dec(value)
    if d is None or d == 0:
        return ""
    return "pane--up" if d > 0 else "pane--down"


def _token_name(row: SpotRow) -> str:
    """The catalog's name, with the on-chain one when it differs (``BTC (UBTC)``)."""
    if row.kind is SpotRowKind.TOKEN and row.name != row.coin:
        return f"{row.name} ({row.coin})"
    return row.name


def _usd(value: str | None, *, sign: bool = False) -> Cell:
    if value is None:
        return (UNKNOWN, "pane--warn")
    return (fmt_money(value, sign=sign), signed_style(value) if sign else "")


def spot_rows(valuation: SpotValuation) -> Rows:
    """One row per balance (outcome sides by name, settled ones raw); the total is the tab's
    footer (``spot_total_text``)."""
    rows: list[dict[str, Cell]] = []
    keys: list[Hashable] = []
    for r in valuation.rows:
        held = try_dec(r.hold)
        loan = ""
        if r.borrowed is not None or r.supplied is not None:
            loan = f"{fmt_size(r.borrowed or '0')} / {fmt_size(r.supplied or '0')}"
        row: dict[str, Cell] = {
            "token": (_token_name(r), "pane--strong"),
            "total": (fmt_size(r.total), ""),
            "hold": (fmt_size(r.hold) if held else DASH, "pane--muted"),
            "value": _usd(r.value_usd),
            "px": (
                fmt_px(r.price_usd) if r.price_usd is not None else UNKNOWN,
                "" if r.price_usd is not None else "pane--warn",
            ),
            "entry": (fmt_money(r.entry_ntl) if r.entry_ntl is not None else DASH, "pane--muted"),
            "upnl": (fmt_money(r.upnl_usd, sign=True), signed_style(r.upnl_usd))
            if r.upnl_usd is not None
            else (DASH, "pane--muted"),
            "loan": (loan, "pane--muted"),
            "via": (
                r.price_via or ("settled: no price" if r.kind is SpotRowKind.SETTLED else ""),
                "pane--muted",
            ),
        }
        rows.append(row)
        keys.append(r.coin)
    return rows, keys


def spot_total_text(valuation: SpotValuation) -> str:
    """The Spot tab's footer: ``total $12,345.67``; ``total $12,000.00+?`` while a held
    balance has no price (then it is at least that)."""
    if not valuation.rows:
        return ""
    if valuation.value_usd is not None:
        return f"total ${fmt_money(valuation.value_usd)}"
    unpriced = ", ".join(valuation.unpriced)
    return f"total ${fmt_money(valuation.known_usd)}{PARTIAL} (no price: {unpriced})"


def fmt_left(ms: int) -> str:
    """Time left of a TWAP: ``12m30s``; ``ending`` once its duration has passed."""
    return fmt_age(ms / 1000) if ms > 0 else "ending"


def twap_rows(twaps: Sequence[TwapProgress], shown: Callable[[str], str] = as_listed) -> Rows:
    """One row per active TWAP: executed / total size with a bar, average price, time left;
    its coin by the ``shown`` name (the catalog's: ``HYPE/USDC`` for ``@107``)."""
    rows: list[dict[str, Cell]] = []
    for t in twaps:
        buy = t.side == "B"
        fraction = try_dec(t.fraction)
        flags = [f for f, on in (("reduce only", t.reduce_only), ("randomized", t.randomize)) if on]
        if t.trigger_px is not None:
            flags.append(f"{'above' if t.trigger_above else 'below'} {fmt_px(t.trigger_px)}")
        # Rebuilt from slice fills (REST mode): ``~``; maybe missing older slices: ``≥``.
        mark = "≥" if t.partial else "~" if t.derived else ""
        avg = fmt_px(try_dec(t.average_px))
        progress: tuple[Cell, Cell, Cell, Cell] = (
            (f"{mark}{fmt_size(t.executed)} / {fmt_size(t.size)}", ""),
            (bar(float(fraction), 10) if fraction is not None else "", "pane--accent"),
            (f"{mark}{t.percent}%" if t.percent is not None else DASH, ""),
            # A quotient, not a price as sent: at the exchange's precision, not widened to
            # every digit the division produced (``428.06946667``).
            (f"~{avg}" if t.derived and avg != DASH else avg, ""),
        )
        if t.slices_waiting:  # no slice fills answered yet: unknown, not zero
            waiting: Cell = (WAITING, "pane--muted")
            progress = ((f"{WAITING} / {fmt_size(t.size)}", ""), ("", ""), waiting, waiting)
        done, bar_cell, pct, avg_cell = progress
        rows.append(
            {
                "coin": (shown(t.coin), "pane--strong"),
                "side": ("Buy" if buy else "Sell", "pane--up" if buy else "pane--down"),
                "done": done,
                "bar": bar_cell,
                "pct": pct,
                "avg": avg_cell,
                "left": (fmt_left(t.time_left_ms), ""),
                "flags": (", ".join(flags), "pane--muted"),
                "id": (str(t.twap_id), "pane--muted"),
            }
        )
    return rows, [(t.dex, t.twap_id) for t in twaps]


def twap_footer(twaps: Sequence[TwapProgress]) -> str:
    """What the marks of rebuilt rows mean, when there are any."""
    if not any(t.derived for t in twaps):
        return ""
    if any(t.slices_waiting for t in twaps):
        return TWAP_SLICES_WAITING
    return TWAP_PARTIAL if any(t.partial for t in twaps) else TWAP_DERIVED


def fee_summary(totals: FeeTotals) -> str:
    """``fees 1.2345 USDC · 0.5 USDH`` (each token on its own, never added together), and how
    many fills did not say their fee."""
    tokens = sorted(totals.by_token, key=lambda t: (t != "USDC", t))  # USDC first
    parts = [f"{fmt_num(totals.by_token[t], 4)} {t}" for t in tokens]
    text = "fees " + " · ".join(parts) if parts else ""
    if totals.unknown:
        unknown = f"{totals.unknown} fill{'s' * (totals.unknown != 1)} without fee"
        text = f"{text} · {unknown}" if text else unknown
    return text


def fee_text(fee: str, token: str, fee_known: bool) -> str:
    """A fill's fee with its token when it is not USDC (``0.0021 USDH``); ``?`` when the
    exchange did not say it."""
    if not fee_known:
        return UNKNOWN
    amount = fmt_num(fee, 4)
    return amount if token == "USDC" else f"{amount} {token}"


# --------------------------------------------------------------------------- the header

RATIO_SHORT = {
    RatioKind.CROSS_MAINTENANCE: "maint",
    RatioKind.UNIFIED: "UA ratio",
    RatioKind.PORTFOLIO_MARGIN: "PM ratio",
}


def mode_cells(reading: ModeReading | None) -> tuple[Cell, ...]:
    """``mode: unified``; ``mode: …`` until it is read."""
    if reading is None:
        return (("mode: ", "pane--muted"), (WAITING, "pane--muted"))
    style = "" if reading.mode is not None else "pane--warn"
    return (("mode: ", "pane--muted"), (reading.label, style))


def equity_cells(figures: AccountEquity, compact: bool) -> tuple[Cell, ...]:
    """``equity 1,234.56`` by the rules of the mode; ``12.00+?`` when some part is unknown;
    ``…`` until the mode and the states are in."""
    label: Cell = ("eq " if compact else "equity ", "pane--muted")
    if figures.equity_usd is not None:
        return (label, (fmt_money(figures.equity_usd), "pane--strong"))
    if figures.mode is None or try_dec(figures.known_usd) in (None, 0):
        return (label, (WAITING, "pane--muted"))
    return (label, (fmt_money(figures.known_usd) + PARTIAL, "pane--warn"))


def ratio_cells(figures: AccountEquity) -> tuple[Cell, ...] | None:
    """``UA ratio 1.23%``; a portfolio-margin ratio past 95 % is marked ``!!``."""
    if figures.ratio_kind is None:
        return None
    name = RATIO_SHORT[figures.ratio_kind]
    pct = figures.ratio_pct
    if pct is None:
        return ((f"{name} ", "pane--muted"), (WAITING, "pane--muted"))
    style = "pane--bad" if figures.liquidatable else ""
    mark = " !!" if figures.liquidatable else ""
    return ((f"{name} ", "pane--muted"), (f"{pct}%{mark}", style))


def span_text(ms: int) -> str:
    """``22h``, ``6d``: how much time a sparkline covers."""
    hours = ms / 3_600_000
    if hours < 48:
        return f"{max(1, round(hours))}h"
    return f"{round(hours / 24)}d"


def history_cells(history: EquityHistory | None) -> tuple[Cell, ...] | None:
    """The equity sparkline with its span (``▁▃▅▇ 6d``); None without samples."""
    if history is None or len(history.points) < 2:
        return None
    values = [v for _, text in history.points[-SPARK_WIDTH:] if (v := _float(text)) is not None]
    if len(values) < 2:
        return None
    covered = history.points[-1][0] - history.points[-min(SPARK_WIDTH, len(history.points))][0]
    return (
        (sparkline(values, SPARK_WIDTH), "pane--accent"),
        (f" {span_text(covered)}", "pane--muted"),
    )


def _float(text: str) -> float | None:
    d = try_dec(text)
    return float(d) if d is not None and d.is_finite() else None


def role_cells(role: UserRole | None) -> tuple[Cell, ...] | None:
    """``vault`` / ``sub-account`` in the header; an agent wallet or an unknown address in
    warning colour (they show an empty account)."""
    label = role_label(role)
    if label is None or role is None:
        return None
    warn = role.role in ("agent", "missing")
    return ((label, "pane--warn" if warn else "pane--accent"),)


# --------------------------------------------------------------------------- the Accounts tab


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the Accounts tab shows of one watched account beside its per-token perp rows."""

    mode: ModeReading | None
    role: UserRole | None
    figures: AccountEquity


def account_fact_cells(facts: AccountFacts) -> dict[str, Cell]:
    """``mode``, ``total $`` (equity by the rules of the mode, in USD) and ``risk`` (the
    mode's ratio: worst dex, unified account ratio or portfolio-margin ratio) for an
    account's first row."""
    figures = facts.figures
    if figures.equity_usd is not None:
        total: Cell = (fmt_money(figures.equity_usd), "pane--strong")
    elif figures.mode is not None and try_dec(figures.known_usd) not in (None, 0):
        total = (fmt_money(figures.known_usd) + PARTIAL, "pane--warn")
    else:
        total = (WAITING, "pane--muted")
    risk: Cell = (WAITING, "pane--muted")
    if figures.ratio_kind is not None and figures.ratio_pct is not None:
        short = RATIO_SHORT[figures.ratio_kind].removesuffix(" ratio")
        mark = " !!" if figures.liquidatable else ""
        risk = (f"{short} {figures.ratio_pct}%{mark}", "pane--bad" if figures.liquidatable else "")
    mode: Cell = (WAITING, "pane--muted")
    if facts.mode is not None:
        mode = (facts.mode.label, "" if facts.mode.mode is not None else "pane--warn")
    return {"mode": mode, "usd": total, "risk": risk}


def role_suffix(role: UserRole | None) -> str:
    """`` · vault`` / `` · sub-account`` / `` · agent wallet`` after a label; ``""`` for a
    plain user or a role not read yet."""
    label = role_label(role)
    return f" · {label}" if label else ""


def usd_total_cell(all_facts: Sequence[AccountFacts]) -> Cell:
    """The USD total of every account's equity by its mode (``+?`` while one is partial)."""
    total = Decimal(0)
    partial = False
    for facts in all_facts:
        value = try_dec(facts.figures.equity_usd)
        if value is None:
            partial = True
            value = try_dec(facts.figures.known_usd) or Decimal(0)
        total += value
    text = fmt_money(total) + (PARTIAL if partial else "")
    return (text, "pane--warn" if partial else "pane--strong")
