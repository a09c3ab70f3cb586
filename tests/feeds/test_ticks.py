"""Periodic loops sleep to a shared grid, so their wake-ups coincide (``hlmon.feeds.ticks``)."""

from __future__ import annotations

import asyncio

import pytest

from hlmon.feeds.ticks import grid_delay, sleep_on_grid


@pytest.mark.parametrize(
    ("now", "period", "delay"),
    [
        (10.0, 0.25, 0.25),  # on a grid point: the next one
        (10.1, 0.25, 0.15),
        (10.2, 0.25, 0.3),  # 0.05 to the next point is under half a period: the one after
        (10.0, 0.5, 0.5),
        (59.0, 60.0, 61.0),  # a minute's tick never runs again a second after it started
        (5.0, 0.0, 0.0),
    ],
)
def test_grid_delay(now: float, period: float, delay: float) -> None:
    assert grid_delay(now, period) == pytest.approx(delay)


def test_loops_with_dividing_ticks_aim_at_the_same_instants() -> None:
    """Rounds ending at different moments wake on the same points: a 0.25 s loop and a 0.5 s
    loop meet on every 0.5 s point, whatever their phase was."""
    for start in (100.01, 100.07, 100.13, 100.31, 100.49):
        quarter = start + grid_delay(start, 0.25)
        half = start + grid_delay(start, 0.5)
        assert round(quarter / 0.25, 9).is_integer() and round(half / 0.5, 9).is_integer()
        # Within a period the delays stay in [period / 2, 1.5 period).
        assert 0.125 <= quarter - start < 0.375 and 0.25 <= half - start < 0.75


async def test_sleep_on_grid_sleeps_to_the_next_grid_point() -> None:
    loop = asyncio.get_running_loop()
    before = loop.time()
    target = before + grid_delay(before, 0.05)
    await sleep_on_grid(0.05)
    # Not before the grid point (timers may fire up to a millisecond early: uvloop rounds).
    assert loop.time() >= target - 0.002
