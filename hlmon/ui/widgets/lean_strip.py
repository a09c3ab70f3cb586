"""Strips for a pane's changed lines, cheaper to make and to filter than Textual's.

Under load some 200 pane lines change a second, and each one's strip is made twice (the
content, then the content between its side borders) and then filtered. Three costs there
are not the line's own:

- A Textual ``Strip`` makes eight small caches when it is created (crop, divide, filter...),
  most of which a pane line never uses. ``LeanStrip`` makes each on first use.
- ``Strip.divide`` keeps a strip that is one piece in the strip's own cache, a reference
  cycle for the garbage collector to find, for each line the compositor paints;
  ``LeanStrip`` hands itself back without keeping it.
- Textual's app filters every line through ``ANSIToTruecolor``, which rebuilds every segment
  to swap ANSI palette colours (and ``dim``) for true colours. A line whose styles all have
  true colours and no ``dim`` comes out of it unchanged, segment for segment. A strip built
  from such styles says so (``plain``) and gives itself back for that filter; any other filter
  (``NO_COLOR``'s monochrome, a dim filter) and any other strip go through Textual's code.

``tests/ui/test_pane_styles.py`` compares every pane's filtered lines with Textual's own.
Private API: ``Strip``'s slot names (Textual is pinned in ``requirements.lock``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.color import Color
from textual.filter import ANSIToTruecolor, LineFilter
from textual.strip import Strip

_CACHE_SIZES = {
    "_divide_cache": 4,
    "_crop_cache": 16,
    "_style_cache": 16,
    "_filter_cache": 4,
    "_line_length_cache": 4,
    "_crop_extend_cache": 4,
    "_offsets_cache": 4,
}
"""``Strip``'s caches and their sizes, as ``Strip.__init__`` makes them."""


def truecolor_plain(style: Style) -> bool:
    """Whether ``ANSIToTruecolor`` leaves ``style`` as it is: no palette colour to convert
    and no ``dim`` to blend (the conditions under which its ``truecolor_style`` returns the
    style it was given)."""
    color, bgcolor = style.color, style.bgcolor
    return (
        (color is None or color.triplet is not None)
        and (bgcolor is None or bgcolor.triplet is not None)
        and not (style.dim and color is not None)
    )


class LeanStrip(Strip):
    """A ``Strip`` whose caches are made on first use, and which knows when the truecolor
    filter would change nothing (``plain``)."""

    __slots__ = ("plain",)

    def __init__(self, segments: list[Segment], cell_length: int, plain: bool = False) -> None:
        # The list is the caller's and is not changed after (Strip copies what it is given).
        self._segments = segments
        self._cell_length = cell_length
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None
        self.plain = plain

    def __getattr__(self, name: str) -> Any:
        size = _CACHE_SIZES.get(name)
        if size is None:
            raise AttributeError(name)
        cache: FIFOCache[Any, Any] = FIFOCache(size)
        setattr(self, name, cache)
        return cache

    def divide(self, cuts: Iterable[int]) -> Sequence[Strip]:
        # The compositor divides every line it paints at the screen's cuts; for a pane line
        # that is most often one piece, the strip itself, which ``Strip`` keeps in its own
        # cache: a reference cycle, so every painted line waited for the garbage collector.
        length = self.cell_length
        kept = [cut for cut in cuts if cut <= length]  # as Strip.divide reads them
        if kept == [length]:
            return [self]
        return super().divide(kept)

    def apply_filter(self, filter: LineFilter, background: Color) -> Strip:
        if self.plain and type(filter) is ANSIToTruecolor:
            return self
        return super().apply_filter(filter, background)
