"""``AccountsPoller`` decisions against a fake /info (httpx.MockTransport): which rows it polls,
how often, and what it does when /info refuses."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx

from hlmon.feeds.accounts_poller import AccountsPoller
from hlmon.feeds.info_client import InfoClient
from hlmon.state import ConnState, FeedState, Source, Store

from .helpers import A, B, C, FakeClock, clearinghouse

EMPTY = {
    "marginSummary": {"accountValue": "5.0", "totalNtlPos": "0.0", "totalRawUsd": "5.0",
                      "totalMarginUsed": "0.0"},
    "crossMarginSummary": {"accountValue": "5.0", "totalNtlPos": "0.0", "totalRawUsd": "5.0",
                           "totalMarginUsed": "0.0"},
    "crossMaintenanceMarginUsed": "0.0", "withdrawable": "5.0", "assetPositions": [], "time": 1,
}  # fmt: skip


class FakeInfo:
    """Answers clearinghouseState, or ``status`` when set; records who was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["type"] == "clearinghouseState"
        self.asked.append(body["user"])
        if self.status != 200:
            return httpx.Response(self.status, text="nope")
        return httpx.Response(200, json=EMPTY)


def make(
    fake: FakeInfo, clock: FakeClock, budget: int = 600
) -> tuple[AccountsPoller, Store, InfoClient]:
    store = Store(clock)
    store.set_watched_users([A, B, C])
    store.set_user(A)
    store.health.set_connection(ConnState.LIVE, url="ws://x/ws")
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    client = InfoClient("http://x", budget=budget, http_client=http, rng=random.Random(0))
    poller = AccountsPoller(
        client, store, others=lambda: [B, C], missing_grace=5.0, min_interval=2.0, clock=clock
    )
    return poller, store, client


async def settle(poller: AccountsPoller) -> None:
    """Run one round and wait for the polls it started."""
    poller.step()
    tasks = list(poller._inflight.values())
    if tasks:
        await asyncio.gather(*tasks)


async def test_missing_rows_wait_for_the_grace_then_poll() -> None:
    fake, clock = FakeInfo(), FakeClock()
    poller, store, client = make(fake, clock)
    try:
        store.apply(clearinghouse(B))  # B arrived over the websocket
        await settle(poller)
        assert fake.asked == []  # C missing, but within the grace
        clock.advance(5.0)
        await settle(poller)
        assert fake.asked == [C]  # never the selected user (A), never a fresh row (B)
        rows = {r.address: r for r in store.accounts()}
        assert rows[C].source is Source.REST and rows[C].account_value == "5.0"
        assert rows[C].state is FeedState.FALLBACK
        assert poller.polls == {C: 1}
    finally:
        await client.aclose()


async def test_stale_rows_polled_held_rows_refreshed_before_stale() -> None:
    fake, clock = FakeInfo(), FakeClock()
    poller, store, client = make(fake, clock)
    try:
        store.apply(clearinghouse(B))
        store.apply(clearinghouse(C))
        threshold = store.threshold("account")
        clock.advance(threshold + 0.5)  # both pushes stopped: stale
        await settle(poller)
        assert sorted(fake.asked) == sorted([B, C])
        # Now held by REST: not polled again while fresh, polled before they would go stale.
        clock.advance(1.0)
        await settle(poller)
        assert len(fake.asked) == 2
        clock.advance(0.8 * threshold + 0.01)
        await settle(poller)
        assert len(fake.asked) == 4
        # A websocket push hands C back: only B keeps being refreshed.
        store.apply(clearinghouse(C))
        clock.advance(0.8 * threshold + 0.01)
        await settle(poller)
        assert fake.asked[4:] == [B]
    finally:
        await client.aclose()


async def test_errors_logged_once_and_retried_no_sooner_than_min_interval() -> None:
    fake, clock = FakeInfo(), FakeClock()
    poller, store, client = make(fake, clock)
    try:
        fake.status = 500
        clock.advance(5.0)
        await settle(poller)
        await settle(poller)  # same instant: not retried yet
        assert sorted(fake.asked) == sorted([B, C])
        clock.advance(2.0)
        await settle(poller)
        assert len(fake.asked) == 4
        warnings = [e.text for e in store.health.events if e.level == "warn"]
        assert len(warnings) == 2  # one per address, not one per poll
        fake.status = 200
        clock.advance(2.0)
        await settle(poller)
        assert any("answering again" in e.text for e in store.health.events)
        assert all(r.account_value is not None for r in store.accounts()[1:])
    finally:
        await client.aclose()


async def test_budget_refusal_waits_without_logging() -> None:
    fake, clock = FakeInfo(), FakeClock()
    poller, store, client = make(fake, clock, budget=2)  # room for one poll per minute
    try:
        clock.advance(5.0)
        await settle(poller)
        assert len(fake.asked) == 1
        assert not [e for e in store.health.events if e.level == "warn"]
        asked: Any = list(fake.asked)
        clock.advance(2.0)
        await settle(poller)
        assert fake.asked == asked  # the refused one waits for the budget's retry time
    finally:
        await client.aclose()
