"""The account book and the Store's all-accounts view: rows from clearinghouseState for every
watched user, totals, freshness per row, labels, switching the selected user."""

from __future__ import annotations

import pytest

from hlmon.state import ConnState, FeedState, Source, Store

from .helpers import A, B, C, FakeClock, ack, clearinghouse, order_update, position, user_fill


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    """Watching A (selected) and B, socket live, changes drained."""
    s = Store(clock)
    s.set_watched_users([A, B], {B: "hedge"})
    s.set_user(A)
    s.health.set_connection(ConnState.LIVE, url="ws://x/ws")
    s.take_changes()
    return s


class TestRows:
    def test_rows_for_every_watched_user(self, store: Store, clock: FakeClock) -> None:
        """Both users' pushes fill their rows; only the selected one fills the detail."""
        store.apply(clearinghouse(A, "1000.0", positions=[position("BTC", "1", "5.5")]))
        clock.advance(1)
        store.apply(
            clearinghouse(
                B,
                "250.5",
                margin="20.0",
                maint="10.0",
                positions=[position("ETH", "-2", "-1.25"), position("SOL", "3", "0.25")],
            )
        )
        assert store.take_changes() == {"account", "accounts"}
        a, b = store.accounts()
        assert (a.address, a.selected, a.label, a.name) == (A, True, None, a.short_address)
        assert (b.address, b.selected, b.label, b.name) == (B, False, "hedge", "hedge")
        assert (a.account_value, a.total_margin_used, a.total_upnl, a.positions) == (
            "1000.0",
            "100.0",
            "5.5",
            1,
        )
        assert (b.account_value, b.total_margin_used, b.total_upnl, b.positions) == (
            "250.5",
            "20.0",
            "-1",
            2,
        )
        assert (a.margin_ratio_pct, b.margin_ratio_pct) == ("5.00", "3.99")
        assert (a.age_s, b.age_s) == (1.0, 0.0)
        assert a.state is b.state is FeedState.LIVE and b.source is Source.WS
        # The detail stays the selected user's.
        summary = store.account_summary()
        assert summary is not None and summary.account_value == "1000.0"
        assert [p.coin for p in store.positions()] == ["BTC"]
        assert store.ignored_user_msgs == 0

    def test_totals(self, store: Store) -> None:
        store.apply(clearinghouse(A, "1000.0", margin="100.0", maint="50.0"))
        store.apply(clearinghouse(B, "250.5", margin="20.0", maint="10.0",
                                  positions=[position("ETH", "-2", "-1.25")]))  # fmt: skip
        total = store.accounts_total()
        assert (total.accounts, total.accounts_with_data) == (2, 2)
        assert (total.account_value, total.total_margin_used, total.total_upnl) == (
            "1250.5",
            "120",
            "-1.25",
        )
        assert (total.positions, total.margin_ratio_pct) == (1, "4.80")

    def test_missing_and_stale_rows(self, store: Store, clock: FakeClock) -> None:
        """A row never received is MISSING; one past the account threshold is STALE."""
        assert [r.state for r in store.accounts()] == [FeedState.MISSING] * 2
        assert store.accounts()[1].account_value is None
        total = store.accounts_total()
        assert (total.accounts_with_data, total.account_value, total.margin_ratio_pct) == (
            0,
            "0",
            None,
        )
        store.apply(clearinghouse(B), Source.REST)
        assert store.accounts()[1].state is FeedState.FALLBACK
        clock.advance(store.threshold("account") + 0.1)
        store.health.note_alive()  # a live socket does not make a periodic feed "quiet"
        row = store.accounts()[1]
        assert row.state is FeedState.STALE and row.age_s == pytest.approx(12.1)
        assert store.account_stamp(B) is not None and store.account_stamp(C) is None

    def test_unwatched_ignored_and_other_dex_kept_apart(self, store: Store) -> None:
        """An unwatched user is dropped; a HIP-3 dex's state lands in the row's dexes, never in
        its default-dex figures."""
        store.apply(clearinghouse(C))
        assert store.take_changes() == set()
        assert store.ignored_user_msgs == 1
        store.apply(clearinghouse(B, "70.0", dex="xyz"))
        assert store.take_changes() == {"accounts"}
        a, b = store.accounts()
        assert (a.account_value, b.account_value) == (None, None)
        assert [(d.dex, d.account_value) for d in b.dexes] == [("xyz", "70.0")]
        assert [(t.token, t.account_value) for t in b.tokens] == [(None, "70")]
        assert store.ignored_user_msgs == 1

    def test_without_watched_users_the_selected_one_has_a_row(self, clock: FakeClock) -> None:
        """Single-account mode (no set_watched_users): one row, the selected user."""
        s = Store(clock)
        s.set_user(A)
        s.apply(clearinghouse(A, "7.0"))
        rows = s.accounts()
        assert [(r.address, r.selected, r.account_value) for r in rows] == [(A, True, "7.0")]
        assert Store(clock).accounts() == []

    def test_unwatching_forgets_the_row(self, store: Store) -> None:
        store.apply(clearinghouse(B, "5.0"))
        store.set_watched_users([A])
        assert store.take_changes() == {"accounts"}
        store.set_watched_users([A, B])
        assert store.accounts()[1].account_value is None
        store.set_watched_users([A, B])  # no change, no change key
        assert store.take_changes() == {"accounts"}  # from the re-add only
        assert store.watched_users == (A, B)


