"""Fixtures for the alert tests: a hand-driven clock, a Store, message builders, condition waits."""

from __future__ import annotations

from typing import Any

import pytest

from hlmon.protocol.messages import Message
from hlmon.state import Store
from tests.support import FakeClock, msg
from tests.support import wait_for as wait_for  # re-exported for the alerts tests

USER = "0x61fb9e7583dc92cc76eb52f93d88addaa0f02265"


def mids(**prices: str) -> Message:
    return msg("allMids", {"mids": prices})


def position(
    coin: str, szi: str, entry: str, liq: str | None = None, upnl: str = "0.0"
) -> dict[str, Any]:
    return {
        "type": "oneWay",
        "position": {
            "coin": coin, "szi": szi, "leverage": {"type": "cross", "value": 10},
            "entryPx": entry, "positionValue": "0.0", "unrealizedPnl": upnl,
            "returnOnEquity": "0.0", "liquidationPx": liq, "marginUsed": "100.0",
        },
    }  # fmt: skip


def clearinghouse(
    positions: list[dict[str, Any]], *, maint: str = "100.0", value: str = "10000.0"
) -> Message:
    summary = {"accountValue": value, "totalNtlPos": "0.0", "totalRawUsd": "0.0",
               "totalMarginUsed": "0.0"}  # fmt: skip
    return msg(
        "clearinghouseState",
        {
            "dex": "",
            "user": USER,
            "clearinghouseState": {
                "marginSummary": summary,
                "crossMarginSummary": summary,
                "crossMaintenanceMarginUsed": maint,
                "withdrawable": "0.0",
                "assetPositions": positions,
                "time": 1_790_000_000_000,
            },
        },
    )


def fill(tid: int, time_ms: int, coin: str = "BTC", px: str = "100.0") -> dict[str, Any]:
    return {
        "coin": coin, "px": px, "sz": "0.1", "side": "B", "time": time_ms,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x00",
        "oid": tid * 10, "crossed": True, "fee": "0.01", "tid": tid,
    }  # fmt: skip


def spot_msg(usdc: str, pm_ratio: str | None = None) -> Message:
    extra = {"portfolioMarginRatio": pm_ratio} if pm_ratio is not None else {}
    row = {"coin": "USDC", "token": 0, "total": usdc, "hold": "0.0", "entryNtl": "0.0"}
    return msg("spotState", {"user": USER, "spotState": {"balances": [row], **extra}})


def fills_msg(fills: list[dict[str, Any]], snapshot: bool = False) -> Message:
    return msg("userFills", {"user": USER, "isSnapshot": snapshot, "fills": fills})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    s = Store(clock)
    s.set_user(USER)
    return s
