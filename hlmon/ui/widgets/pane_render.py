"""A pane's lines made into strips, and painted without Textual's per-paint style lookups.

Two costs of a repainted pane that are not its changed lines' own:

- Each row becomes a strip of Rich segments, one per cell. Neighbouring cells in one style (a
  table's numbers and the gaps between them) are one run of text to the terminal; each segment
  is styled, divided and written with its own escape sequences. ``build_line`` joins the runs:
  what the terminal shows is the same, and under the ``stress`` profile the bytes sent fell
  from ~100 to ~75 kB a second.
- Before it styles a single line, Textual's ``StylesCache.render_widget`` walks the pane's
  ancestors for its background colours and opacity, builds the border title's and subtitle's
  styles and asks the app for its ANSI theme: on every paint of every pane, some 20 times a
  second for the trade tape. ``PaintContext`` keeps those answers until the pane's styles can
  have changed. Textual calls ``notify_style_update`` on a pane whenever its CSS is applied
  again (a theme, a class or pseudo-class of it or of any ancestor, which re-styles the whole
  subtree) and repaints it whole (``refresh()`` with no region) when an inline style of it or
  of an ancestor changes; both forget the context. Everything else (the size, the content
  region, the titles' text, the app's line filters) is read at every paint, as Textual does.

``tests/ui/test_pane_render.py`` compares the painted lines with Textual's own
``render_widget`` after each kind of change. Private API: ``StylesCache.render`` and
``_simple_strip``, the titles' ``_get_*_style_information`` (Textual is pinned in
``requirements.lock``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from hlmon.ui.widgets.lean_strip import LeanStrip
from hlmon.ui.widgets.pane_styles import PaneStylesCache

if TYPE_CHECKING:
    from textual.widget import Widget

Cell = tuple[str, str]
"""One run of text and the name of its style (``""`` is the pane's own style)."""
Row = tuple[Cell, ...]
"""One screen line of a pane."""


def join_runs(row: Row) -> Row:
    """``row`` with each run of neighbouring cells in one style name joined into one cell."""
    out: list[Cell] = []
    last = None
    for text, name in row:
        if name == last:
            out[-1] = (out[-1][0] + text, name)
        else:
            out.append((text, name))
            last = name
    return tuple(out)


# C0 controls, DEL and C1 controls shown as a visible mark: exchange strings (coin names,
# server error texts) reach the screen, and an ESC or BEL in one must not reach the terminal.
_CONTROLS = {c: "\ufffd" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CONTROL_TABLE = str.maketrans(_CONTROLS)


def visible(text: str) -> str:
    """``text`` with every control character replaced by U+FFFD (same cell count)."""
    return text.translate(_CONTROL_TABLE)


def build_line(
    row: Row, width: int, style_for: Callable[[str], Style], plain: Mapping[str, bool]
) -> Strip:
    """``row`` as a strip of exactly ``width`` cells, its runs joined (see the module).

    The text is measured once (``cell_len`` of the joined text, ``len`` when it is ASCII) and
    handed to the strip, which would otherwise measure every segment again; the
    control-character guard runs only when the text has something unprintable. A row shorter
    than the pane is padded in the pane's own style (``""``), as ``Strip`` would. ``plain``
    says, per style name already passed to ``style_for``, whether the truecolor filter leaves
    it as it is (``LeanStrip``).
    """
    runs = join_runs(row)
    text = "".join(t for t, _ in runs)
    if text.isprintable():
        segments = [Segment(t, style_for(name)) for t, name in runs]
    else:
        segments = [Segment(visible(t), style_for(name)) for t, name in runs]
        text = visible(text)
    cells = len(text) if text.isascii() else cell_len(text)
    pane_style = style_for("")
    if cells > width:  # wider than the pane: Textual's crop
        return Strip(segments, cells).adjust_cell_length(width, pane_style)
    if cells < width:
        if runs and runs[-1][1] == "":  # the padding joins a last run in the pane's style
            segments[-1] = Segment(segments[-1].text + " " * (width - cells), pane_style)
        else:
            segments.append(Segment(" " * (width - cells), pane_style))
    return LeanStrip(segments, width, plain[""] and all(plain[name] for _, name in runs))


class PaintContext:
    """What ``StylesCache.render_widget`` works out for a pane before its lines, kept until
    the pane's styles can have changed (``forget``)."""

    def __init__(self) -> None:
        self._known: tuple[Any, ...] | None = None

    def forget(self) -> None:
        self._known = None

    def render_lines(
        self, widget: Widget, crop: Region, line_at: Callable[[int, int], Strip]
    ) -> list[Strip]:
        """``widget``'s lines within ``crop``, as ``Widget.render_lines`` gives them;
        ``line_at(y, width)`` is its ``render_line`` for a known content width."""
        known = self._known
        cache = widget._styles_cache
        if known is None:
            if isinstance(cache, PaneStylesCache):
                cache.forget_plan()  # worked out again in this render, then kept
            base_background, background = widget.background_colors
            app = widget.app
            known = self._known = (
                base_background,
                background,
                widget._get_title_style_information(base_background),
                widget._get_subtitle_style_information(base_background),
                widget.opacity,
                app.ansi_theme,
                app.native_ansi_color,
            )
        base_background, background, title_info, subtitle_info, opacity, theme, native = known
        title, subtitle = widget._border_title, widget._border_subtitle
        styles = widget.styles
        region = widget.region
        content_size = region.shrink(styles.gutter).size  # Widget.content_region's
        width = content_size.width
        cache._simple_strip = None  # as render_widget does before each render
        strips = cache.render(
            styles,
            region.size,
            base_background,
            background,
            lambda y: line_at(y, width),  # Widget.render_line, its width known
            widget.get_line_filters(),
            None if title is None else (title, *title_info),
            None if subtitle is None else (subtitle, *subtitle_info),
            content_size=content_size,
            padding=styles.padding,
            crop=crop,
            opacity=opacity,
            ansi_theme=theme,
            native_ansi=native,
        )
        if isinstance(cache, PaneStylesCache):
            cache.keep_plan()
        if widget.auto_links:  # as render_widget: a hovered link's style
            hover_style = widget.hover_style
            if hover_style._link_id and hover_style._meta and "@click" in hover_style.meta:
                link_style_hover = widget.link_style_hover
                if link_style_hover:
                    strips = [
                        strip.style_links(hover_style.link_id, link_style_hover) for strip in strips
                    ]
        return strips
