"""An account or table push updates the lines that show it (the dex line under the positions,
the lower tabs' row counts) without judging every pane's freshness again: the panes' marks
move with a feed's state or source, or once a second with their ages."""

from __future__ import annotations

from typing import Any, cast

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.screens.pane_marks import mark_pane

from .helpers import FakeClock, orders_msg

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
