"""Snapshot tests (SVG, fixed clock) of what the status bar and the titles say when data lags
and when the connection is down, at 120x40 and 80x24.

Update with ``pytest tests/ui/test_status_snapshots.py --snapshot-update`` and look at the
result before committing.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from hlmon.state import ConnState
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime

from .helpers import FakeClock, book_msg, msg, populated_store, settings

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


def make_app() -> tuple[HlmonApp, FakeClock]:
    clock = FakeClock()
    return build_app(FakeRuntime(settings(), populated_store(clock), clock)), clock


async def settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, HlmonApp)
    await pilot.pause()
    app.dashboard.refresh_frame()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_lagging_feed(snap_compare: Any, size: tuple[int, int]) -> None:
    """Book and bbo arrive 3 s older than usual: LAG in the bar and the book's title; the
    feeds without a time of their own (mids, contexts, orders) lag with the socket."""
    app, clock = make_app()

    async def lagging(pilot: Pilot[Any]) -> None:
        store = app.store
        clock.advance(1.0)
        late_ms = int((clock.now - 3.0) * 1000)
        store.apply(book_msg(t_ms=late_ms))
        store.apply(
            msg("bbo", {"coin": "BTC", "time": late_ms,
                        "bbo": [{"px": "104412.0", "sz": "0.8", "n": 2},
                                {"px": "104413.0", "sz": "0.12", "n": 1}]})
        )  # fmt: skip
        store.health.note_alive()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=lagging)


@pytest.mark.parametrize("size", SIZES)
def test_down_with_reason(snap_compare: Any, size: tuple[int, int]) -> None:
    """A crashed engine task: DOWN and why, in short; 18 s later the panels are stale."""
    app, clock = make_app()

    async def down(pilot: Pilot[Any]) -> None:
        clock.advance(18.0)
        app.store.health.set_connection(
            ConnState.DOWN,
            error="internal error in fallback: RuntimeError('boom'); restarting it in 0.4 s",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=down)


@pytest.mark.parametrize("size", SIZES)
def test_cannot_connect(snap_compare: Any, size: tuple[int, int]) -> None:
    """Never connected: CONNECTING with the attempt and why (refused, host and port)."""
    app, _ = make_app()

    async def refused(pilot: Pilot[Any]) -> None:
        app.store.health.set_connection(
            ConnState.RECONNECTING,
            attempt=2,
            next_retry_in=1.5,
            error="ClientConnectorError: Cannot connect to host 127.0.0.1:9 ssl:default "
            "[Connect call failed ('127.0.0.1', 9)]",
            reason="cannot connect: 127.0.0.1:9 refused",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=refused)
