"""The REST fallback poller: keeps the screen's feeds fresh over ``/info`` when the websocket
cannot.

It polls exactly the feeds that need it, and only those it can serve: ``mids`` (``allMids``),
``book:<selected coin>`` (``l2Book``), ``account`` / ``account:<dex>`` (``clearinghouseState``
per active dex, weight 2), ``orders`` / ``orders:<dex>`` (``frontendOpenOrders`` per active dex,
weight 20) and ``fills`` (``userFillsByTime``). The per-dex keys are those the engine expects
(the selected account's active dexes, ``Store.active_dexes``), never every dex; while the
account is served over REST a discovery sweep (``dexscan``: the state of every other catalog
dex, every ``SWEEP_INTERVAL``) finds activity no websocket push reports. A feed needs it when

* the websocket has not been live for ``down_grace`` seconds (all servable feeds), or
* the feed is stale (a periodic push stopped on a live socket), or missing well after the
  socket came up, or
* the poller took it over and the websocket has not delivered it since (its last update still
  came from REST). Such a feed is *held*: not polled while its REST data is fresh (the
  websocket gets its cadence to deliver), polled again just before it would turn stale, and
  handed back as soon as a websocket update lands. Without this rule a feed would flap
  between "stale" and "fallback" at its threshold. The fallback switches off when nothing is
  polled or held.

Cadence per feed (``BASE_INTERVALS``) is stretched automatically so the planned weight stays
within ``share`` of the budget (reconciliation needs the rest), and a poll refused by the
budget simply waits for its next turn. Answers go through ``to_message`` and ``Store.apply``
with ``Source.REST``, the same path as websocket data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hlmon.feeds.dex_fetch import SWEEP_INTERVAL, feed_request, state_request, sweep_dexes
from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.keyed_poller import KeyedPoller
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest
from hlmon.state import FeedState, Source, Store

BASE_INTERVALS: dict[str, float] = {
    "mids": 2.0,
    "book": 2.0,
    "account": 4.0,
    "orders": 10.0,
    "fills": 10.0,
    "dexscan": SWEEP_INTERVAL,
}
"""Seconds between polls of each feed kind at full budget (per dex for account and orders)."""

PLANNED_WEIGHT: dict[str, int] = {
    "mids": 2, "book": 2, "account": 2, "orders": 20, "fills": 21, "dexscan": 20,
}  # fmt: skip
"""Weight one poll is expected to cost (fills: base 20 + ~1 per 20 fills returned; dexscan:
2 per HIP-3 dex, about 10 on mainnet)."""

DEXSCAN = "dexscan"
"""The discovery sweep's key: served while ``account`` is polled, every ``SWEEP_INTERVAL``."""

PERIODIC_KINDS = frozenset(("mids", "book", "account", "orders"))
"""Feeds the websocket re-pushes on a timer (so a hand-back can wait for the next push)."""

HELD_REFRESH = 0.8
"""A held feed is polled again at this fraction of its stale threshold."""

FILL_MARGIN_MS = 5_000
"""Fills are polled from a little before the newest one held (dedupe absorbs overlap)."""


@dataclass(frozen=True)
class BookParams:
    """How the selected coin's book is requested (mirrors the websocket subscription)."""

    coin: str
    n_sig_figs: int | None = None


