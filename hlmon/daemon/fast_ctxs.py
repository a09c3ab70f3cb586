"""``FastCtxsMerge``: what a late joiner of ``fastAssetCtxs`` through the daemon gets at once.

The exchange sends the whole market (mark and mid of every coin) only in the first frame of a
subscription; later frames carry the coins that changed, and only their changed fields. A
client that joins a stream the daemon already holds would get nothing but those deltas (its
screen would wait for a coin until that coin moved), so the daemon keeps every frame merged,
coin by coin and field by field, and replays the merge as one full frame, compressed the way
the exchange compresses it.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import msgspec

from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.market_streams import FAST_ASSET_CTXS, inflate

_decode = msgspec.json.decode
_encode = msgspec.json.encode


class FastCtxsMerge:
    """Every coin's latest ``markPx``/``midPx`` as merged from the frames seen so far.

    Coins are never dropped while the stream lives (a delta leaves out what did not change,
    so absence means nothing); the merge goes with the stream when its last client leaves.
    """

    def __init__(self) -> None:
        self._prices: dict[str, dict[str, Any]] = {}
        self.unreadable = 0
        """Frames that could not be merged (not inflatable, not a map of coins)."""

    def __len__(self) -> int:
        return len(self._prices)

    def apply(self, raw: bytes) -> None:
        """Merge one upstream frame (as the exchange sent it)."""
        try:
            data = _decode(raw)["data"]
            coins = _decode(inflate(data))
        except (msgspec.DecodeError, ProtocolError, KeyError, TypeError):
            self.unreadable += 1
            return
        if not isinstance(coins, dict):
            self.unreadable += 1
            return
        prices = self._prices
        for coin, entry in coins.items():
            if not isinstance(entry, dict):
                continue  # one bad entry never costs the others
            held = prices.get(coin)
            if held is None:
                prices[coin] = dict(entry)
            else:
                held.update(entry)

    def snapshot_frame(self) -> bytes | None:
        """One full frame of everything merged (None before the first frame)."""
        if not self._prices:
            return None
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = packer.compress(_encode(self._prices)) + packer.flush()
        data = base64.b64encode(packed).decode("ascii")
        return _encode({"channel": FAST_ASSET_CTXS, "data": data})
