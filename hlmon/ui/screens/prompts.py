"""Small modal prompts: ``AddCoinScreen`` asks for a coin to add to the watchlist.

What the user types is resolved against the exchange's market catalog before anything is
subscribed (one unlisted name drops the exchange's whole socket): ``eth`` is ``ETH``,
``xyz:tsla`` is ``xyz:TSLA``, ``hype/usdc`` the spot pair; a bare HIP-3 ticker lists the dexes
it trades on; an unknown name is refused with the closest listed names, and the prompt stays
open with the reason under the field.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog

NOT_LOADED = "the market catalog is not loaded yet: try again in a moment"


def resolve_coin(catalog: MarketCatalog | None, text: str) -> tuple[str | None, str]:
    """``(exact name, "")`` for typed input the catalog lists, else ``(None, why not)``."""
    if catalog is None:
        return None, NOT_LOADED
    res = catalog.resolve(text)
    if res.name is None:
        return None, res.message
    return res.name, ""


HINT = "enter: add   esc: cancel"
"""The prompt's hint line while no error stands."""


class AddCoinScreen(ModalScreen[str | None]):
    """Ask for a coin name; dismisses with the exact catalog name, or None when cancelled."""

    DEFAULT_CSS = """
    AddCoinScreen { align: center middle; }
    AddCoinScreen > Vertical {
        width: 60; height: auto; padding: 0 1;
        border: round $accent; background: $surface;
    }
    AddCoinScreen Label { width: 1fr; color: $text-muted; }
    AddCoinScreen Label.error { color: $error; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        """Where the market catalog is read from (at each submit: it may load meanwhile)."""

    def compose(self) -> ComposeResult:
        """A label, an input and a hint line (the error, when there is one)."""
        with Vertical() as box:
            box.border_title = "Add coin"
            yield Label("Coin to add to the watchlist:")
            yield Input(placeholder="e.g. DOGE, kPEPE, xyz:TSLA, HYPE/USDC", id="coin")
            yield Label(HINT, id="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Resolve and return the coin, or say why not and stay open."""
        name, error = resolve_coin(self.store.catalog, event.value)
        if name is None:
            hint = self.query_one("#hint", Label)
            hint.update(error)
            hint.add_class("error")
            return
        self.dismiss(name)

    def on_input_changed(self, _event: Input.Changed) -> None:
        """An error is about what was submitted: once the name is edited it no longer is."""
        hint = self.query_one("#hint", Label)
        if hint.has_class("error"):
            hint.update(HINT)
            hint.remove_class("error")

    def action_cancel(self) -> None:
        """Close without adding."""
        self.dismiss(None)
