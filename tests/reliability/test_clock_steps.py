"""Regression tests for what the chaos run's clock jumps found: the store's clock stepping
back (an NTP step) made msg/s count frames from the clock's "future" for as long as the step,
and silenced rejected-frame log lines until the clock caught up."""

from __future__ import annotations

from hlmon.protocol.decode import decode
from hlmon.state import Store
from hlmon.state.telemetry import FrameCounter


class StepClock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_after_clock_steps_back_counts_only_the_last_seconds() -> None:
    counter = FrameCounter()
    t = 1_000.0
    for i in range(5000):  # a burst: 1000 frames a second for 5 s
        counter.add(t + i / 1000, "bbo", 10)
    t_back = t - 120.0
    for i in range(10):  # then the clock steps back 2 minutes; 10 frames over 1 s
        counter.add(t_back + i / 10, "bbo", 10)
    rate = counter.rate(t_back + 1.0)
    assert rate < 5, rate  # 10 frames over ~6 s, not the burst
    # Memory stays bounded: the stale "future" buckets are gone.
    assert len(counter._buckets) <= 7


def test_rate_ignores_buckets_ahead_of_now() -> None:
    counter = FrameCounter()
    counter.add(2_000.0, "bbo", 1)
    assert counter.rate(1_000.0) == 0.0


def test_rejected_frames_logged_again_after_clock_steps_back() -> None:
    clock = StepClock()
    store = Store(clock)
    store.health.note_rejected("bad", "x")
    clock.now -= 300.0
    store.health.note_rejected("bad again", "y")
    lines = [e.text for e in store.health.events if e.text.startswith("rejected frame")]
    assert len(lines) == 2, lines
    assert store.health.frames_rejected == 2


def test_store_keeps_working_across_steps_both_ways() -> None:
    clock = StepClock()
    store = Store(clock)
    store.expect("mids")
    frame = b'{"channel":"allMids","data":{"mids":{"BTC":"100.5"}}}'
    store.apply(decode(frame))
    clock.now += 3600.0
    assert store.feed_status("mids").state.value == "stale"
    clock.now -= 7200.0
    status = store.feed_status("mids")
    # The step back is rebased away: an hour-old feed stays an hour old and stale (M1).
    assert status.age_s == 3600.0 and status.state.value == "stale"
    store.apply(decode(frame))
    assert store.mid("BTC") == "100.5"
