"""AlertEngine and every rule kind against a Store driven by messages and a fake clock:
crossing only, hysteresis re-arm, cooldown, per-position subjects, the dead-man's switch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hlmon.alerts import (
    AlertEngine,
    AlertRule,
    AnyFill,
    DeadMan,
    LiqDistance,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
    parse_price_rule,
)
from hlmon.config import Settings
from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, Store
from tests.catalogs import default_catalog

from .conftest import USER, FakeClock, clearinghouse, fill, fills_msg, mids, msg, position, spot_msg


def engine(
    clock: FakeClock, *rules: AlertRule, cooldown_s: float = 0.0, hysteresis_pct: float = 0.1
) -> AlertEngine:
    return AlertEngine(rules, clock=clock, cooldown_s=cooldown_s, hysteresis_pct=hysteresis_pct)


def step(
    store: Store, eng: AlertEngine, clock: FakeClock, *msgs: Message, dt: float = 1.0
) -> list[str]:
    """Advance the clock, apply messages, evaluate with the changes like the UI timer does."""
    clock.advance(dt)
    for m in msgs:
        store.apply(m)
    return [a.title for a in eng.evaluate(store, store.take_changes())]


class TestPriceCross:
    def test_fires_once_on_crossing_not_while_above(self, store: Store, clock: FakeClock) -> None:
        """One alert when the mid goes past the level, none for later ticks still past it."""
        eng = engine(clock, PriceCross("BTC", "above", Decimal(110000)))
        assert step(store, eng, clock, mids(BTC="109000")) == []
        assert step(store, eng, clock, mids(BTC="110000")) == []  # at the level is not past
        fired = eng.evaluate(store, None)
        assert fired == []
        store.apply(mids(BTC="110000.5"))
        alerts = eng.evaluate(store, store.take_changes())
        assert [(a.rule_id, a.title, a.level) for a in alerts] == [
            ("price BTC > 110000", "BTC above 110,000", "warn")
        ]
        # The TUI's number rule: separators, the decimals the price carries.
        assert alerts[0].body == "BTC mid 110,000.5 crossed above 110,000"
        for px in ("110500", "111000", "110001"):
            assert step(store, eng, clock, mids(BTC=px)) == []

    def test_already_past_at_start_does_not_fire(self, store: Store, clock: FakeClock) -> None:
        """Crossing only: a price already above when the rule starts arms once it is back below."""
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)))
        assert step(store, eng, clock, mids(BTC="105")) == []
        assert step(store, eng, clock, mids(BTC="106")) == []
        assert step(store, eng, clock, mids(BTC="99")) == []
        assert step(store, eng, clock, mids(BTC="101")) == ["BTC above 100"]

    def test_hysteresis_band(self, store: Store, clock: FakeClock) -> None:
        """Re-arms only after going back past the level by 0.1 % of it (100 -> 99.9)."""
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)))
        step(store, eng, clock, mids(BTC="99"))
        assert step(store, eng, clock, mids(BTC="100.01")) == ["BTC above 100"]
        # Flapping inside the band does not re-arm.
        assert step(store, eng, clock, mids(BTC="99.95")) == []
        assert step(store, eng, clock, mids(BTC="100.02")) == []
        # Back by the full band: re-armed, the next crossing fires.
        assert step(store, eng, clock, mids(BTC="99.9")) == []
        assert step(store, eng, clock, mids(BTC="100.02")) == ["BTC above 100"]

    def test_below_and_configurable_band(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, PriceCross("ETH", "below", Decimal(3000)), hysteresis_pct=1.0)
        step(store, eng, clock, mids(ETH="3100"))
        assert step(store, eng, clock, mids(ETH="2999.9")) == ["ETH below 3,000"]
        assert step(store, eng, clock, mids(ETH="3029")) == []  # band is 30
        assert step(store, eng, clock, mids(ETH="2990")) == []
        assert step(store, eng, clock, mids(ETH="3030")) == []
        assert step(store, eng, clock, mids(ETH="2990")) == ["ETH below 3,000"]

    def test_cooldown(self, store: Store, clock: FakeClock) -> None:
        """A re-armed crossing inside the cooldown is dropped; after it, alerts again."""
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)), cooldown_s=60)
        step(store, eng, clock, mids(BTC="99"))
        assert step(store, eng, clock, mids(BTC="101")) == ["BTC above 100"]
        assert step(store, eng, clock, mids(BTC="90"), dt=10) == []
        assert step(store, eng, clock, mids(BTC="101"), dt=10) == []  # 20 s after: cooling
        assert step(store, eng, clock, mids(BTC="90"), dt=10) == []
        assert step(store, eng, clock, mids(BTC="101"), dt=40) == ["BTC above 100"]  # 70 s

    def test_only_changed_keys_are_looked_at(self, store: Store, clock: FakeClock) -> None:
        """With a changes set, a price rule is checked only when 'mids' changed."""
        eng = engine(clock, PriceCross("BTC", "above", Decimal(100)))
        store.apply(mids(BTC="99"))
        assert eng.evaluate(store, {"mids"}) == []
        store.apply(mids(BTC="101"))
        assert eng.evaluate(store, {"trades:BTC", "book:BTC"}) == []
        assert [a.title for a in eng.evaluate(store, {"mids"})] == ["BTC above 100"]

    def test_no_mid_no_alert(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, PriceCross("DOGE", "above", Decimal(1)))
        assert step(store, eng, clock, mids(BTC="1")) == []


class TestRiskRules:
    def test_liq_distance_any_position_per_coin(self, store: Store, clock: FakeClock) -> None:
        """Each position crosses on its own; a position already close at start fires once."""
        eng = engine(clock, LiqDistance(Decimal(10)))
        store.apply(mids(BTC="100", ETH="100"))
        positions = [
            position("BTC", "1.0", "100", liq="80"),
            position("ETH", "-1.0", "100", liq="105"),
        ]
        # ETH is 5 % from liquidation at start: fires (a risk state, not a price level).
        assert step(store, eng, clock, clearinghouse(positions)) == ["ETH 5.0% from liquidation"]
        assert step(store, eng, clock, mids(BTC="95", ETH="100")) == []
        alerts = step(store, eng, clock, mids(BTC="88", ETH="100.5"))
        assert alerts == ["BTC 9.1% from liquidation"]
        assert eng.evaluate(store, None) == []

    def test_liq_distance_one_coin_and_rearm(self, store: Store, clock: FakeClock) -> None:
        """A per-coin rule ignores other positions and re-arms once back past the band."""
        eng = engine(clock, LiqDistance(Decimal(10), coin="BTC"))
        store.apply(mids(BTC="100", ETH="100"))
        near_eth = position("ETH", "-1.0", "100", liq="101")  # 1 % away: not this rule's coin
        account = clearinghouse([position("BTC", "1.0", "100", liq="80"), near_eth])
        assert step(store, eng, clock, account) == []
        assert step(store, eng, clock, mids(BTC="89", ETH="100")) == []  # 10.11 %
        assert step(store, eng, clock, mids(BTC="88", ETH="100")) == ["BTC 9.1% from liquidation"]
        assert step(store, eng, clock, mids(BTC="87", ETH="100")) == []
        assert step(store, eng, clock, mids(BTC="89", ETH="100")) == []  # back: re-armed
        assert step(store, eng, clock, mids(BTC="88", ETH="100")) == ["BTC 9.1% from liquidation"]

    def test_liq_closed_position_starts_over(self, store: Store, clock: FakeClock) -> None:
        """A position that closes and reopens already close to liquidation alerts again."""
        eng = engine(clock, LiqDistance(Decimal(10)))
        store.apply(mids(BTC="100"))
        near = clearinghouse([position("BTC", "1.0", "100", liq="95")])
        assert step(store, eng, clock, near) == ["BTC 5.0% from liquidation"]
        assert step(store, eng, clock, near) == []
        assert step(store, eng, clock, clearinghouse([])) == []
        assert step(store, eng, clock, near) == ["BTC 5.0% from liquidation"]

    def test_margin_ratio(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, MarginRatio(Decimal(80)))
        store.set_account_mode(USER, "default")
        assert step(store, eng, clock, clearinghouse([], maint="7000", value="10000")) == []
        alerts = eng.evaluate(store, None)
        assert alerts == []
        store.apply(clearinghouse([], maint="8100", value="10000"))
        alerts = eng.evaluate(store, store.take_changes())
        assert [(a.title, a.level) for a in alerts] == [("Margin ratio 81.00%", "error")]
        assert step(store, eng, clock, clearinghouse([], maint="9000", value="10000")) == []
        assert step(store, eng, clock, clearinghouse([], maint="7990", value="10000")) == []
        assert step(store, eng, clock, clearinghouse([], maint="8500", value="10000")) == [
            "Margin ratio 85.00%"
        ]

    def test_margin_ratio_waits_for_the_mode(self, store: Store, clock: FakeClock) -> None:
        """Which ratio applies depends on the mode: unknown is no alert, never a guess."""
        eng = engine(clock, MarginRatio(Decimal(80)))
        assert step(store, eng, clock, clearinghouse([], maint="9000", value="10000")) == []
        store.set_account_mode(USER, "disabled")
        assert step(store, eng, clock) == ["Margin ratio 90.00%"]

    def test_unified_account_ratio_from_spot(self, store: Store, clock: FakeClock) -> None:
        """Unified: cross maintenance over the spot collateral, not the perp account value."""
        eng = engine(clock, MarginRatio(Decimal(80)))
        store.set_account_mode(USER, "unifiedAccount")
        # accountValue reads ~0 under a unified account: the perp figure would be meaningless.
        assert step(store, eng, clock, clearinghouse([], maint="70", value="0.0")) == []
        assert step(store, eng, clock, spot_msg("100.0")) == []  # 70 %
        alerts = step(store, eng, clock, spot_msg("85.0"))  # 70 / 85 = 82.35 %
        assert alerts == ["Unified account ratio 82.35%"]

    def test_portfolio_margin_ratio_is_the_servers(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, MarginRatio(Decimal(90)))
        store.set_account_mode(USER, "portfolioMargin")
        store.apply(clearinghouse([], maint="70", value="0.0"))
        assert step(store, eng, clock, spot_msg("100.0", pm_ratio="0.5")) == []
        clock.advance(1)
        store.apply(spot_msg("100.0", pm_ratio="0.96"))
        (alert,) = eng.evaluate(store, store.take_changes())
        assert alert.title == "Portfolio margin ratio 96.00%"
        assert "liquidatable above 95%" in alert.body

    def test_upnl_above_and_below(self, store: Store, clock: FakeClock) -> None:
        """Live uPnL (szi * (mark - entry)) against both bounds, each armed on its own."""
        eng = engine(clock, UpnlBeyond(above=Decimal(500), below=Decimal(-200)))
        store.apply(mids(BTC="100"))
        assert step(store, eng, clock, clearinghouse([position("BTC", "10", "100")])) == []
        assert step(store, eng, clock, mids(BTC="97")) == []  # -30
        assert step(store, eng, clock, mids(BTC="79")) == ["uPnL -210.00"]
        assert step(store, eng, clock, mids(BTC="75")) == []
        assert step(store, eng, clock, mids(BTC="151")) == ["uPnL +510.00"]
        assert step(store, eng, clock, mids(BTC="152")) == []


class TestFills:
    def test_history_skipped_new_fills_fire(self, store: Store, clock: FakeClock) -> None:
        """The snapshot's old fills are history; each later batch fires one alert."""
        eng = engine(clock, AnyFill())
        now_ms = int(clock.now * 1000)  # the exchange time in clearinghouse() too
        assert eng.evaluate(store, set()) == []
        # The snapshot may come before the account: history is judged once the account is in.
        snapshot = [fill(1, now_ms - 60_000), fill(2, now_ms - 30_000)]
        assert step(store, eng, clock, fills_msg(snapshot, snapshot=True)) == []
        assert step(store, eng, clock, clearinghouse([])) == []
        assert step(store, eng, clock, fills_msg([fill(6, now_ms - 1)], snapshot=True)) == []
        alerts = step(store, eng, clock, fills_msg([fill(3, now_ms + 1000, px="101.5")]))
        assert alerts == ["Fill: BTC"]
        assert eng.evaluate(store, {"fills"}) == []
        batch = [fill(4, now_ms + 2000, coin="ETH"), fill(5, now_ms + 2001, coin="ETH")]
        clock.advance(1)
        store.apply(fills_msg(batch))
        (alert,) = eng.evaluate(store, store.take_changes())
        assert alert.title == "2 fills"
        assert alert.body == "BUY 0.1 ETH @ 100.00 (Open Long); BUY 0.1 ETH @ 100.00 (Open Long)"

    def test_a_spot_fill_is_named_by_its_pair(self, store: Store, clock: FakeClock) -> None:
        """The exchange's ``@107`` is HYPE/USDC in the alert, as on screen."""
        store.set_catalog(default_catalog())
        eng = engine(clock, AnyFill())
        t = int(clock.now * 1000)
        store.apply(clearinghouse([]))
        eng.evaluate(store, store.take_changes())
        clock.advance(1)
        store.apply(fills_msg([fill(1, t + 1, coin="@107", px="40.0")]))
        (alert,) = eng.evaluate(store, store.take_changes())
        assert alert.title == "Fill: HYPE/USDC"
        assert alert.body == "BUY 0.1 HYPE/USDC @ 40.000 (Open Long)"

    def test_fills_inside_cooldown_are_held_then_delivered(
        self, store: Store, clock: FakeClock
    ) -> None:
        """No fill goes unannounced: fills inside the cooldown arrive as one alert after it."""
        eng = engine(clock, AnyFill(), cooldown_s=30)
        t = int(clock.now * 1000)
        store.apply(clearinghouse([]))
        eng.evaluate(store, store.take_changes())
        assert step(store, eng, clock, fills_msg([fill(1, t + 1)])) == ["Fill: BTC"]
        assert step(store, eng, clock, fills_msg([fill(2, t + 2)])) == []
        assert step(store, eng, clock, fills_msg([fill(3, t + 3)])) == []
        assert step(store, eng, clock, dt=10) == []
        held = eng.evaluate(store, set())
        assert held == []
        clock.advance(20)  # 32 s after the first alert
        (alert,) = eng.evaluate(store, set())
        assert alert.title == "Fill: BTC (+1 more)"
        assert "held 2 during the 30 s cooldown" in alert.body


