"""The alerts view's rows: every rule with its kind, target, condition, state, last value and
last fire time, from ``AlertEngine.status()``.

Kinds are named as in ``config.toml`` (``price``, ``data_lag``...), so what the view shows is
what the file says. States (``hlmon.alerts.engine.RuleState``) are coloured by urgency: fired
red, held yellow, cooling with the seconds left, armed green, waiting and disabled dimmed.
"""

from __future__ import annotations

from collections.abc import Sequence

from hlmon.alerts import (
    RULE_KINDS,
    AlertRule,
    AnyFill,
    DataLag,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    RuleStatus,
    UpnlBeyond,
)
from hlmon.alerts.check import fmt_level
from hlmon.state.decimals import fmt_dec
from hlmon.ui.fmt import DASH, fmt_age, fmt_clock
from hlmon.ui.widgets.lines import Cell, Column

ALERT_COLUMNS: tuple[Column, ...] = (
    Column("on", "", 1, "left", priority=100),
    Column("kind", "kind", 4, "left", priority=90),
    Column("target", "target", 6, "left", priority=95),
    Column("condition", "condition", 9, "left", priority=98),
    Column("state", "state", 5, "left", priority=99),
    Column("value", "last value", 10, "left", priority=85, cut=True),
    Column("fired", "last fired", 8, "left", priority=80),
    Column("count", "×", 1, "right", priority=40),
    Column("_", "", 0, priority=0, flex=True),
)
"""The alerts view's columns (the narrow view drops the fire count, then the times)."""

KIND_OF: dict[type, str] = {cls: kind for kind, cls in RULE_KINDS.items()}
"""Rule class -> its config ``kind``."""

STATE_STYLES = {
    "fired": "pane--bad",
    "held": "pane--warn",
    "cooling": "pane--accent",
    "armed": "pane--up",
    "waiting": "pane--muted",
    "disabled": "pane--muted",
}


def rule_kind(rule: AlertRule) -> str:
    """The rule's ``kind`` as ``config.toml`` writes it."""
    return KIND_OF.get(type(rule), type(rule).__name__)


def rule_target(rule: AlertRule) -> str:
    """What the rule watches: a coin, the account, a feed."""
    if isinstance(rule, PriceCross):
        return rule.coin
    if isinstance(rule, LiqDistance):
        return rule.coin or "any position"
    if isinstance(rule, DataLag):
        return rule.feed or "every feed"
    if isinstance(rule, DeadMan):
        return "every feed"
    return "account"


def rule_condition(rule: AlertRule) -> str:
    """The rule's condition in a few words, after its kind and target (``> 110,000``)."""
    if isinstance(rule, PriceCross):
        return f"mid {'>' if rule.direction == 'above' else '<'} {fmt_level(rule.level)}"
    if isinstance(rule, LiqDistance):
        return f"< {fmt_dec(rule.below_pct)}% from liq"
    if isinstance(rule, MarginRatio):
        return f"ratio > {fmt_dec(rule.above_pct)}%"
    if isinstance(rule, UpnlBeyond):
        parts = []
        if rule.above is not None:
            parts.append(f"> {fmt_level(rule.above)}")
        if rule.below is not None:
            parts.append(f"< {fmt_level(rule.below)}")
        return " or ".join(parts)
    if isinstance(rule, AnyFill):
        return "any new fill"
    if isinstance(rule, Liquidated):
        return "liquidated"
    if isinstance(rule, DeadMan):
        return f"stale > {rule.stale_for_s:g} s"  # (with positions open: the value says)
    return f"behind > {rule.lag_s:g} s"


def alert_rows(
    statuses: Sequence[RuleStatus], now: float
) -> tuple[list[dict[str, Cell]], list[str]]:
    """Table rows and their keys (the rule ids), in the engine's order."""
    rows: list[dict[str, Cell]] = []
    for st in statuses:
        rule = st.rule
        state = st.state
        text: str = state
        if st.cooling_until is not None and state == "cooling":
            text = f"cooling {fmt_age(st.cooling_until - now)}"
        dim = "pane--muted" if state == "disabled" else ""
        fired = fmt_clock(st.last_fired) if st.last_fired is not None else DASH
        rows.append(
            {
                "on": ("·" if state == "disabled" else "●", STATE_STYLES[state]),
                "kind": (rule_kind(rule), dim or "pane--muted"),
                "target": (rule_target(rule), dim or "pane--strong"),
                "condition": (rule_condition(rule), dim),
                "state": (text, STATE_STYLES[state]),
                "value": (st.value or DASH, dim),
                "fired": (fired, dim or "pane--muted"),
                "count": (str(st.fired) if st.fired else "", dim),
            }
        )
    return rows, [st.rule_id for st in statuses]
