"""What the screen wants over REST, and the plan for it with many dexes and accounts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.feeds.rest_demand import (
    BOOK_CADENCE,
    AccountDemand,
    ScreenDemand,
    dex_of,
    wanted_feeds,
)
from hlmon.feeds.rest_plan import PlanState, PollKey, Priority, plan_rest
from tests.feeds.test_rest_plan import exact_total

HIP3_DEXES = ("xyz", "flx", "vntl", "hyna", "km", "abcd", "cash", "mkts", "io", "test")
ALL_DEXES = ("", *HIP3_DEXES)  # D = 11
DEFAULT_WATCHLIST = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE")


def by_kind(demand: ScreenDemand) -> dict[str, list[PollKey]]:
    out: dict[str, list[PollKey]] = {}
    for f in wanted_feeds(demand):
        out.setdefault(f.key.kind, []).append(f.key)
    return out


class TestWantedFeeds:
    def test_nothing_selected_still_serves_market_data_of_the_default_dex(self) -> None:
        kinds = by_kind(ScreenDemand())
        assert kinds == {
            "allMids": [PollKey.of("allMids", dex="")],
            "metaAndAssetCtxs": [PollKey.of("metaAndAssetCtxs", dex="")],
        }

    def test_selected_coin_and_account(self) -> None:
        account = AccountDemand("0xa", active_dexes=("xyz",))
        feeds = wanted_feeds(ScreenDemand(selected_coin="BTC", selected_account=account))
        classes = {(f.key.kind, f.key.param("dex")): f.priority for f in feeds}
        assert classes == {
            ("l2Book", None): Priority.SELECTED_COIN,
            ("clearinghouseState", ""): Priority.SELECTED_ACCOUNT,
            ("clearinghouseState", "xyz"): Priority.SELECTED_ACCOUNT,
            ("spotClearinghouseState", None): Priority.SELECTED_ACCOUNT,
            ("frontendOpenOrders", ""): Priority.SELECTED_ACCOUNT,
            ("frontendOpenOrders", "xyz"): Priority.SELECTED_ACCOUNT,
            ("allMids", ""): Priority.MARKET,
            ("metaAndAssetCtxs", ""): Priority.MARKET,
            ("recentTrades", None): Priority.MARKET,
            ("userFillsByTime", None): Priority.MARKET,
            ("userTwapSliceFillsByTime", None): Priority.MARKET,
            ("userFunding", None): Priority.MARKET,
            # The TWAP tab's source without twapStates (REST mode): cut before the rest.
            ("twapHistory", None): Priority.BACKGROUND,
        }
        book = next(f for f in feeds if f.key.kind == "l2Book")
        assert book.key.param("coin") == "BTC" and book.cadence == BOOK_CADENCE
        weights = {f.key.kind: f.weight for f in feeds}
        assert weights["recentTrades"] == weights["userFillsByTime"] == 21
        # TWAP slices are never in userFills: their own call, at the slices' 30 s pace.
        slices = next(f for f in feeds if f.key.kind == "userTwapSliceFillsByTime")
        assert slices.weight == 21 and slices.cadence == 30.0
        assert weights["frontendOpenOrders"] == 20 and weights["clearinghouseState"] == 2

    def test_selected_coins_dex_gets_its_market_data(self) -> None:
        kinds = by_kind(ScreenDemand(selected_coin="xyz:TSLA", market_dexes=("",)))
        assert [k.param("dex") for k in kinds["metaAndAssetCtxs"]] == ["", "xyz"]
        assert [k.param("dex") for k in kinds["allMids"]] == ["", "xyz"]
        assert dex_of("xyz:TSLA") == "xyz"
        assert dex_of("BTC") == dex_of("@107") == dex_of("PURR/USDC") == ""

    def test_default_dex_is_always_active_and_never_repeated(self) -> None:
        assert AccountDemand("0xa", ("xyz", "", "xyz")).dexes == ("", "xyz")
        assert AccountDemand("0xa", ()).dexes == ("",)

    def test_other_accounts_by_risk(self) -> None:
        selected = AccountDemand("0xsel")
        others = (
            AccountDemand("0xidle", ("xyz",)),
            AccountDemand("0xpos", has_positions=True),
            AccountDemand("0xliq", near_liquidation=True),
            AccountDemand("0xsel"),  # the selected one is not polled twice
        )
        feeds = wanted_feeds(ScreenDemand(selected_account=selected, other_accounts=others))
        users = [
            (f.key.param("user"), f.key.kind, f.priority)
            for f in feeds
            if f.priority in (Priority.AT_RISK, Priority.BACKGROUND)
        ]
        assert users == [
            ("0xliq", "clearinghouseState", Priority.AT_RISK),
            ("0xliq", "frontendOpenOrders", Priority.AT_RISK),
            ("0xpos", "clearinghouseState", Priority.AT_RISK),
            ("0xpos", "frontendOpenOrders", Priority.AT_RISK),
            ("0xsel", "twapHistory", Priority.BACKGROUND),
            ("0xidle", "clearinghouseState", Priority.BACKGROUND),
            ("0xidle", "clearinghouseState", Priority.BACKGROUND),
        ]
        near, positions = (f for f in feeds if f.priority is Priority.AT_RISK and f.weight == 2)
        assert near.cadence < positions.cadence
        assert len({f.key for f in feeds}) == len(feeds)

    def test_no_twap_history_once_the_websocket_sends_twap_states(self) -> None:
        """The history is read only to rebuild the TWAP tab without ``twapStates``."""
        demand = ScreenDemand(selected_account=AccountDemand("0xa"), twap_history=False)
        assert "twapHistory" not in by_kind(demand)

    def test_no_spot(self) -> None:
        demand = ScreenDemand(selected_account=AccountDemand("0xa"), spot=False)
        assert "spotClearinghouseState" not in by_kind(demand)


class TestDefaultRestMode:
    def test_default_watchlist_and_one_account_fit_with_every_feed_served(self) -> None:
        """Issue #15's closing note: REST mode, default watchlist, one account."""
        demand = ScreenDemand(
            selected_coin=DEFAULT_WATCHLIST[0],
            market_dexes=tuple(dex_of(c) for c in DEFAULT_WATCHLIST),
            selected_account=AccountDemand("0xa"),
        )
        plan = plan_rest(wanted_feeds(demand))
        assert all(e.state is not PlanState.NOT_SERVED for e in plan.entries)
        top = [e for e in plan.entries if e.feed.priority <= Priority.SELECTED_ACCOUNT]
        assert all(e.state is PlanState.OK for e in top)
        assert exact_total(plan) <= 480
        # Market data is what gives way, and no context is older than its websocket
        # threshold would allow for long: a poll at least every 30 s.
        ctx = next(e for e in plan.entries if e.key.kind == "metaAndAssetCtxs")
        assert ctx.interval is not None and ctx.interval < 30


