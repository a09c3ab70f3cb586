"""The market-wide streams over the real websocket (``fastAssetCtxs``, ``allDexsAssetCtxs``) and
the ``large`` universe (~1,600 markets) whose catalog names every coin they carry."""

from __future__ import annotations

from typing import Any

import httpx
from msgspec import UNSET

from hlmon.feeds.catalog_loader import load_catalog
from hlmon.feeds.info_client import InfoClient
from hlmon.protocol import messages as m
from hlmon.protocol.market_streams import decode_fast_asset_ctxs, join_all
from hlmon.sim import SimServer
from hlmon.sim.universe import Universe

from .support import WsClient, decode_frame, make_sim

FAST = {"type": "fastAssetCtxs"}
ALL_DEXS = {"type": "allDexsAssetCtxs"}


def _fast(raw: str) -> dict[str, Any]:
    msg = decode_frame(raw)
    assert isinstance(msg, m.FastAssetCtxsMsg)
    frame = decode_fast_asset_ctxs(msg.data)
    assert frame.dropped == 0
    return {coin: (e.markPx, e.midPx) for coin, e in frame.prices.items()}


async def test_fast_snapshot_then_deltas_of_changed_fields(sim: SimServer, open_ws: Any) -> None:
    """The first frame names every listed coin (perps of every dex, spot, outcomes; not the
    delisted perp); later frames only coins that moved, only the fields that changed, and
    merged in they give the simulator's own prices."""
    ws: WsClient = await open_ws(sim)
    await ws.subscribe(FAST)
    _, ack = await ws.channel("subscriptionResponse")
    assert ack["data"] == {"method": "subscribe", "subscription": FAST}
    raw, _ = await ws.channel("fastAssetCtxs")
    book = _fast(raw)
    listed = {c.name for c in sim.universe.all if not c.delisted}
    assert set(book) == listed
    assert {"BTC", "xyz:TSLA", "@160", "PURR/USDC", "#90"} <= set(book) and "MATIC" not in book
    assert all(mark is not None and mid is not None for mark, mid in book.values())
    deltas = 0
    for _ in range(5):
        await sim.advance(1.0)
        raw, _ = await ws.channel("fastAssetCtxs")
        msg = decode_frame(raw)
        assert isinstance(msg, m.FastAssetCtxsMsg)
        frame = decode_fast_asset_ctxs(msg.data)
        assert 0 < len(frame.prices) < len(listed)
        for coin, entry in frame.prices.items():
            mark, mid = book[coin]
            assert (entry.markPx, entry.midPx) != (mark, mid) or mark is None
            new_mark = mark if entry.markPx is UNSET else entry.markPx
            new_mid = mid if entry.midPx is UNSET else entry.midPx
            book[coin] = (new_mark, new_mid)
        deltas += 1
    assert deltas == 5
    for coin in ("BTC", "xyz:NVDA", "@6"):
        st = sim.market.coin(coin)
        assert st is not None
        assert book[coin][1] == sim.market.mid_str(st)


async def test_all_dexs_ctxs_by_position_and_unsubscribe(sim: SimServer, open_ws: Any) -> None:
    """One frame at once, then one per cadence: every dex in perpDexs order, its contexts in
    universe order with no coin names (the delisted perp keeps its frozen slot). Unsubscribing
    acks and stops the pushes; the hub counts subscribers."""
    ws: WsClient = await open_ws(sim)
    await ws.subscribe(ALL_DEXS)
    await ws.subscribe(FAST)
    await ws.channel("fastAssetCtxs")
    raw, frame = await ws.channel("allDexsAssetCtxs")
    assert [e[0] for e in frame["data"]["ctxs"]] == list(sim.universe.dex_names)
    for dex, ctxs in frame["data"]["ctxs"]:
        assert len(ctxs) == len(sim.universe.dex_perps[dex])
        assert all("coin" not in c for c in ctxs)
    msg = decode_frame(raw)
    assert isinstance(msg, m.AllDexsAssetCtxsMsg)
    universes = {d: [c.name for c in sim.universe.dex_perps[d]] for d in sim.universe.dex_names}
    joined, bad = join_all(msg.data, universes)
    assert bad == 0 and all(not j.needs_catalog_reload and j.missing == 0 for j in joined)
    matic = joined[0].by_coin["MATIC"]
    assert matic.midPx is None and matic.impactPxs is None
    btc = sim.market.coin("BTC")
    assert (
        btc is not None
        and joined[0].by_coin["BTC"].markPx == frame["data"]["ctxs"][0][1][0]["markPx"]
    )
    assert sim.hub.subscribers("fastAssetCtxs") == 1
    assert sim.hub.subscribers("allDexsAssetCtxs") == 1
    await sim.advance(sim.profile.all_dexs_ctxs_ms / 1000)
    await ws.channel("allDexsAssetCtxs")
    for sub in (FAST, ALL_DEXS):
        await ws.unsubscribe(sub)
        _, ack = await ws.wait_for(
            lambda f: (
                f.get("channel") == "subscriptionResponse" and f["data"]["method"] == "unsubscribe"
            )
        )
        assert ack["data"]["subscription"] == sub
    assert sim.hub.subscribers("fastAssetCtxs") == 0
    assert sim.hub.subscribers("allDexsAssetCtxs") == 0
    await ws.drain()
    seen = len(ws.log)
    await sim.advance(30)
    await ws.drain(0.2)
    assert not [
        f for _, f in ws.log[seen:] if f.get("channel") in ("fastAssetCtxs", "allDexsAssetCtxs")
    ]


def test_large_universe_keeps_every_standard_index() -> None:
    """The large size only appends: every standard coin keeps its name, asset index and pair
    index; about 1,600 markets are listed."""
    std, large = Universe(), Universe("large")
    for spec in std.all:
        other = large.get(spec.name)
        assert other is not None
        assert (other.asset_index, other.dex, other.index) == (
            spec.asset_index,
            spec.dex,
            spec.index,
        )
    listed = [c for c in large.all if not c.delisted and not c.name.startswith("#")]
    assert 1550 <= len(listed) <= 1650
    assert all(c.index == i for i, c in enumerate(large.all))
    for dex in large.dex_names:
        assert [c.asset_index for c in large.dex_perps[dex]] == list(
            range(len(large.dex_perps[dex]))
        )


async def test_large_catalog_resolves_every_streamed_name(open_ws: Any) -> None:
    """perpDexs, allPerpMetas and spotMeta of the large simulator build a catalog that names
    every coin of the fast snapshot, and whose universes name every allDexsAssetCtxs slot;
    metaAndAssetCtxs and spotMetaAndAssetCtxs answer one context per market."""
    sim = make_sim(markets="large")
    await sim.start()
    try:
        client = InfoClient(sim.url, budget=1200)
        try:
            catalog = (await load_catalog(client)).catalog
        finally:
            await client.aclose()
        assert not catalog.misaligned_dexes
        async with httpx.AsyncClient(base_url=sim.url) as http:
            xyz = (await http.post("/info", json={"type": "metaAndAssetCtxs", "dex": "xyz"})).json()
            assert len(xyz[0]["universe"]) == len(xyz[1]) == len(sim.universe.dex_perps["xyz"])
            spots = (await http.post("/info", json={"type": "spotMetaAndAssetCtxs"})).json()
            assert len(spots[1]) == len(sim.universe.spots) > 1000
        ws: WsClient = await open_ws(sim)
        await ws.subscribe(FAST)
        raw, _ = await ws.channel("fastAssetCtxs")
        names = set(_fast(raw))
        assert len(names) > 1550
        assert all(name in catalog for name in names)
    finally:
        await sim.stop()
