"""``RestPoller``: serves the screen over ``POST /info``, planned within the weight budget.

Two uses, one poller:

* **REST mode** (``rest_mode``: the websocket is off by choice): every feed the screen shows is
  polled, always.
* **fallback** (websocket configured): a feed is polled when the websocket has not been live
  for ``down_grace`` seconds (one not heard from within the store's alive window, not even by
  a pong, counts as down: half-open), when it is stale (a periodic push stopped on a live
  socket), when it is still missing ``missing_grace`` seconds after the socket came up, or when
  the poller took it over and the websocket has not delivered it since. Such a feed is *held*:
  not polled while its REST data is fresh (the websocket gets its cadence to deliver), polled
  again just before it would turn stale, and handed back as soon as a websocket update lands.
  Without this rule a feed would flap between "stale" and "fallback" at its threshold.

What is polled and how often is planned, not a list of timers: every round the poller builds
the screen's demand (``rest_sources.screen_demand``: selected coin, watchlist dexes, selected
account and its active dexes, other accounts), turns it into wanted feeds
(``rest_demand.wanted_feeds``, keeping those that serve something on screen) and hands them to a
``RestScheduler``, which re-plans only when they change (and they are built again only when the
screen or its demand changed; on a live socket the feeds' freshness is judged again only when a
stamp, the socket's liveness or a threshold in time says it may have moved: a round in which
nothing changed costs a few lookups). The plan covers everything REST would
serve; the fallback polls the needed part of it at the planned cadences. Each re-plan is pushed
to ``store.health`` (per feed key, its planned interval: the store judges REST data's freshness
by it and the status bar shows it) and, while REST is in use, logged once, as a warning when the
plan is degraded (a feed stretched or not served).

Polls are non-urgent with no retries: the ``InfoClient``'s rolling weight budget stays the hard
limit. Due polls go out highest priority first, and only while the budget has room for their
worst case: one that must wait holds back the polls below it (a cheap poll never keeps a costly,
more important one out). One answered 429 (``Retry-After`` honoured, which pauses every poll) or
failing is pushed back by the scheduler. Nothing here refreshes an as-of time without an
answer: a feed whose polls keep failing ages until the screen shows it stale. Answers go through
``rest_sources.answer_messages`` and ``Store.apply`` with ``Source.REST``, the same path as
websocket data.

The plan is a rate; the budget is a rolling window. What the plan does not pay for (the
catalog, account checks, candles, a reconciliation, each feed's first poll) comes from the
reserve, and when it outgrows it (at start-up it is two-thirds of the first minute) the
excess is cut from the plan until it has left the window (``_fit_window``): cadences stretch
for a minute, said on screen, instead of the polls filling the window and the screen going
stale until it slides.

Rounds run every ``tick`` while REST is in use or about to be (the socket down, a feed past
its grace or stale, a poll in flight or waiting for room). While the socket is live and every
feed fresh, a round would only find the same answer: the poller sleeps until time alone could
change it (a threshold, a missing grace, a REST-only poll's turn), at most ``CALM_WAIT_MAX``,
and the engine wakes it at once (``poke``) when the screen or the socket changes.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from hlmon.cancelling import cancel_and_wait
from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoError, RateLimited
from hlmon.feeds.rest_demand import ScreenDemand, wanted_feeds
from hlmon.feeds.rest_plan import (
    DEFAULT_RESERVE_SHARE,
    PROTECTED,
    PlanState,
    PollKey,
    RestPlan,
)
from hlmon.feeds.rest_schedule import RestScheduler
from hlmon.feeds.rest_sources import (
    ScreenState,
    answer_messages,
    apply_market_answer,
    build_request,
    screen_demand,
    served_feeds,
)
from hlmon.protocol.info import InfoRequest
from hlmon.state import FeedState, FeedStatus, RestPlanView, Source, Store, feed_kind
from hlmon.state.freshness import is_periodic
from hlmon.state.market_board import REST_ONLY_FEEDS
from hlmon.state.store import row_address

HELD_REFRESH = 0.8
"""A held feed is polled again at this fraction of its stale threshold."""
HOLD_MAX = 10.0
"""A due poll waiting for budget room holds back the polls below it for at most this long."""
LOG_LINE_WIDTH = 100
"""The plan is logged in lines of about this many characters."""
BUDGET_RECHECK = 1.0
"""A poll refused by the local weight budget asks again after at most this long: the refusal
costs nothing on the wire, and room often frees sooner than the budget's estimate (a large
worst-case reservation is settled to its true weight when its answer arrives)."""
POLL_KEYS_KEPT = 256
"""Keys kept in ``RestPoller.polls`` (a plan holds a few dozen; the rest is history)."""
TURN_MARGIN = 1e-6
"""Freshness is judged again this much before a feed's threshold (float sums round)."""
CALM_WAIT_MAX = 1.0
"""The longest sleep between rounds while the socket is live and every feed fresh: what no
poke announces (a key the engine expects on its own timer, the weight the status bar shows) is
seen within it."""
PLAN_TAG = "rest-plan"
"""The budget tag of a feed's repeat polls: the spending the plan's rate accounts for. A feed's
first poll is tagged like any other load: it is paid once, not every interval."""
CUT_STEP = 0.05
"""The plan's cut (see ``RestPoller._fit_window``) moves in steps of this share of the budget,
so that weight sliding out of the window re-plans a few times, not on every tick."""
MAX_SHARE_KEPT = 0.9
"""The cut never leaves the plan less than this share of the budget short."""
CUT_SETTLE = 2.0
"""After the cut grew, the plan is logged again once it has not grown for this long (the
start-up loads land over a second or two: one plan said, not one per step)."""


