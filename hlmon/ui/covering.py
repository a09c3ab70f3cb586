"""A full screen over the dashboard (the market screen, the alerts view) pauses its panes.

Hidden, the dashboard stops listening to the store's changes and paints nothing: it still runs
its once-a-second frame, which takes the store's changes and evaluates the alert rules with
them (so one fires at most a second late), but only notes which keys changed. When the screen
closes it listens again and repaints every pane those keys feed, plus the ages and bars, at
once: nothing shown is older than before, and behind a screen that redraws ~1,600 markets the
dashboard costs its alerts only (issue #16: the market screen's CPU).
"""

from __future__ import annotations

from hlmon.ui.screens.dashboard import Dashboard


def cover(dashboard: Dashboard) -> None:
    """The dashboard is about to be hidden: its once-a-second frame, alerts only."""
    dashboard.paint.cover()


def uncover(dashboard: Dashboard) -> None:
    """The dashboard shows again: follow the store's changes; what was held is painted now."""
    dashboard.refresh_all(dashboard.paint.uncover())
