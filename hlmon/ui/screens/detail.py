"""A box showing one table row whole (``enter`` on a focused table): a log line or an order
is never only readable up to the ``…`` where its column ended."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hlmon.ui.widgets.pane_render import visible


class RowDetailScreen(ModalScreen[None]):
    """The full text of one row, wrapped; ``esc``, ``enter`` or ``q`` closes it."""

    DEFAULT_CSS = """
    RowDetailScreen { align: center middle; }
    RowDetailScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, text: str, *, title: str = "row") -> None:
        super().__init__()
        self.text = text
        """The row, one labelled cell per line."""
        self.heading = title
        """What the row is (``orders``, ``events``)."""

    def compose(self) -> ComposeResult:
        """The text in a scrollable box (markup off: exchange text is shown as is)."""
        with VerticalScroll() as box:
            box.border_title = self.heading
            box.border_subtitle = "esc closes"
            shown = "\n".join(visible(line) for line in self.text.split("\n"))
            yield Static(shown, id="row-text", markup=False)

    def action_close(self) -> None:
        """Close the box."""
        self.dismiss(None)
