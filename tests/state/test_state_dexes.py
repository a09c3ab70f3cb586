"""Account state per dex: ``allDexsClearinghouseState`` and per-dex ``clearinghouseState``
frames land by dex NAME, a missing dex is unknown (never "no positions"), an older state never
replaces a newer one of the same dex, each dex is summed in its own collateral token, and the
active dexes and order-list readiness follow the account's activity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hlmon.protocol.decode import decode
from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, Source, Store
from hlmon.state.dexes import token_totals
from tests import hip3
from tests.hip3 import FLX, HYNA, MAIN, T_MS, XYZ, position, state, use_catalog
from tests.support import FakeClock, msg

from .conftest import OTHER, USER, fill, order


def all_dexs(entries: list[tuple[str, dict[str, Any]]], user: str = USER) -> Message:
    return hip3.all_dexs(user, entries)


def per_dex(dex: str, st: dict[str, Any], user: str = USER) -> Message:
    return hip3.per_dex(user, dex, st)


def orders_frame(dex: str, orders: list[dict[str, Any]]) -> Message:
    return hip3.open_orders(USER, dex, orders)


class TestMergePerDex:
    def test_all_dexs_lands_every_dex_by_name(self, store: Store) -> None:
        use_catalog(store)
        store.apply(all_dexs([("", MAIN), ("xyz", XYZ), ("flx", FLX), ("hyna", HYNA)]))
        assert store.take_changes() >= {"account"}
        views = store.positions()
        assert [(p.coin, p.dex, p.collateral) for p in views] == [
            ("BTC", "", "USDC"),
            ("flx:CRCL", "flx", "USDH"),
            ("xyz:NVDA", "xyz", "USDC"),
        ]
        summaries = store.dex_summaries()
        assert [(s.dex, s.account_value, s.collateral, s.active) for s in summaries] == [
            ("", "18204.77", "USDC", True),
            ("flx", "6500.0", "USDH", True),
            ("hyna", "0.0", "USDE", False),
            ("xyz", "2110.40", "USDC", True),
        ]
        # The default dex's summary keeps its meaning.
        main = store.account_summary()
        assert main is not None and main.account_value == "18204.77"
        for key in ("account", "account:xyz", "account:flx", "account:hyna"):
            assert store.feed_status(key).state is FeedState.LIVE

    def test_a_missing_default_entry_is_unknown_not_empty(
        self, store: Store, clock: FakeClock
    ) -> None:
        """A push without the ``""`` entry leaves the default dex's last state alone (and its
        age growing): it never reads as "no positions"."""
        store.apply(all_dexs([("", MAIN), ("xyz", XYZ)]))
        clock.advance(5)
        later = state("2000.0", positions=[position("xyz:NVDA", "-30", "188.2")],
                      time=T_MS + 5000)  # fmt: skip
        store.apply(all_dexs([("xyz", later)]))
        assert [p.coin for p in store.positions()] == ["BTC", "xyz:NVDA"]
        main = store.account_summary()
        assert main is not None and main.account_value == "18204.77"
        assert store.feed_status("account").age_s == 5.0
        assert store.feed_status("account:xyz").age_s == 0.0
        assert [s.account_value for s in store.dex_summaries()] == ["18204.77", "2000.0"]

    def test_never_a_default_entry_means_waiting(self, store: Store) -> None:
        store.apply(all_dexs([("xyz", XYZ)]))
        assert store.account_summary() is None  # the default dex: not loaded, not zero
        assert store.feed_status("account").state is FeedState.MISSING
        assert [p.coin for p in store.positions()] == ["xyz:NVDA"]
        assert not store.orders_ready()

    def test_an_older_state_never_replaces_a_newer_one_per_dex(self, store: Store) -> None:
        """A slow REST answer for one dex is dropped if older than the push held for that
        dex; a newer one for another dex still lands."""
        newer = state("2500.0", time=T_MS + 10_000, positions=[position("xyz:NVDA", "-1", "1")])
        store.apply(all_dexs([("", MAIN), ("xyz", newer)]))
        store.take_changes()
        store.apply(per_dex("xyz", state("1.0", time=T_MS + 5_000)), Source.REST)
        assert store.take_changes() == set()
        assert [s.account_value for s in store.dex_summaries()] == ["18204.77", "2500.0"]
        assert store.feed_status("account:xyz").source is Source.WS
        store.apply(per_dex("", state("19000.0", time=T_MS + 20_000)), Source.REST)
        assert store.take_changes() == {"account", "accounts"}
        assert [s.account_value for s in store.dex_summaries()] == ["19000.0", "2500.0"]
        assert store.feed_status("account").source is Source.REST

    def test_per_dex_frames_and_all_dexs_frames_merge(self, store: Store) -> None:
        store.apply(per_dex("", MAIN))
        store.apply(per_dex("flx", FLX))
        store.apply(all_dexs([("xyz", XYZ)]))
        assert [p.coin for p in store.positions()] == ["BTC", "flx:CRCL", "xyz:NVDA"]

    def test_unreadable_entries_are_counted_and_the_rest_kept(self, store: Store) -> None:
        frame = json.dumps(
            {
                "channel": "allDexsClearinghouseState",
                "data": {"user": USER, "clearinghouseStates": [
                    ["", MAIN], ["xyz", {"marginSummary": "garbage"}], ["flx", FLX]]},
            }
        )  # fmt: skip
        store.apply(decode(frame))
        assert [s.dex for s in store.dex_summaries()] == ["", "flx"]
        assert store.health.frames_rejected == 1

    def test_other_users_frames_are_ignored(self, store: Store) -> None:
        store.apply(all_dexs([("", MAIN)], user=OTHER))
        assert store.dex_summaries() == ()
        assert store.ignored_user_msgs == 1


class TestCollateral:
    def test_tokens_are_never_added_together(self, store: Store) -> None:
        use_catalog(store)
        store.apply(all_dexs([("", MAIN), ("xyz", XYZ), ("flx", FLX), ("hyna", HYNA)]))
        totals = store.token_totals()
        assert [(t.token, t.account_value, t.dexes) for t in totals] == [
            ("USDC", "20315.17", ("", "xyz")),
            ("USDH", "6500", ("flx",)),
        ]
        # The worst dex's maintenance ratio, not a blend: xyz is at 14.22 %.
        assert totals[0].margin_ratio_pct == "14.22"

    def test_without_a_catalog_only_the_default_dex_token_is_known(self, store: Store) -> None:
        store.apply(all_dexs([("", MAIN), ("xyz", XYZ), ("flx", FLX)]))
        assert [(p.dex, p.collateral) for p in store.positions()] == [
            ("", "USDC"), ("flx", None), ("xyz", None)]  # fmt: skip
        totals = store.token_totals()
        assert [(t.token, t.account_value) for t in totals] == [("USDC", "18204.77"),
                                                                (None, "8610.4")]  # fmt: skip
        # Each unknown dex stays its own line on screen; this sum is marked "?" there.
        use_catalog(store)
        assert store.take_changes() >= {"account", "accounts"}
        assert [t.token for t in store.token_totals()] == ["USDC", "USDH"]

    def test_token_totals_order(self) -> None:
        assert token_totals(()) == ()


class TestActiveDexes:
    def test_default_dex_always_and_dexes_with_margin_or_positions(self, store: Store) -> None:
        assert store.active_dexes() == ("",)
        store.apply(all_dexs([("", state()), ("xyz", XYZ), ("flx", FLX), ("hyna", HYNA)]))
        assert store.active_dexes() == ("", "flx", "xyz")
        assert store.account_feeds() == ["account", "account:flx", "account:xyz"]
        assert store.order_feeds() == ["orders", "orders:flx", "orders:xyz"]

    def test_active_dexes_are_the_active_summaries_without_judging_a_mark(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store.apply(all_dexs([("", state()), ("xyz", XYZ), ("flx", FLX), ("hyna", HYNA)]))
        summaries = {s.dex for s in store.dex_summaries() if s.active}
        assert summaries == {"flx", "xyz"}

        def judged(*_: object) -> bool:
            raise AssertionError("active_dexes judged a mark's freshness")

        # The REST poller reads them 4 times a second: the states tell, the marks do not.
        monkeypatch.setattr(store, "_is_fresh", judged)
        assert store.active_dexes() == ("", *sorted(summaries))

    def test_recent_fills_and_order_updates_make_a_dex_active(
        self, store: Store, clock: FakeClock
    ) -> None:
        day_ms = 24 * 3600 * 1000
        store.apply(msg("userFills", {"user": USER, "isSnapshot": True, "fills": [
            fill(1, 1, T_MS - 1000, coin="km:US500"),
            fill(2, 2, T_MS - 2 * day_ms, coin="hyna:BTC"),  # too old to count
            fill(3, 3, T_MS - 1000, coin="@107"),  # spot: the default dex
        ]}))  # fmt: skip
        assert store.active_dexes() == ("", "km")
        upd = {"order": {"coin": "flx:TSLA", "side": "B", "limitPx": "1.0", "sz": "0",
                         "oid": 9, "timestamp": T_MS, "origSz": "1.0"},
               "status": "canceled", "statusTimestamp": T_MS}  # fmt: skip
        store.apply(msg("subscriptionResponse", {"method": "subscribe",
                                                 "subscription": {"type": "orderUpdates",
                                                                  "user": USER}}))  # fmt: skip
        store.apply(msg("orderUpdates", [upd]))
        assert store.active_dexes() == ("", "flx", "km")
        clock.advance(2 * 24 * 3600)
        assert store.active_dexes() == ("",)

    def test_open_orders_make_their_dex_active(self, store: Store) -> None:
        store.apply(orders_frame("xyz", [order(5, T_MS, coin="xyz:TSLA")]))
        assert store.active_dexes() == ("", "xyz")

    def test_orders_ready_needs_state_and_orders_of_every_active_dex(self, store: Store) -> None:
        assert not store.orders_ready()
        store.apply(orders_frame("", []))
        assert not store.orders_ready()  # the default dex's state has not arrived
        store.apply(all_dexs([("", MAIN), ("xyz", XYZ), ("hyna", HYNA)]))
        assert not store.orders_ready()  # xyz is active (a position): its orders are due
        store.apply(orders_frame("xyz", [order(5, T_MS, coin="xyz:TSLA")]))
        assert store.orders_ready()
        assert [o.coin for o in store.open_orders()] == ["xyz:TSLA"]

    def test_another_watched_accounts_active_dexes(self, clock: FakeClock) -> None:
        s = Store(clock)
        s.set_watched_users([USER, OTHER])
        s.set_user(USER)
        s.apply(all_dexs([("", MAIN), ("flx", FLX), ("hyna", HYNA)], user=OTHER))
        assert s.active_dexes(OTHER) == ("", "flx")
        assert s.active_dexes() == ("",)


class TestAccountsTab:
    @pytest.fixture
    def two(self, clock: FakeClock) -> Store:
        s = Store(clock)
        s.set_watched_users([USER, OTHER])
        s.set_user(USER)
        use_catalog(s)
        s.health.set_connection(ConnState.LIVE, url="wss://example/ws")
        return s

    def test_rows_and_totals_per_collateral_token(self, two: Store) -> None:
        two.apply(all_dexs([("", MAIN), ("xyz", XYZ), ("hyna", HYNA)]))
        two.apply(all_dexs([("", state("1000.0")), ("flx", FLX), ("hyna", HYNA)], user=OTHER))
        mine, other = two.accounts()
        assert [(t.token, t.account_value) for t in mine.tokens] == [("USDC", "20315.17")]
        assert [(t.token, t.account_value) for t in other.tokens] == [
            ("USDC", "1000"), ("USDH", "6500")]  # fmt: skip
        assert (mine.account_value, other.account_value) == ("18204.77", "1000.0")
        assert (mine.positions, other.positions) == (2, 1)
        total = two.accounts_total()
        assert [(t.token, t.account_value, t.positions) for t in total.by_token] == [
            ("USDC", "21315.17", 2), ("USDH", "6500", 1)]  # fmt: skip
        assert total.account_value == "19204.77"  # the default dexes, as before HIP-3

    def test_a_row_is_as_old_as_its_oldest_active_dex(self, two: Store, clock: FakeClock) -> None:
        two.apply(per_dex("", state("1000.0"), user=OTHER))
        two.apply(per_dex("flx", FLX, user=OTHER))
        clock.advance(3)
        two.apply(per_dex("flx", FLX, user=OTHER))
        two.apply(per_dex("hyna", HYNA, user=OTHER))  # empty: not what the row shows
        row = two.accounts()[1]
        assert row.age_s == 3.0

    def test_switching_user_shows_every_dex_at_once(self, two: Store) -> None:
        two.apply(all_dexs([("", state("1000.0")), ("flx", FLX)], user=OTHER), Source.REST)
        two.set_user(OTHER)
        assert [p.coin for p in two.positions()] == ["flx:CRCL"]
        assert [(s.dex, s.collateral) for s in two.dex_summaries()] == [
            ("", "USDC"), ("flx", "USDH")]  # fmt: skip
        assert two.feed_status("account:flx").source is Source.REST
