"""A pane's lines styled by ``PaneStylesCache`` are the lines Textual's ``StylesCache`` gives,
segment for segment, for every pane of the dashboard in every border state it takes, after the
app's line filters (``LeanStrip`` skips the truecolor one where it would change nothing)."""

from __future__ import annotations

import gc

from rich.console import Console
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.geometry import Size, Spacing
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.widgets.lean_strip import LeanStrip, truecolor_plain
from hlmon.ui.widgets.lines import LinePane
from hlmon.ui.widgets.pane_styles import BARE, PaneStylesCache
from hlmon.ui.widgets.tape import TapeView

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


def styled(widget: Widget, cache: StylesCache) -> list[list[tuple[str, object]]]:
    cache.clear()
    strips: list[Strip] = cache.render_widget(widget, widget.outer_size.region)
    return [[(s.text, s.style) for s in strip] for strip in strips]


def panes(app: HlmonApp) -> list[LinePane]:
    shown = [p for p in app.dashboard.query(LinePane) if p.display and p.size.area]
    assert len(shown) >= 3  # maximised: the pane, the header and the status line
    return shown


async def tape_with_trades(app: HlmonApp, store: Store, pilot: Pilot[int]) -> TapeView:
    """The dashboard's tape, painted with five trades."""
    await pilot.pause()
    store.apply(trades_msg("BTC", n=5, t_ms=T0_MS + 5000))
    app.dashboard.refresh_frame()
    await pilot.pause()
    return app.dashboard.tape


def assert_same_as_textuals(app: HlmonApp) -> int:
    """Compares every shown pane; returns how many had side borders drawn here."""
    drawn = 0
    for pane in panes(app):
        cache = pane._styles_cache
        assert isinstance(cache, PaneStylesCache)
        ours = styled(pane, cache)
        assert ours == styled(pane, StylesCache()), pane.id
        drawn += isinstance(cache._plan, tuple)
    return drawn


