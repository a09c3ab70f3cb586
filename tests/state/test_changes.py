"""The store tells a listener when there is something to read: once after each
``take_changes``, whichever write path recorded the change; and when the next feed goes stale
by time alone (``next_state_change``)."""

from __future__ import annotations

import msgspec

from hlmon.protocol.messages import Fill
from hlmon.state import ConnState, Source, Store
from hlmon.state.catalog import MarketCatalog
from hlmon.state.changes import new_keys

from .conftest import OTHER, FakeClock, fill, msg, trade


def listening(store: Store, urgent: tuple[str, ...] = ()) -> list[bool]:
    """The ``urgent`` flag of every call of a listener registered on ``store``."""
    calls: list[bool] = []
    store.on_changes(calls.append, urgent)
    return calls


class TestListener:
    def test_once_per_take_changes_not_per_frame(self, store: Store) -> None:
        calls = listening(store)
        for i in range(100):
            store.apply(msg("trades", [trade(i, 1000 + i)]))
        assert len(calls) == 1
        assert store.take_changes() == {"trades:BTC"}
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        store.apply(msg("allMids", {"mids": {"BTC": "100.6"}}))
        assert len(calls) == 2

    def test_every_write_path_notifies(self, store: Store, clock: FakeClock) -> None:
        """Not only ``apply``: the health, REST merges, subscriptions and the user switch."""
        calls = listening(store)
        writes = [
            lambda: store.health.log("hello"),
            lambda: store.health.set_connection(ConnState.RECONNECTING, attempt=1),
            lambda: store.set_book_fast(True),
            lambda: store.expect("book:ETH"),
            lambda: store.set_user(OTHER),
            lambda: store.apply(msg("userFills", {"user": OTHER, "fills": [fill(1, 2, 3)]})),
            lambda: store.apply_fills([msgspec.convert(fill(4, 5, 6), Fill)], Source.REST),
            lambda: store.set_catalog(MarketCatalog([], [], loaded_at=clock.now)),
        ]
        for n, write in enumerate(writes, start=1):
            store.take_changes()
            write()
            assert len(calls) == n, f"write {n} did not notify"

    def test_pending_changes_notify_at_registration(self, store: Store) -> None:
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        calls = listening(store)
        assert calls == [False]
        store.apply(msg("allMids", {"mids": {"BTC": "100.6"}}))
        assert calls == [False]  # still pending: the reader has not taken them
        assert store.take_changes() == {"mids"}

    def test_unregistered_listener_is_not_called(self, store: Store) -> None:
        calls = listening(store)
        store.on_changes(None)
        store.take_changes()
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        store.health.log("x")
        assert calls == []
        assert store.take_changes() == {"mids", "log"}

    def test_an_urgent_key_after_a_plain_one_tells_again(self, store: Store) -> None:
        """The selected coin's trades must not wait behind a plain change for the frame
        interval: the listener hears of them (once) even when a plain key came first."""
        calls = listening(store, urgent=("trades:BTC",))
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        store.apply(msg("trades", [trade(1, 1000, coin="ETH")]))
        assert calls == [False]
        for i in range(3):
            store.apply(msg("trades", [trade(2 + i, 1001 + i)]))
        assert calls == [False, True]
        store.take_changes()
        store.apply(msg("trades", [trade(9, 1009)]))  # urgent first: one call says so
        store.apply(msg("allMids", {"mids": {"BTC": "100.7"}}))
        assert calls == [False, True, True]

    def test_pending_urgent_keys_at_registration(self, store: Store) -> None:
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        calls = listening(store, urgent=("trades:BTC",))
        store.apply(msg("trades", [trade(1, 1000)]))
        assert calls == [False, True]
        store.take_changes()
        store.apply(msg("trades", [trade(2, 1001)]))
        calls2 = listening(store, urgent=("trades:BTC",))
        assert calls2 == [True]

    def test_armed_keys_are_a_set(self) -> None:
        calls: list[bool] = []
        keys = new_keys(calls.append, frozenset({"u"}))
        keys.update(())
        assert calls == []  # nothing added, nothing to tell
        keys.update(("a", "b"))
        keys.add("c")
        assert calls == [False]
        keys.update(("u",))
        keys.add("u2")
        assert keys == {"a", "b", "c", "u", "u2"} and calls == [False, True]
        assert isinstance(keys, set) and keys | {"d"} == {"a", "b", "c", "u", "u2", "d"}


class TestNextStateChange:
    def test_the_soonest_fresh_feed_to_pass_its_threshold(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert store.next_state_change() is None  # nothing expected
        for key in ("mids", "ctx:BTC", "book:ETH"):
            store.expect(key)
        assert store.next_state_change() is None  # expected, never received: MISSING stays
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        t_mids = clock.now
        clock.advance(2.0)
        store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": {
            "funding": "0.0", "openInterest": "1.0", "prevDayPx": "1.0", "dayNtlVlm": "1.0",
            "premium": "0.0", "oraclePx": "1.0", "markPx": "1.0"}}))  # fmt: skip
        t_ctx = clock.now
        assert store.next_state_change() == t_ctx + store.threshold("ctx:BTC")
        clock.advance(store.threshold("ctx:BTC") + 0.1)  # ctx is stale now: mids is next
        assert store.next_state_change() == t_mids + store.threshold("mids")
        clock.advance(store.threshold("mids"))
        assert store.next_state_change() is None

    def test_a_quiet_event_feed_turns_stale_when_the_socket_stops_being_alive(
        self, store: Store, clock: FakeClock
    ) -> None:
        store.health.set_connection(ConnState.LIVE, url="wss://x/ws")
        store.expect("trades:BTC")
        store.apply(msg("trades", [trade(1, 1000)]))
        clock.advance(store.threshold("trades:BTC") + 1)  # quiet: the socket is alive
        store.health.note_alive()
        alive_until = store.health.alive_until()
        assert alive_until is not None and store.next_state_change() == alive_until


class TestQuietKeys:
    def test_a_quiet_key_alone_calls_nobody_and_waits_for_the_next_read(self, store: Store) -> None:
        calls: list[bool] = []
        store.on_changes(calls.append, ("trades:BTC",), quiet=("bbo:",))
        store.apply(msg("bbo", {"coin": "BTC", "time": 1, "bbo": [None, None]}))
        assert calls == []
        store.apply(msg("allMids", {"mids": {"BTC": "100.5"}}))
        assert calls == [False]
        assert store.take_changes() >= {"bbo:BTC", "mids"}  # recorded all along

    def test_urgent_keys_still_call_after_a_quiet_one(self, store: Store) -> None:
        calls: list[bool] = []
        store.on_changes(calls.append, ("trades:BTC",), quiet=("bbo:",))
        store.apply(msg("bbo", {"coin": "BTC", "time": 1, "bbo": [None, None]}))
        store.apply(msg("trades", [trade(1, 1000)]))
        assert calls == [True]

    def test_pending_quiet_keys_do_not_call_a_new_listener(self, store: Store) -> None:
        store.take_changes()
        store.apply(msg("bbo", {"coin": "BTC", "time": 1, "bbo": [None, None]}))
        calls: list[bool] = []
        store.on_changes(calls.append, (), quiet=("bbo:",))
        assert calls == []
        store.on_changes(calls.append)  # without the quiet prefix: pending, told at once
        assert calls == [False]

    def test_update_with_quiet_keys_only(self) -> None:
        calls: list[bool] = []
        keys = new_keys(calls.append, frozenset(), ("bbo:",))
        keys.update({"bbo:BTC", "bbo:ETH"})
        assert calls == []
        keys.update({"mids"})
        assert calls == [False]
