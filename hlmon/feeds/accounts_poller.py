"""REST upkeep of the all-accounts rows: polls ``clearinghouseState`` (weight 2 per active
dex) for watched addresses other than the selected one whose row went stale.

Every watched address has its own ``allDexsClearinghouseState`` and ``clearinghouseState``
websocket subscriptions, re-pushed every few seconds, so normally this poller does nothing. A
poll asks for the account's active dexes only (the default dex and the dexes its last states
show margin or positions on); every ``SWEEP_INTERVAL`` it asks for every catalog dex instead,
to discover activity no push reported. A row is polled when

* it is STALE (the websocket is down, or that push stopped), or
* it never arrived ``missing_grace`` seconds after the poller started, or
* its last update came from REST and is about to turn stale (it is *held*, like the main
  fallback's feeds, so the row does not flicker to "stale" between polls).

The selected address is left to the main ``FallbackPoller`` (its ``account`` feed). Polls are
non-urgent with no retries: a poll refused by the weight budget waits for its next turn, so
the rows never crowd out reconciliation or the selected account's feeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from hlmon.feeds.dex_fetch import SWEEP_INTERVAL, sendable_dex, state_request, sweep_dexes
from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.keyed_poller import KeyedPoller
from hlmon.state import FeedState, Source, Store

HELD_REFRESH = 0.8
"""A row kept by REST is polled again at this fraction of the account stale threshold."""


class AccountsPoller(KeyedPoller):
    """Keeps the other watched accounts' rows fresh over ``/info`` when the websocket does not."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        *,
        others: Callable[[], Iterable[str]],
        missing_grace: float = 8.0,
        min_interval: float = 4.0,
        tick: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """
        Args:
            client: the budgeted /info client.
            store: where answers are applied and row freshness is read.
            others: the watched addresses except the selected one, read every round.
            missing_grace: how long a row may wait for its first websocket push.
            min_interval: seconds between two polls of one address at least.
            tick: scheduling resolution in seconds.
            clock: monotonic seconds.
        """
        super().__init__(client, store, clock)
        self._others = others
        self.missing_grace = missing_grace
        self.min_interval = min_interval
        self.tick = tick
        self._started_at = clock()
        self._swept: dict[str, float] = {}
        """address -> when its dexes were last swept."""

    def due(self) -> list[str]:
        """Addresses whose row needs a poll now."""
        now = self._clock()
        store = self._store
        threshold = store.threshold("account")
        rows = {row.address: row for row in store.accounts()}
        out: list[str] = []
        for address in self._others():
            row = rows.get(address)
            if row is None or address in self._inflight:
                continue
            if now < self._next_due.get(address, 0.0):
                continue
            if row.state is FeedState.STALE:
                out.append(address)
            elif row.state is FeedState.MISSING:
                if now - self._started_at >= self.missing_grace:
                    out.append(address)
            elif row.source is Source.REST and (row.age_s or 0.0) >= HELD_REFRESH * threshold:
                out.append(address)
        return out

    def step(self) -> None:
        """Start the polls that are due."""
        now = self._clock()
        for address in self.due():
            self._next_due[address] = now + self.min_interval
            self._launch(address, name=f"accounts-{address[:10]}")

    async def _poll(self, address: str) -> None:
        store = self._store
        dexes = [d for d in store.active_dexes(address) if sendable_dex(store, d)]
        now = self._clock()
        last = self._swept.get(address)
        if last is None or now - last >= SWEEP_INTERVAL:
            extra = sweep_dexes(store, address)
            if extra:
                self._swept[address] = now
                dexes += extra
        for dex in dexes:
            await self._fetch(address, state_request(address, dex), address)

    def _describe(self, address: str) -> str:
        return f"account {address[:10]}…"
