"""The market-wide streams (2026 protocol page §5.1, §5.2): ``fastAssetCtxs`` and
``allDexsAssetCtxs``.

``fastAssetCtxs`` pushes ``data`` as a **string**: base64 of a raw DEFLATE stream (no zlib or
gzip header) holding JSON ``{coin: {markPx?, midPx?}}`` over every listed coin: default and
HIP-3 perps, spot ``@N`` (and ``PURR/USDC``), outcome sides ``#N``. A subscriber's first frame
is the full snapshot; every later push (``Profile.fast_ctxs_ms``, about 1 s) holds only the
coins whose prices changed since the previous push, and of those only the changed fields. A
push with nothing changed is not sent. The feed keeps what it last pushed, so one delta frame
serves every subscriber; one who joins between pushes gets the current snapshot, and the next
delta may repeat a coin it already has (harmless: same values).

``allDexsAssetCtxs`` pushes ``{"ctxs": [[dex, [ctx, ...]], ...]}``: every perp dex in
``perpDexs`` order, each dex's contexts in its ``meta.universe`` order (delisted perps keep
their frozen context in their slot), **without coin names**. The simulator sends one at once
on subscribe (the exchange's cadence is about 13.6 s; waiting that long for a first frame
helps nobody), then every ``Profile.all_dexs_ctxs_ms``.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import msgspec

from hlmon.sim.market import CoinState, Market
from hlmon.sim.numbers import fmt_ticks

FAST_ASSET_CTXS = "fastAssetCtxs"
ALL_DEXS_ASSET_CTXS = "allDexsAssetCtxs"
MARKET_WIDE_TYPES = frozenset((FAST_ASSET_CTXS, ALL_DEXS_ASSET_CTXS))

_ENCODER = msgspec.json.Encoder()


def deflate_b64(obj: Any) -> str:
    """``obj`` as JSON, raw-DEFLATE compressed (RFC 1951, ``wbits=-15``), base64 text."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = packer.compress(_ENCODER.encode(obj)) + packer.flush()
    return base64.b64encode(raw).decode("ascii")


class FastCtxs:
    """The state of one ``fastAssetCtxs`` feed: what it pushed last, coin by coin."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.coins: list[CoinState] = [st for st in market.coins if not st.spec.delisted]
        """Every listed coin (a delisted perp has no book: it is not in the map)."""
        self._pushed: list[tuple[str, str]] = [self._prices(st) for st in self.coins]
        self._vers: list[int] = [st.ver for st in self.coins]

    def _prices(self, st: CoinState) -> tuple[str, str]:
        return fmt_ticks(self.market.mark_ticks(st), st.exp), self.market.mid_str(st)

    def snapshot(self) -> str:
        """The ``data`` string of a full snapshot (current prices of every coin)."""
        out: dict[str, dict[str, str]] = {}
        for st in self.coins:
            mark, mid = self._prices(st)
            out[st.spec.name] = {"markPx": mark, "midPx": mid}
        return deflate_b64(out)

    def delta(self) -> str | None:
        """The ``data`` string of the changes since the last push (None: nothing changed)."""
        out: dict[str, dict[str, str]] = {}
        pushed, vers = self._pushed, self._vers
        for i, st in enumerate(self.coins):
            if st.ver == vers[i]:
                continue
            vers[i] = st.ver
            mark, mid = self._prices(st)
            old_mark, old_mid = pushed[i]
            entry: dict[str, str] = {}
            if mark != old_mark:
                entry["markPx"] = mark
            if mid != old_mid:
                entry["midPx"] = mid
            if entry:
                pushed[i] = (mark, mid)
                out[st.spec.name] = entry
        return deflate_b64(out) if out else None


def all_dexs_asset_ctxs(market: Market) -> dict[str, Any]:
    """The ``allDexsAssetCtxs`` data: every dex's perp contexts by universe position."""
    universe = market.universe
    ctxs = [
        [dex, [market.perp_ctx(market.coins[spec.index]) for spec in universe.dex_perps[dex]]]
        for dex in universe.dex_names
    ]
    return {"ctxs": ctxs}
