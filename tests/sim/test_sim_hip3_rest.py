"""REST /info for HIP-3: the catalog requests, ``dex`` on the per-dex requests, an unlisted dex
answered with HTTP 500, and the demo account's HIP-3 positions and orders."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from hlmon.protocol import info as pi
from hlmon.protocol import messages as m
from hlmon.sim import SimLimits, SimServer
from hlmon.sim.account_seed import HIP3_HISTORY

from .support import make_sim
from .test_sim_market_account import check_account_identities

ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
DEXES = ["", "xyz", "flx", "hyna"]


async def _post(sim: SimServer, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        return await client.post("/info", json=body)


async def _json(sim: SimServer, body: Any) -> Any:
    r = await _post(sim, body)
    assert r.status_code == 200, (body, r.status_code, r.text)
    return r.json()


async def test_perp_dexs_and_all_perp_metas_are_aligned(sim: SimServer) -> None:
    """``perpDexs`` is ``[null, {...}, ...]``; ``allPerpMetas`` holds one bare meta per dex in the
    same order, each naming coins with its dex's prefix and a collateral token of ``spotMeta``."""
    dexs = await _json(sim, {"type": "perpDexs"})
    assert dexs[0] is None
    assert [d["name"] for d in dexs[1:]] == DEXES[1:]
    keys = {
        "name", "fullName", "deployer", "oracleUpdater", "feeRecipient",
        "assetToStreamingOiCap", "subDeployers", "deployerFeeScale",
        "lastDeployerFeeScaleChangeTime", "assetToFundingMultiplier",
        "assetToFundingInterestRate",
    }  # fmt: skip
    for d in dexs[1:]:
        assert set(d) == keys and ADDRESS.match(d["deployer"])
        assert d["feeRecipient"] is None or ADDRESS.match(d["feeRecipient"])
        assert all(ADDRESS.match(a) for _, addrs in d["subDeployers"] for a in addrs)
    metas = await _json(sim, {"type": "allPerpMetas"})
    assert len(metas) == len(dexs)
    spot = await _json(sim, {"type": "spotMeta"})
    tokens = {t["index"]: t["name"] for t in spot["tokens"]}
    collateral = {}
    for i, (dex, meta) in enumerate(zip(DEXES, metas, strict=True)):
        assert set(meta) == {"universe", "marginTables", "collateralToken"}
        parsed = msgspec.convert(meta, pi.Meta)
        names = [u.name for u in parsed.universe]
        if dex:
            assert names and all(n.startswith(dex + ":") for n in names)
            assert [c for c, _ in dexs[i]["assetToStreamingOiCap"]] == names
        else:
            assert names[0] == "BTC" and not any(":" in n for n in names)
        table_ids = {t[0] for t in meta["marginTables"]}
        assert {u["marginTableId"] for u in meta["universe"]} <= table_ids
        assert meta == await _json(sim, {"type": "meta", "dex": dex})
        collateral[dex] = tokens[meta["collateralToken"]]
    assert collateral == {"": "USDC", "xyz": "USDC", "flx": "USDH", "hyna": "USDE"}
    assert await _json(sim, {"type": "meta"}) == metas[0]


async def test_hip3_meta_flags_and_names(sim: SimServer) -> None:
    """The listed HIP-3 names, an isolated-only market and a growth-mode one."""
    xyz = await _json(sim, {"type": "meta", "dex": "xyz"})
    flx = await _json(sim, {"type": "meta", "dex": "flx"})
    by_name = {u["name"]: u for u in xyz["universe"] + flx["universe"]}
    assert {"xyz:TSLA", "xyz:NVDA", "xyz:TSLL", "xyz:XYZ100", "flx:TSLA", "flx:CRCL"} <= set(
        by_name
    )
    assert by_name["xyz:TSLL"]["onlyIsolated"] is True
    assert by_name["xyz:TSLL"]["marginMode"] == "strictIsolated"
    assert by_name["flx:CRCL"]["growthMode"] == "enabled"
    assert by_name["xyz:NVDA"]["szDecimals"] == 3


async def test_spot_meta_lists_the_collateral_tokens_and_their_pairs(sim: SimServer) -> None:
    """USDH and USDE are spot tokens with a USDC pair whose mid is near 1."""
    spot = await _json(sim, {"type": "spotMeta"})
    mids = await _json(sim, {"type": "allMids"})
    for name in ("USDH", "USDE"):
        token = next(t for t in spot["tokens"] if t["name"] == name)
        pair = next(p for p in spot["universe"] if p["tokens"] == [token["index"], 0])
        assert 0.99 < float(mids[pair["name"]]) < 1.01, (name, pair)


