"""Which planned REST feeds are due, backoff after refusals, and re-planning as feeds change."""

from __future__ import annotations

import math

import pytest

from hlmon.feeds.rest_plan import PlanState, PollKey, Priority, WantedFeed
from hlmon.feeds.rest_schedule import RETRY_AFTER_CAP, RestScheduler


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(kind: str, priority: Priority, cadence: float, weight: float, **params: str) -> WantedFeed:
    return WantedFeed(PollKey.of(kind, **params), priority, cadence, weight, kind)


BOOK = feed("l2Book", Priority.SELECTED_COIN, 2, 2, coin="BTC")
STATE = feed("clearinghouseState", Priority.SELECTED_ACCOUNT, 4, 2, user="0xa", dex="")
CTX = feed("metaAndAssetCtxs", Priority.MARKET, 15, 20, dex="")
IDLE = feed("clearinghouseState", Priority.BACKGROUND, 60, 2, user="0xb", dex="")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def poll(sched: RestScheduler, key: PollKey) -> None:
    sched.note_sent(key)
    sched.note_success(key)


class TestDue:
    def test_everything_due_at_first_in_priority_order(self, clock: FakeClock) -> None:
        sched = RestScheduler([IDLE, CTX, STATE, BOOK], clock=clock)
        assert sched.due() == [BOOK.key, STATE.key, CTX.key, IDLE.key]
        assert sched.seconds_until_due() == 0

    def test_due_again_one_interval_after_it_was_sent(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK, CTX], clock=clock)
        for key in sched.due():
            sched.note_sent(key)
        clock.now += 0.5  # answers arrive later; the interval counts from the send
        sched.note_success(BOOK.key)
        sched.note_success(CTX.key)
        assert sched.next_due(BOOK.key) == 1002.0
        assert sched.seconds_until_due() == pytest.approx(1.5)
        clock.now = 1001.999
        assert sched.due() == []
        clock.now = 1002.0
        assert sched.due() == [BOOK.key]
        clock.now = 1015.0
        assert sched.due() == [BOOK.key, CTX.key]

    def test_in_flight_is_not_due(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK], clock=clock)
        sched.note_sent(BOOK.key)
        clock.now += 100
        assert sched.due() == []
        assert sched.next_due(BOOK.key) is None
        assert sched.seconds_until_due() is None

    def test_not_served_is_never_due(self, clock: FakeClock) -> None:
        huge = feed("metaAndAssetCtxs", Priority.BACKGROUND, 1, 1000, dex="xyz")
        sched = RestScheduler([BOOK, huge], clock=clock, budget=100)
        assert sched.plan.entry(huge.key) is not None
        assert sched.plan.entry(huge.key).state is PlanState.NOT_SERVED  # type: ignore[union-attr]
        assert sched.due() == [BOOK.key]
        assert sched.next_due(huge.key) is None

    def test_unknown_key(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK], clock=clock)
        assert sched.next_due(CTX.key) is None
        with pytest.raises(KeyError):
            sched.note_sent(CTX.key)

    def test_allowance_hands_out_by_priority_without_overtaking(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK, STATE, CTX, IDLE], clock=clock)
        assert sched.due(allowance=4) == [BOOK.key, STATE.key]
        # 20 left after the two cheap ones would not cover ctx: the idle state (2) must not
        # jump the queue ahead of it.
        assert sched.due(allowance=23) == [BOOK.key, STATE.key]
        assert sched.due(allowance=26) == [BOOK.key, STATE.key, CTX.key, IDLE.key]
        assert sched.due(allowance=0) == []


