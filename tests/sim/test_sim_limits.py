"""Exchange-like limits: connections, new connections, subscriptions, users, REST weight."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hlmon.sim import SimLimits
from hlmon.sim.limits import messages_refusal, subscriptions_refusal, users_refusal

from .support import make_sim, wait_until


async def test_concurrent_connection_limit() -> None:
    """Past max_connections the upgrade is refused with HTTP 429; a freed slot is reusable."""
    async with make_sim(limits=SimLimits(max_connections=2)) as sim:
        a = await connect(sim.ws_url)
        b = await connect(sim.ws_url)
        with pytest.raises(InvalidStatus) as info:
            await connect(sim.ws_url)
        assert info.value.response.status_code == 429
        await a.close()
        await wait_until(lambda: len(sim.connections) == 1, what="slot released")
        c = await connect(sim.ws_url)
        await b.close()
        await c.close()


async def test_new_connections_per_minute() -> None:
    """More than new_connections_per_minute connects in the window are refused."""
    async with make_sim(limits=SimLimits(new_connections_per_minute=3)) as sim:
        for _ in range(3):
            ws = await connect(sim.ws_url)
            await ws.close()
        with pytest.raises(InvalidStatus) as info:
            await connect(sim.ws_url)
        assert info.value.response.status_code == 429


async def test_subscription_and_user_limits(open_ws: Any) -> None:
    """Subscriptions past the cap and users past the cap are refused with the exchange's error
    texts, which echo nothing; the socket stays open."""
    async with make_sim(limits=SimLimits(max_subscriptions=3, max_users=2)) as sim:
        ws = await open_ws(sim)
        users = ["0x" + f"{i:02x}" * 20 for i in range(3)]
        await ws.subscribe({"type": "userFills", "user": users[0]})
        await ws.subscribe({"type": "userFundings", "user": users[1]})
        await ws.subscribe({"type": "webData3", "user": users[2]})
        _, err = await ws.channel("error")
        # The exchange says one more than it accepts (2026: "15" while the 15th is refused).
        assert err == {"channel": "error", "data": "Cannot track more than 3 total users."}
        await ws.subscribe({"type": "bbo", "coin": "BTC"})
        await ws.subscribe({"type": "bbo", "coin": "ETH"})
        _, err = await ws.channel("error")
        assert err == {"channel": "error", "data": "Cannot subscribe to more than 3 channels."}
        acks = [m for _, m in ws.log if m["channel"] == "subscriptionResponse"]
        assert len(acks) == 3
        await ws.send({"method": "ping"})
        await ws.channel("pong")


async def test_default_user_cap_is_the_2026_one(open_ws: Any) -> None:
    """By default 14 users are tracked per IP, across connections; the 15th new user gets
    ``Cannot track more than 15 total users.``, a user already held costs nothing more, and an
    unsubscribe frees a slot at once."""
    async with make_sim() as sim:
        first, second = await open_ws(sim), await open_ws(sim)
        users = ["0x" + f"{i + 1:02x}" * 20 for i in range(15)]
        for user in users[:14]:
            await first.subscribe({"type": "userFills", "user": user})
            await first.channel("subscriptionResponse")
        await second.subscribe({"type": "userFundings", "user": users[14]})
        _, err = await second.channel("error")
        assert err["data"] == "Cannot track more than 15 total users."
        held = users[3].upper().replace("0X", "0x")  # the same user, spelled otherwise
        await second.subscribe({"type": "userFundings", "user": held})
        _, ack = await second.channel("subscriptionResponse")
        assert ack["data"]["subscription"]["user"] == held
        await first.unsubscribe({"type": "userFills", "user": users[0]})
        await first.channel("subscriptionResponse")
        await second.subscribe({"type": "userFundings", "user": users[14]})
        await second.channel("subscriptionResponse")


async def test_users_refusal_text_is_configurable(open_ws: Any) -> None:
    """``max_users_text`` sets the N of the refusal text independently of the cap."""
    async with make_sim(limits=SimLimits(max_users=1, max_users_text=10)) as sim:
        ws = await open_ws(sim)
        for i in (1, 2):
            await ws.subscribe({"type": "userFills", "user": "0x" + f"{i:02x}" * 20})
        _, err = await ws.channel("error")
        assert err["data"] == "Cannot track more than 10 total users."


async def test_rest_weight_budget() -> None:
    """REST weight is counted per client with the real weights; past the budget: HTTP 429."""
    sim = make_sim(limits=SimLimits(rest_weight_per_minute=45))
    async with sim, httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        codes = []
        for body in [
            {"type": "meta"},
            {"type": "meta"},
            {"type": "allMids"},
            {"type": "l2Book", "coin": "BTC"},
            {"type": "allMids"},
            {"type": "exchangeStatus"},
        ]:
            codes.append((await client.post("/info", json=body)).status_code)
        # 20 + 20 + 2 = 42; l2Book (2) would make 44 <= 45; the next 2 exceeds.
        assert codes == [200, 200, 200, 200, 429, 429]


async def test_slow_socket_is_dropped() -> None:
    """A connection whose send backlog passes send_queue_max is dropped."""
    async with make_sim(limits=SimLimits(send_queue_max=5)) as sim:
        ws = await connect(sim.ws_url, close_timeout=1)
        await wait_until(lambda: len(sim.connections) == 1)
        sim.faults.send_malformed(50)
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(10):  # a socket never dropped fails, never hangs
                for _ in range(100):
                    await ws.recv()
        await wait_until(lambda: not sim.connections, what="connection dropped")


async def test_post_requests_share_the_rest_budget(open_ws: Any) -> None:
    """ws post info requests spend the same weight; past it the reply is a post error."""
    async with make_sim(limits=SimLimits(rest_weight_per_minute=30)) as sim:
        ws = await open_ws(sim)
        for rid in (1, 2):
            await ws.send(
                {
                    "method": "post",
                    "id": rid,
                    "request": {"type": "info", "payload": {"type": "meta"}},
                }
            )
        _, ok = await ws.wait_for(lambda m: m["channel"] == "post" and m["data"]["id"] == 1)
        assert ok["data"]["response"]["type"] == "info"
        _, refused = await ws.wait_for(lambda m: m["channel"] == "post" and m["data"]["id"] == 2)
        assert refused["data"]["response"] == {"type": "error", "payload": "429 Too Many Requests"}
        async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
            r = await client.post("/info", json={"type": "meta"})
        assert r.status_code == 429


async def test_inbound_message_limit(open_ws: Any) -> None:
    """Past messages_per_minute client messages are refused with the exchange's error text;
    the socket stays open."""
    async with make_sim(limits=SimLimits(messages_per_minute=3)) as sim:
        ws = await open_ws(sim)
        for _ in range(4):
            await ws.send({"method": "ping"})
        _, err = await ws.channel("error")
        assert err["data"] == "Cannot send more than 3 messages per minute."
        assert ws.channels().count("pong") == 3
        assert ws.ws.close_code is None and len(sim.connections) == 1


def test_default_limit_texts() -> None:
    """The defaults give the verbatim 2026 texts."""
    limits = SimLimits()
    assert users_refusal(limits) == "Cannot track more than 15 total users."
    assert subscriptions_refusal(limits) == "Cannot subscribe to more than 1000 channels."
    assert messages_refusal(limits) == "Cannot send more than 2000 messages per minute."
