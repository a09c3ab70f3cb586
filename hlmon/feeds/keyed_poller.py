"""The machinery the two REST pollers share (``FallbackPoller`` for the screen's feeds,
``AccountsPoller`` for the other watched accounts' rows).

Each keeps, per key (a feed key or an address): at most one ``/info`` poll in flight, the time
the next poll is due, a count of successful polls, and the last error, logged once per distinct
error and followed by one line when the key answers again. A poll is non-urgent with no retries
(the next round is the retry, and reconciliation, which is urgent, must not queue behind a
poller); one refused by the weight budget is pushed back by the budget's ``retry_in`` (at most
a minute). Answers go through ``to_message`` and ``Store.apply`` with ``Source.REST``, the same
path as websocket data. What to poll and when stays in each poller (``step``, ``_poll``).
"""

from __future__ import annotations

import asyncio
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable

from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoError
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest
from hlmon.state import Source, Store

BUDGET_BACKOFF_MAX = 60.0
"""A poll refused by the weight budget waits at most this many seconds for its next turn."""


class KeyedPoller(ABC):
    """Base of a scheduler of ``/info`` polls keyed by feed or address (see the module doc)."""

    tick: float
    """Scheduling resolution in seconds (set by the subclass)."""

    def __init__(self, client: InfoClient, store: Store, clock: Callable[[], float]) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self._next_due: dict[str, float] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._last_error: dict[str, str] = {}
        self.polls: dict[str, int] = {}
        """Successful polls per key (tests and benchmarks read it)."""

    @abstractmethod
    def step(self) -> None:
        """One scheduling round: start the polls that are due (``_launch``)."""

    @abstractmethod
    async def _poll(self, key: str) -> None:
        """Poll ``key`` once (usually a ``_fetch``)."""

    @abstractmethod
    def _describe(self, key: str) -> str:
        """How log lines name ``key``."""

    async def run(self) -> None:
        """Decide and poll until cancelled; polls in flight are cancelled and awaited."""
        try:
            while True:
                self.step()
                await asyncio.sleep(self.tick)
        finally:
            for task in self._inflight.values():
                task.cancel()
            if self._inflight:
                await asyncio.gather(*self._inflight.values(), return_exceptions=True)
            self._inflight.clear()

    def _launch(self, key: str, name: str) -> None:
        """Start polling ``key`` in a task called ``name``, tracked as in flight until done."""
        task = asyncio.create_task(self._poll(key), name=name)
        self._inflight[key] = task
        task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: str, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(key, None)

    async def _fetch(
        self, key: str, req: InfoRequest, user: str | None, *, log_budget: bool = False
    ) -> None:
        """Ask ``req`` for ``key`` and apply the answer as ``user``'s (``Source.REST``).

        ``log_budget``: also log a refusal by the weight budget (once per distinct refusal).
        """
        try:
            response = await self._client.info(req, urgent=False, retries=0)
        except BudgetExhausted as exc:
            self._next_due[key] = self._clock() + min(exc.retry_in, BUDGET_BACKOFF_MAX)
            if log_budget:
                self._note_error(key, f"budget: {exc}")
            return
        except InfoError as exc:
            self._note_error(key, str(exc))
            return
        msg = info.to_message(req, response, user)
        if msg is not None:
            self._store.apply(msg, Source.REST)
        self.polls[key] = self.polls.get(key, 0) + 1
        if self._last_error.pop(key, None) is not None:
            self._store.health.log(f"{self._describe(key)}: /info answering again")

    def _note_error(self, key: str, text: str) -> None:
        # Once per distinct error, not once per poll.
        if self._last_error.get(key) != text:
            self._last_error[key] = text
            self._store.health.log(f"{self._describe(key)}: {text}", "warn")