async def test_every_pane_in_every_border_state(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await tape_with_trades(app, store, pilot)
        assert assert_same_as_textuals(app) >= 4  # book, tape, watchlist, positions at least
        # No border at all: the line is the pane's own content strip, as it is.
        for bare in (app.dashboard.header, app.dashboard.status):
            cache = bare._styles_cache
            assert isinstance(cache, PaneStylesCache) and cache._plan == BARE
            lines = cache.render_widget(bare, bare.outer_size.region)
            assert all(line is bare.render_line(y) for y, line in enumerate(lines))
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


async def test_a_line_that_only_moved_keeps_its_framed_strip(app: HlmonApp, store: Store) -> None:
    """A tape scrolling keeps its content strips (``LinePane.set_rows``), and each one's line
    between the side borders is handed back, not built again; the pane still paints what
    Textual would, and a border of another colour frames every line anew."""
    async with app.run_test(size=SIZE) as pilot:
        tape = await tape_with_trades(app, store, pilot)
        cache = tape._styles_cache
        assert isinstance(cache, PaneStylesCache) and isinstance(cache._plan, tuple)
        framed = {id(content): line for content, line in cache._framed.values()}
        store.apply(trades_msg("BTC", n=6, t_ms=T0_MS + 7000))  # one more: the rows move down
        app.dashboard.refresh_frame()
        await pilot.pause()
        moved = [strip for strip in tape._strips.values() if id(strip) in framed]
        assert len(moved) >= 4
        assert all(cache._framed[id(strip)][1] is framed[id(strip)] for strip in moved)
        painted = cache.render_widget(tape, tape.outer_size.region)  # as the screen paints it
        textuals = styled(tape, StylesCache())
        assert [[(s.text, s.style) for s in line] for line in painted] == textuals
        tape.focus()  # the accent border: another plan
        await pilot.pause()
        again = [(id(c), line) for c, line in cache._framed.values() if id(c) in framed]
        assert again and not any(line is framed[key] for key, line in again)
        assert assert_same_as_textuals(app)


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


async def test_truecolor_lines_skip_the_filter_and_dimmed_ones_do_not(
    app: HlmonApp, store: Store
) -> None:
    """A pane's content lines in true colours come out of the truecolor filter as they went
    in, so the filter is not run on them; a stale pane's dimmed lines need it (it blends the
    dim colour), so it runs on every line; either way every line is Textual's."""
    async with app.run_test(size=SIZE) as pilot:
        tape = await tape_with_trades(app, store, pilot)
        truecolor = next(f for f in app._filters if isinstance(f, ANSIToTruecolor))
        assert truecolor.enabled
        converted: list[int] = []
        original = truecolor.apply

        def counting(segments: list[Segment], background: Color) -> list[Segment]:
            converted.append(len(segments))
            return original(segments, background)

        truecolor.apply = counting  # type: ignore[method-assign]
        ours = styled(tape, tape._styles_cache)
        assert len(converted) == 2  # the two border edges (Textual's path)
        converted.clear()
        assert ours == styled(tape, StylesCache())
        assert len(converted) == tape.outer_size.height  # Textual converts every line
        converted.clear()
        tape.set_freshness(stale_age="18s", rest=False)
        await pilot.pause()
        converted.clear()
        ours = styled(tape, tape._styles_cache)
        assert len(converted) == tape.outer_size.height
        assert ours == styled(tape, StylesCache())
        styles = [style for line in ours for _, style in line]
        assert styles and not any(s.dim and s.color for s in styles)  # type: ignore[attr-defined]


def test_lean_strip_acts_as_a_strip() -> None:
    red, grey = RichStyle(color="#ff0000"), RichStyle(color="#808080", dim=True)
    segments = [Segment("abc", red), Segment("de", grey)]
    lean, plain_strip = LeanStrip(list(segments), 5), Strip(segments, 5)
    assert list(lean.crop(1, 4)) == list(plain_strip.crop(1, 4))
    assert [list(s) for s in lean.divide([2, 5])] == [list(s) for s in plain_strip.divide([2, 5])]
    assert lean.text == "abcde" and lean.cell_length == 5
    assert lean.render(Console()) == plain_strip.render(Console())
    assert not truecolor_plain(grey) and truecolor_plain(red)
    assert not truecolor_plain(RichStyle(color="red")) and truecolor_plain(RichStyle(dim=True))
    truecolor = ANSIToTruecolor(DEFAULT_TERMINAL_THEME)
    # Not marked plain: filtered as Textual filters (the dim grey is blended).
    assert list(lean.apply_filter(truecolor, Color(0, 0, 0))) == list(
        plain_strip.apply_filter(truecolor, Color(0, 0, 0))
    )
    for slot in Strip.__slots__:  # every slot Strip's methods may read is there (an upgrade)
        getattr(LeanStrip([Segment("x")], 1), slot)
    marked = LeanStrip([Segment("abc", red)], 3, plain=True)
    assert marked.apply_filter(truecolor, Color(0, 0, 0)) is marked
    assert list(marked) == list(
        Strip([Segment("abc", red)], 3).apply_filter(truecolor, Color(0, 0, 0))
    )


def test_a_line_painted_whole_leaves_no_cycle() -> None:
    """The compositor divides each painted line; one piece is the strip itself, which
    Textual's ``Strip`` keeps in its own cache (a cycle for the garbage collector)."""
    segments = [Segment("abc", RichStyle(color="#ff0000")), Segment("de")]
    gc.collect()
    gc.disable()
    try:
        lean = LeanStrip(list(segments), 5)
        assert lean.divide([5, 9]) == [lean]
        del lean
        assert gc.collect() == 0
        textuals = Strip(segments, 5)
        assert textuals.divide([5]) == [textuals]
        del textuals
        assert gc.collect() > 0  # Textual's strip: a cycle
        lean = LeanStrip(list(segments), 5)
        assert [s.text for s in lean.divide([2, 5])] == ["ab", "cde"]
    finally:
        gc.enable()


def test_a_framed_line_is_of_its_plan_and_width() -> None:
    """The same content line between other side cells, or at another width, is framed anew."""
    cache = PaneStylesCache()
    content = LeanStrip([Segment("abc", RichStyle(color="#ff0000"))], 3)
    red, blue = RichStyle(color="#ff0000"), RichStyle(color="#0000ff")

    def line(plan: object, width: int) -> Strip:
        cache._plan = plan  # type: ignore[assignment]
        size, content_size = Size(width, 5), Size(width - 2, 3)
        return cache.render_line(
            None, 1, size, content_size, Spacing(), Color(0, 0, 0), Color(0, 0, 0),  # type: ignore[arg-type]
            lambda y: content, None, None, 1.0, DEFAULT_TERMINAL_THEME, False,
        )  # fmt: skip

    a = (Segment("│", red), Segment("│", red), RichStyle(), True)
    b = (Segment("│", blue), Segment("│", blue), RichStyle(), True)
    first = line(a, 5)
    assert line(a, 5) is first
    other = line(b, 5)
    assert other is not first and other.text == first.text
    assert next(iter(other)).style == blue
    assert line(a, 5) is not first  # framed anew, not an entry of the old plan kept
    wider = line(a, 7)
    assert wider.cell_length == 7
