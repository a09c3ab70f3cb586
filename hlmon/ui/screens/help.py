"""The ``?`` help screen: every key of the screen it was opened from (from ``hlmon.ui.keymap``,
those the footer hides too); over the dashboard also how to make copy work in tmux and what the
status bar and panel titles mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static

from hlmon.ui.keymap import ScreenName, help_rows

COPY_IN_TMUX: tuple[str, ...] = (
    "y copies with OSC 52: the terminal writes the clipboard, over SSH too; nothing comes back,",
    "so hlmon cannot see whether it arrived. In tmux add to ~/.tmux.conf:",
    "  set -g set-clipboard on       (the default, external, drops what programs send)",
    "and, if the terminal outside tmux is not xterm-like (tmux 3.2+; use its $TERM):",
    "  set -as terminal-features ',alacritty:clipboard'",
    "Nested tmux: both need set-clipboard on, and the inner one",
    "  set -as terminal-features ',tmux*:clipboard,screen*:clipboard'",
    "allow-passthrough is not needed for y (a plain OSC 52); it is for desktop notifications.",
    "In tmux, y says whether tmux passes the copy on (hlmon asks tmux at start).",
)
"""How to make ``y`` reach the clipboard under tmux (the README says the same)."""

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
    ("⇄ REST", "REST mode (websocket off by choice): 4s/15s = age / planned poll interval"),
    ("–", "feed never received yet"),
    ("24h ▁▃▅▇", "watchlist: the last 24 h of 1 h candles (… until they are loaded)"),
)

HEADER: tuple[tuple[str, str], ...] = (
    ("mode: standard", "each perp dex its own pool; equity = the pools + spot, in USD"),
    ("mode: unified", "collateral in spot; equity = spot balances + the positions' uPnL"),
    ("mode: portfolio margin", "as unified, with borrowing; PM ratio > 95% = liquidatable"),
    ("equity 1,200.00+?", "a part could not be valued (a token without a price): at least"),
    ("▁▃▅▇ 6d", "equity history (exchange samples, hours apart) and the span it covers"),
    ("margin M (P% of equity)", "margin in use, and its share of the account value"),
    ("maint R%", "worst dex: cross maintenance margin / cross account value (100% = liq.)"),
    ("UA ratio R%", "unified account ratio: cross maintenance / spot collateral"),
    ("PM ratio R%", "the exchange's portfolio margin ratio (liquidatable above 95%)"),
    ("uPnL", "the sum of the positions' uPnL at the marks they show"),
    ("equity", "by the mode (above), moved by the same marks as uPnL"),
    ("agent wallet", "an API wallet: no account of its own (shift+w watches its master)"),
)

GLYPHS: tuple[tuple[str, str], ...] = (
    ("…", "waiting for the first data of this value's feed"),
    ("–", "no such value (no liquidation price, no trigger)"),
    ("▲ ▼", "the mid moved up / down (watchlist)"),
    ("B  S", "trade tape: a buyer lifted the ask / a seller hit the bid"),
    ("+ -", "gain / loss (PnL, ROE, funding): the sign, not only the colour"),
    ("!  !!", "liquidation closer than 15% / 5% of the mark"),
    ("≈104,412.5", "a position's mark is the mid (the mark price is not fresh)"),
    ("~104,400", "a position's mark is its value / size from the last account update"),
    ("└ TP / SL", "the take-profit and stop triggers protecting a position"),
    ("└ Stop Market", "a TP/SL leg of the order above it (Orders tab)"),
    ("triggered", "a stop/TP order whose trigger fired: it now rests on the book"),
    ("status X?", "an order status hlmon does not know: kept until the next snapshot"),
    ("TWAP 12", "a fill that is a slice of TWAP order 12 (Fills tab)"),
    ("LIQ", "a fill of a liquidation (this account's, or one it took over)"),
    ("?", "unknown: no price for this token, or a fee the exchange did not state"),
    ("below / above X", "a trigger order's condition; 'triggered X' once it fired"),
    ("RO  pos", "reduce only; a position TP/SL (its size follows the position)"),
    ("agg", "book aggregated and no bbo: no true spread to show"),
    ("▼ 6 more", "rows below the pane's edge (tab, then ↑ ↓ to scroll)"),
    ("1.40M 950.8K", "abbreviated amounts: 2 decimals below 10 of the unit, else 1"),
)


TITLES: dict[ScreenName, str] = {
    "dashboard": "hlmon help",
    "market": "hlmon help: markets",
    "alerts": "hlmon help: alerts",
}
CLOSE_HINT = "[dim]esc, q or ? closes this screen[/dim]"


def _keys(rows: list[tuple[str, str]]) -> list[str]:
    return [f"  [b]{escape(key):<12}[/b] {what}" for key, what in rows]


def help_text(screen: ScreenName = "dashboard") -> str:
    """The help screen's content as markup: the keys of ``screen`` (then, over the dashboard,
    the legends)."""
    if screen != "dashboard":
        lines = ["[b]Keys[/b] (the footer shows those that fit; these are all of them)", ""]
        lines += _keys(help_rows(screen, only=screen))
        lines += ["", "[b]Everywhere[/b]", ""]
        lines += _keys(help_rows(screen, only="app"))
        return "\n".join([*lines, "", CLOSE_HINT])
    lines = ["[b]Keys[/b] (the footer shows those that fit; these are all of them)", ""]
    lines += _keys(help_rows())
    lines += ["", "[b]Copy (y) under tmux[/b]", ""]
    lines += [f"  {escape(line)}" for line in COPY_IN_TMUX]
    lines += ["", "[b]Status bar and panel titles[/b]", ""]
    lines += [f"  [b]{key:<18}[/b] {what}" for key, what in LEGEND]
    lines += ["", "A stale panel is dimmed and its title says STALE with the age.", ""]
    lines += ["[b]Header[/b]", ""]
    lines += [f"  [b]{key:<24}[/b] {what}" for key, what in HEADER]
    lines += ["", "[b]Marks in the panels[/b] (they read the same without colour)", ""]
    lines += [f"  [b]{escape(key):<18}[/b] {what}" for key, what in GLYPHS]
    lines += [""]
    lines += [CLOSE_HINT]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys of the screen it was opened from (and, over the dashboard,
    the freshness legend)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 104; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def __init__(self, screen: ScreenName = "dashboard") -> None:
        """``screen``: whose keys to list (the screen ``?`` was pressed on)."""
        super().__init__()
        self.keys_of: ScreenName = screen

    def compose(self) -> ComposeResult:
        """The help text in a scrollable box."""
        with VerticalScroll() as box:
            box.border_title = TITLES[self.keys_of]
            yield Static(help_text(self.keys_of), id="help-text")

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)
