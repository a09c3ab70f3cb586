"""A frame's pane repaints reach the screen when the frame ends, without a message through
each pane's own loop; anything else a pane has pending still goes Textual's way."""

from __future__ import annotations

from typing import Any

from textual import messages
from textual.message import Message
from textual.screen import Screen

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.frame_repaints import repaints_at_frame_end
from hlmon.ui.widgets.lines import LinePane

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


def posted(pane: LinePane) -> list[Message]:
    """Messages waiting in ``pane``'s queue (read without taking them)."""
    return list(pane._message_queue.values)


async def test_a_frame_hands_its_repaints_to_the_screen(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        tape = d.tape
        assert not d._dirty_widgets
        store.apply(trades_msg("BTC", n=5, t_ms=T0_MS + 5000))
        painted: list[object] = []
        display = app._display

        def noting(screen: Screen[Any], update: Any) -> None:
            painted.append(update)
            display(screen, update)

        app._display = noting  # type: ignore[method-assign,assignment]
        with repaints_at_frame_end(d):
            d.refresh_frame()
            assert tape._repaint_required  # refreshed, and nothing posted to it
            assert not any(isinstance(m, messages.Prompt) for m in posted(tape))
        assert not tape._repaint_required
        # Painted when the frame ended, not on the update timer's next tick: nothing is left
        # dirty, the timer is not running, and the trades are in what was sent to the terminal.
        assert not d._dirty_widgets
        assert not d._update_timer._active.is_set()
        assert painted, "the frame's end sent nothing to the terminal"
        shown = "\n".join(line.text for line in d._compositor.render_strips())
        assert "Trades BTC" in shown and "104,4" in shown  # the trades reached the screen


async def test_without_a_frame_or_with_more_pending_textuals_path(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        book = d.book
        book.refresh(book.content_region.reset_offset)  # outside a frame: a Prompt
        assert any(isinstance(m, messages.Prompt) for m in posted(book))
        await pilot.pause()
        with repaints_at_frame_end(d):
            book.refresh(layout=True)  # a layout too: its own loop handles it
            assert any(isinstance(m, messages.Prompt) for m in posted(book))
        assert book not in d._dirty_widgets
        await pilot.pause()
        with repaints_at_frame_end(d):
            book.refresh(book.content_region.reset_offset)
            book.call_next(lambda: None)  # a callback to run at its next idle, before the end
        assert book not in d._dirty_widgets  # handed back to Textual, with a Prompt
        assert any(isinstance(m, messages.Prompt) for m in posted(book))
        await pilot.pause()
        assert not book._repaint_required
