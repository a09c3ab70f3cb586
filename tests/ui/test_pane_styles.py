"""A pane's lines styled by ``PaneStylesCache`` are the lines Textual's ``StylesCache`` gives,
segment for segment, for every pane of the dashboard in every border state it takes."""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.strip import Strip
from textual.widget import Widget

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.widgets.lines import LinePane
from hlmon.ui.widgets.pane_styles import PaneStylesCache

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


def styled(widget: Widget, cache: StylesCache) -> list[list[tuple[str, object]]]:
    cache.clear()
    strips: list[Strip] = cache.render_widget(widget, widget.size.region.reset_offset)
    return [[(s.text, s.style) for s in strip] for strip in strips]


def panes(app: HlmonApp) -> list[LinePane]:
    shown = [p for p in app.dashboard.query(LinePane) if p.display and p.size.area]
    assert len(shown) >= 3  # maximised: the pane, the header and the status line
    return shown


def assert_same_as_textuals(app: HlmonApp) -> int:
    """Compares every shown pane; returns how many had side borders drawn here."""
    drawn = 0
    for pane in panes(app):
        cache = pane._styles_cache
        assert isinstance(cache, PaneStylesCache)
        ours = styled(pane, cache)
        assert ours == styled(pane, StylesCache()), pane.id
        drawn += cache._plan is not None
    return drawn


async def test_every_pane_in_every_border_state(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        store.apply(trades_msg("BTC", n=5, t_ms=T0_MS + 5000))
        app.dashboard.refresh_frame()
        await pilot.pause()
        assert assert_same_as_textuals(app) >= 4  # book, tape, watchlist, positions at least
        book = app.dashboard.book
        book.set_freshness(stale_age="18s", rest=False)  # red border, dimmed rows
        book.focus()
        await pilot.pause()
        assert_same_as_textuals(app)
        await pilot.press("z")  # maximised: a double border
        await pilot.pause()
        zoomed = [p for p in panes(app) if p.has_class("-zoom-target")]
        assert zoomed and zoomed[0].styles.border_left[0] == "double"
        assert assert_same_as_textuals(app) == 1
        app.theme = "textual-light"
        await pilot.pause()
        assert_same_as_textuals(app)


async def test_a_border_type_it_does_not_know_goes_to_textual(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        book = app.dashboard.book
        book.styles.border = ("tall", "red")  # reversed half blocks: Textual's path
        await pilot.pause()
        cache = book._styles_cache
        assert isinstance(cache, PaneStylesCache)
        assert styled(book, cache) == styled(book, StylesCache())
        assert cache._plan is None
