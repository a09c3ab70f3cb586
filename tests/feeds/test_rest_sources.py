"""What each planned poll serves on screen, its request, and how its answer lands in the store
(pure: no sockets; answers decoded by the real protocol decoder)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from hlmon.feeds.rest_plan import PollKey
from hlmon.feeds.rest_sources import (
    FILL_MARGIN_MS,
    FUNDINGS_LOOKBACK_MS,
    ScreenState,
    answer_messages,
    build_request,
    screen_demand,
    served_feeds,
)
from hlmon.protocol import info
from hlmon.protocol.messages import Fill as FillStruct
from hlmon.protocol.messages import (
    Funding,
    TwapSliceFill,
    TwapStatesMsg,
    UserFills,
    UserFillsMsg,
    UserFundings,
    UserFundingsMsg,
    UserTwapSliceFills,
    UserTwapSliceFillsMsg,
)
from hlmon.state import FeedState, Source, Store
from tests.hip3 import all_dexs, state
from tests.payloads import MISSING, payloads_present, responses
from tests.support import FakeClock

USER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
SCREEN = ScreenState(
    selected_coin="BTC",
    n_sig_figs=4,
    watchlist=("BTC", "ETH", "@107", "xyz:TSLA"),
    user=USER,
    others=(OTHER,),
)


def decoded(req: info.InfoRequest, body: Any) -> Any:
    return info.decode_response(req, json.dumps(body))


def trade(tid: int, t: int, px: str = "100.0") -> dict[str, Any]:
    return {"coin": "BTC", "side": "B", "px": px, "sz": "0.1", "time": t, "tid": tid,
            "hash": "0x0", "users": ["0xa", "0xb"]}  # fmt: skip


CTX = {"funding": "0.0000125", "openInterest": "100.0", "prevDayPx": "99.0",
       "dayNtlVlm": "1000.0", "oraclePx": "100.0", "markPx": "100.5", "premium": "0.0",
       "midPx": "100.4", "impactPxs": ["100.3", "100.6"], "dayBaseVlm": "10.0"}  # fmt: skip
META_AND_CTXS: list[Any] = [
    {"universe": [{"name": n, "szDecimals": 2, "maxLeverage": 10}
                  for n in ("BTC", "ETH", "SOL")]},
    [CTX, {**CTX, "markPx": "2000.0"}, {**CTX, "markPx": "150.0"}],
]  # fmt: skip


NOW_MS = 1_790_000_000_000
FILLS_POLL = PollKey.of("userFillsByTime", user=USER)


def _users_store() -> Store:
    """An empty store watching ``USER``."""
    store = Store(FakeClock())
    store.set_user(USER)
    return store


def _fill(time: int, tid: int, twap: int | None = None) -> FillStruct:
    """A fill of the selected user at ``time`` (a TWAP slice with ``twap``)."""
    return msgspec.convert(
        {"coin": "BTC", "px": "1", "sz": "1", "side": "B", "time": time, "oid": tid,
         "tid": tid, "startPosition": "0", "dir": "Open Long", "closedPnl": "0",
         "hash": "0x0", "crossed": True, "fee": "0", "twapId": twap},
        FillStruct,
    )  # fmt: skip


class TestServedFeeds:
    def test_market_polls(self) -> None:
        # SCREEN aggregates the selected coin's book: its top levels are buckets, not a bbo.
        assert served_feeds(PollKey.of("l2Book", coin="BTC"), SCREEN) == ("book:BTC",)
        full = replace(SCREEN, n_sig_figs=None)
        assert served_feeds(PollKey.of("l2Book", coin="BTC"), full) == ("book:BTC", "bbo:BTC")
        assert served_feeds(PollKey.of("l2Book", coin="ETH"), SCREEN) == ("book:ETH", "bbo:ETH")
        assert served_feeds(PollKey.of("recentTrades", coin="BTC"), SCREEN) == ("trades:BTC",)
        assert served_feeds(PollKey.of("allMids", dex=""), SCREEN) == ("mids",)
        # Contexts per dex: the watchlist's perps of that dex, never a spot pair.
        assert served_feeds(PollKey.of("metaAndAssetCtxs", dex=""), SCREEN) == (
            "ctx:BTC",
            "ctx:ETH",
        )
        assert served_feeds(PollKey.of("metaAndAssetCtxs", dex="xyz"), SCREEN) == ("ctx:xyz:TSLA",)

    def test_account_polls(self) -> None:
        def of(kind: str, user: str, **kw: str) -> tuple[str, ...]:
            return served_feeds(PollKey.of(kind, user=user, **kw), SCREEN)

        assert of("clearinghouseState", USER, dex="") == ("account",)
        # Each dex's state and orders have their own feed key (and age): a dex polled during
        # an outage is handed back to the websocket by its own push.
        assert of("clearinghouseState", USER, dex="xyz") == ("account:xyz",)
        assert of("frontendOpenOrders", USER, dex="") == ("orders",)
        assert of("frontendOpenOrders", USER, dex="flx") == ("orders:flx",)
        assert of("userFillsByTime", USER) == ("fills",)
        assert of("userTwapSliceFillsByTime", USER) == ("fills",)  # never in userFills
        assert of("userTwapSliceFillsByTime", OTHER) == ()
        assert of("userFunding", USER) == ("fundings",)
        # Every dex of another account feeds its row (summed per collateral token).
        assert of("clearinghouseState", OTHER, dex="") == ("account:" + OTHER,)
        assert of("clearinghouseState", OTHER, dex="xyz") == ("account:" + OTHER,)

    def test_polls_with_nothing_to_show_serve_nothing(self) -> None:
        """Hooks for later: another account's orders (only its row is kept). Another dex's
        mids land in that dex's own map; the selected account's spot balances are its ``spot``
        feed (#14)."""
        assert served_feeds(PollKey.of("frontendOpenOrders", user=OTHER, dex=""), SCREEN) == ()
        assert served_feeds(PollKey.of("allMids", dex="xyz"), SCREEN) == ("mids:xyz",)
        assert served_feeds(PollKey.of("spotClearinghouseState", user=USER), SCREEN) == ("spot",)
        assert served_feeds(PollKey.of("clearinghouseState", user="0x" + "ee" * 20), SCREEN) == ()


class TestDemand:
    def test_active_dexes_from_positions_orders_and_recent_fills(self) -> None:
        """A dex traded an hour ago is not polled for orders every few seconds; one traded a
        few minutes ago is (a position may have opened there)."""
        store = Store(FakeClock())
        store.set_user(USER)
        now_ms = 1_790_000_000_000
        fills = [
            msgspec.convert(
                {"coin": coin, "px": "1", "sz": "1", "side": "B", "time": now_ms - age_ms,
                 "oid": i, "tid": i, "startPosition": "0", "dir": "Open Long",
                 "closedPnl": "0", "hash": "0x0", "crossed": True, "fee": "0"},
                FillStruct,
            )
            for i, (coin, age_ms) in enumerate([("xyz:TSLA", 7_200_000), ("flx:GOLD", 600_000)])
        ]  # fmt: skip
        store.apply(UserFillsMsg(data=UserFills(user=USER, fills=fills)))
        demand = screen_demand(SCREEN, store, now_ms)
        assert demand.selected_account is not None
        assert demand.selected_account.dexes == ("", "flx")
        # A position held for hours names its dex through its hourly funding payments.
        funding = Funding(time=now_ms - 1_800_000, coin="hyna:BTC", usdc="-0.1", szi="1.0",
                          fundingRate="0.00001")  # fmt: skip
        store.apply(UserFundingsMsg(data=UserFundings(user=USER, fundings=[funding])))
        demand = screen_demand(SCREEN, store, now_ms)
        assert demand.selected_account is not None
        assert demand.selected_account.dexes == ("", "flx", "hyna")
        # The dexes where the account holds margin or a position are active however long
        # ago they traded (the store's per-dex states say so); another account's too.
        store.set_watched_users([USER, OTHER])
        store.apply(all_dexs(OTHER, [("", state()), ("km", state("5.0"))]))
        store.apply(all_dexs(USER, [("", state()), ("xyz", state("7.0"))]))
        demand = screen_demand(SCREEN, store, now_ms)
        assert demand.selected_account is not None
        assert demand.selected_account.dexes == ("", "flx", "hyna", "xyz")
        assert [a.dexes for a in demand.other_accounts] == [("", "km")]
        assert demand.market_dexes == ("", "xyz")  # the watchlist's (spot on the default dex)
        assert [a.address for a in demand.other_accounts] == [OTHER]
        assert demand.selected_coin == "BTC"

    def test_the_twap_history_is_wanted_until_twap_states_come(self) -> None:
        """Without ``twapStates`` (REST mode, or before the socket's first) the TWAP tab is
        rebuilt from the history; once the websocket has sent them nothing reads it."""
        store = Store(FakeClock())
        store.set_user(USER)
        assert screen_demand(SCREEN, store, 0).twap_history
        store.apply(msgspec.convert(
            {"channel": "twapStates", "data": {"user": USER, "dex": "", "states": []}},
            TwapStatesMsg,
        ))  # fmt: skip
        assert not screen_demand(SCREEN, store, 0).twap_history


class TestRequests:
    def test_book_keeps_the_selected_precision(self) -> None:
        store = Store(FakeClock())
        req = build_request(PollKey.of("l2Book", coin="BTC"), SCREEN, store, 0)
        assert req.body == {"type": "l2Book", "coin": "BTC", "nSigFigs": 4}
        req = build_request(PollKey.of("recentTrades", coin="ETH"), SCREEN, store, 0)
        assert req.body == {"type": "recentTrades", "coin": "ETH"} and req.weight == 20

    def test_per_dex_requests_name_their_dex(self) -> None:
        store = Store(FakeClock())
        key = PollKey.of("clearinghouseState", user=USER, dex="xyz")
        assert build_request(key, SCREEN, store, 0).body["dex"] == "xyz"
        key = PollKey.of("metaAndAssetCtxs", dex="")
        assert "dex" not in build_request(key, SCREEN, store, 0).body

    def test_fills_and_fundings_cursors(self) -> None:
        store, now_ms = _users_store(), NOW_MS
        fills, fundings = FILLS_POLL, PollKey.of("userFunding", user=USER)
        # Nothing held yet: the recent fills, and a day of fundings.
        assert build_request(fills, SCREEN, store, now_ms).type == "userFills"
        assert build_request(fundings, SCREEN, store, now_ms).body["startTime"] == (
            now_ms - FUNDINGS_LOOKBACK_MS
        )
        store.apply(UserFillsMsg(data=UserFills(user=USER, fills=[_fill(5_000_000, 2)])))
        req = build_request(fills, SCREEN, store, now_ms)
        assert req.type == "userFillsByTime"
        assert req.body["startTime"] == 5_000_000 - FILL_MARGIN_MS

    def test_twap_slices_have_their_own_cursor(self) -> None:
        """A slice polled before a plain fill must not move the fills' cursor past it (and
        the other way round): each call asks from the newest of its own kind."""
        store, now_ms = _users_store(), NOW_MS
        fills, slices = FILLS_POLL, PollKey.of("userTwapSliceFillsByTime", user=USER)
        assert build_request(slices, SCREEN, store, now_ms).type == "userTwapSliceFills"

        slice_at = 9_000_000
        twap = UserTwapSliceFills(user=USER, twapSliceFills=[
            TwapSliceFill(fill=_fill(slice_at, 7, 42), twapId=42)])  # fmt: skip
        store.apply(UserTwapSliceFillsMsg(data=twap))
        # Only a slice held: the fills still start from the recent list, not from the slice.
        assert build_request(fills, SCREEN, store, now_ms).type == "userFills"
        req = build_request(slices, SCREEN, store, now_ms)
        assert (req.type, req.body["startTime"]) == (
            "userTwapSliceFillsByTime",
            slice_at - FILL_MARGIN_MS,
        )
        store.apply(UserFillsMsg(data=UserFills(user=USER, fills=[_fill(5_000_000, 2)])))
        assert build_request(fills, SCREEN, store, now_ms).body["startTime"] == (
            5_000_000 - FILL_MARGIN_MS
        )
        assert build_request(slices, SCREEN, store, now_ms).body["startTime"] == (
            slice_at - FILL_MARGIN_MS
        )

    def test_unknown_kind_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no REST source"):
            build_request(PollKey.of("portfolio", user=USER), SCREEN, Store(FakeClock()), 0)


class TestAnswers:
    def test_bbo_is_the_top_of_the_book(self) -> None:
        store = Store(FakeClock())
        req = info.l2_book("BTC")
        book = decoded(
            req,
            {"coin": "BTC", "time": 7, "levels": [[{"px": "99", "sz": "1", "n": 1},
             {"px": "98", "sz": "2", "n": 1}], [{"px": "101", "sz": "3", "n": 2}]]},
        )  # fmt: skip
        for m in answer_messages(req, book, SCREEN, {"book:BTC", "bbo:BTC"}):
            store.apply(m, Source.REST)
        bbo = store.bbo("BTC")
        assert bbo is not None and bbo.time == 7
        bid, ask = bbo.bbo
        assert bid is not None and ask is not None and (bid.px, ask.px) == ("99", "101")
        assert store.feed_status("bbo:BTC").source is Source.REST
        # Only what is wanted: a live websocket bbo is not overwritten by the book's top.
        assert [type(m).__name__ for m in answer_messages(req, book, SCREEN, {"book:BTC"})] == [
            "L2BookMsg"
        ]

    def test_an_aggregated_book_gives_no_bbo(self) -> None:
        """Buckets of 100 around a 1-wide spread: their edges are not the best bid and ask,
        so the answer lands as the book alone, whatever is wanted."""
        store = Store(FakeClock())
        req = build_request(PollKey.of("l2Book", coin="BTC"), SCREEN, store, 0)
        assert req.body["nSigFigs"] == 4
        book = decoded(
            req,
            {"coin": "BTC", "time": 7, "levels": [[{"px": "104100", "sz": "3", "n": 9}],
             [{"px": "104200", "sz": "4", "n": 8}]]},
        )  # fmt: skip
        msgs = answer_messages(req, book, SCREEN, {"book:BTC", "bbo:BTC"})
        assert [type(m).__name__ for m in msgs] == ["L2BookMsg"]
        for m in msgs:
            store.apply(m, Source.REST)
        assert store.bbo("BTC") is None and store.book("BTC") is not None

    def test_contexts_split_per_watchlist_coin(self) -> None:
        """One metaAndAssetCtxs answer: a context per wanted coin, joined by position."""
        store = Store(FakeClock())
        req = info.meta_and_asset_ctxs()
        answer = decoded(req, META_AND_CTXS)
        for m in answer_messages(req, answer, SCREEN, {"ctx:BTC", "ctx:ETH"}):
            store.apply(m, Source.REST)
        btc, eth = store.ctx("BTC"), store.ctx("ETH")
        assert btc is not None and btc.markPx == "100.5" and btc.openInterest == "100.0"
        assert eth is not None and eth.markPx == "2000.0"
        assert store.ctx("SOL") is None  # not on the watchlist: no stamp, no data
        assert store.feed_status("ctx:ETH").state is FeedState.FALLBACK

    def test_trades_merged_by_tid_never_doubled_in_time_order(self) -> None:
        store = Store(FakeClock())
        req = info.recent_trades("BTC")
        first = decoded(req, [trade(3, 300), trade(2, 200), trade(1, 100)])  # newest first
        second = decoded(req, [trade(4, 400), trade(3, 300), trade(2, 200)])
        for answer in (first, second, second):
            for m in answer_messages(req, answer, SCREEN, {"trades:BTC"}):
                store.apply(m, Source.REST)
        assert [t.tid for t in store.trades("BTC")] == [1, 2, 3, 4]
        assert store.feed_status("trades:BTC").source is Source.REST

    def test_fundings_become_a_merged_user_fundings_push(self) -> None:
        store = Store(FakeClock())
        store.set_user(USER)
        req = info.user_funding(USER, 0)
        delta = {"type": "funding", "coin": "BTC", "usdc": "-0.5", "szi": "1.0",
                 "fundingRate": "0.0000125", "nSamples": None}  # fmt: skip
        item = {"time": 3_600_000, "hash": "0x0", "delta": delta}
        for _ in range(2):
            for m in answer_messages(req, decoded(req, [item]), SCREEN, {"fundings"}):
                store.apply(m, Source.REST)
        (funding,) = store.fundings()
        assert (funding.coin, funding.usdc, funding.time) == ("BTC", "-0.5", 3_600_000)
        assert store.feed_status("fundings").source is Source.REST

    def test_an_empty_fundings_answer_is_data_not_waiting(self) -> None:
        """No funding in the window is an answer: the feed is loaded (and empty)."""
        store = Store(FakeClock())
        store.set_user(USER)
        req = info.user_funding(USER, 0)
        for m in answer_messages(req, decoded(req, []), SCREEN, {"fundings"}):
            store.apply(m, Source.REST)
        assert store.feed_status("fundings").state is FeedState.FALLBACK

    @pytest.mark.skipif(not payloads_present(), reason=MISSING)
    def test_recorded_user_funding_answers_convert(self) -> None:
        for body in responses("rest_userFunding.json"):
            req = info.user_funding(USER, 0)
            (m,) = answer_messages(req, decoded(req, body), SCREEN, {"fundings"})
            assert len(m.data.fundings) == len(body)  # type: ignore[union-attr]
            assert [f.coin for f in m.data.fundings] == [i["delta"]["coin"] for i in body]  # type: ignore[union-attr]
