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
    """What ``render_partial_update`` sends for ``dirty`` (without consuming the compositor's
    own dirty regions)."""
    crop = Region.from_union(dirty).intersection(compositor.size.region)
    spans = list(compositor._regions_to_spans(dirty))
    chops = compositor._render_chops(crop, {y for y, _, _ in spans}.__contains__)
    update = ChopsUpdate(chops, spans, [cuts[1:] for cuts in compositor.cuts])
    return update.render_segments(app.console)


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
    async with app.run_test(size=SIZE) as pilot:
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
        stock = types.MethodType(Compositor._get_renders, lean)
        for dirty in cases:
            ours = partial_update(lean, dirty, app)
            lean._get_renders = stock  # type: ignore[method-assign]
            try:
                textuals = partial_update(lean, dirty, app)
            finally:
                del lean._get_renders
            assert ours == textuals, dirty
            assert ours  # the case painted something


async def test_a_tape_update_renders_the_tape_alone(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.dashboard
        lean = screen._compositor
        panes = [screen.tape, screen.book, screen.watchlist, screen.query_one("#status")]
        seen = rendering(panes)
        partial_update(lean, [screen.tape.region], app)
        assert seen == ["tape"]
        seen.clear()
        lean._get_renders = types.MethodType(Compositor._get_renders, lean)  # type: ignore[method-assign]
        partial_update(lean, [screen.tape.region], app)
        # Textual's: every pane whose container meets the box, the status bar included (its
        # clip is the whole screen), not the book and watchlist (their row's clip does not).
        assert set(seen) == {"tape", "status"}
