"""Every message type applies cleanly; recorded frames from the shared payloads apply too."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hlmon.protocol.messages import KNOWN_CHANNELS, KnownMsg, Message, UnknownMsg
from hlmon.state import Source, Store
from tests.payloads import MISSING, PAYLOADS, payloads_present

from .conftest import USER, FakeClock, fill, funding, msg, order, order_update, position, trade

_LEV = {"type": "cross", "value": 20}
_CTX = {"funding": "0", "openInterest": "1", "prevDayPx": "1", "dayNtlVlm": "1", "oraclePx": "1",
        "markPx": "1"}  # fmt: skip
_TWAP = {"coin": "ETH", "side": "B", "sz": "1", "executedSz": "0", "executedNtl": "0",
         "minutes": 10, "timestamp": 1}  # fmt: skip
_SUMMARY = {"accountValue": "1", "totalNtlPos": "0", "totalRawUsd": "1", "totalMarginUsed": "0"}

# One frame per known channel, with the change keys it must produce.
SAMPLES: dict[str, tuple[Any, set[str]]] = {
    "allMids": ({"mids": {"BTC": "1"}}, {"mids"}),
    "l2Book": ({"coin": "BTC", "time": 1, "levels": [[], []]}, {"book:BTC"}),
    "trades": ([trade(1, 1)], {"trades:BTC"}),
    "bbo": ({"coin": "BTC", "time": 1, "bbo": [None, None]}, {"bbo:BTC"}),
    "candle": (
        {
            "t": 0,
            "T": 1,
            "s": "BTC",
            "i": "1m",
            "o": "1",
            "c": "1",
            "h": "1",
            "l": "1",
            "v": "1",
            "n": 1,
        },
        {"candle:BTC"},
    ),
    "activeAssetCtx": ({"coin": "BTC", "ctx": _CTX}, {"ctx:BTC"}),
    "activeSpotAssetCtx": (
        {"coin": "@1", "ctx": {"prevDayPx": "1", "dayNtlVlm": "1", "markPx": "1"}},
        {"ctx:@1"},
    ),
    "activeAssetData": (
        {
            "user": USER,
            "coin": "BTC",
            "leverage": _LEV,
            "maxTradeSzs": ["1", "1"],
            "availableToTrade": ["1", "1"],
        },
        {"assetData:BTC"},
    ),
    "clearinghouseState": (
        {
            "user": USER,
            "clearinghouseState": {
                "marginSummary": _SUMMARY,
                "crossMarginSummary": _SUMMARY,
                "withdrawable": "1",
                "assetPositions": [position("BTC", "1", "1")],
            },
        },
        {"account", "accounts"},  # the selected user's row in the all-accounts view too
    ),
    # Decoded since the HIP-3 protocol work; the store does not apply it yet (no change keys).
    "allDexsClearinghouseState": ({"user": USER, "clearinghouseStates": []}, set()),
    "openOrders": ({"user": USER, "orders": [order(1, 1)]}, {"orders"}),
    "orderUpdates": ([order_update(2, "open")], {"orders"}),
    "user": ({"fills": [fill(1, 1, 1)]}, {"fills"}),
    "userFills": ({"user": USER, "isSnapshot": True, "fills": [fill(2, 2, 2)]}, {"fills"}),
    "userFundings": ({"user": USER, "fundings": [funding(1)]}, {"fundings"}),
    "userNonFundingLedgerUpdates": (
        {
            "user": USER,
            "nonFundingLedgerUpdates": [
                {"time": 1, "hash": "0x1", "delta": {"type": "deposit", "usdc": "1"}}
            ],
        },
        {"ledger"},
    ),
    # The whole account (#14): spot balances (also the account's row), TWAPs, slice fills.
    "spotState": ({"user": USER, "spotState": {"balances": []}}, {"spot", "accounts"}),
    "twapStates": ({"user": USER, "states": [[1, _TWAP]]}, {"twaps"}),
    "userTwapSliceFills": (
        {"user": USER, "twapSliceFills": [{"fill": fill(3, 3, 3), "twapId": 1}]},
        {"fills", "twaps"},  # the first answer: a rebuilt TWAP's progress is known from now
    ),
    "userTwapHistory": (
        {"user": USER, "history": [{"time": 1, "state": _TWAP, "status": {"status": "activated"}}]},
        {"twaps"},
    ),
    "webData3": ({"userState": {"user": USER}}, {"webData3"}),
    "notification": ({"notification": "hi"}, {"log"}),
    "subscriptionResponse": ({"method": "subscribe", "subscription": {"type": "allMids"}}, set()),
    "pong": (None, set()),
    "error": ("Invalid subscription {}", {"log"}),
    "post": ({"id": 1, "response": {"type": "info", "payload": None}}, set()),
    # Market-wide streams feed the MarketTable (hlmon/state/market_table.py), not the store.
    "fastAssetCtxs": (
        "q1ZyCnFWsqpWyk0syg6oULJSsjQ3NTDQM1Wq1VFyDfFAkTI2MzXQMwJLVVRWWfmFuTiiyBuamOoZKdXWAgA=",
        set(),
    ),
    "allDexsAssetCtxs": ({"ctxs": [["", [_CTX]]]}, set()),
}


def test_samples_cover_every_channel() -> None:
    assert set(SAMPLES) == set(KNOWN_CHANNELS)


@pytest.mark.parametrize("channel", sorted(SAMPLES))
@pytest.mark.parametrize("source", [Source.WS, Source.REST])
def test_each_message_type(store: Store, channel: str, source: Source) -> None:
    data, keys = SAMPLES[channel]
    store.apply(msg(channel, data), source)
    assert store.take_changes() == keys


def test_unknown_message(store: Store) -> None:
    store.apply(UnknownMsg("someNewChannel"))
    assert store.health.unknown_frames == 1
    assert store.take_changes() == {"log"}


def _recorded_frames() -> list[tuple[str, Any]]:
    frames: list[tuple[str, Any]] = []
    for path in sorted(PAYLOADS.glob("ws_*.json")):
        doc = json.loads(path.read_text())
        for i, sample in enumerate(doc.get("samples", [])):
            frame = sample.get("frame")
            if isinstance(frame, dict) and "ack" in frame:
                frame = frame["ack"]  # request/ack pairs
            if isinstance(frame, dict) and "channel" in frame:
                frames.append((f"{path.stem}[{i}]", frame))
    return frames


def _decode(frame: Any) -> Message:
    raw = msgspec.json.encode(frame)
    try:
        return msgspec.json.decode(raw, type=KnownMsg)
    except msgspec.ValidationError:
        return msgspec.json.decode(raw, type=UnknownMsg)


@pytest.mark.skipif(not payloads_present(), reason=MISSING)
def test_recorded_ws_frames_apply(clock: FakeClock) -> None:
    """Every recorded websocket frame applies without raising, for the user it names."""
    frames = _recorded_frames()
    assert frames
    for _name, frame in frames:
        s = Store(clock)
        data = frame.get("data")
        user = data.get("user") if isinstance(data, dict) else None
        s.set_user(user if isinstance(user, str) else USER)
        s.apply(_decode(frame))
        s.positions()
        s.account_summary()
        s.open_orders()
        s.fills()
        s.feed_statuses()
