"""What the alerts view reads from the engine (``status``: state, last value, last fire,
cooldown) and how it changes the list (``set_enabled``, ``replace``); the data-lag rule and its
config; the feed rules' look-once-a-second economy. A Store driven by messages and a fake
clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hlmon.alerts import (
    AlertConfigError,
    AlertEngine,
    AlertRule,
    AnyFill,
    DataLag,
    DeadMan,
    LiqDistance,
    PriceCross,
)
from hlmon.alerts.settings import parse_alerts
from hlmon.state import ConnState, Store
from hlmon.state.decimals import fmt_px_text

from .conftest import FakeClock, clearinghouse, fill, fills_msg, mids, position


def engine(clock: FakeClock, *rules: AlertRule, cooldown_s: float = 0.0) -> AlertEngine:
    return AlertEngine(rules, clock=clock, cooldown_s=cooldown_s)


def states(eng: AlertEngine) -> list[tuple[str, str, str]]:
    return [(s.rule_id, s.state, s.value) for s in eng.status()]


def tick(
    store: Store, eng: AlertEngine, clock: FakeClock, *msgs: Any, dt: float = 1.0
) -> list[str]:
    clock.advance(dt)
    for m in msgs:
        store.apply(m)
    return [a.rule_id for a in eng.evaluate(store, store.take_changes())]


class TestStatus:
    def test_waiting_armed_fired_cooling_armed(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)), cooldown_s=30)
        assert states(eng) == [("price BTC > 100", "waiting", "")]
        assert tick(store, eng, clock, mids(BTC="99")) == []
        assert states(eng) == [("price BTC > 100", "armed", f"mid {fmt_px_text('99')}")]
        assert tick(store, eng, clock, mids(BTC="101")) == ["price BTC > 100"]
        fired_at = clock()
        (st,) = eng.status()
        assert (st.state, st.value, st.last_fired, st.fired) == (
            "fired",
            f"mid {fmt_px_text('101')}",
            fired_at,
            1,
        )
        assert st.cooling_until == fired_at + 30
        # Back on the safe side inside the cooldown: cooling; after it: armed.
        assert tick(store, eng, clock, mids(BTC="90")) == []
        assert states(eng) == [("price BTC > 100", "cooling", f"mid {fmt_px_text('90')}")]
        clock.advance(30)
        (st,) = eng.status()
        assert (st.state, st.cooling_until, st.last_fired) == ("armed", None, fired_at)

    def test_past_at_start_is_held_not_fired(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)))
        assert tick(store, eng, clock, mids(BTC="105")) == []
        (st,) = eng.status()
        assert (st.state, st.last_fired, st.fired) == ("held", None, 0)

    def test_held_fills_during_cooldown(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, AnyFill(), cooldown_s=30)
        store.apply(clearinghouse([]))
        t0 = int(clock() * 1000) + 1_790_000_000_000
        assert tick(store, eng, clock, fills_msg([fill(1, t0 + 1000)])) == ["fill"]
        assert states(eng) == [("fill", "cooling", "Fill: BTC")]
        assert tick(store, eng, clock, fills_msg([fill(2, t0 + 2000)])) == []
        assert states(eng)[0][1] == "held"

    def test_worst_subject_wins(self, store: Store, clock: FakeClock) -> None:
        """A rule over every position shows its worst subject: one fired beats one armed."""
        eng = engine(clock, LiqDistance(Decimal(10)))
        store.apply(mids(BTC="100", ETH="100"))
        positions = [
            position("BTC", "1.0", "100", liq="50"),
            position("ETH", "1.0", "100", liq="95"),
        ]
        assert tick(store, eng, clock, clearinghouse(positions)) == ["liq distance any < 10%"]
        (st,) = eng.status()
        assert st.state == "fired" and st.value.startswith("ETH 5")


class TestChangingTheList:
    def test_disable_stops_checking_and_enable_starts_over(
        self, store: Store, clock: FakeClock
    ) -> None:
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)))
        tick(store, eng, clock, mids(BTC="99"))
        assert eng.set_enabled("price BTC > 100", False)
        assert eng.rules == [PriceCross("BTC", "above", Decimal(100), enabled=False)]
        assert states(eng) == [("price BTC > 100", "disabled", "")]
        assert tick(store, eng, clock, mids(BTC="101")) == []  # off: no alert
        assert eng.set_enabled("price BTC > 100", True)
        # Back on while already past: like a new rule, held (no alert for the past).
        assert tick(store, eng, clock, mids(BTC="102")) == []
        assert states(eng)[0][1] == "held"
        assert not eng.set_enabled("price ETH > 1", True)

    def test_replace_keeps_the_place_and_refuses_a_duplicate(
        self, store: Store, clock: FakeClock
    ) -> None:
        a = PriceCross("BTC", "above", Decimal(100))
        b = PriceCross("ETH", "below", Decimal(10))
        c = DeadMan(30)
        eng = engine(clock, a, b, c)
        new = PriceCross("ETH", "below", Decimal(9))
        assert eng.replace(b.rule_id, new) == "price ETH < 9"
        assert eng.rules == [a, new, c]
        with pytest.raises(ValueError, match="already exists"):
            eng.replace(new.rule_id, a)
        with pytest.raises(KeyError):
            eng.replace("nope", a)
        assert eng.remove(a.rule_id) and eng.rules == [new, c]


class TestDataLag:
    def test_fires_when_mids_stop_and_rearms(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, DataLag(5, "mids"))
        store.expect("mids")
        assert tick(store, eng, clock, dt=0) == []
        assert states(eng) == [("data lag mids > 5s", "waiting", "")]
        assert tick(store, eng, clock, mids(BTC="100")) == []
        assert states(eng)[0][1] == "armed"
        assert tick(store, eng, clock, dt=4.5) == []
        alerts = []
        clock.advance(1)
        alerts = eng.evaluate(store, set())
        assert [(a.title, a.level) for a in alerts] == [("Data 6 s behind: mids", "warn")]
        assert alerts[0].body == "data more than 5 s behind: mids 6 s"
        (st,) = eng.status()
        assert (st.state, st.value) == ("fired", "mids 5.5 s")
        # Data again: re-armed on that very change, not a second later.
        assert tick(store, eng, clock, mids(BTC="101"), dt=0) == []
        assert states(eng)[0][1] == "armed"

    def test_any_feed_names_the_worst_and_ignores_quiet_events(
        self, store: Store, clock: FakeClock
    ) -> None:
        eng = engine(clock, DataLag(10))
        store.health.set_connection(ConnState.LIVE)  # what vouches for a quiet event feed
        for feed in ("mids", "account", "fills"):
            store.expect(feed)
        store.apply(mids(BTC="100"))
        store.apply(clearinghouse([]))
        store.apply(fills_msg([], snapshot=True))
        store.health.note_alive()
        assert eng.evaluate(store, store.take_changes()) == []
        clock.advance(11)
        store.apply(mids(BTC="100"))
        store.health.note_alive()  # the frame's socket, as the feed notes it
        (alert,) = eng.evaluate(store, store.take_changes())
        assert alert.rule_id == "data lag any > 10s"
        assert alert.body == "data more than 10 s behind: account 11 s"  # fills: a quiet feed

    def test_a_reconnect_puts_a_quiet_feed_behind_by_the_silence_not_its_age(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Fills quiet for ten minutes, then the socket drops: they are 1 s behind (nothing
        was missed before it), not 600 s."""
        eng = engine(clock, DataLag(10))
        store.health.set_connection(ConnState.LIVE)
        store.expect("fills")
        store.apply(fills_msg([], snapshot=True))
        clock.advance(600)
        store.health.note_alive()
        assert eng.evaluate(store, store.take_changes()) == []  # quiet: nothing to say
        store.health.set_connection(ConnState.RECONNECTING, attempt=1)
        clock.advance(1)
        assert eng.evaluate(store, store.take_changes()) == []
        clock.advance(10)
        (alert,) = eng.evaluate(store, set())
        assert alert.body == "data more than 10 s behind: fills 11 s"

    def test_looks_once_a_second_not_every_frame(self, store: Store, clock: FakeClock) -> None:
        """Frames that only bring data do not walk the feeds again while the answer is clear
        (arriving data cannot make it worse); time passing or unknown changes do."""
        eng = engine(clock, DataLag(5), DeadMan(5))
        store.expect("mids")
        store.apply(mids(BTC="100"))
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        calls = 0
        real = store.feed_statuses

        def counted() -> Any:
            nonlocal calls
            calls += 1
            return real()

        store.feed_statuses = counted  # type: ignore[method-assign]
        eng.evaluate(store, store.take_changes())
        assert calls == 2
        for _ in range(20):
            clock.advance(0.02)
            store.apply(mids(BTC="100"))
            eng.evaluate(store, store.take_changes())
        assert calls == 2
        clock.advance(1)
        eng.evaluate(store, store.take_changes())
        assert calls == 4
        eng.evaluate(store, None)
        assert calls == 6

    def test_past_looks_again_on_its_own_feeds_only(self, store: Store, clock: FakeClock) -> None:
        """Fired: other feeds' data does not make it walk the feeds again; the stale feed's
        data does, and re-arms it at once."""
        eng = engine(clock, DataLag(5, "account"))
        store.expect("mids")
        store.expect("account")
        store.apply(clearinghouse([]))
        store.apply(mids(BTC="100"))
        eng.evaluate(store, store.take_changes())
        clock.advance(6)
        assert [a.rule_id for a in eng.evaluate(store, set())] == ["data lag account > 5s"]
        calls = 0
        real = store.feed_statuses

        def counted() -> Any:
            nonlocal calls
            calls += 1
            return real()

        store.feed_statuses = counted  # type: ignore[method-assign]
        for _ in range(5):
            clock.advance(0.1)
            store.apply(mids(BTC="100"))
            eng.evaluate(store, store.take_changes())
        assert calls == 0 and eng.status()[0].state == "fired"
        clock.advance(0.1)
        store.apply(clearinghouse([]))
        eng.evaluate(store, store.take_changes())
        assert calls == 1 and eng.status()[0].state == "armed"

    def test_deadman_value_says_what_is_stale(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, DeadMan(30))
        store.expect("mids")
        store.expect("account")
        store.apply(mids(BTC="100"))
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        eng.evaluate(store, store.take_changes())
        assert states(eng) == [("deadman 30s", "armed", "fresh · 1 open")]
        clock.advance(12 + 10)  # account threshold 12 s: stale for 10 s, below the limit
        eng.evaluate(store, set())
        assert states(eng) == [("deadman 30s", "armed", "account stale 10 s")]
        clock.advance(25)
        assert [a.rule_id for a in eng.evaluate(store, set())] == ["deadman 30s"]
        assert states(eng) == [("deadman 30s", "fired", "account stale 35 s")]
        store.apply(clearinghouse([]))
        eng.evaluate(store, store.take_changes())
        assert states(eng) == [("deadman 30s", "armed", "no open positions")]


