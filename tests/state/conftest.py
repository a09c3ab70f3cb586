"""Fixtures for the state tests: a hand-driven clock, a store, and message builders."""

from __future__ import annotations

from typing import Any

import pytest

from hlmon.protocol.messages import Message
from hlmon.state import ConnState, Store
from tests.support import FakeClock, msg

USER = "0x61fb9e7583dc92cc76eb52f93d88addaa0f02265"
OTHER = "0x31ca8395cf837de08b24da3f660e77761dfb974b"


def fill(tid: int, oid: int, time: int, coin: str = "BTC", px: str = "100.0") -> dict[str, Any]:
    return {
        "coin": coin, "px": px, "sz": "0.1", "side": "B", "time": time,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x00",
        "oid": oid, "crossed": True, "fee": "0.01", "tid": tid,
    }  # fmt: skip


def trade(tid: int, time: int, coin: str = "BTC", px: str = "100.0") -> dict[str, Any]:
    return {"coin": coin, "side": "B", "px": px, "sz": "0.5", "time": time, "tid": tid}


def funding(time: int, coin: str = "BTC", usdc: str = "0.01") -> dict[str, Any]:
    return {"time": time, "coin": coin, "usdc": usdc, "szi": "1.0", "fundingRate": "0.00001"}


def order(oid: int, ts: int, coin: str = "BTC", sz: str = "1.0") -> dict[str, Any]:
    return {"coin": coin, "side": "B", "limitPx": "100.0", "sz": sz, "oid": oid, "timestamp": ts,
            "origSz": "1.0", "orderType": "Limit", "tif": "Gtc"}  # fmt: skip


def order_update(oid: int, status: str, ts: int = 1, sz: str = "1.0") -> dict[str, Any]:
    return {
        "order": {"coin": "BTC", "side": "B", "limitPx": "101.0", "sz": sz, "oid": oid,
                  "timestamp": ts, "origSz": "1.0"},
        "status": status, "statusTimestamp": ts,
    }  # fmt: skip


def summary(value: str = "18204.77") -> dict[str, str]:
    return {"accountValue": value, "totalNtlPos": "44930.0", "totalRawUsd": "0.0",
            "totalMarginUsed": "2200.0"}  # fmt: skip


def position(
    coin: str,
    szi: str,
    entry: str | None,
    *,
    value: str = "0.0",
    upnl: str = "0.0",
    roe: str = "0.0",
    liq: str | None = None,
    lev: int = 20,
    lev_type: str = "cross",
) -> dict[str, Any]:
    return {
        "type": "oneWay",
        "position": {
            "coin": coin, "szi": szi, "leverage": {"type": lev_type, "value": lev},
            "entryPx": entry, "positionValue": value, "unrealizedPnl": upnl,
            "returnOnEquity": roe, "liquidationPx": liq, "marginUsed": "100.0",
        },
    }  # fmt: skip


def clearinghouse(
    positions: list[dict[str, Any]],
    *,
    user: str = USER,
    maint: str = "2202.78",
    value: str = "18204.77",
    dex: str = "",
    time_ms: int = 1_790_000_000_000,
) -> Message:
    return msg(
        "clearinghouseState",
        {
            "dex": dex,
            "user": user,
            "clearinghouseState": {
                "marginSummary": summary(value),
                "crossMarginSummary": summary(value),
                "crossMaintenanceMarginUsed": maint,
                "withdrawable": "14870.02",
                "assetPositions": positions,
                "time": time_ms,
            },
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    """A store watching USER, with a live socket, changes drained."""
    s = Store(clock)
    s.set_user(USER)
    s.health.set_connection(ConnState.LIVE, url="wss://example/ws")
    s.take_changes()
    return s
