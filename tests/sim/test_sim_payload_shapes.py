"""The simulator's answers have the shapes of the recorded exchange payloads.

For every ``rest_*.json`` / ``ws_*.json`` in the shared payload folder that the simulator has a
counterpart for, the simulator's response must cover the keys and JSON types of at least one
recorded sample (and decode with the protocol layer for websocket frames).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from hlmon.sim import SimServer
from tests.payloads import MISSING, PAYLOADS, payloads_present

from .shapes import best_match
from .support import START_MS, WsClient, decode_frame

pytestmark = pytest.mark.skipif(not payloads_present(), reason=MISSING)

NO_COUNTERPART = {"rest_tokenDetails", "rest_userRateLimit"}
"""Info types the simulator does not serve."""


def _samples(name: str) -> list[dict[str, Any]]:
    data = json.loads((PAYLOADS / f"{name}.json").read_text())
    return list(data["samples"])


def _rest_names() -> list[str]:
    if not payloads_present():
        return []
    return sorted(p.stem for p in PAYLOADS.glob("rest_*.json") if p.stem not in NO_COUNTERPART)


def _request(name: str, sim: SimServer) -> dict[str, Any]:
    kind = name.removeprefix("rest_")
    body: dict[str, Any] = {"type": kind}
    user_types = {
        "clearinghouseState",
        "spotClearinghouseState",
        "openOrders",
        "frontendOpenOrders",
        "userFills",
        "userFillsByTime",
        "userFunding",
        "userNonFundingLedgerUpdates",
        "historicalOrders",
    }
    if kind in user_types:
        body["user"] = sim.demo_address
    if kind in ("userFillsByTime", "userFunding", "userNonFundingLedgerUpdates", "fundingHistory"):
        body["startTime"] = START_MS - 7 * 86_400_000
    if kind in ("l2Book", "fundingHistory"):
        body["coin"] = "BTC"
    if kind == "candleSnapshot":
        body["req"] = {
            "coin": "BTC",
            "interval": "1h",
            "startTime": START_MS - 86_400_000,
            "endTime": START_MS,
        }
    return body


@pytest.mark.parametrize("name", _rest_names())
async def test_rest_shape_matches_recording(sim: SimServer, name: str) -> None:
    """The REST body covers the keys/types of a recorded sample."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/info", json=_request(name, sim))
    assert r.status_code == 200, r.text
    recorded = [s["response"] for s in _samples(name) if "response" in s]
    assert best_match(r.json(), recorded) == []


WS_CASES: dict[str, dict[str, Any]] = {
    "ws_allMids": {"type": "allMids"},
    "ws_l2Book": {"type": "l2Book", "coin": "BTC"},
    "ws_trades": {"type": "trades", "coin": "BTC"},
    "ws_bbo": {"type": "bbo", "coin": "BTC"},
    "ws_candle": {"type": "candle", "coin": "BTC", "interval": "1m"},
    "ws_activeAssetCtx": {"type": "activeAssetCtx", "coin": "BTC"},
    "ws_activeAssetData": {"type": "activeAssetData", "user": "", "coin": "BTC"},
    "ws_webData3": {"type": "webData3", "user": ""},
    "ws_userFills": {"type": "userFills", "user": ""},
    "ws_userFundings": {"type": "userFundings", "user": ""},
    "ws_orderUpdates": {"type": "orderUpdates", "user": ""},
    "ws_user": {"type": "userEvents", "user": ""},
    "ws_notification": {"type": "notification", "user": ""},
}


async def test_ws_shapes_match_recordings(sim: SimServer, open_ws: Any) -> None:
    """Each websocket channel's frames cover a recorded sample of that channel."""
    ws: WsClient = await open_ws(sim)
    for sub in WS_CASES.values():
        await ws.subscribe({k: (v or sim.demo_address) for k, v in sub.items()})
    await ws.send({"method": "ping"})
    await ws.send(
        {"method": "post", "id": 1, "request": {"type": "info", "payload": {"type": "spotMeta"}}}
    )
    await ws.send({"method": "subscribe", "subscription": {"type": "bogus"}})
    sim.force_fill()
    await sim.advance(6)
    await sim.advance(3600, step_ms=60_000)
    await ws.channel("userFundings")
    await ws.drain()
    by_channel: dict[str, list[tuple[str, Any]]] = {}
    for raw, frame in ws.log:
        by_channel.setdefault(frame["channel"], []).append((raw, frame))
    checked = 0
    for path in sorted(PAYLOADS.glob("ws_*.json")):
        samples = _samples(path.stem)
        sent_or_pushed = [s.get("frame") or s.get("ack") for s in samples]
        # A sent/ack pair is compared by its ack; a pushed frame as it is.
        recorded: list[dict[str, Any]] = [r.get("ack", r) for r in sent_or_pushed if r]
        channel = recorded[0]["channel"]
        same = [r for r in recorded if r["channel"] == channel]
        frames = by_channel.get(channel, [])
        if channel == "user":
            # Members with no recording (twapSliceFills, twapHistory, liquidation) are
            # checked against hlmon's structs by test_sim_account_extras.
            members = {k for r in same for k in r["data"]}
            frames = [(raw, f) for raw, f in frames if set(f["data"]) <= members]
        if not frames:
            continue
        for raw, frame in frames[:3]:
            decode_frame(raw)
            assert best_match(frame, same) == [], (path.name, frame)
        checked += 1
    assert checked >= 17  # every ws_*.json recorded as of 2026-09
