"""The ``?`` help screen: every key, and what the status bar and panel titles mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓  k j", "select coin (book and trades follow)"),
    ("a", "add a coin to the watchlist"),
    ("d", "remove the selected coin"),
    ("1 - 5", "Orders, Fills, Funding, Log, Accounts tab"),
    ("u  U", "next / previous watched account (detail panels follow)"),
    ("tab", "focus the orders table (↑ ↓ move its cursor)"),
    ("f", "book: fast (5 levels, 0.5 s) / full (20 levels)"),
    ("g", "book: cycle price aggregation (none, 5, 4, 3, 2 sig figs)"),
    ("b", "book / trades (compact layout)"),
    ("y", "copy the address (or the focused order's id) via OSC 52"),
    ("A", "add a price alert (e.g. BTC > 110000); more kinds in config.toml"),
    ("t", "next theme"),
    ("ctrl+p", "command palette"),
    ("?", "this help"),
    ("q", "quit"),
)

LEGEND: tuple[tuple[str, str], ...] = (
    ("● LIVE", "websocket connected and proven alive"),
    ("◌ RECONNECTING n", "attempt n since the connection was lost, and the delay before it"),
    ("✖ DOWN  why", "not connected, and why in short (the Log has the full error)"),
    ("0.4s", "age of a feed's last update"),
    ("quiet", "event feed, nothing new on a live socket: not a fault"),
    ("18s STALE", "no update past the feed's cadence: data may be wrong"),
    ("LAG 3.0s", "updates arrive, but 3 s older than usual (exchange timestamps)"),
    ("ctx STALE 32s", "only that part of the panel is stale (its cells are greyed)"),
    ("REST", "kept fresh by the REST fallback (websocket out)"),
    ("–", "feed never received yet"),
)

MARKS: tuple[tuple[str, str], ...] = (
    ("104,412.5", "a position's mark: the exchange's mark price"),
    ("≈104,412.5", "the mid, used while the mark price is not fresh"),
    ("~104,400", "positionValue / size from the last account update (no fresher price)"),
    ("uPnL, equity", "header: the sum of the rows' uPnL at these marks; equity moves with it"),
)


def help_text() -> str:
    """The help screen's content as markup."""
    lines = ["[b]Keys[/b]", ""]
    lines += [f"  [b]{key:<12}[/b] {what}" for key, what in KEYS]
    lines += ["", "[b]Status bar and panel titles[/b]", ""]
    lines += [f"  [b]{key:<18}[/b] {what}" for key, what in LEGEND]
    lines += ["", "A stale panel is dimmed and its title says STALE with the age.", ""]
    lines += ["[b]Marks[/b]", ""]
    lines += [f"  [b]{key:<18}[/b] {what}" for key, what in MARKS]
    lines += [""]
    lines += ["[dim]esc, q or ? closes this screen[/dim]"]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys and the freshness legend."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        """The help text in a scrollable box."""
        with VerticalScroll() as box:
            box.border_title = "hlmon help"
            yield Static(help_text(), id="help-text")

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)
