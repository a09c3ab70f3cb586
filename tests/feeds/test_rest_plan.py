"""The REST planner's arithmetic: weights, budget, priority order, floors, the summary."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.feeds.rest_demand import AccountDemand, ScreenDemand, wanted_feeds
from hlmon.feeds.rest_plan import (
    CLASS_STRETCH,
    DEFAULT_MAX_INTERVAL,
    PROTECTED,
    PlannedFeed,
    PlanState,
    PollKey,
    Priority,
    RestPlan,
    WantedFeed,
    format_interval,
    plan_rest,
    poll_weight,
)
from hlmon.protocol import info

PLANNED_KINDS = ("clearinghouseState", "spotClearinghouseState", "allMids", "l2Book",
                 "frontendOpenOrders", "userFillsByTime", "userTwapSliceFillsByTime",
                 "metaAndAssetCtxs", "recentTrades", "userFunding", "userRole",
                 "userAbstraction", "portfolio")  # fmt: skip
"""Every kind the planner's table listed, with the weights it held (the protocol's)."""


def feed(
    name: str,
    priority: Priority,
    cadence: float,
    weight: float,
    *,
    label: str | None = None,
    max_interval: float = DEFAULT_MAX_INTERVAL,
) -> WantedFeed:
    return WantedFeed(
        PollKey.of("metaAndAssetCtxs", dex=name),
        priority,
        cadence,
        weight,
        label or name,
        max_interval,
    )


def rates(plan: RestPlan) -> dict[str, float]:
    return {e.feed.label: e.weight_per_min for e in plan.entries}


class TestWeights:
    def test_weights_of_the_2026_page(self) -> None:
        """§7 weights: state 2 per dex, orders 20 per dex, contexts 20 per dex, mids 2 ..."""
        assert poll_weight("clearinghouseState") == 2
        assert poll_weight("spotClearinghouseState") == 2
        assert poll_weight("frontendOpenOrders") == 20
        assert poll_weight("metaAndAssetCtxs") == 20
        assert poll_weight("allMids") == 2
        assert poll_weight("l2Book") == 2
        assert poll_weight("userRole") == 60
        assert poll_weight("userAbstraction") == 20
        assert poll_weight("portfolio") == 20

    @pytest.mark.parametrize("kind", ["userFillsByTime", "recentTrades", "userFunding"])
    def test_per_item_kinds_cost_one_more_per_started_20(self, kind: str) -> None:
        assert poll_weight(kind) == 20
        assert poll_weight(kind, 1) == 21
        assert poll_weight(kind, 20) == 21
        assert poll_weight(kind, 21) == 22
        assert poll_weight(kind, 2000) == 120

    def test_flat_kinds_ignore_items(self) -> None:
        assert poll_weight("l2Book", 500) == 2

    @pytest.mark.parametrize("kind", sorted(PLANNED_KINDS))
    def test_agrees_with_the_protocol_table(self, kind: str) -> None:
        """The planner plans by the weights every request is charged by (one table)."""
        assert PollKey.of(kind).base_weight == info.base_weight(kind)
        assert poll_weight(kind) == info.base_weight(kind)
        assert poll_weight(kind, 45) == info.base_weight(kind) + info.extra_weight(kind, 45)

    def test_one_account_sweep_matches_the_page(self) -> None:
        """§7.1: a full sweep of one account is about 45 + 20A (65 for A = 1, 265 for A = 11)."""
        for active, expected in ((1, 65), (3, 105), (11, 265)):
            sweep = (
                poll_weight("clearinghouseState") * 11
                + poll_weight("spotClearinghouseState")
                + poll_weight("frontendOpenOrders") * active
                + poll_weight("userFillsByTime", 20)
            )
            assert sweep == expected


class TestPollKey:
    def test_params_are_sorted_so_equal_calls_are_equal_keys(self) -> None:
        a = PollKey.of("clearinghouseState", user="0xa", dex="xyz")
        b = PollKey.of("clearinghouseState", dex="xyz", user="0xa")
        assert a == b
        assert hash(a) == hash(b)
        assert a.param("dex") == "xyz"
        assert a.param("coin") is None
        assert a.base_weight == 2

    def test_unknown_kind_costs_the_default(self) -> None:
        assert PollKey.of("somethingNew").base_weight == 20

    def test_text_names_the_default_dex(self) -> None:
        assert str(PollKey.of("allMids", dex="")) == "allMids(dex=default)"
        assert str(PollKey.of("allMids")) == "allMids"


class TestValidation:
    @pytest.mark.parametrize(
        ("cadence", "weight", "max_interval"),
        [(0.0, 2, 300.0), (-1.0, 2, 300.0), (math.nan, 2, 300.0), (5.0, 0, 300.0), (5.0, 2, 4.0)],
    )
    def test_bad_feed_is_a_clear_error(
        self, cadence: float, weight: float, max_interval: float
    ) -> None:
        with pytest.raises(ValueError, match="metaAndAssetCtxs"):
            feed("x", Priority.MARKET, cadence, weight, max_interval=max_interval)

    def test_duplicate_key(self) -> None:
        with pytest.raises(ValueError, match="wanted twice"):
            plan_rest([feed("a", Priority.MARKET, 5, 2), feed("a", Priority.BACKGROUND, 9, 2)])

    @pytest.mark.parametrize(("budget", "share"), [(0, 0.2), (600, 1.0), (600, -0.1)])
    def test_bad_budget(self, budget: int, share: float) -> None:
        with pytest.raises(ValueError):
            plan_rest([], budget=budget, reserve_share=share)


class TestPlan:
    def test_everything_fits_at_cadence(self) -> None:
        plan = plan_rest(
            [feed("book", PROTECTED, 2, 2), feed("ctx", Priority.MARKET, 15, 20)],
            budget=600,
            reserve_share=0.2,
        )
        assert [e.interval for e in plan.entries] == [2, 15]
        assert [e.state for e in plan.entries] == [PlanState.OK, PlanState.OK]
        assert plan.weight_per_min == pytest.approx(60 + 80)
        assert plan.available == pytest.approx(480)
        assert not plan.degraded

    def test_empty(self) -> None:
        plan = plan_rest([])
        assert plan.entries == ()
        assert plan.weight_per_min == 0
        assert plan.summary() == "REST plan: 0/600 w/min (120 reserved)"

    def test_entries_are_in_priority_order_stable_within_a_class(self) -> None:
        feeds = [
            feed("idle", Priority.BACKGROUND, 60, 2),
            feed("m1", Priority.MARKET, 5, 2),
            feed("book", PROTECTED, 2, 2),
            feed("m2", Priority.MARKET, 5, 2),
        ]
        assert [e.feed.label for e in plan_rest(feeds).entries] == ["book", "m1", "m2", "idle"]

    def test_lowest_class_is_stretched_first(self) -> None:
        """100 w/min available: the top classes keep their cadence, the background pays."""
        feeds = [
            feed("book", PROTECTED, 2, 1),  # 30 w/min
            feed("acct", Priority.SELECTED_ACCOUNT, 4, 2),  # 30 w/min
            feed("ctx", Priority.MARKET, 30, 10),  # 20 w/min
            feed("idle", Priority.BACKGROUND, 6, 4),  # 40 w/min wanted
        ]
        plan = plan_rest(feeds, budget=100, reserve_share=0.0)
        by = {e.feed.label: e for e in plan.entries}
        assert by["book"].interval == 2 and by["book"].state is PlanState.OK
        assert by["acct"].interval == 4 and by["ctx"].interval == 30
        assert by["idle"].state is PlanState.STRETCHED
        assert by["idle"].weight_per_min == pytest.approx(20, rel=1e-6)
        assert plan.weight_per_min <= 100

    def test_classes_stretch_together_lower_ones_further(self) -> None:
        """70 w/min after the book for 360 wanted: the account gives way too, at half the
        market's stretch, rather than leaving the market at its floor."""
        feeds = [
            feed("book", PROTECTED, 2, 1),  # 30
            feed("acct", Priority.SELECTED_ACCOUNT, 2, 2),  # 60 wanted
            feed("ctx", Priority.MARKET, 6, 20, max_interval=60),  # 200 wanted, floor 20
            feed("idle", Priority.BACKGROUND, 6, 10, max_interval=60),  # 100 wanted, floor 10
        ]
        plan = plan_rest(feeds, budget=100, reserve_share=0.0)
        by = {e.feed.label: e for e in plan.entries}
        assert by["book"].state is PlanState.OK
        # At factor F the account waits F cadences, ctx 2F, idle 4F up to its 10x floor:
        # 60/F + 200/(2F) + 10 = 70 gives F = 8/3.
        assert by["acct"].interval == pytest.approx(2 * 8 / 3, abs=1e-3)
        assert by["ctx"].interval == pytest.approx(6 * 2 * 8 / 3, abs=1e-3)
        assert by["idle"].interval == 60
        assert plan.weight_per_min == pytest.approx(100, rel=1e-4)

    def test_three_dexes_do_not_starve_the_market(self) -> None:
        """The selected account active on three dexes: under strict priority its state and
        orders took the budget and trades, fills and contexts fell to their 5 min floor."""
        dexes = ("", "xyz", "flx")
        account = AccountDemand("0xabc", dexes, has_positions=True)
        demand = ScreenDemand(selected_coin="BTC", market_dexes=dexes, selected_account=account)
        plan = plan_rest(wanted_feeds(demand), budget=600, reserve_share=0.2)
        by_kind: dict[str, list[float]] = {}
        for e in plan.entries:
            assert e.interval is not None
            by_kind.setdefault(e.key.kind, []).append(e.interval)
        assert by_kind["l2Book"] == [2.0]
        assert max(by_kind["clearinghouseState"]) <= 10
        for kind in ("recentTrades", "userFillsByTime"):
            assert max(by_kind[kind]) <= 60, kind
        assert max(by_kind["metaAndAssetCtxs"]) <= 90
        assert max(by_kind["allMids"]) <= 30
        # The account still comes first: stretched half as far as the market, in cadences.
        state = plan.entries[1]
        trades = next(e for e in plan.entries if e.key.kind == "recentTrades")
        assert state.key.kind == "clearinghouseState"
        assert state.interval is not None and trades.interval is not None
        ratio = (trades.interval / trades.feed.cadence) / (state.interval / state.feed.cadence)
        assert ratio == pytest.approx(2, rel=1e-3)

    def test_stretch_is_one_factor_per_class_capped_at_each_floor(self) -> None:
        feeds = [
            feed("mids", Priority.MARKET, 5, 2),  # 24 w/min
            feed("fund", Priority.MARKET, 60, 20, max_interval=90),  # 20 w/min, floor 13.3
        ]
        # 30 w/min: one factor (44/30) leaves both below their caps.
        by = {e.feed.label: e for e in plan_rest(feeds, budget=30, reserve_share=0.0).entries}
        assert by["fund"].interval == pytest.approx(88, abs=1e-3)
        assert by["mids"].interval == pytest.approx(5 * 44 / 30, abs=1e-3)
        # 25 w/min: that factor would pass the fundings' floor, which caps them at 90 s.
        by = {e.feed.label: e for e in plan_rest(feeds, budget=25, reserve_share=0.0).entries}
        assert by["fund"].interval == 90
        assert by["mids"].weight_per_min == pytest.approx(25 - 20 * 60 / 90, rel=1e-3)

    def test_not_served_when_even_floors_do_not_fit(self) -> None:
        feeds = [
            feed("book", PROTECTED, 2, 2),  # 60
            feed("acct", Priority.SELECTED_ACCOUNT, 4, 2, max_interval=4),  # 30, no stretch
            feed("ctx", Priority.MARKET, 15, 20, max_interval=30),  # floor 40
            feed("idle", Priority.BACKGROUND, 60, 2, max_interval=60),  # floor 2
        ]
        plan = plan_rest(feeds, budget=100, reserve_share=0.0)
        by = {e.feed.label: e for e in plan.entries}
        assert by["ctx"].state is PlanState.NOT_SERVED
        assert by["ctx"].interval is None and by["ctx"].weight_per_min == 0
        # A lighter, lower feed still fits where the heavier one did not.
        assert by["idle"].state is PlanState.OK
        assert plan.degraded
        assert "ctx not served" in plan.summary()

    def test_lowest_priority_dropped_first(self) -> None:
        feeds = [feed(f"a{i}", Priority.AT_RISK, 10, 10, max_interval=60) for i in range(3)]
        feeds += [feed(f"b{i}", Priority.BACKGROUND, 10, 10, max_interval=60) for i in range(3)]
        plan = plan_rest(feeds, budget=45, reserve_share=0.0)  # four floors of 10 fit
        states = {e.feed.label: e.state for e in plan.entries}
        assert [states[f"a{i}"] for i in range(3)] == [PlanState.STRETCHED] * 3
        assert states["b0"] is PlanState.STRETCHED
        assert states["b1"] is states["b2"] is PlanState.NOT_SERVED

    def test_protected_book_stretches_when_it_alone_does_not_fit(self) -> None:
        plan = plan_rest(
            [feed("book", PROTECTED, 2, 2), feed("x", Priority.MARKET, 5, 2)], budget=30
        )
        by = {e.feed.label: e for e in plan.entries}
        assert by["book"].state is PlanState.STRETCHED
        assert by["book"].weight_per_min <= 24 - by["x"].weight_per_min + 1e-9
        assert plan.weight_per_min <= 24

    def test_nothing_fits(self) -> None:
        plan = plan_rest(
            [feed("book", PROTECTED, 2, 100, max_interval=2), feed("ctx", Priority.MARKET, 5, 200)],
            budget=10,
            reserve_share=0.0,
        )
        assert [e.state for e in plan.entries] == [PlanState.NOT_SERVED] * 2
        assert plan.weight_per_min == 0
        assert (
            plan.summary() == "REST plan: 0/10 w/min (0 reserved); book not served; ctx not served"
        )

    def test_entry_lookup(self) -> None:
        f = feed("ctx", Priority.MARKET, 15, 20)
        plan = plan_rest([f])
        assert plan.entry(f.key) is plan.entries[0]
        assert plan.entry(PollKey.of("allMids")) is None
        assert plan.served() == [plan.entries[0]]


