"""Exact names, as the exchange enforces them since 2026: a subscription naming something the
simulator does not list (or bad ``l2Book`` options) drops the whole socket with no close frame
and no error frame; ``legacy_invalid_subscription`` gives the older error frame instead."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hlmon.sim import SimServer

from .support import WsClient, make_sim, wait_until

BAD_SUBSCRIPTIONS: list[dict[str, Any]] = [
    {"type": "l2Book", "coin": "NOPE"},
    {"type": "bbo", "coin": "NOPE"},
    {"type": "trades", "coin": "btc"},
    {"type": "l2Book", "coin": "XYZ:TSLA"},
    {"type": "l2Book", "coin": "TSLA"},
    {"type": "candle", "coin": "xyz:tsla", "interval": "1m"},
    {"type": "activeAssetCtx", "coin": "NVDA"},
    {"type": "l2Book", "coin": "BTC", "nSigFigs": 6},
    {"type": "l2Book", "coin": "BTC", "nSigFigs": 4, "mantissa": 2},
    {"type": "l2Book", "coin": "BTC", "mantissa": 5},
    {"type": "allMids", "dex": "XYZ"},
    {"type": "allMids", "dex": "nope"},
    {"type": "clearinghouseState", "user": "0x" + "ab" * 20, "dex": "nope"},
]


def _id(sub: dict[str, Any]) -> str:
    return "-".join(str(v) for k, v in sub.items() if k not in ("type", "user"))


@pytest.mark.parametrize("bad", BAD_SUBSCRIPTIONS, ids=[_id(b) for b in BAD_SUBSCRIPTIONS])
async def test_bad_name_drops_the_whole_socket(
    sim: SimServer, open_ws: Any, bad: dict[str, Any]
) -> None:
    """The socket dies without a close frame (1006) and without an error frame; the other
    subscriptions on it end with it; another socket is untouched."""
    ws: WsClient = await open_ws(sim)
    other: WsClient = await open_ws(sim)
    await ws.subscribe({"type": "l2Book", "coin": "BTC"})
    await ws.subscribe({"type": "userFills", "user": sim.demo_address})
    await ws.channel("userFills")
    await other.subscribe({"type": "bbo", "coin": "ETH"})
    await other.channel("subscriptionResponse")
    seen = len(ws.log)
    await ws.subscribe(bad)
    closed = await ws.read_until_closed()
    assert closed.rcvd is None and closed.sent is None  # no close frame either way
    assert ws.ws.close_code == 1006
    after = [m for _, m in ws.log[seen:]]
    assert not [m for m in after if m["channel"] in ("error", "subscriptionResponse")], after
    await wait_until(lambda: len(sim.connections) == 1, what="the server forgot the socket")
    assert {f.sub.type for f in sim.hub.feeds.values()} == {"bbo"}  # only the other socket's
    await other.send({"method": "ping"})
    await other.channel("pong")


async def test_listed_names_and_book_options_are_accepted(sim: SimServer, open_ws: Any) -> None:
    """The same feeds with exact names and valid options are acked on one socket."""
    ws: WsClient = await open_ws(sim)
    good: list[dict[str, Any]] = [
        {"type": "trades", "coin": "BTC"},
        {"type": "l2Book", "coin": "xyz:TSLA"},
        {"type": "l2Book", "coin": "flx:TSLA"},
        {"type": "candle", "coin": "xyz:TSLL", "interval": "1m"},
        {"type": "activeAssetCtx", "coin": "xyz:NVDA"},
        {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 2},
        {"type": "l2Book", "coin": "BTC", "nSigFigs": 2},
        {"type": "allMids", "dex": "xyz"},
        {"type": "bbo", "coin": "kPEPE"},
        {"type": "bbo", "coin": "#90"},
        {"type": "clearinghouseState", "user": sim.demo_address, "dex": "flx"},
    ]
    for sub in good:
        await ws.subscribe(sub)
        await ws.channel("subscriptionResponse")
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    assert "error" not in ws.channels()


async def test_drop_comes_after_the_request_and_nothing_names_it(open_ws: Any) -> None:
    """Requests sent before the bad one are answered; the drop explains nothing."""
    async with make_sim() as sim:
        ws: WsClient = await open_ws(sim)
        await ws.subscribe({"type": "bbo", "coin": "BTC"})
        await ws.subscribe({"type": "l2Book", "coin": "NOPE"})
        await ws.read_until_closed()
        acks = [m["data"] for _, m in ws.log if m["channel"] == "subscriptionResponse"]
        assert acks == [{"method": "subscribe", "subscription": {"type": "bbo", "coin": "BTC"}}]
        assert not any("NOPE" in raw for raw, _ in ws.log)


async def test_legacy_switch_in_the_constructor(open_ws: Any) -> None:
    """``legacy_invalid_subscription=True``: the older error frame, the socket stays open."""
    async with make_sim(legacy_invalid_subscription=True) as sim:
        ws: WsClient = await open_ws(sim)
        await ws.send(
            '{"method":"subscribe","subscription":{"type":"candle","coin":"NOPE","interval":"1m"}}'
        )
        _, err = await ws.channel("error")
        assert err["data"] == 'Invalid subscription {"type":"candle","coin":"NOPE","interval":"1m"}'
        await ws.subscribe({"type": "l2Book", "coin": "BTC", "nSigFigs": 3, "mantissa": 2})
        _, err = await ws.channel("error")
        assert err["data"].startswith('Invalid subscription {"type":"l2Book","coin":"BTC"')
        await ws.send({"method": "ping"})
        await ws.channel("pong")
        assert ws.ws.close_code is None and len(sim.connections) == 1
        sim.faults.clear()  # back to the constructor's mode, not to the 2026 default
        await ws.subscribe({"type": "bbo", "coin": "btc"})
        _, err = await ws.channel("error")
        assert err["data"] == 'Invalid subscription {"type":"bbo","coin":"btc"}'


async def test_legacy_switch_as_a_fault(sim: SimServer, open_ws: Any) -> None:
    """The fault switches the mode at run time, in process and over ``POST /_sim``."""
    sim.faults.legacy_invalid_subscription()
    ws: WsClient = await open_ws(sim)
    await ws.subscribe({"type": "trades", "coin": "TSLA"})
    _, err = await ws.channel("error")
    assert err["data"] == 'Invalid subscription {"type":"trades","coin":"TSLA"}'
    sim.faults.legacy_invalid_subscription(enabled=False)
    await ws.subscribe({"type": "trades", "coin": "TSLA"})
    await ws.read_until_closed()
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/_sim/legacy_invalid_subscription", json={"enabled": True})
        assert r.status_code == 200 and r.json()["faults"]["legacy_invalid_subscription"] is True
        ws2: WsClient = await open_ws(sim)
        await ws2.subscribe({"type": "l2Book", "coin": "XYZ:TSLA"})
        _, err = await ws2.channel("error")
        assert err["data"].startswith("Invalid subscription ")
        await client.post("/_sim/clear")
        assert not sim.faults.legacy_invalid
    await ws2.subscribe({"type": "l2Book", "coin": "XYZ:TSLA"})
    await ws2.read_until_closed()


async def test_delisted_coin_is_acked_with_empty_levels(sim: SimServer, open_ws: Any) -> None:
    """``MATIC`` is delisted in ``meta``: its book is acked and pushes ``[[], []]`` on every push;
    ``bbo`` and ``trades`` stay silent; the socket stays open."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        meta = (await client.post("/info", json={"type": "meta"})).json()
    assert {"name": "MATIC", "isDelisted": True}.items() <= next(
        u for u in meta["universe"] if u["name"] == "MATIC"
    ).items()
    ws: WsClient = await open_ws(sim)
    for sub in (
        {"type": "l2Book", "coin": "MATIC"},
        {"type": "bbo", "coin": "MATIC"},
        {"type": "trades", "coin": "MATIC"},
    ):
        await ws.subscribe(sub)
        await ws.channel("subscriptionResponse")
    _, first = await ws.channel("l2Book")
    assert first["data"]["coin"] == "MATIC" and first["data"]["levels"] == [[], []]
    await sim.advance(11)
    _, later = await ws.channel("l2Book")
    assert later["data"]["levels"] == [[], []] and later["data"]["time"] > first["data"]["time"]
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    assert "bbo" not in ws.channels() and "trades" not in ws.channels()
    assert ws.ws.close_code is None


async def test_post_l2book_of_an_unknown_coin_answers_null(sim: SimServer, open_ws: Any) -> None:
    """A ``post`` of ``l2Book`` for an unknown coin is answered ``data: null``; nothing drops."""
    ws: WsClient = await open_ws(sim)
    request = {"type": "info", "payload": {"type": "l2Book", "coin": "NOPE"}}
    await ws.send({"method": "post", "id": 5, "request": request})
    _, reply = await ws.channel("post")
    assert reply["data"] == {
        "id": 5,
        "response": {"type": "info", "payload": {"type": "l2Book", "data": None}},
    }
    await ws.send({"method": "ping"})
    await ws.channel("pong")
