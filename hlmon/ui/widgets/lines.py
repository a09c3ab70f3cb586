"""The line-API base every hlmon pane is built on, and a small column layout helper.

Why not ``DataTable``: any cell update there re-renders every visible cell on the next paint.
A ``LinePane`` holds its content as rows of ``(text, style-name)`` cells. ``set_rows`` compares
the new rows with the old ones and refreshes only the screen lines that differ; each line's
``Strip`` is built once and cached until that row, the width or the styles change. A pane that
did not change costs nothing, and one that changed costs only its changed lines.

Freshness is part of the base: ``set_freshness`` puts ``STALE 18s``, ``LAG 3.0s`` or ``REST``
in the border title, and a stale pane is dimmed (the ``dim`` attribute, which survives 16
colours and ``NO_COLOR``) and gets the ``-stale`` class for a warning border; a lagging one gets
``-lag`` (its own border colour, not dimmed: late data still moves).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Self
from weakref import WeakKeyDictionary

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.markup import escape
from textual.strip import Strip
from textual.widget import Widget

from hlmon.round_memo import RoundMemo
from hlmon.ui.frame_repaints import take_repaint
from hlmon.ui.widgets.lean_strip import LeanStrip, truecolor_plain
from hlmon.ui.widgets.pane_render import Cell as Cell
from hlmon.ui.widgets.pane_render import PaintContext, build_line
from hlmon.ui.widgets.pane_render import Row as Row
from hlmon.ui.widgets.pane_styles import PaneStylesCache

if TYPE_CHECKING:
    from textual.screen import Screen

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
    """Width in cells: the minimum when the pane sizes columns by content."""
    align: Align = "right"
    """Alignment of header and cells."""
    priority: int = 0
    """Columns with the lowest priority are dropped first when the pane is narrow."""
    flex: bool = False
    """A flexible column takes the width left over after the fixed ones."""
    cut: bool = False
    """Free text (an event, a label) that may be cut (ending in ``…``) down to ``width``
    before any column is dropped. Other columns are never cut when sized by content."""
    alt: str | None = None
    """Key of a shorter form of the cells (``RO`` for ``reduce only``), used instead of
    dropping the column when the pane is narrow."""
    wrap: bool = False
    """Free text shown whole (a table's event log): a cell wider than the column goes on over
    the lines below it, instead of being cut."""


def content_widths(rows: Iterable[Mapping[str, Cell]]) -> dict[str, int]:
    """The widest text of each cell key over ``rows`` (for ``fit_columns``)."""
    widths: dict[str, int] = {}
    for row in rows:
        for key, (text, _) in row.items():
            n = len(text)
            if n > widths.get(key, 0):
                widths[key] = n
    return widths


def fit_columns(
    columns: Sequence[Column],
    width: int,
    gap: int = 1,
    content: Mapping[str, int] | None = None,
    spread: int = 0,
) -> list[Column]:
    """Choose the columns that fit in ``width`` cells and size them.

    Without ``content`` every column has its declared width. With ``content`` (the widest
    text per key, see ``content_widths``) a column is as wide as its header and its widest
    cell, so nothing is cut while there is room, and a column empty in every row is left
    out (no ``trigger`` column without trigger orders); when the pane is too narrow, free-text
    columns (``cut``) shrink first, then the least important columns switch to their short
    form (``alt``) or are dropped, whole.

    Args:
        columns: All columns in display order.
        width: Available cells.
        gap: Cells between columns.
        content: Widest cell text per key (None: declared widths).
        spread: Up to this many spare cells are added to each fixed column (more air
            between columns on a wide pane) before the flexible columns take the rest.

    Returns:
        The surviving columns, in order, with flexible columns sized to fill the width.
    """
    # Panes re-lay out on every frame that changes them, with the same columns and widths
    # almost every time: the answer is memoised (it is a pure function of its arguments).
    items = None if content is None else tuple(sorted(content.items()))
    return list(_fit_columns(tuple(columns), width, gap, items, spread))


@lru_cache(maxsize=256)
def _fit_columns(
    columns: tuple[Column, ...],
    width: int,
    gap: int,
    content_items: tuple[tuple[str, int], ...] | None,
    spread: int,
) -> tuple[Column, ...]:
    content = None if content_items is None else dict(content_items)

    def natural(key: str, c: Column) -> int:
        if content is None:
            return c.width
        return max(c.width, len(c.label), content.get(key, 0))

    def says_something(c: Column) -> bool:
        assert content is not None
        return c.flex or content.get(c.key, 0) > 0 or content.get(c.alt or c.key, 0) > 0

    cols = [replace(c, width=natural(c.key, c)) for c in columns]
    if content:  # with rows, a column with nothing to say in any of them costs no room
        cols = [c for c in cols if says_something(c)]
    minimum = {c.key: c.width for c in columns}

    def needed(cs: list[Column]) -> int:
        return sum(c.width for c in cs) + gap * max(0, len(cs) - 1)

    # Free text gives way first, down to its declared width.
    for i, c in enumerate(cols):
        excess = needed(cols) - width
        if excess <= 0:
            break
        if c.cut:
            cols[i] = replace(c, width=max(minimum[c.key], c.width - excess))
    while len(cols) > 1 and needed(cols) > width:
        victim = min(range(len(cols)), key=lambda i: (cols[i].priority, -i))
        c = cols[victim]
        if content is not None and c.alt is not None and c.key != c.alt:
            short = max(len(c.label), content.get(c.alt, 0))
            if short < c.width:
                cols[victim] = replace(c, key=c.alt, width=short)
                continue
        cols.pop(victim)
    spare = width - needed(cols)
    fixed = [i for i, c in enumerate(cols) if not c.flex and c.width > 2]  # marks stay tight
    if spread > 0 and spare > 0 and fixed:
        extra = min(spread, spare // len(fixed))
        for i in fixed:
            cols[i] = replace(cols[i], width=cols[i].width + extra)
        spare -= extra * len(fixed)
    flex = [i for i, c in enumerate(cols) if c.flex]
    if spare > 0 and flex:
        share, extra = divmod(spare, len(flex))
        for n, i in enumerate(flex):
            cols[i] = replace(cols[i], width=cols[i].width + share + (1 if n < extra else 0))
    return tuple(cols)


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


WRAP_LINES = 3
"""The most lines a wrapped cell takes; a longer text ends its last line with ``…`` (a table
shows it whole on Enter)."""


@lru_cache(maxsize=2048)
def wrap_text(text: str, width: int, max_lines: int = WRAP_LINES) -> tuple[str, ...]:
    """``text`` in at most ``max_lines`` lines of at most ``width`` cells, broken between
    words where it can (a leading indent is kept on the first line); the last line of a
    longer text ends in ``…``."""
    if width <= 0 or len(text) <= width:
        return (text,)
    lines = textwrap.wrap(text, width, break_on_hyphens=False) or [text[:width]]
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], fit_text(rest, width).rstrip()]
    return tuple(lines)


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


class ShownRows:
    """The rows a pane laid out at its last rebuild, by a key of what each row shows, kept for
    the next rebuild while the layout (columns and width) is the same: a row whose key is
    unchanged is not formatted and laid out again. It holds one screen's worth (the last
    rebuild's rows)."""

    def __init__(self) -> None:
        self._rows: RoundMemo[Hashable, Row] = RoundMemo()
        self._layout: tuple[list[Column], int] = ([], 0)

    def begin(self, columns: list[Column], width: int) -> None:
        """A rebuild starts in this layout: the last rebuild's rows are usable if it is the
        same one."""
        self._rows.begin(keep=self._layout == (columns, width))
        self._layout = (columns, width)

    def row(self, key: Hashable, build: Callable[[], Row]) -> Row:
        """The row for ``key``: the last rebuild's, else ``build()``'s."""
        return self._rows.get(key, (), build)

    def clear(self) -> None:
        """Forget every row (the next rebuild lays each out)."""
        self._rows.clear()


def pad_row(row: Row, width: int, style: str = "") -> Row:
    """Cut or pad a row to exactly ``width`` cells."""
    row = clip_row(row, width)
    used = sum(len(t) for t, _ in row)
    if used < width:
        row = (*row, (" " * (width - used), style))
    return row


def title_markup(
    caption: str,
    *,
    stale_age: str | None = None,
    rest: bool = False,
    lag_age: str | None = None,
    note: str | None = None,
) -> str:
    """Border title markup: the caption, then ``STALE 18s``, ``LAG 3.0s`` or ``REST`` when
    they apply, then ``note`` (a part of the pane that is stale, ``ctx STALE 32s``)."""
    text = escape(caption)
    if stale_age is not None:
        text += f"  [b reverse]STALE {escape(stale_age)}[/]"
    elif lag_age is not None:
        text += f"  [b underline $secondary]LAG {escape(lag_age)}[/]"
    elif rest:
        text += "  [b]REST[/]"
    if note:
        text += f"  [b $error]{escape(note)}[/]"
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


_SUBTITLES: WeakKeyDictionary[Widget, str] = WeakKeyDictionary()
"""The markup last given to ``set_border_subtitle`` per widget: Textual's getter hands back
markup of its own (``[/]`` comes back as ``[/b]``), never equal to what was set."""


def set_border_subtitle(widget: Widget, markup: str) -> None:
    """Set ``widget.border_subtitle`` when it changed, repainting only the bottom border line
    (see ``set_border_title``)."""
    if markup == _SUBTITLES.get(widget, widget.border_subtitle or ""):
        return
    _SUBTITLES[widget] = markup
    if not widget.is_mounted or not widget.size or not hasattr(widget, "_border_subtitle"):
        widget.border_subtitle = markup
        return
    widget._border_subtitle = widget.render_str(markup).expand_tabs(4).split()[0]
    x, y = widget.content_offset
    widget.refresh(Region(-x, widget.outer_size.height - 1 - y, widget.outer_size.width, 1))


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
    LinePane.-lag { border: round $secondary; }
    LinePane > .pane--head { color: $text-muted; text-style: bold; }
    LinePane > .pane--muted { color: $text-muted; }
    LinePane > .pane--up { color: $success; }
    LinePane > .pane--down { color: $error; }
    LinePane > .pane--warn { color: $warning; text-style: bold; }
    LinePane > .pane--bad { color: $error; text-style: bold; }
    LinePane > .pane--sel { background: $accent 35%; text-style: bold; }
    LinePane > .pane--accent { color: $accent; text-style: bold; }
    LinePane > .pane--strong { text-style: bold; }
    LinePane > .pane--bid { color: $success; }
    LinePane > .pane--ask { color: $error; }
    LinePane > .pane--bid-bar { color: $success 60%; }
    LinePane > .pane--ask-bar { color: $error 60%; }
    /* NO_COLOR: Textual turns every colour grey by its luminance, and a red or a green
       becomes a dark grey on a dark ground. Meaning is carried by signs and glyphs
       (+/-, ▲▼, B/S, !), so values are drawn in the text colour; emphasis by bold/reverse. */
    LinePane:nocolor > .pane--up, LinePane:nocolor > .pane--down,
    LinePane:nocolor > .pane--bid, LinePane:nocolor > .pane--ask { color: $text; }
    LinePane:nocolor > .pane--bid-bar, LinePane:nocolor > .pane--ask-bar { color: $text 50%; }
    LinePane:nocolor > .pane--warn { color: $text; text-style: bold underline; }
    LinePane:nocolor > .pane--bad { color: $text; text-style: bold reverse; }
    LinePane:nocolor > .pane--sel { background: $surface; text-style: bold reverse; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # first: Textual may refresh (and so read the screen) during __init__
        self._paint_context = PaintContext()
        self._known_screen: tuple[object, Screen[object] | None] = (None, None)
        super().__init__(id=id, classes=classes)
        self._rows: list[Row] = []
        self._strips: dict[int, Strip] = {}
        """The strip of each line on screen, by line (see ``set_rows``)."""
        self._style_cache: dict[str, Style] = {}
        self._plain: dict[str, bool] = {}
        """Style name -> whether the truecolor filter leaves its style as it is (``LeanStrip``)."""
        self._dimmed = False
        self._caption = ""
        self._title_suffix: tuple[str | None, bool, str | None, str | None] = (
            None,
            False,
            None,
            None,
        )
        self.lines_painted = 0
        """How many lines were (re)built: a cheap counter for tests and benchmarks."""
        self._styles_cache = PaneStylesCache()  # side borders without per-line style work

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
    def screen(self) -> Screen[object]:
        """The screen this pane is on, looked up once per parent: Textual walks the ancestors
        on every read, and a pane's region (read at each rebuild and paint) starts there."""
        parent, screen = self._known_screen
        if screen is None or parent is not self._parent:
            screen = super().screen  # NoScreen while not mounted, as Textual's
            self._known_screen = (self._parent, screen)
        return screen

    @property
    def inner_width(self) -> int:
        """Width available to rows (0 while hidden)."""
        if not self.display:  # not laid out: Textual's lookup would end in an exception
            return 0
        return self.scrollable_content_region.width or self.content_region.width

    @property
    def inner_height(self) -> int:
        """Height available to rows (0 while hidden)."""
        return self.content_region.height if self.display else 0

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
        runs: list[Region] = []
        start = prev = dirty[0]
        for y in dirty[1:]:
            if y != prev + 1:
                runs.append(Region(-left, start, width, prev - start + 1))
                start = y
            prev = y
        runs.append(Region(-left, start, width, prev - start + 1))
        self.refresh(*runs)  # one refresh for them all (each is a pass through Textual's)

    def set_caption(self, caption: str) -> None:
        """Set the title text before the freshness marks."""
        if caption != self._caption:
            self._caption = caption
            self._update_title()

    def set_freshness(
        self,
        *,
        stale_age: str | None,
        rest: bool,
        lag_age: str | None = None,
        note: str | None = None,
    ) -> None:
        """Mark the pane stale (dim, ``STALE age`` in the title), lagging (``LAG 3.0s``, the
        ``-lag`` class: late data still moves, so it is not dimmed), REST-fed, or neither;
        ``note`` names a stale part of the pane (``ctx STALE 32s``) without dimming the rest."""
        suffix = (stale_age, rest, lag_age if stale_age is None else None, note)
        if suffix != self._title_suffix:
            self._title_suffix = suffix
            self._update_title()
        self.set_class(suffix[2] is not None, "-lag")
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
        stale_age, rest, lag_age, note = self._title_suffix
        set_border_title(
            self,
            title_markup(self._caption, stale_age=stale_age, rest=rest, lag_age=lag_age, note=note),
        )

    # ------------------------------------------------------------------ painting

    def _invalidate_strips(self) -> None:
        self._strips.clear()
        self._style_cache.clear()
        self._plain.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        """Styles changed (theme, classes): rebuild strips with the new colours."""
        self._strips.clear()
        self._style_cache.clear()
        self._plain.clear()
        self._paint_context.forget()
        super().notify_style_update()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Repaint; a whole-pane repaint (an inline style of the pane or of an ancestor
        changed, among others) also forgets the paint context (``pane_render``)."""
        if not regions:
            self._paint_context.forget()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def check_idle(self) -> None:
        """A refresh within a frame is handed to the screen when the frame ends
        (``frame_repaints``); any other goes through this pane's message loop."""
        if not take_repaint(self):
            super().check_idle()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual's lines of the pane, without its per-paint style lookups (``pane_render``)."""
        return self._paint_context.render_lines(self, crop, self.line_at)

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
            self._plain[name] = truecolor_plain(style)
        return style

    def render_line(self, y: int) -> Strip:
        """Return the cached strip for line ``y`` (built on first use)."""
        return self.line_at(y, self.size.width)

    def line_at(self, y: int, width: int) -> Strip:
        """``render_line`` for a content ``width`` the caller already knows (a paint)."""
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._rows):
                strip = build_line(self._rows[y], width, self.style_for, self._plain)
            else:
                style = self.style_for("")
                strip = LeanStrip([Segment(" " * width, style)], width, self._plain[""])
            self._strips[y] = strip
            self.lines_painted += 1
        return strip

    def on_resize(self) -> None:
        """A new size: every strip must be rebuilt, and subclasses re-layout their rows."""
        self._strips.clear()
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute rows from the model (subclasses override)."""