class TestSummary:
    def test_groups_by_label_and_marks_stretched_and_dropped(self) -> None:
        feeds = [feed("book", PROTECTED, 2, 2, label="book BTC")]
        feeds += [
            feed(f"d{i}", Priority.MARKET, 6, 20, label="ctx", max_interval=60) for i in range(4)
        ]
        plan = plan_rest(feeds, budget=120, reserve_share=0.0)  # 60 for the book, 3 ctx floors
        assert plan.summary() == (
            "REST plan: 120/120 w/min (0 reserved); book BTC every 2 s; "
            "ctx every 60 s (stretched, 1 of 4 not served)"
        )

    def test_range_of_intervals(self) -> None:
        feeds = [
            feed("a", Priority.MARKET, 5, 2, label="mids"),
            feed("b", Priority.MARKET, 60, 2, label="mids"),
        ]
        assert plan_rest(feeds).summary().endswith("mids every 5–60 s")

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (2, "2 s"),
            (2.5, "2.5 s"),
            (7.31, "7.3 s"),
            (83.4, "83 s"),
            (150, "2.5 min"),
            (300, "5 min"),
        ],
    )
    def test_format_interval(self, seconds: float, text: str) -> None:
        assert format_interval(seconds) == text


# --------------------------------------------------------------------------- properties