# --------------------------------------------------------------------------- 10 dexes, 10 accounts


@st.composite
def crowded_screens(draw: st.DrawFn) -> ScreenDemand:
    """Random screens over 11 dexes and 10 accounts (any subset of dexes, any risk)."""
    dex_sets = st.lists(st.sampled_from(ALL_DEXES), min_size=1, max_size=11, unique=True)
    accounts = [
        AccountDemand(
            f"0x{i:040x}",
            tuple(draw(dex_sets)),
            has_positions=draw(st.booleans()),
            near_liquidation=draw(st.booleans()),
        )
        for i in range(10)
    ]
    coin_dex = draw(st.sampled_from(ALL_DEXES))
    coin = f"{coin_dex}:COIN" if coin_dex else "BTC"
    selected = draw(st.one_of(st.none(), st.sampled_from(accounts)))
    return ScreenDemand(
        selected_coin=coin,
        market_dexes=tuple(draw(dex_sets)),
        selected_account=selected,
        other_accounts=tuple(accounts),
        spot=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(crowded_screens(), st.data())
def test_ten_dexes_ten_accounts_stay_in_budget_and_keep_the_book(
    demand: ScreenDemand, data: st.DataObject
) -> None:
    feeds = wanted_feeds(demand)
    # Any subset of them too (feeds come and go as the screen changes).
    kept = data.draw(st.lists(st.booleans(), min_size=len(feeds), max_size=len(feeds)))
    book_key = PollKey.of("l2Book", coin=demand.selected_coin or "")
    subset = [f for f, keep in zip(feeds, kept, strict=True) if keep or f.key == book_key]
    for chosen in (feeds, subset):
        plan = plan_rest(chosen, budget=600, reserve_share=0.2)
        assert exact_total(plan) <= 480
        book = plan.entry(book_key)
        assert book is not None
        assert book.state is PlanState.OK and book.interval == BOOK_CADENCE


def test_everything_on_every_dex_degrades_and_says_so() -> None:
    """The worst case: 10 accounts with positions on all 11 dexes, every dex watched."""
    accounts = tuple(
        AccountDemand(f"0x{i}", ALL_DEXES, has_positions=True, near_liquidation=i % 2 == 0)
        for i in range(10)
    )
    demand = ScreenDemand(
        selected_coin="xyz:TSLA",
        market_dexes=ALL_DEXES,
        selected_account=accounts[0],
        other_accounts=accounts,
    )
    plan = plan_rest(wanted_feeds(demand))
    assert exact_total(plan) <= 480
    states = {e.state for e in plan.entries}
    assert PlanState.NOT_SERVED in states and plan.degraded
    assert plan.entries[0].state is PlanState.OK  # the book
    # The selected account is served on every dex, within its floors.
    mine = [e for e in plan.entries if e.feed.priority is Priority.SELECTED_ACCOUNT]
    assert all(e.interval is not None and e.interval <= 120 for e in mine)
    # What gives way is other accounts and market data, never the book or the selected account.
    dropped = [e for e in plan.entries if e.state is PlanState.NOT_SERVED]
    assert all(e.feed.priority >= Priority.AT_RISK for e in dropped)
    summary = plan.summary()
    assert summary.startswith("REST plan: 480/600 w/min (120 reserved); book xyz:TSLA every 2 s")
    assert "not served" in summary


def test_eleven_watched_dexes_keep_prices_within_their_floor() -> None:
    """Ten accounts on three dexes, four with positions, every dex watched: all is served,
    the selected account is stretched before the mids pass their 30 s floor."""
    accounts = tuple(
        AccountDemand(f"0x{i}", ALL_DEXES[:3], has_positions=i < 4, near_liquidation=i == 1)
        for i in range(10)
    )
    demand = ScreenDemand(
        selected_coin="BTC",
        market_dexes=ALL_DEXES,
        selected_account=accounts[0],
        other_accounts=accounts,
    )
    plan = plan_rest(wanted_feeds(demand))
    assert exact_total(plan) <= 480
    assert all(e.state is not PlanState.NOT_SERVED for e in plan.entries)
    mids = [e for e in plan.entries if e.key.kind == "allMids"]
    assert len(mids) == 11
    assert all(e.interval is not None and e.interval <= 30 for e in mids)
    account = [e for e in plan.entries if e.feed.priority is Priority.SELECTED_ACCOUNT]
    assert any(e.state is PlanState.STRETCHED for e in account)
