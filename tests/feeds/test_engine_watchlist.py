"""FeedEngine watchlist edits, without a network."""

from __future__ import annotations

from pathlib import Path

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


async def test_each_exchange_endpoint_has_its_own_catalog_cache(tmp_path: Path) -> None:
    """A testnet or local run must never leave its markets where a mainnet start falls back."""
    dirs = []
    for url in (
        "https://api.hyperliquid.xyz",
        "https://api.hyperliquid-testnet.xyz",
        "http://127.0.0.1:8123",
    ):
        settings = Settings(network="custom", api_url=url, cache_dir=str(tmp_path))
        engine = FeedEngine(settings, Store(FakeClock()))
        dirs.append(engine.catalog.cache_dir)
        await engine.stop()
    assert dirs == [
        tmp_path / "catalogs" / "api.hyperliquid.xyz",
        tmp_path / "catalogs" / "api.hyperliquid-testnet.xyz",
        tmp_path / "catalogs" / "127.0.0.1_8123",
    ]


async def test_every_screen_and_socket_change_wakes_the_rest_poller() -> None:
    """While calm the poller sleeps up to a second between rounds: each change that moves its
    plan or its judgement (the screen, the socket) wakes it at once."""
    user = "0x" + "ab" * 20
    settings = Settings(watchlist=("BTC", "ETH"), addresses=(user, "0x" + "cd" * 20))
    engine = FeedEngine(settings, Store(FakeClock()), catalog=default_catalog())
    engine.markets.start()
    pokes: list[str] = []
    engine.rest.poke = lambda: pokes.append("poke")  # type: ignore[method-assign]
    changes = {
        "select_coin": lambda: engine.select_coin("ETH"),
        "add_coin": lambda: engine.add_coin("SOL"),
        "remove_coin": lambda: engine.remove_coin("SOL"),
        "set_book_mode": lambda: engine.set_book_mode(True, None),
        "show_market": lambda: engine.show_market(True),
        "select_user": lambda: engine.select_user("0x" + "cd" * 20),
        "socket down": engine._on_down,
        "socket live": lambda: engine._on_live(None),
        "daemon link down": lambda: engine._on_daemon({"state": "connecting"}),
        "daemon link back": lambda: engine._on_daemon({"state": "live"}),
    }
    try:
        for what, change in changes.items():
            before = len(pokes)
            change()
            assert len(pokes) > before, what
    finally:
        await engine.stop()
