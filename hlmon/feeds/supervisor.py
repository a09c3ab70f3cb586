"""``Supervisor``: runs the engine's long-lived tasks and restarts any that dies.

The engine's tasks (websocket feed, REST pollers, reconciliation) are written never to give
up on network faults; what can still kill one is a bug on a path that is not retried, e.g. an
exception inside the websocket's ``on_down`` callback or inside a poller's scheduling round.
Logging such a crash once and carrying on would leave the last connection state on screen
("● LIVE") while nothing updates it: the one failure hlmon exists to prevent. So a task that
dies unexpectedly (any exception but cancellation, or a forever-task returning):

1. is logged with its traceback (``logging``) and in the store's event log;
2. turns the connection DOWN with the reason (``set_connection(DOWN, error=...)``);
3. is restarted after a full-jitter backoff (``FullJitterBackoff``; a task that had run for
   ``stable_after`` seconds starts again from the first delay);
4. once restarted, ``on_restart`` lets the owner report the true state again (the engine
   restores LIVE as a *recovery* when the websocket stayed live: no reconnect is counted and
   no "reconnected" is logged; a restarted websocket feed reports itself).

Cancellation is never a crash: ``stop()`` (or cancelling a task ``spawn`` returned) ends the
supervision too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from hlmon.cancelling import cancel_and_wait
from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.state.types import ConnState

logger = logging.getLogger("hlmon.feeds.supervisor")

TaskFactory = Callable[[], Coroutine[Any, Any, None]]
"""Makes a fresh coroutine for each (re)start of a supervised task."""


class HealthSink(Protocol):
    """Where the supervisor reports a crash (the store today)."""

    def log(self, text: str, level: str = ...) -> None: ...
    def set_connection(
        self,
        state: ConnState,
        *,
        attempt: int = ...,
        next_retry_in: float | None = ...,
        url: str | None = ...,
        error: str | None = ...,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Crash:
    """One unexpected end of a supervised task."""

    name: str
    """The task's name (``ws-feed``, ``rest-poller``, ...)."""
    error: str
    """What killed it (the exception's repr, or "returned")."""
    restart_in: float
    """Seconds the supervisor waited before restarting it."""


class Supervisor:
    """Starts named tasks and restarts them with backoff when they die (see the module doc)."""

    def __init__(
        self,
        health: HealthSink,
        backoff: FullJitterBackoff,
        *,
        on_restart: Callable[[str], None] | None = None,
        stable_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """
        Args:
            health: gets the crash log line and the DOWN state.
            backoff: delay before restart ``n`` of a task (``n`` counts its quick deaths).
            on_restart: called with the task's name just before it runs again.
            stable_after: a task that ran this long before dying restarts after the first
                (shortest) delay again.
            clock: monotonic seconds (tests may pin it).
        """
        self._health = health
        self._backoff = backoff
        self._on_restart = on_restart
        self.stable_after = stable_after
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self.crashes: deque[Crash] = deque(maxlen=100)
        """The last 100 crashes, oldest first (bounded: the engine runs for weeks)."""
        self.restarts: dict[str, int] = {}
        """Restarts per task name."""

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        """The supervision tasks still running."""
        return [t for t in self._tasks if not t.done()]

    def spawn(self, name: str, factory: TaskFactory, *, forever: bool = True) -> asyncio.Task[None]:
        """Run ``factory()`` under supervision in a task named ``name``; return that task.

        ``forever``: the task is meant to run until cancelled, so returning is a crash too.
        Otherwise a normal return ends the supervision (one-shot jobs such as a
        reconciliation, which are restarted only when they raise).
        """
        task = asyncio.create_task(self._supervise(name, factory, forever), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        """Cancel every supervised task and wait for them. Safe to call twice."""
        await cancel_and_wait(list(self._tasks), what="feed task")

    async def _supervise(self, name: str, factory: TaskFactory, forever: bool) -> None:
        attempt = 0
        while True:
            started = self._clock()
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = repr(exc)
                logger.error("%s crashed", name, exc_info=exc)
            else:
                if not forever:
                    return
                error = "returned"
                logger.error("%s returned although it should run until cancelled", name)
            if self._clock() - started >= self.stable_after:
                attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            self.crashes.append(Crash(name, error, delay))
            # The store logs this transition once, with the reason, at error level.
            self._health.set_connection(
                ConnState.DOWN,
                error=f"internal error in {name}: {error}; restarting it in {delay:.1f} s",
            )
            await asyncio.sleep(delay)
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self._health.log(f"{name} restarted after an internal error")
            if self._on_restart is not None:
                try:
                    self._on_restart(name)
                except Exception:  # a broken report must not end the supervision
                    logger.exception("on_restart(%s) failed", name)
