"""The store's market table (``Store.market_board``): frames through ``Store.apply``, the
catalog in force, snapshot versus delta, bad and unknown input, feed keys for freshness."""

from __future__ import annotations

from typing import Any

from hlmon.protocol.messages import PerpAssetCtx, SpotAssetCtx
from hlmon.protocol.meta import AssetMeta, Meta
from hlmon.sim.market_feeds import deflate_b64
from hlmon.state import ConnState, Source, Store
from hlmon.state.market_board import MARKET_SPOT, market_feed
from tests.market_fixtures import synthetic_catalog
from tests.support import FakeClock, msg


def fast(prices: dict[str, dict[str, Any]]) -> Any:
    return msg("fastAssetCtxs", deflate_b64(prices))


def ctx(mark: str, funding: str = "0.0001") -> dict[str, Any]:
    return {"funding": funding, "openInterest": "10.0", "prevDayPx": "100.0",
            "dayNtlVlm": "5000.0", "premium": None, "oraclePx": mark, "markPx": mark,
            "midPx": mark, "impactPxs": None, "dayBaseVlm": "50.0"}  # fmt: skip


def store_with_catalog() -> tuple[Store, FakeClock]:
    clock = FakeClock()
    store = Store(clock)
    store.set_catalog(synthetic_catalog())
    return store, clock


def test_no_catalog_no_rows_then_the_catalog_in_force_names_them() -> None:
    clock = FakeClock()
    store = Store(clock)
    assert len(store.market_board.synced()) == 0
    store.set_catalog(synthetic_catalog())
    table = store.market_board.synced()
    assert len(table) == 1600 and table.row("BTC") is not None
    store.apply(fast({"BTC": {"markPx": "100.0", "midPx": "100.5"}}))
    assert table.row("BTC").mark == "100.0"  # type: ignore[union-attr]
    reloaded = synthetic_catalog(n_main=231)  # a listing added: rows kept by name
    store.set_catalog(reloaded)
    assert store.market_board.synced() is table and table.catalog is reloaded
    assert len(table) == 1601 and table.row("BTC").mark == "100.0"  # type: ignore[union-attr]


def test_snapshot_then_deltas_and_a_new_subscription_is_a_snapshot_again() -> None:
    store, _ = store_with_catalog()
    table = store.market_board.synced()
    store.apply(fast({"BTC": {"markPx": "100.0", "midPx": "100.5"}, "ETH": {"markPx": "5.0"}}))
    store.apply(fast({"BTC": {"markPx": "101.0"}}))  # a delta: mid unchanged
    btc, eth = table.row("BTC"), table.row("ETH")
    assert btc is not None and (btc.mark, btc.mid) == ("101.0", "100.5")
    assert eth is not None and eth.mark == "5.0"
    store.market_board.expect_snapshot()  # resubscribed: the next frame is the whole market
    store.apply(fast({"BTC": {"markPx": "102.0"}}))
    btc = table.row("BTC")
    assert btc is not None and (btc.mark, btc.mid) == ("102.0", None)
    assert not table.row("ETH").prices_fast  # type: ignore[union-attr]


def test_a_new_socket_makes_the_next_frame_a_snapshot() -> None:
    store, _ = store_with_catalog()
    table = store.market_board.synced()
    store.health.set_connection(ConnState.LIVE)
    store.apply(fast({"BTC": {"markPx": "100.0", "midPx": "100.5"}}))
    store.health.set_connection(ConnState.RECONNECTING)
    store.health.set_connection(ConnState.LIVE)
    store.apply(fast({"BTC": {"markPx": "101.0"}}))
    btc = table.row("BTC")
    assert btc is not None and (btc.mark, btc.mid) == ("101.0", None)


def test_bad_payload_is_counted_and_unknown_names_ask_for_a_reload() -> None:
    store, _ = store_with_catalog()
    asked: list[str] = []
    store.catalog_state.on_unknown(asked.append)
    store.apply(fast({"BTC": {"markPx": "100.0"}}))
    before = store.health.frames_rejected
    store.apply(msg("fastAssetCtxs", "not base64 at all!"))
    assert store.health.frames_rejected == before + 1
    assert store.market_board.table.row("BTC").mark == "100.0"  # type: ignore[union-attr]
    store.apply(fast({"NEWCOIN": {"markPx": "1.0"}, "BTC": {"markPx": "100.5"}}))
    assert asked == ["NEWCOIN"]
    assert store.market_board.table.row("BTC").mark == "100.5"  # type: ignore[union-attr]


def test_contexts_stamp_the_market_feed_keys() -> None:
    store, clock = store_with_catalog()
    table = store.market_board.synced()
    names = [n for n in table.universe("xyz") if n is not None]
    store.apply(msg("allDexsAssetCtxs", {"ctxs": [["xyz", [ctx("2.0") for _ in names]]]}))
    assert store.stamp(market_feed("xyz")).source is Source.WS  # type: ignore[union-attr]
    assert table.row(names[0]).funding == "0.0001"  # type: ignore[union-attr]
    assert store.stamp(market_feed("")) is None
    clock.advance(5)
    meta = Meta(universe=[AssetMeta(name="BTC", szDecimals=5)])
    store.apply_market_perps("", meta, [PerpAssetCtx(**ctx("99.0"))])
    stamp = store.stamp(market_feed(""))
    assert stamp is not None and stamp.source is Source.REST and stamp.received_at == clock.now
    btc = table.row("BTC")
    assert btc is not None and btc.mark == "99.0" and btc.source is Source.REST
    store.apply_market_spot([SpotAssetCtx("1.0", "10.0", "1.1", "1.1", coin="@5")])
    assert store.stamp(MARKET_SPOT).source is Source.REST  # type: ignore[union-attr]
    assert table.row("@5").volume == "10.0"  # type: ignore[union-attr]
