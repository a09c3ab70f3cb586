"""A line-API table shared by positions, orders, fills, funding, the log and accounts.

Columns have fixed widths (one may flex) and a priority: a narrow pane drops the least
important columns instead of wrapping. Cells are ``(text, style-name)`` pairs; only changed
lines are repainted. When focusable, the table has a cursor row (``up``/``down``) whose key is
``selected_key``; otherwise it shows the head of its rows (or the tail, for logs).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from textual.binding import Binding
from textual.message import Message

from hlmon.ui.widgets.lines import Cell, Column, LinePane, Row, fit_columns, header_row, layout_row


class TableView(LinePane):
    """Rows under fixed-width columns, drawn with the line API."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
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
        tail: bool = False,
        cursor: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = tuple(columns)
        """All columns; the narrow ones are dropped when the pane is narrow."""
        self.empty = empty
        """Text shown when there are no rows."""
        self.tail = tail
        """Show the last rows when they do not all fit (logs), instead of the first."""
        self.can_focus = cursor
        self._data: list[dict[str, Cell]] = []
        self._keys: list[Hashable] = []
        self._cursor = 0
        self._top = 0

    @property
    def row_count(self) -> int:
        """Number of data rows."""
        return len(self._data)

    @property
    def selected_key(self) -> Hashable | None:
        """Key of the cursor row (focusable tables), or None."""
        if not self.can_focus or not self._keys:
            return None
        return self._keys[min(self._cursor, len(self._keys) - 1)]

    def set_data(
        self, rows: Sequence[dict[str, Cell]], keys: Sequence[Hashable] | None = None
    ) -> None:
        """Replace the data rows; the cursor stays on the same key when it still exists."""
        old_key = self.selected_key
        height = self.styles.height
        if len(rows) != len(self._data) and (height is None or height.is_auto):
            # An auto-height table grows or shrinks (a layout pass of the whole screen: not
            # for a table of fixed or fractional height).
            self.refresh(layout=True)
        self._data = list(rows)
        self._keys = list(keys) if keys is not None else list(range(len(self._data)))
        if old_key is not None and old_key in self._keys:
            self._cursor = self._keys.index(old_key)
        self._cursor = min(self._cursor, max(0, len(self._data) - 1))
        self.rebuild()

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """Header plus one line per row (at least one, for the empty message)."""
        return 1 + max(1, len(self._data))

    def action_cursor(self, delta: int) -> None:
        """Move the cursor row."""
        if not self._data:
            return
        self._cursor = min(max(self._cursor + delta, 0), len(self._data) - 1)
        self.rebuild()
        self.post_message(self.RowHighlighted(self, self.selected_key))

    def on_focus(self) -> None:
        """Show the cursor."""
        self.rebuild()

    def on_blur(self) -> None:
        """Hide the cursor."""
        self.rebuild()

    def rebuild(self) -> None:
        """Lay the visible rows out for the current size."""
        width, height = self.inner_width, self.inner_height
        if width <= 0 or height <= 0:
            return
        cols = fit_columns(self.columns, width)
        rows: list[Row] = [header_row(cols, width)]
        room = max(0, height - 1)
        n = len(self._data)
        if n == 0:
            rows.append(((f" {self.empty}".ljust(width), "pane--muted"),))
            self.set_rows(rows)
            return
        if self.can_focus:
            # Keep the cursor in view.
            if self._cursor < self._top:
                self._top = self._cursor
            elif self._cursor >= self._top + room:
                self._top = self._cursor - room + 1
            self._top = max(0, min(self._top, max(0, n - room)))
            start = self._top
        elif self.tail:
            start = max(0, n - room)
        else:
            start = 0
        show_cursor = self.can_focus and self.has_focus
        for i in range(start, min(n, start + room)):
            fill = "pane--sel" if show_cursor and i == self._cursor else ""
            rows.append(layout_row(cols, self._data[i], width, fill=fill))
        self.set_rows(rows)
