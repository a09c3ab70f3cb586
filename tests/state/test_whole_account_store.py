"""The whole account in the store (#14): spot per watched address, TWAPs and their slice fills,
own liquidations from every signal, the mode and equity by mode, tolerant answers logged once."""

from __future__ import annotations

import json
from typing import Any

from hlmon.protocol import info
from hlmon.protocol.account_types import UserRole
from hlmon.state import Source, Store
from hlmon.state.account_modes import AccountMode
from hlmon.state.equity import RatioKind

from .conftest import OTHER, USER, FakeClock, clearinghouse, fill, msg, position

TWAP = {"coin": "ETH", "user": USER, "side": "B", "sz": "2.0", "executedSz": "0.5",
        "executedNtl": "1000.0", "minutes": 10, "timestamp": 1_790_000_000_000,
        "reduceOnly": False, "randomize": False}  # fmt: skip


def spot(user: str = USER, *rows: dict[str, Any], **extra: Any) -> Any:
    return msg("spotState", {"user": user, "spotState": {"balances": list(rows), **extra}})


def usdc(total: str, hold: str = "0.0") -> dict[str, Any]:
    return {"coin": "USDC", "token": 0, "total": total, "hold": hold, "entryNtl": "0.0"}


def hype(total: str) -> dict[str, Any]:
    return {"coin": "HYPE", "token": 150, "total": total, "hold": "0.0", "entryNtl": "100.0"}


def test_spot_lands_for_the_selected_and_every_watched_account(store: Store) -> None:
    store.set_watched_users([USER, OTHER])
    store.take_changes()
    store.apply(spot(USER, usdc("100.0")))
    assert store.take_changes() == {"spot", "accounts"}
    store.apply(spot(OTHER, usdc("7.0")), Source.REST)
    assert store.take_changes() == {"accounts"}
    state = store.spot_state()
    other = store.spot_state(OTHER)
    assert state is not None and state.balances[0].total == "100.0"
    assert other is not None and other.balances[0].total == "7.0"
    store.apply(spot("0x" + "9" * 40, usdc("1.0")))
    assert store.ignored_user_msgs == 1
    # Switching shows the other account's spot at once, with its own age and source.
    store.set_user(OTHER)
    valued = store.spot_valuation()
    assert valued is not None and valued.rows[0].total == "7.0"
    assert store.source_of("spot") is Source.REST


def test_the_same_balances_pushed_again_change_nothing_but_the_stamp(
    store: Store, clock: FakeClock
) -> None:
    """The exchange re-pushes the balances every few seconds: then the held state (and what
    was valued from it) stays, with no change for the header or the Spot tab."""
    store.apply(spot(USER, usdc("100.0"), hype("2.0")))
    store.take_changes()
    held, equity = store.spot_state(), store.equity()
    clock.advance(2.0)
    store.apply(spot(USER, usdc("100.0"), hype("2.0")))
    assert store.take_changes() == set()
    assert store.spot_state() is held and store.equity() is equity
    stamp = store.stamp("spot")
    assert stamp is not None and stamp.received_at == clock()
    store.apply(spot(USER, usdc("100.0"), hype("2.5")), Source.REST)
    assert store.take_changes() == {"spot", "accounts"}
    state = store.spot_state()
    assert state is not None and state.balances[1].total == "2.5"
    assert store.source_of("spot") is Source.REST


def test_spot_without_a_catalog_values_usdc_only_and_says_what_is_unknown(store: Store) -> None:
    store.apply(spot(USER, usdc("100.0"), hype("2.0")))
    valued = store.spot_valuation()
    assert valued is not None
    assert [(r.name, r.value_usd) for r in valued.rows] == [("USDC", "100"), ("HYPE", None)]
    assert valued.value_usd is None and valued.unpriced == ("HYPE",)


def test_unified_equity_is_spot_plus_upnl_with_the_unified_ratio(store: Store) -> None:
    store.set_account_mode(USER, "unifiedAccount")
    store.apply(clearinghouse([position("BTC", "0.1", "100.0", upnl="25.0")], value="0.0",
                              maint="40.0"))  # fmt: skip
    store.apply(spot(USER, usdc("1000.0", hold="200.0")))
    eq = store.equity()
    assert eq.mode is AccountMode.UNIFIED and eq.ratio_kind is RatioKind.UNIFIED
    assert eq.equity_usd == "1025"
    assert eq.ratio == "0.04"  # 40 / (1000 - 0 isolated)
    # The same figures again are served from the cache; a new push is seen.
    assert store.equity() is eq
    store.apply(spot(USER, usdc("2000.0")))
    assert store.equity().equity_usd == "2025"


