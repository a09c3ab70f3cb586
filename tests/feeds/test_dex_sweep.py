"""The per-dex REST pieces (fake /info via httpx.MockTransport): the discovery sweep asks the
state of every catalog dex the account is not known to be active on, once per
``SWEEP_INTERVAL``, and what it finds becomes active; only catalog dexes are sent; a summary
row's feed key is told apart from a dex's."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from hlmon.feeds.dex_fetch import (
    SWEEP_INTERVAL,
    SweepClock,
    sendable_dex,
    sweep,
    sweep_dexes,
)
from hlmon.feeds.info_client import InfoClient
from hlmon.state import Store
from hlmon.state.store import row_address
from tests.hip3 import FLX, MAIN, XYZ, state, use_catalog
from tests.support import FakeClock

USER = "0x" + "a1" * 20


class Exchange:
    """Answers ``clearinghouseState`` per dex like the simulator (``km`` fails); logs asks."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.states: dict[str, Any] = {"": MAIN, "xyz": XYZ, "flx": FLX}

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        kind, dex = body["type"], body.get("dex", "")
        self.asked.append((kind, dex))
        if dex == "km":
            return httpx.Response(500, text="dex gone")
        return httpx.Response(200, json=self.states.get(dex, state()))


def client(exchange: Exchange) -> InfoClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(exchange.handler))
    return InfoClient("http://x", budget=1200, http_client=http, rng=random.Random(0))


async def test_the_sweep_finds_activity_and_asks_each_dex_once() -> None:
    store = Store(FakeClock())
    store.set_user(USER)
    exchange = Exchange()
    info = client(exchange)
    try:
        assert sweep_dexes(store, USER) == []  # no catalog: no dex name to ask about
        use_catalog(store)  # xyz, flx, km, hyna
        assert sweep_dexes(store, USER) == ["flx", "hyna", "km", "xyz"]
        assert await sweep(info, store, USER) == 3  # km answered 500: left unknown
        assert exchange.asked == [("clearinghouseState", d) for d in ("flx", "hyna", "km", "xyz")]
        assert store.active_dexes() == ("", "flx", "xyz")  # found with positions
        assert {s.dex for s in store.dex_summaries()} == {"flx", "hyna", "xyz"}
        # The active dexes are polled by the planner from now on; the sweep asks the rest.
        assert sweep_dexes(store, USER) == ["hyna", "km"]
    finally:
        await info.aclose()


def test_sweep_clock() -> None:
    clock = SweepClock()
    assert clock.due(USER, 100.0) and not clock.swept(USER)
    clock.note(USER.upper().replace("0X", "0x"), 100.0)
    assert clock.swept(USER) and not clock.due(USER, 100.0 + SWEEP_INTERVAL - 1)
    assert clock.due(USER, 100.0 + SWEEP_INTERVAL)


def test_only_well_formed_catalog_dexes_are_sent() -> None:
    store = Store(FakeClock())
    assert sendable_dex(store, "xyz")  # no catalog yet: names learned from the exchange
    assert not sendable_dex(store, "x y") and not sendable_dex(store, "a:b")
    use_catalog(store)
    assert sendable_dex(store, "xyz") and sendable_dex(store, "")
    assert not sendable_dex(store, "gone")


def test_a_row_key_is_not_a_dex_key() -> None:
    assert row_address("account:" + USER) == USER
    assert row_address("account:xyz") is None
    assert row_address("account") is None and row_address("orders:" + USER) is None
