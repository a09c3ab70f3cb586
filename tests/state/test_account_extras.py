"""Order statuses as an open set, account modes, fees per token, own liquidations, TWAP
progress (#14): the pure models, fed with decoded wire shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import decode
from hlmon.protocol import messages as m
from hlmon.protocol.account_types import (
    Fill,
    LedgerUpdate,
    Liquidation,
    TwapHistoryItem,
    TwapState,
    TwapStatus,
)
from hlmon.state.account_modes import AccountMode, mode_of_web_data3, normalise_mode
from hlmon.state.fees import total_fees
from hlmon.state.liquidations import (
    LiquidationDetector,
    LiquidationSource,
    absorbed_key,
    event_liquidation,
    fill_liquidation,
    ledger_liquidations,
)
from hlmon.state.order_status import (
    OrderClass,
    classify_status,
    is_triggered,
    keeps_order,
    status_text,
)
from hlmon.state.twap import derived_twaps, twap_progress, twaps_of

from .conftest import USER

OTHER = "0x360878d351f05975e25f1807a27895e1e5e004fb"
PAYLOADS_USER_FILL = {
    "coin": "BTC", "px": "66653.0", "sz": "0.001", "side": "A", "time": 1781528065899,
    "startPosition": "-0.0213", "dir": "Open Short", "closedPnl": "0.0",
    "hash": "0xe29fd267b4d2c6f0e41904231bbec90000daea4d4fd5e5c286687dba73d6a0db",
    "oid": 55030848197, "crossed": False, "fee": "0.009997", "tid": 745210434703679,
    "liquidation": {"liquidatedUser": OTHER, "markPx": "66607.0", "method": "market"},
    "feeToken": "USDC", "twapId": None,
}  # fmt: skip  # the recorded liquidator-side fill (ws_user.json, nautilus_trader)


def _fill(**over: Any) -> Fill:
    base: dict[str, Any] = {
        "coin": "ETH", "px": "2000.0", "sz": "1.0", "side": "A", "time": 1, "startPosition": "1",
        "dir": "Close Long", "closedPnl": "0", "hash": "0xaa", "oid": 1, "crossed": True,
        "fee": "0.5", "tid": 1, "feeToken": "USDC",
    }  # fmt: skip
    base.update(over)
    return Fill(**base)


# --------------------------------------------------------------------------- order statuses


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        ("open", OrderClass.LIVE),
        ("triggered", OrderClass.LIVE),
        ("filled", OrderClass.FILLED),
        ("canceled", OrderClass.ENDED),
        ("scheduledCancel", OrderClass.ENDED),
        ("internalCancel", OrderClass.ENDED),
        ("rejected", OrderClass.ENDED),
        ("marginCanceled", OrderClass.ENDED),
        ("outcomeSettledCanceled", OrderClass.ENDED),
        ("siblingFilledCanceled", OrderClass.ENDED),
        ("tooManyOpenOrdersRejected", OrderClass.ENDED),
        ("perpMaxPositionRejected", OrderClass.ENDED),
        ("waitingForSomething", OrderClass.UNKNOWN),
        ("", OrderClass.UNKNOWN),
        ("Open", OrderClass.UNKNOWN),
    ],
)
def test_statuses_are_classified_as_an_open_set(status: str, cls: OrderClass) -> None:
    assert classify_status(status) == cls
    assert keeps_order(status) is (cls in (OrderClass.LIVE, OrderClass.UNKNOWN))


def test_a_triggered_stop_stays_listed_and_is_marked() -> None:
    assert keeps_order("triggered") and is_triggered("triggered") and not is_triggered("open")
    assert status_text("marginCanceled") == "margin canceled"
    assert status_text("badAloPxRejected") == "bad alo px rejected"
    assert status_text("open") == "open"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.sampled_from(["Canceled", "Rejected"]))
def test_property_any_canceled_or_rejected_suffix_ends_the_order(stem: str, tail: str) -> None:
    assert classify_status(stem + tail) == OrderClass.ENDED


# --------------------------------------------------------------------------- account modes


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("default", AccountMode.STANDARD),
        ("disabled", AccountMode.STANDARD),
        ("dexAbstraction", AccountMode.STANDARD),
        ("unifiedAccount", AccountMode.UNIFIED),
        ("portfolioMargin", AccountMode.PORTFOLIO_MARGIN),
        ("somethingNew", None),
        ("", None),
        (None, None),
        (7, None),
        (AccountMode.UNIFIED, AccountMode.UNIFIED),
    ],
)
def test_modes_normalise_to_three_and_unknown_stays_unknown(raw: Any, mode: Any) -> None:
    assert normalise_mode(raw) == mode


def test_mode_from_web_data3_and_labels() -> None:
    frame = {
        "channel": "webData3",
        "data": {"userState": {"user": USER, "abstraction": "portfolioMargin"}},
    }
    msg = decode(json.dumps(frame))
    assert isinstance(msg, m.WebData3Msg)
    assert mode_of_web_data3(msg) == AccountMode.PORTFOLIO_MARGIN
    assert AccountMode.PORTFOLIO_MARGIN.label == "portfolio margin"
    assert AccountMode.UNIFIED.value == "unifiedAccount"  # the snapshot's spelling
    bare = decode(json.dumps({"channel": "webData3", "data": {"userState": {"user": USER}}}))
    assert isinstance(bare, m.WebData3Msg) and mode_of_web_data3(bare) is None


# --------------------------------------------------------------------------- fees


def test_fees_are_summed_per_token_never_across_tokens() -> None:
    fills = [
        _fill(tid=1, fee="0.5"),
        _fill(tid=2, fee="-0.1"),  # a rebate
        _fill(tid=3, fee="0.25", feeToken="USDH", builderFee="0.05"),
        _fill(tid=4, fee="0.000123", feeToken="USOL"),
        _fill(tid=5, fee="0", feeToken=""),  # the tolerant decoder's "fee not stated"
        _fill(tid=6, fee="oops"),
        _fill(tid=7, fee="0.1", builderFee="0.1"),
    ]
    totals = total_fees(fills)
    assert totals.by_token == {"USDC": "0.5", "USDH": "0.25", "USOL": "0.000123"}
    assert totals.builder_by_token == {"USDH": "0.05", "USDC": "0.1"}
    assert (totals.fills, totals.unknown) == (5, 2)
    assert totals.total("USDC") == "0.5" and totals.total("HYPE") is None
    assert total_fees([]).by_token == {}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["USDC", "USDH", "HYPE"]),
            st.decimals(-100, 100, places=6, allow_nan=False),
        ),
        max_size=20,
    )
)
def test_property_each_token_total_is_the_exact_sum_of_its_fees(
    fees: list[tuple[str, Decimal]],
) -> None:  # fmt: skip
    totals = total_fees(_fill(tid=i + 1, fee=str(fee), feeToken=token)
                        for i, (token, fee) in enumerate(fees))  # fmt: skip
    for token in {t for t, _ in fees}:
        expected = sum((fee for t, fee in fees if t == token), Decimal(0))
        assert Decimal(totals.by_token[token]) == expected
    assert totals.fills == len(fees)


# --------------------------------------------------------------------------- liquidations


def test_own_liquidation_from_a_fill_without_a_liquidation_object() -> None:
    own = fill_liquidation(_fill(dir="Liquidated Cross Long", hash="0xh1"), USER)
    assert own is not None and own.source == LiquidationSource.FILL
    assert (own.coin, own.hash, own.user, own.size, own.price) == ("ETH", "0xh1", USER, "1.0",
                                                                    "2000.0")  # fmt: skip
    # The size as the panes show it (``1``, not the wire's ``1.0``); the price at its precision.
    assert own.describe().startswith("LIQUIDATED: 1 ETH at 2,000.0")
    big = fill_liquidation(_fill(dir="Liquidated Cross Long", sz="1500.250"), USER)
    assert big is not None and big.describe().startswith("LIQUIDATED: 1,500.25 ETH at")


def test_own_liquidation_when_the_object_names_the_watched_address() -> None:
    liq = m.FillLiquidation(markPx="1", method="backstop", liquidatedUser=USER.upper())
    own = fill_liquidation(_fill(dir="Liquidated Isolated Short", liquidation=liq), USER)
    assert own is not None and own.method == "backstop"


def test_absorbed_liquidations_are_not_alarms() -> None:
    recorded = msgspec_fill(PAYLOADS_USER_FILL)
    assert fill_liquidation(recorded, USER) is None
    assert absorbed_key(recorded, USER) == (recorded.hash, OTHER, "BTC")
    # The backstop vault's own fill can carry a "Liquidated" dir; naming another user, it absorbs.
    liq = m.FillLiquidation(markPx="1", method="backstop", liquidatedUser=OTHER)
    backstop = _fill(dir="Liquidated Cross Long", liquidation=liq)
    assert fill_liquidation(backstop, USER) is None and absorbed_key(backstop, USER) is not None
    assert fill_liquidation(_fill(dir="Close Long"), USER) is None
    assert absorbed_key(_fill(), USER) is None


def msgspec_fill(data: dict[str, Any]) -> Fill:
    msg = decode(json.dumps({"channel": "user", "data": {"fills": [data]}}))
    assert isinstance(msg, m.UserEventsMsg) and msg.data.fills is not None
    return msg.data.fills[0]


def test_user_event_and_ledger_signals() -> None:
    event = Liquidation(lid=7, liquidator=OTHER, liquidated_user=USER.upper(),
                        liquidated_ntl_pos="5000.0", liquidated_account_value="100.0")  # fmt: skip
    own = event_liquidation(event, USER)
    assert own is not None and own.notional == "5000.0" and own.account_value == "100.0"
    assert own.hash == "lid:7" and own.time is None
    as_liquidator = Liquidation(lid=8, liquidator=USER, liquidated_user=OTHER,
                                liquidated_ntl_pos="1", liquidated_account_value="1")  # fmt: skip
    assert event_liquidation(as_liquidator, USER) is None
    delta = {
        "type": "liquidation",
        "liquidatedNtlPos": "900.0",
        "accountValue": "12.0",
        "leverageType": "Cross",
        "liquidatedPositions": [{"coin": "ETH", "szi": "-1.0"}, {"coin": "BTC", "szi": "0.1"}],
    }
    events = ledger_liquidations(LedgerUpdate(time=5, hash="0xh1", delta=delta), USER)
    assert [(e.coin, e.size, e.notional) for e in events] == [
        ("ETH", "-1.0", "900.0"),
        ("BTC", "0.1", "900.0"),
    ]
    bare = ledger_liquidations(LedgerUpdate(5, "0xh2", {"type": "liquidation"}), USER)
    assert [(e.coin, e.notional) for e in bare] == [("", None)]
    assert ledger_liquidations(LedgerUpdate(5, "0xh3", {"type": "deposit"}), USER) == []


def test_detector_reports_each_liquidation_once_across_signals_and_replays() -> None:
    det = LiquidationDetector(USER.upper())
    liquidated = [_fill(dir="Liquidated Cross Long", hash="0xh1", tid=t) for t in (1, 2, 3)]
    first = det.fills(liquidated)
    assert len(first) == 1  # three makers took it: one liquidation
    assert det.fills(liquidated) == []  # the snapshot replay after a reconnect
    delta = {"type": "liquidation", "liquidatedPositions": [{"coin": "ETH", "szi": "-1"}]}
    assert det.ledger([LedgerUpdate(2, "0xh1", delta)]) == []  # same hash, user, coin
    event = Liquidation(7, OTHER, USER, "1", "1")
    assert len(det.user_event(event)) == 1 and det.user_event(event) == []
    absorbed = msgspec_fill(PAYLOADS_USER_FILL)
    assert det.fills([absorbed, absorbed]) == [] and det.absorbed == 1


def test_detector_memory_is_bounded() -> None:
    det = LiquidationDetector(USER, memory=2)
    for n in range(3):
        det.fills([_fill(dir="Liquidated Cross Long", hash=f"0x{n}")])
    assert len(det.fills([_fill(dir="Liquidated Cross Long", hash="0x0")])) == 1  # forgotten


# --------------------------------------------------------------------------- TWAP


def _twap(**over: Any) -> TwapState:
    base: dict[str, Any] = {"coin": "BTC", "side": "B", "sz": "2.0", "executedSz": "0.5",
                            "executedNtl": "50000.0", "minutes": 30,
                            "timestamp": 1_790_000_000_000}  # fmt: skip
    base.update(over)
    return TwapState(**base)


def test_twap_progress_and_time_left() -> None:
    now = 1_790_000_000_000 + 10 * 60_000
    p = twap_progress(7, _twap(), now, dex="xyz")
    assert (p.twap_id, p.dex, p.fraction, p.percent) == (7, "xyz", "0.25", "25.0")
    assert (p.remaining, p.average_px) == ("1.5", "100000")
    assert p.ends_ms == 1_790_000_000_000 + 30 * 60_000 and p.time_left_ms == 20 * 60_000
    late = twap_progress(7, _twap(), now + 3_600_000)
    assert late.time_left_ms == 0
    fresh = twap_progress(1, _twap(executedSz="0.0", executedNtl="0.0"), now)
    assert fresh.average_px is None and fresh.fraction == "0"
    odd = twap_progress(1, _twap(sz="0", executedSz="x"), now)
    assert odd.fraction is None and odd.remaining is None
    triggered = twap_progress(1, _twap(trigger=m.TwapTrigger(px="1", above=False)), now)
    assert (triggered.trigger_px, triggered.trigger_above) == ("1", False)


def test_twaps_of_a_push() -> None:
    data = m.TwapStatesData(user=USER, states=[(1, _twap()), (2, _twap(coin="ETH"))], dex="")
    assert [(p.twap_id, p.coin) for p in twaps_of(data, 0)] == [(1, "BTC"), (2, "ETH")]


def _history(twap_id: int, status: str, time_s: int, **state: Any) -> TwapHistoryItem:
    return TwapHistoryItem(
        time=time_s, state=_twap(executedSz="0.0", executedNtl="0.0", **state),
        status=TwapStatus(status=status), twapId=twap_id,
    )  # fmt: skip


def test_twaps_rebuilt_from_history_and_slices() -> None:
    """Without twapStates: the TWAPs whose latest history entry says they run, each executed
    as far as its slice fills add up; a TWAP older than the slices held is at least that."""
    start_s = 1_790_000_000
    history = [
        _history(1, "activated", start_s),
        _history(2, "activated", start_s, coin="ETH", side="A", timestamp=start_s * 1000 + 5),
        _history(3, "activated", start_s - 600, coin="SOL"),
        _history(3, "finished", start_s - 300, coin="SOL"),  # ended: not listed
        _history(4, "activated", start_s),
        _history(4, "terminated", start_s),  # ended the same second: the later entry wins
        _history(5, "waitingForTrigger", start_s, coin="HYPE"),
    ]
    fills = [
        _fill(coin="BTC", px="100000", sz="0.25", twapId=1, tid=10),
        _fill(coin="BTC", px="102000", sz="0.25", twapId=1, tid=11),
        _fill(coin="SOL", px="150", sz="1", twapId=3, tid=12),
        _fill(coin="BTC", px="99000", sz="1", tid=13),  # not a slice
    ]
    now = start_s * 1000 + 10 * 60_000
    got = {t.twap_id: t for t in derived_twaps(history, fills, now)}
    assert list(got) == [1, 5, 2]  # oldest first (5 and 1 started together: by id)
    btc = got[1]
    assert (btc.executed, btc.executed_ntl, btc.average_px) == ("0.5", "50500", "101000")
    assert (btc.fraction, btc.derived, btc.partial) == ("0.25", True, False)
    assert (got[2].executed, got[2].average_px, got[2].side) == ("0", None, "A")
    assert got[5].coin == "HYPE"
    # Slices held only from a minute after the TWAPs started: at least what they show.
    partial = derived_twaps(history, fills, now, slices_from_ms=start_s * 1000 + 60_000)
    assert all(t.partial for t in partial)
