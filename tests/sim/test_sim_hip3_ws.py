"""Websocket feeds of HIP-3 dexes: ``allMids`` routed by ``data.dex``, per-dex account feeds,
``allDexsClearinghouseState`` tuples, and market feeds of HIP-3 coins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from hlmon.protocol import messages as m
from hlmon.sim import SimServer

from .support import WsClient, decode_frame

DEXES = ["", "xyz", "flx", "hyna"]


async def test_all_mids_frames_carry_dex_only_for_hip3(sim: SimServer, open_ws: Any) -> None:
    """One socket, three ``allMids``: the default frame has no ``dex`` key and holds spot and
    outcome keys; a HIP-3 frame has ``dex`` and only that dex's prefixed keys. Acks echo the
    subscription as sent."""
    ws: WsClient = await open_ws(sim)
    for sub in (
        {"type": "allMids"},
        {"type": "allMids", "dex": "xyz"},
        {"type": "allMids", "dex": "flx"},
    ):
        await ws.subscribe(sub)
        _, ack = await ws.channel("subscriptionResponse")
        assert ack["data"]["subscription"] == sub
    await sim.advance(6)
    frames: dict[str, list[dict[str, Any]]] = {}
    while any(len(frames.get(d, [])) < 2 for d in ("", "xyz", "flx")):
        raw, frame = await ws.channel("allMids")
        assert isinstance(decode_frame(raw), m.AllMidsMsg)
        frames.setdefault(frame["data"].get("dex", ""), []).append(frame["data"])
    for data in frames[""]:
        assert "dex" not in data
        keys = set(data["mids"])
        assert {"BTC", "PURR/USDC", "@160", "#90"} <= keys and not any(":" in k for k in keys)
    for dex in ("xyz", "flx"):
        for data in frames[dex]:
            assert data["dex"] == dex
            assert data["mids"] and all(k.startswith(dex + ":") for k in data["mids"])
    assert "xyz:TSLA" in frames["xyz"][0]["mids"] and "flx:TSLA" in frames["flx"][0]["mids"]
    await ws.subscribe({"type": "allMids", "dex": ""})
    _, err = await ws.channel("error")  # the same feed as no dex at all
    assert err["data"] == 'Already subscribed: {"type":"allMids","dex":""}'


async def test_per_dex_account_feeds(sim: SimServer, open_ws: Any) -> None:
    """``clearinghouseState``/``openOrders`` with ``dex`` inside the subscription: acks echo it,
    frames carry it, and each frame holds that dex only."""
    ws: WsClient = await open_ws(sim)
    user = sim.demo_address
    for dex in DEXES:
        for kind in ("clearinghouseState", "openOrders"):
            sub = {"type": kind, "user": user, "dex": dex}
            await ws.subscribe(sub)
            _, ack = await ws.channel("subscriptionResponse")
            assert ack["data"]["subscription"] == sub
    # No dex is the default dex: the same feed as dex "" (the sim's reading; unconfirmed).
    await ws.subscribe({"type": "clearinghouseState", "user": user})
    _, err = await ws.channel("error")
    assert err["data"].startswith('Already subscribed: {"type":"clearinghouseState"')
    states: dict[str, Any] = {}
    orders: dict[str, Any] = {}
    while len(states) < 4 or len(orders) < 4:
        raw, frame = await ws.wait_for(
            lambda f: f["channel"] in ("clearinghouseState", "openOrders")
        )
        msg = decode_frame(raw)
        if frame["channel"] == "clearinghouseState":
            assert isinstance(msg, m.ClearinghouseStateMsg)
            states.setdefault(frame["data"]["dex"], frame["data"]["clearinghouseState"])
        else:
            assert isinstance(msg, m.OpenOrdersMsg)
            orders.setdefault(frame["data"]["dex"], frame["data"]["orders"])
    coins = {d: {p["position"]["coin"] for p in s["assetPositions"]} for d, s in states.items()}
    assert coins == {
        "": {"BTC", "ETH", "SOL", "HYPE"},
        "xyz": {"xyz:NVDA", "xyz:TSLA"},
        "flx": {"flx:CRCL"},
        "hyna": set(),
    }
    assert {o["coin"] for o in orders["xyz"]} >= {"xyz:TSLA", "xyz:XYZ100", "xyz:NVDA"}
    assert {o["coin"] for o in orders["flx"]} == {"flx:CRCL"} and orders["hyna"] == []
    assert not any(":" in o["coin"] for o in orders[""])


async def test_all_dexs_clearinghouse_state(sim: SimServer, open_ws: Any) -> None:
    """Tuples ``[dex, state]`` for every dex (the empty ``hyna`` too), in ``perpDexs`` order,
    about every 5 s; another user gets every dex, empty."""
    ws: WsClient = await open_ws(sim)
    user = sim.demo_address
    other = "0x" + "cd" * 20
    for who in (user, other):
        sub = {"type": "allDexsClearinghouseState", "user": who}
        await ws.subscribe(sub)
        _, ack = await ws.channel("subscriptionResponse")
        assert ack["data"]["subscription"] == sub
    raw, first = await ws.wait_for(
        lambda f: f["channel"] == "allDexsClearinghouseState" and f["data"]["user"] == user
    )
    assert isinstance(decode_frame(raw), m.AllDexsClearinghouseStateMsg)
    tuples = first["data"]["clearinghouseStates"]
    assert [t[0] for t in tuples] == DEXES and all(len(t) == 2 for t in tuples)
    for dex, state in tuples:
        msgspec.convert(state, m.ClearinghouseState)
        assert state == sim.truth.dex_states[dex]
    assert [p["position"]["coin"] for p in tuples[1][1]["assetPositions"]] == [
        "xyz:NVDA",
        "xyz:TSLA",
    ]
    assert tuples[3][1]["assetPositions"] == []
    _, empty = await ws.wait_for(
        lambda f: f["channel"] == "allDexsClearinghouseState" and f["data"]["user"] == other
    )
    assert [t[0] for t in empty["data"]["clearinghouseStates"]] == DEXES
    assert all(s["assetPositions"] == [] for _, s in empty["data"]["clearinghouseStates"])
    # Cadence: pushed every 5 s of simulated time, even with nothing happening.
    start = len(ws.log)
    await sim.advance(20, step_ms=100)
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    pushes = [
        f
        for _, f in ws.log[start:]
        if f["channel"] == "allDexsClearinghouseState" and f["data"]["user"] == other
    ]
    assert len(pushes) == 4


def state_of(dex: str) -> Callable[[dict[str, Any]], bool]:
    """Matches a ``clearinghouseState`` frame of ``dex``."""
    return lambda f: f["channel"] == "clearinghouseState" and f["data"]["dex"] == dex


async def test_hip3_fill_moves_its_dex_only(sim: SimServer, open_ws: Any) -> None:
    """A fill on ``xyz:TSLA`` comes on ``userFills`` (no dex), re-pushes the ``xyz`` state and
    orders at once, and leaves the default dex's feeds alone."""
    ws: WsClient = await open_ws(sim)
    user = sim.demo_address
    await ws.subscribe({"type": "userFills", "user": user})
    await ws.channel("userFills")
    for dex in ("", "xyz"):
        await ws.subscribe({"type": "clearinghouseState", "user": user, "dex": dex})
        await ws.wait_for(state_of(dex))
    before = sim.truth.dex_states["xyz"]
    mark = len(ws.log)
    fill = sim.force_fill("xyz:TSLA")
    assert fill is not None and fill["coin"] == "xyz:TSLA" and fill["feeToken"] == "USDC"
    _, fills = await ws.wait_for(lambda f: f["channel"] == "userFills")
    assert [f["tid"] for f in fills["data"]["fills"]] == [fill["tid"]]
    _, state = await ws.wait_for(state_of("xyz"))
    assert state["data"]["clearinghouseState"] == sim.truth.dex_states["xyz"] != before
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    pushed = [(f["channel"], f.get("data", {}).get("dex")) for _, f in ws.log[mark:]]
    assert ("clearinghouseState", "") not in pushed  # the clock stood still: no cadence push
    # A forced fill without a coin stays on the default dex; flx fills are paid in USDH.
    plain = sim.force_fill()
    assert plain is not None and ":" not in plain["coin"]
    flx = sim.force_fill("flx:CRCL")
    assert flx is not None and flx["feeToken"] == "USDH"


