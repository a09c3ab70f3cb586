"""The UI's own caches are capped too: a pane fed ever-new rows keeps strips for the lines on
screen only, however long it runs; a row that only moved keeps its strip."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from hlmon.ui.widgets.lines import LinePane, Row


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.pane = LinePane()

    def compose(self) -> ComposeResult:
        yield self.pane


def _paint(pane: LinePane) -> None:
    pane.render_lines(Region(0, 0, pane.outer_size.width, pane.outer_size.height))


async def test_strips_are_bounded_by_the_lines_on_screen() -> None:
    app = _Host()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        pane = app.pane
        height = pane.size.height
        for i in range(200):
            pane.set_rows([((f"row {i}.{y}", ""),) for y in range(height)])
            _paint(pane)
            assert len(pane._strips) <= height
        assert pane.lines_painted >= 200 * height  # every new row was built


async def test_a_row_that_moves_keeps_its_strip() -> None:
    """A tape scrolling by one line builds one new strip, not a screenful."""
    app = _Host()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        pane = app.pane
        rows: list[Row] = [((f"trade {i}", ""),) for i in range(pane.size.height)]
        pane.set_rows(rows)
        _paint(pane)
        built = pane.lines_painted
        for i in range(5):
            rows = [((f"new trade {i}", ""),), *rows[:-1]]
            pane.set_rows(rows)
            _paint(pane)
        assert pane.lines_painted == built + 5
