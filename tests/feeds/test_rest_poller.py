"""``RestPoller`` decisions against a fake /info (httpx.MockTransport) and a hand-driven clock:
REST mode serves every feed by plan, freshness follows the plan, refusals never pass old data
off as fresh, Retry-After is honoured, the fallback takes over and hands back."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import msgspec
import pytest

from hlmon.feeds import rest_poller
from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.rest_plan import PlanState, PollKey
from hlmon.feeds.rest_poller import RestPoller
from hlmon.feeds.rest_sources import ScreenState
from hlmon.protocol.messages import (
    ActiveAssetCtx,
    ActiveAssetCtxMsg,
    AllMids,
    AllMidsMsg,
    ClearinghouseState,
    ClearinghouseStateData,
    ClearinghouseStateMsg,
    L2Book,
    L2BookMsg,
    Message,
    OpenOrdersData,
    OpenOrdersMsg,
    PerpAssetCtx,
    UserFundings,
    UserFundingsMsg,
)
from hlmon.state import ConnState, FeedState, Source, Store
from hlmon.state.settings import StaleThresholds
from tests.support import FakeClock, wait_for

from .test_reconcile import STATE, USER
from .test_rest_sources import META_AND_CTXS, trade

SCREEN = ScreenState(selected_coin="BTC", watchlist=("BTC", "ETH"), user=USER)
EVERY_FEED = {"mids", "book:BTC", "bbo:BTC", "trades:BTC", "ctx:BTC", "ctx:ETH", "account",
              "orders", "fills", "fundings"}  # fmt: skip
BOOK = {"coin": "BTC", "time": 5, "levels": [[{"px": "99", "sz": "1", "n": 1}],
                                              [{"px": "101", "sz": "1", "n": 1}]]}  # fmt: skip


class FakeInfo:
    """Answers every type the poller asks, or ``status`` (with ``headers``) when set."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.asked: list[dict[str, Any]] = []
        self.status = 200
        self.headers: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.asked.append(body)
        if self.status != 200:
            return httpx.Response(self.status, headers=self.headers, text="nope")
        answers: dict[str, Any] = {
            "allMids": {"BTC": "100.5", "ETH": "2000.5"},
            "l2Book": BOOK,
            "metaAndAssetCtxs": META_AND_CTXS,
            "recentTrades": [trade(2, 200), trade(1, 100)],
            "clearinghouseState": {**STATE, "time": int(self.clock() * 1000)},
            "frontendOpenOrders": [],
            "userFills": [],
            "userFillsByTime": [],
            "userTwapSliceFills": [],
            "userTwapSliceFillsByTime": [],
            "userFunding": [],
            "twapHistory": [],
        }
        return httpx.Response(200, json=answers[body["type"]])

    def kinds(self) -> list[str]:
        return [b["type"] for b in self.asked]


class Rig:
    """A poller, its store and client on one fake clock."""

    def __init__(
        self,
        *,
        rest_mode: bool = True,
        budget: int = 600,
        screen: ScreenState = SCREEN,
        others: tuple[str, ...] = (),
        expect: frozenset[str] | set[str] = EVERY_FEED,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        """``wall_clock``: the poller's own (default: the store's fake clock)."""
        self.clock = FakeClock()
        self.fake = FakeInfo(self.clock)
        self.live = False
        self.heard = True
        """While ``live``: the socket's frames or pongs keep arriving (``run_for`` notes it
        alive every step). False: a half-open socket, silent."""
        self.screen = replace(screen, others=others)
        self.store = Store(self.clock)
        if others:
            self.store.set_watched_users((self.screen.user or "", *others))
        self.store.set_user(self.screen.user)
        for key in expect:
            self.store.expect(key)
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.fake))
        self.client = InfoClient(
            "http://x", budget=budget, http_client=http, rng=random.Random(0), clock=self.clock
        )
        self.poller = RestPoller(
            self.client,
            self.store,
            screen=lambda: self.screen,
            ws_live=lambda: self.live,
            rest_mode=rest_mode,
            down_grace=0.0,
            missing_grace=5.0,
            clock=self.clock,
            wall_clock=wall_clock or self.clock,
        )

    async def settle(self) -> None:
        """One round, and the polls it started."""
        self.poller.step()
        tasks = list(self.poller._inflight.values())
        if tasks:
            await asyncio.gather(*tasks)

    async def run_for(self, seconds: float, step: float = 0.25) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.advance(step)
            if self.live and self.heard:
                self.store.health.note_alive()
            await self.settle()

    def warnings(self) -> list[str]:
        return [e.text for e in self.store.health.events if e.level == "warn"]

    async def close(self) -> None:
        await self.client.aclose()


