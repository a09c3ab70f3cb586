"""The panes a frame repainted, handed to the screen when the frame ends.

When a widget is refreshed, Textual posts it a ``Prompt``; its own message loop wakes, runs its
idle handler, which posts the screen an ``Update`` naming it; the screen's loop wakes, notes
the widget as dirty and resumes its update timer. Under the ``stress`` profile that was ~75
messages a second through ~8 message loops, for ~23 frames: each frame refreshes a few panes,
every one of them the same way.

During a frame (``repaints_at_frame_end``) a pane's refresh only notes the pane
(``take_repaint``, from ``LinePane.check_idle``). When the frame ends, each noted pane gets
what its idle handler would have done for a repaint: the flag cleared and the pane added to the
screen's dirty widgets. Then the screen paints at once, as its update timer would on its next
tick (``Screen._on_timer_update``): a frame is the one moment its panes change, so waiting for
the tick only added the wait (up to 1 / ``TEXTUAL_FPS``) and the timer task's wake-ups.
A pane with anything else pending (a layout, styles to refresh, a scroll, a recompose, a
callback to run after the refresh) is left to Textual's own path, untouched.

Private API: ``Widget._repaint_required`` and the other flags ``Widget._check_refresh`` reads,
``MessagePump._next_callbacks``, ``Screen._dirty_widgets``, ``Screen._on_timer_update``,
``Screen._compositor``, ``App._batch_count`` (Textual is pinned in ``requirements.lock``;
``tests/ui/test_frame_repaints.py`` fails if the hand-over stops reaching the screen).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.dom import NoScreen
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget

_frame: set[Widget] | None = None
"""The panes refreshed in the frame in progress (None: no frame)."""


def _only_a_repaint(widget: Widget) -> bool:
    """Whether the repaint is all ``widget``'s idle handler has to do."""
    return not (
        widget._layout_required
        or widget._refresh_styles_required
        or widget._scroll_required
        or widget._recompose_required
        or widget._next_callbacks
        or widget._closing
        or widget._parent is None
    )


def take_repaint(widget: Widget) -> bool:
    """For ``check_idle``: True when the frame in progress takes ``widget``'s repaint (no
    ``Prompt`` to post), False to go Textual's way."""
    if _frame is None or not _only_a_repaint(widget):
        return False
    _frame.add(widget)
    return True


@contextmanager
def repaints_at_frame_end(screen: Screen[Any]) -> Iterator[None]:
    """Run a frame of ``screen``: its panes' repaints are handed over when it ends."""
    global _frame
    if _frame is not None:  # a frame within a frame: the outer one hands over
        yield
        return
    taken: set[Widget] = set()
    _frame = taken
    try:
        yield
    finally:
        _frame = None
        hand_over(screen, taken)


def hand_over(screen: Screen[Any], widgets: set[Widget]) -> None:
    """Do for each of ``widgets`` what its idle handler, then the screen's, would do for its
    repaint (``Widget._check_refresh``, ``Screen._on_update``, ``Screen._on_idle``)."""
    dirty: list[Widget] = []
    for widget in widgets:
        try:
            mine = widget.screen is screen
        except NoScreen:  # removed meanwhile
            mine = False
        if not (mine and _only_a_repaint(widget)):
            MessagePump.check_idle(widget)  # anything else: Textual's own path
            continue
        if widget._repaint_required:
            widget._repaint_required = False
            if widget.display:
                dirty.append(widget)
    if not dirty:
        return
    if screen not in screen._compositor:
        return  # as Screen._on_update: a screen not composed yet ignores updates
    screen._dirty_widgets.update(dirty)
    if not screen.app._batch_count and screen.is_current:
        # What the update timer's tick would do, done now: resuming the timer cost two more
        # loop turns and task wake-ups a frame, and the wait for its next tick.
        screen._on_timer_update()
    else:
        screen.check_idle()
