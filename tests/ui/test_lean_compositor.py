"""The lean compositor sends the terminal the same bytes as Textual's for a partial update,
while rendering only the panes the update touches."""

from __future__ import annotations

import types
from typing import Any

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.widget import Widget

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.lean_compositor import LeanCompositor

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


def partial_update(compositor: Compositor, dirty: list[Region], app: HlmonApp) -> str:
    """What ``render_partial_update`` sends for ``dirty`` (the compositor's own dirty regions
    are put back after)."""
    kept = compositor._dirty_regions
    compositor._dirty_regions = set(dirty)
    try:
        update = compositor.render_partial_update()
    finally:
        compositor._dirty_regions = kept
    assert isinstance(update, ChopsUpdate)
    return update.render_segments(app.console)


def stock(lean: Compositor) -> Compositor:
    """``lean`` with Textual's own partial update (on this instance only)."""
    lean.render_partial_update = types.MethodType(Compositor.render_partial_update, lean)  # type: ignore[method-assign]
    return lean


def unstock(lean: Compositor) -> None:
    del lean.render_partial_update


def assert_same_bytes(lean: Compositor, cases: list[list[Region]], app: HlmonApp) -> None:
    """For each case of dirty regions, ``lean``'s partial update sends what Textual's does,
    and sends something."""
    for dirty in cases:
        ours = partial_update(lean, dirty, app)
        try:
            textuals = partial_update(stock(lean), dirty, app)
        finally:
            unstock(lean)
        assert ours == textuals, dirty
        assert ours, dirty


def rendering(widgets: list[Widget]) -> list[str]:
    """Names of the widgets whose ``render_lines`` runs, in order."""
    seen: list[str] = []
    for widget in widgets:
        original = widget.render_lines

        def noted(crop: Region, w: Widget = widget, original: Any = original) -> Any:
            seen.append(w.id or type(w).__name__)
            return original(crop)

        widget.render_lines = noted  # type: ignore[method-assign]
    return seen


async def test_partial_updates_send_the_same_bytes_as_textuals(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        screen = app.dashboard
        lean = screen._compositor
        assert isinstance(lean, LeanCompositor)
        store.apply(trades_msg("BTC", n=5, t_ms=T0_MS + 5000))
        screen.refresh_frame()
        await pilot.pause()
        tape = screen.tape.region
        status = screen.query_one("#status").region
        cases = [
            [tape],  # a light frame: the tape alone
            [Region(tape.x + 1, tape.y + 2, tape.width - 2, 3)],  # a few lines inside it
            [tape, status],  # the box spans half the screen
            [screen.book.region, screen.watchlist.region, Region(0, 0, SIZE[0], 1)],
            [Region(0, 0, *SIZE)],  # everything
        ]
        assert_same_bytes(lean, cases, app)
        # A toast in front of the tape: the same bytes, the toast's cells winning.
        app.notify("a toast over the panes", timeout=60)
        toasts: list[Widget] = []
        for _ in range(50):  # mounted, then placed by the next layout
            await pilot.pause()
            toasts = [w for w in lean.visible_widgets if type(w).__name__ == "Toast"]
            if toasts:
                break
        assert toasts, "the toast never showed"
        toast = toasts[0]
        assert_same_bytes(lean, [[tape], [toast.region], [Region(0, 0, *SIZE)]], app)


async def test_a_tape_update_renders_the_tape_alone(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.dashboard
        lean = screen._compositor
        row = screen.query_one("#row2")  # the tape's container, wholly behind its panes
        panes = [screen.tape, screen.book, screen.watchlist, screen.query_one("#status"), row]
        seen = rendering(panes)
        partial_update(lean, [screen.tape.region], app)
        assert seen == ["tape"]
        seen.clear()
        try:
            partial_update(stock(lean), [screen.tape.region], app)
        finally:
            unstock(lean)
        # Textual's: every widget whose clip meets the box, the status bar included (its
        # clip is the whole screen) and the tape's row, not the book and watchlist (their
        # row's clip does not).
        assert set(seen) == {"tape", "status", "row2"}


async def test_a_pane_is_asked_only_for_the_rows_the_update_writes(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.dashboard
        lean = screen._compositor
        book, watchlist = screen.book, screen.watchlist
        asked: list[tuple[str, Region]] = []
        for widget in (book, watchlist):
            original = widget.render_lines

            def noted(crop: Region, w: Widget = widget, original: Any = original) -> Any:
                asked.append((w.id or "", crop))
                return original(crop)

            widget.render_lines = noted  # type: ignore[method-assign]
        # Three lines across both panes (the box meets both): each is asked for those lines.
        row = book.region.y + 3
        dirty = [Region(watchlist.region.x, row, book.region.right - watchlist.region.x, 3)]
        ours = partial_update(lean, dirty, app)
        assert sorted(asked) == [
            ("book", Region(0, 3, book.region.width, 3)),
            ("watchlist", Region(0, row - watchlist.region.y, watchlist.region.width, 3)),
        ]
        try:
            assert partial_update(stock(lean), dirty, app) == ours
        finally:
            unstock(lean)
