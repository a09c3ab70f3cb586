"""Small modal prompts: ``AddCoinScreen`` asks for a coin to add to the watchlist."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

COIN_RE = re.compile(r"^(@\d+|[A-Za-z0-9]{1,20}(:[A-Za-z0-9]{1,20})?|[A-Za-z0-9]+/[A-Za-z0-9]+)$")
"""Perp names (``BTC``, ``kPEPE``), HIP-3 names (``xyz:AAPL``), spot (``@107``, ``PURR/USDC``)."""


def normalise_coin(text: str) -> str | None:
    """Clean up a typed coin name; None when it cannot be a coin.

    All-lowercase input is upper-cased (``doge`` -> ``DOGE``); mixed case is kept as typed,
    because some names are mixed case on the exchange (``kPEPE``).
    """
    coin = text.strip()
    if not coin or not COIN_RE.match(coin):
        return None
    if coin.islower():
        coin = coin.upper()
    return coin


class AddCoinScreen(ModalScreen[str | None]):
    """Ask for a coin name; dismisses with the name, or None when cancelled."""

    DEFAULT_CSS = """
    AddCoinScreen { align: center middle; }
    AddCoinScreen > Vertical {
        width: 44; height: auto; padding: 0 1;
        border: round $accent; background: $surface;
    }
    AddCoinScreen Label { width: 1fr; color: $text-muted; }
    AddCoinScreen Label.error { color: $error; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        """A label, an input and a hint line."""
        with Vertical() as box:
            box.border_title = "Add coin"
            yield Label("Coin to add to the watchlist:")
            yield Input(placeholder="e.g. DOGE, kPEPE, xyz:AAPL", id="coin")
            yield Label("enter: add   esc: cancel", id="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Validate and return the coin."""
        coin = normalise_coin(event.value)
        if coin is None:
            hint = self.query_one("#hint", Label)
            hint.update(f"not a coin name: {event.value.strip()!r}")
            hint.add_class("error")
            return
        self.dismiss(coin)

    def action_cancel(self) -> None:
        """Close without adding."""
        self.dismiss(None)
