"""A modal over the dashboard (help, a form) slows its panes to once a second: the dashboard
shows through dimmed, and every update of it makes Textual composite the whole of it under
the modal. Closed, the usual pace and the urgent trades are back, and a frame held to the slow
pace comes at the usual one."""

from __future__ import annotations

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.screens.help import HelpScreen
from hlmon.ui.screens.paint_on_change import BEHIND_MODAL_INTERVAL
from tests.support import wait_for

from .helpers import T0_MS, trades_msg

SIZE = (120, 40)


async def test_a_modal_slows_the_dashboard_and_closing_it_restores_the_pace(
    app: HlmonApp, store: Store
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        schedule = d.schedule
        assert schedule is not None
        usual = schedule.interval
        assert usual < BEHIND_MODAL_INTERVAL
        assert "trades:BTC" in d.paint.urgent
        app.push_screen(HelpScreen())
        await pilot.pause()
        assert d.paint.behind_modal
        assert schedule.interval == BEHIND_MODAL_INTERVAL
        assert not d.paint.urgent and not d.paint.light  # no trade jumps the queue
        # A trade right after a frame waits for the next frame, a second after the last.
        d.refresh_frame()
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        assert schedule.pending
        assert schedule._pending_at - schedule._last_full >= BEHIND_MODAL_INTERVAL - 0.01
        app.pop_screen()
        await pilot.pause()
        assert not d.paint.behind_modal
        assert schedule.interval == usual
        assert "trades:BTC" in d.paint.urgent
        await pilot.pause()
        await wait_for(lambda: "104,4" in "\n".join(d.tape.text_lines))  # the held trades


async def test_a_full_screen_is_not_a_modal(app: HlmonApp) -> None:
    """The market screen covers the dashboard (it paints nothing then: ``covering``); the
    pace is not the modal's."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        await pilot.press("m")
        await pilot.pause()
        assert not d.paint.behind_modal
        assert d.paint.hidden is not None