async def test_meta_and_asset_ctxs_per_dex(sim: SimServer) -> None:
    """Contexts are aligned with the dex's universe and decode; the default dex's delisted
    perp keeps its slot with a frozen context."""
    for dex in DEXES:
        meta, ctxs = await _json(sim, {"type": "metaAndAssetCtxs", "dex": dex})
        assert meta == await _json(sim, {"type": "meta", "dex": dex})
        assert len(ctxs) == len(meta["universe"])
        msgspec.convert(ctxs, list[m.PerpAssetCtx])
    meta, ctxs = await _json(sim, {"type": "metaAndAssetCtxs"})
    matic = ctxs[[u["name"] for u in meta["universe"]].index("MATIC")]
    assert matic["midPx"] is None and matic["impactPxs"] is None


async def test_all_mids_per_dex(sim: SimServer) -> None:
    """``allMids`` with ``dex`` holds that dex's coins only, prefixed; the default map holds
    no HIP-3 coin."""
    default = await _json(sim, {"type": "allMids"})
    assert not any(":" in k for k in default) and "PURR/USDC" in default
    assert await _json(sim, {"type": "allMids", "dex": ""}) == default
    for dex in DEXES[1:]:
        mids = await _json(sim, {"type": "allMids", "dex": dex})
        meta = await _json(sim, {"type": "meta", "dex": dex})
        assert set(mids) == {u["name"] for u in meta["universe"]}
        assert all(float(v) > 0 for v in mids.values())


async def test_outcome_meta(sim: SimServer) -> None:
    """A small ``outcomeMeta``; its sides trade as ``#<10*outcome + side>`` in allMids."""
    meta = await _json(sim, {"type": "outcomeMeta"})
    (outcome,) = meta["outcomes"]
    assert [s["name"] for s in outcome["sideSpecs"]] == ["Yes", "No"]
    assert meta["questions"][0]["namedOutcomes"] == [outcome["outcome"]]
    mids = await _json(sim, {"type": "allMids"})
    assert {f"#{10 * outcome['outcome'] + s}" for s in (0, 1)} <= set(mids)


INVALID_DEX = [
    {"type": "meta", "dex": "nope"},
    {"type": "metaAndAssetCtxs", "dex": "XYZ"},
    {"type": "allMids", "dex": "nope"},
    {"type": "clearinghouseState", "user": "0x" + "12" * 20, "dex": "nope"},
    {"type": "frontendOpenOrders", "user": "0x" + "12" * 20, "dex": "nope"},
    {"type": "openOrders", "user": "0x" + "12" * 20, "dex": "nope"},
]


@pytest.mark.parametrize("body", INVALID_DEX, ids=[b["type"] for b in INVALID_DEX])
async def test_invalid_dex_is_http_500(sim: SimServer, body: dict[str, Any]) -> None:
    """An unlisted (or mis-cased) dex answers HTTP 500, as the exchange does."""
    r = await _post(sim, body)
    assert r.status_code == 500
    assert (await _post(sim, {**body, "dex": "xyz"})).status_code == 200


async def test_invalid_dex_in_a_post_and_its_weight(open_ws: Any) -> None:
    """A ``post`` with an unlisted dex gets an error payload; the request is still charged."""
    async with make_sim(limits=SimLimits(rest_weight_per_minute=40)) as sim:
        ws = await open_ws(sim)
        payload = {"type": "meta", "dex": "nope"}
        await ws.send({"method": "post", "id": 3, "request": {"type": "info", "payload": payload}})
        _, reply = await ws.channel("post")
        assert reply["data"]["response"] == {
            "type": "error",
            "payload": "500 Internal Server Error",
        }
        codes = [(await _post(sim, {"type": "perpDexs"})).status_code for _ in range(2)]
        assert codes == [200, 429]  # 20 (the failed meta) + 20 = 40; the next 20 is over