class TestSwitchUser:
    def test_switch_seeds_detail_from_the_row(self, store: Store, clock: FakeClock) -> None:
        """The new user's last state shows at once, with its own age and source."""
        store.apply(clearinghouse(A, "1000.0", positions=[position("BTC", "1", "5.5")]))
        store.apply(clearinghouse(B, "250.5", positions=[position("ETH", "-2", "-1.25")]),
                    Source.REST)  # fmt: skip
        clock.advance(2)
        store.set_user(B)
        assert {"account", "accounts", "orders", "fills"} <= store.take_changes()
        summary = store.account_summary()
        assert summary is not None and summary.account_value == "250.5"
        assert summary.source is Source.REST
        assert [p.coin for p in store.positions()] == ["ETH"]
        assert store.feed_status("account").age_s == 2.0
        assert [r.selected for r in store.accounts()] == [False, True]
        # A's pushes now only feed A's row.
        store.apply(clearinghouse(A, "999.0"))
        assert store.account_summary() is not None
        assert store.account_summary().account_value == "250.5"  # type: ignore[union-attr]
        assert store.accounts()[0].account_value == "999.0"

    def test_userless_frames_wait_for_the_new_users_ack(self, store: Store) -> None:
        """orderUpdates/user events name no user: after a switch, those still in flight from
        the old user's subscriptions are dropped until the new user's subscribe is acked."""
        store.apply(order_update(1))
        assert [o.oid for o in store.open_orders()] == [1]
        store.set_user(B)
        assert store.open_orders() == []
        store.apply(order_update(2))  # the old user's, in flight
        store.apply(user_fill(7, 2))
        store.apply(ack("orderUpdates", A, "unsubscribe"))
        store.apply(ack("orderUpdates", A))  # not the new user: still closed
        assert store.open_orders() == [] and store.fills() == []
        store.apply(ack("orderUpdates", B.upper().replace("0X", "0x")))
        store.apply(order_update(3))
        store.apply(user_fill(8, 3))
        assert [o.oid for o in store.open_orders()] == [3]
        assert store.fills() == []  # userEvents not acked yet
        store.apply(ack("userEvents", B))
        store.apply(user_fill(9, 3))
        assert [f.tid for f in store.fills()] == [9]

    def test_first_user_needs_no_ack(self, clock: FakeClock) -> None:
        """Only a switch closes the gate: the first user (and unit tests) apply at once."""
        s = Store(clock)
        s.set_user(A)
        s.apply(order_update(1))
        assert [o.oid for o in s.open_orders()] == [1]
        s.set_user(None)
        s.set_user(B)
        s.apply(order_update(2))
        assert [o.oid for o in s.open_orders()] == [2]
