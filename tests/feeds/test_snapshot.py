"""``hlmon snapshot``: document shape with the demo simulator, exit 2 on a dead URL, exit 1 on
bad input."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from hlmon.config import Settings
from hlmon.snapshot import _usd, run_snapshot, take_snapshot
from tests.support import FAST_PROFILE, running_sim

TOP_KEYS = {"ok", "network", "address", "status", "mids", "contexts", "books", "account",
            "positions", "openOrders", "fills", "spot"}  # fmt: skip
CONTEXT_KEYS = {"markPx", "funding", "openInterest", "prevDayPx", "dayNtlVlm", "premium"}
POSITION_KEYS = {"coin", "szi", "entryPx", "markPx", "markSource", "positionValue", "unrealizedPnl",
                 "returnOnEquity", "liquidationPx", "liqDistancePct", "marginUsed",
                 "leverage", "dex", "collateral"}  # fmt: skip
ORDER_KEYS = {"coin", "side", "limitPx", "sz", "origSz", "oid", "timestamp", "orderType",
              "reduceOnly", "isTrigger", "triggerPx", "dex"}  # fmt: skip
FILL_KEYS = {"coin", "px", "sz", "side", "time", "dir", "closedPnl", "fee", "feeToken", "oid",
             "tid", "twapId"}  # fmt: skip
ACCOUNT_KEYS = {"accountValue", "totalMarginUsed", "totalNtlPos", "withdrawable",
                "crossMaintenanceMarginUsed", "unrealizedPnl", "dexes", "mode", "equity",
                "ratio", "ratioKind"}  # fmt: skip
DEX_KEYS = {"accountValue", "totalMarginUsed", "withdrawable", "collateral"}
SPOT_KEYS = {"coin", "token", "total", "hold", "entryNtl", "valueUsd"}
MODE_KEYS = {"mode", "equity", "ratio", "ratioKind"}


def is_decimal_string(value: object) -> bool:
    if not isinstance(value, str):
        return False
    Decimal(value)  # raises if not a decimal
    return "e" not in value.lower()


async def test_demo_document_shape() -> None:
    """--demo equivalent: complete, exact keys, exchange decimal strings unchanged; a healthy
    run is ok, and every feed says live (or quiet) whichever path its first data took."""
    doc, complete = await take_snapshot(Settings(demo=True, watchlist=("BTC", "ETH", "SOL")), 10)
    assert complete
    assert set(doc) == TOP_KEYS
    assert doc["ok"] is True
    assert doc["network"] == "demo" and doc["address"].startswith("0x")
    status = doc["status"]
    assert set(status) == {"connection", "reason", "reconnects", "catalog", "feeds"}
    assert status["connection"] == "live" and status["reconnects"] == 0
    assert status["reason"] is None
    catalog = status["catalog"]
    assert catalog["source"] == "exchange" and catalog["markets"] > 100
    assert catalog["problem"] is None and 0 <= catalog["age_s"] < 10
    for feed in status["feeds"].values():
        assert set(feed) == {"state", "age_s", "source", "lag_s"}
        assert feed["state"] in {"live", "quiet"}, status["feeds"]
        assert feed["source"] in {"ws", "rest"}
    # The account came over REST at start-up (or the socket since): live either way.
    assert status["feeds"]["account"]["state"] == "live"
    assert status["feeds"]["book:ETH"] == {**status["feeds"]["book:ETH"], "state": "live"}
    assert set(doc["contexts"]) == {"BTC", "ETH", "SOL"}
    for ctx in doc["contexts"].values():
        assert set(ctx) == CONTEXT_KEYS
        assert all(v is None or is_decimal_string(v) for v in ctx.values())
    assert set(doc["mids"]) == {"BTC", "ETH", "SOL"}
    assert all(is_decimal_string(v) for v in doc["mids"].values())
    assert set(doc["books"]) == {"BTC", "ETH", "SOL"}
    for book in doc["books"].values():
        assert set(book) == {"time", "bids", "asks"} and isinstance(book["time"], int)
        for px, sz, n in book["bids"] + book["asks"]:
            assert is_decimal_string(px) and is_decimal_string(sz) and isinstance(n, int)
        bids = [Decimal(b[0]) for b in book["bids"]]
        assert bids == sorted(bids, reverse=True)
    account = doc["account"]
    assert set(account) == ACCOUNT_KEYS
    dexes = account.pop("dexes")
    assert all(is_decimal_string(account[k]) for k in ACCOUNT_KEYS - MODE_KEYS - {"dexes"})
    # Every dex where the demo account holds something, each in its own token (the default
    # dex's is USDC; a HIP-3 dex's comes from the market catalog).
    assert {"", "xyz", "flx"} <= set(dexes)
    for dex in dexes.values():
        assert set(dex) == DEX_KEYS
        assert all(is_decimal_string(dex[k]) for k in DEX_KEYS - {"collateral"})
    assert dexes[""]["collateral"] == "USDC"
    assert account["accountValue"] == dexes[""]["accountValue"]
    # The mode, the equity by its rules (every dex converted to USD, plus spot) and its ratio.
    assert account["mode"] == "standard" and account["ratioKind"] == "crossMaintenance"
    assert is_decimal_string(account["ratio"])
    assert is_decimal_string(account["equity"])  # every pool and spot balance priced
    # Computed USD amounts to USDC's 6 places (the exact sum prints ~17 digits).
    for usd in [account["equity"], *(r["valueUsd"] for r in doc["spot"] if r["valueUsd"])]:
        assert Decimal(usd) == Decimal(usd).quantize(Decimal("0.000001")), usd
    assert doc["spot"]
    for row in doc["spot"]:
        assert set(row) == SPOT_KEYS
        assert is_decimal_string(row["total"]) and is_decimal_string(row["hold"])
        assert row["valueUsd"] is None or is_decimal_string(row["valueUsd"])
    usdc = next(r for r in doc["spot"] if r["coin"] == "USDC")
    assert usdc["token"] == 0 and Decimal(usdc["valueUsd"]) == Decimal(usdc["total"])
    assert doc["positions"]
    # Positions and orders of every dex, each naming its dex.
    assert {p["dex"] for p in doc["positions"]} >= {"", "xyz", "flx"}
    assert {o["dex"] for o in doc["openOrders"]} >= {"", "xyz", "flx"}
    for pos in doc["positions"]:
        assert set(pos) == POSITION_KEYS
        assert pos["dex"] == (pos["coin"].split(":")[0] if ":" in pos["coin"] else "")
        assert set(pos["leverage"]) == {"type", "value"}
        assert is_decimal_string(pos["markPx"])
        assert pos["markSource"] in {"markPx", "mid", "account"}
        assert pos["liqDistancePct"] is None or is_decimal_string(pos["liqDistancePct"])
    for order in doc["openOrders"]:
        assert set(order) == ORDER_KEYS
        assert order["dex"] == (order["coin"].split(":")[0] if ":" in order["coin"] else "")
    assert doc["fills"]
    for fill in doc["fills"]:
        assert set(fill) == FILL_KEYS
    times = [f["time"] for f in doc["fills"]]
    assert times == sorted(times, reverse=True)  # newest first
    json.dumps(doc)  # serialisable as is


def test_dead_url_exits_2_within_wait(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening: exit 2 within --wait, still one JSON document, connection not live."""
    settings = Settings(network="custom", api_url="http://127.0.0.1:1", watchlist=("BTC",))
    t0 = time.monotonic()
    code = run_snapshot(settings, wait=1.5)
    elapsed = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert code == 2
    assert elapsed < 1.5 + 1.0
    doc = json.loads(out)
    assert set(doc) == TOP_KEYS
    assert doc["status"]["connection"] != "live" and doc["ok"] is False
    assert doc["status"]["reason"] == "cannot connect: 127.0.0.1:1 refused"
    assert doc["status"]["feeds"]["mids"] == {
        "state": "missing",
        "age_s": None,
        "source": None,
        "lag_s": None,
    }
    assert doc["mids"] == {} and doc["account"] is None
    assert "missing: mids" in err


