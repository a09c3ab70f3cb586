"""The market screen: every perp of every dex and every spot pair, sortable and filterable.

It reads a ``MarketTable`` (hlmon/state/market_table.py) that the runtime keeps fed; it does
no network I/O. ``enter`` posts ``MarketScreen.CoinChosen`` (the app adds the coin to the
watchlist), ``escape`` closes the screen.

Drawn with the line API like every hlmon pane: only the visible rows are laid out, each row's
cells are formatted once per change of that row, and only lines that differ are repainted, so
~1,600 names cost what the ~40 visible ones cost. Columns are as wide as their widest value
in the current view (names are never cut); a narrow terminal drops the least useful columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from hlmon.state.catalog import MarketKind
from hlmon.state.market_query import MarketQuery, SortColumn, SortSpec
from hlmon.state.market_table import MarketRow, MarketTable
from hlmon.state.types import Source
from hlmon.ui.fmt import DASH, fmt_age, fmt_compact, fmt_pct, fmt_px
from hlmon.ui.keymap import ScreenName, bindings, rows
from hlmon.ui.lean_compositor import use_lean_compositor
from hlmon.ui.widgets.key_footer import KeyFooter
from hlmon.ui.widgets.lines import Cell, Column, LinePane, Row, fit_columns, layout_row

STALE_AFTER = 20.0
"""Seconds after which prices from ``fastAssetCtxs`` (about one push a second) are stale."""
CTX_STALE_AFTER = 75.0
"""Seconds after which prices that came with the contexts are stale (``allDexsAssetCtxs``
pushes about every 14 s; REST polls them every 30 s: 2.5 intervals)."""
FILTER_KEYS = frozenset(
    name for key in rows("market") if key.action == "filter" for name in key.keys.split(",")
)
"""The Textual key names that open the filter box (``slash``)."""


@dataclass(frozen=True)
class _Spec:
    column: SortColumn
    label: str
    priority: int


SPECS: tuple[_Spec, ...] = (
    _Spec(SortColumn.NAME, "market", 100),
    _Spec(SortColumn.MARK, "mark", 90),
    _Spec(SortColumn.MID, "mid", 40),
    _Spec(SortColumn.CHANGE, "24h %", 85),
    _Spec(SortColumn.FUNDING, "fund/h", 70),
    _Spec(SortColumn.FUNDING_APR, "fund/yr", 30),
    _Spec(SortColumn.OPEN_INTEREST, "OI $", 60),
    _Spec(SortColumn.VOLUME, "vol 24h $", 65),
)
"""Columns in display order; the number keys 1-8 sort by them in this order."""
ARROWS = {False: "▲", True: "▼"}
GAP = 2
"""Cells between columns."""


def row_cells(row: MarketRow) -> dict[str, Cell]:
    """The formatted cells of one row, by column key (the ``SortColumn`` value)."""
    change, funding = row.change_pct, row.value(SortColumn.FUNDING)
    perp = row.kind is MarketKind.PERP
    na = DASH if perp else ""  # spot has no funding or open interest: blank, not "unknown"
    cells: dict[str, Cell] = {
        "name": (row.display, "pane--strong"),
        "mark": (fmt_px(row.mark), ""),
        "mid": (fmt_px(row.mid), ""),
        "change": (fmt_pct(change), _sign_style(change)),
        "funding": (fmt_pct(funding * 100, 4, sign=False) if funding is not None else na,
                    "pane--down" if funding is not None and funding < 0 else ""),
        "apr": (fmt_pct(row.funding_apr, 1, sign=False) if row.funding_apr is not None else na,
                "pane--down" if funding is not None and funding < 0 else ""),
        "oi": (fmt_compact(row.oi_usd) if row.oi_usd is not None else na, ""),
        "volume": (fmt_compact(row.volume), ""),
    }  # fmt: skip
    return cells


def _sign_style(value: float | None) -> str:
    if value is None or value == 0:
        return ""
    return "pane--up" if value > 0 else "pane--down"


class MarketPane(LinePane):
    """The table itself: a header with the sort arrow, then the visible rows."""

    can_focus = True

    def __init__(
        self, table: MarketTable, clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.table = table
        self.clock = clock
        self.filter = MarketQuery()
        self.sort = SortSpec()
        self.selected: str | None = None
        """Name of the selected market; the selection follows it when the order changes."""
        self._top = 0
        self._names: tuple[str, ...] = ()
        self._cells: dict[str, tuple[MarketRow, dict[str, Cell]]] = {}
        self._widths_key: tuple[object, ...] = ()
        self._widths_names: tuple[str, ...] | None = None
        self._widths: dict[str, int] = {}
        self._name_width_key: tuple[object, ...] = ()
        self._name_width_of = 0
        self._columns: list[Column] = []
        self.ctx_stale_after: Callable[[], float] = lambda: CTX_STALE_AFTER
        """Seconds after which prices that came with the contexts (REST, or before the fast
        stream's snapshot) are stale: the store's threshold for the market feeds."""
        self._shown: list[str] = []
        """Names on screen, top to bottom (for clicks)."""
        self.take_key: Callable[[events.Key], bool] | None = None
        """Offered each key the table gets, before its bindings: True when it took it (the
        screen's filter and its type-ahead, ``MarketScreen.take_key``)."""
        self.after_rebuild: Callable[[], None] | None = None
        """Called when the rows were rebuilt, whoever asked (a frame, a key, a resize): the
        screen's title counts ``names``, which only a rebuild with a size knows."""

    def on_key(self, event: events.Key) -> None:
        """A key the screen takes goes no further (nor to the bindings)."""
        if self.take_key is not None and self.take_key(event):
            event.stop()
            event.prevent_default()

    # ------------------------------------------------------------------ model

    @property
    def names(self) -> tuple[str, ...]:
        """The markets in the current view, in order."""
        return self._names

    def set_view(self, query: MarketQuery | None = None, sort: SortSpec | None = None) -> None:
        """Another filter or order: back to the top. (When only the data moves, the selection
        follows its market instead, so ``enter`` adds what the user is looking at.)"""
        if query is not None:
            self.filter = query
        if sort is not None:
            self.sort = sort
        self.selected = None
        self._top = 0
        self.rebuild()

    def move(self, delta: int) -> None:
        if not self._names:
            return
        i = self._index()
        self.selected = self._names[min(max(i + delta, 0), len(self._names) - 1)]
        self.rebuild()

    def _index(self) -> int:
        try:
            return self._names.index(self.selected) if self.selected is not None else 0
        except ValueError:
            return 0

    # ------------------------------------------------------------------ rows

    def rebuild(self) -> None:
        width, height = self.inner_width, self.inner_height
        if width <= 0 or height <= 0:
            return
        table = self.table
        self._names = names = table.view_names(self.filter, self.sort)
        if self.selected not in names:
            self.selected = names[0] if names else None
        room = max(1, height - 1)
        index = self._index()
        if index < self._top:
            self._top = index
        elif index >= self._top + room:
            self._top = index - room + 1
        self._top = max(0, min(self._top, max(0, len(names) - room)))
        self._shown = list(names[self._top : self._top + room])
        visible = [row for name in self._shown if (row := table.row(name)) is not None]
        cols = self._layout(width, visible)
        rows: list[Row] = [self._header(cols, width)]
        now = self.clock()
        ctx_limit = self.ctx_stale_after()
        for row in visible:
            cells = self._cells_of(row)
            seen = table.price_time(row)
            limit = STALE_AFTER if row.prices_fast else ctx_limit
            if seen is None or now - seen > limit:  # shown, but not current: dimmed
                cells = {k: (text, "pane--muted") for k, (text, _) in cells.items()}
            fill = "pane--sel" if row.name == self.selected else ""
            rows.append(layout_row(cols, cells, width, gap=GAP, fill=fill))
        if not names:
            rows.append(((self._empty_text().ljust(width), "pane--muted"),))
        self.set_rows(rows)
        if self.after_rebuild is not None:
            self.after_rebuild()

    def _empty_text(self) -> str:
        if self.table.catalog is None:
            return " market catalog not loaded yet: waiting for it…"
        if not self.filter.is_empty:
            return f" no market matches {self.filter.text!r}"
        return " the catalog lists no perp or spot market"

    def _cells_of(self, row: MarketRow) -> dict[str, Cell]:
        hit = self._cells.get(row.name)
        if hit is not None and hit[0] is row:
            return hit[1]
        cells = row_cells(row)
        self._cells[row.name] = (row, cells)
        return cells

    def _layout(self, width: int, visible: list[MarketRow]) -> list[Column]:
        """Columns as wide as their widest cell: the name column over the whole view (a
        length, nothing formatted), the numbers over the rows seen on screen since the view
        last changed (they only grow, so scrolling never makes the table jump back). Only the
        visible rows are formatted: ~1,600 names cost what the ~40 on screen cost."""
        if self._names is not self._widths_names:
            self._widths_names = self._names
            widths = {s.column.value: len(s.label) + 2 for s in SPECS}  # room for the arrow
            widths["name"] = max(widths["name"], self._name_width())
            self._widths = widths
        widths = self._widths
        for row in visible:
            for k, (text, _) in self._cells_of(row).items():
                if len(text) > widths[k]:
                    widths[k] = len(text)
        key = (tuple(widths.values()), width, self.sort)
        if key == self._widths_key:
            return self._columns
        columns = [
            Column(s.column.value, s.label, widths[s.column.value],
                   "left" if s.column is SortColumn.NAME else "right", s.priority)
            for s in SPECS
        ]  # fmt: skip
        self._columns = fit_columns(columns, width, gap=GAP)
        self._widths_key = key
        return self._columns

    def _name_width(self) -> int:
        """The longest name in the view. The same names in another order (a re-sort, every
        few seconds by volume) have the same longest: measured once per filter and catalog."""
        key = (self.filter, self.table.version[0])
        if key != self._name_width_key:
            table = self.table
            rows = (table.row(name) for name in self._names)
            self._name_width_of = max((len(r.display) for r in rows if r is not None), default=0)
            self._name_width_key = key
        return self._name_width_of

    def _header(self, cols: list[Column], width: int) -> Row:
        cells: dict[str, Cell] = {}
        for col in cols:
            label = col.label
            if col.key == self.sort.column.value:
                arrow = ARROWS[self.sort.descending]
                label = f"{label} {arrow}" if col.align == "left" else f"{arrow} {label}"
                cells[col.key] = (label, "pane--accent")
            else:
                cells[col.key] = (label, "pane--head")
        return layout_row(cols, cells, width, gap=GAP, fill="pane--head")

    def name_at(self, y: int) -> str | None:
        """The market on screen line ``y`` (0 is the header)."""
        return self._shown[y - 1] if 1 <= y <= len(self._shown) else None

    def column_at(self, x: int) -> SortColumn | None:
        """The column under screen column ``x``."""
        left = 0
        for col in self._columns:
            if left <= x < left + col.width:
                return SortColumn(col.key)
            left += col.width + GAP
        return None


class MarketScreen(Screen[None]):
    """Every market, one key away from the dashboard (the app pushes it)."""

    AUTO_FOCUS = "#market-table"

    DEFAULT_CSS = """
    MarketScreen { layout: vertical; }
    MarketScreen #market-table { height: 1fr; }
    MarketScreen #market-filter { display: none; height: 3; border: round $accent; }
    MarketScreen.-filtering #market-filter { display: block; }
    """

    KEYMAP: ClassVar[ScreenName] = "market"
    """Its rows of ``hlmon.ui.keymap``: its bindings, its footer and its ``?``."""
    BINDINGS = bindings(KEYMAP)

    class CoinChosen(Message):
        """The user chose a market (``enter``); the app adds it to the watchlist."""

        def __init__(self, coin: str) -> None:
            super().__init__()
            self.coin = coin
            """The exact wire name (``BTC``, ``xyz:NVDA``, ``@107``)."""

    def __init__(
        self,
        table: MarketTable,
        *,
        clock: Callable[[], float] = time.time,
        fps: float = 4.0,
        query: str = "",
        sort: SortSpec | None = None,
        ctx_stale_after: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        use_lean_compositor(self)
        self.table = table
        self.clock = clock
        self.fps = max(1.0, min(fps, 30.0))
        self.pane = MarketPane(table, clock, id="market-table")
        self.pane.filter = MarketQuery.parse(query)
        self.pane.sort = sort or SortSpec()
        if ctx_stale_after is not None:
            self.pane.ctx_stale_after = ctx_stale_after
        self._filter_before = query
        self._seen: tuple[object, ...] = ()
        # The first rows come from the pane's first resize, after ``on_mount``'s frame found it
        # without a size: its title ("Markets 0") must not wait for the next frame to count.
        self.pane.after_rebuild = lambda: self._update_titles(self.clock())
        self.pane.take_key = self.take_key

    def compose(self) -> ComposeResult:
        yield self.pane
        yield Input(
            placeholder="filter: BTC, dex:xyz, perp, spot",
            id="market-filter",
            select_on_focus=False,  # ``action_filter`` selects: the focus comes after type-ahead
        )
        yield KeyFooter(self.KEYMAP)  # fitted by rank, like the dashboard's

    def on_mount(self) -> None:
        self.refresh_frame()
        self.set_interval(1.0 / self.fps, self.refresh_frame, name="market-frame")

    # ------------------------------------------------------------------ frames

    def refresh_frame(self) -> None:
        """Rebuild when the data or the second changed (ages and dimming move with time)."""
        now = self.clock()
        seen = (self.table.version, int(now))
        if seen != self._seen:
            self._seen = seen
            self.pane.rebuild()  # the titles follow it (``after_rebuild``)
            return
        self._update_titles(now)  # the ages in the subtitle

    def _update_titles(self, now: float) -> None:
        table, pane = self.table, self.pane
        sort = next(s.label for s in SPECS if s.column is pane.sort.column)
        title = f"Markets  {len(pane.names):,}"
        if not pane.filter.is_empty:
            title += f" of {len(table):,}  filter: {pane.filter.describe()}"
        title += f"  sort: {sort} {ARROWS[pane.sort.descending]}"
        pane.set_caption(title)
        self._subtitle(self._freshness(now))

    def _freshness(self, now: float) -> str:
        """Where the prices come from and how old they are; the pane is marked stale (dimmed,
        ``STALE age``) or REST-fed by the same rule that dims a row."""
        table, pane = self.table, self.pane
        fast = None if table.fast_at is None else now - table.fast_at
        ctx = None if table.ctx_at is None else now - table.ctx_at
        if fast is None and ctx is None:
            pane.set_freshness(stale_age=None, rest=False)
            if table.catalog is None:
                return "waiting for the market catalog…"
            return "waiting for market data…"
        if fast is not None and fast <= STALE_AFTER:  # the stream carries the prices
            pane.set_freshness(stale_age=None, rest=False)
            parts = ["WS", f"prices {fmt_age(fast)}"]
            if ctx is not None:
                parts.append(f"funding/OI {fmt_age(ctx)}")
        else:
            # No live stream: REST (REST mode, or the fallback while the socket is out) keeps
            # prices with the contexts; otherwise the last stream frame says how old they are.
            rest = table.last_source is Source.REST
            if ctx is not None and (rest or fast is None):
                age, limit = ctx, pane.ctx_stale_after()
            else:
                assert fast is not None
                age, limit = fast, STALE_AFTER
            pane.set_freshness(stale_age=fmt_age(age) if age > limit else None, rest=rest)
            parts = ["REST" if rest else "WS", f"prices and funding/OI {fmt_age(age)}"]
        if table.catalog_reload_wanted:
            parts.append("new listings: catalog reload pending")
        return "  ".join(parts)

    def _subtitle(self, text: str) -> None:
        if self.pane.border_subtitle != text:
            self.pane.border_subtitle = text

    # ------------------------------------------------------------------ actions

    def action_move(self, delta: int) -> None:
        self.pane.move(delta)

    def action_page(self, direction: int) -> None:
        self.pane.move(direction * max(1, self.pane.inner_height - 1))  # rows below the header

    def action_next_sort(self) -> None:
        self.pane.set_view(sort=self.pane.sort.by(self.pane.sort.column.next()))

    def action_flip_sort(self) -> None:
        self.pane.set_view(sort=self.pane.sort.flipped())

    def action_sort_by(self, index: int) -> None:
        """Sort by the column at ``index``; the current column flips its direction."""
        column = SPECS[index].column
        sort = self.pane.sort
        self.pane.set_view(sort=sort.flipped() if sort.column is column else sort.by(column))

    def action_filter(self) -> None:
        box = self.query_one("#market-filter", Input)
        self._filter_before = self.pane.filter.text
        box.value = self.pane.filter.text
        box.select_all()  # what is typed replaces the old filter
        self.add_class("-filtering")
        # At once, not ``box.focus()`` (which waits its turn in the app's queue): the keys
        # already queued behind the ``/`` are handed on by the pane (``MarketPane.on_key``).
        self.set_focus(box)

    def take_key(self, event: events.Key) -> bool:
        """A key that reached the table (``MarketPane.on_key``), before its bindings.

        Keys right behind a ``/`` (a paste, tmux ``send-keys``, a fast typist over SSH) are
        all routed to the table before the filter box opens, and a binding runs only once its
        key has bubbled up to the app, after the table has taken the next keys. So the filter
        key opens the box here, at once; the keys after it, reaching the table while the box
        has the focus, are typed into the box here, in order, as the box would (characters,
        backspace, enter, escape); other editing keys go to the box in their turn."""
        box = self.query_one("#market-filter", Input)
        if self.focused is not box:
            if event.key not in FILTER_KEYS:
                return False  # the table's own key
            self.action_filter()
            return True
        if event.key == "enter":
            self.pane.set_view(query=MarketQuery.parse(box.value))
            self._end_filter()
        elif event.key == "escape":
            self.action_close()
        elif event.is_printable and event.character:
            if box.selection.is_empty:
                box.insert_text_at_cursor(event.character)
            else:
                box.replace(event.character, *box.selection)
        elif event.key == "backspace":
            box.action_delete_left()
        else:  # through the app, so the box's bindings see it (arrows, ctrl+u)
            self.app.post_message(events.Key(event.key, event.character))
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types (a change still queued when the box has closed, after
        type-ahead's escape, is not applied)."""
        if self.has_class("-filtering"):
            self.pane.set_view(query=MarketQuery.parse(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._end_filter()

    def _end_filter(self) -> None:
        self.remove_class("-filtering")
        self.set_focus(self.pane)  # at once: the next key queued is the table's

    def action_choose(self) -> None:
        if self.pane.selected is not None:
            self.post_message(self.CoinChosen(self.pane.selected))

    def action_close(self) -> None:
        """``escape``: in the filter box, undo the edit; otherwise close the screen."""
        if self.has_class("-filtering"):
            self.pane.set_view(query=MarketQuery.parse(self._filter_before))
            self._end_filter()
            return
        self.dismiss(None)

    def on_click(self, event: events.Click) -> None:
        """A click on a row selects it; on the header, sorts by that column."""
        offset = event.get_content_offset(self.pane)  # None outside the table
        if offset is None:
            return
        if offset.y == 0:
            column = self.pane.column_at(offset.x)
            if column is not None:
                self.action_sort_by([s.column for s in SPECS].index(column))
            return
        name = self.pane.name_at(offset.y)
        if name is not None:
            self.pane.selected = name
            self.pane.rebuild()
