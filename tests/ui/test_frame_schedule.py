"""``FrameSchedule``: a frame at once for the first change after a quiet period, one frame per
interval under a stream of changes, none when nothing changes but the deadlines asked for.

Driven by a hand-made loop (time moves only when told), so the decisions are checked exactly.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import cast

import pytest

from hlmon.state import Store
from hlmon.ui.frame_schedule import LATE_OK, POST_TIMEOUT, FrameSchedule, wake_delay
from hlmon.ui.screens.paint_on_change import PaintOnChange

INTERVAL = 0.1


class Handle:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """``time``, ``call_at`` and ``call_soon_threadsafe``; ``advance`` runs what falls due."""

    def __init__(self) -> None:
        self.now = 100.0
        self.handles: list[Handle] = []
        self.threadsafe: list[Callable[[], None]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> Handle:
        handle = Handle(when, callback)
        self.handles.append(handle)
        return handle

    def call_soon_threadsafe(self, callback: Callable[..., None], *args: object) -> None:
        self.threadsafe.append(lambda: callback(*args))

    def scheduled(self) -> list[float]:
        return sorted(h.when for h in self.handles if not h.cancelled)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = sorted((h for h in self.handles if not h.cancelled and h.when <= self.now),
                     key=lambda h: h.when)  # fmt: skip
        for handle in due:
            self.handles.remove(handle)
            handle.callback()


class Screen:
    """Counts posted frames; ``run_frames`` starts them as the UI would."""

    def __init__(self) -> None:
        self.loop = FakeLoop()
        self.posted = 0
        self.schedule = FrameSchedule(
            self.post, INTERVAL, cast(asyncio.AbstractEventLoop, self.loop)
        )
        self.started: list[float] = []

    def post(self) -> None:
        self.posted += 1

    def run_frames(self) -> None:
        while len(self.started) < self.posted:
            self.schedule.frame_started()
            self.started.append(self.loop.now)


def test_first_change_after_quiet_is_painted_at_once() -> None:
    s = Screen()
    s.schedule.changed()
    assert s.loop.scheduled() == [100.0]  # now, not at the next tick of a timer
    s.loop.advance(0)
    assert s.posted == 1


def test_changes_within_the_interval_are_coalesced() -> None:
    """A flood right after a frame: one more frame, due at last + interval. With no change
    to run it then, its own timer runs it ``late_ok`` later."""
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    for _ in range(50):
        s.loop.advance(0.001)
        s.schedule.changed()
    assert s.schedule.due == pytest.approx(100.0 + INTERVAL)
    assert s.loop.scheduled() == [pytest.approx(100.0 + INTERVAL + LATE_OK)]
    s.loop.advance(100.0 + INTERVAL + LATE_OK - s.loop.now)
    s.run_frames()
    assert s.posted == 2
    assert s.started == [100.0, pytest.approx(100.0 + INTERVAL + LATE_OK)]


def test_a_frame_due_runs_on_the_first_change_after_its_time() -> None:
    """Under a flood the frame due runs in the wake-up of the first change at or after its
    time, not on a timer of its own (one loop wake-up less per frame)."""
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.loop.advance(0.01)
    s.schedule.changed()  # due at last + interval
    s.loop.advance(INTERVAL - 0.011)
    s.schedule.changed()  # 1 ms before its time: still waits
    assert s.posted == 1
    s.loop.advance(0.003)
    s.schedule.changed()  # 2 ms after it: posted from this call
    assert s.posted == 2 and s.loop.scheduled() == []
    s.run_frames()
    assert s.started[-1] == pytest.approx(100.0 + INTERVAL + 0.002)


def test_a_frame_takes_the_changes_asked_for_before_it() -> None:
    """A frame that did not come from the schedule (a key's) paints every change made
    before it: the frame they asked for is not run again."""
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.loop.advance(0.01)
    s.schedule.changed()
    assert s.schedule.pending
    assert s.schedule.frame_started()
    assert not s.schedule.pending and s.loop.scheduled() == []


def test_an_urgent_change_is_not_held_by_a_late_timer() -> None:
    """An urgent change due when a plain one is keeps its exact time: the plain frame's
    timer (``late_ok`` after its time) is brought forward to it."""
    s = Screen()
    assert s.schedule.frame_started(light_ok=True)  # full, at 100.0
    s.loop.advance(INTERVAL - 0.008)
    assert not s.schedule.frame_started(light_ok=True)  # light, at 100.092
    s.loop.advance(0.001)
    s.schedule.changed()  # due at 100.1, its timer at 100.1 + late_ok
    assert s.loop.scheduled() == [pytest.approx(100.0 + INTERVAL + LATE_OK)]
    s.schedule.changed(urgent=True)  # due at 100.1 too (the full frame comes first)
    assert s.schedule.due == pytest.approx(100.0 + INTERVAL)
    assert s.loop.scheduled() == [pytest.approx(100.0 + INTERVAL)]


def test_an_urgent_change_waits_at_most_the_urgent_wait() -> None:
    """Under a flood of plain changes the selected coin's trade is painted within
    ``urgent_wait``: by the frame already asked for if it comes soon enough, else by bringing
    it forward."""
    s = Screen()
    wait = s.schedule.urgent_wait
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.loop.advance(0.005)
    s.schedule.changed()  # plain: at last + interval (its timer late_ok after)
    assert s.schedule.due == pytest.approx(100.0 + INTERVAL)
    s.schedule.changed(urgent=True)  # 5 ms after the frame: the next is 95 ms away
    assert s.loop.scheduled() == [pytest.approx(100.0 + wait)]
    s.schedule.changed()  # a plain change does not push it back
    assert s.loop.scheduled() == [pytest.approx(100.0 + wait)]
    s.loop.advance(wait)
    s.run_frames()
    assert s.posted == 2
    s.loop.advance(INTERVAL - wait / 2)
    s.schedule.changed()  # plain: at last + interval
    s.schedule.changed(urgent=True)  # no frame for longer than the urgent wait: at once
    assert s.loop.scheduled() == [s.loop.now]  # the one frame asked for, brought forward


def test_a_posted_frame_takes_the_changes_made_before_it_starts() -> None:
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.schedule.changed()  # posted, not started: the frame will see this change
    assert s.loop.scheduled() == [] and s.posted == 1
    s.loop.advance(POST_TIMEOUT + 0.1)  # ...unless the post was lost: then post again
    s.schedule.changed()
    s.loop.advance(0)
    assert s.posted == 2


def test_nothing_changed_no_frame_but_the_deadline() -> None:
    s = Screen()
    s.schedule.wake_in(1.0)
    s.loop.advance(0.99)
    assert s.posted == 0
    s.loop.advance(0.02)
    assert s.posted == 1
    s.run_frames()
    s.loop.advance(10.0)
    assert s.posted == 1  # no change, no deadline: no frame
    assert s.schedule.deadline is None


def test_a_new_deadline_replaces_the_old_one() -> None:
    s = Screen()
    s.schedule.wake_in(1.0)
    s.schedule.wake_in(0.3)  # a feed goes stale sooner than the next age tick
    assert s.loop.scheduled() == [100.3]
    assert s.schedule.deadline == 100.3
    s.schedule.wake_in(0.3)  # the same deadline keeps its handle
    assert len(s.loop.handles) == 2
    s.loop.advance(1.0)
    assert s.posted == 1


def test_a_deadline_during_a_pending_frame_adds_no_frame() -> None:
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.schedule.changed()  # due at 100.1
    s.schedule.wake_in(0.05)
    s.loop.advance(0.2)
    assert s.posted == 2


def test_a_deadline_runs_a_frame_due_and_waiting_for_its_late_timer() -> None:
    """A deadline (a feed going stale) after the time of the frame asked for runs that frame
    then, not ``late_ok`` later on its timer, and it runs once."""
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.loop.advance(0.01)
    s.schedule.changed()  # due at 100.1, its timer at 100.1 + late_ok
    s.schedule.wake_in(INTERVAL)  # at 100.11
    s.loop.advance(INTERVAL)
    assert s.posted == 2
    s.run_frames()
    assert s.started[-1] == pytest.approx(100.0 + INTERVAL + 0.01)
    s.loop.advance(LATE_OK)
    assert s.posted == 2


def test_changes_from_another_thread_are_handed_to_the_loop() -> None:
    s = Screen()
    worker = threading.Thread(target=s.schedule.changed)
    worker.start()
    worker.join()
    assert s.loop.scheduled() == [] and len(s.loop.threadsafe) == 1
    s.loop.threadsafe.pop()()
    assert s.loop.scheduled() == [100.0]


def test_closed_schedules_nothing() -> None:
    s = Screen()
    s.schedule.wake_in(1.0)
    s.schedule.close()
    s.schedule.changed()
    s.schedule.wake_in(0.5)
    s.loop.advance(5.0)
    assert s.posted == 0


def test_wake_delay_next_second_or_an_earlier_deadline() -> None:
    assert wake_delay(100.25, ()) == pytest.approx(0.75)
    assert wake_delay(100.25, (None, 100.5)) == pytest.approx(0.25)  # a feed goes stale first
    assert wake_delay(100.25, (100.2, 103.0)) == pytest.approx(0.75)  # past or later: the tick


async def test_the_catalog_coming_in_force_is_an_urgent_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At start-up the watchlist waits for the catalog: its arrival (the first data on screen)
    does not wait a whole frame interval behind the frame the first change ran."""
    store = Store(lambda: 1000.0)
    paint = PaintOnChange(store, lambda: 1000.0)
    paint.start(lambda: None, 12.0, "BTC")
    assert paint.schedule is not None
    told: list[bool] = []
    monkeypatch.setattr(paint.schedule, "changed", told.append)
    paint.follow("BTC")
    store.take_changes()
    told.clear()
    store.catalog_state.expect()  # the catalog's state changed (here: awaited)
    assert told == [True]
    paint.stop()


def test_an_urgent_change_after_a_quiet_spell_is_painted_at_once() -> None:
    """The leading edge holds for urgent changes too: no frame ran in the last
    ``urgent_wait`` (a full one did within the interval), so the trade does not wait."""
    s = Screen()
    s.schedule.changed()
    s.loop.advance(0)
    s.run_frames()
    s.loop.advance(s.schedule.urgent_wait + 0.01)
    s.schedule.changed(urgent=True)
    assert s.loop.scheduled() == [s.loop.now]


def test_a_frame_brought_forward_within_the_interval_may_be_light() -> None:
    """Within ``interval`` of a full frame a frame may be light (the screen paints the urgent
    changes only); the full frames keep their own clock: a plain change after a light frame
    waits for ``last full + interval``, not for ``last light + interval``."""
    s = Screen()
    assert s.schedule.frame_started(light_ok=True)  # the first frame is full
    s.loop.advance(0.03)
    assert not s.schedule.frame_started(light_ok=True)
    assert s.schedule.last_full == 100.0 and s.schedule.last_started == pytest.approx(100.03)
    s.schedule.changed()  # what the light frame held back
    assert s.schedule.due == pytest.approx(100.0 + INTERVAL)
    assert s.schedule.frame_started()  # a frame that needs every pane is full, whenever
    s.loop.advance(INTERVAL)
    assert s.schedule.frame_started(light_ok=True)  # the interval has passed: full
