"""A loop that sleeps on "an event or a timeout" ends when cancelled, even when the event came
in the same loop turn as the cancel.

On Python 3.11 ``asyncio.wait_for(event.wait(), t)`` returns normally in that case and the
cancel is lost: the catalog keeper's loop then ran on after ``FeedEngine.stop`` cancelled it, and
the stop (and the app's exit, and a test) waited for it forever. ``asyncio.timeout`` keeps it.
The NATS socket's subscribe chain lost its cancel the same way (a ``suppress(BaseException)``).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import hlmon
from hlmon.feeds.catalog_keeper import CatalogKeeper
from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.nats_socket import _after
from hlmon.state import Store


async def _cancel_right_after_wake(task: asyncio.Task[None], wake: asyncio.Event) -> None:
    await asyncio.sleep(0.05)  # the task sleeps on the event now
    wake.set()
    await asyncio.sleep(0)  # the event's waiter is done, the task not yet resumed
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert done, "the cancel was lost: the loop runs on"
    assert task.cancelled()


async def test_catalog_keeper_wait_ends_when_cancelled_as_it_wakes() -> None:
    client = InfoClient("http://127.0.0.1:9", budget=1200)  # never asked
    keeper = CatalogKeeper(client, Store(time.time), None, on_catalog=lambda c, f: None)
    try:
        task = asyncio.create_task(keeper._wait(100.0))
        await _cancel_right_after_wake(task, keeper._wake)
    finally:
        await client.aclose()


def test_no_wait_for_on_an_event_in_hlmon() -> None:
    """The same trap anywhere else: an event awaited under ``wait_for`` (use asyncio.timeout)."""
    root = Path(hlmon.__file__).parent
    found = [
        f"{path.relative_to(root.parent)}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"wait_for\([^)]*\.wait\(\)", line)
    ]
    assert not found, found


async def test_a_nats_subscribe_queued_behind_another_never_runs_once_cancelled() -> None:
    """``NatsSocket.close`` cancels the chained subscribes: one still waiting for the one
    before it must end, not go on to subscribe after the socket closed."""
    previous: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    ran: list[str] = []

    async def work() -> None:
        ran.append("subscribed")

    task = asyncio.ensure_future(_after(previous, work()))
    await asyncio.sleep(0)  # waiting for ``previous``
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert done and task.cancelled()
    assert ran == []
    previous.cancel()
