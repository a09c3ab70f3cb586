"""The market half of ``Store.apply``: one handler per market channel.

Each handler stores the decoded struct as is in ``MarketState``, stamps the feed key and records
a change key; nothing is derived here (the hot path is thousands of frames a second).

A base class of ``Store`` rather than an object of its own: the handlers stay bound methods of
the store, so a frame costs one dict lookup and one call, and they share the store's stamps,
change keys and caches without handing containers between objects.
"""

from __future__ import annotations

from collections.abc import Sequence

from hlmon.protocol.messages import (
    ActiveAssetCtxMsg,
    ActiveSpotAssetCtxMsg,
    AllDexsAssetCtxsMsg,
    AllMidsMsg,
    BboMsg,
    Candle,
    CandleMsg,
    FastAssetCtxsMsg,
    L2BookMsg,
    PerpAssetCtx,
    SpotAssetCtx,
    TradesMsg,
)
from hlmon.protocol.meta import Meta

from .catalog_state import CatalogState
from .health import FeedHealth
from .lag import LagStamps
from .market import MarketState
from .market_board import MARKET_SPOT, MarketBoard, market_feed
from .types import Clock, Handler, PositionView, Source, Stamp


class MarketIngest(LagStamps):
    """Handlers for allMids, l2Book, trades, bbo, candle and the asset contexts.

    Books, bbo and trades are stamped with their lag (``state.lag``). A trades frame counts
    only after the first one of its subscription on this socket: that first frame replays
    the recent tape (about 20 s, longer on a quiet coin), old by design, not late."""

    # Set by Store.__init__.
    health: FeedHealth
    _trades_epoch: dict[str, int]
    """trades feed key -> ``health.live_epoch`` of its last websocket frame."""
    _market: MarketState
    market_board: MarketBoard
    catalog_state: CatalogState
    _stamps: dict[str, Stamp]
    _changes: set[str]
    _expected: set[str]
    _positions_cache: list[PositionView] | None
    _clock: Clock

    def _subscribed_coins(self) -> set[str]:
        """Coins some expected feed is for (their data is never evicted)."""
        return {key.partition(":")[2] for key in self._expected}

    def _forget_stamp(self, kind: str, coin: str) -> None:
        """``MarketState`` dropped ``coin`` from a table: its stamp goes too (unless expected)."""
        key = f"{kind}:{coin}"
        if key not in self._expected:
            self._stamps.pop(key, None)
            self._trades_epoch.pop(key, None)

    def _market_handlers(self) -> dict[type, Handler]:
        """Message type -> handler, for ``Store.apply``'s dispatch table."""
        return {
            AllMidsMsg: self._on_all_mids,
            L2BookMsg: self._on_l2_book,
            TradesMsg: self._on_trades,
            BboMsg: self._on_bbo,
            CandleMsg: self._on_candle,
            ActiveAssetCtxMsg: self._on_ctx,
            ActiveSpotAssetCtxMsg: self._on_spot_ctx,
            FastAssetCtxsMsg: self._on_fast_ctxs,
            AllDexsAssetCtxsMsg: self._on_all_dexs_ctxs,
        }

    def _on_all_mids(self, msg: AllMidsMsg, source: Source, now: float) -> None:
        # Routed by data.dex (absent on the default dex): each dex keeps its own map and
        # freshness (``mids`` / ``mids:xyz``); the change key is ``mids`` for every dex.
        mids = msg.data.mids
        dex = msg.data.dex or ""
        self._market.set_mids(mids, dex)
        self._stamps["mids:" + dex if dex else "mids"] = Stamp(now, None, source)
        self._changes.add("mids")
        self.catalog_state.note_mids(dex, mids, len(mids))
        self._positions_cache = None  # marks may come from mids

    def _on_l2_book(self, msg: L2BookMsg, source: Source, now: float) -> None:
        book = msg.data
        books = self._market.books
        if book.coin not in books:
            self._market.make_room(books, "book")
        books[book.coin] = book
        key = "book:" + book.coin
        self._stamps[key] = Stamp(now, book.time, source, self._measure_lag(book.time, source, now))
        self._changes.add(key)

    def _on_trades(self, msg: TradesMsg, source: Source, now: float) -> None:
        trades = msg.data
        if not trades:
            return  # an empty frame names no coin
        changed = self._market.add_trades(trades)
        coins = {t.coin for t in trades} if len(trades) > 1 else {trades[0].coin}
        newest = max(t.time for t in trades) if len(trades) > 1 else trades[0].time
        lag = None
        if source is Source.WS:
            epoch = self.health.live_epoch
            seen = self._trades_epoch
            for coin in coins:
                key = "trades:" + coin
                if seen.get(key) == epoch:
                    lag = self._measure_lag(newest, source, now)
                else:
                    seen[key] = epoch  # the subscription's first frame: a replay, not a lag
        stamp = Stamp(now, newest, source, lag)
        for coin in coins:
            # Duplicates still prove the feed is flowing, so stamp every coin in the frame.
            self._stamps["trades:" + coin] = stamp
        for coin in changed:
            self._changes.add("trades:" + coin)

    def _on_bbo(self, msg: BboMsg, source: Source, now: float) -> None:
        bbo = msg.data
        bbos = self._market.bbos
        if bbo.coin not in bbos:
            self._market.make_room(bbos, "bbo")
        bbos[bbo.coin] = bbo
        key = "bbo:" + bbo.coin
        self._stamps[key] = Stamp(now, bbo.time, source, self._measure_lag(bbo.time, source, now))
        self._changes.add(key)

    def _on_candle(self, msg: CandleMsg, source: Source, now: float) -> None:
        candle = msg.data
        self._market.add_candle(candle)
        key = "candle:" + candle.coin
        self._stamps[key] = Stamp(now, candle.open_time, source)
        self._changes.add(key)

    def apply_candles(
        self, coin: str, interval: str, candles: Sequence[Candle], source: Source
    ) -> int:
        """Store a ``candleSnapshot`` answer for ``coin`` (oldest first, as the exchange sends
        it); stamps ``candles:COIN`` (a feed of its own: polled on a timer, unlike the pushed
        ``candle:COIN``) and records its change key. Candles of another coin or interval
        (a malformed answer) are counted and skipped, the rest kept. Returns how many were kept.
        """
        kept = 0
        for candle in candles:
            if candle.coin != coin or candle.interval != interval:
                self.health.note_rejected(
                    f"candleSnapshot for {coin} {interval}", f"{candle.coin} {candle.interval}"
                )
                continue
            self._market.add_candle(candle)
            kept += 1
        key = "candles:" + coin
        self._stamps[key] = Stamp(self._clock(), None, source)
        self._changes.add(key)
        return kept

    def _on_ctx(self, msg: ActiveAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        ctxs = self._market.ctxs
        if coin not in ctxs:
            self._market.make_room(ctxs, "ctx")
        ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._stamps[key] = Stamp(now, None, source)
        self._changes.add(key)
        self._positions_cache = None  # marks come from ctx

    def _on_spot_ctx(self, msg: ActiveSpotAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        spot_ctxs = self._market.spot_ctxs
        if coin not in spot_ctxs:
            self._market.make_room(spot_ctxs, "ctx")
        spot_ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._stamps[key] = Stamp(now, None, source)
        self._changes.add(key)

    # ------------------------------------------------------------------ the whole market
    # (the market screen's table, ``market_board``; no change key: the screen reads the
    # table's own version on its timer, so the dashboard does not repaint for it)

    def _on_fast_ctxs(self, msg: FastAssetCtxsMsg, source: Source, now: float) -> None:
        refused = self.market_board.apply_fast(msg.data, source)
        if refused is not None:
            self.health.note_rejected(f"fastAssetCtxs: {refused}", msg.data[:80])
        unknown = self.market_board.table.unknown_names
        if unknown:  # a market listed since the catalog was loaded: one reload asks for it
            self.catalog_state.note_names(unknown)

    def _on_all_dexs_ctxs(self, msg: AllDexsAssetCtxsMsg, source: Source, now: float) -> None:
        for dex in self.market_board.apply_all_dexs(msg.data, source):
            self._stamps[market_feed(dex)] = Stamp(now, None, source)

    def apply_market_perps(
        self, dex: str, meta: Meta, ctxs: Sequence[PerpAssetCtx], source: Source = Source.REST
    ) -> None:
        """A ``metaAndAssetCtxs`` answer for the market screen's table (REST)."""
        self.market_board.apply_perps(meta, ctxs, source)
        self._stamps[market_feed(dex)] = Stamp(self._clock(), None, source)

    def apply_market_spot(self, ctxs: Sequence[SpotAssetCtx], source: Source = Source.REST) -> None:
        """A ``spotMetaAndAssetCtxs`` answer for the market screen's table (REST)."""
        self.market_board.apply_spot(ctxs, source)
        self._stamps[MARKET_SPOT] = Stamp(self._clock(), None, source)