class TestDeadMan:
    def _live(self, store: Store) -> None:
        store.expect("mids")
        store.expect("account")
        store.apply(mids(BTC="100"))

    def test_stale_with_positions_fires_once(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, DeadMan(30))
        self._live(store)
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        assert eng.evaluate(store, store.take_changes()) == []
        clock.advance(12 + 29)  # account threshold 12 s: stale for 29 s
        assert eng.evaluate(store, set()) == []
        clock.advance(2)
        (alert,) = eng.evaluate(store, set())
        assert (alert.rule_id, alert.title, alert.level) == (
            "deadman 30s",
            "Data stale with open positions",
            "error",
        )
        assert "1 position open" in alert.body and "account stale 31 s" in alert.body
        assert "mids stale 28 s" not in alert.body  # mids (15 s threshold) 28 s: below 30
        clock.advance(60)
        assert eng.evaluate(store, set()) == []  # still stale: no repeat
        # Data back: re-armed; stale again later: fires again.
        store.apply(mids(BTC="101"))
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        assert eng.evaluate(store, store.take_changes()) == []
        clock.advance(50)
        assert [a.title for a in eng.evaluate(store, set())] == ["Data stale with open positions"]

    def test_a_reconnect_does_not_make_an_old_fill_an_old_outage(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Fills quiet for ten minutes on a live socket: a reconnect makes them stale, but
        stale since the socket went quiet, not since the last fill. The switch fires after
        30 s of that, not at once."""
        eng = engine(clock, DeadMan(30))
        store.health.set_connection(ConnState.LIVE, url="wss://x/ws")
        for feed in ("mids", "account", "fills"):
            store.expect(feed)
        store.apply(fills_msg([fill(1, int(clock.now * 1000) - 1000)], snapshot=True))
        for _ in range(600):  # the market and the account push; no fill
            clock.advance(1)
            store.apply(mids(BTC="100"))
            store.apply(clearinghouse([position("BTC", "1.0", "100")]))
            store.health.note_alive()
            assert eng.evaluate(store, store.take_changes()) == []
        store.health.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=1.0)
        clock.advance(1)
        assert store.feed_status("fills").state is FeedState.STALE
        assert eng.evaluate(store, store.take_changes()) == []  # was "fills stale 541 s"
        clock.advance(30)
        (alert,) = eng.evaluate(store, set())
        assert "fills stale 31 s" in alert.body

    def test_not_when_flat(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, DeadMan(30))
        self._live(store)
        store.apply(clearinghouse([]))
        clock.advance(600)
        assert store.stale_feeds() == ["mids", "account"]
        assert eng.evaluate(store, set()) == []

    def test_missing_feed_counts_from_first_sight(self, store: Store, clock: FakeClock) -> None:
        """An expected feed that never arrived is stale from when the rule first saw it."""
        eng = engine(clock, DeadMan(5))
        self._live(store)
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        store.expect("book:BTC")
        assert eng.evaluate(store, set()) == []
        clock.advance(4)
        store.apply(mids(BTC="100"))
        store.apply(clearinghouse([position("BTC", "1.0", "100")]))
        assert eng.evaluate(store, set()) == []
        clock.advance(2)
        (alert,) = eng.evaluate(store, set())
        assert "book:BTC stale 6 s" in alert.body


class TestRuntime:
    def test_add_remove_and_dedupe(self, store: Store, clock: FakeClock) -> None:
        eng = engine(clock, DeadMan(30))
        rule = parse_price_rule("BTC > 110,000")
        assert rule == PriceCross("BTC", "above", Decimal(110000))
        assert eng.add(rule) == "price BTC > 110000"
        assert eng.add(PriceCross("BTC", "above", Decimal("110000.0"))) == "price BTC > 110000"
        assert [r.rule_id for r in eng.rules] == ["deadman 30s", "price BTC > 110000"]
        store.apply(mids(BTC="100000"))
        store.take_changes()
        # A new rule is looked at on the next evaluation even without a change.
        assert eng.evaluate(store, set()) == []
        store.apply(mids(BTC="110001"))
        assert [a.rule_id for a in eng.evaluate(store, store.take_changes())] == [
            "price BTC > 110000"
        ]
        assert eng.remove("price BTC > 110000") and not eng.remove("price BTC > 110000")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("ETH < 3000", PriceCross("ETH", "below", Decimal(3000))),
            ("kPEPE above 0.012", PriceCross("kPEPE", "above", Decimal("0.012"))),
            ("BTC > 1_000", PriceCross("BTC", "above", Decimal(1000))),
        ],
    )
    def test_parse_price_rule(self, text: str, expected: PriceCross) -> None:
        assert parse_price_rule(text) == expected

    @pytest.mark.parametrize(
        "text", ["BTC", "BTC = 1", "BTC > -5", "BTC > x", "BTC > 1 2", "ab" * 32 + " > 1"]
    )
    def test_parse_price_rule_errors(self, text: str) -> None:
        with pytest.raises(ValueError) as info:
            parse_price_rule(text)
        assert "ab" * 32 not in str(info.value)


class TestLiquidated:
    def _liq(self, tid: int, time_ms: int) -> dict[str, object]:
        return {
            **fill(tid, time_ms, coin="ETH"),
            "dir": "Liquidated Cross Long",
            "hash": f"0x{tid}",
        }

    def test_on_by_default_history_skipped_each_new_one_fires_once(
        self, store: Store, clock: FakeClock
    ) -> None:
        eng = AlertEngine(Settings().alerts.rules, clock=clock, cooldown_s=0.0)
        now_ms = int(clock.now * 1000)
        # A liquidation in the fills snapshot from before hlmon saw the account: history.
        assert step(store, eng, clock, fills_msg([self._liq(1, now_ms - 60_000)], True)) == []
        assert step(store, eng, clock, clearinghouse([])) == []
        alerts = eng.evaluate(store, None)
        assert alerts == []
        clock.advance(1)
        store.apply(fills_msg([self._liq(2, now_ms + 1000)]))
        (alert,) = eng.evaluate(store, store.take_changes())
        assert (alert.rule_id, alert.title, alert.level) == (
            "liquidation",
            "LIQUIDATED: ETH",
            "error",
        )
        assert "LIQUIDATED: 0.1 ETH at 100.00 (from fill)" in alert.body
        # The same liquidation again (REST reconciliation, a replayed snapshot): no second alert.
        assert step(store, eng, clock, fills_msg([self._liq(2, now_ms + 1000)], True)) == []
        # The user event of a liquidation carries no time: always news.
        event = {"lid": 9, "liquidator": "0x" + "2" * 40, "liquidated_user": USER,
                 "liquidated_ntl_pos": "10.0", "liquidated_account_value": "1.0"}  # fmt: skip
        assert step(store, eng, clock, msg("user", {"liquidation": event})) == ["LIQUIDATED"]
