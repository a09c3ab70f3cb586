"""Fault injection does what it says, in process and over the /_sim HTTP routes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hlmon.sim import SimServer

from .support import decode_frame, make_sim, wait_until


async def test_drop_all_aborts_every_socket(sim: SimServer, open_ws: Any) -> None:
    """drop_all closes every socket without a close frame."""
    a, b = await open_ws(sim), await open_ws(sim)
    await wait_until(lambda: len(sim.connections) == 2)
    sim.faults.drop_all()
    for client in (a, b):
        with pytest.raises(ConnectionClosed) as info:
            async with asyncio.timeout(10):  # a socket left open fails, never hangs
                await client.ws.recv()
        assert info.value.rcvd is None  # no close frame: the socket just vanished
    await wait_until(lambda: not sim.connections, what="server forgot the sockets")


async def test_stall_and_unstall(sim: SimServer, open_ws: Any) -> None:
    """While stalled, nothing is sent (not even pongs); after unstall, what the client sent
    meanwhile is answered in order (a frozen server reads it late, never loses it), and pongs
    come back."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "bbo", "coin": "BTC"})
    await ws.channel("bbo")
    before = len(ws.log)
    sim.faults.stall()
    await ws.send({"method": "ping"})
    await ws.subscribe({"type": "trades", "coin": "ETH"})
    await sim.advance(2)
    with pytest.raises(AssertionError):
        await ws.channel("pong", within=0.3)
    assert ws.log[before:] == []
    sim.faults.unstall()
    await ws.channel("pong")
    await ws.wait_for(
        lambda m: (
            m.get("channel") == "subscriptionResponse"
            and m["data"]["subscription"] == {"type": "trades", "coin": "ETH"}
        )
    )
    answered = ws.channels()[before:]
    assert answered.index("pong") < answered.index("subscriptionResponse")
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    sim.faults.stall(seconds=0.1)
    assert sim.faults.stalled
    await wait_until(lambda: not sim.faults.stalled, what="timed stall to end")


async def test_malformed_and_error_frames(sim: SimServer, open_ws: Any) -> None:
    """send_malformed sends frames the protocol layer rejects; send_error an error frame."""
    ws = await open_ws(sim)
    await wait_until(lambda: len(sim.connections) == 1)
    sim.faults.send_malformed(6)
    for _ in range(6):
        raw, _ = await ws.read()
        with pytest.raises(Exception):  # noqa: B017 - ProtocolError or a msgspec error
            decode_frame(raw)
    sim.faults.send_error("Simulated failure")
    _, err = await ws.channel("error")
    assert err["data"] == "Simulated failure"


async def test_info_status_and_clear(sim: SimServer) -> None:
    """info_status fails the next N requests (or all until clear) with the given status."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        sim.faults.info_status(429, count=2)
        codes = [
            (await client.post("/info", json={"type": "allMids"})).status_code for _ in range(3)
        ]
        assert codes == [429, 429, 200]
        sim.faults.info_status(500)
        codes = [
            (await client.post("/info", json={"type": "allMids"})).status_code for _ in range(3)
        ]
        assert codes == [500, 500, 500]
        sim.faults.clear()
        assert (await client.post("/info", json={"type": "allMids"})).status_code == 200


async def test_info_hang_outlasts_client_timeout(sim: SimServer) -> None:
    """info_hang holds /info past the client's timeout; clear() releases it."""
    sim.faults.info_hang(30)
    async with httpx.AsyncClient(base_url=sim.url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/info", json={"type": "allMids"})
        sim.faults.clear()
        assert (await client.post("/info", json={"type": "allMids"})).status_code == 200


async def test_latency(sim: SimServer, open_ws: Any) -> None:
    """latency delays websocket frames and /info answers."""
    sim.faults.latency(150)
    ws = await open_ws(sim)
    t0 = time.monotonic()
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    assert time.monotonic() - t0 >= 0.14
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        t0 = time.monotonic()
        await client.post("/info", json={"type": "exchangeStatus"})
        assert time.monotonic() - t0 >= 0.14


async def test_refuse_connections(sim: SimServer) -> None:
    """refuse_connections rejects upgrades with 503 for a while, then accepts again."""
    sim.faults.refuse_connections(0.3)
    with pytest.raises(InvalidStatus) as info:
        await connect(sim.ws_url)
    assert info.value.response.status_code == 503
    await wait_until(lambda: not sim.faults.refusing, what="refusal window to end")
    ws = await connect(sim.ws_url)
    await ws.close()


async def test_idle_close_and_ping_keepalive() -> None:
    """A socket the server has not sent to for idle_timeout is closed; pings keep it open."""
    async with make_sim(idle_timeout=0.3) as sim:
        quiet = await connect(sim.ws_url, close_timeout=1)
        chatty = await connect(sim.ws_url, close_timeout=1)

        async def keepalive() -> None:
            # A client's ping timer, not a wait for a condition.
            while True:
                await chatty.send('{"method":"ping"}')
                assert await chatty.recv() == '{"channel":"pong"}'
                await asyncio.sleep(0.05)

        t0 = time.monotonic()
        task = asyncio.create_task(keepalive())
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(quiet.recv(), 5)
        assert time.monotonic() - t0 >= 0.29
        assert quiet.close_code == 1000
        assert not task.done() and chatty.close_code is None
        task.cancel()
        await chatty.close()


async def test_fault_http_routes(sim: SimServer) -> None:
    """POST /_sim/<fault> with JSON args drives the same switches; GET /_sim/truth reports."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/_sim/info_status", json={"status": 429, "count": 1})
        assert r.status_code == 200 and r.json()["ok"]
        assert (await client.post("/info", json={"type": "allMids"})).status_code == 429
        assert (await client.post("/info", json={"type": "allMids"})).status_code == 200
        await client.post("/_sim/stall", json={"seconds": 5})
        assert sim.faults.stalled
        await client.post("/_sim/clear")
        assert not sim.faults.stalled
        r = await client.post("/_sim/force_fill", json={"coin": "BTC"})
        tid = r.json()["result"]["tid"]
        truth = (await client.get("/_sim/truth")).json()
        assert truth["fills"][-1]["tid"] == tid
        assert set(truth) >= {"fills", "clearinghouseState", "openOrders", "fundings"}
        assert (await client.post("/_sim/nope")).status_code == 400  # with the list


async def test_fault_routes_off_by_default() -> None:
    """Without fault_routes the /_sim endpoints do not exist."""
    async with make_sim() as sim, httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        assert (await client.post("/_sim/drop_all")).status_code in (404, 405)
