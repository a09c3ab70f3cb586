"""Every key of the app and the dashboard in one table: its binding, its footer entry, its help.

Each ``Key`` row is one Textual binding (``bindings("dashboard")`` builds ``Dashboard.BINDINGS``,
``bindings("app")`` the app's), one footer entry when it has a ``rank``, and one line of the
``?`` help when it has ``help``. The footer (``hlmon.ui.widgets.key_footer.KeyFooter``) shows
the entries that fit the terminal's width, lowest rank first, in table order; ``?`` lists every
row, those the footer hides included.

The market screen (``m``) and the alerts view (``!``) have rows of their own (``screen=``):
their footer and their ``?`` show their rows first, then the app's that work there.

Adding a key, bound on the dashboard:

1. a row here, where it belongs in the order the footer shows (say ``z`` to maximise)::

       Key("z", "maximise", "zoom", rank=5, help="maximise the focused panel, again to restore")

   ``rank`` 1 shows first (quit, help), 9 last; None: only in ``?``. ``screen="app"`` binds it
   on the app instead (works on every screen, unless ``elsewhere=False``), ``screen="market"``
   on the market screen; ``layout="-compact"`` shows it in the footer only
   while the dashboard has that class (the key means nothing in the other layout);
2. ``action_maximise`` on that screen. A key that does nothing in some state says so
   (``self.notify(...)``) instead of doing nothing.

The binding, the footer entry and the help line follow from the row; ``tests/ui/test_keys.py``
checks that every binding of every screen has a row and that every row is documented in
that screen's ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Where = Literal["app", "dashboard", "market", "alerts"]
"""Which screen's BINDINGS the key goes in (``app``: the app's, active on every screen)."""
ScreenName = Literal["dashboard", "market", "alerts"]
"""A screen with keys of its own: its footer and its ``?`` take its rows and the app's."""


@dataclass(frozen=True)
class Key:
    """One key: its binding, its footer entry (``rank``), its ``?`` line (``help``)."""

    keys: str
    """Textual key names, comma-separated (``up,k``)."""
    action: str
    """The action it runs on its screen (``move(-1)``)."""
    label: str = ""
    """Footer label (short)."""
    rank: int | None = None
    """Footer priority: 1 shows first; None: never in the footer (still in ``?``)."""
    help: str = ""
    """The ``?`` line; empty: described by the row before it (``down,j`` by ``up,k``)."""
    help_keys: str | None = None
    """How ``?`` writes the keys (default: ``display``, else ``keys``)."""
    display: str | None = None
    """How the footer writes the key (default: Textual's display of the first key)."""
    screen: Where = "dashboard"
    textual: bool = False
    """Bound by Textual itself (``tab``, ``ctrl+p``) or handled as events (the mouse): footer
    and help only, no binding here."""
    layout: str | None = None
    """A CSS class the screen must have for the footer to show the entry (``-compact``)."""
    elsewhere: bool = True
    """An app key that works on the other screens too (``!`` and ``m`` open views from the
    dashboard: elsewhere they are left out of the footer and ``?``)."""
    priority: bool = False
    """Bound before the focused widget's bindings (``enter`` over the table's own)."""

    def binding(self) -> Binding:
        """The Textual binding."""
        return Binding(
            self.keys,
            self.action,
            self.label,
            show=self.rank is not None,
            key_display=self.display,
            priority=self.priority,
        )