def test_standard_equity_uses_the_perp_pool_and_modes_can_change(store: Store) -> None:
    store.set_account_mode(USER, "default")
    store.apply(clearinghouse([], value="500.0", maint="0.0"))
    store.apply(spot(USER, usdc("10.0")))
    eq = store.equity()
    assert eq.mode is AccountMode.STANDARD and eq.equity_usd == "510"
    store.apply(msg("webData3", {"userState": {"user": USER, "abstraction": "portfolioMargin"}}))
    reading = store.account_mode()
    assert reading is not None and reading.source == "webData3"
    assert reading.label == "portfolio margin"
    assert store.equity().ratio_kind is RatioKind.PORTFOLIO_MARGIN


def test_an_unknown_mode_is_logged_and_shown_raw(store: Store) -> None:
    store.set_account_mode(USER, "somethingNew")
    reading = store.account_mode()
    assert reading is not None and reading.mode is None and reading.label == "somethingNew"
    assert store.equity().equity_usd is None
    assert any("unknown account mode 'somethingNew'" in e.text for e in store.health.events)


def test_roles_and_history_are_kept_per_address(store: Store, clock: FakeClock) -> None:
    store.set_user_role(OTHER, UserRole("agent", None))
    assert store.user_role(OTHER) == UserRole("agent", None) and store.user_role() is None
    periods = info.decode_response(
        info.portfolio(USER),
        json.dumps([["day", {"accountValueHistory": [[2, "11.0"], [1, "10.0"]]}],
                    ["week", {"accountValueHistory": [[1, "9"], [2, "10"], [3, "11"]]}]]),
    )  # fmt: skip
    store.set_portfolio(USER, periods)
    history = store.equity_history()
    assert history is not None and history.period == "week" and history.span_ms == 2
    assert store.take_changes() >= {"role", "equityHistory"}


def test_twap_states_and_slice_fills_from_both_channels(store: Store) -> None:
    store.apply(msg("twapStates", {"user": USER, "dex": "", "states": [[7, TWAP]]}))
    (twap,) = store.twaps()
    assert (twap.twap_id, twap.coin, twap.fraction, twap.percent) == (7, "ETH", "0.25", "25.0")
    assert twap.time_left_ms == 600_000
    assert store.feed_status("twaps").state == "live"
    slice_fill = {**fill(11, 90, 5, coin="ETH"), "hash": "0x" + "0" * 64, "twapId": None}
    slices = [{"fill": slice_fill, "twapId": 7}]
    store.apply(msg("user", {"twapSliceFills": slices}))
    store.apply(
        msg("userTwapSliceFills", {"user": USER, "isSnapshot": True, "twapSliceFills": slices})
    )
    fills = store.fills()
    assert [(f.tid, f.twapId) for f in fills] == [(11, 7)]
    item = {"time": 1_790_000_000, "state": TWAP, "status": {"status": "activated"}, "twapId": 7}
    store.apply(msg("user", {"twapHistory": [item]}))
    store.apply(msg("userTwapHistory", {"user": USER, "history": [item]}))
    assert len(store.twap_history()) == 1


def test_a_rebuilt_twap_waits_for_its_slice_fills(store: Store) -> None:
    """REST mode: with the history in and no slice fills answered, how much a TWAP has
    executed is not known (not 0); an answer, even an empty one, makes it known; another
    account waits for its own."""
    item = {"time": 1_790_000_000, "state": TWAP, "status": {"status": "activated"}, "twapId": 7}
    store.apply(msg("userTwapHistory", {"user": USER, "history": [item]}), Source.REST)
    (twap,) = store.twaps()
    assert twap.derived and twap.slices_waiting
    store.take_changes()
    answer = {"user": USER, "twapSliceFills": []}
    store.apply(msg("userTwapSliceFills", answer), Source.REST)
    (twap,) = store.twaps()
    assert (twap.slices_waiting, twap.executed) == (False, "0")
    assert "twaps" in store.take_changes()  # the rows change: their progress is known now
    store.apply(msg("userTwapSliceFills", answer), Source.REST)
    assert "twaps" not in store.take_changes()  # known already: nothing more to redraw
    store.set_user(OTHER)
    store.apply(msg("userTwapHistory", {"user": OTHER, "history": [item]}), Source.REST)
    (twap,) = store.twaps()
    assert twap.slices_waiting


