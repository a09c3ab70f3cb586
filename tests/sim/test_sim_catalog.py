"""The simulator's catalog and per-dex answers, read by hlmon's own protocol decoders and market
catalog: what the client side will build on must decode strictly and resolve as the 2026
exchange's names do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hlmon.feeds.catalog_loader import load_catalog
from hlmon.feeds.info_client import InfoClient
from hlmon.protocol import info as api
from hlmon.protocol.info import InfoRequest
from hlmon.sim import SimServer
from hlmon.state.catalog import ResolveError

USER = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
REQUESTS: list[InfoRequest] = [
    api.perp_dexs(),
    api.all_perp_metas(),
    api.spot_meta(),
    api.outcome_meta(),
    *(api.meta(d) for d in ("xyz", "flx", "hyna")),
    *(api.meta_and_asset_ctxs(d) for d in ("xyz", "flx")),
    *(api.all_mids(d) for d in ("xyz", "hyna")),
    *(api.clearinghouse_state(USER, d) for d in ("", "xyz", "flx", "hyna")),
    *(api.frontend_open_orders(USER, d) for d in ("xyz", "flx")),
    *(api.open_orders(USER, d) for d in ("xyz",)),
]


@pytest.mark.parametrize("req", REQUESTS, ids=[str(r.body) for r in REQUESTS])
async def test_answers_decode_with_the_protocol_layer(sim: SimServer, req: InfoRequest) -> None:
    """Each answer decodes with ``hlmon.protocol.info.decode_response``."""
    assert sim.demo_address == USER
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/info", json=req.body)
    assert r.status_code == 200, r.text
    assert api.decode_response(req, r.content) is not None


async def test_client_catalog_loads_from_the_simulator(sim: SimServer) -> None:
    """hlmon's catalog loader reads the simulator in one 80-weight load, and the names
    resolve as the exchange's would."""
    info = InfoClient(sim.url, budget=1200)
    try:
        load = await load_catalog(info)
    finally:
        await info.aclose()
    cat = load.catalog
    assert load.weight == 80 and load.notes == () and cat.misaligned_dexes == ()
    assert [d.name for d in cat.dexes()] == ["", "xyz", "flx", "hyna"]
    resolved: dict[str, Any] = {
        q: cat.resolve(q).name for q in ("btc", "XYZ:tsla", "hyna:btc", "usdh/usdc", "#90")
    }
    assert resolved == {
        "btc": "BTC",
        "XYZ:tsla": "xyz:TSLA",
        "hyna:btc": "hyna:BTC",
        "usdh/usdc": "@160",
        "#90": "#90",
    }
    ambiguous = cat.resolve("TSLA")
    assert ambiguous.error is ResolveError.AMBIGUOUS
    assert set(ambiguous.candidates) == {"xyz:TSLA", "flx:TSLA"}
    assert cat.resolve("MATIC").error is ResolveError.DELISTED
    assert cat.resolve("NOPE").error is ResolveError.UNKNOWN
    assert cat.collateral_of("flx:CRCL") == "USDH" and cat.collateral_of("xyz:NVDA") == "USDC"
    assert cat.collateral_of("hyna:ETH") == "USDE"
    # Every name the catalog offers is one the simulator accepts on a socket.
    assert all(sim.universe.get(m.name) is not None for m in cat.markets())
