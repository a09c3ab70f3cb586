"""Light frames: under a flood the selected coin's trades are painted within 20 ms by a
frame that rebuilds the tapes alone; every other change waits for the next full frame (at
most every 1.5 frame intervals), and a new second or a feed changing state is never held."""

from __future__ import annotations

import asyncio
import math

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.frame_schedule import FrameSchedule
from hlmon.ui.screens.dashboard import Dashboard
from tests.support import msg

from .helpers import T0_MS, FakeClock, book_msg, note_calls, trades_msg

SIZE = (120, 40)


def hand_timed_schedule(d: Dashboard, mono: FakeClock) -> FrameSchedule:
    """The dashboard's schedule on a clock the test moves (posted frames go nowhere: the
    test runs them itself, as the schedule would have)."""
    old = d.schedule
    assert old is not None
    old.close()
    loop = asyncio.get_running_loop()
    d.paint.schedule = FrameSchedule(lambda: None, old.interval, loop, now=mono)
    d.paint.follow(d.watchlist.selected)
    return d.paint.schedule


async def posted(schedule: FrameSchedule) -> None:
    """Let the loop run until the frame asked for is posted (its time is past)."""
    for _ in range(100):
        if not schedule.pending:
            return
        await asyncio.sleep(0)
    raise AssertionError("the frame asked for was never posted")


def counting(d: Dashboard) -> list[str]:
    """Which panes rebuild: the book's and the tape's ``rebuild`` calls, in order."""
    calls: list[str] = []
    for name, pane in (("book", d.book), ("tape", d.tape)):
        note_calls(pane, "rebuild", lambda name=name: calls.append(name))  # type: ignore[misc]
    return calls


async def test_a_trade_under_a_flood_paints_the_tape_alone(app: HlmonApp, store: Store) -> None:
    """A trade that comes within the full interval is painted by a light frame, which does not
    rebuild the book that changed with it; the book comes with the full frame the schedule
    asks for at ``last full + interval``."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        schedule = hand_timed_schedule(d, mono)
        d.refresh_frame(light_ok=True)  # full: the first on this schedule
        calls = counting(d)
        store.apply(book_msg("BTC", mid=104500.5, t_ms=T0_MS))
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        mono.advance(0.02)
        d.refresh_frame(light_ok=True)
        assert d.light_frames == 1
        assert calls == ["tape"]
        assert "104,500.5" not in "\n".join(d.book.text_lines)
        assert schedule.pending  # the book's frame is asked for...
        mono.advance(schedule.interval)
        d.refresh_frame(light_ok=True)  # ...and it is full
        assert d.light_frames == 1
        assert calls == ["tape", "book"]


async def test_a_frame_not_posted_by_the_schedule_is_full(app: HlmonApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        hand_timed_schedule(d, mono)
        d.refresh_frame(light_ok=True)
        calls = counting(d)
        store.apply(book_msg("BTC", mid=104500.5, t_ms=T0_MS))
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        mono.advance(0.02)
        d.refresh_frame()
        assert d.light_frames == 0
        assert sorted(calls) == ["book", "tape"]


async def test_a_feed_changing_state_makes_the_frame_full(
    app: HlmonApp, store: Store, clock: FakeClock
) -> None:
    """A trade arriving as a feed goes stale: the frame is full (live -> stale is never late),
    though the last full frame ran a moment ago."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        hand_timed_schedule(d, mono)
        change = store.next_state_change()
        assert change is not None
        before, after = change - 0.001, change + 0.001
        assert math.floor(before) == math.floor(after)  # no new second: no age tick
        clock.now = before
        d.refresh_frame(light_ok=True)
        full_before = d.frames - d.light_frames
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        clock.now = after
        mono.advance(0.002)
        d.refresh_frame(light_ok=True)
        assert d.light_frames == 0
        assert d.frames - d.light_frames == full_before + 1


async def test_a_new_second_makes_the_frame_full(
    app: HlmonApp, store: Store, clock: FakeClock
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        hand_timed_schedule(d, mono)
        clock.now = math.floor(clock.now) + 0.999
        d.refresh_frame(light_ok=True)
        ticks = d.age_ticks
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        clock.advance(0.002)
        mono.advance(0.002)
        d.refresh_frame(light_ok=True)
        assert d.light_frames == 0
        assert d.age_ticks == ticks + 1


async def test_a_bbo_push_alone_asks_for_no_frame(app: HlmonApp, store: Store) -> None:
    """Nothing on the dashboard moves with a bbo push alone (``QUIET_KEYS``): no frame is
    asked for; the push is taken by the next frame a shown change asks for."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        schedule = hand_timed_schedule(d, mono)
        d.refresh_frame(light_ok=True)
        bbo = {"coin": "BTC", "time": T0_MS, "bbo": [None, None]}
        store.apply(msg("bbo", bbo))
        assert not schedule.pending
        store.apply(book_msg("BTC", mid=104500.5, t_ms=T0_MS))
        assert schedule.pending
        mono.advance(schedule.interval)
        d.refresh_frame(light_ok=True)
        assert "104,500.5" in "\n".join(d.book.text_lines)
        assert not store.take_changes()  # the bbo went with that frame


async def test_a_bbo_left_by_a_light_frame_asks_for_no_frame(app: HlmonApp, store: Store) -> None:
    """A bbo that came with the selected coin's trades is left by their light frame as if it
    had come alone: it asks for no full frame (which would paint nothing); the next change
    shown takes it. Anything else left behind still asks for its full frame."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        d = app.dashboard
        mono = FakeClock(500.0)
        schedule = hand_timed_schedule(d, mono)
        d.refresh_frame(light_ok=True)  # full: the first on this schedule
        calls = counting(d)
        store.apply(msg("bbo", {"coin": "BTC", "time": T0_MS, "bbo": [None, None]}))
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 5000))
        mono.advance(0.02)
        await posted(schedule)  # the trades' frame (the test runs it)
        d.refresh_frame(light_ok=True)
        assert d.light_frames == 1 and calls == ["tape"]
        assert not schedule.pending  # no frame for the bbo alone
        store.apply(book_msg("BTC", mid=104500.5, t_ms=T0_MS))
        assert schedule.pending  # a shown change: its frame takes the bbo too
        mono.advance(schedule.interval)
        d.refresh_frame(light_ok=True)
        assert calls == ["tape", "book"]
        assert not store.take_changes()
        # A book left by a light frame still asks for its full frame.
        store.apply(book_msg("BTC", mid=104501.5, t_ms=T0_MS + 10))
        store.apply(trades_msg("BTC", n=3, t_ms=T0_MS + 6000))
        mono.advance(0.02)
        await posted(schedule)
        d.refresh_frame(light_ok=True)
        assert d.light_frames == 2 and schedule.pending