def interval(rig: Rig, kind: str) -> float:
    (entry,) = [e for e in rig.poller.plan.entries if e.key.kind == kind]
    assert entry.interval is not None
    return entry.interval


async def test_rest_mode_serves_every_feed_at_once_and_publishes_the_plan() -> None:
    rig = Rig()
    try:
        await rig.settle()
        statuses = {k: rig.store.feed_status(k) for k in EVERY_FEED}
        assert {k for k, st in statuses.items() if st.state is FeedState.FALLBACK} == EVERY_FEED
        assert all(st.source is Source.REST for st in statuses.values())
        assert not rig.store.health.fallback_active  # REST is the transport, not a fallback
        assert rig.store.book("BTC") is not None and rig.store.bbo("BTC") is not None
        assert [t.tid for t in rig.store.trades("BTC")] == [1, 2]
        plan = rig.store.health.rest_plan
        assert plan is not None and plan.budget == 600
        assert plan.cadences["book:BTC"] == plan.cadences["bbo:BTC"] == 2.0
        assert plan.cadences["ctx:ETH"] == interval(rig, "metaAndAssetCtxs")
        assert plan.weight_per_min <= 600 * 0.8
        # Spot balances serve nothing on screen yet: not planned, never asked.
        assert "spotClearinghouseState" not in rig.fake.kinds()
        # Said once in the Log (the plan may take several lines), not every round.
        said = [e for e in rig.store.health.events if e.text.startswith("REST plan:")]
        assert len(said) == 1
        asked = len(rig.fake.asked)
        await rig.settle()
        assert len(rig.fake.asked) == asked  # nothing due again at the same instant
    finally:
        await rig.close()


