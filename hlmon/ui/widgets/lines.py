"""The line-API base every hlmon pane is built on, and a small column layout helper.

Why not ``DataTable``: any cell update there re-renders every visible cell on the next paint.
A ``LinePane`` holds its content as rows of ``(text, style-name)`` cells. ``set_rows`` compares
the new rows with the old ones and refreshes only the screen lines that differ; each line's
``Strip`` is built once and cached until that row, the width or the styles change. A pane that
did not change costs nothing, and one that changed costs only its changed lines.

Freshness is part of the base: ``set_freshness`` puts ``STALE 18s`` or ``REST`` in the border
title, and a stale pane is dimmed (the ``dim`` attribute, which survives 16 colours and
``NO_COLOR``) and gets the ``-stale`` class for a warning border.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.markup import escape
from textual.strip import Strip
from textual.widget import Widget

Cell = tuple[str, str]
"""One run of text and the name of its style (``""`` is the pane's own style)."""
Row = tuple[Cell, ...]
"""One screen line of a pane."""

Align = Literal["left", "right", "center"]

_DIM = Style(dim=True)


@dataclass(frozen=True)
class Column:
    """A column of a pane laid out by ``fit_columns``."""

    key: str
    """Name used to look the cell up in a row dict."""
    label: str
    """Header text."""
    width: int
    """Width in cells (the minimum for a flexible column)."""
    align: Align = "right"
    """Alignment of header and cells."""
    priority: int = 0
    """Columns with the lowest priority are dropped first when the pane is narrow."""
    flex: bool = False
    """A flexible column takes the width left over after the fixed ones."""


def fit_columns(columns: Sequence[Column], width: int, gap: int = 1) -> list[Column]:
    """Choose the columns that fit in ``width`` cells and widen the flexible ones.

    Args:
        columns: All columns in display order.
        width: Available cells.
        gap: Cells between columns.

    Returns:
        The surviving columns, in order, with flexible columns sized to fill the width.
    """
    cols = list(columns)

    def needed(cs: list[Column]) -> int:
        return sum(c.width for c in cs) + gap * max(0, len(cs) - 1)

    while len(cols) > 1 and needed(cols) > width:
        victim = min(range(len(cols)), key=lambda i: (cols[i].priority, -i))
        cols.pop(victim)
    spare = width - needed(cols)
    flex = [i for i, c in enumerate(cols) if c.flex]
    if spare > 0 and flex:
        share, extra = divmod(spare, len(flex))
        for n, i in enumerate(flex):
            c = cols[i]
            cols[i] = Column(
                c.key, c.label, c.width + share + (1 if n < extra else 0), c.align, c.priority, True
            )
    return cols


def fit_text(text: str, width: int, align: Align = "left") -> str:
    """Pad or cut ``text`` to exactly ``width`` cells (cut text ends with ``…``)."""
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: width - 1] + "…" if width > 1 else text[:width]
    if align == "right":
        return text.rjust(width)
    if align == "center":
        return text.center(width)
    return text.ljust(width)


def layout_row(
    columns: Sequence[Column],
    cells: dict[str, Cell],
    width: int,
    *,
    gap: int = 1,
    fill: str = "",
) -> Row:
    """Lay ``cells`` (by column key) out under ``columns`` as one row of exactly ``width`` cells.

    Args:
        columns: Columns from ``fit_columns``.
        cells: ``key -> (text, style name)``; missing keys are blank.
        width: Row width.
        gap: Cells between columns.
        fill: Style name for gaps and padding (e.g. a selected-row highlight).

    Returns:
        The row.
    """
    out: list[Cell] = []
    used = 0
    for i, col in enumerate(columns):
        if i:
            out.append((" " * gap, fill))
            used += gap
        text, style = cells.get(col.key, ("", ""))
        out.append((fit_text(text, col.width, col.align), combine(style, fill)))
        used += col.width
    if used < width:
        out.append((" " * (width - used), fill))
    return clip_row(tuple(out), width)


def combine(style: str, overlay: str) -> str:
    """Style name for ``style`` with ``overlay`` on top (e.g. a selected-row background)."""
    if not overlay or style == overlay:
        return style or overlay
    return f"{style} {overlay}" if style else overlay


def header_row(columns: Sequence[Column], width: int, style: str = "pane--head") -> Row:
    """The header line for ``columns``."""
    return layout_row(columns, {c.key: (c.label, style) for c in columns}, width, fill=style)


