"""Market state: mids, books, BBOs, trade tapes, asset contexts, candles.

Holds the decoded structs as they arrived (no copies: the hot path is thousands of frames a
second) plus bounded rings where a feed is incremental.

Every table by coin is bounded too (``coins_cap``): the selected coin changes, and a coin
looked at once keeps its book, tape and candles after its feeds stop. When a table is full, a
new coin takes the place of the coin that entered longest ago among those no feed is
subscribed for (``protected``); the check runs only when a coin is new, never per frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from hlmon.protocol.messages import (
    ActiveAssetData,
    Bbo,
    Candle,
    L2Book,
    PerpAssetCtx,
    SpotAssetCtx,
    Trade,
)

_TradeKey = tuple[int, int]
COINS_CAP = 64
"""Coins kept per table (book, bbo, tape, candles, asset data): far more than are subscribed
at once, so only coins no longer watched are ever dropped."""


def dex_of_coin(coin: str) -> str:
    """The perp dex a wire name belongs to by its spelling: ``xyz`` for ``xyz:TSLA``, ``""``
    for default-dex perps, spot (``@107``, ``PURR/USDC``) and outcomes (``#90``), whose mids
    all come with the default dex's ``allMids``."""
    prefix, colon, _ = coin.partition(":")
    return prefix if colon else ""


class MidsByDex(Mapping[str, str]):
    """Every dex's last ``allMids`` map seen as one read-only map, routed by the coin's dex.

    Each dex's map is replaced only by that dex's push, so a default-dex push never wipes the
    ``xyz`` mids and the other way round; a lookup is one prefix split and two dict lookups.
    """

    __slots__ = ("_by_dex",)

    def __init__(self, by_dex: dict[str, Mapping[str, str]]) -> None:
        self._by_dex = by_dex

    def __getitem__(self, coin: str) -> str:
        mids = self._by_dex.get(dex_of_coin(coin))
        if mids is None:
            raise KeyError(coin)
        return mids[coin]

    def get(self, coin: str, default: str | None = None) -> str | None:  # type: ignore[override]
        mids = self._by_dex.get(dex_of_coin(coin))
        return default if mids is None else mids.get(coin, default)

    def __contains__(self, coin: object) -> bool:
        return isinstance(coin, str) and self.get(coin) is not None

    def __iter__(self) -> Iterator[str]:
        for mids in self._by_dex.values():
            yield from mids

    def __len__(self) -> int:
        return sum(len(mids) for mids in self._by_dex.values())


class _Tape:
    """A ring of trades for one coin, newest last, deduped on (time, tid).

    ``tid`` alone is not unique (it is a hash of the two oids), ``(time, tid)`` is within one coin.
    The dedupe set is kept exactly in step with the ring so it stays bounded too.
    """

    __slots__ = ("keys", "ring")

    def __init__(self, cap: int) -> None:
        self.ring: deque[Trade] = deque(maxlen=cap)
        self.keys: set[_TradeKey] = set()

    def add(self, trade: Trade) -> bool:
        """Append one trade; False if it was a duplicate (e.g. the backfill after a reconnect)."""
        key = (trade.time, trade.tid)
        if key in self.keys:
            return False
        ring = self.ring
        if ring and trade.time < ring[-1].time:
            # Out of order (a reconnect backfill filling a gap): rare, so an O(cap) rebuild is fine.
            if len(ring) == ring.maxlen and trade.time < ring[0].time:
                return False  # older than everything kept: it would be evicted at once
            items = sorted([*ring, trade], key=lambda t: (t.time, t.tid))
            ring.clear()
            ring.extend(items)
            self.keys = {(t.time, t.tid) for t in ring}
            return True
        if len(ring) == ring.maxlen:
            old = ring[0]
            self.keys.discard((old.time, old.tid))
        ring.append(trade)
        self.keys.add(key)
        return True


class MarketState:
    """Latest market data per coin. Pure data holder; the Store stamps and tracks changes."""

    def __init__(
        self,
        *,
        trades_cap: int,
        candles_cap: int,
        coins_cap: int = COINS_CAP,
        protected: Callable[[], Collection[str]] = frozenset,
        on_evict: Callable[[str, str], None] | None = None,
    ) -> None:
        """
        Args:
            trades_cap, candles_cap: ring sizes per coin.
            coins_cap: coins kept per table (books, bbos, tapes, candles, asset data and
                asset contexts).
            protected: the coins a feed is subscribed for now (never evicted).
            on_evict: told ``(kind, coin)`` of each eviction (``book``, ``bbo``, ``trades``,
                ``candle``, ``assetData``, ``ctx``), so the store can forget that feed's stamp.
        """
        self._trades_cap = trades_cap
        self._candles_cap = candles_cap
        self.coins_cap = max(1, coins_cap)
        self._protected = protected
        self._on_evict = on_evict
        self.mids_by_dex: dict[str, Mapping[str, str]] = {}
        """dex (``""`` = default) -> that dex's last ``allMids`` map, as received."""
        self.mids = MidsByDex(self.mids_by_dex)
        """All dexes' mids as one map (routed by the coin's dex prefix)."""
        self.books: dict[str, L2Book] = {}
        self.bbos: dict[str, Bbo] = {}
        self.tapes: dict[str, _Tape] = {}
        self.ctxs: dict[str, PerpAssetCtx] = {}
        self.spot_ctxs: dict[str, SpotAssetCtx] = {}
        self.asset_data: dict[str, ActiveAssetData] = {}
        # (coin, interval) -> candles by open time, oldest first; coin -> last interval pushed
        self.candles: dict[tuple[str, str], deque[Candle]] = {}
        self.candle_interval: dict[str, str] = {}

    # ------------------------------------------------------------------ writes

    def make_room(self, table: dict[Any, Any], kind: str) -> None:
        """Before a new coin enters ``table``: if it is full, drop the unprotected coin that
        entered longest ago (dicts keep insertion order)."""
        if len(table) < self.coins_cap:
            return
        keep = self._protected()
        for key in table:
            coin = key[0] if isinstance(key, tuple) else key  # candles: (coin, interval)
            if coin not in keep:
                del table[key]
                if kind == "candle":
                    self.candle_interval.pop(coin, None)
                if self._on_evict is not None:
                    self._on_evict(kind, coin)
                return

    def set_mids(self, mids: dict[str, str], dex: str = "") -> None:
        """Store one dex's map as is (no copy; other dexes' maps are kept)."""
        self.mids_by_dex[dex] = mids

    def add_trades(self, trades: list[Trade]) -> set[str]:
        """Add a trades frame; returns the coins that got at least one new trade."""
        changed: set[str] = set()
        for trade in trades:
            tape = self.tapes.get(trade.coin)
            if tape is None:
                self.make_room(self.tapes, "trades")
                tape = self.tapes[trade.coin] = _Tape(self._trades_cap)
            if tape.add(trade):
                changed.add(trade.coin)
        return changed

    def add_candle(self, candle: Candle) -> None:
        """Replace the open candle (same open time) or append the next one."""
        key = (candle.coin, candle.interval)
        ring = self.candles.get(key)
        if ring is None:
            self.make_room(self.candles, "candle")
            ring = self.candles[key] = deque(maxlen=self._candles_cap)
        self.candle_interval[candle.coin] = candle.interval
        if ring and ring[-1].open_time == candle.open_time:
            ring[-1] = candle
        elif ring and candle.open_time < ring[-1].open_time:
            # A late push for an older candle: replace it in place if we have it, else drop.
            for i, old in enumerate(ring):
                if old.open_time == candle.open_time:
                    ring[i] = candle
                    break
        else:
            ring.append(candle)

    # ------------------------------------------------------------------ reads

    def trades(self, coin: str) -> list[Trade]:
        tape = self.tapes.get(coin)
        return list(tape.ring) if tape is not None else []

    def candle_list(self, coin: str, interval: str | None = None) -> list[Candle]:
        interval = interval or self.candle_interval.get(coin)
        if interval is None:
            return []
        ring = self.candles.get((coin, interval))
        return list(ring) if ring is not None else []