class TestBackoff:
    def test_exponential_with_a_cap(self, clock: FakeClock) -> None:
        sched = RestScheduler([CTX], clock=clock, backoff_initial=20.0, backoff_cap=120.0)
        delays = []
        for _ in range(6):
            clock.now = max(clock.now, sched.next_due(CTX.key) or clock.now)
            start = clock.now
            assert sched.due() == [CTX.key]
            sched.note_sent(CTX.key)
            clock.now += 1.0  # the refusal comes back a second later
            due = sched.note_failure(CTX.key)
            assert due is not None
            delays.append(due - start)
        # Never earlier than the planned 15 s; then 20, 40, 80, 120, 120 after the refusal.
        assert delays == [21.0, 41.0, 81.0, 121.0, 121.0, 121.0]
        assert sched.failures(CTX.key) == 6

    def test_backoff_never_makes_a_feed_due_earlier_than_planned(self, clock: FakeClock) -> None:
        sched = RestScheduler([CTX], clock=clock, backoff_initial=1.0)
        sched.note_sent(CTX.key)
        assert sched.note_failure(CTX.key) == 1015.0

    def test_retry_after_is_honoured(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK], clock=clock)
        sched.note_sent(BOOK.key)
        assert sched.note_failure(BOOK.key, retry_after=37.0) == 1037.0
        clock.now = 1036.9
        assert sched.due() == []
        clock.now = 1037.0
        assert sched.due() == [BOOK.key]

    @pytest.mark.parametrize(
        ("retry_after", "expected"),
        [(math.inf, RETRY_AFTER_CAP), (-5.0, 2.0), (math.nan, 2.0), (0.0, 2.0)],
    )
    def test_odd_retry_after_values(
        self, clock: FakeClock, retry_after: float, expected: float
    ) -> None:
        """A budget that can never fit says inf; a broken header must not stall or spin."""
        sched = RestScheduler([BOOK], clock=clock, backoff_initial=2.0)
        sched.note_sent(BOOK.key)
        assert sched.note_failure(BOOK.key, retry_after=retry_after) == 1000.0 + expected

    def test_success_resets_the_backoff(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK], clock=clock, backoff_initial=8.0)
        for _ in range(3):
            sched.note_sent(BOOK.key)
            sched.note_failure(BOOK.key)
        assert sched.failures(BOOK.key) == 3
        clock.now = sched.next_due(BOOK.key) or 0.0
        sent = clock.now
        poll(sched, BOOK.key)
        assert sched.failures(BOOK.key) == 0
        assert sched.next_due(BOOK.key) == sent + 2.0
        # The next failure starts the exponent again from the first delay.
        sched.note_sent(BOOK.key)
        assert sched.note_failure(BOOK.key) == sent + 8.0

    def test_a_failure_keeps_others_on_schedule(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK, STATE], clock=clock)
        poll(sched, BOOK.key)
        sched.note_sent(STATE.key)
        sched.note_failure(STATE.key, retry_after=30)
        clock.now += 4
        assert sched.due() == [BOOK.key]

    def test_nothing_here_can_call_data_fresh(self, clock: FakeClock) -> None:
        """Ages belong to the Store: the scheduler records sends, never arrivals."""
        sched = RestScheduler([BOOK], clock=clock)
        public = {name for name in dir(sched) if not name.startswith("_")}
        assert not {n for n in public if any(w in n for w in ("fresh", "age", "as_of", "ok_at"))}


class TestReplan:
    def test_add_replans_and_keeps_history(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK, CTX], clock=clock, budget=200, reserve_share=0.0)
        assert sched.plan.entry(CTX.key).state is PlanState.OK  # type: ignore[union-attr]
        poll(sched, BOOK.key)
        poll(sched, CTX.key)
        heavy = feed("frontendOpenOrders", Priority.SELECTED_ACCOUNT, 10, 20, user="0xa", dex="")
        assert sched.add(heavy) is True
        ctx = sched.plan.entry(CTX.key)
        assert ctx is not None and ctx.state is PlanState.STRETCHED and ctx.interval is not None
        # The kept feed is not due again just because the plan changed, but the new one is.
        assert sched.due() == [heavy.key]
        assert sched.next_due(CTX.key) == pytest.approx(1000.0 + ctx.interval)
        assert sched.add(heavy) is False  # the same feed again changes nothing

    def test_remove_replans_and_forgets(self, clock: FakeClock) -> None:
        heavy = feed("frontendOpenOrders", Priority.SELECTED_ACCOUNT, 10, 20, user="0xa", dex="")
        sched = RestScheduler([BOOK, heavy, CTX], clock=clock, budget=200, reserve_share=0.0)
        sched.note_sent(heavy.key)
        assert sched.plan.entry(CTX.key).state is PlanState.STRETCHED  # type: ignore[union-attr]
        assert sched.remove(heavy.key) is True
        assert sched.plan.entry(CTX.key).state is PlanState.OK  # type: ignore[union-attr]
        assert sched.plan.entry(heavy.key) is None
        assert sched.remove(heavy.key) is False
        # The answer of a poll that was in flight when its feed went away is ignored.
        sched.note_success(heavy.key)
        assert sched.note_failure(heavy.key) is None
        assert sched.due() == [BOOK.key, CTX.key]

    def test_add_replaces_a_feed_with_the_same_key(self, clock: FakeClock) -> None:
        sched = RestScheduler([CTX], clock=clock)
        faster = WantedFeed(CTX.key, Priority.MARKET, 6, 20, "ctx")
        assert sched.add(faster) is True
        assert sched.feeds == (faster,)
        assert sched.plan.entry(CTX.key).interval == 6  # type: ignore[union-attr]

    def test_set_feeds_only_replans_on_change(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK], clock=clock)
        plan = sched.plan
        assert sched.set_feeds([BOOK]) is False
        assert sched.plan is plan
        with pytest.raises(ValueError, match="twice"):
            sched.set_feeds([BOOK, BOOK])
        assert sched.plan is plan and sched.feeds == (BOOK,)

    def test_set_budget(self, clock: FakeClock) -> None:
        sched = RestScheduler([BOOK, CTX], clock=clock)
        assert sched.set_budget(600) is False
        assert sched.set_budget(100, reserve_share=0.0) is True
        assert sched.plan.budget == 100
        ctx = sched.plan.entry(CTX.key)
        assert ctx is not None and ctx.state is PlanState.STRETCHED and ctx.interval == 30
        assert sched.plan.weight_per_min <= 100

    def test_bad_backoff(self, clock: FakeClock) -> None:
        with pytest.raises(ValueError):
            RestScheduler(clock=clock, backoff_initial=10, backoff_cap=5)
