"""Subscriptions: wire shapes, validation, canonical keys, ack matching, frames, stream keys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hlmon.protocol import decode
from hlmon.protocol import messages as m
from hlmon.protocol import subscriptions as s
from hlmon.protocol.info import l2_book as info_l2_book

ADDR = "0x31CA8395cf837de08b24da3f660e77761dfb974b"
LOWER = ADDR.lower()


@pytest.mark.parametrize(
    ("sub", "wire"),
    [
        (s.all_mids(), {"type": "allMids"}),
        (s.all_mids(""), {"type": "allMids"}),
        (s.all_mids("xyz"), {"type": "allMids", "dex": "xyz"}),
        (s.l2_book("BTC"), {"type": "l2Book", "coin": "BTC"}),
        (
            s.l2_book("BTC", 5, 2, fast=True),
            {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 2, "fast": True},
        ),
        (s.l2_book("@107", 3), {"type": "l2Book", "coin": "@107", "nSigFigs": 3}),
        (s.trades("PURR/USDC"), {"type": "trades", "coin": "PURR/USDC"}),
        (s.bbo("xyz:AAPL"), {"type": "bbo", "coin": "xyz:AAPL"}),
        (s.candle("BTC", "1M"), {"type": "candle", "coin": "BTC", "interval": "1M"}),
        (s.active_asset_ctx("BTC"), {"type": "activeAssetCtx", "coin": "BTC"}),
        (
            s.active_asset_data(ADDR, "BTC"),
            {"type": "activeAssetData", "user": LOWER, "coin": "BTC"},
        ),
        (s.clearinghouse_state(ADDR), {"type": "clearinghouseState", "user": LOWER}),
        (
            s.clearinghouse_state(ADDR, "xyz"),
            {"type": "clearinghouseState", "user": LOWER, "dex": "xyz"},
        ),
        (s.open_orders(ADDR, ""), {"type": "openOrders", "user": LOWER}),
        (s.order_updates(ADDR), {"type": "orderUpdates", "user": LOWER}),
        (s.user_events(ADDR), {"type": "userEvents", "user": LOWER}),
        (s.user_fills(ADDR), {"type": "userFills", "user": LOWER}),
        (
            s.user_fills(ADDR, aggregate_by_time=True),
            {"type": "userFills", "user": LOWER, "aggregateByTime": True},
        ),
        (s.user_fundings(ADDR), {"type": "userFundings", "user": LOWER}),
        (
            s.user_non_funding_ledger_updates(ADDR),
            {"type": "userNonFundingLedgerUpdates", "user": LOWER},
        ),
        (s.web_data3(ADDR), {"type": "webData3", "user": LOWER}),
        (s.notification(ADDR), {"type": "notification", "user": LOWER}),
    ],
)
def test_to_wire_has_only_set_params(sub: s.Subscription, wire: dict[str, Any]) -> None:
    assert sub.to_wire() == wire
    assert next(iter(sub.to_wire())) == "type"
    assert sub.type == wire["type"]
    assert sub.key == s.canonical_key(wire)
    assert json.loads(s.subscribe_frame(sub)) == {"method": "subscribe", "subscription": wire}
    assert json.loads(s.unsubscribe_frame(sub)) == {
        "method": "unsubscribe",
        "subscription": wire,
    }


def test_subscription_is_frozen_and_hashable() -> None:
    a, b = s.l2_book("BTC", 5), s.l2_book("BTC", 5)
    assert a == b and hash(a) == hash(b) and len({a, b, s.l2_book("ETH")}) == 2
    with pytest.raises(AttributeError):
        a.type = "bbo"  # type: ignore[misc]
    assert a.get("nSigFigs") == 5 and a.get("mantissa") is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: s.l2_book("BTC", mantissa=2), "only allowed together with n_sig_figs=5"),
        (lambda: s.l2_book("BTC", 4, 2), "only allowed together with n_sig_figs=5"),
        (lambda: s.l2_book("BTC", 5, 3), "mantissa must be 2 or 5"),
        (lambda: s.l2_book("BTC", 5, 1), "mantissa must be 2 or 5"),
        (lambda: s.l2_book("BTC", 1), "n_sig_figs must be one of 2, 3, 4, 5"),
        (lambda: s.l2_book("BTC", 6), "n_sig_figs must be one of 2, 3, 4, 5"),
        (lambda: s.l2_book("BTC", True), "n_sig_figs"),  # a bool is not a digit count
        (lambda: s.l2_book("BTC", fast=1), "fast must be a bool"),  # type: ignore[arg-type]
        (lambda: s.l2_book(""), "coin must be a non-empty string"),
        (lambda: s.trades(" BTC"), "coin must be"),
        (lambda: s.bbo(None), "coin must be"),  # type: ignore[arg-type]
        (lambda: s.candle("BTC", "2m"), "interval must be one of"),
        (lambda: s.candle("BTC", "1H"), "interval must be one of"),
        (lambda: s.user_fills("0x123"), "40-hex-digit address"),
        (lambda: s.user_events("mtiz"), "40-hex-digit address"),
        (lambda: s.open_orders(ADDR, 5), "dex must be"),  # type: ignore[arg-type]
    ],
)
def test_validation_raises_value_error(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_every_documented_interval_is_accepted() -> None:
    documented = (
        "1m",
        "3m",
        "5m",
        "15m",
        "30m",
        "1h",
        "2h",
        "4h",
        "8h",
        "12h",
        "1d",
        "3d",
        "1w",
        "1M",
    )
    assert frozenset(documented) == s.CANDLE_INTERVALS
    for interval in documented:
        assert s.candle("ETH", interval).get("interval") == interval


@pytest.mark.parametrize(
    ("sent", "echo"),
    [
        (
            {"type": "l2Book", "coin": "BTC"},
            {"type": "l2Book", "coin": "BTC", "nSigFigs": None, "mantissa": None, "fast": False},
        ),
        (
            {"type": "userFills", "user": ADDR},
            {"aggregateByTime": False, "user": LOWER, "type": "userFills"},
        ),
        (
            {"type": "candle", "coin": "HYPE", "interval": "1d"},
            {"type": "candle", "interval": "1d", "coin": "HYPE"},
        ),
        (
            {"type": "clearinghouseState", "user": LOWER},
            {"type": "clearinghouseState", "user": LOWER, "dex": ""},
        ),
        ({"type": "allMids", "dex": None}, {"type": "allMids"}),
    ],
)
def test_canonical_key_normalises_server_additions(
    sent: dict[str, Any], echo: dict[str, Any]
) -> None:
    assert s.canonical_key(sent) == s.canonical_key(echo)
    assert s.ack_matches(sent, {"method": "subscribe", "subscription": echo})


@pytest.mark.parametrize(
    ("sent", "echo"),
    [
        ({"type": "l2Book", "coin": "BTC"}, {"type": "l2Book", "coin": "ETH"}),
        ({"type": "l2Book", "coin": "BTC"}, {"type": "l2Book", "coin": "BTC", "nSigFigs": 5}),
        ({"type": "l2Book", "coin": "BTC", "fast": True}, {"type": "l2Book", "coin": "BTC"}),
        (
            {"type": "userFills", "user": LOWER, "aggregateByTime": True},
            {"type": "userFills", "user": LOWER},
        ),
        ({"type": "trades", "coin": "kPEPE"}, {"type": "trades", "coin": "KPEPE"}),
        ({"type": "trades", "coin": "BTC"}, {"type": "bbo", "coin": "BTC"}),
        ({"type": "allMids"}, {"type": "allMids", "dex": "xyz"}),
    ],
)
def test_canonical_key_keeps_real_differences(sent: dict[str, Any], echo: dict[str, Any]) -> None:
    assert s.canonical_key(sent) != s.canonical_key(echo)
    assert not s.ack_matches(sent, echo)


def test_ack_matches_checks_method_and_accepts_all_forms() -> None:
    sub = s.bbo("BTC")
    ack = decode(
        '{"channel":"subscriptionResponse","data":'
        '{"method":"unsubscribe","subscription":{"type":"bbo","coin":"BTC"}}}'
    )
    assert isinstance(ack, m.SubscriptionResponseMsg)
    assert s.ack_matches(sub, ack.data)  # a bare Subscription has no method
    assert s.ack_matches(json.loads(s.unsubscribe_frame(sub)), ack.data)
    assert not s.ack_matches(json.loads(s.subscribe_frame(sub)), ack.data)
    assert s.ack_matches({"type": "bbo", "coin": "BTC"}, {"type": "bbo", "coin": "BTC"})


def test_ping_and_post_frames() -> None:
    assert json.loads(s.PING_FRAME) == {"method": "ping"}
    assert s.PING_FRAME == '{"method":"ping"}'
    body = {"type": "l2Book", "coin": "ETH", "nSigFigs": 5}
    assert json.loads(s.post_frame(123, body)) == {
        "method": "post",
        "id": 123,
        "request": {"type": "info", "payload": body},
    }
    # An InfoRequest is accepted as well as its body.
    assert s.post_frame(7, info_l2_book("ETH", 5)) == s.post_frame(7, body)
    for bad in (-1, True, "1"):
        with pytest.raises(ValueError, match="post id"):
            s.post_frame(bad, body)  # type: ignore[arg-type]


def _frame(channel: str, data: Any) -> m.Message:
    return decode(json.dumps({"channel": channel, "data": data}))


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
    "tid": 2,
}
_SUMMARY = {"accountValue": "1", "totalNtlPos": "0", "totalRawUsd": "1", "totalMarginUsed": "0"}
_STATE = {
    "marginSummary": _SUMMARY,
    "crossMarginSummary": _SUMMARY,
    "withdrawable": "1",
    "assetPositions": [],
}


@pytest.mark.parametrize(
    ("msg", "sub"),
    [
        (
            _frame("l2Book", {"coin": "BTC", "time": 1, "levels": [[], []]}),
            s.l2_book("BTC", 5, 2, True),
        ),
        (_frame("l2Book", {"coin": "BTC", "time": 1, "levels": [[], []]}), s.l2_book("BTC")),
        (_frame("bbo", {"coin": "SOL", "time": 1, "bbo": [None, None]}), s.bbo("SOL")),
        (
            _frame(
                "trades", [{"coin": "SOL", "side": "A", "px": "1", "sz": "1", "time": 1, "tid": 1}]
            ),
            s.trades("SOL"),
        ),
        (_frame("allMids", {"mids": {}}), s.all_mids()),
        (_frame("allMids", {"mids": {}, "dex": "xyz"}), s.all_mids("xyz")),
        (
            _frame(
                "candle",
                {
                    "t": 1,
                    "T": 2,
                    "s": "BTC",
                    "i": "1h",
                    "o": "1",
                    "c": "1",
                    "h": "1",
                    "l": "1",
                    "v": "1",
                    "n": 1,
                },
            ),
            s.candle("BTC", "1h"),
        ),
        (
            _frame(
                "activeAssetCtx",
                {
                    "coin": "BTC",
                    "ctx": {
                        "funding": "0",
                        "openInterest": "0",
                        "prevDayPx": "1",
                        "dayNtlVlm": "0",
                        "oraclePx": "1",
                        "markPx": "1",
                    },
                },
            ),
            s.active_asset_ctx("BTC"),
        ),
        (
            _frame(
                "activeSpotAssetCtx",
                {"coin": "@107", "ctx": {"prevDayPx": "1", "dayNtlVlm": "0", "markPx": "1"}},
            ),
            s.active_asset_ctx("@107"),
        ),
        (
            _frame(
                "activeAssetData",
                {
                    "user": ADDR,
                    "coin": "BTC",
                    "leverage": {"type": "cross", "value": 3},
                    "maxTradeSzs": [],
                    "availableToTrade": [],
                },
            ),
            s.active_asset_data(ADDR, "BTC"),
        ),
        (
            _frame("clearinghouseState", {"user": LOWER, "dex": "", "clearinghouseState": _STATE}),
            s.clearinghouse_state(ADDR),
        ),
        (
            _frame(
                "clearinghouseState", {"user": LOWER, "dex": "xyz", "clearinghouseState": _STATE}
            ),
            s.clearinghouse_state(ADDR, "xyz"),
        ),
        (_frame("openOrders", {"user": LOWER, "dex": "", "orders": []}), s.open_orders(ADDR)),
        (
            _frame("userFills", {"user": LOWER, "fills": [_FILL], "isSnapshot": True}),
            s.user_fills(ADDR, True),
        ),
        (_frame("userFundings", {"user": LOWER, "fundings": []}), s.user_fundings(ADDR)),
        (
            _frame("userNonFundingLedgerUpdates", {"user": LOWER, "nonFundingLedgerUpdates": []}),
            s.user_non_funding_ledger_updates(ADDR),
        ),
        (_frame("webData3", {"userState": {"user": ADDR}, "perpDexStates": []}), s.web_data3(ADDR)),
    ],
)
def test_message_sub_key_matches_stream_key(msg: m.Message, sub: s.Subscription) -> None:
    assert s.message_sub_key(msg) == sub.stream_key


@pytest.mark.parametrize(
    "raw",
    [
        '{"channel":"trades","data":[]}',
        '{"channel":"orderUpdates","data":[]}',
        '{"channel":"user","data":{"nonUserCancel":[]}}',
        '{"channel":"notification","data":{"notification":"x"}}',
        '{"channel":"pong"}',
        '{"channel":"error","data":"x"}',
        '{"channel":"webData3","data":{}}',
        '{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{}}}',
        '{"channel":"someNewFeed","data":{"coin":"BTC"}}',
    ],
)
def test_message_sub_key_none_when_not_attributable(raw: str) -> None:
    assert s.message_sub_key(decode(raw)) is None


def test_stream_key_ignores_presentation_only() -> None:
    assert s.l2_book("BTC", 5, 5, True).stream_key == s.l2_book("BTC").stream_key
    assert s.l2_book("BTC", 5).key != s.l2_book("BTC").key
    assert s.user_fills(ADDR, True).stream_key == s.user_fills(ADDR).stream_key
    assert s.l2_book("BTC").stream_key != s.l2_book("ETH").stream_key
