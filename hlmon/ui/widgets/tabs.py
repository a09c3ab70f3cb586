"""The lower tab panel: Orders, Fills, Spot, TWAP, Funding, Log, Accounts behind keys
``1``-``7``.

The tab names live in the panel's border title (``1 Orders 12 │ 2 Fills 36 │ ...``, the active
one highlighted, with row counts) instead of a separate tab bar, which saves two lines on small
terminals; when the full names do not fit, the inactive tabs use short ones (``3 Spot`` stays,
``5 Fund``). A tab may have a footer line in the bottom border (the Fills tab's fees per
token). Only the active table is displayed; the others keep their data and cost nothing to
paint. Every table but Accounts takes the focus (``tab``) to scroll, and ``enter`` shows a row
whole.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import ContentSwitcher

from hlmon.ui.widgets.account import (
    ACCOUNT_COLUMNS,
    FILL_COLUMNS,
    FUNDING_COLUMNS,
    LOG_COLUMNS,
    ORDER_COLUMNS,
)
from hlmon.ui.widgets.lines import set_border_title, title_markup
from hlmon.ui.widgets.table import TableView
from hlmon.ui.widgets.whole_account import SPOT_COLUMNS, TWAP_COLUMNS, TWAP_WAITING

TABS: tuple[tuple[str, str], ...] = (
    ("orders", "Orders"),
    ("fills", "Fills"),
    ("spot", "Spot"),
    ("twap", "TWAP"),
    ("funding", "Funding"),
    ("log", "Log"),
    ("accounts", "Accounts"),
)
"""(id, label) of each tab, in key order (the key is its position, from 1)."""
SHORT_LABELS = {"orders": "Ord", "fills": "Fill", "funding": "Fund", "accounts": "Acct"}
"""Labels of inactive tabs when the full names do not fit the border."""
TITLE_X = 3
"""Column of the title's first character in the top border (after ``╭─ ``)."""
COUNTED = ("orders", "fills", "twap", "funding")
"""Tabs whose name carries its row count (``1 Orders 12``)."""


class LowerTabs(Container):
    """A bordered panel showing one of five tables."""

    DEFAULT_CSS = """
    LowerTabs {
        height: 1fr;
        min-height: 3;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 0;
    }
    LowerTabs.-stale { border: round $error; }
    LowerTabs:focus-within { border: round $accent; }
    LowerTabs TableView, LowerTabs TableView:focus, LowerTabs TableView.-stale {
        border: none;
        height: 1fr;
    }
    LowerTabs ContentSwitcher { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.active = TABS[0][0]
        """Id of the visible tab."""
        self._suffix: tuple[str | None, bool] = (None, False)
        self._shown_counts: dict[str, int] = {}
        self._footers: dict[str, str] = {}
        self._spans: list[tuple[int, int, str]] = []
        """(first, past-the-last column, tab id) of each name in the title as drawn."""
        self.tables: dict[str, TableView] = {
            "orders": TableView(
                ORDER_COLUMNS,
                empty="no open orders",
                waiting="waiting for orders…",
                noun="orders",
                cursor=True,
                id="orders",
            ),
            "fills": TableView(
                FILL_COLUMNS,
                empty="no fills yet",
                waiting="waiting for fills…",
                noun="fills",
                cursor=True,
                id="fills",
            ),
            "funding": TableView(
                FUNDING_COLUMNS,
                empty="no funding payments yet",
                waiting="waiting for funding…",
                noun="payments",
                cursor=True,
                id="funding",
            ),
            "spot": TableView(
                SPOT_COLUMNS,
                empty="no spot balances",
                waiting="waiting for spot balances…",
                noun="balances",
                cursor=True,
                id="spot",
            ),
            "twap": TableView(
                TWAP_COLUMNS,
                empty="no active TWAP orders",
                waiting=TWAP_WAITING,
                noun="TWAPs",
                cursor=True,
                id="twap",
            ),
            "log": TableView(
                LOG_COLUMNS, empty="no events yet", noun="events", tail=True, cursor=True, id="log"
            ),
            "accounts": TableView(
                ACCOUNT_COLUMNS,
                empty="no address: pass --address to watch an account",
                waiting="waiting for accounts…",
                noun="accounts",
                id="accounts",
            ),
        }
        """The tables by tab id."""

    def compose(self) -> ComposeResult:
        """The switcher with every table."""
        with ContentSwitcher(initial=self.active):
            yield from self.tables.values()

    def on_mount(self) -> None:
        """Draw the tab names."""
        self._update_title()

    def on_resize(self) -> None:
        """Short or full tab names, whichever fits."""
        self._update_title()

    def set_footer(self, tab: str, text: str) -> None:
        """A line for the bottom border while ``tab`` is shown (``""``: none)."""
        if self._footers.get(tab, "") != text:
            self._footers[tab] = text
            if tab == self.active:
                self.border_subtitle = text

    @property
    def active_table(self) -> TableView:
        """The visible table."""
        return self.tables[self.active]

    def show(self, tab: str) -> None:
        """Switch to ``tab`` (one of the ``TABS`` ids)."""
        if tab not in self.tables or tab == self.active:
            return
        had_focus = any(t.has_focus for t in self.tables.values())
        self.active = tab
        self.query_one(ContentSwitcher).current = tab
        self._update_title()
        self.border_subtitle = self._footers.get(tab, "")
        if had_focus and self.active_table.can_focus:
            self.active_table.focus()
        elif had_focus:
            self.screen.set_focus(None)

    def set_freshness(self, *, stale_age: str | None, rest: bool) -> None:
        """Freshness of the visible tab's feed: title suffix, dimming, warning border (called
        every frame, which also keeps the row counts in the tab names current)."""
        suffix = (stale_age, rest)
        counts = self._counts()
        if suffix != self._suffix or counts != self._shown_counts:
            self._suffix = suffix
            self._update_title()
        self.set_class(stale_age is not None, "-stale")
        for name, table in self.tables.items():
            table.set_freshness(stale_age=stale_age if name == self.active else None, rest=False)

    def _counts(self) -> dict[str, int]:
        """Rows per loaded table with rows (the log and accounts need no count)."""
        return {
            tab: t.row_count
            for tab, t in self.tables.items()
            if tab in COUNTED and t.loaded and t.row_count
        }

    def _update_title(self) -> None:
        self._shown_counts = counts = self._counts()
        stale_age, rest = self._suffix
        suffix = title_markup("", stale_age=stale_age, rest=rest)
        room = self.size.width - 4 - len(suffix)
        title = self._names(counts, short=False)
        if self.size.width and len(title.replace("[b reverse]", "").replace("[/]", "")) > room:
            title = self._names(counts, short=True)
        set_border_title(self, title + suffix)

    def tab_at(self, x: int) -> str | None:
        """The tab whose name is drawn at column ``x`` of the top border (a click there)."""
        x -= TITLE_X
        for start, end, tab in self._spans:
            if start <= x < end:
                return tab
        return None

    def _names(self, counts: dict[str, int], *, short: bool) -> str:
        self._spans = []
        at = 0
        parts = []
        for n, (tab_id, label) in enumerate(TABS, start=1):
            active = tab_id == self.active
            name = SHORT_LABELS.get(tab_id, label) if short and not active else label
            text = f"{n} {name}"
            if tab_id in counts:
                text += f" {counts[tab_id]}"
            parts.append(f"[b reverse] {text} [/]" if active else f" {text} ")
            self._spans.append((at, at + len(text) + 2, tab_id))
            at += len(text) + 3  # the name, its spaces and the separator
        return "│".join(parts)