async def test_polls_follow_the_planned_cadence() -> None:
    rig = Rig()
    try:
        await rig.settle()
        await rig.run_for(20.0)
        book_every, ctx_every = interval(rig, "l2Book"), interval(rig, "metaAndAssetCtxs")
        kinds = rig.fake.kinds()
        # 21 s of polling: the first at 0, then one per interval (tick 0.25 s).
        assert kinds.count("l2Book") == 1 + int(20.0 // book_every)
        assert kinds.count("metaAndAssetCtxs") == 1 + int(20.0 // ctx_every)
        assert rig.client.budget.peak <= 600
    finally:
        await rig.close()


async def test_rest_data_is_fresh_within_its_planned_cadence() -> None:
    """Contexts are polled every ~20 s: fresh at 10 s although the websocket threshold is 5 s;
    stale only past 2.5 planned intervals without an answer. (A budget whose reserve holds
    every first poll: no cut moves the interval while it is measured.)"""
    rig = Rig(budget=1000)
    try:
        await rig.settle()
        every = interval(rig, "metaAndAssetCtxs")
        assert every > 2 * StaleThresholds().ctx  # polled far slower than it is pushed
        rig.fake.status = 500  # from now on nothing answers
        await rig.run_for(10.0)
        assert rig.store.feed_status("ctx:ETH").state is FeedState.FALLBACK
        assert rig.store.threshold("ctx:ETH") == 2.5 * every
        await rig.run_for(2.5 * every - 10.0 + 0.5)
        status = rig.store.feed_status("ctx:ETH")
        assert status.state is FeedState.STALE and status.source is Source.REST
    finally:
        await rig.close()


async def test_429_honours_retry_after_and_the_age_keeps_growing_to_stale() -> None:
    rig = Rig()
    try:
        await rig.settle()
        stamp = rig.store.stamp("book:BTC")
        rig.fake.status, rig.fake.headers = 429, {"Retry-After": "30"}
        await rig.run_for(2.0)  # the book's next poll is refused
        refused_at = rig.clock.now
        asked = len(rig.fake.asked)
        assert rig.fake.asked[-1]["type"] == "l2Book"
        assert any("HTTP 429 (Retry-After 30 s)" in w for w in rig.warnings())
        await rig.run_for(29.0)
        # Nothing went out while the server said to wait: not the book, not any other poll.
        assert len(rig.fake.asked) == asked
        # The refusal never refreshed the as-of time: the age grew until the book was stale.
        assert rig.store.stamp("book:BTC") == stamp
        status = rig.store.feed_status("book:BTC")
        assert status.state is FeedState.STALE and (status.age_s or 0) > 30
        rig.fake.status = 200
        await rig.run_for(2.0)
        assert len(rig.fake.asked) > asked
        assert rig.clock.now - refused_at >= 30
        assert rig.store.feed_status("book:BTC").state is FeedState.FALLBACK
        assert any("answering again" in e.text for e in rig.store.health.events)
    finally:
        await rig.close()


async def test_errors_are_logged_once_per_poll_and_backed_off() -> None:
    rig = Rig()
    try:
        rig.fake.status = 500
        await rig.settle()
        first = len(rig.fake.asked)
        await rig.run_for(1.5)  # the first backoff is 2 s: nothing retried yet
        assert len(rig.fake.asked) == first
        await rig.run_for(10.0)
        per_key = [w for w in rig.warnings() if w.startswith("REST l2Book")]
        assert len(per_key) == 1  # one line, however many failures
        assert rig.fake.kinds().count("l2Book") < 1 + 11.5 / 2.0  # backing off, not every 2 s
    finally:
        await rig.close()


async def test_a_small_budget_degrades_the_plan_and_says_so() -> None:
    rig = Rig(budget=120)
    try:
        await rig.settle()
        plan = rig.store.health.rest_plan
        assert plan is not None and plan.degraded
        assert "ctx" in plan.stretched and "fills" in plan.stretched
        assert plan.cadences["book:BTC"] == 2.0  # the selected coin's book keeps its cadence
        said = [e for e in rig.store.health.events if e.text.startswith("REST plan:")]
        assert said and said[0].level == "warn"
        await rig.run_for(30.0)
        assert rig.client.budget.peak <= 120
    finally:
        await rig.close()


async def test_loads_outside_the_plan_cut_it_until_they_leave_the_window() -> None:
    """Start-up loads (the catalog, the account checks, candles) outgrow the reserve. At full
    rate the plan's polls would fill the rolling window within seconds and then wait, the
    screen stale, until the loads slid out of it. The excess is cut from the plan instead:
    cadences stretch and say so, nothing turns stale, the window never passes the budget, and
    the full plan is back once the loads have left."""
    rig = Rig()
    try:
        await rig.settle()
        full = rig.poller.plan.available
        assert rig.poller.cut == 0
        rig.client.budget.reserve(200)  # spent by other parts of hlmon, just now
        loaded_at = rig.clock.now
        await rig.run_for(0.5)
        rig.client.budget.reserve(150)  # more of the start-up loads: the cut grows again
        stale: set[str] = set()
        while rig.clock.now < loaded_at + 59.0:
            rig.clock.advance(0.25)
            await rig.settle()
            statuses = {k: rig.store.feed_status(k).state for k in EVERY_FEED}
            stale |= {k for k, state in statuses.items() if state is FeedState.STALE}
        cut = rig.poller.cut
        assert cut > 0 and rig.poller.plan.available == pytest.approx(full - cut)
        assert not stale
        assert rig.client.budget.peak <= 600
        said = [e for e in rig.store.health.events if "one-off loads hold" in e.text]
        assert len(said) == 1 and said[0].level == "warn"
        plan = rig.store.health.rest_plan
        assert plan is not None and plan.cadences["account"] > 4.0 and "account" in plan.stretched
        said_plans = [e.text for e in rig.store.health.events if e.text.startswith("REST plan:")]
        # The first plan, then the cut one, said once it settled (not once per step it grew).
        assert len(said_plans) == 2 and f"({120 + cut} reserved)" in said_plans[-1]
        plans_said = len(said_plans)
        await rig.run_for(3.0)
        assert rig.poller.cut == 0 and rig.poller.plan.available == full
        assert any("full 480 w/min again" in e.text for e in rig.store.health.events)
        again = sum(e.text.startswith("REST plan:") for e in rig.store.health.events)
        assert again == plans_said + 1  # the cadences in force, said again
        plan = rig.store.health.rest_plan
        assert plan is not None and "account" not in plan.stretched
    finally:
        await rig.close()


async def test_the_cut_stretches_feeds_but_never_drops_one() -> None:
    """Loads outside the plan fill the window to the brim: the cut takes what it can, but
    the selected coin keeps its cadence and every other feed at least its floor. A feed left
    out of the plan would wait the whole minute for its first data (the market screen opened
    at start-up did)."""
    rig = Rig()
    try:
        await rig.settle()
        budget = rig.client.budget
        budget.reserve(budget.budget - budget.used())  # the brim, whatever the first polls took
        await rig.run_for(1.0)
        plan = rig.poller.plan
        assert rig.poller.cut > 0
        assert [e.feed.label for e in plan.entries if e.state is PlanState.NOT_SERVED] == []
        assert interval(rig, "l2Book") == 2.0
        assert rig.client.budget.peak <= 600
    finally:
        await rig.close()


async def test_no_feed_turns_stale_the_moment_the_cut_is_lifted() -> None:
    """When the start-up loads leave the window the plan speeds up at once (the account from
    every ~25 s to every 4 s), and with it each feed's stale threshold. Data polled at the
    slow cadence must not read STALE in the moment before its next poll answers: a shortened
    cadence is published at its old length until then."""
    rig = Rig()
    try:
        await rig.settle()
        rig.client.budget.reserve(350)
        loaded_at = rig.clock.now
        await rig.run_for(58.0)
        assert rig.poller.cut > 0
        stale: set[str] = set()
        while rig.clock.now < loaded_at + 64.0:
            rig.clock.advance(0.25)
            rig.poller.step()  # the plan may speed up here; its polls are not answered yet
            states = {k: rig.store.feed_status(k).state for k in EVERY_FEED}
            stale |= {k for k, state in states.items() if state is FeedState.STALE}
            await asyncio.gather(*rig.poller._inflight.values())
        assert rig.poller.cut == 0 and not stale
        plan = rig.store.health.rest_plan
        assert plan is not None and plan.cadences["account"] == 4.0  # answered: whole again
    finally:
        await rig.close()


async def test_first_polls_are_paid_once_from_the_reserve() -> None:
    """Budget 200 (40 kept back): the feeds' first polls alone outgrow the reserve, so they cut
    the plan (counted as the plan's, the plan would fill the window beside them). A feed's
    later polls are the plan's; after the fallback handed back, the next outage's first polls
    are first polls again."""
    rig = Rig(budget=200)
    try:
        await rig.run_for(1.0)
        assert rig.poller.cut > 0
        outside = rig.client.budget.used(except_tag=rest_poller.PLAN_TAG)
        answered = [e.feed.weight for e in rig.poller.plan.entries if e.key in rig.poller.polls]
        assert outside >= sum(answered) - 5  # each first poll (settled within a few of planned)
        await rig.run_for(61.0)
        assert rig.poller.cut == 0  # the first polls left the window; repeats are the plan's
    finally:
        await rig.close()

    rig = Rig(rest_mode=False)
    try:
        await rig.settle()
        rig.poller._switch(set(), set())  # handed back (every feed fresh over the websocket)
        assert not rig.poller.active
        rig.clock.advance(61.0)  # the first episode's weight leaves the window
        await rig.settle()  # the websocket still down: the fallback comes on again
        assert rig.poller.active
        again = rig.client.budget.used(except_tag=rest_poller.PLAN_TAG)
        assert again == rig.client.budget.used() > 0  # first polls again, not the plan's
    finally:
        await rig.close()


async def test_a_feed_taken_over_again_is_polled_at_once_not_at_its_planned_turn() -> None:
    """Found in tmux (a 40 s stall, minutes after start): the funding payments stayed STALE for
    the whole outage and the dead-man's switch fired. Their last poll, in an earlier outage,
    set their next turn a planned interval (60 s, 5 min under a cut) after it. A feed the
    fallback takes over again needs data now: its polls are due at once (a backoff holds)."""
    rig = Rig(rest_mode=False)
    store = rig.store
    try:
        await rig.settle()  # the first outage: every feed polled
        polled = rig.fake.kinds().count("userFunding")
        assert polled == 1
        # Handed back (every feed fresh over the websocket, as the step on a live socket
        # leaves it): nothing taken over any more.
        rig.poller._switch(set(), set())
        rig.poller._taken = set()
        rig.clock.advance(20.0)  # far less than the fundings' planned interval
        store.apply(UserFundingsMsg(data=UserFundings(user=USER, fundings=[])), Source.WS)
        # The socket falls silent: what it vouched for is STALE at once.
        assert store.feed_status("fundings").state is FeedState.STALE
        await rig.settle()  # down again
        assert rig.fake.kinds().count("userFunding") == polled + 1
        assert store.feed_status("fundings").state is FeedState.FALLBACK
        # Fresh from REST again, the plan's turns hold: no second poll before its interval.
        fresh = rig.fake.kinds().count("metaAndAssetCtxs")
        await rig.settle()
        assert rig.fake.kinds().count("userFunding") == polled + 1
        assert rig.fake.kinds().count("metaAndAssetCtxs") == fresh
    finally:
        await rig.close()


async def test_replans_when_the_selection_changes() -> None:
    rig = Rig(budget=1000)  # every first poll within the reserve: no cut holds the plan's line
    try:
        await rig.settle()
        rig.screen = replace(rig.screen, selected_coin="ETH")
        for key in ("book:ETH", "bbo:ETH", "trades:ETH"):  # what the engine expects on select
            rig.store.expect(key)
        await rig.settle()
        plan = rig.store.health.rest_plan
        assert plan is not None and "book:ETH" in plan.cadences and "book:BTC" not in plan.cadences
        assert PollKey.of("l2Book", coin="ETH") in rig.poller.served()
        assert {"type": "l2Book", "coin": "ETH"} in rig.fake.asked
        said = [e for e in rig.store.health.events if e.text.startswith("REST plan:")]
        assert len(said) == 2 and "book ETH" in said[-1].text
    finally:
        await rig.close()


async def test_fallback_takes_over_when_the_websocket_is_down_and_hands_back() -> None:
    rig = Rig(rest_mode=False)
    store = rig.store
    try:
        await rig.settle()
        assert store.health.fallback_active
        assert {k for k in EVERY_FEED if store.feed_status(k).state is FeedState.FALLBACK} == (
            EVERY_FEED
        )
        assert any(e.text.startswith("fallback on: ") for e in store.health.events)
        full = rig.poller.plan.available
        rig.client.budget.reserve(350)  # a reconciliation, the checks: the plan is cut
        await rig.settle()
        assert rig.poller.cut > 0
        # The websocket comes back but has not delivered yet: the fallback holds on.
        rig.live = True
        store.health.set_connection(ConnState.LIVE, url="ws://x/ws")
        await rig.run_for(0.5)
        assert store.health.fallback_active
        # It delivers every periodic feed: handed back (event feeds are handed back at once).
        now_ms = int(rig.clock() * 1000)
        state = msgspec.json.decode(json.dumps({**STATE, "time": now_ms}), type=ClearinghouseState)
        ctx = msgspec.convert(META_AND_CTXS[1][0], PerpAssetCtx)
        pushes: list[Message] = [
            AllMidsMsg(data=AllMids(mids={"BTC": "101"})),
            L2BookMsg(data=L2Book(coin="BTC", time=9, levels=([], []))),
            ClearinghouseStateMsg(data=ClearinghouseStateData(user=USER, clearinghouseState=state)),
            OpenOrdersMsg(data=OpenOrdersData(user=USER, orders=[])),
            *(ActiveAssetCtxMsg(data=ActiveAssetCtx(coin=c, ctx=ctx)) for c in ("BTC", "ETH")),
        ]
        for m in pushes:
            store.apply(m, Source.WS)
        await rig.run_for(0.5)
        assert not store.health.fallback_active
        assert any(e.text.startswith("fallback off") for e in store.health.events)
        # Off duty, the plan is whole again (a REST-fed feed is judged by whole cadences).
        assert rig.poller.cut == 0 and rig.poller.plan.available == full
        plan = store.health.rest_plan
        assert plan is not None and plan.cadences["account"] == 4.0
    finally:
        await rig.close()


async def test_a_cheap_poll_never_overtakes_a_costlier_more_important_one() -> None:
    """Budget 240: the first round fills it with worst-case reservations (the fills poll alone
    holds 120 until its answer settles it) up to the TWAP fills poll (120 too), which must
    wait with the fundings poll; the other account's row (weight 2, lower priority) waits
    behind them instead of taking the room, and goes after them once the answers settle (and
    the TWAP history poll, next in line, has not found room for a while)."""
    other = "0x" + "cd" * 20
    rig = Rig(budget=240, others=(other,))
    try:
        await rig.settle()
        assert "recentTrades" in rig.fake.kinds() and "userFunding" not in rig.fake.kinds()
        assert "userTwapSliceFills" not in rig.fake.kinds()
        assert [b for b in rig.fake.asked if b.get("user") == other] == []
        await rig.settle()  # settled to the true weights: room for the TWAP fills, not more
        assert "userTwapSliceFills" in rig.fake.kinds() and "userFunding" not in rig.fake.kinds()
        assert [b for b in rig.fake.asked if b.get("user") == other] == []
        await rig.settle()
        assert "userFunding" in rig.fake.kinds()
        assert [b for b in rig.fake.asked if b.get("user") == other] == []
        # Next in line, the TWAP history poll (120 worst case, before the row in its class)
        # finds no room in this small budget; the row does not wait for it for ever.
        await rig.run_for(30.0)
        asked = rig.fake.asked
        funding = next(i for i, b in enumerate(asked) if b["type"] == "userFunding")
        row = next(i for i, b in enumerate(asked) if b.get("user") == other)
        assert funding < row and "twapHistory" not in rig.fake.kinds()
        assert rig.client.budget.peak <= 240
    finally:
        await rig.close()


async def test_a_poll_that_cannot_fit_does_not_starve_the_polls_below() -> None:
    """Budget 150: the book keeps part of it busy all the time, so the fills poll (worst case
    120) may never find room; after a while the polls below it go anyway (the other account's
    row), and the budget is never exceeded."""
    other = "0x" + "cd" * 20
    rig = Rig(budget=150, others=(other,))
    try:
        await rig.run_for(70.0)
        assert [b for b in rig.fake.asked if b.get("user") == other]
        assert rig.client.budget.peak <= 150
    finally:
        await rig.close()


async def test_per_key_tables_do_not_keep_every_coin_ever_selected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poll key names its coin: viewing coin after coin for weeks must not keep a counter and
    an error per coin; the count per type stays whole."""
    monkeypatch.setattr(rest_poller, "POLL_KEYS_KEPT", 6)
    rig = Rig()
    try:
        await rig.settle()
        for i in range(30):
            rig.screen = replace(rig.screen, selected_coin=f"C{i}")
            for key in (f"book:C{i}", f"bbo:C{i}", f"trades:C{i}"):
                rig.store.expect(key)
            rig.fake.status = 500 if i % 2 else 200
            await rig.run_for(2.5)
        served = set(rig.poller.served())
        assert len(set(rig.poller.polls) - served) <= 6  # the plan's keys are never dropped
        assert rig.poller.polls_of("l2Book") >= 15  # every answered poll still counted
        assert set(rig.poller._last_error) <= served
        assert set(rig.poller._waiting_since) <= served
    finally:
        await rig.close()


async def test_a_feed_added_on_a_live_socket_gets_its_missing_grace_from_then() -> None:
    """A coin added (or the market screen opened) long after the socket came up: its feed is
    not polled as missing before ``missing_grace`` has passed since it was wanted."""
    rig = Rig(rest_mode=False, screen=ScreenState(watchlist=("BTC",)), expect={"ctx:BTC"})
    ctx = msgspec.convert(META_AND_CTXS[1][0], PerpAssetCtx)
    health = rig.store.health

    async def healthy(seconds: float) -> None:
        for _ in range(int(seconds / 0.5)):
            rig.store.apply(ActiveAssetCtxMsg(data=ActiveAssetCtx(coin="BTC", ctx=ctx)), Source.WS)
            health.note_alive()  # as the feed notes each batch of frames
            rig.clock.advance(0.5)
            await rig.settle()

    try:
        rig.live = True
        health.set_connection(ConnState.LIVE, url="ws://x/ws")
        await healthy(20)
        assert not health.fallback_active
        rig.screen = replace(rig.screen, watchlist=("BTC", "ETH"))
        rig.store.expect("ctx:ETH")
        await healthy(4)  # within its grace: the websocket may still deliver it
        assert not health.fallback_active and "metaAndAssetCtxs" not in rig.fake.kinds()
        await healthy(2)
        assert health.fallback_active and "metaAndAssetCtxs" in rig.fake.kinds()
    finally:
        await rig.close()


async def test_a_poll_that_now_serves_a_feed_without_data_is_due_at_once() -> None:
    """A coin added in REST mode: the contexts poll already serves the other coins, but the new
    one's context must not wait out the interval planned for them."""
    rig = Rig(screen=ScreenState(watchlist=("BTC", "ETH")), expect={"ctx:BTC", "ctx:ETH"})
    try:
        await rig.settle()
        assert rig.fake.kinds().count("metaAndAssetCtxs") == 1
        rig.clock.advance(1.0)  # well within the contexts' interval
        await rig.settle()
        assert rig.fake.kinds().count("metaAndAssetCtxs") == 1
        rig.screen = replace(rig.screen, watchlist=("BTC", "ETH", "SOL"))
        rig.store.expect("ctx:SOL")
        rig.clock.advance(0.25)
        await rig.settle()
        assert rig.fake.kinds().count("metaAndAssetCtxs") == 2
        st = rig.store.feed_status("ctx:SOL")
        assert st.state is FeedState.FALLBACK and st.source is Source.REST
        # Then the plan's cadence again: nothing more before the interval has passed.
        rig.clock.advance(1.0)
        await rig.settle()
        assert rig.fake.kinds().count("metaAndAssetCtxs") == 2
    finally:
        await rig.close()


async def test_calm_rounds_sleep_until_something_can_change() -> None:
    """Socket live, every feed fresh: the next round is due when time alone could turn a feed
    (here the contexts' stale threshold), at most ``CALM_WAIT_MAX``; every ``tick`` while the
    fallback is on or before the socket is live."""
    rig = Rig(rest_mode=False, screen=ScreenState(watchlist=("BTC",)), expect={"ctx:BTC"})
    ctx = msgspec.convert(META_AND_CTXS[1][0], PerpAssetCtx)
    health = rig.store.health
    poller = rig.poller
    try:
        assert poller.next_round_in() == poller.tick  # nothing judged yet
        await rig.settle()
        assert health.fallback_active  # the socket is down: REST serves
        assert poller.next_round_in() == poller.tick
        rig.live = True
        health.set_connection(ConnState.LIVE, url="ws://x/ws")
        rig.store.apply(ActiveAssetCtxMsg(data=ActiveAssetCtx(coin="BTC", ctx=ctx)), Source.WS)
        health.note_alive()
        await rig.settle()
        assert not health.fallback_active
        assert poller.next_round_in() == rest_poller.CALM_WAIT_MAX
        # Near the threshold, the round comes just before it (never later, never in a tick).
        threshold = rig.store.threshold("ctx:BTC")
        rig.clock.advance(threshold - 0.5)
        health.note_alive()
        await rig.settle()
        assert poller.next_round_in() == pytest.approx(0.5, abs=1e-3)
        rig.clock.advance(0.6)
        health.note_alive()
        asked = rig.fake.kinds().count("metaAndAssetCtxs")
        await rig.settle()
        # It turned stale, and the fallback took it over and polled it at once.
        assert rig.fake.kinds().count("metaAndAssetCtxs") == asked + 1
        status = rig.store.feed_status("ctx:BTC")
        assert (status.state, status.source) == (FeedState.FALLBACK, Source.REST)
        assert health.fallback_active and poller.next_round_in() == poller.tick
    finally:
        await rig.close()


async def test_a_poke_runs_the_next_round_at_once() -> None:
    """The engine pokes on a screen or socket change: a calm poller does not sleep it out."""
    rig = Rig(rest_mode=False, screen=ScreenState(watchlist=("BTC",)), expect={"ctx:BTC"})
    ctx = msgspec.convert(META_AND_CTXS[1][0], PerpAssetCtx)
    rig.live = True
    rig.store.health.set_connection(ConnState.LIVE, url="ws://x/ws")
    rig.store.apply(ActiveAssetCtxMsg(data=ActiveAssetCtx(coin="BTC", ctx=ctx)), Source.WS)
    rig.store.health.note_alive()
    poller = rig.poller
    poller.tick = 30.0  # a round that is not poked would come far past this test's deadline
    task = asyncio.create_task(poller.run())
    try:
        await wait_for(lambda: poller.rounds >= 1, 5.0)
        rounds = poller.rounds
        for _ in range(5):
            await asyncio.sleep(0)
        assert poller.rounds == rounds  # asleep
        poller.poke()
        await wait_for(lambda: poller.rounds > rounds, 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rig.close()
