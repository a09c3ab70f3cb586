"""Each screen update reaches the terminal driver as one write holding what Textual's three
writes held, in the same order."""

from __future__ import annotations

from typing import Any

from textual._ansi_sequences import SYNC_END, SYNC_START
from textual.app import App
from textual.geometry import Region

from hlmon.ui.app import HlmonApp

SIZE = (120, 40)


class TerminalDriver:
    """The test's driver as a terminal's would look to ``_display``: not headless; every
    write recorded."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver
        self.writes: list[str] = []
        self.is_headless = False

    def write(self, data: str) -> None:
        self.writes.append(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


async def test_an_update_is_one_write_of_textuals_three(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.dashboard
        headless = app._driver
        terminal = TerminalDriver(headless)
        app._driver = terminal  # type: ignore[assignment]
        app._sync_available = True
        try:
            screen._compositor._dirty_regions.add(Region(0, 0, SIZE[0], SIZE[1]))
            ours = screen._compositor.render_update()
            app._display(screen, ours)
            assert len(terminal.writes) == 1
            (one,) = terminal.writes
            terminal.writes.clear()
            screen._compositor._dirty_regions.add(Region(0, 0, SIZE[0], SIZE[1]))
            textuals = screen._compositor.render_update()
            App._display(app, screen, textuals)
            assert len(terminal.writes) == 3  # begin, update, end: what is joined
            assert terminal.writes[0] == SYNC_START and terminal.writes[2] == SYNC_END
            assert one == "".join(terminal.writes)
            assert len(one) > 2000  # the whole screen, not just the two sync sequences
        finally:
            app._driver = headless


async def test_no_update_writes_nothing(app: HlmonApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        headless = app._driver
        terminal = TerminalDriver(headless)
        app._driver = terminal  # type: ignore[assignment]
        try:
            app._display(app.dashboard, None)
            assert terminal.writes == []
        finally:
            app._driver = headless
