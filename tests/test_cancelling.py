"""``cancel_and_wait``: a task that loses one cancel (as under 3.11's ``wait_for``) still ends,
and one that never ends cannot hang a stop."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import pytest

from hlmon.cancelling import cancel_and_wait
from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.feeds.supervisor import Supervisor
from hlmon.state import FeedHealth


async def _loses_one_cancel(lost: list[int], started: asyncio.Event) -> None:
    """Swallows the first cancel and goes on looping, as a lost cancel makes a loop do."""
    started.set()
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if lost:
                raise
            lost.append(1)


async def _never_ends(started: asyncio.Event) -> None:
    started.set()
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass


async def test_a_task_that_loses_a_cancel_is_cancelled_again() -> None:
    lost: list[int] = []
    started = asyncio.Event()
    task = asyncio.create_task(_loses_one_cancel(lost, started))
    await started.wait()
    left = await cancel_and_wait([task], within=5.0)
    assert left == set()
    assert lost == [1]  # it did swallow the first one
    assert task.cancelled()


async def test_a_task_that_never_ends_is_given_up_on_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(_never_ends(started), name="stubborn")
    await started.wait()
    with caplog.at_level(logging.WARNING, logger="hlmon.cancelling"):
        async with asyncio.timeout(5):  # given up on: the stop itself never hangs
            left = await cancel_and_wait([task], within=0.3, what="test task")
    assert left == {task}
    assert "test task did not end within 0.3 s" in caplog.text and "stubborn" in caplog.text
    task.get_coro().close()  # end it for good (no loop left to do it)


async def test_exceptions_are_retrieved_and_done_tasks_ignored() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert failed.done()
    sleeper = asyncio.create_task(asyncio.sleep(3600))
    assert await cancel_and_wait([failed, sleeper]) == set()
    assert sleeper.cancelled()


async def test_the_supervisor_stops_a_task_that_lost_its_cancel() -> None:
    lost: list[int] = []
    sup = Supervisor(FeedHealth(time.time), FullJitterBackoff(0.01, 0.05, random.Random(3)))
    started = asyncio.Event()
    sup.spawn("loses-a-cancel", lambda: _loses_one_cancel(lost, started))
    await started.wait()
    async with asyncio.timeout(10):
        await sup.stop()
    assert lost == [1]
