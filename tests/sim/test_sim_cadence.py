"""Feed cadences of the standard profile, and a wall-clock server that runs by itself."""

from __future__ import annotations

from typing import Any

from hlmon.sim import SimServer, WallClock

from .support import WsClient


async def test_standard_cadences(sim: SimServer, open_ws: Any) -> None:
    """l2Book ~5 s (20 levels), fast ~0.5 s (5 levels), allMids ~5 s, ctx ~1 s, user ~4 s."""
    ws: WsClient = await open_ws(sim)
    subs: list[dict[str, Any]] = [
        {"type": "l2Book", "coin": "BTC"},
        {"type": "l2Book", "coin": "BTC", "fast": True},
        {"type": "allMids"},
        {"type": "activeAssetCtx", "coin": "BTC"},
        {"type": "clearinghouseState", "user": sim.demo_address},
        {"type": "openOrders", "user": sim.demo_address},
        {"type": "bbo", "coin": "BTC"},
    ]
    for sub in subs:
        await ws.subscribe(sub)
        await ws.channel("subscriptionResponse")
    await ws.drain()
    start = len(ws.log)
    await sim.advance(20, step_ms=100)
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    frames = [m for _, m in ws.log[start:]]

    def count(pred: Any) -> int:
        return sum(1 for m in frames if pred(m))

    slow_books = count(lambda m: m["channel"] == "l2Book" and "fast" not in m["data"])
    fast_books = [m for m in frames if m["channel"] == "l2Book" and m["data"].get("fast")]
    assert slow_books == 4
    assert 30 <= len(fast_books) <= 40
    assert all(len(m["data"]["levels"][0]) == 5 for m in fast_books)
    assert count(lambda m: m["channel"] == "allMids") == 4
    assert count(lambda m: m["channel"] == "activeAssetCtx") == 20
    # 5 pushes on the 4 s cadence, plus one after any fill or order change
    assert count(lambda m: m["channel"] == "clearinghouseState") >= 5
    assert count(lambda m: m["channel"] == "openOrders") >= 5
    assert count(lambda m: m["channel"] == "bbo") >= 60  # several per second on BTC
    times = [m["data"]["time"] for m in frames if m["channel"] == "bbo"]
    assert times == sorted(times)


async def test_wall_clock_server_runs_by_itself(live_sim: SimServer, open_ws: Any) -> None:
    """Without a manual clock the block loop moves the market and the account on its own."""
    ws = await open_ws(live_sim)
    await ws.subscribe({"type": "l2Book", "coin": "BTC"})
    await ws.subscribe({"type": "userFills", "user": live_sim.demo_address})
    times = []
    for _ in range(3):
        _, book = await ws.wait_for(lambda m: m["channel"] == "l2Book", within=10)
        times.append(book["data"]["time"])
    assert times == sorted(times) and len(set(times)) == 3
    _, fills = await ws.wait_for(
        lambda m: m["channel"] == "userFills" and "isSnapshot" not in m["data"], within=10
    )
    assert fills["data"]["fills"]


async def test_fast_wall_clock_pays_funding(open_ws: Any) -> None:
    """With a clock running 3600x (an hour per second) funding arrives on its own."""
    async with SimServer(seed=3, clock=WallClock(rate=3600)) as sim:
        ws = await open_ws(sim)
        await ws.subscribe({"type": "userFundings", "user": sim.demo_address})
        await ws.channel("userFundings")  # snapshot
        _, live = await ws.wait_for(
            lambda m: m["channel"] == "userFundings" and "isSnapshot" not in m["data"], within=5
        )
        assert live["data"]["fundings"] and live["data"]["fundings"][0]["time"] % 3_600_000 == 37