random_feeds = st.lists(
    st.builds(
        lambda i, p, c, w, stretch: feed(f"f{i}", p, c, w, max_interval=c * stretch),
        st.integers(0, 10_000),
        st.sampled_from(list(Priority)),
        st.floats(0.5, 120),
        st.integers(1, 120),
        st.floats(1, 50),
    ),
    max_size=40,
    unique_by=lambda f: f.key,
)


def per_minute(entry: PlannedFeed) -> Fraction:
    """One served entry's weight per minute, exactly."""
    assert entry.interval is not None
    return Fraction(entry.feed.weight) * 60 / Fraction(entry.interval)


def exact_total(plan: RestPlan) -> Fraction:
    """The plan's weight per minute in exact arithmetic (no float rounding to hide behind)."""
    return sum((per_minute(e) for e in plan.served()), Fraction(0))


def exact_floor(f: WantedFeed) -> Fraction:
    return Fraction(f.weight) * 60 / Fraction(f.max_interval)


@settings(max_examples=300, deadline=None)
@given(random_feeds, st.integers(1, 1200), st.floats(0, 0.9))
def test_any_plan_respects_budget_floors_and_priority(
    feeds: list[WantedFeed], budget: int, share: float
) -> None:
    plan = plan_rest(feeds, budget=budget, reserve_share=share)
    available = Fraction(budget) * (1 - Fraction(share))
    assert exact_total(plan) <= available
    assert plan.weight_per_min <= plan.available * (1 + 1e-12)
    assert len(plan.entries) == len(feeds)
    for e in plan.entries:
        if e.interval is None:
            assert e.state is PlanState.NOT_SERVED and e.weight_per_min == 0
        else:
            assert e.feed.cadence <= e.interval <= e.feed.max_interval
            assert (e.state is PlanState.OK) == (e.interval == e.feed.cadence)
    unprotected = [e for e in plan.served() if e.feed.priority is not PROTECTED]

    # One factor F for every class: each feed waits clamp(F * its class's stretch, 1, its cap)
    # cadences (intervals are rounded up to the millisecond, hence the tolerance).
    def stretch(e: PlannedFeed) -> float:
        assert e.interval is not None
        return e.interval / e.feed.cadence

    def cap(e: PlannedFeed) -> float:
        return e.feed.max_interval / e.feed.cadence

    between = [e for e in unprotected if 1 < stretch(e) < cap(e) * (1 - 1e-6)]
    if between:
        factor = stretch(between[0]) / float(CLASS_STRETCH[between[0].feed.priority])
        for e in unprotected:
            expected = min(max(1.0, factor * float(CLASS_STRETCH[e.feed.priority])), cap(e))
            assert stretch(e) == pytest.approx(expected, rel=2e-3, abs=5e-3)
    # Priority: a lower class never waits fewer cadences than a higher one, short of its cap.
    for e in unprotected:
        for lower in unprotected:
            if lower.feed.priority > e.feed.priority:
                assert stretch(lower) * (1 + 2e-3) + 5e-3 >= min(cap(lower), stretch(e))
    if any(e.state is PlanState.STRETCHED for e in plan.entries):
        # Work-conserving: a stretch means the budget is spent (intervals are rounded up to
        # the millisecond, which leaves a little).
        assert float(exact_total(plan)) == pytest.approx(float(available), rel=5e-3)
    # A feed is dropped only when its floor did not fit beside those ahead of it.
    protected = sum(
        (per_minute(e) for e in plan.served() if e.feed.priority is PROTECTED),
        Fraction(0),
    )
    ahead = Fraction(0)
    for e in plan.entries:
        if e.feed.priority is PROTECTED:
            continue
        if e.interval is None:
            assert protected + ahead + exact_floor(e.feed) > available
        else:
            ahead += exact_floor(e.feed)
