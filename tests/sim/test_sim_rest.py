"""REST /info: every supported request type answers with the exchange's shapes."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import msgspec
import pytest

from hlmon.protocol import messages as m
from hlmon.sim import SimServer

from .support import START_MS


async def _post(sim: SimServer, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        return await client.post("/info", json=body)


async def test_market_requests(sim: SimServer) -> None:
    """allMids, l2Book, candleSnapshot, meta and contexts are consistent with each other."""
    mids = (await _post(sim, {"type": "allMids"})).json()
    assert len(mids) > 300 and {"BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE", "PURR/USDC"} <= set(
        mids
    )
    assert any(k.startswith("@") for k in mids)
    book = msgspec.convert((await _post(sim, {"type": "l2Book", "coin": "BTC"})).json(), m.L2Book)
    assert len(book.levels[0]) == 20 and len(book.levels[1]) == 20
    meta = (await _post(sim, {"type": "meta"})).json()
    names = [u["name"] for u in meta["universe"]]
    assert len(names) >= 150 and names[0] == "BTC"
    meta2, ctxs = (await _post(sim, {"type": "metaAndAssetCtxs"})).json()
    assert meta2 == meta and len(ctxs) == len(names)
    msgspec.convert(ctxs, list[m.PerpAssetCtx])
    spot, spot_ctxs = (await _post(sim, {"type": "spotMetaAndAssetCtxs"})).json()
    assert spot["universe"][0]["name"] == "PURR/USDC"
    assert [c["coin"] for c in spot_ctxs] == [u["name"] for u in spot["universe"]]
    # The default dex's map: its listed perps, every spot pair and the outcome sides; no
    # delisted perp (no book, no mid) and no HIP-3 coin (those come with their dex).
    listed = {u["name"] for u in meta["universe"] if not u.get("isDelisted")}
    outcomes = {k for k in mids if k.startswith("#")}
    assert outcomes == {"#90", "#91"}
    assert listed | {u["name"] for u in spot["universe"]} | outcomes == set(mids)
    assert "MATIC" in names and "MATIC" not in mids
    candles = (
        await _post(
            sim,
            {
                "type": "candleSnapshot",
                "req": {
                    "coin": "BTC",
                    "interval": "1h",
                    "startTime": START_MS - 24 * 3_600_000,
                    "endTime": START_MS,
                },
            },
        )
    ).json()
    parsed = msgspec.convert(candles, list[m.Candle])
    assert 24 <= len(parsed) <= 25
    assert all(b.open_time - a.open_time == 3_600_000 for a, b in itertools.pairwise(parsed))
    funding = (
        await _post(
            sim, {"type": "fundingHistory", "coin": "BTC", "startTime": START_MS - 5 * 3_600_000}
        )
    ).json()
    assert len(funding) == 5 and set(funding[0]) == {"coin", "fundingRate", "premium", "time"}
    status = (await _post(sim, {"type": "exchangeStatus"})).json()
    assert status == {"specialStatuses": None, "time": START_MS}


async def test_account_requests(sim: SimServer) -> None:
    """Account requests for the demo address decode with the protocol structs."""
    user = sim.demo_address
    state = msgspec.convert(
        (await _post(sim, {"type": "clearinghouseState", "user": user})).json(),
        m.ClearinghouseState,
    )
    coins = {p.position.coin: p.position for p in state.assetPositions}
    assert coins["BTC"].leverage.type == "cross" and coins["BTC"].leverage.value == 20
    assert coins["ETH"].szi.startswith("-") and coins["SOL"].leverage.type == "isolated"
    assert coins["HYPE"].leverage.rawUsd is not None and coins["HYPE"].szi.startswith("-")
    orders = msgspec.convert(
        (await _post(sim, {"type": "frontendOpenOrders", "user": user})).json(),
        list[m.FrontendOrder],
    )
    assert any(o.isTrigger for o in orders) and any(o.children for o in orders)
    plain = (await _post(sim, {"type": "openOrders", "user": user})).json()
    assert {o["oid"] for o in plain} == {o.oid for o in orders}
    fills = msgspec.convert(
        (await _post(sim, {"type": "userFills", "user": user})).json(), list[m.Fill]
    )
    assert len(fills) >= 30 and fills[0].time >= fills[-1].time
    funding = (
        await _post(sim, {"type": "userFunding", "user": user, "startTime": START_MS - 86_400_000})
    ).json()
    assert funding and funding[0]["delta"]["type"] == "funding"
    ledger = (
        await _post(sim, {"type": "userNonFundingLedgerUpdates", "user": user, "startTime": 0})
    ).json()
    msgspec.convert(ledger, list[m.LedgerUpdate])
    spot = (await _post(sim, {"type": "spotClearinghouseState", "user": user})).json()
    assert spot["balances"][0]["coin"] == "USDC"
    status = (await _post(sim, {"type": "orderStatus", "user": user, "oid": orders[0].oid})).json()
    assert status["status"] == "order" and status["order"]["status"] == "open"
    missing = (await _post(sim, {"type": "orderStatus", "user": user, "oid": 1})).json()
    assert missing == {"status": "unknownOid"}
    other = "0x" + "12" * 20
    empty = (await _post(sim, {"type": "clearinghouseState", "user": other})).json()
    assert empty["assetPositions"] == [] and empty["marginSummary"]["accountValue"] == "0.0"


async def test_user_fills_by_time_is_inclusive(sim: SimServer) -> None:
    """startTime and endTime are inclusive; results are oldest first."""
    fills = sim.truth.fills
    t0, t1 = fills[3]["time"], fills[8]["time"]
    got = (
        await _post(
            sim,
            {"type": "userFillsByTime", "user": sim.demo_address, "startTime": t0, "endTime": t1},
        )
    ).json()
    assert [f["tid"] for f in got] == [f["tid"] for f in fills if t0 <= f["time"] <= t1]
    assert got[0]["time"] == t0 and got[-1]["time"] == t1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"type":"noSuchInfo"}',
        b'{"type":"l2Book"}',
        b'{"type":"clearinghouseState","user":"nobody"}',
        b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"2m","startTime":0}}',
        b"[]",
    ],
)
async def test_unparseable_body_is_422(sim: SimServer, body: bytes) -> None:
    """Bodies the exchange cannot deserialize get 422 with its exact text."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/info", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.text == "Failed to deserialize the JSON body into the target type"