KEYS: tuple[Key, ...] = (
    Key("up,k", "move(-1)", "coin", 2, "select coin (book and trades follow)", "↑ ↓  k j", "↑↓"),
    Key("down,j", "move(1)", "coin"),
    Key("a", "add_coin", "add", 3, "add a coin to the watchlist"),
    Key("d", "remove_coin", "del", 4, "remove the selected coin"),
    Key("1", "tab('orders')", "tabs", 2,
        "Orders, Fills, Spot, TWAP, Funding, Log, Accounts tab", "1 - 7", "1-7"),
    Key("2", "tab('fills')", "Fills"),
    Key("3", "tab('spot')", "Spot"),
    Key("4", "tab('twap')", "TWAP"),
    Key("5", "tab('funding')", "Funding"),
    Key("6", "tab('log')", "Log"),
    Key("7", "tab('accounts')", "Accounts"),
    Key("tab", "app.focus_next", "table", 4,
        "focus the lower table: ↑ ↓ pgup pgdn scroll, enter shows a row whole",
        textual=True),
    Key("u", "next_account(1)", "account", 5,
        "next / previous watched account (detail panels follow)", "u  U", "u/U"),
    Key("U", "next_account(-1)", "account"),
    Key("f", "toggle_fast", "fast book", 6, "book: fast (5 levels, 0.5 s) / full (20 levels)"),
    Key("g", "cycle_aggregation", "aggregate", 6,
        "book: cycle price aggregation (none, 5, 4, 3, 2 sig figs)"),
    Key("b", "toggle_tape", "book/trades", 3,
        "book / trades in the book's place (compact layout, below 110x34)", layout="-compact"),
    Key("z", "zoom", "zoom", 5,
        "maximise the current panel (last clicked or focused) / restore", "z  esc"),
    Key("escape", "restore", "restore", 2, display="esc"),  # (only while a panel is maximised)
    Key("mouse", "", help="click: a coin, a tab, an order; a title maximises its panel; "
        "wheel scrolls", textual=True),
    Key("y", "copy", "copy", 5, "copy the address (or the focused order's id) via OSC 52"),
    Key("A", "add_alert", "alert", 7, "add a price alert (e.g. BTC > 110000)", display="A"),
    Key("exclamation_mark", "alerts", "alerts", 5,
        "alerts view: every rule's state; a add, e edit, space on/off, d d delete", "!", "!",
        screen="app", elsewhere=False),
    Key("W", "watch_master", "master", 9,
        "an agent (API) wallet is selected: watch its master account instead", display="W"),
    Key("m", "market", "markets", 3,
        "markets: every perp and spot pair; s 1-8 sort, / filter, enter adds, esc back",
        screen="app", elsewhere=False),
    Key("t", "cycle_theme", "theme", 8, "next theme", screen="app"),
    Key("ctrl+p", "command_palette", "palette", 7, "command palette", screen="app", textual=True),
    Key("question_mark", "help", "help", 1, "this help: every key, and what the marks mean",
        "?", "?", screen="app"),
    Key("q", "quit", "quit", 1, "quit", screen="app"),
    # The market screen (``m``): at 80 columns ↑↓, ⏎, /, s, esc, ? and q fit (ranks 1-2).
    Key("up,k", "move(-1)", "market", 1, "select a market", "↑ ↓  k j", "↑↓", screen="market"),
    Key("down,j", "move(1)", "market", screen="market"),
    Key("pageup", "page(-1)", help="a page up / down", help_keys="pgup pgdn", screen="market"),
    Key("pagedown", "page(1)", screen="market"),
    Key("home", "move(-1000000)", help="first / last market", help_keys="home end",
        screen="market"),
    Key("end", "move(1000000)", screen="market"),
    Key("enter", "choose", "add to watchlist", 1,
        "add the selected market to the watchlist (and select it there)", "enter", "⏎",
        screen="market"),
    Key("slash", "filter", "filter", 2,
        "filter: BTC, dex:xyz, perp, spot; enter keeps it, esc undoes it", "/", "/",
        screen="market"),
    Key("s", "next_sort", "sort", 2, "sort by the next column", screen="market"),
    Key("S", "flip_sort", "reverse", 4, "reverse the order", "S", "shift+s", screen="market"),
    Key("1", "sort_by(0)", help="sort by market, mark, mid, 24h %, fund/h, fund/yr, OI $, "
        "vol 24h $; again reverses", help_keys="1 - 8", screen="market"),
    *(Key(str(n), f"sort_by({n - 1})", screen="market") for n in range(2, 9)),
    Key("escape", "close", "back", 2, "back to the dashboard (in the filter: undo the edit)",
        "esc", "esc", screen="market"),
    Key("mouse", "", help="click: a market selects it, a column's title sorts by it",
        screen="market", textual=True),
    # The alerts view (``!``).
    Key("up,down", "", help="select a rule (pgup pgdn home end too)", help_keys="↑ ↓",
        screen="alerts", textual=True),
    Key("a", "add", "add", 1, "add a rule (the form offers every kind)", screen="alerts"),
    Key("e,enter", "edit", "edit", 1, "edit the selected rule", "e  enter", "⏎",
        screen="alerts", priority=True),
    Key("space", "switch", "on/off", 1, "switch the selected rule off / on again",
        screen="alerts"),
    Key("d,delete", "delete", "delete", 1, "delete the selected rule: d, then d again within 3 s",
        "d d", "d", screen="alerts"),
    Key("escape,exclamation_mark", "close", "back", 1, "back to the dashboard", "esc  !", "esc",
        screen="alerts"),
)  # fmt: skip
"""Every key, in the order the footer and ``?`` show them."""

HELP_LABEL_MORE = "all keys"
"""The ``?`` entry's label while the footer hides some keys."""


def bindings(screen: Where) -> list[BindingType]:
    """The BINDINGS of ``screen``."""
    return [k.binding() for k in KEYS if k.screen == screen and not k.textual]


def rows(screen: ScreenName = "dashboard") -> list[Key]:
    """The keys that work on ``screen``, in the order its footer and ``?`` show them: the
    dashboard's mixed with the app's (table order); another screen's own first, then the app's
    that work there."""
    if screen == "dashboard":
        return [k for k in KEYS if k.screen in ("dashboard", "app")]
    own = [k for k in KEYS if k.screen == screen]
    return own + [k for k in KEYS if k.screen == "app" and k.elsewhere]


def help_rows(screen: ScreenName = "dashboard", only: Where | None = None) -> list[tuple[str, str]]:
    """(keys, what they do) for ``?`` on ``screen``: every row with a help line (``only``:
    those bound on that screen, ``app`` for the keys that work everywhere)."""
    return [
        (k.help_keys or k.display or k.keys, k.help)
        for k in rows(screen)
        if k.help and only in (None, k.screen)
    ]


def by_binding(screen: ScreenName | None = "dashboard") -> dict[tuple[str, str], Key]:
    """The rows of ``screen`` (None: of every screen) by (Textual key name, action), as the
    screen's active bindings name them (``question_mark``, not ``?``)."""
    found: dict[tuple[str, str], Key] = {}
    for key in KEYS if screen is None else rows(screen):
        for binding in Binding.make_bindings([key.binding()]):
            found[(binding.key, key.action)] = key
    return found
