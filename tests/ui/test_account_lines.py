"""An account or table push updates the lines that show it (the dex line under the positions,
the lower tabs' row counts) without judging every pane's freshness again: the panes' marks
move with a feed's state or source, or once a second with their ages."""

from __future__ import annotations

from typing import Any, cast

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.screens.pane_marks import mark_pane

from .helpers import USER, FakeClock, note_calls, orders_msg

OTHER = "0x31ca8395cf837de08b24da3f660e77761dfb974b"

SIZE = (120, 40)


async def test_a_table_push_updates_the_counts_and_marks_no_pane(
    app: HlmonApp, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        marked: list[str] = []

        def counting(store: Store, pane: Any, *args: Any) -> Any:
            marked.append(pane.id or "")
            return mark_pane(store, pane, *args)

        monkeypatch.setattr("hlmon.ui.screens.dashboard.mark_pane", counting)
        d.refresh_frame()  # settle: whatever was pending
        marked.clear()
        before = str(d.lower.border_title)
        message = orders_msg()
        cast(Any, message).data.orders.pop()  # one order fewer: the tab's count moves
        store.apply(message)
        d.refresh_frame()
        assert marked == []  # no pane judged again for a push
        assert str(d.lower.border_title) != before  # the count did move
        clock.advance(1.0)  # a new second: the ages tick, every pane is marked
        d.refresh_frame()
        assert {"book", "watchlist", "positions"} <= set(marked)


async def test_a_watched_rows_push_alone_draws_no_lines(app: HlmonApp, store: Store) -> None:
    """``accounts`` (the watched rows, moved by every push of the selected account too) is no
    key of those lines: that tab carries no count, and the dex line follows the positions."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        d.refresh_frame()  # settle: whatever was pending
        drawn: list[int] = []
        note_calls(d, "update_tab_names", lambda: drawn.append(1))
        store.set_watched_users([USER, OTHER])  # an 'accounts' change and nothing else
        d.refresh_frame()
        assert drawn == []
        message = orders_msg()
        cast(Any, message).data.orders.pop()  # a counted tab's rows: drawn
        store.apply(message)
        d.refresh_frame()
        assert drawn == [1]


async def test_a_connection_change_redraws_the_status_line_not_the_header(
    app: HlmonApp, store: Store
) -> None:
    """``status`` (a new ping time, the REST weight) is the status line's: the header shows
    the account, whose feed's state moves the panes' marks on its own (``moved``)."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        d.refresh_frame()  # settle: whatever was pending
        headers: list[int] = []
        statuses: list[int] = []
        note_calls(d.header, "rebuild", lambda: headers.append(1))
        note_calls(d.status, "rebuild", lambda: statuses.append(1))
        store.health.note_rtt(7.0)
        d.refresh_frame()
        assert (headers, statuses) == ([], [1])
