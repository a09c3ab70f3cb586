"""Unit tests for the fallback poller's decisions (fake /info via httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec

from hlmon.feeds.fallback import BASE_INTERVALS, BookParams, FallbackPoller
from hlmon.feeds.info_client import InfoClient
from hlmon.protocol.messages import (
    AllMids,
    AllMidsMsg,
    ClearinghouseState,
    ClearinghouseStateData,
    ClearinghouseStateMsg,
    L2Book,
    L2BookMsg,
    OpenOrdersData,
    OpenOrdersMsg,
)
from hlmon.state import FeedState, Source, Store

from .test_reconcile import STATE, USER

Wait = Callable[..., Awaitable[float]]


def handler(request: httpx.Request) -> httpx.Response:
    kind = json.loads(request.content)["type"]
    answers: dict[str, Any] = {
        "allMids": {"BTC": "100.5"},
        "l2Book": {"coin": "BTC", "time": 5, "levels": [[], []]},
        "clearinghouseState": STATE,
        "frontendOpenOrders": [],
        "userFills": [],
        "userFillsByTime": [],
    }
    return httpx.Response(200, json=answers[kind])


def make(live: list[bool], budget: int = 600) -> tuple[FallbackPoller, Store]:
    store = Store(time.time)
    store.set_user(USER)
    for key in ("mids", "book:BTC", "bbo:BTC", "account", "orders", "fills"):
        store.expect(key)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = InfoClient("http://x", budget=budget, http_client=http, rng=random.Random(0))
    poller = FallbackPoller(
        client,
        store,
        ws_live=lambda: live[0],
        book=lambda: BookParams("BTC"),
        user=USER,
        down_grace=0.0,
        tick=0.02,
    )
    return poller, store


async def test_takes_over_when_ws_down_and_hands_back(wait: Wait) -> None:
    """Websocket down: every servable feed is polled; back up and delivering: fallback off."""
    live = [False]
    poller, store = make(live)
    task = asyncio.create_task(poller.run())
    try:
        await wait(lambda: all(poller.polls.get(k) for k in ("mids", "book:BTC", "account")), 3)
        assert store.health.fallback_active
        assert store.feed_status("mids").state is FeedState.FALLBACK
        assert "bbo:BTC" not in poller.servable()  # no REST path for bbo
        assert any("fallback on: mids, book:BTC" in e.text for e in store.health.events)

        # The websocket comes back but has not delivered yet: the fallback holds on.
        live[0] = True
        await asyncio.sleep(0.1)
        assert store.health.fallback_active
        # It delivers every periodic feed: handed back.
        store.apply(AllMidsMsg(data=AllMids(mids={"BTC": "101"})), Source.WS)
        store.apply(L2BookMsg(data=L2Book(coin="BTC", time=9, levels=([], []))), Source.WS)
        state = msgspec.json.decode(json.dumps(STATE), type=ClearinghouseState)
        store.apply(
            ClearinghouseStateMsg(data=ClearinghouseStateData(user=USER, clearinghouseState=state)),
            Source.WS,
        )
        store.apply(OpenOrdersMsg(data=OpenOrdersData(user=USER, orders=[])), Source.WS)
        await wait(lambda: not store.health.fallback_active, 2)
        assert any(e.text.startswith("fallback off") for e in store.health.events)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_cadence_scales_down_to_fit_budget() -> None:
    live = [False]
    poller, _ = make(live, budget=100)
    needed, _ = poller.needed()
    interval = poller.interval("mids", needed)
    assert poller.scale > 1
    assert interval == BASE_INTERVALS["mids"] * poller.scale
    planned = sum(
        {"mids": 2, "book": 2, "account": 2, "orders": 20, "fills": 21}[k.partition(":")[0]]
        * 60
        / (BASE_INTERVALS[k.partition(":")[0]] * poller.scale)
        for k in needed
    )
    assert planned <= 100 * poller.share + 1e-9
