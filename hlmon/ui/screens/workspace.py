"""The dashboard's workspace: the layout for the terminal's size, one panel maximised, the mouse.

Layouts are classes on the screen, set on every resize (the rules are in ``hlmon.tcss``):

* ``-too-small`` (under 60x20): only the status line and a note.
* ``-compact`` (under 110x34): book or trades (``b``) beside the watchlist.
* wide (the default): watchlist and book, positions and trades, the lower tabs.
* ``-tall`` (wide, 50 lines or more): the rows grow with the height (the lower panes take a
  share instead of a fixed 11 and 9 lines), the watchlist is as tall as its coins and the
  selected coin's candle chart takes the room under it.
* ``-wide`` (wide, 160 columns or more): the trades move beside the book, at full height and
  44 columns, and the positions take the whole width.

Maximise (as tmux's zoom): ``z`` maximises the current panel, the one last clicked or holding
the focus (the watchlist until then); ``z`` or ``escape`` restores. A click on a panel's title
does the same (on the lower panel's title it picks the tab under the pointer). The maximised
panel fills the body (header, status line and footer stay) with a double accent border; the
current one has the accent border of a focused pane. Hiding is done with classes on the other
panels (``-zoom-hide``), never by changing the layout rules, so restoring is exact.

Clicks in rows are the widgets' own: a watchlist row selects that coin (``CoinSelected``, as
the arrow keys), a table row moves that table's cursor; the wheel scrolls tables.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widget import Widget

from hlmon.ui.widgets.tabs import LowerTabs

MIN_WIDTH, MIN_HEIGHT = 60, 20
"""Below this only the status line and a note are shown."""
WIDE_WIDTH, WIDE_HEIGHT = 110, 34
"""From this size up the full layout is used."""
TALL_HEIGHT = 50
"""From this height up (wide layout) the rows grow and the candle chart is shown."""
WIDER_WIDTH = 160
"""From this width up (wide layout) the trades stand beside the book."""
PANELS = ("watchlist", "chart", "book", "tape-alt", "positions", "tape", "lower")
"""Ids of the panels that can be current and maximised."""
BODY = "main"
"""Id of the container that holds every panel."""


def layout_classes(width: int, height: int) -> dict[str, bool]:
    """Which layout classes apply at ``width`` x ``height``."""
    small = width < MIN_WIDTH or height < MIN_HEIGHT
    compact = width < WIDE_WIDTH or height < WIDE_HEIGHT
    return {
        "-too-small": small,
        "-compact": compact,
        "-tall": not compact and height >= TALL_HEIGHT,
        "-wide": not compact and width >= WIDER_WIDTH,
    }


class Workspace:
    """Layout classes, the current and the maximised panel, and clicks on titles."""

    def __init__(self, screen: Screen[None]) -> None:
        self.screen = screen
        self.current: str | None = None
        """Id of the panel last clicked or focused (None: none yet, ``z`` takes the
        watchlist)."""
        self.zoomed: str | None = None
        """Id of the maximised panel, or None."""

    # ------------------------------------------------------------------ layout

    def resized(self, width: int, height: int) -> None:
        """Set the layout classes for the new size."""
        for name, on in layout_classes(width, height).items():
            self.screen.set_class(on, name)

    def panel(self, panel_id: str) -> Widget:
        """The panel widget with this id."""
        return self.screen.query_one(f"#{panel_id}")

    def panel_of(self, widget: Widget | None) -> Widget | None:
        """The panel ``widget`` is part of (itself, or the panel around it), or None."""
        node = widget
        while isinstance(node, Widget) and node is not self.screen:
            if node.id in PANELS:
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    # ------------------------------------------------------------------ current panel

    def set_current(self, widget: Widget | None) -> None:
        """Make the panel around ``widget`` the current one (marked with the accent border)."""
        panel = self.panel_of(widget)
        if panel is None or panel.id == self.current:
            return
        if self.current is not None:
            self.panel(self.current).remove_class("-current")
        self.current = panel.id
        panel.add_class("-current")

    def _target(self) -> str:
        """The panel ``z`` maximises: the current one if it is shown, else the watchlist."""
        if self.current is not None and self.panel(self.current).display:
            return self.current
        return "watchlist"

    # ------------------------------------------------------------------ maximise

    def toggle(self, panel_id: str | None = None) -> None:
        """Maximise ``panel_id`` (default: the current panel), or restore if it is the
        maximised one."""
        target = panel_id or self._target()
        if self.zoomed is not None:
            was = self.zoomed
            self.restore()
            if was == target:
                return
        self.zoom(target)

    def zoom(self, panel_id: str) -> None:
        """Maximise one panel: every other panel and row is hidden, its own row fills the
        body."""
        self.restore()
        panel = self.panel(panel_id)
        self.zoomed = panel_id
        node: Widget = panel
        while node.id != BODY:
            node.add_class("-zoom-fill")
            parent = node.parent
            assert isinstance(parent, Widget)
            for sibling in parent.children:
                if sibling is not node:
                    sibling.add_class("-zoom-hide")
            node = parent
        panel.add_class("-zoom-target")
        self.screen.add_class("-zoomed")
        self.screen.refresh_bindings()

    def restore(self) -> None:
        """Put every panel back where the layout has it."""
        if self.zoomed is None:
            return
        self.zoomed = None
        for node in self.screen.query(".-zoom-fill, .-zoom-hide, .-zoom-target"):
            node.remove_class("-zoom-fill", "-zoom-hide", "-zoom-target")
        self.screen.remove_class("-zoomed")
        self.screen.refresh_bindings()

    # ------------------------------------------------------------------ mouse

    def clicked(self, event: events.Click) -> str | None:
        """A click anywhere: its panel becomes current; on a title it maximises or restores
        that panel. Returns the tab id when the click was on a tab's name."""
        panel = self.panel_of(event.widget)
        if panel is None:
            return None
        self.set_current(panel)
        if event.screen_y != panel.region.y:
            return None
        if isinstance(panel, LowerTabs):
            tab = panel.tab_at(event.screen_x - panel.region.x)
            if tab is not None:
                return tab
        self.toggle(panel.id)
        return None