def clip_row(row: Row, width: int) -> Row:
    """Cut a row to at most ``width`` cells."""
    total = 0
    out: list[Cell] = []
    for text, style in row:
        if total + len(text) > width:
            text = text[: max(0, width - total)]
            if text:
                out.append((text, style))
            break
        out.append((text, style))
        total += len(text)
    return tuple(out)


# C0 controls, DEL and C1 controls shown as a visible mark: exchange strings (coin names,
# server error texts) reach the screen, and an ESC or BEL in one must not reach the terminal.
_CONTROLS = {c: "\ufffd" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CONTROL_TABLE = str.maketrans(_CONTROLS)


def visible(text: str) -> str:
    """``text`` with every control character replaced by U+FFFD (same cell count)."""
    return text.translate(_CONTROL_TABLE)


def pad_row(row: Row, width: int, style: str = "") -> Row:
    """Cut or pad a row to exactly ``width`` cells."""
    row = clip_row(row, width)
    used = sum(len(t) for t, _ in row)
    if used < width:
        row = (*row, (" " * (width - used), style))
    return row


def title_markup(caption: str, *, stale_age: str | None = None, rest: bool = False) -> str:
    """Border title markup: the caption, then ``STALE 18s`` or ``REST`` when they apply."""
    text = escape(caption)
    if stale_age is not None:
        text += f"  [b reverse]STALE {escape(stale_age)}[/]"
    elif rest:
        text += "  [b]REST[/]"
    return text


def set_border_title(widget: Widget, markup: str) -> None:
    """Set ``widget.border_title`` and repaint only the top border line that shows it.

    Textual's setter repaints the whole widget: every line re-rendered and re-sent to the
    terminal. A title that changes several times a second (the book's exchange time, a stale
    age) would cost the whole pane each time. Falls back to the setter before the first layout.
    """
    if not widget.is_mounted or not widget.size or not hasattr(widget, "_border_title"):
        widget.border_title = markup
        return
    # What the setter stores (textual.widget._BorderTitle.__set__), without its refresh().
    widget._border_title = widget.render_str(markup).expand_tabs(4).split()[0]
    x, y = widget.content_offset  # regions are content-relative: the border is above it
    widget.refresh(Region(-x, -y, widget.outer_size.width, 1))


class LinePane(Widget):
    """A pane drawn line by line from cached strips; only changed lines are repainted."""

    COMPONENT_CLASSES = {
        "pane--head",
        "pane--muted",
        "pane--up",
        "pane--down",
        "pane--warn",
        "pane--bad",
        "pane--sel",
        "pane--accent",
        "pane--bid",
        "pane--ask",
        "pane--bid-bar",
        "pane--ask-bar",
        "pane--strong",
    }

    DEFAULT_CSS = """
    LinePane {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text;
        padding: 0 0;
    }
    LinePane:focus { border: round $accent; }
    LinePane.-stale { border: round $error; border-title-color: $error; }
    LinePane > .pane--head { color: $text-muted; text-style: bold; }
    LinePane > .pane--muted { color: $text-muted; }
    LinePane > .pane--up { color: $success; }
    LinePane > .pane--down { color: $error; }
    LinePane > .pane--warn { color: $warning; text-style: bold; }
    LinePane > .pane--bad { color: $error; text-style: bold; }
    LinePane > .pane--sel { background: $boost; text-style: bold; }
    LinePane > .pane--accent { color: $accent; text-style: bold; }
    LinePane > .pane--strong { text-style: bold; }
    LinePane > .pane--bid { color: $success; }
    LinePane > .pane--ask { color: $error; }
    LinePane > .pane--bid-bar { color: $success 60%; }
    LinePane > .pane--ask-bar { color: $error 60%; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[Row] = []
        self._strips: dict[int, Strip] = {}
        """The strip of each line on screen, by line (see ``set_rows``)."""
        self._style_cache: dict[str, Style] = {}
        self._dimmed = False
        self._caption = ""
        self._title_suffix: tuple[str | None, bool] = (None, False)
        self.lines_painted = 0
        """How many lines were (re)built: a cheap counter for tests and benchmarks."""

    # ------------------------------------------------------------------ content

    @property
    def rows(self) -> list[Row]:
        """The current rows (read-only use)."""
        return self._rows

    @property
    def text_lines(self) -> list[str]:
        """The current content as plain text lines (for tests)."""
        return ["".join(t for t, _ in row) for row in self._rows]

    @property
    def inner_width(self) -> int:
        """Width available to rows."""
        return self.scrollable_content_region.width or self.content_region.width

    @property
    def inner_height(self) -> int:
        """Height available to rows."""
        return self.content_region.height

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Replace the content; only lines that differ are repainted.

        A row that only moved (a tape scrolling, book levels shifting) keeps its strip: the
        line is repainted, but its Rich segments are not built again. Only the strips of rows
        on screen are kept, so they are bounded by the pane's height.
        """
        new = list(rows)
        old = self._rows
        strips = self._strips
        moved = {old[y]: strip for y, strip in strips.items() if y < len(old)}
        kept: dict[int, Strip] = {}
        dirty: list[int] = []
        for y in range(max(len(new), len(old))):
            if y < len(new) and y < len(old) and new[y] == old[y]:
                if y in strips:
                    kept[y] = strips[y]
                continue
            dirty.append(y)
            if y < len(new) and (strip := moved.get(new[y])) is not None:
                kept[y] = strip
        self._strips = kept
        self._rows = new
        if not dirty:
            return
        # One region per run of consecutive dirty lines, across the whole pane with its
        # borders: a terminal update that covers a pane's full width is sent as is, one that
        # covers part of it is cut first (Textual crops every such strip on every paint).
        left = self.content_offset.x
        width = self.outer_size.width or 1
        start = prev = dirty[0]
        for y in dirty[1:]:
            if y != prev + 1:
                self.refresh(Region(-left, start, width, prev - start + 1))
                start = y
            prev = y
        self.refresh(Region(-left, start, width, prev - start + 1))

    def set_caption(self, caption: str) -> None:
        """Set the title text before the freshness marks."""
        if caption != self._caption:
            self._caption = caption
            self._update_title()

    def set_freshness(self, *, stale_age: str | None, rest: bool) -> None:
        """Mark the pane stale (dim, ``STALE age`` in the title) or REST-fed, or neither."""
        suffix = (stale_age, rest)
        if suffix != self._title_suffix:
            self._title_suffix = suffix
            self._update_title()
        stale = stale_age is not None
        if stale != self._dimmed:
            self._dimmed = stale
            self.set_class(stale, "-stale")
            self._invalidate_strips()

    @property
    def is_stale(self) -> bool:
        """Whether the pane currently shows stale data."""
        return self._dimmed

    def _update_title(self) -> None:
        stale_age, rest = self._title_suffix
        set_border_title(self, title_markup(self._caption, stale_age=stale_age, rest=rest))

    # ------------------------------------------------------------------ painting

    def _invalidate_strips(self) -> None:
        self._strips.clear()
        self._style_cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        """Styles changed (theme, classes): rebuild strips with the new colours."""
        self._strips.clear()
        self._style_cache.clear()
        super().notify_style_update()

    def style_for(self, name: str) -> Style:
        """The Rich style for a style name (cached until the styles change)."""
        style = self._style_cache.get(name)
        if style is None:
            base = self.rich_style
            if name:
                names = name.split()
                try:
                    base = self.get_component_rich_style(*names)
                except KeyError:
                    pass
            if self._dimmed:
                base = base + _DIM
            style = self._style_cache[name] = base
        return style

    def render_line(self, y: int) -> Strip:
        """Return the cached strip for line ``y`` (built on first use)."""
        strip = self._strips.get(y)
        if strip is None:
            width = self.size.width
            if y < len(self._rows):
                strip = self._build_strip(self._rows[y], width)
            else:
                strip = Strip.blank(width, self.style_for(""))
            self._strips[y] = strip
            self.lines_painted += 1
        return strip

    def _build_strip(self, row: Row, width: int) -> Strip:
        """One row as a strip of exactly ``width`` cells.

        The row's text is measured once (``cell_len`` of the joined text, ``len`` when it is
        ASCII) and handed to the strip, which would otherwise measure every segment again; the
        control-character guard runs only when the text has something unprintable.
        """
        style_for = self.style_for
        text = "".join(t for t, _ in row)
        if text.isprintable():
            segments = [Segment(t, style_for(name)) for t, name in row]
        else:
            segments = [Segment(visible(t), style_for(name)) for t, name in row]
            text = visible(text)
        cells = len(text) if text.isascii() else cell_len(text)
        strip = Strip(segments, cells)
        return strip if cells == width else strip.adjust_cell_length(width, style_for(""))

    def on_resize(self) -> None:
        """A new size: every strip must be rebuilt, and subclasses re-layout their rows."""
        self._strips.clear()
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute rows from the model (subclasses override)."""