HIP3_FEEDS = [
    ({"type": "l2Book", "coin": "xyz:NVDA"}, "l2Book", m.L2BookMsg),
    ({"type": "bbo", "coin": "xyz:XYZ100"}, "bbo", m.BboMsg),
    ({"type": "trades", "coin": "xyz:TSLA"}, "trades", m.TradesMsg),
    ({"type": "candle", "coin": "flx:CRCL", "interval": "1m"}, "candle", m.CandleMsg),
    ({"type": "activeAssetCtx", "coin": "hyna:BTC"}, "activeAssetCtx", m.ActiveAssetCtxMsg),
    (
        {"type": "activeAssetData", "user": "", "coin": "xyz:NVDA"},
        "activeAssetData",
        m.ActiveAssetDataMsg,
    ),
]


@pytest.mark.parametrize("case", HIP3_FEEDS, ids=[c[0]["coin"] + "-" + c[1] for c in HIP3_FEEDS])
async def test_hip3_market_feeds(
    sim: SimServer, open_ws: Any, case: tuple[dict[str, Any], str, type]
) -> None:
    """Book, bbo, trades, candle and contexts of HIP-3 coins spell the coin as subscribed."""
    sub, channel, struct = case
    sub = {k: (v or sim.demo_address) for k, v in sub.items()}
    ws: WsClient = await open_ws(sim)
    await ws.subscribe(sub)
    await ws.channel("subscriptionResponse")
    await sim.advance(8)
    raw, frame = await ws.channel(channel)
    assert isinstance(decode_frame(raw), struct)
    data = frame["data"]
    coins = {t["coin"] for t in data} if channel == "trades" else {data.get("coin", data.get("s"))}
    assert coins == {sub["coin"]}