def _liq_fill(**over: Any) -> dict[str, Any]:
    return {**fill(50, 60, 1_790_000_001_000, coin="ETH"), "dir": "Liquidated Isolated Short",
            "hash": "0xab", **over}  # fmt: skip


def test_own_liquidation_from_each_signal_logged_once(store: Store) -> None:
    store.apply(msg("userFills", {"user": USER, "fills": [_liq_fill()]}))
    store.apply(msg("userFills", {"user": USER, "fills": [_liq_fill()]}))  # a replay
    event = {"lid": 3, "liquidator": OTHER, "liquidated_user": USER,
             "liquidated_ntl_pos": "500.0", "liquidated_account_value": "20.0"}  # fmt: skip
    store.apply(msg("user", {"liquidation": event}))
    delta = {"type": "liquidation", "liquidatedNtlPos": "500.0", "accountValue": "20.0",
             "liquidatedPositions": [{"coin": "ETH", "szi": "-1"}]}  # fmt: skip
    ledger = {"time": 9, "hash": "0xcd", "delta": delta}
    store.apply(
        msg("userNonFundingLedgerUpdates", {"user": USER, "nonFundingLedgerUpdates": [ledger]})
    )
    found = store.own_liquidations()
    assert [e.source.value for e in found] == ["fill", "userEvent", "ledger"]
    lines = [e for e in store.health.events if e.text.startswith("LIQUIDATED")]
    assert len(lines) == 3 and all(e.level == "error" for e in lines)
    # Amounts read as money, at a price's or a dollar's precision, whatever the wire's text.
    assert [e.text for e in lines][:2] == [
        "LIQUIDATED: 0.1 ETH at 100.00 (from fill)",
        "LIQUIDATED: positions, notional $500.00, account value $20.00 (from userEvent)",
    ]
    assert "liquidations" in store.take_changes()


def test_absorbing_someone_elses_liquidation_is_no_alarm(store: Store) -> None:
    named = {"liquidatedUser": OTHER, "markPx": "1", "method": "market"}
    absorbed = _liq_fill(dir="Close Long", liquidation=named)
    store.apply(msg("userFills", {"user": USER, "fills": [absorbed]}))
    event = {"lid": 4, "liquidator": USER, "liquidated_user": OTHER,
             "liquidated_ntl_pos": "5.0", "liquidated_account_value": "1.0"}  # fmt: skip
    store.apply(msg("user", {"liquidation": event}))
    assert store.own_liquidations() == []
    assert not any(e.level == "error" for e in store.health.events)


def test_an_answer_with_one_fill_without_fee_keeps_every_fill_and_is_logged_once(
    store: Store,
) -> None:
    """A REST answer with one odd item: the rest survives; counted every time, logged once."""
    no_fee = fill(2, 2, 2)
    del no_fee["fee"]
    body = json.dumps([fill(1, 1, 1), no_fee, fill(3, 3, 3), {"coin": "BTC"}])
    req = info.user_fills(USER)
    for _ in range(2):
        answer = info.decode_response(req, body)
        message = info.to_message(req, answer, USER)
        assert message is not None
        store.apply(message, Source.REST)
    assert sorted(f.tid for f in store.fills()) == [1, 2, 3]
    assert next(f for f in store.fills() if f.tid == 2).fee_known is False
    lines = [e.text for e in store.health.events if e.text.startswith("userFills:")]
    assert lines == [
        "userFills: 1 fill without fee: shown with fee 0 (unknown token); 1 unreadable left out"
    ]
    assert store.health.tolerated["userFills"] == [2, 2, 2]
    totals = store.fee_totals()
    assert totals.by_token == {"USDC": "0.02"} and totals.unknown == 1


def test_switching_account_clears_twaps_and_liquidations_but_keeps_facts(store: Store) -> None:
    store.set_watched_users([USER, OTHER])
    store.set_account_mode(USER, "unifiedAccount")
    store.apply(msg("twapStates", {"user": USER, "states": [[7, TWAP]]}))
    store.apply(msg("userFills", {"user": USER, "fills": [_liq_fill()]}))
    store.set_user(OTHER)
    assert store.twaps() == [] and store.own_liquidations() == []
    assert store.feed_status("twaps").state == "missing"
    reading = store.account_mode(USER)
    assert reading is not None and reading.mode is AccountMode.UNIFIED
    assert store.account_mode() is None
