"""Fixtures for the alert tests: a hand-driven clock, a Store, message builders, condition waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from hlmon.protocol.messages import KnownMsg, Message
from hlmon.state import Store

USER = "0x61fb9e7583dc92cc76eb52f93d88addaa0f02265"
T0 = 1_790_000_000.0


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def msg(channel: str, data: Any) -> Message:
    """A frame struct from plain JSON-like data, exactly as ``decode`` would build it."""
    return msgspec.json.decode(
        msgspec.json.encode({"channel": channel, "data": data}), type=KnownMsg
    )


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


async def wait_for(cond: Callable[[], object], within: float, interval: float = 0.01) -> float:
    """Poll ``cond`` until truthy; AssertionError at the deadline. Returns seconds taken."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start >= within:
            raise AssertionError(f"condition not met within {within} s: {cond}")
        await asyncio.sleep(interval)
    return time.monotonic() - start
