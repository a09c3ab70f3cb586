"""Market-wide streams: fastAssetCtxs (base64 raw DEFLATE) and allDexsAssetCtxs (by position)."""

from __future__ import annotations

import base64
import json
import tracemalloc
import zlib
from typing import Any

import pytest
from msgspec import UNSET

from hlmon.protocol import ProtocolError, decode, subscribe_frame
from hlmon.protocol.market_streams import (
    MAX_ENCODED_CHARS,
    MAX_INFLATED_BYTES,
    DexCtxs,
    FastCtx,
    all_dexs_asset_ctxs,
    decode_fast_asset_ctxs,
    fast_asset_ctxs,
    inflate,
    join_all,
    join_asset_ctxs,
    read_all_dexs_asset_ctxs,
)
from hlmon.protocol.messages import AllDexsAssetCtxs, AllDexsAssetCtxsMsg, FastAssetCtxsMsg

DOCS_VECTOR = "q1ZyCnFWsqpWyk0syg6oULJSsjQ3NTDQM1Wq1VFyDfFAkTI2MzXQMwJLVVRWWfmFuTiiyBuamOoZKdXWAgA="


def deflate(payload: bytes) -> str:
    """base64 of a raw DEFLATE stream, as the exchange sends it."""
    packer = zlib.compressobj(wbits=-15)
    return base64.b64encode(packer.compress(payload) + packer.flush()).decode()


def fast_data(obj: Any) -> str:
    return deflate(json.dumps(obj).encode())


def ctx(mark: str = "1.0", **over: Any) -> dict[str, Any]:
    out = {"funding": "0.0000125", "openInterest": "10.5", "prevDayPx": "0.9",
           "dayNtlVlm": "1000.0", "premium": "0.0001", "oraclePx": mark, "markPx": mark,
           "midPx": mark, "impactPxs": [mark, mark], "dayBaseVlm": "100.0"}  # fmt: skip
    out.update(over)
    return out


def all_dexs(entries: list[Any]) -> AllDexsAssetCtxs:
    msg = decode(json.dumps({"channel": "allDexsAssetCtxs", "data": {"ctxs": entries}}))
    assert isinstance(msg, AllDexsAssetCtxsMsg)
    return msg.data


# ------------------------------------------------------------------ subscriptions


def test_subscriptions_are_the_documented_objects() -> None:
    assert fast_asset_ctxs().to_wire() == {"type": "fastAssetCtxs"}
    assert all_dexs_asset_ctxs().to_wire() == {"type": "allDexsAssetCtxs"}
    assert json.loads(subscribe_frame(fast_asset_ctxs())) == {
        "method": "subscribe",
        "subscription": {"type": "fastAssetCtxs"},
    }


# ------------------------------------------------------------------ fastAssetCtxs


def test_docs_test_vector() -> None:
    frame = decode_fast_asset_ctxs(DOCS_VECTOR)
    assert {coin: e.markPx for coin, e in frame.prices.items()} == {
        "BTC": "97500.5",
        "ETH": "3650.25",
        "xyz:NVDA": "145.2",
    }
    assert all(e.midPx is UNSET for e in frame.prices.values())  # left out, not null
    assert frame.dropped == 0


def test_frame_decodes_through_the_tagged_union() -> None:
    msg = decode(json.dumps({"channel": "fastAssetCtxs", "data": DOCS_VECTOR}).encode())
    assert isinstance(msg, FastAssetCtxsMsg)
    assert decode_fast_asset_ctxs(msg.data).prices["BTC"].markPx == "97500.5"


def test_a_fast_frame_whose_data_is_not_a_string_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="fastAssetCtxs"):
        decode(json.dumps({"channel": "fastAssetCtxs", "data": {"BTC": {"markPx": "1"}}}))


def test_delta_keeps_absent_and_null_apart() -> None:
    data = fast_data({"BTC": {"midPx": None}, "ETH": {"markPx": "3651.0", "midPx": "3651.5"}})
    prices = decode_fast_asset_ctxs(data).prices
    assert prices["BTC"] == FastCtx(markPx=UNSET, midPx=None)
    assert prices["ETH"] == FastCtx(markPx="3651.0", midPx="3651.5")


def test_numbers_as_the_docs_type_them_become_strings() -> None:
    prices = decode_fast_asset_ctxs(fast_data({"BTC": {"markPx": 97500.5, "midPx": 97500}}))
    assert prices.prices["BTC"] == FastCtx(markPx="97500.5", midPx="97500.0")


def test_one_bad_entry_costs_only_itself() -> None:
    data = fast_data({"BTC": {"markPx": "1"}, "BAD": {"markPx": {"x": 1}}, "ETH": [1, 2]})
    frame = decode_fast_asset_ctxs(data)
    assert list(frame.prices) == ["BTC"]
    assert frame.dropped == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not base64 at all!", "not base64"),
        ("q1Zy====x", "not base64"),
        (base64.b64encode(b"\xff\xfe garbage").decode(), "not a raw DEFLATE"),
        (base64.b64encode(zlib.compress(b'{"BTC":{}}')).decode(), "not a raw DEFLATE"),  # zlib hdr
        (deflate(b'{"BTC":{"markPx":"1"}}')[:12], "truncated|not base64"),
        (deflate(b"[1, 2]"), "not a JSON object"),
        (deflate(b'{"BTC": '), "not JSON"),
        (deflate(b"\xff\xfe\xfa"), "not JSON"),
    ],
)
def test_bad_data_is_a_protocol_error(data: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason) as info:
        decode_fast_asset_ctxs(data)
    assert len(info.value.snippet) <= 200


