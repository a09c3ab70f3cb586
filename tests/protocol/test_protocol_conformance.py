"""Every recorded payload in the shared folder decodes, round-trips and matches its ack.

Payloads are read from the shared folder at test time (``tests/payloads.py``); nothing is copied.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from hlmon.protocol import decode, info
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.messages import (
    KNOWN_CHANNELS,
    Message,
    SubscriptionResponseMsg,
    UnknownMsg,
)


def _text(frame: Any) -> str:
    return frame if isinstance(frame, str) else json.dumps(frame)


def test_ws_sample_decodes_to_its_channel(ws_sample: dict[str, Any]) -> None:
    """Each websocket recording decodes to the known struct of its channel."""
    frame = ws_sample["frame"]
    msg = decode(_text(frame))
    assert not isinstance(msg, UnknownMsg)
    assert msg.__struct_config__.tag == frame["channel"]
    assert frame["channel"] in KNOWN_CHANNELS


def test_ws_sample_decodes_from_bytes_too(ws_sample: dict[str, Any]) -> None:
    """bytes and str frames decode to the same message."""
    text = _text(ws_sample["frame"])
    assert decode(text.encode()) == decode(text)


def test_ws_sample_round_trips(ws_sample: dict[str, Any]) -> None:
    """Encoding the decoded struct and decoding again gives an equal struct."""
    msg = decode(_text(ws_sample["frame"]))
    assert decode(msgspec.json.encode(msg)) == msg


def test_ws_sample_truncated_never_escapes(ws_sample: dict[str, Any]) -> None:
    """Every cut point of a real frame yields a message or ProtocolError, nothing else."""
    raw = _text(ws_sample["frame"]).encode()
    step = max(1, len(raw) // 400)  # cap the work on multi-KB frames, still ~400 cuts
    for cut in range(0, len(raw), step):
        try:
            decode(raw[:cut])
        except ValueError as exc:
            assert type(exc).__name__ == "ProtocolError", exc


def _request_for(info_type: str, sample: dict[str, Any]) -> info.InfoRequest:
    body = sample.get("request") or {"type": info_type}
    return info.from_body(body)


def test_rest_sample_decodes(rest_sample: tuple[str, dict[str, Any]]) -> None:
    """Each REST recording decodes with the request that produced it, to its typed struct."""
    info_type, sample = rest_sample
    req = _request_for(info_type, sample)
    assert req.type == info_type
    decoded = info.decode_response(req, json.dumps(sample["response"]))
    expected = info.RESPONSE_TYPES.get(info_type)
    if isinstance(expected, type) and issubclass(expected, msgspec.Struct):
        assert isinstance(decoded, expected)
    # Re-encoding and decoding the typed value is stable.
    again = info.decode_response(req, msgspec.json.encode(decoded))
    assert again == decoded


def test_rest_sample_converts_to_message(rest_sample: tuple[str, dict[str, Any]]) -> None:
    """REST answers the store applies become websocket messages that decode() would accept."""
    info_type, sample = rest_sample
    req = _request_for(info_type, sample)
    decoded = info.decode_response(req, json.dumps(sample["response"]))
    msg: Message | None = info.to_message(req, decoded, user="0x" + "ab" * 20)
    convertible = {
        "allMids",
        "l2Book",
        "clearinghouseState",
        "openOrders",
        "frontendOpenOrders",
        "userFills",
        "userFillsByTime",
        "spotClearinghouseState",
        "userTwapSliceFills",
        "twapHistory",
    }
    if info_type not in convertible:
        assert msg is None
        return
    assert msg is not None
    assert decode(msgspec.json.encode(msg)) == msg


def test_ack_pair_matches(ack_pair: dict[str, Any]) -> None:
    """What was sent and what the server echoed have the same canonical key."""
    sent, ack = ack_pair["sent"], ack_pair["ack"]
    msg = decode(json.dumps(ack))
    assert isinstance(msg, SubscriptionResponseMsg)
    assert subs.ack_matches(sent, msg.data)
    assert subs.ack_matches(sent, ack["data"])
    assert subs.ack_matches(sent["subscription"], msg.data.subscription)
    assert subs.canonical_key(sent["subscription"]) == subs.canonical_key(
        ack["data"]["subscription"]
    )


def _build(echo: dict[str, Any]) -> subs.Subscription:
    """The Subscription our constructors make for the parameters in a server echo."""
    p = {k: v for k, v in echo.items() if v is not None}
    t = p.pop("type")
    if t == "l2Book":
        return subs.l2_book(
            p["coin"], p.get("nSigFigs"), p.get("mantissa"), fast=p.get("fast", False)
        )
    if t == "userFills":
        return subs.user_fills(p["user"], aggregate_by_time=p.get("aggregateByTime", False))
    if t == "candle":
        return subs.candle(p["coin"], p["interval"])
    simple = {"bbo": subs.bbo, "trades": subs.trades, "activeAssetCtx": subs.active_asset_ctx}
    if t in simple:
        return simple[t](p["coin"])
    if t == "allMids":
        return subs.all_mids(p.get("dex"))
    raise AssertionError(f"no constructor mapping for {t}")


def test_verbatim_ack_matches_our_subscription(ack_frame: dict[str, Any]) -> None:
    """Subscriptions our constructors build are confirmed by the real server's echo."""
    msg = decode(json.dumps(ack_frame))
    assert isinstance(msg, SubscriptionResponseMsg)
    ours = _build(msg.data.subscription)
    assert subs.ack_matches(ours, msg.data)
    assert ours.key == subs.canonical_key(msg.data.subscription)
    other = subs.bbo("NOT-A-COIN")
    assert not subs.ack_matches(other, msg.data)
