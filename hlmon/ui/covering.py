"""A full screen over the dashboard (the market screen, the alerts view) pauses its repaints.

Hidden, the dashboard stops listening to the store's changes: it still runs its once-a-second
frame (alerts are evaluated then, so one fires at most a second late), but no longer repaints
hidden panes at up to its fps for every book and trade. When the screen closes it listens
again, and the changes held meanwhile are painted at once.
"""

from __future__ import annotations

from hlmon.state import Store
from hlmon.ui.screens.dashboard import Dashboard


def cover(store: Store) -> None:
    """The dashboard is about to be hidden: its once-a-second frame only."""
    store.on_changes(None)


def uncover(dashboard: Dashboard) -> None:
    """The dashboard shows again: follow the store's changes; held changes are painted now."""
    if dashboard.paint.schedule is not None:
        dashboard.paint.follow(dashboard.watchlist.selected)
