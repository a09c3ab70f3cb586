"""The fallback poller per dex (fake /info via httpx.MockTransport): it serves the per-dex keys
the engine expects (the active dexes) with ``dex`` in each request, never the others, and
sweeps the catalog's other dexes (state only) once per ``SWEEP_INTERVAL`` while the account
is polled."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from hlmon.feeds.dex_fetch import SWEEP_INTERVAL, feed_request, sendable_dex, sweep_dexes
from hlmon.feeds.fallback import DEXSCAN, FallbackPoller
from hlmon.feeds.info_client import InfoClient
from hlmon.state import Store
from tests.hip3 import FLX, MAIN, XYZ, state, use_catalog
from tests.support import FakeClock

USER = "0x" + "a1" * 20
Wait = Callable[..., Awaitable[float]]


class Exchange:
    """Answers per dex like the simulator: the demo-like states, no orders; logs requests."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.states: dict[str, Any] = {"": MAIN, "xyz": XYZ, "flx": FLX}

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        kind, dex = body["type"], body.get("dex", "")
        self.asked.append((kind, dex))
        if kind == "clearinghouseState":
            return httpx.Response(200, json=self.states.get(dex, state()))
        if kind == "frontendOpenOrders":
            return httpx.Response(200, json=[])
        if kind in ("userFills", "userFillsByTime"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"BTC": "100.5"} if kind == "allMids" else {})


def make(clock: FakeClock) -> tuple[FallbackPoller, Store, Exchange]:
    store = Store(clock)
    store.set_user(USER)
    for key in ("mids", "account", "orders", "fills"):
        store.expect(key)
    exchange = Exchange()
    http = httpx.AsyncClient(transport=httpx.MockTransport(exchange.handler))
    client = InfoClient("http://x", budget=1200, http_client=http, rng=random.Random(0))
    poller = FallbackPoller(
        client,
        store,
        ws_live=lambda: False,
        book=lambda: None,
        user=USER,
        down_grace=0.0,
        clock=clock,
    )
    return poller, store, exchange


def body(key: str) -> dict[str, Any] | None:
    req = feed_request(key, USER)
    return None if req is None else req.body


def test_per_dex_keys_map_to_per_dex_requests() -> None:
    assert body("account") == {"type": "clearinghouseState", "user": USER}
    assert body("account:xyz") == {"type": "clearinghouseState", "user": USER, "dex": "xyz"}
    assert body("orders:flx") == {"type": "frontendOpenOrders", "user": USER, "dex": "flx"}
    req = feed_request("orders:flx", USER)
    assert req is not None and req.weight == 20
    assert body("fills") is None


def test_only_catalog_dexes_are_sendable() -> None:
    clock = FakeClock()
    store = Store(clock)
    assert sendable_dex(store, "xyz")  # no catalog yet: names learned from the exchange
    assert not sendable_dex(store, "x y") and not sendable_dex(store, "a:b")
    use_catalog(store)
    assert sendable_dex(store, "xyz") and sendable_dex(store, "")
    assert not sendable_dex(store, "gone")


async def test_serves_expected_dexes_and_sweeps_the_rest_once(wait: Wait) -> None:
    clock = FakeClock()
    poller, store, exchange = make(clock)
    assert poller.servable() == ["mids", "account", "orders", "fills"]
    # No catalog: no sweep (it could only guess dex names).
    assert DEXSCAN not in poller.needed()[0]
    use_catalog(store)  # dexes xyz, flx, km, hyna
    assert sweep_dexes(store, USER) == ["flx", "hyna", "km", "xyz"]
    assert DEXSCAN in poller.needed()[0]
    poller.step()
    await wait(lambda: not poller._inflight, 2)
    swept = sorted(d for k, d in exchange.asked if k == "clearinghouseState" and d)
    assert swept == ["flx", "hyna", "km", "xyz"]
    assert store.active_dexes() == ("", "flx", "xyz")  # found with positions
    assert DEXSCAN not in poller.needed()[0]  # not again before SWEEP_INTERVAL

    # The engine follows the active dexes: their keys are expected, so they are served.
    for dex in ("xyz", "flx"):
        store.expect(f"account:{dex}")
        store.expect(f"orders:{dex}")
    assert poller.servable() == [
        "mids", "account", "orders", "fills",
        "account:flx", "account:xyz", "orders:flx", "orders:xyz",
    ]  # fmt: skip
    poller.step()
    await wait(lambda: not poller._inflight, 2)
    asked = set(exchange.asked)
    assert {("frontendOpenOrders", d) for d in ("", "xyz", "flx")} <= asked
    assert {("clearinghouseState", d) for d in ("", "xyz", "flx")} <= asked
    # Inactive dexes were asked about once, by the sweep, for their state only.
    assert [a for a in exchange.asked if a[1] in ("km", "hyna")] == [
        ("clearinghouseState", "hyna"), ("clearinghouseState", "km")]  # fmt: skip

    clock.advance(SWEEP_INTERVAL)
    assert sweep_dexes(store, USER) == ["hyna", "km"]
    assert DEXSCAN in poller.needed()[0]
    await asyncio.gather(*poller._inflight.values())
