"""Builders for the accounts tests: frames as the protocol decodes them, a hand-driven clock."""

from __future__ import annotations

from typing import Any

from hlmon.protocol.messages import Message
from tests.support import FakeClock as FakeClock  # re-exported for the accounts tests
from tests.support import msg

A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
C = "0x" + "c3" * 20


def position(coin: str, szi: str, upnl: str) -> dict[str, Any]:
    return {
        "type": "oneWay",
        "position": {
            "coin": coin, "szi": szi, "leverage": {"type": "cross", "value": 10},
            "entryPx": "100.0", "positionValue": "100.0", "unrealizedPnl": upnl,
            "returnOnEquity": "0.0", "liquidationPx": None, "marginUsed": "10.0",
        },
    }  # fmt: skip


def clearinghouse(
    user: str,
    value: str = "1000.0",
    *,
    margin: str = "100.0",
    maint: str = "50.0",
    positions: list[dict[str, Any]] | None = None,
    dex: str = "",
) -> Message:
    summary = {
        "accountValue": value, "totalNtlPos": "0.0", "totalRawUsd": value,
        "totalMarginUsed": margin,
    }  # fmt: skip
    return msg(
        "clearinghouseState",
        {
            "dex": dex,
            "user": user,
            "clearinghouseState": {
                "marginSummary": summary,
                "crossMarginSummary": summary,
                "crossMaintenanceMarginUsed": maint,
                "withdrawable": value,
                "assetPositions": positions or [],
                "time": 1_790_000_000_000,
            },
        },
    )


def order_update(oid: int, status: str = "open") -> Message:
    return msg(
        "orderUpdates",
        [
            {
                "order": {"coin": "BTC", "side": "B", "limitPx": "100.0", "sz": "1.0",
                          "oid": oid, "timestamp": 1, "origSz": "1.0"},
                "status": status, "statusTimestamp": 1,
            }
        ],
    )  # fmt: skip


def user_fill(tid: int, oid: int) -> Message:
    return msg(
        "user",
        {"fills": [{
            "coin": "BTC", "px": "100.0", "sz": "0.1", "side": "B", "time": 1_790_000_000_000,
            "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x00",
            "oid": oid, "crossed": True, "fee": "0.01", "tid": tid,
        }]},
    )  # fmt: skip


def ack(kind: str, user: str, method: str = "subscribe") -> Message:
    return msg(
        "subscriptionResponse",
        {"method": method, "subscription": {"type": kind, "user": user}},
    )
