"""``AlertEditScreen``: the form that adds or edits an alert rule of any kind.

One field per key of the rule's ``[[alerts.rules]]`` table, checked by the same parser as the
config file (``hlmon.alerts.settings.parse_rule``), so the form accepts exactly what the file
does and says what is wrong in the same words. A coin is resolved against the exchange's market
catalog once it is known (``btc`` is ``BTC``; an unknown one is refused, the form stays open).
A field holding what looks like a private key is emptied at once and never shown or logged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from hlmon.alerts import (
    RULE_KINDS,
    AlertConfigError,
    AlertRule,
    DataLag,
    DeadMan,
    LiqDistance,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
)
from hlmon.alerts.settings import parse_rule
from hlmon.keyguard import looks_like_key
from hlmon.state import Store
from hlmon.state.decimals import fmt_dec
from hlmon.ui.screens.prompts import resolve_coin
from hlmon.ui.widgets.alerts_table import rule_kind


@dataclass(frozen=True)
class Field:
    """One input of the form: a key of the rule's config table."""

    key: str
    label: str
    placeholder: str
    number: bool = True


FIELDS: dict[str, tuple[Field, ...]] = {
    "price": (
        Field("coin", "coin", "e.g. BTC, xyz:TSLA, HYPE/USDC", number=False),
        Field("above", "above", "a price: the mid rises above it"),
        Field("below", "below", "or a price: the mid falls below it"),
    ),
    "liq_distance": (
        Field("below_pct", "below %", "distance to liquidation, % of mark, e.g. 10"),
        Field("coin", "coin", "blank: every position", number=False),
    ),
    "margin_ratio": (Field("above_pct", "above %", "the mode's risk ratio, e.g. 80"),),
    "upnl": (
        Field("above", "above USD", "total uPnL above (blank: none)"),
        Field("below", "below USD", "total uPnL below, e.g. -500"),
    ),
    "fill": (),
    "liquidation": (),
    "deadman": (Field("stale_for_s", "stale for s", "seconds a feed is stale, e.g. 30"),),
    "data_lag": (
        Field("lag_s", "behind s", "seconds the data is behind, e.g. 10"),
        Field("feed", "feed", "blank: every feed; or mids, book, account, book:BTC", False),
    ),
}
"""The form's fields per rule kind, in config key order."""

ABOUT: dict[str, str] = {
    "price": "the mid price crosses a level (exactly one of above / below)",
    "liq_distance": "a position gets closer to its liquidation price than a percent of mark",
    "margin_ratio": "the account's liquidation-risk ratio, by its mode, rises above a percent",
    "upnl": "total unrealised PnL goes above and/or below an amount",
    "fill": "any new fill of the watched account",
    "liquidation": "the watched account itself is liquidated",
    "deadman": "a feed stale for this long while positions are open",
    "data_lag": "a feed's data more than this many seconds behind (no update, or late ones)",
}


def rule_fields(rule: AlertRule) -> dict[str, str]:
    """The form's field texts for an existing rule (its config table, as typed)."""
    if isinstance(rule, PriceCross):
        return {"coin": rule.coin, rule.direction: fmt_dec(rule.level)}
    if isinstance(rule, LiqDistance):
        return {"below_pct": fmt_dec(rule.below_pct), "coin": rule.coin or ""}
    if isinstance(rule, MarginRatio):
        return {"above_pct": fmt_dec(rule.above_pct)}
    if isinstance(rule, UpnlBeyond):
        return {
            key: fmt_dec(value)
            for key, value in (("above", rule.above), ("below", rule.below))
            if value is not None
        }
    if isinstance(rule, DeadMan):
        return {"stale_for_s": f"{rule.stale_for_s:g}"}
    if isinstance(rule, DataLag):
        return {"lag_s": f"{rule.lag_s:g}", "feed": rule.feed or ""}
    return {}


def _typed_number(text: str) -> Any:
    """``"110,000"`` -> 110000, ``"0.5"`` -> 0.5; anything else stays text (the parser then
    says what it expected)."""
    clean = text.replace(",", "").replace("_", "")
    try:
        d = Decimal(clean)
    except InvalidOperation:
        return text
    if not d.is_finite():
        return text
    return int(d) if d == d.to_integral_value() and "." not in clean else float(clean)


