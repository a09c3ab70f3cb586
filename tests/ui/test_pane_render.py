"""A pane painted with its kept paint context (``pane_render.PaintContext``) gives the lines
Textual's own ``render_widget`` gives, after every kind of change that moves what that context
holds; and rows become strips with their style runs joined, showing the same cells."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.dom import NoScreen
from textual.screen import Screen
from textual.strip import Strip

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.widgets.lines import LinePane
from hlmon.ui.widgets.pane_render import build_line, join_runs

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


def cells(strips: list[Strip]) -> list[list[tuple[str, object]]]:
    """Each line as (character, style) cells: what a terminal shows, however it is split."""
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


def assert_panes_as_textuals(app: HlmonApp) -> int:
    """Every shown pane's lines, painted as the compositor asks for them, equal Textual's
    fresh ``render_widget``; returns how many panes were compared."""
    shown = [p for p in app.dashboard.query(LinePane) if p.display and p.size.area]
    for pane in shown:
        region = pane.outer_size.region
        ours = pane.render_lines(region)
        textuals = StylesCache().render_widget(pane, region)
        assert [[(s.text, s.style) for s in line] for line in ours] == [
            [(s.text, s.style) for s in line] for line in textuals
        ], pane.id
    return len(shown)


async def test_painted_panes_equal_textuals_after_each_change(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        store.apply(trades_msg("BTC", n=5, t_ms=T0_MS + 5000))
        app.dashboard.refresh_frame()
        await pilot.pause()
        assert assert_panes_as_textuals(app) >= 6
        book, tape = app.dashboard.book, app.dashboard.tape
        book.set_freshness(stale_age="18s", rest=True)  # a class, a title and dimmed rows
        book.focus()  # a pseudo-class: the focused border
        await pilot.pause()
        assert_panes_as_textuals(app)
        # An ancestor's inline style: the tape's colours blend with the row's opacity.
        before = tape.render_lines(tape.outer_size.region)
        app.dashboard.query_one("#row2").styles.opacity = 0.5
        await pilot.pause()
        assert cells(tape.render_lines(tape.outer_size.region)) != cells(before)
        assert_panes_as_textuals(app)
        await pilot.press("z")  # maximised: a double border
        await pilot.pause()
        assert_panes_as_textuals(app)
        app.theme = "textual-light"
        await pilot.pause()
        assert_panes_as_textuals(app)


async def test_the_context_is_kept_between_paints_until_the_styles_can_change(
    app: HlmonApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tape = app.dashboard.tape
        context = tape._paint_context
        tape.render_lines(tape.outer_size.region)
        known = context._known
        assert known is not None
        tape.refresh(tape.content_region.reset_offset)  # a region: the same context
        tape.render_lines(tape.outer_size.region)
        assert context._known is known
        tape.refresh()  # the whole pane (an inline style of it or an ancestor moved)
        assert context._known is None
        tape.render_lines(tape.outer_size.region)
        assert context._known is not None
        tape.notify_style_update()  # its CSS applied again (a class, a theme)
        assert context._known is None


def test_style_runs_are_joined_and_the_cells_are_the_same() -> None:
    row = (
        (" ", ""),
        ("BTC", "pane--strong"),
        (" ", ""),
        ("1,000", ""),
        (" ", ""),
        ("+5", "up"),
        ("%", "up"),
    )
    assert join_runs(row) == (
        (" ", ""),
        ("BTC", "pane--strong"),
        (" 1,000 ", ""),
        ("+5%", "up"),
    )
    styles = {
        "": Style(color="#ffffff"),
        "pane--strong": Style(bold=True),
        "up": Style(color="#00ff00"),
    }
    plain = dict.fromkeys(styles, True)
    joined = build_line(row, 20, styles.__getitem__, plain)
    one_per_cell = Strip([Segment(t, styles[n]) for t, n in row], 14).adjust_cell_length(
        20, styles[""]
    )
    assert cells([joined]) == cells([one_per_cell])
    assert len(list(joined)) == 5  # 4 runs, then the padding: the last run is not the pane's
    padded = build_line(((" 1", ""),), 5, styles.__getitem__, plain)
    assert [(s.text, s.style) for s in padded] == [(" 1   ", styles[""])]
    control = build_line((("a\x1bb", ""),), 3, styles.__getitem__, plain)
    assert control.text == "a\ufffdb"  # an escape never reaches the terminal


async def test_a_panes_screen_is_kept_per_parent_and_forgotten_when_it_leaves(
    app: HlmonApp,
) -> None:
    """``LinePane.screen`` answers from what it found while the pane keeps its parent, is
    found again under a new parent, and is none (Textual's ``NoScreen``) once removed."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tape = app.dashboard.tape
        assert tape.screen is app.dashboard
        assert tape._known_screen == (tape._parent, app.dashboard)
        assert tape.region == app.dashboard.find_widget(tape).region
        other: Screen[object] = Screen()
        await app.push_screen(other)
        await pilot.pause()
        loose = LinePane(id="loose")
        await other.mount(loose)
        assert loose.screen is other
        await loose.remove()
        try:
            found = loose.screen
        except NoScreen:
            found = None
        assert found is None
        await other.mount(loose)  # mounted again: found again, not the old answer
        assert loose.screen is other
        assert tape.screen is app.dashboard
