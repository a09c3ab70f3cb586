"""A compositor whose partial updates render only what they write.

For a partial update Textual's compositor takes the box around the dirty regions and asks
every widget whose *clip* meets that box for all its lines. A pane's clip is its container's
region (the whole screen for the header, the footer and the rows), so a light frame that
changes eight lines of the trade tape also walked the header, the status bar, the footer, the
positions table and the tabs, each a ``render_lines`` through the styles cache, only for the
compositor to drop every one of those lines; and every widget was divided at every cut of every
written row.

Here a partial update asks a widget only for the rows it writes, and only where its *shown*
area (region within clip) meets the box and a piece of the row within the box is still to fill:
front to back, a container behind its panes is not rendered for rows the panes fill. Cuts are
built for the written rows only, and a line that is one piece between its cuts is not divided.
Its escape sequences are Textual's, with the cursor moves written as text rather than built as
Rich ``Control`` objects. ``tests/ui/test_lean_compositor.py`` compares the bytes with
Textual's own partial update on the real dashboard, a toast in front included. Full updates
and whole-screen renders go through Textual's code unchanged.

Textual has no public hook for this: ``render_partial_update``, ``cuts``, ``ChopsUpdate`` and
``Screen._compositor`` are private (Textual is pinned in ``requirements.lock``; the test above
fails if they change shape).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from rich.console import Console
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


def _move_to(x: int, y: int) -> str:
    """Rich's ``Control.move_to(x, y)`` as text (the same sequence, without its objects)."""
    return f"\x1b[{y + 1};{x + 1}H"


class LeanChopsUpdate(ChopsUpdate):
    """Textual's ``ChopsUpdate``, writing its cursor moves without Rich ``Control`` objects."""

    def render_segments(self, console: Console) -> str:
        sequences: list[str] = []
        append = sequences.append
        chops, chop_ends = self.chops, self.chop_ends
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(chop_ends[y], chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                if not (x2 > x >= x1 and end <= x2):
                    strip = strip.crop(0, min(end, x2) - x)
                append(_move_to(x, y))
                append(strip.render(console))
            if y != last_y:
                append("\n")
        return "".join(sequences)


class LeanCompositor(Compositor):
    """``Compositor`` whose partial updates skip the widgets they do not touch."""

    _shown: tuple[object, list[tuple[Widget, Region, Region]]] | None = None
    """(``visible_widgets`` when derived, each widget with its region and shown area)."""

    def _shown_widgets(self) -> list[tuple[Widget, Region, Region]]:
        """The visible widgets front to back, each with its region and its shown area (region
        within clip; none empty), derived once per layout (Textual replaces
        ``visible_widgets`` when it arranges the screen again), not on every update."""
        visible = self.visible_widgets
        held = self._shown
        if held is None or held[0] is not visible:
            shown = [
                (w, region, region.intersection(clip)) for w, (region, clip) in visible.items()
            ]
            held = self._shown = (visible, [item for item in shown if item[2].area])
        return held[1]

    def render_partial_update(self) -> ChopsUpdate | None:
        # Textual's method, with the rows to write handed to the render (``_partial_chops``).
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        crop = Region.from_union(update_regions).intersection(self.size.region)
        spans = list(self._regions_to_spans(update_regions))
        rows = {y for y, _, _ in spans}
        cuts = self.cuts
        chop_ends = [cut_set[1:] if y in rows else [] for y, cut_set in enumerate(cuts)]
        return LeanChopsUpdate(self._partial_chops(crop, rows), spans, chop_ends)

    def _partial_chops(self, crop: Region, rows: set[int]) -> list[dict[int, Strip | None]]:
        """Textual's ``_render_chops`` for the screen ``rows`` a partial update writes: the
        chops of every other row stay empty (the update never reads them)."""
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [
            dict.fromkeys(cut_set[:-1]) if y in rows else {} for y, cut_set in enumerate(cuts)
        ]
        meets = crop.overlaps
        crop_left, crop_right = crop.column_span
        # Front to back, as Textual paints: the first strip given for a cut wins. A widget
        # whose every piece of a row within the crop is already taken (a container behind
        # its panes) is not asked for that row, nor divided for it: the update writes only
        # within the crop. A row whose every such piece is taken is done: the widgets behind
        # are not even looked at for it, nor at all once every row is (a light frame: the
        # tape fills its rows, and the containers behind it are skipped).
        open_rows = set(rows)
        for widget, region, shown in self._shown_widgets():
            if not open_rows:
                break
            if not meets(shown):
                continue
            x, width = shown.x, shown.width
            first_cut, last_cut = x, x + width
            todo: dict[int, list[int]] = {}
            for y in open_rows.intersection(shown.line_range):
                line = chops[y]
                cut_set = cuts[y]  # ascending: the cuts within the widget are one slice
                final_cuts = cut_set[
                    bisect_left(cut_set, first_cut) : bisect_right(cut_set, last_cut)
                ]
                for cut, end in pairwise(final_cuts):
                    # A piece still to fill that the update can write (as render_segments
                    # reads a span: a piece starting at its end is written, empty).
                    if line.get(cut) is None and cut <= crop_right and end > crop_left:
                        todo[y] = final_cuts
                        break
            if not todo:
                continue
            top, bottom = min(todo), max(todo) + 1
            strips = widget.render_lines(Region(x - region.x, top - region.y, width, bottom - top))
            for y, final_cuts in todo.items():
                if y - top >= len(strips):
                    continue
                strip = strips[y - top]
                line = chops[y]
                if len(final_cuts) == 2 and strip.cell_length == width:
                    pieces: Sequence[Strip] = (strip,)  # one piece: what divide returns
                else:
                    pieces = strip.divide([cut - x for cut in final_cuts[1:]])
                for cut, piece in zip(final_cuts, pieces, strict=False):
                    if line.get(cut) is None:
                        line[cut] = piece
                if all(
                    line.get(cut) is not None
                    for cut, end in pairwise(cuts[y])
                    if cut <= crop_right and end > crop_left
                ):
                    open_rows.discard(y)
        return chops


def use_lean_compositor(screen: Screen[Any]) -> None:
    """Give ``screen`` a ``LeanCompositor``; call from its ``__init__``, before it is mounted."""
    screen._compositor = LeanCompositor()
