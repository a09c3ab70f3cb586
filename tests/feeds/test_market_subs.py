"""``MarketSubscriptions``: no coin before the catalog, then only its exact listed names; HIP-3
mids per dex on the watchlist. Without a network: the subscribe calls are recorded."""

from __future__ import annotations

import pytest

from hlmon.feeds.market_subs import MarketSubscriptions
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import Store
from tests.catalogs import catalog_of, default_catalog
from tests.support import FakeClock


class Recorder:
    """The engine's subscribe/unsubscribe, recorded; ``live`` is what is subscribed now."""

    def __init__(self) -> None:
        self.live: dict[str, Subscription] = {}
        self.expected: set[str] = set()
        self.reloads: list[str] = []

    def add(self, sub: Subscription, key: str | None) -> None:
        self.live[sub.key] = sub
        if key is not None:
            self.expected.add(key)

    def remove(self, sub: Subscription, key: str | None) -> None:
        self.live.pop(sub.key, None)
        self.expected.discard(key or "")

    def coins(self) -> set[str]:
        return {c for s in self.live.values() if isinstance(c := s.get("coin"), str)}

    def dexes(self) -> set[str]:
        return {s.get("dex") or "" for s in self.live.values() if s.type == "allMids"}


def make(watchlist: tuple[str, ...]) -> tuple[MarketSubscriptions, Recorder, Store]:
    store = Store(FakeClock())
    rec = Recorder()
    markets = MarketSubscriptions(
        store, watchlist, add=rec.add, remove=rec.remove, on_unlisted=rec.reloads.append
    )
    return markets, rec, store


def test_nothing_takes_a_coin_before_the_catalog() -> None:
    markets, rec, store = make(("btc", "BTCX", "xyz:tsla", "TSLA", "MATIC"))
    markets.start()
    markets.select_coin("ETH")  # remembered as typed
    markets.add_coin("hype/usdc")
    assert rec.coins() == set() and rec.dexes() == {""}
    assert markets.watchlist == []

    markets.use_catalog(default_catalog())
    assert markets.watchlist == ["BTC", "xyz:TSLA", "@107"]
    assert markets.selected == "ETH"  # chosen before the catalog, resolved with it
    assert rec.coins() == {"BTC", "xyz:TSLA", "@107", "ETH"}
    assert rec.dexes() == {"", "xyz"}  # the default dex's mids also price spot
    assert store.watchlist == ("BTC", "xyz:TSLA", "@107")
    rejected = {r.query: r.message for r in markets.rejected}
    assert "unknown market 'BTCX'; closest listed: BTC" in rejected["BTCX"]
    assert "xyz:TSLA" in rejected["TSLA"] and "flx:TSLA" in rejected["TSLA"]
    assert "delisted" in rejected["MATIC"]
    assert "watchlist: 'btc' is BTC, 'xyz:tsla' is xyz:TSLA, 'hype/usdc' is @107" in [
        e.text for e in store.health.events
    ]
    warned = [e.text for e in store.health.events if e.level == "warn"]
    assert any("'BTCX'" in t and t.endswith("skipped") for t in warned)


def test_selection_typed_before_the_catalog_is_resolved() -> None:
    markets, rec, _ = make(("BTC", "eth"))
    markets.start()
    markets.select_coin("eth")
    markets.use_catalog(default_catalog())
    assert markets.selected == "ETH" and {"ETH", "BTC"} <= rec.coins()


def test_only_exact_listed_names_afterwards() -> None:
    markets, rec, _ = make(("BTC",))
    markets.use_catalog(default_catalog())
    markets.start()
    before = dict(rec.live)
    for bad, why in (
        ("eth", "spelled ETH"),
        ("NOPE", "unknown market 'NOPE'"),
        ("TSLA", "several dexes"),
        ("MATIC", "delisted"),
        ("XYZ:TSLA", "spelled xyz:TSLA"),
    ):
        with pytest.raises(ValueError, match=why):
            markets.add_coin(bad)
        with pytest.raises(ValueError, match=why):
            markets.select_coin(bad)
    assert rec.live == before  # nothing reached a socket
    markets.add_coin("xyz:TSLA")
    markets.select_coin("xyz:TSLA")
    assert {"xyz:TSLA", "BTC"} <= rec.coins() and rec.dexes() == {"", "xyz"}


def test_dex_mids_follow_the_watchlist() -> None:
    markets, rec, _ = make(("BTC", "xyz:TSLA", "xyz:NVDA", "flx:CRCL"))
    markets.use_catalog(default_catalog())
    markets.start()
    assert rec.dexes() == {"", "xyz", "flx"}
    assert {"mids", "mids:xyz", "mids:flx", "ctx:flx:CRCL"} <= rec.expected
    markets.remove_coin("xyz:TSLA")
    assert rec.dexes() == {"", "xyz", "flx"}
    markets.remove_coin("xyz:NVDA")
    assert rec.dexes() == {"", "flx"} and "mids:xyz" not in rec.expected


def test_a_reload_that_no_longer_lists_a_coin_drops_it() -> None:
    markets, rec, store = make(("BTC", "ETH"))
    markets.use_catalog(default_catalog())
    markets.start()
    markets.select_coin("ETH")
    markets.use_catalog(catalog_of(("BTC",), delisted=("ETH",)))
    assert markets.watchlist == ["BTC"] and "ETH" not in rec.coins()
    assert markets.selected is None
    assert any("ETH is delisted" in e.text for e in store.health.events)


def test_held_back_coins_leave_and_come_back_only_when_asked() -> None:
    markets, rec, store = make(("BTC", "ETH"))
    markets.use_catalog(default_catalog())
    markets.start()
    markets.hold_back([subs.active_asset_ctx("ETH")])
    assert markets.watchlist == ["BTC"] and "ETH" in markets.held_back
    assert rec.reloads and "ETH" not in rec.coins()
    assert store.watchlist == ("BTC",)
    markets.add_coin("ETH")  # the user asks again: one more try
    assert "ETH" in rec.coins() and "ETH" not in markets.held_back


def test_selecting_coin_after_coin_keeps_only_the_selected_coin_subscribed() -> None:
    """Selecting coin after coin for weeks: only the watchlist and the selected coin stay
    subscribed, not each coin once selected."""
    markets, rec, _ = make(("BTC",))
    markets.start()
    markets.use_catalog(default_catalog())
    for coin in ["ETH", "SOL", "HYPE", "BTC", "ETH"]:
        markets.select_coin(coin)
        assert {f"book:{coin}", f"trades:{coin}", f"bbo:{coin}"} <= rec.expected
    assert rec.coins() == {"BTC", "ETH"}
    assert not {k for k in rec.expected if k.endswith(("SOL", "HYPE"))}