@pytest.mark.parametrize(
    ("settings", "wait", "message"),
    [
        (Settings(), 0.0, "wait must be"),
        (Settings(address="0x123"), 1.0, "not a 0x address"),
        (Settings(watchlist=()), 1.0, "watchlist is empty"),
        (Settings(api_url="ftp://x"), 1.0, "api url"),
    ],
)
def test_bad_input_exits_1(
    settings: Settings, wait: float, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_snapshot(settings, wait=wait) == 1
    out, err = capsys.readouterr()
    assert out == "" and message in err


async def test_no_ws_demo_completes_from_rest() -> None:
    """``hlmon snapshot --demo --no-ws``: every feed (contexts, bbo, trades, fundings too) has
    data from REST; the connection says ``rest``, not down."""
    settings = Settings(demo=True, use_websocket=False, watchlist=("BTC", "ETH"))
    doc, complete = await take_snapshot(settings, 10)
    assert complete
    feeds = doc["status"]["feeds"]
    assert doc["status"]["connection"] == "rest"
    assert {"mids", "book:BTC", "bbo:BTC", "trades:BTC", "ctx:BTC", "ctx:ETH", "account",
            "orders", "fills", "fundings"} <= set(feeds)  # fmt: skip
    assert {f["source"] for f in feeds.values()} == {"rest"}
    assert doc["positions"] and doc["fills"]


async def test_refused_websocket_completes_from_rest() -> None:
    """A server whose websocket refuses every upgrade: the snapshot still completes, from
    REST, each feed's source saying so (a cron job can tell this from an outage)."""
    async with running_sim(FAST_PROFILE) as sim:
        sim.faults.refuse_connections(3600)
        settings = Settings(
            network="custom", api_url=sim.url, address=sim.demo_address, watchlist=("BTC", "ETH")
        )
        doc, complete = await take_snapshot(settings, 15)
    assert complete
    feeds = doc["status"]["feeds"]
    assert doc["status"]["connection"] != "live"
    assert {"bbo:BTC", "trades:BTC", "ctx:ETH", "fundings"} <= set(feeds)
    assert {f["source"] for f in feeds.values()} == {"rest"}


def test_computed_usd_amounts_are_rounded_and_never_raise() -> None:
    """USDC's 6 places, trailing zeros dropped, no ``-0``; a value too long for 6 places (the
    arithmetic on hostile input) comes out unrounded rather than failing the document."""
    assert _usd("116495.02521515793") == "116495.025215"
    assert _usd("250.0") == "250"
    assert _usd("-0.0000001") == "0"
    assert _usd("1e40") == "1" + "0" * 40
    assert _usd(None) is None
