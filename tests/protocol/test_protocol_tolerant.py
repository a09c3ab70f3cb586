"""Tolerant decoding of account answers and frames (#14 item 7): a missing non-essential field
gets a neutral default and a count, an unreadable item costs that item, never the answer."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import ProtocolError, decode
from hlmon.protocol import info as i
from hlmon.protocol import messages as m
from hlmon.protocol.repair import FRAME_READERS, REST_READERS, Tolerance, tolerance_of

USER = "0x" + "ab" * 20
_SUMMARY = {"accountValue": "100.0", "totalNtlPos": "0.0", "totalRawUsd": "100.0",
            "totalMarginUsed": "0.0"}  # fmt: skip


def _fill(tid: int, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": "ETH", "px": "2321.2", "sz": "0.0086", "side": "B", "time": 1776756630725 + tid,
        "startPosition": "-0.0086", "dir": "Close Short", "closedPnl": "-0.04558",
        "hash": "0x" + "e2" * 32, "oid": 390478339309, "crossed": True, "fee": "0.008983",
        "tid": tid, "feeToken": "USDC", "twapId": None,
    }  # fmt: skip
    out.update(extra)
    return out


def _without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def _position(coin: str, **extra: Any) -> dict[str, Any]:
    pos: dict[str, Any] = {
        "coin": coin, "szi": "1.5", "leverage": {"type": "cross", "value": 10}, "entryPx": "100",
        "positionValue": "150", "unrealizedPnl": "0", "returnOnEquity": "0", "marginUsed": "15",
        "liquidationPx": None,
    }  # fmt: skip
    pos.update(extra)
    return {"type": "oneWay", "position": pos}


def _state(positions: list[Any], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "marginSummary": _SUMMARY, "crossMarginSummary": _SUMMARY, "withdrawable": "100.0",
        "assetPositions": positions, "crossMaintenanceMarginUsed": "1.0", "time": 1,
    }  # fmt: skip
    out.update(extra)
    return out


def _order(oid: int, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"coin": "BTC", "side": "B", "limitPx": "100000.0", "sz": "0.1",
                           "oid": oid, "timestamp": 1, "origSz": "0.1"}  # fmt: skip
    out.update(extra)
    return out


def _frame(channel: str, data: Any) -> str:
    return json.dumps({"channel": channel, "data": data})


# --------------------------------------------------------------------------- fills


def test_rest_user_fills_with_one_fill_missing_fee_keeps_every_fill() -> None:
    body = [_fill(1), _without(_fill(2), "fee", "feeToken"), _fill(3)]
    fills = i.decode_response(i.user_fills(USER), json.dumps(body))
    assert [f.tid for f in fills] == [1, 2, 3]
    odd = fills[1]
    assert odd.fee == "0" and odd.feeToken == "" and not odd.fee_known  # unknown, not USDC 0
    assert fills[0].fee == "0.008983" and fills[0].fee_known
    assert tolerance_of(fills) == Tolerance(dropped=0, defaulted=1)
    # The counts move onto the message the store applies.
    msg = i.to_message(i.user_fills(USER), fills)
    assert isinstance(msg, m.UserFillsMsg) and len(msg.data.fills) == 3
    assert tolerance_of(msg) == Tolerance(dropped=0, defaulted=1)
    assert decode(msgspec.json.encode(msg)) == msg


def test_rest_user_fills_with_one_fill_missing_coin_drops_just_that_fill() -> None:
    body = [_fill(1), _without(_fill(2), "coin"), _fill(3)]
    fills = i.decode_response(i.user_fills_by_time(USER, 0), json.dumps(body))
    assert [f.tid for f in fills] == [1, 3]
    assert tolerance_of(fills) == Tolerance(dropped=1, defaulted=0)
    assert tolerance_of(fills).describe("userFills") == "userFills: 1 unreadable item left out"


def test_ws_user_fills_frame_missing_fee_and_missing_coin() -> None:
    data = {
        "user": USER,
        "isSnapshot": True,
        "fills": [_fill(1), _without(_fill(2), "fee"), _without(_fill(3), "coin"), 7],
    }
    msg = decode(_frame("userFills", data))
    assert isinstance(msg, m.UserFillsMsg)
    assert [f.tid for f in msg.data.fills] == [1, 2] and msg.data.isSnapshot
    assert msg.data.fills[1].fee == "0" and msg.data.fills[1].feeToken == ""
    assert (msg.data.dropped, msg.data.defaulted) == (2, 1)
    assert tolerance_of(msg).describe("userFills") == (
        "userFills: 2 unreadable items left out, 1 kept with defaults for missing fields"
    )


def test_fill_identity_needs_a_tid_or_a_hash() -> None:
    no_hash = _without(_fill(5), "hash")  # tid identifies it: kept, hash ""
    no_tid = _without(_fill(0), "tid", "startPosition")  # hash + time identify it: kept
    neither = _without(_fill(0), "tid", "hash")
    no_oid = _without(_fill(6), "oid")
    no_px = _without(_fill(7), "px")
    body = [no_hash, no_tid, neither, no_oid, no_px]
    fills = i.decode_response(i.user_fills(USER), json.dumps(body))
    assert [(f.tid, f.hash) for f in fills] == [(5, ""), (0, "0x" + "e2" * 32)]
    assert fills[1].startPosition == ""
    assert tolerance_of(fills) == Tolerance(dropped=3, defaulted=2)


def test_fill_with_a_malformed_optional_field_keeps_the_fill() -> None:
    body = [_fill(1, liquidation="weird", builderFee=7, twapId="x"), _fill(2)]
    fills = i.decode_response(i.user_fills(USER), json.dumps(body))
    assert [f.tid for f in fills] == [1, 2]
    assert fills[0].liquidation is None and fills[0].builderFee is None and fills[0].twapId is None
    assert tolerance_of(fills).defaulted == 1


def test_user_event_fills_and_funding_are_tolerant() -> None:
    msg = decode(_frame("user", {"fills": [_without(_fill(1), "fee"), {"coin": "ETH"}]}))
    assert isinstance(msg, m.UserEventsMsg) and msg.data.fills is not None
    assert [f.tid for f in msg.data.fills] == [1]
    assert tolerance_of(msg) == Tolerance(dropped=1, defaulted=1)
    funding = {"time": 1, "coin": "BTC", "usdc": "0.1", "nSamples": None}  # no szi, rate
    fmsg = decode(_frame("user", {"funding": funding}))
    assert isinstance(fmsg, m.UserEventsMsg) and fmsg.data.funding is not None
    assert fmsg.data.funding.usdc == "0.1" and fmsg.data.funding.szi == ""
    lost = decode(_frame("user", {"funding": {"coin": "BTC"}}))
    assert isinstance(lost, m.UserEventsMsg) and lost.data.funding is None
    assert lost.data.dropped == 1
    slices = [{"fill": _without(_fill(4, twapId=9), "fee"), "twapId": 9},
              {"fill": _fill(5, twapId=9)}, {"fill": {"coin": "ETH"}, "twapId": 9}]  # fmt: skip
    smsg = decode(_frame("user", {"twapSliceFills": slices}))
    assert isinstance(smsg, m.UserEventsMsg) and smsg.data.twapSliceFills is not None
    assert [(x.fill.tid, x.twapId) for x in smsg.data.twapSliceFills] == [(4, 9), (5, 9)]
    assert tolerance_of(smsg) == Tolerance(dropped=1, defaulted=2)


# --------------------------------------------------------------------------- fundings, ledger


def test_fundings_rest_and_ws() -> None:
    good = {"time": 1, "hash": "0x1", "delta": {"type": "funding", "coin": "ETH", "usdc": "-1",
                                                  "szi": "2", "fundingRate": "0.0001"}}  # fmt: skip
    no_rate = {"time": 2, "hash": "0x2", "delta": {"type": "funding", "coin": "ETH", "usdc": "-1"}}
    no_coin = {"time": 3, "hash": "0x3", "delta": {"usdc": "-1"}}
    items = i.decode_response(i.user_funding(USER, 0), json.dumps([good, no_rate, no_coin]))
    assert [x.time for x in items] == [1, 2] and items[1].delta.fundingRate == ""
    assert tolerance_of(items) == Tolerance(dropped=1, defaulted=1)
    ws = {"user": USER, "fundings": [{"time": 1, "coin": "BTC", "usdc": "1", "szi": "1",
                                      "fundingRate": "0"}, {"time": 2}]}  # fmt: skip
    msg = decode(_frame("userFundings", ws))
    assert isinstance(msg, m.UserFundingsMsg) and len(msg.data.fundings) == 1
    assert msg.data.dropped == 1


def test_ledger_updates_drop_only_the_unreadable_item() -> None:
    body = [{"time": 1, "hash": "0x1", "delta": {"type": "deposit", "usdc": "5"}},
            {"time": 2, "delta": {"type": "deposit", "usdc": "5"}},
            {"time": 3, "hash": "0x3", "delta": {"type": "withdraw", "usdc": "1"}}]  # fmt: skip
    req = i.from_body({"type": "userNonFundingLedgerUpdates", "user": USER})
    updates = i.decode_response(req, json.dumps(body))
    assert [u.time for u in updates] == [1, 3] and tolerance_of(updates).dropped == 1
    msg = decode(_frame("userNonFundingLedgerUpdates",
                        {"user": USER, "nonFundingLedgerUpdates": body}))  # fmt: skip
    assert isinstance(msg, m.UserNonFundingLedgerUpdatesMsg)
    assert len(msg.data.nonFundingLedgerUpdates) == 2 and msg.data.dropped == 1


# --------------------------------------------------------------------------- orders


def test_open_orders_rest_and_ws_keep_readable_orders() -> None:
    child_ok, child_bad = _order(11, isTrigger=True), {"coin": "BTC"}
    body = [_order(1), _without(_order(2), "timestamp"), _without(_order(3), "oid"),
            _order(4, children=[child_ok, child_bad])]  # fmt: skip
    orders = i.decode_response(i.frontend_open_orders(USER), json.dumps(body))
    assert [o.oid for o in orders] == [1, 2, 4]
    assert orders[1].timestamp == 0 and [c.oid for c in orders[2].children] == [11]
    assert tolerance_of(orders) == Tolerance(dropped=2, defaulted=1)
    msg = decode(_frame("openOrders", {"user": USER, "dex": "xyz", "orders": body}))
    assert isinstance(msg, m.OpenOrdersMsg) and msg.data.dex == "xyz"
    assert [o.oid for o in msg.data.orders] == [1, 2, 4] and msg.data.dropped == 2
    rest_msg = i.to_message(i.frontend_open_orders(USER, "xyz"), orders)
    assert isinstance(rest_msg, m.OpenOrdersMsg) and rest_msg.data.dropped == 2


def test_order_updates_and_historical_orders() -> None:
    good = {"order": _order(1), "status": "triggered", "statusTimestamp": 5}
    no_stamp = {"order": _without(_order(2), "origSz"), "status": "open"}
    no_status = {"order": _order(3), "statusTimestamp": 5}
    msg = decode(_frame("orderUpdates", [good, no_stamp, no_status]))
    assert isinstance(msg, m.OrderUpdatesMsg)
    assert [(u.order.oid, u.status) for u in msg.data] == [(1, "triggered"), (2, "open")]
    assert msg.data[1].statusTimestamp == 0 and msg.data[1].order.origSz == ""
    assert tolerance_of(msg) == Tolerance(dropped=1, defaulted=1)
    history = i.decode_response(i.from_body({"type": "historicalOrders", "user": USER}),
                                json.dumps([good, no_status, {"order": 5}]))  # fmt: skip
    assert len(history) == 1 and tolerance_of(history).dropped == 2


# --------------------------------------------------------------------------- states


def test_clearinghouse_state_without_withdrawable_and_with_a_bad_position() -> None:
    no_coin = _position("ETH")
    del no_coin["position"]["coin"]
    body = _state([_position("BTC"), no_coin, _position("SOL", returnOnEquity=None)])
    del body["withdrawable"]
    state = i.decode_response(i.clearinghouse_state(USER), json.dumps(body))
    assert isinstance(state, m.ClearinghouseState)
    assert state.withdrawable == "0.0"
    assert [p.position.coin for p in state.assetPositions] == ["BTC", "SOL"]
    assert (state.dropped, state.defaulted) == (1, 2)  # the state and the SOL position
    assert i.decode_response(i.clearinghouse_state(USER), msgspec.json.encode(state)) == state
    msg = i.to_message(i.clearinghouse_state(USER, "xyz"), state)
    assert isinstance(msg, m.ClearinghouseStateMsg) and tolerance_of(msg) == Tolerance(1, 2)


def test_clearinghouse_state_summary_defaults_and_what_stays_required() -> None:
    thin = dict(_SUMMARY)
    del thin["totalRawUsd"]
    body = _state([], marginSummary=thin)
    state = i.decode_response(i.clearinghouse_state(USER), json.dumps(body))
    assert state.marginSummary.totalRawUsd == "0.0" and state.defaulted == 1
    for broken in (_without(_state([]), "assetPositions"), _state([], marginSummary=None),
                   _state([], marginSummary={"totalRawUsd": "1"})):  # fmt: skip
        with pytest.raises(ProtocolError):
            i.decode_response(i.clearinghouse_state(USER), json.dumps(broken))


def test_ws_clearinghouse_and_all_dexs_frames() -> None:
    data = {
        "user": USER,
        "dex": "xyz",
        "clearinghouseState": _without(_state([_position("xyz:TSLA")]), "withdrawable"),
    }
    msg = decode(_frame("clearinghouseState", data))
    assert isinstance(msg, m.ClearinghouseStateMsg) and msg.data.dex == "xyz"
    assert msg.data.clearinghouseState.withdrawable == "0.0" and tolerance_of(msg).defaulted == 1
    entries = [["", _state([_position("BTC"), {"position": {"coin": "ETH"}}])],
               ["xyz", _without(_state([]), "assetPositions")],
               ["flx", _without(_state([]), "withdrawable")], "junk"]  # fmt: skip
    all_msg = decode(_frame("allDexsClearinghouseState",
                            {"user": USER, "clearinghouseStates": entries}))  # fmt: skip
    assert isinstance(all_msg, m.AllDexsClearinghouseStateMsg)
    states = all_msg.data.by_dex()
    assert list(states) == ["", "flx"]  # xyz is unknown, not empty
    assert [p.position.coin for p in states[""].assetPositions] == ["BTC"]
    assert tolerance_of(all_msg) == Tolerance(dropped=3, defaulted=1)


def test_spot_state_rows_and_optional_portfolio_fields() -> None:
    body = {"balances": [{"coin": "USDC", "token": 0, "total": "5", "hold": "0", "entryNtl": "0"},
                         {"coin": "HYPE", "token": 150, "total": "1"},
                         {"token": 7, "total": "1", "hold": "0"},
                         {"coin": "+14880", "total": "2", "hold": "0", "entryNtl": "1"}],
            "portfolioMarginRatio": 0.5, "evmEscrows": "n/a"}  # fmt: skip
    state = i.decode_response(i.spot_clearinghouse_state(USER), json.dumps(body))
    assert [b.coin for b in state.balances] == ["USDC", "HYPE", "+14880"]
    assert state.balances[1].hold == "0.0" and state.balances[1].entryNtl is None
    assert state.portfolioMarginRatio is None and state.evmEscrows is None  # never a number
    assert (state.dropped, state.defaulted) == (1, 2)
    msg = decode(_frame("spotState", {"user": USER, "spotState": body}))
    assert isinstance(msg, m.SpotStateMsg) and tolerance_of(msg) == Tolerance(1, 2)
    with pytest.raises(ProtocolError):
        decode(_frame("spotState", {"user": USER, "spotState": {"balances": None}}))


def test_twap_frames_keep_readable_entries() -> None:
    state = {"coin": "BTC", "side": "B", "sz": "1", "executedSz": "0", "minutes": 5,
             "timestamp": 1}  # no executedNtl, user, flags  # fmt: skip
    entries = [[1, state], [2, {"coin": "BTC"}], ["3", state], [4, state, 5]]
    msg = decode(_frame("twapStates", {"user": USER, "states": entries}))
    assert isinstance(msg, m.TwapStatesMsg) and [t for t, _ in msg.data.states] == [1]
    assert msg.data.states[0][1].executedNtl == "" and tolerance_of(msg) == Tolerance(3, 1)
    history = [{"time": 1, "state": state, "status": {"status": "finished"}},
               {"time": 2, "state": {"coin": "x"}, "status": {"status": "error"}}]  # fmt: skip
    hmsg = decode(_frame("userTwapHistory", {"user": USER, "history": history}))
    assert isinstance(hmsg, m.UserTwapHistoryMsg) and len(hmsg.data.history) == 1
    assert tolerance_of(hmsg) == Tolerance(1, 1)


# --------------------------------------------------------------------------- shape errors


@pytest.mark.parametrize(
    "frame",
    [
        _frame("userFills", {"fills": []}),  # no user: the frame itself is unreadable
        _frame("userFills", {"user": USER, "fills": {"a": 1}}),
        _frame("openOrders", [1]),
        _frame("orderUpdates", {"a": 1}),
        _frame("twapStates", {"user": USER}),
        _frame("allDexsClearinghouseState", {"user": USER, "clearinghouseStates": None}),
        _frame("user", {"fills": 5}),
    ],
)
def test_a_frame_whose_own_shape_is_wrong_is_a_protocol_error(frame: str) -> None:
    with pytest.raises(ProtocolError):
        decode(frame)


def test_strict_answers_carry_no_tolerance() -> None:
    fills = i.decode_response(i.user_fills(USER), json.dumps([_fill(1)]))
    assert type(fills) is list and not tolerance_of(fills)
    assert not tolerance_of(decode(_frame("userFills", {"user": USER, "fills": [_fill(1)]})))
    assert not tolerance_of(decode(_frame("l2Book", {"coin": "BTC", "time": 1,
                                                     "levels": [[], []]})))  # fmt: skip
    assert tolerance_of(None) == Tolerance()


# --------------------------------------------------------------------------- properties

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=6),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids),
    max_leaves=25,
)
_ESSENTIAL = ("coin", "px", "sz", "side", "time", "oid")
_TEXTS = ("fee", "startPosition", "dir", "closedPnl")


def _mostly(value: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(value), st.just(value), st.just(value), _json)


_fill_fields = st.fixed_dictionaries(
    {key: _mostly(value) for key, value in _fill(1).items() if key in _ESSENTIAL},
    optional={key: _mostly(value) for key, value in _fill(1).items() if key not in _ESSENTIAL},
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(FRAME_READERS)), _json)
def test_property_any_frame_data_decodes_or_raises_protocol_error(channel: str, data: Any) -> None:
    try:
        msg = decode(_frame(channel, data))
    except ProtocolError:
        return
    assert decode(msgspec.json.encode(msg)) == msg


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(REST_READERS)), _json)
def test_property_any_rest_answer_decodes_or_raises_protocol_error(kind: str, value: Any) -> None:
    req = i.from_body({"type": kind, "user": USER})
    try:
        decoded = i.decode_response(req, json.dumps(value))
    except ProtocolError:
        return
    assert i.decode_response(req, msgspec.json.encode(decoded)) == decoded


@settings(max_examples=300, deadline=None)
@given(st.lists(_fill_fields, max_size=6))
def test_property_every_fill_with_its_identity_survives(items: list[dict[str, Any]]) -> None:
    """Whatever else is wrong, a fill whose identity and trade fields are well-typed is kept."""
    fills = i.decode_response(i.user_fills(USER), json.dumps(items))

    def readable(d: dict[str, Any]) -> bool:
        def ok(key: str, tp: type) -> bool:
            return type(d.get(key)) is tp

        tid, hash_ = d.get("tid"), d.get("hash")
        identity = (type(tid) is int and tid != 0) or (isinstance(hash_, str) and hash_ != "")
        return (
            all(ok(k, str) for k in ("coin", "px", "sz", "side"))
            and all(ok(k, int) for k in ("oid", "time"))
            and identity  # a malformed tid is dropped like any optional field: hash identifies
            and (hash_ is None or isinstance(hash_, str))
            and all(d.get(k) is None or ok(k, str) for k in _TEXTS)
            and (d.get("crossed") is None or ok("crossed", bool))
        )

    expected = [d for d in items if readable(d)]
    assert len(fills) == len(expected)
    assert len(fills) + tolerance_of(fills).dropped == len(items)


def test_nested_drops_are_counted_and_a_legitimate_null_is_not_a_default() -> None:
    order = _order(1, children=[_order(2), {"coin": "BTC"}], timestamp=None)
    history = i.decode_response(i.from_body({"type": "historicalOrders", "user": USER}),
                                json.dumps([{"order": order, "status": "open"}]))  # fmt: skip
    assert [c.oid for c in history[0].order.children] == [2]
    assert tolerance_of(history) == Tolerance(dropped=1, defaulted=1)
    flat = _position("BTC", entryPx=None)  # a null entryPx is the wire's own value
    body = _without(_state([flat, _position("ETH", leverage=None)]), "time")
    body["time"] = "soon"  # a malformed optional field: removed, counted once for the state
    state = i.decode_response(i.clearinghouse_state(USER), json.dumps(body))
    assert [p.position.coin for p in state.assetPositions] == ["BTC"]
    assert state.assetPositions[0].position.entryPx is None and state.time is None
    assert (state.dropped, state.defaulted) == (1, 1)
