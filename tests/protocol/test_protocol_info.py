"""/info: request bodies, weights, response decoding and conversion to websocket messages."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hlmon.protocol import ProtocolError, decode
from hlmon.protocol import info as i
from hlmon.protocol import messages as m

USER = "0x00000000000000000000000000000000000000AA"


@pytest.mark.parametrize(
    ("req", "body", "weight"),
    [
        (i.all_mids(), {"type": "allMids"}, 2),
        (i.all_mids("xyz"), {"type": "allMids", "dex": "xyz"}, 2),
        (i.l2_book("ETH"), {"type": "l2Book", "coin": "ETH"}, 2),
        (
            i.l2_book("ETH", 5, 2),
            {"type": "l2Book", "coin": "ETH", "nSigFigs": 5, "mantissa": 2},
            2,
        ),
        (i.clearinghouse_state(USER), {"type": "clearinghouseState", "user": USER}, 2),
        (
            i.clearinghouse_state(USER, "xyz"),
            {"type": "clearinghouseState", "user": USER, "dex": "xyz"},
            2,
        ),
        (i.spot_clearinghouse_state(USER), {"type": "spotClearinghouseState", "user": USER}, 2),
        (i.open_orders(USER), {"type": "openOrders", "user": USER}, 20),
        (i.frontend_open_orders(USER, ""), {"type": "frontendOpenOrders", "user": USER}, 20),
        (i.user_fills(USER), {"type": "userFills", "user": USER}, 20),
        (
            i.user_fills(USER, aggregate_by_time=True),
            {"type": "userFills", "user": USER, "aggregateByTime": True},
            20,
        ),
        (
            i.user_fills_by_time(USER, 1000),
            {"type": "userFillsByTime", "user": USER, "startTime": 1000},
            20,
        ),
        (
            i.user_fills_by_time(USER, 1000, 2000, True),
            {
                "type": "userFillsByTime",
                "user": USER,
                "startTime": 1000,
                "endTime": 2000,
                "aggregateByTime": True,
            },
            20,
        ),
        (
            i.candle_snapshot("kPEPE", "1h", 1, 2),
            {
                "type": "candleSnapshot",
                "req": {"coin": "kPEPE", "interval": "1h", "startTime": 1, "endTime": 2},
            },
            20,
        ),
        (i.meta(), {"type": "meta"}, 20),
        (i.meta("xyz"), {"type": "meta", "dex": "xyz"}, 20),
        (i.meta_and_asset_ctxs(), {"type": "metaAndAssetCtxs"}, 20),
        (i.spot_meta(), {"type": "spotMeta"}, 20),
        (i.spot_meta_and_asset_ctxs(), {"type": "spotMetaAndAssetCtxs"}, 20),
        (
            i.funding_history("BTC", 5),
            {"type": "fundingHistory", "coin": "BTC", "startTime": 5},
            20,
        ),
        (
            i.user_funding(USER, 5, 6),
            {"type": "userFunding", "user": USER, "startTime": 5, "endTime": 6},
            20,
        ),
        (i.exchange_status(), {"type": "exchangeStatus"}, 2),
        (i.order_status(USER, 42), {"type": "orderStatus", "user": USER, "oid": 42}, 2),
        (i.order_status(USER, "0xab"), {"type": "orderStatus", "user": USER, "oid": "0xab"}, 2),
    ],
)
def test_request_body_and_weight(req: i.InfoRequest, body: dict[str, Any], weight: int) -> None:
    assert req.body == body
    assert req.type == body["type"]
    assert req.weight == weight
    assert i.from_body(body) == req


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: i.l2_book("ETH", 7), "n_sig_figs"),
        (lambda: i.l2_book("ETH", 4, 2), "mantissa is only allowed"),
        (lambda: i.l2_book("ETH", 5, 3), "mantissa must be"),
        (lambda: i.l2_book("ETH", 5, 1), "mantissa must be 2 or 5"),  # REST: HTTP 500
        (lambda: i.l2_book("ETH", 6), "n_sig_figs"),
        (lambda: i.l2_book(""), "coin must be"),
        (lambda: i.candle_snapshot("BTC", "7m", 1, 2), "interval must be"),
        (lambda: i.user_fills_by_time(USER, -1), "start_time"),
        (lambda: i.funding_history("BTC", 1, True), "end_time"),  # a bool is not a time
        (lambda: i.order_status(USER, ""), "oid"),
        (lambda: i.user_fills(""), "user must be"),
        (lambda: i.from_body({"coin": "BTC"}), "type"),
    ],
)
def test_request_validation(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_weights_table() -> None:
    for cheap in (
        "l2Book",
        "allMids",
        "clearinghouseState",
        "orderStatus",
        "spotClearinghouseState",
        "exchangeStatus",
    ):
        assert i.INFO_WEIGHTS[cheap] == 2 == i.base_weight(cheap)
    assert i.INFO_WEIGHTS["userRole"] == 60
    assert i.base_weight("meta") == i.base_weight("somethingNew") == 20


@pytest.mark.parametrize(
    ("info_type", "n", "extra"),
    [
        ("userFills", 0, 0),
        ("userFills", 1, 1),
        ("userFills", 20, 1),
        ("userFills", 21, 2),
        ("userFillsByTime", 2000, 100),
        ("fundingHistory", 500, 25),
        ("userFunding", 39, 2),
        ("historicalOrders", 40, 2),
        ("candleSnapshot", 60, 1),
        ("candleSnapshot", 61, 2),
        ("candleSnapshot", 5000, 84),
        ("meta", 5000, 0),
        ("l2Book", 40, 0),
    ],
)
def test_extra_weight_rounds_up(info_type: str, n: int, extra: int) -> None:
    assert i.extra_weight(info_type, n) == extra


def test_response_weight() -> None:
    assert i.response_weight(i.user_fills(USER), 45) == 23
    assert i.response_weight(i.l2_book("BTC"), 40) == 2


def test_info_request_is_frozen_and_hashable() -> None:
    req = i.meta()
    with pytest.raises(AttributeError):
        req.weight = 1  # type: ignore[misc]
    assert hash(req) == hash(i.meta())


_FILL = {
    "coin": "ETH",
    "px": "1",
    "sz": "1",
    "side": "B",
    "time": 1,
    "startPosition": "0",
    "dir": "Buy",
    "closedPnl": "0",
    "hash": "0x0",
    "oid": 1,
    "crossed": True,
    "fee": "0",
}
_SUMMARY = {"accountValue": "1", "totalNtlPos": "0", "totalRawUsd": "1", "totalMarginUsed": "0"}
_STATE = {
    "marginSummary": _SUMMARY,
    "crossMarginSummary": _SUMMARY,
    "withdrawable": "1",
    "assetPositions": [],
}
_ORDER = {"coin": "ETH", "side": "B", "limitPx": "1", "sz": "1", "oid": 3, "timestamp": 4}


@pytest.mark.parametrize(
    ("req", "body", "expected_type"),
    [
        (i.meta(), {"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}]}, i.Meta),
        (
            i.meta_and_asset_ctxs(),
            [
                {"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}]},
                [
                    {
                        "funding": "0",
                        "openInterest": "1",
                        "prevDayPx": "1",
                        "dayNtlVlm": "1",
                        "oraclePx": "1",
                        "markPx": "1",
                        "premium": None,
                        "midPx": None,
                        "impactPxs": None,
                    }
                ],
            ],
            tuple,
        ),
        (i.exchange_status(), {"specialStatuses": None, "time": 5}, i.ExchangeStatus),
        (i.order_status(USER, 1), {"status": "unknownOid"}, i.OrderStatus),
        (
            i.order_status(USER, 3),
            {"status": "order", "order": {"order": _ORDER, "status": "open", "statusTimestamp": 5}},
            i.OrderStatus,
        ),
        (
            i.user_funding(USER, 0),
            [
                {
                    "time": 1,
                    "hash": "0x0",
                    "delta": {
                        "type": "funding",
                        "coin": "ETH",
                        "usdc": "-1",
                        "szi": "2",
                        "fundingRate": "0.0001",
                        "nSamples": None,
                    },
                }
            ],
            list,
        ),
        (i.spot_clearinghouse_state(USER), {"balances": []}, i.SpotClearinghouseState),
        (i.perp_dexs(), [None, {"name": "xyz"}], list),
        (i.all_perp_metas(), [{"universe": []}], list),
        (i.outcome_meta(), {"outcomes": [], "questions": []}, i.OutcomeMeta),
    ],
)
def test_decode_response_types(req: i.InfoRequest, body: Any, expected_type: type) -> None:
    decoded = i.decode_response(req, json.dumps(body).encode())
    assert isinstance(decoded, expected_type)
    assert i.decode_response(req, json.dumps(body)) == decoded


def test_user_funding_has_typed_delta() -> None:
    body = '[{"time":1,"hash":"0x","delta":{"type":"funding","coin":"ETH","usdc":"-1",'
    body += '"szi":"2","fundingRate":"0.1"}}]'
    (item,) = i.decode_response(i.user_funding(USER, 0), body)
    assert isinstance(item, i.UserFundingItem)
    assert item.delta.usdc == "-1" and item.delta.nSamples is None


@pytest.mark.parametrize(
    ("req", "body"),
    [
        (i.all_mids(), '{"BTC": 1.5}'),
        (i.all_mids(), "[]"),
        (i.l2_book("BTC"), '{"coin":"BTC","time":1,"levels":[[]]}'),
        (i.l2_book("BTC"), "null"),
        (i.clearinghouse_state(USER), '{"marginSummary":null}'),
        (i.user_fills(USER), '{"error":"bad"}'),
        (i.meta(), '{"universe":'),
        (i.exchange_status(), "Failed to deserialize the JSON body into the target type"),
        (i.exchange_status(), ""),
        (i.from_body({"type": "perpDexs"}), "[" * 100_000),
        (i.from_body({"type": "tokenDetails"}), "{oops}"),
    ],
)
def test_decode_response_malformed_raises_protocol_error(req: i.InfoRequest, body: str) -> None:
    with pytest.raises(ProtocolError) as info:
        i.decode_response(req, body)
    assert info.value.snippet == body[:200]


def test_to_message_all_mids_and_book() -> None:
    mids = i.decode_response(i.all_mids(), '{"BTC":"1.5","@1":"2"}')
    msg = i.to_message(i.all_mids(), mids)
    assert msg == m.AllMidsMsg(data=m.AllMids(mids={"BTC": "1.5", "@1": "2"}))
    dex_msg = i.to_message(i.all_mids("xyz"), {"xyz:A": "1"})
    assert isinstance(dex_msg, m.AllMidsMsg) and dex_msg.data.dex == "xyz"
    book = i.decode_response(i.l2_book("BTC"), '{"coin":"BTC","time":7,"levels":[[],[]]}')
    assert i.to_message(i.l2_book("BTC"), book) == m.L2BookMsg(data=book)


def test_to_message_account_types_use_lower_case_user() -> None:
    state = msgspec.convert(_STATE, m.ClearinghouseState)
    msg = i.to_message(i.clearinghouse_state(USER), state)
    assert isinstance(msg, m.ClearinghouseStateMsg)
    assert msg.data.user == USER.lower() and msg.data.dex == ""
    assert msg.data.clearinghouseState == state

    orders = i.decode_response(i.frontend_open_orders(USER, "xyz"), json.dumps([_ORDER]))
    msg2 = i.to_message(i.frontend_open_orders(USER, "xyz"), orders)
    assert isinstance(msg2, m.OpenOrdersMsg) and msg2.data.dex == "xyz"
    assert msg2.data.orders[0].oid == 3

    fills = i.decode_response(i.user_fills_by_time(USER, 0), json.dumps([_FILL]))
    msg3 = i.to_message(i.user_fills_by_time(USER, 0), fills)
    assert isinstance(msg3, m.UserFillsMsg)
    assert msg3.data.isSnapshot is False and msg3.data.fills[0].tid == 0

    explicit = i.to_message(i.from_body({"type": "userFills"}), fills, user="0xABC")
    assert isinstance(explicit, m.UserFillsMsg) and explicit.data.user == "0xabc"
    # Converted messages are exactly what decode() makes of the same data on the wire.
    for converted in (msg, msg2, msg3):
        assert decode(msgspec.json.encode(converted)) == converted


def test_to_message_none_when_no_counterpart_or_no_user() -> None:
    assert i.to_message(i.meta(), i.Meta(universe=[])) is None
    assert i.to_message(i.exchange_status(), i.ExchangeStatus(time=1)) is None
    assert i.to_message(i.from_body({"type": "userFills"}), []) is None
    # A response of the wrong type for the request is not converted.
    assert i.to_message(i.l2_book("BTC"), {"coin": "BTC"}) is None