async def test_catalog_weights(open_ws: Any) -> None:
    """``perpDexs``, ``allPerpMetas``, ``spotMeta`` and ``outcomeMeta`` weigh 20 each (80 for a
    catalog load); ``clearinghouseState`` with ``dex`` weighs 2."""
    async with make_sim(limits=SimLimits(rest_weight_per_minute=84)) as sim:
        user = sim.demo_address
        bodies: list[dict[str, Any]] = [
            {"type": "perpDexs"},
            {"type": "allPerpMetas"},
            {"type": "spotMeta"},
            {"type": "outcomeMeta"},
            {"type": "clearinghouseState", "user": user, "dex": "xyz"},
            {"type": "clearinghouseState", "user": user, "dex": "flx"},
            {"type": "clearinghouseState", "user": user, "dex": "hyna"},
        ]
        codes = [(await _post(sim, b)).status_code for b in bodies]
        assert codes == [200, 200, 200, 200, 200, 200, 429]


async def test_demo_account_per_dex(sim: SimServer) -> None:
    """``clearinghouseState`` without dex is the default dex only; with dex, that dex only; the
    HIP-3 position, margin pool and resting orders are where they belong."""
    user = sim.demo_address
    states = {
        dex: msgspec.convert(
            await _json(sim, {"type": "clearinghouseState", "user": user, "dex": dex}),
            m.ClearinghouseState,
        )
        for dex in DEXES
    }
    default = await _json(sim, {"type": "clearinghouseState", "user": user})
    assert msgspec.convert(default, m.ClearinghouseState) == states[""]
    coins = {dex: {p.position.coin for p in st.assetPositions} for dex, st in states.items()}
    assert coins[""] == {"BTC", "ETH", "SOL", "HYPE"}
    assert coins["xyz"] == {"xyz:NVDA", "xyz:TSLA"}
    assert coins["flx"] == {"flx:CRCL"} and coins["hyna"] == set()
    nvda = next(p.position for p in states["xyz"].assetPositions if p.position.coin == "xyz:NVDA")
    assert nvda.szi.startswith("-") and nvda.leverage.type == "isolated"
    assert float(states["xyz"].marginSummary.accountValue) > 10_000
    assert float(states["flx"].marginSummary.accountValue) > 1_000
    assert states["hyna"].marginSummary.accountValue == "0.0"
    for dex in DEXES:
        front = await _json(sim, {"type": "frontendOpenOrders", "user": user, "dex": dex})
        plain = await _json(sim, {"type": "openOrders", "user": user, "dex": dex})
        assert {o["oid"] for o in front} == {o["oid"] for o in plain}
        assert all((o["coin"].split(":")[0] if ":" in o["coin"] else "") == dex for o in front)
        if dex in ("xyz", "flx"):
            assert any(not o["isTrigger"] for o in front), dex
    xyz = await _json(sim, {"type": "frontendOpenOrders", "user": user, "dex": "xyz"})
    assert any(o["coin"] == "xyz:NVDA" and o["isPositionTpsl"] for o in xyz)
    assert (await _json(sim, {"type": "frontendOpenOrders", "user": user})) == await _json(
        sim, {"type": "frontendOpenOrders", "user": user, "dex": ""}
    )
    spot = await _json(sim, {"type": "spotClearinghouseState", "user": user})
    rows = [b["coin"] for b in spot["balances"]]
    assert rows == ["USDC", "PURR", "UBTC", "HYPE", "USDH", "FELIX", "+90"]


async def test_fills_of_every_dex_carry_their_fee_token(sim: SimServer) -> None:
    """``userFills`` (no dex) holds HIP-3 fills; fees are in the dex's collateral token."""
    fills = await _json(sim, {"type": "userFills", "user": sim.demo_address})
    tokens = {f["coin"]: f["feeToken"] for f in fills}
    assert tokens["xyz:NVDA"] == "USDC" and tokens["flx:CRCL"] == "USDH"
    assert tokens["BTC"] == "USDC"


async def test_hip3_pools_are_internally_consistent(sim: SimServer) -> None:
    """Each HIP-3 dex's state obeys the same identities as the default dex, against that dex's
    marks, while marks move and scheduled fills land on any dex."""
    for _ in range(3):
        for dex in ("xyz", "flx"):
            state = await _json(
                sim, {"type": "clearinghouseState", "user": sim.demo_address, "dex": dex}
            )
            meta, ctxs = await _json(sim, {"type": "metaAndAssetCtxs", "dex": dex})
            marks = {
                u["name"]: Decimal(c["markPx"]) for u, c in zip(meta["universe"], ctxs, strict=True)
            }
            check_account_identities(state, marks)
        await sim.advance(90)
    hip3_fills = [f for f in sim.truth.fills if ":" in f["coin"]]
    seeded = 2 * len(HIP3_HISTORY) + 3  # round trips, then the three opening fills
    assert len(hip3_fills) > seeded  # scheduled fills land on HIP-3 dexes too
