"""A compositor that renders only the panes a partial update touches.

For a partial update Textual's compositor takes the box around the dirty regions and asks
every widget whose *clip* meets that box for all its lines. A pane's clip is its container's
region (the whole screen for the header, the footer and the rows), so a light frame that
changes eight lines of the trade tape also walks the header, the status bar, the footer, the
positions table and the tabs: each a ``render_lines`` through the styles cache, ancestors'
background colours and border titles included, only for the compositor to drop every one of
those lines. Under the ``stress`` profile that was about half the CPU of a tape-only frame.

Here a widget is rendered only when its *shown* area (region within clip) meets the box. Lines
of any other widget lie outside the update's rows or columns, which the update never writes,
so what reaches the terminal is the same (``tests/ui/test_lean_compositor.py`` compares the
escape sequences of both on the real dashboard). Full updates and whole-screen renders (no
crop) go through Textual's own code unchanged.

Textual has no public hook for this: ``_get_renders`` and ``Screen._compositor`` are private
(Textual is pinned in ``requirements.lock``; the test above fails if either changes shape).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual._compositor import Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip


class LeanCompositor(Compositor):
    """``Compositor`` whose partial updates skip the widgets they do not touch."""

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(None)
            return
        meets = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if shown.area and meets(shown):
                # The shown part in the widget's own coordinates: all of it when unclipped.
                yield region, clip, widget.render_lines(shown.translate((-region.x, -region.y)))


def use_lean_compositor(screen: Screen[Any]) -> None:
    """Give ``screen`` a ``LeanCompositor``; call from its ``__init__``, before it is mounted."""
    screen._compositor = LeanCompositor()
