"""``hlmon snapshot`` with several addresses: an ``accounts`` list, nothing else changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hlmon.config import Settings
from hlmon.sim import SimServer
from hlmon.snapshot import take_snapshot
from tests.support import running_sim

from .helpers import B


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim(seed=3) as server:
        yield server


async def test_accounts_key_with_two_addresses(sim: SimServer) -> None:
    settings = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        addresses=(sim.demo_address, B),
        labels=((B, "empty"),),
        watchlist=("BTC",),
    )
    doc, complete = await take_snapshot(settings, 8)
    assert complete, doc["status"]
    assert doc["address"] == sim.demo_address
    rows = doc["accounts"]
    assert [r["address"] for r in rows] == [sim.demo_address, B]
    assert set(rows[0]) == {
        "address", "label", "selected", "accountValue", "totalMarginUsed", "marginRatioPct",
        "totalUpnl", "positions", "dexes", "source", "age_s", "state",
    }  # fmt: skip
    assert rows[0]["selected"] and not rows[1]["selected"]
    assert rows[1]["label"] == "empty"
    assert (rows[1]["accountValue"], rows[1]["totalUpnl"], rows[1]["positions"]) == ("0.0", "0", 0)
    # The selected row and the detail come from the same clearinghouseState.
    assert rows[0]["accountValue"] == doc["account"]["accountValue"]
    assert rows[0]["positions"] == len(doc["positions"])  # on every dex
    assert rows[0]["dexes"] == doc["account"]["dexes"] and {"xyz", "flx"} <= set(rows[0]["dexes"])
    assert rows[1]["dexes"] == {}  # the empty account holds nothing anywhere
    # The selected account's detail is the demo account's, as before.
    assert doc["openOrders"] and doc["fills"]


async def test_no_accounts_key_with_one_address(sim: SimServer) -> None:
    settings = Settings(
        network="custom", api_url=sim.url, address=sim.demo_address, watchlist=("BTC",)
    )
    doc, complete = await take_snapshot(settings, 8)
    assert complete
    assert "accounts" not in doc
    assert list(doc) == [
        "ok", "network", "address", "status", "mids", "contexts", "books", "account",
        "positions", "openOrders", "fills", "spot",
    ]  # fmt: skip