class FallbackPoller(KeyedPoller):
    """Polls ``/info`` for the feeds the websocket is not keeping fresh."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        *,
        ws_live: Callable[[], bool],
        book: Callable[[], BookParams | None],
        user: str | None,
        down_grace: float = 3.0,
        missing_grace: float = 8.0,
        share: float = 0.6,
        tick: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """
        Args:
            client: the budgeted /info client.
            store: where answers are applied and freshness is read.
            ws_live: True while the websocket is connected.
            book: the selected coin and book precision (None: no book feed).
            user: watched address (account feeds are polled only with one).
            down_grace: how long the websocket may be down before taking over (0 when
                websockets are disabled).
            missing_grace: how long after the socket came up a never-received feed waits for
                its first websocket push before the poller fetches it.
            share: fraction of the REST budget the poller may plan to spend.
            tick: scheduling resolution in seconds.
            clock: monotonic seconds.
        """
        super().__init__(client, store, clock)
        self._ws_live = ws_live
        self._book = book
        self._user = user.lower() if user else None
        self.down_grace = down_grace
        self.missing_grace = missing_grace
        self.share = share
        self.tick = tick
        self._taken: set[str] = set()
        self._last_sweep: float | None = None
        self._live_since: float | None = None
        self._down_since: float | None = clock()
        self.active = False
        self.scale = 1.0
        """Current cadence stretch factor (1 = base cadence)."""

    def set_user(self, user: str | None) -> None:
        """Poll the account feeds of ``user`` from now on (the selected account changed).

        Account polls still in flight are the old user's: they are cancelled.
        """
        self._user = user.lower() if user else None
        self._last_sweep = None
        for key, task in list(self._inflight.items()):
            if _kind(key) in ("account", "orders", "fills", DEXSCAN):
                task.cancel()
                self._next_due.pop(key, None)

    # ------------------------------------------------------------------ decisions

    def servable(self) -> list[str]:
        """Expected feeds this poller knows how to fetch."""
        expected = self._store.expected
        keys = ["mids"]
        params = self._book()
        if params is not None:
            keys.append("book:" + params.coin)
        if self._user is not None:
            keys += ["account", "orders", "fills"]
            # Active HIP-3 dexes of the account (the engine expects their keys).
            keys += sorted(k for k in expected if _kind(k) in ("account", "orders") and ":" in k)
        return [k for k in keys if k in expected]

    def needed(self) -> tuple[list[str], list[str]]:
        """``(poll, held)``: feeds to poll now, and feeds still held by the fallback.

        A held feed was taken over, the websocket is back, and its REST data is still fresh:
        it is not polled again (the websocket should deliver it within its cadence), but the
        fallback stays on until the websocket does, or polls it again if it goes stale.
        """
        now = self._clock()
        live = self._ws_live()
        if live:
            self._down_since = None
            if self._live_since is None:
                self._live_since = now
        else:
            self._live_since = None
            if self._down_since is None:
                self._down_since = now
        ws_gone = not live and now - (self._down_since or now) >= self.down_grace
        poll: list[str] = []
        held: list[str] = []
        for key in self.servable():
            if ws_gone:
                poll.append(key)
                continue
            taken = key in self._taken
            if not live:
                # Within the grace period: keep serving feeds already taken over.
                if taken:
                    poll.append(key)
                continue
            status = self._store.feed_status(key)
            if status.state is FeedState.STALE:
                poll.append(key)
            elif status.state is FeedState.MISSING:
                if now - (self._live_since or now) >= self.missing_grace:
                    poll.append(key)
            elif taken and status.source is Source.REST and _kind(key) in PERIODIC_KINDS:
                # Event feeds (fills) are handed back at once: the resubscribe snapshot and
                # the reconciliation cover them, and they may not push again for hours.
                # A held feed the websocket still does not deliver is refreshed just before it
                # would turn stale, so the screen never flickers to "stale" in between.
                age = status.age_s or 0.0
                if age >= HELD_REFRESH * self._store.threshold(key):
                    poll.append(key)
                else:
                    held.append(key)
        if "account" in poll and self._sweep_due(now):
            poll.append(DEXSCAN)
        return poll, held

    def _sweep_due(self, now: float) -> bool:
        """A discovery sweep is due (the account is polled, a catalog lists HIP-3 dexes)."""
        if self._user is None or not sweep_dexes(self._store, self._user):
            return False
        return self._last_sweep is None or now - self._last_sweep >= SWEEP_INTERVAL

    def interval(self, key: str, needed: list[str]) -> float:
        """Seconds between polls of ``key`` given everything being polled."""
        planned = sum(PLANNED_WEIGHT[_kind(k)] * 60.0 / BASE_INTERVALS[_kind(k)] for k in needed)
        allowed = self._client.budget.budget * self.share
        self.scale = max(1.0, planned / allowed) if allowed > 0 else 1.0
        return BASE_INTERVALS[_kind(key)] * self.scale

    # ------------------------------------------------------------------ loop

    def step(self) -> None:
        """One scheduling round: switch on/off, start the polls that are due."""
        self._client.report_usage()
        needed, held = self.needed()
        store = self._store
        if (needed or held) and not self.active:
            self.active = True
            store.health.set_fallback_active(True)
            store.health.log("fallback on: " + ", ".join(needed), "warn")
        elif not (needed or held) and self.active:
            self.active = False
            store.health.set_fallback_active(False)
            store.health.log("fallback off: websocket live and feeds fresh")
        self._taken = set(needed) | set(held)
        now = self._clock()
        for key in list(self._next_due):
            if key not in needed:
                del self._next_due[key]
        for key in needed:
            if key in self._inflight:
                continue
            if now < self._next_due.get(key, 0.0):
                continue
            self._next_due[key] = now + self.interval(key, needed)
            self._launch(key, name=f"fallback-{key}")

    async def _poll(self, key: str) -> None:
        if key == DEXSCAN:
            await self._sweep()
            return
        req = self._request(key)
        if req is None:
            return
        user = self._user  # the answer belongs to the user asked about, whatever happens next
        await self._fetch(key, req, user, log_budget=True)

    async def _sweep(self) -> None:
        """The state of every catalog dex the account is not known to be active on: what
        ``allDexsClearinghouseState`` would have said. Dexes found with margin or positions
        become active, and the engine expects (so this poller serves) their keys."""
        user = self._user
        if user is None:
            return
        self._last_sweep = self._clock()
        for dex in sweep_dexes(self._store, user):
            await self._fetch(f"{DEXSCAN}:{dex}", state_request(user, dex), user)

    def _describe(self, key: str) -> str:
        return f"fallback {key}"

    def _request(self, key: str) -> InfoRequest | None:
        kind = _kind(key)
        if kind == "mids":
            return info.all_mids()
        if kind == "book":
            params = self._book()
            if params is None:
                return None
            return info.l2_book(params.coin, params.n_sig_figs)
        if self._user is None:
            return None
        if kind in ("account", "orders"):
            return feed_request(key, self._user)
        if kind == "fills":
            newest = self._store.newest_fill_time()
            if newest is None:
                return info.user_fills(self._user)
            return info.user_fills_by_time(self._user, max(0, newest - FILL_MARGIN_MS))
        return None


def _kind(key: str) -> str:
    return key.partition(":")[0]
