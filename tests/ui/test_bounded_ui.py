"""The UI's own caches are capped too: a pane fed ever-new rows keeps a bounded number of
strips, however long it runs."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from hlmon.ui.widgets.lines import ROW_STRIPS_MAX, LinePane


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.pane = LinePane()

    def compose(self) -> ComposeResult:
        yield self.pane


async def test_row_strips_are_bounded() -> None:
    app = _Host()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        pane = app.pane
        height = pane.size.height
        for i in range(3 * ROW_STRIPS_MAX // height):
            pane.set_rows([((f"row {i}.{y}", ""),) for y in range(height)])
            pane.render_lines(Region(0, 0, pane.outer_size.width, pane.outer_size.height))
            assert len(pane._row_strips) <= ROW_STRIPS_MAX
        assert pane.lines_painted >= 2 * ROW_STRIPS_MAX  # it did keep building new ones
