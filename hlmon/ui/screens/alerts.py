"""``AddAlertScreen``: a small prompt that turns ``BTC > 110000`` into a price alert rule.

The coin is resolved against the exchange's market catalog once it is known (``btc`` is
``BTC``); an unknown one is refused and the prompt stays open.
"""

from __future__ import annotations

import dataclasses

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from hlmon.alerts import PriceCross, parse_price_rule
from hlmon.state import Store
from hlmon.ui.screens.prompts import resolve_coin


class AddAlertScreen(ModalScreen[PriceCross | None]):
    """Ask for a price alert; dismisses with the rule, or None when cancelled."""

    DEFAULT_CSS = """
    AddAlertScreen { align: center middle; }
    AddAlertScreen > Vertical {
        width: 52; height: auto; padding: 0 1;
        border: round $accent; background: $surface;
    }
    AddAlertScreen Label { width: 1fr; color: $text-muted; }
    AddAlertScreen Label.error { color: $error; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, example: str = "BTC > 110000", store: Store | None = None) -> None:
        super().__init__()
        self.example = example
        """Shown as the input's placeholder (the selected coin at its current mid)."""
        self.store = store
        """Where the market catalog is read from (None, or no catalog yet: the coin is taken
        as typed and checked when the catalog arrives)."""

    def compose(self) -> ComposeResult:
        """A label, an input and a hint line."""
        with Vertical() as box:
            box.border_title = "Add price alert"
            yield Label("Alert when the mid crosses a level:")
            yield Input(placeholder=f"e.g. {self.example}", id="alert")
            yield Label("COIN > PRICE or COIN < PRICE   enter: add   esc: cancel", id="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Parse and return the rule, or say what is wrong."""
        try:
            rule = parse_price_rule(event.value)
            catalog = self.store.catalog if self.store is not None else None
            if catalog is not None:
                name, error = resolve_coin(catalog, rule.coin)
                if name is None:
                    raise ValueError(error)
                rule = dataclasses.replace(rule, coin=name)
        except ValueError as exc:
            hint = self.query_one("#hint", Label)
            hint.update(str(exc))
            hint.add_class("error")
            return
        self.dismiss(rule)

    def action_cancel(self) -> None:
        """Close without adding."""
        self.dismiss(None)