class AlertEditScreen(ModalScreen[AlertRule | None]):
    """Add (``rule=None``) or edit a rule; dismisses with the new rule, or None."""

    DEFAULT_CSS = """
    AlertEditScreen { align: center middle; }
    AlertEditScreen > Vertical {
        width: 74; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: round $accent; background: $surface;
    }
    AlertEditScreen Label { width: 1fr; color: $text-muted; }
    AlertEditScreen Label.error { color: $error; }
    AlertEditScreen .field { height: 3; }
    AlertEditScreen .field Label { width: 13; padding: 1 1 0 0; color: $text; }
    AlertEditScreen .field Input { width: 1fr; }
    AlertEditScreen .group { height: auto; }
    AlertEditScreen #kind { width: 1fr; }
    AlertEditScreen #buttons { height: 3; align-horizontal: right; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "save", "save", priority=True),
    ]

    def __init__(
        self,
        store: Store,
        rule: AlertRule | None = None,
        *,
        taken: frozenset[str] = frozenset(),
        coin: str | None = None,
    ) -> None:
        """
        Args:
            store: where the market catalog is read from (at each save: it may load meanwhile).
            rule: the rule to edit, None to add one.
            taken: ids of the other rules (the same rule twice is refused).
            coin: the coin to offer for a new price rule (the selected one).
        """
        super().__init__()
        self.store = store
        self.rule = rule
        self.taken = taken
        self.kind = rule_kind(rule) if rule is not None else "price"
        self._values = rule_fields(rule) if rule is not None else {"coin": coin or ""}

    def compose(self) -> ComposeResult:
        """The kind, its fields (only the chosen kind's shown), a hint line, save/cancel."""
        with Vertical() as box:
            box.border_title = "Edit alert" if self.rule is not None else "Add alert"
            options = [(kind, kind) for kind in RULE_KINDS]
            yield Select(options, value=self.kind, allow_blank=False, id="kind")
            yield Label(ABOUT[self.kind], id="about", markup=False)
            for kind, fields in FIELDS.items():
                with Vertical(id=f"group-{kind}", classes="group") as group:
                    group.display = kind == self.kind
                    for f in fields:
                        value = self._values.get(f.key, "") if kind == self.kind else ""
                        with Horizontal(classes="field"):
                            yield Label(f.label)
                            yield Input(value, placeholder=f.placeholder, id=f"{kind}--{f.key}")
            yield Label(
                "enter or ctrl+s: save   tab: next field   esc: cancel", id="hint", markup=False
            )
            with Horizontal(id="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start in the first field (the kind, for a rule without fields)."""
        self._focus_first()

    def _focus_first(self) -> None:
        fields = FIELDS[self.kind]
        if fields:
            self.query_one(f"#{self.kind}--{fields[0].key}", Input).focus()
        else:
            self.query_one("#save", Button).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        """Another kind: show its fields."""
        kind = str(event.value)
        if kind not in FIELDS or kind == self.kind:
            return
        self.query_one(f"#group-{self.kind}").display = False
        self.kind = kind
        self.query_one(f"#group-{kind}").display = True
        self.query_one("#about", Label).update(ABOUT[kind])
        self._say("enter or ctrl+s: save   tab: next field   esc: cancel", error=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A private key pasted into a field is taken out at once (never kept on screen)."""
        if looks_like_key(event.value):
            event.input.value = ""
            self._say("that looks like a private key: removed. hlmon never needs one", error=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field saves."""
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        """Check the fields like the config file; dismiss with the rule, or say what is
        wrong and stay open."""
        try:
            rule = self._rule()
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self.dismiss(rule)

    def _rule(self) -> AlertRule:
        table: dict[str, Any] = {"kind": self.kind}
        for f in FIELDS[self.kind]:
            text = self.query_one(f"#{self.kind}--{f.key}", Input).value.strip()
            if text:
                table[f.key] = _typed_number(text) if f.number else text
        if self.rule is not None and not self.rule.enabled:
            table["enabled"] = False  # an edit keeps a rule switched off
        try:
            rule = parse_rule(table, lambda key: key or "the rule")
        except AlertConfigError as exc:
            raise ValueError(str(exc)) from None
        catalog = self.store.catalog
        # No catalog yet: the coin is checked when it arrives (AlertEngine.check_coins).
        if isinstance(rule, PriceCross | LiqDistance) and rule.coin and catalog is not None:
            name, error = resolve_coin(catalog, rule.coin)
            if name is None:
                raise ValueError(error)
            rule = dataclasses.replace(rule, coin=name)
        if rule.rule_id in self.taken:
            raise ValueError(f"the same rule already exists: {rule.rule_id}")
        return rule

    def _say(self, text: str, *, error: bool) -> None:
        hint = self.query_one("#hint", Label)
        hint.update(text)
        hint.set_class(error, "error")

    def action_cancel(self) -> None:
        """Close without a change."""
        self.dismiss(None)
