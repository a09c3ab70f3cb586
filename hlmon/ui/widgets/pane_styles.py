"""A pane's changed lines styled without Textual's per-line border work.

Textual styles every repainted line of a widget anew (``StylesCache.render_line``): for a line
between a bordered pane's top and bottom edges that means, per side, a colour blend, a new
``Style``, a box lookup keyed by that style, and a new list around the content. For an hlmon
pane (no padding, tint, opacity, hatch or outline) that was about half of the ~40 µs a changed
line cost, and under load some 500 lines change a second.

``PaneStylesCache`` works out the two side cells once per border (type, colour, backgrounds)
and then builds such a line as ``[left, *content, right]`` itself: the same segments, in the
same styles, as Textual's path gives (``tests/ui/test_pane_styles.py`` compares both for every
pane and border state, and the SVG snapshots would show any difference). Any other line (the
top and bottom edges with their titles), or a pane whose styles use anything outside that
simple case, goes through Textual's own code.

Private API: ``textual._styles_cache.StylesCache`` and ``Widget._styles_cache`` (Textual is
pinned in ``requirements.lock``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from rich.segment import Segment
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.css.styles import StylesBase
from textual.geometry import Size, Spacing
from textual.strip import Strip
from textual.style import Style

from hlmon.ui.widgets.lean_strip import LeanStrip, truecolor_plain

SIDES = {
    "round": "│",
    "solid": "│",
    "double": "║",
    "heavy": "┃",
    "ascii": "|",
}
"""Border types whose side cell is drawn in the border's own colour on the pane's background
(Textual's inner style): the ones drawn here. Others (``tall``, ``panel``...) mix reversed
styles and are left to Textual."""

BARE: Literal["bare"] = "bare"
"""The plan of a pane with no border, padding or effect: its lines are its content's."""

_Plan = tuple[Segment, Segment, Any, bool] | Literal["bare"] | None
"""(left cell, right cell, the background's Rich style, whether both cells' styles are
truecolor-plain), ``BARE``, or None: Textual's path."""


class PaneStylesCache(StylesCache):
    """``StylesCache`` that draws simple side borders itself (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._plan_key: tuple[object, ...] | None = None
        self._plan: _Plan = None
        self._plan_kept = False
        """Whether the plan still holds (``keep_plan``): not worked out again per render."""
        self._framed: dict[int, tuple[Strip, Strip]] = {}
        """id(content line) -> (the content line, it between the side cells), for the plan
        and the content width ``_framed_for``: a line that only moved (a tape scrolling, the
        pane keeps its content strip: ``LinePane.set_rows``) gets its framed strip back, and
        with it what Textual cached on that strip (its filtered copy, its escape sequences)."""
        self._framed_for: tuple[object, int] | None = None

    def keep_plan(self) -> None:
        """The styles the plan reads cannot change until ``forget_plan``: the pane's paint
        context (``pane_render``) says so, and is forgotten whenever they can."""
        self._plan_kept = True

    def forget_plan(self) -> None:
        self._plan_kept = False

    def clear(self) -> None:
        """Forget every line (a whole-pane repaint): the framed ones too."""
        super().clear()
        self._framed.clear()

    def render(
        self,
        styles: StylesBase,
        size: Size,
        base_background: Color,
        background: Color,
        render_content_line: Callable[[int], Strip],
        filters: Any,
        border_title: Any,
        border_subtitle: Any,
        content_size: Size | None = None,
        padding: Spacing | None = None,
        crop: Any = None,
        opacity: float = 1.0,
        ansi_theme: Any = DEFAULT_TERMINAL_THEME,
        native_ansi: bool = False,
    ) -> list[Strip]:
        # The plan is made once per render (every line of it shares the styles), or once
        # while it is kept.
        if not self._plan_kept:
            self._plan = self._plan_for(
                styles, styles.padding if padding is None else padding, base_background,
                background, opacity,
            )  # fmt: skip
        return super().render(
            styles,
            size,
            base_background,
            background,
            render_content_line,
            filters,
            border_title,
            border_subtitle,
            content_size,
            padding,
            crop,
            opacity,
            ansi_theme,
            native_ansi,
        )

    def _plan_for(
        self,
        styles: StylesBase,
        padding: Spacing,
        base_background: Color,
        background: Color,
        opacity: float,
    ) -> _Plan:
        border = styles.border
        text_opacity, tint, outline = styles.text_opacity, styles.tint, styles.outline
        hatch = styles.hatch if styles.has_rule("hatch") else "none"
        key = (border, padding, base_background, background, opacity, text_opacity, tint,
               outline, hatch)  # fmt: skip
        if key == self._plan_key:
            return self._plan
        self._plan_key = key
        (top, _), (right, right_color), (bottom, _), (left, left_color) = border
        simple = (
            not any(padding)
            and opacity == 1.0
            and text_opacity == 1.0
            and not tint.a
            and not any(edge for edge, _ in outline)
            and hatch == "none"
        )
        if simple and not (top or right or bottom or left):
            return BARE
        if not (simple and top and bottom and left in SIDES and right in SIDES):
            return None
        inner = Style(background=base_background + background)

        def cell(edge: str, color: Color) -> Segment:
            return Segment(
                SIDES[edge], (inner + Style(foreground=base_background + color)).rich_style
            )

        left_cell, right_cell = cell(left, left_color), cell(right, right_color)
        plain = all(truecolor_plain(c.style) for c in (left_cell, right_cell) if c.style)
        return (left_cell, right_cell, inner.rich_style, plain)

    def render_line(
        self,
        styles: StylesBase,
        y: int,
        size: Size,
        content_size: Size,
        padding: Spacing,
        base_background: Color,
        background: Color,
        render_content_line: Callable[[int], Strip],
        border_title: Any,
        border_subtitle: Any,
        opacity: float,
        ansi_theme: Any,
        native_ansi: bool,
    ) -> Strip:
        plan = self._plan
        width, height = size
        if plan == BARE:
            # No border, padding or effect: Textual's line is the content line as it is.
            if y < content_size.height and content_size.width == width:
                content = render_content_line(y)
                if content.cell_length == width:
                    return content
        elif (
            isinstance(plan, tuple)
            and 0 < y < height - 1
            and y - 1 < content_size.height
            and content_size.width + 2 == width  # nothing else beside the content (a scrollbar)
        ):
            content = render_content_line(y - 1)
            framed = self._framed
            if self._framed_for != (plan, width):
                framed.clear()
                self._framed_for = (plan, width)
            key = id(content)  # the entry holds the content: the id is not reused meanwhile
            held = framed.pop(key, None)
            line = held[1] if held is not None and held[0] is content else None
            if line is None:
                line = self._frame(plan, content, content_size.width, width)
            framed[key] = (content, line)  # the most recent last
            if len(framed) > 2 * height:  # keep a screen's worth: the oldest scrolled off
                for old in list(framed)[: len(framed) - height]:
                    del framed[old]
            return line
        return super().render_line(
            styles,
            y,
            size,
            content_size,
            padding,
            base_background,
            background,
            render_content_line,
            border_title,
            border_subtitle,
            opacity,
            ansi_theme,
            native_ansi,
        )

    @staticmethod
    def _frame(
        plan: tuple[Segment, Segment, Any, bool], content: Strip, content_width: int, width: int
    ) -> Strip:
        """``content`` between the plan's side cells, as Textual would draw the line."""
        left, right, background_style, plain = plan
        if content.cell_length != content_width:
            content = content.adjust_cell_length(content_width, background_style)
        plain = plain and isinstance(content, LeanStrip) and content.plain
        return LeanStrip([left, *content, right], width, plain)
