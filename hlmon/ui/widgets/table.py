"""A line-API table shared by positions, orders, fills, funding, the log and accounts.

Columns are sized by their content (see ``fit_columns``): nothing is cut while there is room,
and a narrow pane drops its least important columns whole instead of cutting names. Cells
are ``(text, style-name)`` pairs; only changed lines are repainted. A row may carry a second
line (``DETAIL``: the TP/SL under a position).

The table says the truth about what it shows: ``waiting…`` until its feed's first data
(``loaded``), its ``empty`` text only after that, and a cue line (``▼ 6 more · 12 orders``)
whenever rows are hidden. When focusable it has a cursor row (``up``/``down``, marked ``▶``)
and ``enter`` opens the whole row; otherwise it shows the head of its rows (or the tail, for
logs, which then follow new lines until the cursor is moved up).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import partial

from textual import events
from textual.binding import Binding
from textual.message import Message

from hlmon.ui.widgets.lines import (
    Cell,
    Column,
    LinePane,
    Row,
    ShownRows,
    content_widths,
    fit_columns,
    fit_text,
    header_row,
    layout_row,
    wrap_text,
)

DETAIL = "_detail"
"""Row key of an optional second line drawn under the row across the whole width."""
MARGIN = 1
"""Cells kept free on each side: the cursor mark on the left, air before the border."""
SPREAD = 2
"""Spare cells each column may take on a wide pane (air between columns)."""
WHEEL_ROWS = 3
"""Rows one notch of the mouse wheel scrolls."""


class TableView(LinePane):
    """Rows under content-sized columns, drawn with the line API."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
        Binding("enter", "open_row", "Whole row", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: TableView, key: Hashable | None) -> None:
            super().__init__()
            self.table = table
            """The table."""
            self.key = key
            """Key of the highlighted row."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty: str = "nothing to show",
        waiting: str = "waiting for data…",
        noun: str = "rows",
        detail_column: str | None = None,
        tail: bool = False,
        cursor: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = tuple(columns)
        """All columns; the least important are dropped when the pane is narrow."""
        self.empty = empty
        """Text shown when the feed has delivered and there are no rows."""
        self.waiting = waiting
        """Text shown until the feed's first data (``set_data(..., loaded=False)``)."""
        self.noun = noun
        """What a row is, for the ``N more`` cue (``orders``)."""
        self.detail_column = detail_column
        """A column that, when shown in full (not its ``alt`` form), already says what the
        ``DETAIL`` lines say: they are then left out."""
        self.tail = tail
        """Show the last rows when they do not all fit (logs), instead of the first."""
        self.can_focus = cursor
        self.loaded = False
        """Whether the feed behind the table has delivered (False: ``waiting``)."""
        self._data: list[dict[str, Cell]] = []
        self._keys: list[Hashable] = []
        self._content: dict[str, int] = {}
        self._cursor = 0
        self._top = 0
        self._shown = 0
        """Rows on screen at the last rebuild (the wheel keeps the cursor among them)."""
        self._row_at: dict[int, int] = {}
        """Screen line (content-relative) -> index of the data row drawn there."""
        self._follow = True  # a tail table's cursor stays on the newest row
        self.hidden_rows = 0
        """Rows not on screen right now (what the cue line counts)."""
        self._pending: int | None = None
        """Rows waiting to be handed over while the table is hidden (``set_pending``)."""
        self._shown_rows = ShownRows()
        """The shown rows, by their cells and highlight: a row whose cells did not change is
        not laid out again while the columns and width stay."""

    @property
    def row_count(self) -> int:
        """Number of data rows (those waiting to be handed over, while hidden)."""
        return len(self._data) if self._pending is None else self._pending

    def set_pending(self, count: int, *, loaded: bool = True) -> None:
        """The data changed while the table is hidden: ``count`` rows wait for ``set_data``
        (called when it is shown), and ``row_count`` says so meanwhile (tab names count
        rows) without the rows being formatted."""
        self._pending = count
        self.loaded = loaded

    @property
    def selected_key(self) -> Hashable | None:
        """Key of the cursor row (focusable tables), or None."""
        if not self.can_focus or not self._keys:
            return None
        return self._keys[min(self._cursor, len(self._keys) - 1)]

    def set_data(
        self,
        rows: Sequence[dict[str, Cell]],
        keys: Sequence[Hashable] | None = None,
        *,
        loaded: bool = True,
    ) -> None:
        """Replace the data rows; the cursor stays on the same key when it still exists.

        Args:
            rows: Cells by column key (``DETAIL``: a second line).
            keys: One key per row (default: the row index).
            loaded: False while the feed has not delivered its first data: the table then
                says ``waiting`` instead of claiming to be empty.
        """
        old_key = self.selected_key
        self._pending = None
        height = self.styles.height
        if (height is None or height.is_auto) and (
            len(rows) != len(self._data) or self._lines(rows) != self._lines(self._data)
        ):
            # An auto-height table grows or shrinks (a layout pass of the whole screen: not
            # for a table of fixed or fractional height).
            self.refresh(layout=True)
        self.loaded = loaded
        self._data = list(rows)
        self._keys = list(keys) if keys is not None else list(range(len(self._data)))
        self._content = content_widths(self._data)
        if self.tail and self._follow:
            self._cursor = len(self._data) - 1
        elif old_key is not None and old_key in self._keys:
            self._cursor = self._keys.index(old_key)
        self._cursor = min(max(self._cursor, 0), max(0, len(self._data) - 1))
        self.rebuild()

    @staticmethod
    def _lines(rows: Sequence[dict[str, Cell]]) -> int:
        return sum(2 if DETAIL in r else 1 for r in rows)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """Header plus one line per row and detail (at least one, for a message)."""
        return 1 + max(1, self._lines(self._data))

    def select_key(self, key: Hashable) -> None:
        """Put the cursor on the row ``key`` (if there is one)."""
        if key in self._keys:
            self.action_cursor(self._keys.index(key) - self._cursor)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor row."""
        if not self._data:
            return
        last = len(self._data) - 1
        self._cursor = min(max(self._cursor + delta, 0), last)
        self._follow = self._cursor == last
        self.rebuild()
        self.post_message(self.RowHighlighted(self, self.selected_key))

    def action_open_row(self) -> None:
        """Show the cursor row whole, in a box over the screen (``esc`` closes it)."""
        if not self.can_focus or not self._data:
            return
        from hlmon.ui.screens.detail import RowDetailScreen  # screens import widgets

        self.app.push_screen(RowDetailScreen(self.row_text(self._cursor), title=self.noun))

    def row_text(self, index: int) -> str:
        """Every cell of row ``index``, labelled, one per line (nothing cut)."""
        row = self._data[index]
        lines = []
        for col in self.columns:
            text = row.get(col.key, ("", ""))[0]
            if text:
                lines.append(f"{col.label}: {text}" if col.label else text)
        if DETAIL in row:
            lines.append(row[DETAIL][0].strip())
        return "\n".join(lines)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel scrolls the rows shown (the cursor stays on screen)."""
        if self._data:
            event.stop()
            self.scroll_rows(WHEEL_ROWS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel scrolls the rows shown (the cursor stays on screen)."""
        if self._data:
            event.stop()
            self.scroll_rows(-WHEEL_ROWS)

    def scroll_rows(self, delta: int) -> None:
        """Move the first row shown by ``delta``; a cursor the rows left behind is moved
        onto the nearest row still shown (moving only the cursor would look like nothing
        happened while it was still on screen, or hidden, without the focus)."""
        n = len(self._data)
        if not n:
            return
        self._top = min(max(self._top + delta, 0), n - 1)
        if self.can_focus:
            last_shown = self._top + max(1, self._shown) - 1
            cursor = min(max(self._cursor, self._top), last_shown, n - 1)
            self._follow = cursor == n - 1 and delta > 0
            if cursor != self._cursor:
                self._cursor = cursor
                self.post_message(self.RowHighlighted(self, self.selected_key))
        self.rebuild()

    def on_click(self, event: events.Click) -> None:
        """A click on a row moves the cursor there (and focuses a table that has one)."""
        if not self.can_focus or not self._data:
            return
        index = self._row_at.get(event.y - self.content_offset.y)
        if index is None:
            return
        self._cursor = index
        self._follow = index == len(self._data) - 1
        if not self.has_focus:
            self.focus()
        self.rebuild()
        self.post_message(self.RowHighlighted(self, self.selected_key))

    def watch_has_focus(self, has_focus: bool) -> None:
        """Show or hide the cursor once the focus really moved (an ``on_focus`` handler here
        would run before the base class sets ``has_focus``, and draw the old state)."""
        super().watch_has_focus(has_focus)
        self.rebuild()

    # ------------------------------------------------------------------ layout

    def _window(self, heights: list[int], room: int) -> tuple[int, int]:
        """First and past-the-last row shown in ``room`` lines (cursor, tail or head)."""
        n = len(heights)
        if self.can_focus:
            self._top = min(self._top, self._cursor)
            while self._top < self._cursor and sum(heights[self._top : self._cursor + 1]) > room:
                self._top += 1
            top = self._top
        elif self.tail:
            top, used = n, 0
            while top > 0 and used + heights[top - 1] <= room:
                top -= 1
                used += heights[top]
        else:
            top = min(self._top, max(0, n - 1))  # scrolled by the wheel
        end, used = top, 0
        while end < n and used + heights[end] <= room:
            used += heights[end]
            end += 1
        while top > 0 and used + heights[top - 1] <= room:  # no blank lines at the bottom
            top -= 1
            used += heights[top]
        if end == top and top < n and room > 0:
            end = top + 1  # a row taller than the room: shown without its detail
        if not self.tail or self.can_focus:
            self._top = top
        return top, end

    def rebuild(self) -> None:
        """Lay the visible rows out for the current size."""
        width, height = self.inner_width, self.inner_height
        if width <= 0 or height <= 0:
            return
        inner = max(1, width - 2 * MARGIN)
        pad = " " * MARGIN
        cols = self._fit(inner, max(0, height - 1))
        rows: list[Row] = [((pad, "pane--head"), *header_row(cols, inner), (pad, "pane--head"))]
        room = max(0, height - 1)
        n = len(self._data)
        self.hidden_rows = 0
        self._row_at = {}
        if not self.loaded or n == 0:
            text = self.waiting if not self.loaded else self.empty
            rows.append(((f"{pad}{text}".ljust(width), "pane--muted"),))
            self.set_rows(rows)
            return
        wrap = next((c for c in cols if c.wrap), None)
        wrap_key = wrap.key if wrap is not None else ""
        wrapped: list[tuple[str, ...]] = []
        if wrap is not None:
            # A text wider than its column goes on over the lines below (an event log).
            wrapped = [wrap_text(r.get(wrap_key, ("", ""))[0], wrap.width) for r in self._data]
            heights = [len(lines) for lines in wrapped]
        else:
            # Detail lines are shown for every row or for none (a position without its TP/SL
            # line must not look unprotected): only when they all fit, and are not said yet.
            heights = [2 if DETAIL in r else 1 for r in self._data]
            if sum(heights) > room or any(c.key == self.detail_column for c in cols):
                heights = [1] * n
        details = wrap is None and max(heights, default=1) > 1
        cue = sum(heights) > room
        avail = room - 1 if cue else room
        top, end = self._window(heights, max(0, avail)) if cue else (0, n)
        full_top, full_end = top, end  # the rows shown whole (scrolling counts whole rows)
        cut_row: int | None = None
        if wrap is not None and cue:
            left = avail - sum(heights[top:end])
            if left > 0 and (top > 0 or end < n):
                # A wrapped row that does not fit whole shows the lines left (its last ends
                # in "…"), not a blank: the one above the first shown (the newest at the
                # bottom), else the one below the last.
                if top > 0:
                    top = cut_row = top - 1
                else:
                    cut_row, end = end, end + 1
                text = self._data[cut_row].get(wrap_key, ("", ""))[0]
                wrapped[cut_row] = wrap_text(text, wrap.width, left)
        show_cursor = self.can_focus and self.has_focus
        used = 0
        shown_rows = self._shown_rows
        shown_rows.begin(cols, inner)

        def laid_out(data: dict[str, Cell], fill: str, first: bool = True) -> Row:
            lead = ("▶", "pane--accent pane--sel") if fill and first else (pad, fill)
            return (lead, *layout_row(cols, data, inner, fill=fill), (pad, fill))

        for i in range(top, end):
            data = self._data[i]
            fill = "pane--sel" if show_cursor and i == self._cursor else ""
            lines = wrapped[i] if wrapped else ()
            if len(lines) > 1 or i == cut_row:  # its first line here, the rest below
                data = {**data, wrap_key: (lines[0], data[wrap_key][1])}
            self._row_at[len(rows)] = i
            key = (fill, *data.items())
            rows.append(shown_rows.row(key, partial(laid_out, data, fill)))
            used += 1
            for line in lines[1:]:  # only a wrapped row has more lines
                if used >= avail:
                    break
                more = {wrap_key: (line, data[wrap_key][1])}
                self._row_at[len(rows)] = i
                more_key = ("more", fill, *more.items())
                rows.append(shown_rows.row(more_key, partial(laid_out, more, fill, False)))
                used += 1
            detail = data.get(DETAIL) if details else None
            if detail is not None and used < avail:
                text, style = detail
                rows.append(((pad + fit_text(text, inner) + pad, style),))
                used += 1
        self.hidden_rows = n - (end - top)
        self._shown = full_end - full_top
        if cue:
            rows.append(self._cue(top, n - end, n, width))
        self.set_rows(rows)

    def _fit(self, inner: int, room: int) -> list[Column]:
        """Columns for the width; when the detail lines fit and the detail column cannot be
        shown in full, the lines say it and the column's short form gives its room back."""
        cols = fit_columns(self.columns, inner, content=self._content, spread=SPREAD)
        key = self.detail_column
        if key is None or any(c.key == key for c in cols):
            return cols
        if self._lines(self._data) <= room and any(DETAIL in r for r in self._data):
            rest = [c for c in self.columns if c.key != key]
            cols = fit_columns(rest, inner, content=self._content, spread=SPREAD)
        return cols

    def _cue(self, above: int, below: int, total: int, width: int) -> Row:
        """``▲ 2 above · ▼ 6 more · 12 orders · tab: scroll``."""
        parts = []
        if above:
            parts.append(f"▲ {above} above")
        if below:
            parts.append(f"▼ {below} more")
        parts.append(f"{total} {self.noun}")
        if self.can_focus and not self.has_focus:
            parts.append("tab: scroll")
        text = " · ".join(parts)
        if len(text) + MARGIN > width:
            text = " ".join(p for p in parts[:2])
        return ((fit_text(" " * MARGIN + text, width), "pane--accent"),)
