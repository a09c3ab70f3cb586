"""``cancel_and_wait``: stop background tasks for good, within a bound.

On Python 3.11 ``asyncio.wait_for`` drops a cancel that lands in the same loop turn as the
result it waits for (fixed in 3.12). hlmon's own code avoids it, but libraries do not (nats-py
wraps every request in it): a task cancelled once may then carry on with its loop, and a
``stop()`` that awaits it waits for ever. So a task still running after a round is cancelled
again, and a stop gives up (and says so) at a deadline instead of hanging the exit.

A leaf module: it imports nothing from hlmon, so every layer may use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

FIRST_ROUND_S = 1.0
"""Time a cancelled task gets for its own cleanup (closing a socket) before a second cancel."""
ROUND_S = 0.25
"""Then how often whatever still runs is cancelled again."""


async def cancel_and_wait(
    tasks: Iterable[asyncio.Future[Any]], *, within: float = 10.0, what: str = "task"
) -> set[asyncio.Future[Any]]:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again each round.

    Exceptions the tasks ended with are retrieved (their owners logged them). A cancel of
    the caller itself propagates as usual.

    Returns:
        The tasks still running after ``within`` seconds (logged as a warning); empty when
        all ended.
    """
    pending = {task for task in tasks if not task.done()}
    ended = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    wait = FIRST_ROUND_S
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        done, pending = await asyncio.wait(pending, timeout=min(wait, left))
        ended |= done
        wait = ROUND_S
    for task in ended:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit
    if pending:
        names = ", ".join(sorted(_name(task) for task in pending))
        logger.warning("%s did not end within %g s of being cancelled: %s", what, within, names)
    return pending


def _name(task: asyncio.Future[Any]) -> str:
    get_name = getattr(task, "get_name", None)
    return get_name() if callable(get_name) else repr(task)
