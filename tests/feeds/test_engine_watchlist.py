"""FeedEngine watchlist edits, without a network."""

from __future__ import annotations

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.state import Store
from tests.catalogs import default_catalog
from tests.support import FakeClock, msg

CTX = {"funding": "0.0", "openInterest": "1.0", "prevDayPx": "1.0", "dayNtlVlm": "1.0",
       "oraclePx": "100.0", "markPx": "100.0"}  # fmt: skip


async def test_remove_coin_forgets_its_ctx() -> None:
    """H1: an unsubscribed ctx's markPx must not stay behind to mark positions."""
    store = Store(FakeClock())
    engine = FeedEngine(Settings(watchlist=("BTC", "ETH")), store, catalog=default_catalog())
    engine.markets.start()
    store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": CTX}))
    engine.remove_coin("BTC")
    assert store.ctx("BTC") is None
    assert store.stamp("ctx:BTC") is None
    await engine.stop()