@dataclass(frozen=True)
class _Judged:
    """One judgement of the feeds on a live socket (``RestPoller._judge``), and how long it
    holds: until a monotonic ``until`` (a missing grace) and ``until_aged`` on the store's
    clock (a feed's threshold), as long as ``inputs`` and the stamps hold."""

    inputs: tuple[object, ...]
    until: float
    until_aged: float
    poll: frozenset[str]
    held: frozenset[str]
    fresh: dict[str, Source | None]
    """Feeds judged fresh and not polled, and their stamps' source: a newer stamp from it
    changes nothing (fresh, and a held one further from its refresh)."""
    stamps: dict[str, object]
    """Every other feed's stamp (or the row's): any other one is judged again."""


_FRESH = frozenset((FeedState.LIVE, FeedState.FALLBACK, FeedState.LAGGING))
"""Within the threshold (``freshness.classify``): a newer stamp keeps a feed there."""
_NEEDS_DATA = frozenset((FeedState.STALE, FeedState.MISSING))
"""What a feed taken over must be polled at once for (``_due_when_taken``)."""


class RestPoller:
    """Polls ``/info`` for the screen's feeds by plan (see the module doc)."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        *,
        screen: Callable[[], ScreenState],
        ws_live: Callable[[], bool],
        rest_mode: bool,
        down_grace: float = 3.0,
        missing_grace: float = 8.0,
        reserve_share: float = DEFAULT_RESERVE_SHARE,
        tick: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        follow_demand: Callable[[], None] | None = None,
    ) -> None:
        """
        Args:
            client: the budgeted /info client (its budget is the plan's budget).
            store: where answers are applied and freshness is read.
            screen: what the screen shows now (read every round).
            ws_live: True while the websocket is connected.
            rest_mode: the websocket is off by choice: poll every feed, always.
            down_grace: how long the websocket may be down before REST takes over.
            missing_grace: how long after the socket came up a never-received feed waits for
                its first websocket push before it is polled.
            reserve_share: share of the budget the plan leaves to reconciliation and one-offs.
            tick: scheduling resolution in seconds.
            clock: monotonic seconds.
            wall_clock: seconds since the epoch (the first fundings poll's window).
            follow_demand: called when the screen's demand changed, before the plan follows
                it: the engine makes a newly active dex's feed keys expected, so they are
                polled this round, not after the engine's next check of the active dexes.
        """
        self._client = client
        self._store = store
        self._screen = screen
        self._ws_live = ws_live
        self.rest_mode = rest_mode
        self.down_grace = 0.0 if rest_mode else down_grace
        self.missing_grace = missing_grace
        self.tick = tick
        self._clock = clock
        self._wall_clock = wall_clock
        self._follow_demand = follow_demand
        self.scheduler = RestScheduler(
            clock=clock, budget=client.budget.budget, reserve_share=reserve_share
        )
        """The plan and when each planned poll is due."""
        self._reserve_share = reserve_share
        self.cut = 0
        """Weight per minute taken from the plan while loads outside it hold more of the
        window than the reserve (``_fit_window``)."""
        self._state = ScreenState()
        self._demand: ScreenDemand | None = None
        """The demand the plan in force was built from (None: not planned yet)."""
        self._judged: _Judged | None = None
        """The last judgement of the feeds' freshness, reused while its inputs hold."""
        self._plans_published = 0
        self._serves: dict[PollKey, tuple[str, ...]] = {}
        self._inflight: dict[PollKey, asyncio.Task[None]] = {}
        self._last_error: dict[PollKey, str] = {}
        self._taken: set[str] = set()
        self._live_since: float | None = None
        self._down_since: float | None = clock()
        self._plan_logged = False
        self._cut_grew_at = -math.inf
        self._cadence_floor: dict[PollKey, float] = {}
        """Cadences published longer than planned until the key's next answer (``_set_cut``)."""
        self._sent_before: set[PollKey] = set()
        """Keys polled since REST took over (or the key was planned again): their next polls
        are the plan's (``PLAN_TAG``), the first one is paid once, from the reserve."""
        self._waiting_since: dict[PollKey, float] = {}
        self._wanted_since: dict[str, float] = {}
        """When each feed key became wanted: a feed added on a live socket (a coin added, the
        market screen opened) gets its ``missing_grace`` from then, not from the socket's start."""
        self.active = False
        """The fallback is on (never in REST mode, where REST is the transport)."""
        self.polls: dict[PollKey, int] = {}
        """Answered polls per key (tests and benchmarks read it); at most ``POLL_KEYS_KEPT``
        keys, the oldest unplanned ones go first (a key names a coin or an address, and a
        session of weeks can view many)."""
        self._polls_by_kind: dict[str, int] = {}
        self.replans = 0
        """Rounds whose demand or screen had changed, so the wanted feeds were built again."""
        self.rounds = 0
        """Rounds run (``step``): every ``tick`` while REST is in use, fewer while calm."""
        self._waiter: asyncio.Future[None] | None = None
        """The sleep between rounds (``_sleep``), which ``poke`` ends early."""
        self.judgements = 0
        """Rounds that judged the feeds' freshness on a live socket (the others reused the
        last judgement: nothing it read had changed)."""

    # ------------------------------------------------------------------ reads

    @property
    def plan(self) -> RestPlan:
        """The plan in force."""
        return self.scheduler.plan

    def served(self) -> dict[PollKey, tuple[str, ...]]:
        """Every planned poll and the feed keys it serves (as of the last round)."""
        return dict(self._serves)

    def polls_of(self, kind: str) -> int:
        """Answered polls of one ``/info`` type."""
        return self._polls_by_kind.get(kind, 0)

    # ------------------------------------------------------------------ planning

    def replan(self) -> None:
        """Rebuild the wanted feeds when the screen or its demand changed; re-plan and publish
        when they changed.

        The wanted feeds and what each poll serves are pure functions of the screen and its
        demand (the accounts' active dexes and positions, read from the store every round):
        the same inputs as last round give the same plan, so nothing is built again."""
        state = self._screen()
        now_ms = int(self._wall_clock() * 1000)
        demand = screen_demand(state, self._store, now_ms)
        if demand == self._demand and state == self._state:
            return
        self.replans += 1
        self._demand = demand
        if self._follow_demand is not None:
            self._follow_demand()
        feeds = []
        serves: dict[PollKey, tuple[str, ...]] = {}
        for feed in wanted_feeds(demand):
            keys = served_feeds(feed.key, state)
            if keys:  # a poll that shows nothing costs weight for nothing
                feeds.append(feed)
                serves[feed.key] = keys
        changed = self.scheduler.set_feeds(feeds)
        self._state = state
        stamp = self._store.stamp
        for key, keys in serves.items():
            # A poll that now serves a feed with no data yet (the market screen opened: the
            # watchlist's contexts poll serves its rows too) is due at once, as a first poll.
            before = self._serves.get(key)
            if before is not None and any(
                k not in before and row_address(k) is None and stamp(k) is None for k in keys
            ):
                self.scheduler.due_now(key)
                self._sent_before.discard(key)
        if changed or serves != self._serves:
            self._serves = serves
            self._sent_before &= serves.keys()  # planned again later: a first poll again
            for key in [k for k in self._cadence_floor if k not in serves]:
                del self._cadence_floor[key]
            # What is not planned any more has no error to clear nor turn to wait for.
            for table in (self._last_error, self._waiting_since):
                for key in [k for k in table if k not in serves]:
                    del table[key]
            self._publish()
            self._plan_logged = False

    def _publish(self) -> None:
        self._plans_published += 1  # the REST thresholds follow the published cadences
        plan = self.scheduler.plan
        cadences: dict[str, float] = {}
        floors = self._cadence_floor
        for entry in plan.served():
            assert entry.interval is not None
            interval = max(entry.interval, floors.get(entry.key, 0.0))
            for feed_key in self._serves.get(entry.key, ()):
                cadences[feed_key] = max(cadences.get(feed_key, 0.0), interval)
        labels = {
            state: tuple(dict.fromkeys(e.feed.label for e in plan.entries if e.state is state))
            for state in (PlanState.STRETCHED, PlanState.NOT_SERVED)
        }
        self._store.health.set_rest_plan(
            RestPlanView(
                cadences=cadences,
                weight_per_min=plan.weight_per_min,
                budget=plan.budget,
                stretched=labels[PlanState.STRETCHED],
                not_served=labels[PlanState.NOT_SERVED],
                summary=plan.summary(),
            )
        )

    def _log_plan(self) -> None:
        """Say the plan once per re-plan, while REST is in use (a cut still growing: once it
        settled)."""
        if self._plan_logged or self._clock() - self._cut_grew_at < CUT_SETTLE:
            return
        self._plan_logged = True
        plan = self.scheduler.plan
        level = "warn" if plan.degraded else "info"
        for line in _wrap(plan.summary().split("; "), LOG_LINE_WIDTH):
            self._store.health.log(line, level)

    def _fit_window(self) -> None:
        """Plan on what the rolling window leaves to the plan.

        The plan's rate is a long-run average within ``budget * (1 - reserve_share)``; the
        reserve pays for loads outside it (the catalog, a reconciliation, role checks, candles,
        each feed's first poll). At start-up those outgrow the reserve: planned at full rate,
        the polls would fill the window within half a minute and then wait, the screen stale,
        until the start-up loads slid out of it. Instead the excess is cut from the plan
        (stretched cadences, said on screen) until it has left the window."""
        budget = self.scheduler.plan.budget
        outside = self._client.budget.used(except_tag=PLAN_TAG)
        step = max(1, round(budget * CUT_STEP))
        over = math.ceil((outside - budget * self._reserve_share) / step) * step
        cut = 0
        if over > 0:
            # A stretch, not a drop: every feed keeps its floor and the selected coin its
            # cadence (a feed the plan does not serve waits the whole minute for its first
            # data), unless the budget cannot hold even that uncut: then the cut stretches as
            # far as it must.
            full = budget * (1 - self._reserve_share)
            least = sum(
                f.desired_rate if f.priority is PROTECTED else f.floor_rate
                for f in self.scheduler.feeds
            )
            most = (MAX_SHARE_KEPT - self._reserve_share) * budget
            if least < full:
                most = min(most, full - least)
            # Below ``most`` by a whole weight when it is one: the share it becomes is a float,
            # and 0.2 + 378/600 lands above 0.83, leaving the floors a hair short of what
            # they sum to (the last feed was then not served).
            cut = max(0, min(over, math.ceil(most) - 1))
        if cut == self.cut:
            return
        was = self.cut
        self._set_cut(cut)
        if cut > was:
            self._cut_grew_at = self._clock()
            self._plan_logged = False
        if not was:
            self._store.health.log(
                f"REST: one-off loads hold {outside}/{budget} of this minute's weight: "
                "the plan is cut until they leave the window",
                "warn",
            )
        elif not cut:
            full = self.scheduler.plan.available
            self._store.health.log(f"REST: the plan runs on its full {full:.0f} w/min again")
            self._plan_logged = False  # and says its cadences again

    def _set_cut(self, cut: int, *, in_use: bool = True) -> None:
        """Plan with ``cut`` taken from the budget, and publish it. While REST is in use
        (``in_use``), a cadence the new plan shortens is published at its old length until
        that feed's next answer: data polled at the old cadence must not turn STALE at the
        moment the plan speeds up. (Handed back to the websocket, no floor is kept.)"""
        plan = self.scheduler.plan
        before = {e.key: e.interval for e in plan.served()}
        self.cut = cut
        self.scheduler.set_budget(plan.budget, self._reserve_share + cut / plan.budget)
        floors = self._cadence_floor
        if not in_use:
            floors.clear()
        for entry in self.scheduler.plan.served() if in_use else ():
            old = before.get(entry.key)
            if old is not None and entry.interval is not None and entry.interval < old:
                floors[entry.key] = max(floors.get(entry.key, 0.0), old)
        self._publish()

    # ------------------------------------------------------------------ decisions

    def _status(self, feed_key: str) -> FeedStatus:
        store = self._store
        address = row_address(feed_key)
        if address is not None:
            for row in store.accounts():
                if row.address == address:
                    return FeedStatus(feed_key, row.state, row.age_s, row.source)
            return FeedStatus(feed_key, FeedState.MISSING, None, None)
        return store.feed_status(feed_key)

    def _threshold(self, feed_key: str) -> float:
        return self._store.threshold(feed_key)

    def needed(self) -> tuple[set[str], set[str]]:
        """``(poll, held)``: feed keys to refresh now, and feed keys the fallback still holds.

        A held feed was taken over, the websocket is back, and its REST data is still fresh: it
        is not polled again (the websocket should deliver it within its cadence), but the
        fallback stays on until the websocket does, or polls it again before it goes stale.
        """
        expected = self._store.expected
        every = {
            k
            for keys in self._serves.values()
            for k in keys
            if k in expected or row_address(k) is not None
        }
        if self.rest_mode:
            return every, set()
        every -= REST_ONLY_FEEDS  # served by REST in every mode: not the fallback's business
        now = self._clock()
        wanted_since = {k: self._wanted_since.get(k, now) for k in every}
        self._wanted_since = wanted_since
        # A socket not heard from for ``ALIVE_WINDOW`` (no frame, not even the probe's pong)
        # is taken for down: half-open, it would deliver nothing, and say nothing either.
        health = self._store.health
        connected = self._ws_live()
        live = connected and health.socket_alive()
        if live:
            self._down_since = None
            if self._live_since is None:
                self._live_since = now
        else:
            self._live_since = None
            if self._down_since is None:
                self._down_since = now
                silent = health.silent_for() if connected else None
                if silent is not None:  # down since last heard: the alive window was its grace
                    self._down_since = now - silent
        ws_gone = not live and now - (self._down_since or now) >= self.down_grace
        if ws_gone:
            return every, set()
        if not live:  # within the grace period: keep serving what was taken over
            return every & self._taken, set()
        return self._judge(every, now, wanted_since)

    def _judge(
        self, every: set[str], now: float, wanted_since: dict[str, float]
    ) -> tuple[set[str], set[str]]:
        """``needed`` on a live socket: each feed by its freshness.

        The answer changes only when what it reads changes (the feeds, those taken over, the
        socket's liveness, the thresholds, a feed's stamp) or when time alone turns a feed
        (stale, due for a held refresh, past its missing grace): until then the last answer
        is reused, without judging every feed again 4 times a second. A fresh feed's newer
        stamp from the same source changes nothing (it stays fresh, and its turn in time can
        only come later); any other stamp change is judged."""
        store = self._store
        aged_now = store.now()  # the feeds' ages and thresholds run on the store's clock
        inputs = (
            frozenset(every),
            frozenset(self._taken),
            self._live_since,
            store.health.socket_alive(),
            store.book_fast,
            self._plans_published,
            store.watched_users,
        )
        judged = self._judged
        if (
            judged is not None
            and now < judged.until
            and aged_now < judged.until_aged
            and judged.inputs == inputs
            and self._stamps_hold(judged)
        ):
            return set(judged.poll), set(judged.held)
        self.judgements += 1
        poll: set[str] = set()
        held: set[str] = set()
        until = until_aged = math.inf
        fresh: dict[str, Source | None] = {}
        stamps: dict[str, object] = {}
        for key in every:
            status = self._status(key)
            if status.state is FeedState.STALE:
                poll.add(key)
            elif status.state is FeedState.MISSING:
                since = max(self._live_since or now, wanted_since[key])
                if now - since >= self.missing_grace:
                    poll.add(key)
                else:
                    until = min(until, since + self.missing_grace)
            elif (
                key in self._taken and status.source is Source.REST and is_periodic(feed_kind(key))
            ):
                # Event feeds (fills, trades) are handed back at once: the resubscribe
                # snapshot and the reconciliation cover them, and they may stay silent for
                # hours. A held periodic feed is refreshed just before it would turn stale.
                if (status.age_s or 0.0) >= HELD_REFRESH * self._threshold(key):
                    poll.add(key)
                else:
                    held.add(key)
            if status.age_s is not None:
                until_aged = min(
                    until_aged, self._next_turn(key, aged_now - status.age_s, aged_now)
                )
            if status.state in _FRESH and key not in poll and row_address(key) is None:
                fresh[key] = status.source
            else:
                stamps[key] = self._stamp(key)
        self._judged = _Judged(
            inputs, until, until_aged, frozenset(poll), frozenset(held), fresh, stamps
        )
        return poll, held

    def _stamps_hold(self, judged: _Judged) -> bool:
        """No stamp changed in a way that could change ``judged`` (see ``_judge``)."""
        stamp = self._store.stamp
        for key, source in judged.fresh.items():
            now = stamp(key)
            if now is None or now.source is not source:
                return False
        return all(self._stamp(key) is was for key, was in judged.stamps.items())

    def _stamp(self, feed_key: str) -> object:
        """What ``_status`` judges ``feed_key`` by, besides the time (a new one: judge again)."""
        address = row_address(feed_key)
        if address is not None:
            return self._store.account_stamp(address)
        return self._store.stamp(feed_key)

    def _next_turn(self, feed_key: str, received_at: float, now: float) -> float:
        """The first clock time after ``now`` at which the feed received at ``received_at``
        may change state by time alone: past its threshold (stale, or quiet) or past the held
        refresh; a hair early, never late (judging again early costs one round)."""
        thresholds = [self._threshold(feed_key)]
        if row_address(feed_key) is not None:
            thresholds.append(self._threshold("account"))  # the selected user's own row
        turns = [received_at + f * t for t in thresholds for f in (HELD_REFRESH, 1.0)]
        return min((t - TURN_MARGIN for t in turns if t >= now), default=math.inf)

    # ------------------------------------------------------------------ loop

    async def run(self) -> None:
        """Plan and poll until cancelled; polls in flight are cancelled and awaited."""
        try:
            while True:
                self.step()
                await self._sleep(self.next_round_in())
        finally:
            await cancel_and_wait(list(self._inflight.values()), what="REST poll")
            self._inflight.clear()

    def poke(self) -> None:
        """Run the next round now: the screen or the socket changed (``FeedEngine``)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(seconds, self.poke)  # the same wake-up, on time
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def next_round_in(self) -> float:
        """Seconds until the next round: ``tick``, or longer while calm (see the module doc).

        Calm: not REST mode, the fallback off (so the last round judged every feed fresh on a
        live socket), no poll in flight or waiting for room. Then the last judgement holds
        until its ``until`` (a missing grace) and ``until_aged`` (a threshold, on the store's
        clock) or until the socket falls silent, unless a stamp changes; a stamp that could
        change it comes with a socket or screen change the engine pokes for, or is seen within
        ``CALM_WAIT_MAX``."""
        tick = self.tick
        judged = self._judged
        if (
            self.rest_mode
            or self.active
            or self._inflight
            or self._waiting_since
            or judged is None
            or self._live_since is None
            or not self._ws_live()
        ):
            return tick
        now, aged_now = self._clock(), self._store.now()
        wait = min(CALM_WAIT_MAX, judged.until - now, judged.until_aged - aged_now)
        alive_until = self._store.health.alive_until()  # a silent socket: judged again then
        if alive_until is not None:
            wait = min(wait, alive_until - aged_now)
        rest_only = REST_ONLY_FEEDS & self._store.expected
        if rest_only:  # polled by plan whatever the socket: wake for its turn
            for key, served in self._serves.items():
                due = None if rest_only.isdisjoint(served) else self.scheduler.next_due(key)
                if due is not None:
                    wait = min(wait, due - now)
        return max(tick, wait)

    def step(self) -> None:
        """One round: re-plan if the screen changed, switch the fallback, start due polls."""
        self.rounds += 1
        self._client.report_usage()
        self.replan()
        poll, held = self.needed()
        self._switch(poll, held)
        self._due_when_taken(poll - self._taken)
        self._taken = poll | held
        poll |= REST_ONLY_FEEDS & self._store.expected  # due by plan, whatever the socket
        if self.rest_mode or self.active:
            self._fit_window()
            self._log_plan()
        now_ms = int(self._wall_clock() * 1000)
        pending = 0  # worst-case weight launched this round, not reserved by its task yet
        for key in self.scheduler.due():  # highest priority first
            wanted = frozenset(self._serves.get(key, ())) & poll
            if not wanted or key in self._inflight:
                continue
            req = build_request(key, self._state, self._store, now_ms)
            wait = self._client.room_in(req, pending)
            if wait == math.inf and pending == 0:
                continue  # larger than the whole budget: the client refuses it, and says why
            if wait > 0:
                # No room yet (or a 429 pause): polls below it wait too, so a cheap one never
                # keeps a costlier, more important one out; room comes as the window slides.
                # Only for a while: one that cannot fit beside the polls above it (a tiny
                # budget) must not starve everything below it.
                since = self._waiting_since.setdefault(key, self._clock())
                if self._clock() - since < HOLD_MAX:
                    break
                continue
            self._waiting_since.pop(key, None)
            pending += self._client.worst_case(req)
            self.scheduler.note_sent(key)
            tag = PLAN_TAG if key in self._sent_before else ""  # a first poll is paid once
            self._sent_before.add(key)
            task = asyncio.create_task(self._poll(key, req, wanted, tag), name=f"rest-{key}")
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._done, key))

    def _due_when_taken(self, taken: set[str]) -> None:
        """Feeds the fallback takes over now that have no fresh data: their polls are due at
        once (a backoff still holds). Their turn otherwise counts from their last poll, which
        may be an earlier outage's: a feed polled then, planned every 5 min under a cut, would
        stay STALE through a whole new outage. A feed still fresh from REST keeps its turn."""
        if not taken:
            return
        needy = {k for k in taken if self._status(k).state in _NEEDS_DATA}
        if not needy:
            return
        for key, served in self._serves.items():
            if not needy.isdisjoint(served):
                self.scheduler.due_now(key)

    def _switch(self, poll: set[str], held: set[str]) -> None:
        if self.rest_mode:
            return
        health = self._store.health
        if (poll or held) and not self.active:
            self.active = True
            health.set_fallback_active(True)
            health.log("fallback on: " + ", ".join(sorted(poll)), "warn")
        elif not (poll or held) and self.active:
            self.active = False
            health.set_fallback_active(False)
            health.log("fallback off: websocket live and feeds fresh")
            self._plan_logged = False  # said again the next time the fallback comes on
            self._sent_before.clear()  # the next outage's polls start with first polls
            if self.cut:  # judged again the next time; meanwhile REST data's cadences are whole
                self._set_cut(0, in_use=False)

    def _done(self, key: PollKey, _task: asyncio.Task[None]) -> None:
        if self._inflight.get(key) is _task:
            del self._inflight[key]

    async def _poll(
        self, key: PollKey, req: InfoRequest, wanted: Collection[str], tag: str
    ) -> None:
        state, scheduler = self._state, self.scheduler
        try:
            response = await self._client.info(req, urgent=False, retries=0, tag=tag)
        except BudgetExhausted as exc:
            # The budget working as designed, not an error: the feed's age shows the cost.
            scheduler.note_failure(key, retry_after=min(exc.retry_in, BUDGET_RECHECK))
            return
        except RateLimited as exc:
            scheduler.note_failure(key, retry_after=exc.retry_after)
            self._note_error(key, f"HTTP 429{_retry_text(exc.retry_after)}")
            return
        except InfoError as exc:
            scheduler.note_failure(key)
            self._note_error(key, str(exc))
            return
        for msg in answer_messages(req, response, state, wanted):
            self._store.apply(msg, Source.REST)
        apply_market_answer(self._store, req, response, wanted)
        scheduler.note_success(key)
        self._count_poll(key)
        if self._cadence_floor.pop(key, None) is not None:
            self._publish()  # answered at the new cadence: judged by it from now on
        if self._last_error.pop(key, None) is not None:
            self._store.health.log(f"REST {key}: answering again")

    def _count_poll(self, key: PollKey) -> None:
        polls = self.polls
        polls[key] = polls.get(key, 0) + 1
        self._polls_by_kind[key.kind] = self._polls_by_kind.get(key.kind, 0) + 1
        if len(polls) > POLL_KEYS_KEPT:
            old = next((k for k in polls if k not in self._serves), None)
            if old is not None:
                del polls[old]

    def _note_error(self, key: PollKey, text: str) -> None:
        # Once per distinct error, not once per poll.
        if self._last_error.get(key) != text:
            self._last_error[key] = text
            self._store.health.log(f"REST {key}: {text}", "warn")


def _wrap(parts: list[str], width: int) -> list[str]:
    """``parts`` joined with ``; `` into lines of about ``width`` (the Log pane cuts longer
    ones); continuation lines are indented."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += "; " + part
        else:
            lines.append(part if not lines else "  " + part)
    return lines


def _retry_text(retry_after: float | None) -> str:
    return "" if retry_after is None else f" (Retry-After {retry_after:.0f} s)"