def test_truncated_stream_is_refused() -> None:
    raw = base64.b64decode(deflate(json.dumps({"A": {"markPx": "1" * 500}}).encode()))
    with pytest.raises(ProtocolError, match="truncated"):
        inflate(base64.b64encode(raw[: len(raw) // 2]).decode())


def test_over_long_text_is_refused_before_decoding() -> None:
    with pytest.raises(ProtocolError, match="longer than"):
        inflate("A" * (MAX_ENCODED_CHARS + 4))


def test_output_cap() -> None:
    """Exactly the cap passes; one byte more is refused."""
    payload = b"{" + b" " * 998 + b"}"
    assert inflate(deflate(payload), limit=1000) == payload
    with pytest.raises(ProtocolError, match="more than 999 bytes"):
        inflate(deflate(payload), limit=999)


def test_zip_bomb_is_refused_without_inflating_it() -> None:
    """64 MB of zeros in a ~90 KB frame: refused after at most the cap, memory stays low."""
    packer = zlib.compressobj(9, wbits=-15)
    chunk = b"\0" * (1 << 20)
    parts = [packer.compress(chunk) for _ in range(64)]
    bomb = base64.b64encode(b"".join(parts) + packer.flush()).decode()
    assert len(bomb) < MAX_ENCODED_CHARS
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="inflates to more than"):
            decode_fast_asset_ctxs(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_INFLATED_BYTES


# ------------------------------------------------------------------ allDexsAssetCtxs


def test_all_dexs_contexts_are_joined_by_position_delisted_included() -> None:
    # Default dex: BTC, a delisted perp (its frozen context: nulls), ETH; dex xyz: one name.
    frozen = ctx("0.5", premium=None, midPx=None, impactPxs=None)
    data = all_dexs([["", [ctx("100.0"), frozen, ctx("3.0")]], ["xyz", [ctx("145.2")]]])
    joined, bad = join_all(data, {"": ["BTC", "OLD", "ETH"], "xyz": ["xyz:NVDA"]})
    assert bad == 0
    main, xyz = joined
    assert {k: v.markPx for k, v in main.by_coin.items()} == {
        "BTC": "100.0",
        "OLD": "0.5",
        "ETH": "3.0",
    }
    assert main.by_coin["OLD"].midPx is None
    assert xyz.dex == "xyz" and xyz.by_coin["xyz:NVDA"].markPx == "145.2"
    assert not main.needs_catalog_reload and not xyz.needs_catalog_reload


def test_an_unreadable_context_keeps_the_others_aligned() -> None:
    data = all_dexs([["", [ctx("100.0"), {"funding": 1}, ctx("3.0")]]])
    (main,), _ = join_all(data, {"": ["BTC", "SOL", "ETH"]})
    assert set(main.by_coin) == {"BTC", "ETH"}
    assert main.by_coin["ETH"].markPx == "3.0"
    assert main.unreadable == 1


def test_more_contexts_than_names_asks_for_a_catalog_reload() -> None:
    data = all_dexs([["", [ctx("1"), ctx("2"), ctx("3")]], ["new", [ctx("9")]]])
    (main, new), _ = join_all(data, {"": ["BTC", "ETH"]})
    assert set(main.by_coin) == {"BTC", "ETH"}
    assert main.unnamed == 1 and main.needs_catalog_reload
    assert new.by_coin == {} and new.unnamed == 1  # a dex the catalog does not know


def test_fewer_contexts_than_names_and_unreadable_catalog_slots() -> None:
    joined = join_asset_ctxs(DexCtxs("", (None, None)), ["BTC", None, "ETH"])
    assert joined.by_coin == {} and joined.missing == 1 and joined.unreadable == 2
    slots = read_all_dexs_asset_ctxs(all_dexs([["", [ctx("1"), ctx("2")]]]))[0][0]
    assert set(join_asset_ctxs(slots, [None, "ETH"]).by_coin) == {"ETH"}


def test_a_bad_dex_entry_costs_only_that_dex() -> None:
    data = all_dexs([["", [ctx("1")]], ["xyz"], 7, ["", [ctx("2")]], ["flx", [ctx("3")]]])
    dexes, bad = read_all_dexs_asset_ctxs(data)
    assert [d.dex for d in dexes] == ["", "flx"]
    assert dexes[0].ctxs[0] is not None and dexes[0].ctxs[0].markPx == "1"  # first one wins
    assert bad == 3


@pytest.mark.parametrize("data", [None, [], {"ctxs": {}}, {"ctxs": None}, "x"])
def test_a_malformed_all_dexs_frame_is_a_protocol_error(data: Any) -> None:
    with pytest.raises(ProtocolError, match="allDexsAssetCtxs"):
        decode(json.dumps({"channel": "allDexsAssetCtxs", "data": data}))
