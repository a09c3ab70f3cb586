"""decode(): hand-written frames, tolerance rules and hostile input.

The contract under test: decode returns a Message or raises ProtocolError, never anything
else, whatever the input.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import ProtocolError, decode
from hlmon.protocol import messages as m
from hlmon.protocol.errors import SNIPPET_CHARS

FIXTURES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "protocol_frames.json").read_text("utf-8")
)
MESSAGE_TYPES = (*m.KnownMsg.__args__, m.UnknownMsg)


def _book_frame(levels: int = 20) -> bytes:
    def side(start: float, step: float) -> list[dict[str, Any]]:
        return [
            {"px": f"{start + i * step:.1f}", "sz": f"{0.1 + i:.5f}", "n": i + 1}
            for i in range(levels)
        ]

    data = {"coin": "BTC", "time": 1_700_000_000_000, "levels": [side(99.0, -0.5), side(101, 0.5)]}
    return json.dumps({"channel": "l2Book", "data": data}).encode()


def _assert_contract(raw: bytes | str) -> None:
    """decode(raw) returns a Message or raises ProtocolError with a short str snippet."""
    try:
        msg = decode(raw)
    except ProtocolError as exc:
        assert isinstance(exc.snippet, str)
        assert len(exc.snippet) <= SNIPPET_CHARS
        assert str(exc)
        return
    assert isinstance(msg, MESSAGE_TYPES)


@pytest.mark.parametrize("case", FIXTURES["frames"], ids=lambda c: c["name"])
def test_handwritten_frame_decodes(case: dict[str, Any]) -> None:
    """Each documented shape decodes to its struct, and round-trips."""
    msg = decode(json.dumps(case["frame"]))
    assert type(msg).__name__ == case["expect"]
    if not isinstance(msg, m.UnknownMsg):
        assert decode(msgspec.json.encode(msg)) == msg


@pytest.mark.parametrize("case", FIXTURES["invalid"], ids=lambda c: c["name"])
def test_invalid_frame_raises_protocol_error(case: dict[str, Any]) -> None:
    """Wrong types, nulls, missing fields and non-objects are ProtocolErrors with a snippet."""
    raw = json.dumps(case["frame"])
    with pytest.raises(ProtocolError) as info:
        decode(raw)
    assert info.value.snippet == raw[:SNIPPET_CHARS]
    assert isinstance(info.value, ValueError)


def _by_name(name: str) -> Any:
    return next(c["frame"] for c in FIXTURES["frames"] if c["name"] == name)


def test_missing_is_snapshot_means_false() -> None:
    msg = decode(json.dumps(_by_name("userFills_no_isSnapshot")))
    assert isinstance(msg, m.UserFillsMsg)
    assert msg.data.isSnapshot is False


def test_unknown_fields_are_ignored() -> None:
    msg = decode(json.dumps(_by_name("l2Book_spread_fast_unknown_field")))
    assert isinstance(msg, m.L2BookMsg)
    assert msg.data.fast is True and msg.data.spread == "0.1"
    assert msg.data.levels[1][0] == m.Level(px="3000.1", sz="0.5", n=1)


def test_unknown_channel_is_typed_not_an_error() -> None:
    msg = decode(b'{"channel":"outcomeMetaUpdates","data":{"a":[1,2]}}')
    assert msg == m.UnknownMsg(channel="outcomeMetaUpdates", data={"a": [1, 2]})


def test_user_channel_is_user_events() -> None:
    msg = decode(json.dumps(_by_name("user_nonUserCancel")))
    assert isinstance(msg, m.UserEventsMsg)
    assert msg.data.nonUserCancel == [m.NonUserCancel(coin="ETH", oid=9)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"channel":"bbo","data":{"coin":"X","time":1,"bbo":[null,null]}}', (None, None)),
        ('{"channel":"l2Book","data":{"coin":"X","time":1,"levels":[[],[]]}}', ([], [])),
        ('{"channel":"trades","data":[]}', []),
    ],
)
def test_empty_market_data_is_valid(raw: str, expected: Any) -> None:
    msg = decode(raw)
    payload = msg.data  # type: ignore[union-attr]
    value = getattr(payload, "bbo", None) or getattr(payload, "levels", None) or payload
    assert value == expected


def test_pong_has_no_data() -> None:
    assert decode('{"channel":"pong"}') == m.PongMsg()


@pytest.mark.parametrize(
    "raw",
    [
        "Websocket connection established.",
        b"Websocket connection established.",
        "",
        b"",
        " ",
        "Ping",
        "{",
        '{"channel":"pong"',
        '{"channel":"pong"}}',
        '{"channel":"pong"} trailing',
        b"\xff\xfe\x00",
        "NaN",
        '{"channel":"allMids","data":{"mids":{"BTC":"1"}},"channel":"x"',
    ],
)
def test_non_json_raises_protocol_error(raw: bytes | str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode(raw)
    snippet = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    assert info.value.snippet == snippet[:SNIPPET_CHARS]


def test_truncated_l2book_at_every_cut_point() -> None:
    """Every prefix of a 20-level book frame raises ProtocolError; the whole frame decodes."""
    raw = _book_frame()
    for cut in range(len(raw)):
        with pytest.raises(ProtocolError):
            decode(raw[:cut])
    msg = decode(raw)
    assert isinstance(msg, m.L2BookMsg) and len(msg.data.levels[0]) == 20


def test_snippet_is_short_for_huge_garbage() -> None:
    raw = b"x" * 5_000_000
    with pytest.raises(ProtocolError) as info:
        decode(raw)
    assert info.value.snippet == "x" * SNIPPET_CHARS
    assert len(str(info.value)) < 1_000


def test_huge_valid_frame_decodes() -> None:
    """A ~5 MB trades frame is just data: it decodes."""
    trade = {
        "coin": "BTC",
        "side": "A",
        "px": "1.0",
        "sz": "2.0",
        "time": 1,
        "tid": 3,
        "hash": "0x",
    }
    count = 5_000_000 // len(json.dumps(trade))
    raw = json.dumps({"channel": "trades", "data": [trade] * count}).encode()
    assert len(raw) >= 4_500_000
    msg = decode(raw)
    assert isinstance(msg, m.TradesMsg) and len(msg.data) == count


def test_huge_invalid_frame_raises() -> None:
    raw = json.dumps({"channel": "allMids", "data": {"mids": {f"C{i}": i for i in range(300_000)}}})
    with pytest.raises(ProtocolError, match="allMids"):
        decode(raw)


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deeply_nested_arrays(depth: int) -> None:
    """Deep nesting, in a known channel, an unknown one or at top level, never escapes."""
    nested = "[" * depth + "]" * depth
    for raw in (
        nested,
        '{"channel":"l2Book","data":' + nested + "}",
        '{"channel":"foo","data":' + nested + "}",
        "[" * depth,
    ):
        _assert_contract(raw)


def test_protocol_error_pickles() -> None:
    with pytest.raises(ProtocolError) as info:
        decode(b"nope")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.reason, clone.snippet, str(clone)) == (
        info.value.reason,
        info.value.snippet,
        str(info.value),
    )


def test_wrong_input_type_raises_protocol_error() -> None:
    for bad in (None, 5, ["x"], {"channel": "pong"}):
        with pytest.raises(ProtocolError):
            decode(bad)  # type: ignore[arg-type]


def test_lone_surrogate_str_raises_protocol_error() -> None:
    _assert_contract('{"channel":"error","data":"\ud800"}')
    _assert_contract('{"channel":"error","data":"\\ud800"}')


# --------------------------------------------------------------------------- properties

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
_channels = st.sampled_from(sorted(m.KNOWN_CHANNELS)) | st.text(max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_property_arbitrary_bytes(raw: bytes) -> None:
    _assert_contract(raw)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_property_arbitrary_text(raw: str) -> None:
    _assert_contract(raw)


@settings(max_examples=400, deadline=None)
@given(_json_values)
def test_property_arbitrary_json_values(value: Any) -> None:
    _assert_contract(json.dumps(value))


@settings(max_examples=600, deadline=None)
@given(_channels, _json_values, st.booleans())
def test_property_frames_with_channels(channel: str, data: Any, with_data: bool) -> None:
    """Objects shaped like frames, with known or random channels and random data."""
    frame: dict[str, Any] = {"channel": channel}
    if with_data:
        frame["data"] = data
    raw = json.dumps(frame)
    try:
        msg = decode(raw)
    except ProtocolError:
        assert channel in m.KNOWN_CHANNELS
        return
    assert isinstance(msg, MESSAGE_TYPES)
    if channel not in m.KNOWN_CHANNELS:
        assert msg == m.UnknownMsg(channel=channel, data=data if with_data else None)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.binary(max_size=8))
def test_property_mutated_real_frame(position: int, junk: bytes) -> None:
    """A valid frame with a few bytes spliced in anywhere still honours the contract."""
    raw = _book_frame(3)
    at = position % (len(raw) + 1)
    _assert_contract(raw[:at] + junk + raw[at:])