class TestConfig:
    def test_data_lag_and_enabled_parse(self) -> None:
        rules = [
            {"kind": "data_lag", "lag_s": 20, "feed": "book:BTC"},
            {"kind": "data_lag", "lag_s": 5.5},
            {"kind": "price", "coin": "BTC", "above": 110000, "enabled": False},
            {"kind": "fill", "enabled": True},
        ]
        got = parse_alerts({"rules": rules}, "c.toml").rules
        assert got == (
            DataLag(20.0, "book:BTC"),
            DataLag(5.5),
            PriceCross("BTC", "above", Decimal(110000), enabled=False),
            AnyFill(),
        )

    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            (
                {"kind": "data_lag"},
                "c.toml: key 'alerts.rules[1].lag_s': missing (alert when a feed's data is "
                "more than this many seconds behind)",
            ),
            (
                {"kind": "data_lag", "lag_s": 0},
                "c.toml: key 'alerts.rules[1].lag_s': expected a number of seconds > 0, got 0",
            ),
            (
                {"kind": "fill", "enabled": "no"},
                "c.toml: key 'alerts.rules[1].enabled': expected true or false, got \"no\"",
            ),
            (
                {"kind": "data_lag", "lag_s": 3, "feed": "0x" + "ab" * 32},
                "c.toml: key 'alerts.rules[1].feed': expected a feed name, not a private key",
            ),
        ],
    )
    def test_errors(self, rule: dict[str, Any], message: str) -> None:
        with pytest.raises(AlertConfigError) as info:
            parse_alerts({"rules": [rule]}, "c.toml")
        assert str(info.value).startswith(message)
        assert "ab" * 32 not in str(info.value)
