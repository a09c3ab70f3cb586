"""Unit tests for reconciliation: paging, dedupe, what-changed accounting, the log line."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from hlmon.feeds.info_client import InfoClient
from hlmon.feeds.reconcile import PAGE_SIZE, Reconciler, ReconcileResult
from hlmon.protocol.messages import Fill
from hlmon.state import Source, Store

USER = "0x" + "ab" * 20


def fill(tid: int, t: int, oid: int = 1) -> dict[str, Any]:
    return {
        "coin": "BTC", "px": "100.0", "sz": "0.1", "side": "B", "time": t,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x0",
        "oid": oid, "crossed": True, "fee": "0.01", "tid": tid,
    }  # fmt: skip


def order(oid: int) -> dict[str, Any]:
    return {"coin": "BTC", "side": "B", "limitPx": "90.0", "sz": "1.0", "oid": oid,
            "timestamp": 1, "origSz": "1.0"}  # fmt: skip


STATE = {
    "marginSummary": {"accountValue": "1000.0", "totalNtlPos": "0.0", "totalRawUsd": "1000.0",
                      "totalMarginUsed": "0.0"},
    "crossMarginSummary": {"accountValue": "1000.0", "totalNtlPos": "0.0",
                           "totalRawUsd": "1000.0", "totalMarginUsed": "0.0"},
    "withdrawable": "1000.0", "assetPositions": [], "crossMaintenanceMarginUsed": "0.0",
    "time": 1,
}  # fmt: skip


SPOT_USDC = {"coin": "USDC", "token": 0, "total": "10.0", "hold": "0.0", "entryNtl": "0.0"}


class FakeExchange:
    """An /info handler over a list of fills and open orders."""

    def __init__(self, fills: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
        self.fills = fills
        self.orders = orders
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        kind = body["type"]
        if kind == "clearinghouseState":
            return httpx.Response(200, json=STATE)
        if kind == "frontendOpenOrders":
            return httpx.Response(200, json=self.orders)
        if kind == "spotClearinghouseState":
            return httpx.Response(200, json={"balances": [SPOT_USDC]})
        if kind == "userFills":
            return httpx.Response(200, json=sorted(self.fills, key=lambda f: -f["time"])[:2000])
        if kind == "userFillsByTime":
            rows = sorted(
                (f for f in self.fills if f["time"] >= body["startTime"]), key=lambda f: f["time"]
            )
            return httpx.Response(200, json=rows[:PAGE_SIZE])
        return httpx.Response(422)


def make(exchange: FakeExchange) -> tuple[Reconciler, Store]:
    store = Store(lambda: 1_000.0)
    store.set_user(USER)
    http = httpx.AsyncClient(transport=httpx.MockTransport(exchange))
    client = InfoClient("http://x", budget=10_000, http_client=http, rng=random.Random(0))
    return Reconciler(client, store, USER, clock=lambda: 1_000.0), store


async def test_bootstrap_uses_user_fills_and_loads_orders() -> None:
    ex = FakeExchange([fill(i, 1000 + i) for i in range(5)], [order(1), order(2)])
    rec, store = make(ex)
    result = await rec.reconcile(None)
    assert [r["type"] for r in ex.requests] == [
        "userFills", "clearinghouseState", "frontendOpenOrders", "spotClearinghouseState",
    ]  # fmt: skip
    assert result.new_fills == 5 and result.open_orders == 2
    assert store.source_of("spot") is Source.REST
    assert len(store.fills()) == 5
    assert store.source_of("orders") is Source.REST
    assert Reconciler.describe(result, None) == "account loaded over REST: 2 open orders, 5 fills"


async def test_bootstrap_after_the_websockets_snapshot_says_the_fills_held() -> None:
    """The snapshot came first: REST adds nothing, and the log line must not read as if the
    account had no fills."""
    ex = FakeExchange([fill(i, 1000 + i) for i in range(5)], [order(1)])
    rec, store = make(ex)
    store.apply_fills([Fill(**fill(i, 1000 + i)) for i in range(5)], Source.WS)
    result = await rec.reconcile(None)
    assert (result.new_fills, result.fills_held) == (0, 5)
    assert Reconciler.describe(result, None) == (
        "account loaded over REST: 1 open order, 5 fills (0 new over REST)"
    )


async def test_outage_fills_recovered_once_with_margin_and_order_diff() -> None:
    ex = FakeExchange([fill(i, 10_000 + i * 1000) for i in range(3)], [order(1), order(2)])
    rec, store = make(ex)
    await rec.reconcile(None)
    mark = rec.mark()
    # During the outage: two fills, order 2 filled and order 3 placed.
    ex.fills += [fill(100, 20_000), fill(101, 21_000)]
    ex.orders = [order(1), order(3)]
    # The resubscribed websocket already re-sent one of them before REST answers.
    store.apply_fills([Fill(**{**fill(100, 20_000)})], Source.WS)
    result = await rec.reconcile(mark)
    by_time = [r for r in ex.requests if r["type"] == "userFillsByTime"]
    assert by_time[-1]["startTime"] == 12_000 - rec.margin_ms
    assert result == ReconcileResult(
        new_fills=2, order_changes=2, fills_fetched=result.fills_fetched, pages=1, open_orders=2,
        fills_held=5,
    )  # fmt: skip
    keys = [(f.tid, f.oid) for f in store.fills()]
    assert len(keys) == len(set(keys)) == 5
    assert (
        Reconciler.describe(result, 14.2)
        == "reconnected after 14 s; recovered 2 fills, 2 order changes"
    )


async def test_mark_without_fills_ignores_fills_that_came_after_it() -> None:
    """M3: nothing held at the mark; the resubscribed websocket delivers the newest outage
    fill first. The window must not start at that fill: userFills recovers the earlier ones."""
    ex = FakeExchange([], [])
    rec, store = make(ex)
    mark = rec.mark()
    assert mark.newest_fill_time is None
    ex.fills += [fill(1, 10_000), fill(2, 11_000), fill(3, 60_000)]
    store.apply_fills([Fill(**fill(3, 60_000))], Source.WS)
    result = await rec.reconcile(mark)
    assert ex.requests[0]["type"] == "userFills"
    assert sorted(f.tid for f in store.fills()) == [1, 2, 3]
    assert result.new_fills == 3


async def test_pages_when_a_full_page_comes_back() -> None:
    ex = FakeExchange([fill(1, 1_000)], [])
    rec, store = make(ex)
    await rec.reconcile(None)
    mark = rec.mark()
    ex.fills += [fill(10_000 + i, 2_000 + i) for i in range(PAGE_SIZE + 500)]
    result = await rec.reconcile(mark)
    assert result.pages == 2
    assert result.new_fills == PAGE_SIZE + 500
    assert len(store.fills()) == min(2000, PAGE_SIZE + 501)  # the store's ring keeps 2000


async def test_one_fill_wording() -> None:
    r = ReconcileResult(new_fills=1, order_changes=1, fills_fetched=1, pages=1)
    assert Reconciler.describe(r, 3) == "reconnected after 3 s; recovered 1 fill, 1 order change"
