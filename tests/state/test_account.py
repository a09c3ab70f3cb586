"""Account data: fills dedupe, orders lifecycle, fundings, ledger, user filtering."""

from __future__ import annotations

from typing import Any

import msgspec

from hlmon.protocol.messages import Fill, Message
from hlmon.state import ConnState, Source, Store

from .conftest import (
    OTHER,
    USER,
    FakeClock,
    clearinghouse,
    fill,
    funding,
    msg,
    order,
    order_update,
    position,
    summary,
)


def fills_msg(*fills: dict[str, Any], user: str = USER, snapshot: bool = False) -> Message:
    data: dict[str, Any] = {"user": user, "fills": list(fills)}
    if snapshot:
        data["isSnapshot"] = True
    return msg("userFills", data)


def rest_fills(*fills: dict[str, Any]) -> list[Fill]:
    return msgspec.json.decode(msgspec.json.encode(list(fills)), type=list[Fill])


class TestFills:
    def test_dedupe_across_snapshot_events_and_rest(self, store: Store) -> None:
        """The same fill via the userFills snapshot, a user event and REST is kept once."""
        store.apply(fills_msg(fill(1, 10, 1000), fill(2, 10, 1001), snapshot=True))
        store.apply(msg("user", {"fills": [fill(2, 10, 1001), fill(3, 11, 1002)]}))
        store.apply(fills_msg(fill(3, 11, 1002), fill(4, 12, 1003)))
        new = store.apply_fills(rest_fills(fill(1, 10, 1000), fill(5, 12, 1004)), Source.REST)
        assert new == 1
        assert [f.tid for f in store.fills()] == [5, 4, 3, 2, 1]  # newest first
        assert store.newest_fill_time() == 1004
        assert store.source_of("fills") is Source.REST

    def test_snapshot_after_reconnect_counts_nothing_new(self, store: Store) -> None:
        store.apply(fills_msg(fill(1, 10, 1000), fill(2, 10, 1001), snapshot=True))
        store.take_changes()
        store.apply(fills_msg(fill(1, 10, 1000), fill(2, 10, 1001), snapshot=True))
        assert store.take_changes() == set()
        assert len(store.fills()) == 2

    def test_rest_with_nothing_new_leaves_the_live_sockets_stamp(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The start-up REST load lands after the websocket's snapshot: the feed still says
        ws. With the socket down, a REST answer is the feed and is stamped, new rows or not."""
        store.health.note_alive()
        store.apply(fills_msg(fill(1, 10, 1000), snapshot=True))
        store.apply(msg("userFundings", {"user": USER, "isSnapshot": True,
                                         "fundings": [funding(1000)]}))  # fmt: skip
        ws_fills, ws_fundings = store.stamp("fills"), store.stamp("fundings")
        clock.advance(1.0)
        store.health.note_alive()
        assert store.apply_fills(rest_fills(fill(1, 10, 1000)), Source.REST) == 0
        store.apply(msg("userFundings", {"user": USER, "fundings": [funding(1000)]}), Source.REST)
        assert store.stamp("fills") is ws_fills and store.stamp("fundings") is ws_fundings
        # A fill only REST had: the screen's newest fill came over REST, and says so.
        assert store.apply_fills(rest_fills(fill(2, 10, 1001)), Source.REST) == 1
        assert store.source_of("fills") is Source.REST
        # Socket down: the REST answer is what keeps the feed, stamped even with nothing new.
        store.apply(fills_msg(fill(3, 11, 1002)))
        assert store.source_of("fills") is Source.WS
        store.health.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=1.0)
        clock.advance(1.0)
        assert store.apply_fills(rest_fills(fill(3, 11, 1002)), Source.REST) == 0
        assert store.source_of("fills") is Source.REST
        stamp = store.stamp("fills")
        assert stamp is not None and stamp.received_at == clock()

    def test_same_tid_other_oid_is_distinct(self, store: Store) -> None:
        """Dust conversions share tid 0; (tid, oid) keeps them apart."""
        assert store.apply_fills(rest_fills(fill(0, 1, 5), fill(0, 2, 5)), Source.REST) == 2

    def test_fills_without_tid_are_not_collapsed(self, store: Store) -> None:
        """L4: older history has no tid (0); partial fills of one order are distinct rows,
        and the same row seen twice is still kept once."""
        parts = [fill(0, 7, 1000 + i, px=f"100.{i}") for i in range(3)]
        assert store.apply_fills(rest_fills(*parts), Source.REST) == 3
        assert store.apply_fills(rest_fills(*parts), Source.REST) == 0
        assert len(store.fills()) == 3

    def test_older_fills_arriving_late_are_ordered(self, store: Store) -> None:
        store.apply(fills_msg(fill(9, 1, 9000)))
        store.apply_fills(rest_fills(fill(8, 1, 8000), fill(7, 1, 7000)), Source.REST)
        assert [f.time for f in store.fills()] == [9000, 8000, 7000]

    def test_ring_bounded_evicts_oldest_by_time(self, clock: FakeClock) -> None:
        s = Store(clock, fills_cap=3)
        s.set_user(USER)
        assert (
            s.apply_fills(rest_fills(*[fill(i, i, 1000 + i) for i in range(5)]), Source.REST) == 3
        )
        assert [f.tid for f in s.fills()] == [4, 3, 2]
        # an old fill no longer kept is not "new" again (reconciliation must not count it)
        assert s.apply_fills(rest_fills(fill(0, 0, 1000)), Source.REST) == 0
        assert s.apply_fills(rest_fills(fill(9, 9, 2000)), Source.REST) == 1
        assert [f.tid for f in s.fills()] == [9, 4, 3]
        assert s.newest_fill_time() == 2000

    def test_twaps_rebuilt_from_a_full_ring_are_at_least_what_it_holds(
        self, clock: FakeClock
    ) -> None:
        """REST mode (no twapStates): a TWAP older than the oldest fill of a full ring may
        have slices the ring dropped; one whose slices are all held is exact."""
        s = Store(clock, fills_cap=3)
        s.set_user(USER)
        assert s.twaps() == [] and not s.twaps_loaded()
        state = {"coin": "BTC", "side": "B", "sz": "1.0", "executedSz": "0.0",
                 "executedNtl": "0.0", "minutes": 30, "timestamp": 1500}  # fmt: skip
        history = [{"time": 1, "state": state, "status": {"status": "activated"}, "twapId": 7}]
        s.apply(msg("userTwapHistory", {"user": USER, "history": history}), Source.REST)
        slices = [{**fill(i, 50 + i, 2000 + i), "twapId": 7} for i in range(2)]
        s.apply_fills(rest_fills(*slices), Source.REST)
        (twap,) = s.twaps()
        assert s.twaps_loaded() and (twap.executed, twap.derived, twap.partial) == (
            "0.2", True, False,
        )  # fmt: skip
        s.apply_fills(rest_fills(fill(5, 60, 3000), fill(6, 61, 3001)), Source.REST)
        (twap,) = s.twaps()  # the ring kept the newest 3: one slice left, older ones maybe not
        assert (twap.executed, twap.partial) == ("0.1", True)

    def test_empty_snapshot_still_stamps(self, store: Store) -> None:
        store.apply(fills_msg(snapshot=True))
        assert store.fills() == []
        assert store.newest_fill_time() is None
        assert store.feed_status("fills").state == "live"
        assert store.take_changes() == set()


class TestOrders:
    def test_lifecycle(self, store: Store) -> None:
        """Snapshot, new order, partial fill, cancel, fill; newest first throughout."""
        store.apply(msg("openOrders", {"user": USER, "orders": [order(1, 100), order(2, 200)]}))
        assert [o.oid for o in store.open_orders()] == [2, 1]
        assert store.take_changes() == {"orders"}

        store.apply(msg("orderUpdates", [order_update(3, "open", ts=300)]))
        assert [o.oid for o in store.open_orders()] == [3, 2, 1]

        store.apply(msg("orderUpdates", [order_update(1, "open", ts=100, sz="0.4")]))
        o1 = next(o for o in store.open_orders() if o.oid == 1)
        assert o1.sz == "0.4" and o1.limitPx == "101.0"
        assert o1.orderType == "Limit" and o1.tif == "Gtc"  # frontend fields kept

        store.apply(msg("orderUpdates", [order_update(2, "canceled"), order_update(3, "filled")]))
        assert [o.oid for o in store.open_orders()] == [1]
        assert store.take_changes() == {"orders"}

    def test_a_repushed_list_changes_nothing_but_its_stamp(
        self, store: Store, clock: FakeClock
    ) -> None:
        """The exchange re-pushes ``openOrders`` every few seconds, mostly the same: no
        "orders" change then (the table and the positions' TP/SL are not rebuilt), while the
        feed's stamp moves. The first list, even an empty one, and any difference do change."""
        push = {"user": USER, "orders": [order(1, 100), order(2, 200)]}
        store.apply(msg("openOrders", {"user": USER, "orders": []}))
        assert store.take_changes() == {"orders"}  # loaded: "no orders" is now the truth
        store.apply(msg("openOrders", push))
        assert store.take_changes() == {"orders"}
        shown = store.open_orders()
        clock.advance(2.0)
        store.apply(msg("openOrders", push))
        assert store.take_changes() == set()
        assert store.open_orders() == shown
        # The held orders are the ones already shown, not equal copies (rows built from them,
        # keyed on the objects, stay).
        assert all(store._account.orders[o.oid] is o for o in shown)
        stamp = store.stamp("orders")
        assert stamp is not None and stamp.received_at == clock()
        store.apply(msg("openOrders", {**push, "orders": [order(1, 100), order(2, 200, sz="0.5")]}))
        assert store.take_changes() == {"orders"}
        assert next(o.sz for o in store.open_orders() if o.oid == 2) == "0.5"
        # An order ended by an update, then listed by a push older than it: left out once.
        store.apply(msg("orderUpdates", [order_update(1, "canceled")]))
        store.take_changes()
        store.apply(msg("openOrders", {**push, "orders": [order(1, 100), order(2, 200, sz="0.5")]}))
        assert [o.oid for o in store.open_orders()] == [2]
        # The next push lists it again: now it is the truth again, and a change.
        store.apply(msg("openOrders", {**push, "orders": [order(1, 100), order(2, 200, sz="0.5")]}))
        assert store.take_changes() == {"orders"} and len(store.open_orders()) == 2

    def test_filled_and_every_cancel_or_reject_is_terminal(self, store: Store) -> None:
        statuses = ["filled", "canceled", "rejected", "marginCanceled", "scheduledCancel",
                    "reduceOnlyCanceled", "somethingNewRejected"]  # fmt: skip
        store.apply(msg("openOrders", {"user": USER, "orders": [order(i, i) for i in range(7)]}))
        store.apply(msg("orderUpdates", [order_update(i, s) for i, s in enumerate(statuses)]))
        assert store.open_orders() == []

    def test_a_triggered_order_stays_listed_marked_and_survives_the_next_snapshot(
        self, store: Store
    ) -> None:
        """The reproduction of #14: a Stop Limit triggers, then the next openOrders push."""
        store.apply(msg("openOrders", {"user": USER, "orders": [order(9, 1)]}))
        store.apply(msg("orderUpdates", [order_update(9, "triggered")]))
        assert [o.oid for o in store.open_orders()] == [9]
        assert store.order_flag(9) == "triggered"
        store.apply(msg("openOrders", {"user": USER, "orders": [order(9, 1)]}))
        assert [o.oid for o in store.open_orders()] == [9]
        assert store.order_flag(9) == "triggered"
        store.apply(msg("orderUpdates", [order_update(9, "filled")]))
        assert store.open_orders() == [] and store.order_flag(9) is None

    def test_an_unknown_status_keeps_the_order_flagged_and_is_logged_once(
        self, store: Store
    ) -> None:
        store.apply(msg("openOrders", {"user": USER, "orders": [order(1, 1), order(2, 2)]}))
        store.apply(msg("orderUpdates", [order_update(1, "waitingForFunds")]))
        store.apply(msg("orderUpdates", [order_update(2, "waitingForFunds")]))
        assert [o.oid for o in store.open_orders()] == [2, 1]
        assert store.order_flag(1) == "waitingForFunds"
        logged = [e.text for e in store.health.events if "unknown status" in e.text]
        assert logged == [
            "order 1 (BTC): unknown status waiting for funds; kept until the next orders snapshot"
        ]
        # The snapshot is the truth: order 1 is gone, order 2 still open and no longer flagged.
        store.apply(msg("openOrders", {"user": USER, "orders": [order(2, 2)]}))
        assert [o.oid for o in store.open_orders()] == [2]
        assert store.order_flag(2) is None

    def test_no_closed_marker_hides_an_order_from_a_later_snapshot(self, store: Store) -> None:
        """Only the first snapshot after a cancel (maybe built before it) is overruled."""
        store.apply(msg("orderUpdates", [order_update(7, "canceled")]))
        store.apply(msg("openOrders", {"user": USER, "orders": [order(7, 1)]}))
        assert store.open_orders() == []
        store.apply(msg("openOrders", {"user": USER, "orders": [order(7, 1)]}))
        assert [o.oid for o in store.open_orders()] == [7]

    def test_open_then_filled_in_one_frame(self, store: Store) -> None:
        store.apply(msg("orderUpdates", [order_update(5, "open"), order_update(5, "filled")]))
        assert store.open_orders() == []

    def test_late_snapshot_cannot_resurrect_a_closed_order(self, store: Store) -> None:
        """openOrders pushes every ~4 s; one built before the cancel must not bring it back."""
        store.apply(msg("orderUpdates", [order_update(7, "canceled")]))
        store.apply(msg("openOrders", {"user": USER, "orders": [order(7, 1), order(8, 2)]}))
        assert [o.oid for o in store.open_orders()] == [8]
        store.apply(msg("orderUpdates", [order_update(7, "open")]))
        assert [o.oid for o in store.open_orders()] == [8]

    def test_non_user_cancel(self, store: Store) -> None:
        store.apply(msg("openOrders", {"user": USER, "orders": [order(1, 1), order(2, 2)]}))
        store.take_changes()
        store.apply(msg("user", {"nonUserCancel": [{"coin": "BTC", "oid": 1}]}))
        assert [o.oid for o in store.open_orders()] == [2]
        assert store.take_changes() == {"orders", "log"}

    def test_snapshot_replaces_only_its_dex(self, store: Store) -> None:
        store.apply(msg("openOrders", {"user": USER, "orders": [order(1, 1)]}))
        store.apply(
            msg("openOrders", {"user": USER, "dex": "xyz", "orders": [order(2, 2, "xyz:AAPL")]})
        )
        store.apply(msg("openOrders", {"user": USER, "orders": [order(3, 3)]}))
        assert [o.oid for o in store.open_orders()] == [3, 2]

    def test_order_updates_do_not_refresh_the_orders_feed(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Only the periodic openOrders push proves that feed alive."""
        store.apply(msg("openOrders", {"user": USER, "orders": []}))
        clock.advance(30)
        store.apply(msg("orderUpdates", [order_update(1, "open")]))
        assert store.feed_status("orders").state == "stale"


class TestFundingsAndLedger:
    def test_fundings_dedupe_and_order(self, store: Store) -> None:
        snap = {"user": USER, "isSnapshot": True, "fundings": [funding(1000), funding(2000)]}
        store.apply(msg("userFundings", snap))
        store.apply(msg("user", {"funding": funding(3000)}))
        store.apply(msg("userFundings", snap))  # resent after a reconnect
        store.apply(msg("userFundings", {"user": USER, "fundings": [funding(3000, "ETH")]}))
        assert [(f.time, f.coin) for f in store.fundings()] == [
            (3000, "ETH"),
            (3000, "BTC"),
            (2000, "BTC"),
            (1000, "BTC"),
        ]
        assert store.take_changes() == {"fundings"}

    def test_fundings_bounded(self, clock: FakeClock) -> None:
        s = Store(clock, fundings_cap=2)
        s.set_user(USER)
        s.apply(msg("userFundings", {"user": USER, "fundings": [funding(t) for t in (1, 2, 3)]}))
        assert [f.time for f in s.fundings()] == [3, 2]

    def test_ledger(self, store: Store) -> None:
        upd = {"time": 1, "hash": "0xab", "delta": {"type": "deposit", "usdc": "10.0"}}
        data = {"user": USER, "isSnapshot": True, "nonFundingLedgerUpdates": [upd, upd]}
        store.apply(msg("userNonFundingLedgerUpdates", data))
        assert len(store.ledger()) == 1
        assert store.take_changes() == {"ledger"}

    def test_liquidation_event_logged(self, store: Store) -> None:
        liq = {"lid": 1, "liquidator": "0x1", "liquidated_user": USER,
               "liquidated_ntl_pos": "1000.0", "liquidated_account_value": "10.0"}  # fmt: skip
        store.apply(msg("user", {"liquidation": liq}))
        assert store.liquidations()[0].lid == 1
        assert store.health.events[-1].level == "error"


class TestUserFilter:
    def test_other_users_ignored(self, store: Store) -> None:
        """A frame for another address changes nothing (multiplexed or stale subscriptions)."""
        store.apply(clearinghouse([], user=OTHER))
        store.apply(msg("openOrders", {"user": OTHER, "orders": [order(1, 1)]}))
        store.apply(fills_msg(fill(1, 1, 1), user=OTHER))
        store.apply(msg("userFundings", {"user": OTHER, "fundings": [funding(1)]}))
        store.apply(msg("userNonFundingLedgerUpdates",
                        {"user": OTHER, "nonFundingLedgerUpdates": []}))  # fmt: skip
        data = {"user": OTHER, "coin": "BTC", "leverage": {"type": "cross", "value": 20},
                "maxTradeSzs": ["1", "1"], "availableToTrade": ["1", "1"]}  # fmt: skip
        store.apply(msg("activeAssetData", data))
        store.apply(msg("webData3", {"userState": {"user": OTHER}}))
        assert store.account_summary() is None
        assert store.open_orders() == [] and store.fills() == [] and store.fundings() == []
        assert store.asset_data("BTC") is None and store.web_data() is None
        assert store.take_changes() == set()
        assert store.ignored_user_msgs == 7
        assert store.feed_status("account").state == "missing"

    def test_address_case_insensitive(self, store: Store) -> None:
        store.apply(clearinghouse([], user=USER.upper().replace("0X", "0x")))
        assert store.account_summary() is not None

    def test_no_user_set_ignores_account_frames(self, clock: FakeClock) -> None:
        s = Store(clock)
        s.apply(clearinghouse([]))
        s.apply(msg("orderUpdates", [order_update(1, "open")]))
        s.apply(msg("user", {"fills": [fill(1, 1, 1)]}))
        assert s.account_summary() is None and s.open_orders() == [] and s.fills() == []

    def test_switching_user_forgets_account_state(self, store: Store) -> None:
        store.apply(clearinghouse([]))
        store.apply(fills_msg(fill(1, 1, 1)))
        store.apply(msg("openOrders", {"user": USER, "orders": [order(1, 1)]}))
        store.set_user(OTHER)
        assert store.user == OTHER
        assert store.account_summary() is None and store.fills() == []
        assert store.open_orders() == []
        assert store.feed_status("account").state == "missing"
        assert {"account", "orders", "fills", "fundings"} <= store.take_changes()

    def test_asset_data_and_web_data_for_me(self, store: Store) -> None:
        data = {"user": USER, "coin": "BTC", "leverage": {"type": "cross", "value": 20},
                "maxTradeSzs": ["1", "1"], "availableToTrade": ["1", "1"],
                "markPx": "1.0"}  # fmt: skip
        store.apply(msg("activeAssetData", data))
        store.apply(msg("webData3", {"userState": {"user": USER}, "perpDexStates": []}))
        ad = store.asset_data("BTC")
        assert ad is not None and ad.leverage.value == 20
        assert store.web_data() == {"userState": {"user": USER}, "perpDexStates": []}
        assert store.take_changes() == {"assetData:BTC", "webData3"}


class TestClearinghouseOrder:
    """L2: an older clearinghouseState (a slow REST reply) must not replace a newer one."""

    @staticmethod
    def state(t: int, value: str, user: str = USER) -> Message:
        return msg(
            "clearinghouseState",
            {"dex": "", "user": user, "clearinghouseState": {
                "marginSummary": summary(value), "crossMarginSummary": summary(value),
                "crossMaintenanceMarginUsed": "0.0", "withdrawable": value,
                "assetPositions": [], "time": t}},
        )  # fmt: skip

    def test_older_rest_answer_ignored(self, store: Store) -> None:
        store.set_watched_users([USER, OTHER])
        for user in (USER, OTHER):
            store.apply(self.state(2_000, "900", user))
            store.apply(self.state(1_000, "1000", user), Source.REST)
        s = store.account_summary()
        assert s is not None and s.account_value == "900" and s.source is Source.WS
        assert [r.account_value for r in store.accounts()] == ["900", "900"]
        store.apply(self.state(2_000, "950"), Source.REST)  # same time: accepted
        s = store.account_summary()
        assert s is not None and s.account_value == "950"


def test_position_shape_moves_with_a_position_not_with_a_re_mark(store: Store) -> None:
    """``position_shape_version``: a position opened, resized, closed or re-levered, or
    another account selected; not a re-push with new uPnL, margin and liquidation prices."""
    versions = [store.position_shape_version]

    def push(*positions: dict[str, Any], upnl: str = "0.0", dex: str = "") -> int:
        store.apply(clearinghouse(list(positions), dex=dex, value=upnl))
        versions.append(store.position_shape_version)
        return versions[-1] - versions[-2]

    btc = position("BTC", "0.1", "100.0", upnl="1.0", liq="80.0")
    assert push(btc) == 1  # the first state
    assert push(position("BTC", "0.1", "100.0", upnl="3.5", liq="79.0"), upnl="2.5") == 0
    assert push(position("BTC", "0.2", "101.0", upnl="3.5")) == 1  # a fill: resized
    assert push(position("BTC", "0.2", "101.0", lev=10)) == 1  # re-levered
    assert push(position("BTC", "0.2", "101.0", lev=10), dex="xyz") == 1  # another dex's first
    assert push() == 1  # closed
    store.set_user(OTHER)
    assert store.position_shape_version > versions[-1]
