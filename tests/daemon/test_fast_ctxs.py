"""``FastCtxsMerge``: the daemon's merge of ``fastAssetCtxs`` frames for late joiners."""

from __future__ import annotations

import json

from hlmon.daemon.fast_ctxs import FastCtxsMerge
from hlmon.protocol.market_streams import decode_fast_asset_ctxs
from hlmon.sim.market_feeds import deflate_b64


def _frame(coins: object) -> bytes:
    return json.dumps({"channel": "fastAssetCtxs", "data": deflate_b64(coins)}).encode()


def test_deltas_merge_field_by_field_and_replay_as_one_full_frame() -> None:
    merge = FastCtxsMerge()
    assert merge.snapshot_frame() is None  # nothing yet: nothing replayed
    merge.apply(_frame({"BTC": {"markPx": "100", "midPx": "100.5"}, "@107": {"markPx": "2"}}))
    merge.apply(_frame({"BTC": {"midPx": "101"}, "xyz:NVDA": {"markPx": "180", "midPx": None}}))
    frame = merge.snapshot_frame()
    assert frame is not None
    decoded = json.loads(frame)
    assert decoded["channel"] == "fastAssetCtxs"
    prices = decode_fast_asset_ctxs(decoded["data"]).prices  # hlmon's own decoder reads it
    assert prices["BTC"].markPx == "100" and prices["BTC"].midPx == "101"
    assert prices["xyz:NVDA"].midPx is None
    assert set(prices) == {"BTC", "@107", "xyz:NVDA"}


def test_a_bad_frame_is_counted_and_loses_nothing() -> None:
    merge = FastCtxsMerge()
    merge.apply(_frame({"BTC": {"markPx": "100"}}))
    merge.apply(b'{"channel":"fastAssetCtxs","data":"not base64!"}')
    merge.apply(b"not json")
    merge.apply(_frame(["a list, not coins"]))
    merge.apply(_frame({"ETH": "not an entry", "SOL": {"markPx": "150"}}))
    assert merge.unreadable == 3
    assert len(merge) == 2  # BTC kept, SOL merged, ETH's bad entry left out
