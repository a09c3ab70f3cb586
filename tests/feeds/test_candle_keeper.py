"""CandleKeeper: 1 h candles of the watched coins over REST, the selected coin more often (#17).

Against the real simulator over loopback (real HTTP); an HTTP 500 from a mock transport for the
failure path. Every wait is a condition with a deadline.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from hlmon.config import Settings
from hlmon.feeds.candle_keeper import (
    FIRST_SHARE,
    INTERVAL,
    SHARE,
    SPAN_HOURS,
    SPARK_HOURS,
    CandleKeeper,
)
from hlmon.feeds.info_client import InfoClient
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer
from hlmon.state import FeedState, Source, Store
from tests.support import FAST_PROFILE, TEST_WS, FakeClock, engine_factory, running_sim

Wait = Callable[..., Awaitable[float]]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim(FAST_PROFILE) as server:
        yield server


async def test_keeper_fills_the_store_from_the_simulator(sim: SimServer) -> None:
    """Five days of 1 h candles for the selected coin (its chart), the sparkline's 25 hours for
    a watched one, oldest first, stamped as REST data; the selected coin is asked again after
    the fast interval, a watched one only after the slow one."""
    store = Store(time.time)
    clock = FakeClock()
    client = InfoClient(sim.url, budget=1200)
    keeper = CandleKeeper(
        client,
        store,
        coins=lambda: ("BTC", "ETH"),
        selected=lambda: "BTC",
        clock=clock,
        # The exchange's clock: the simulator's market time trails the wall clock by up to a
        # tick, and the open candle of an hour that began within that tick is not served yet.
        wall_clock=lambda: sim.market.now / 1000,
    )
    try:
        await keeper.step()
    finally:
        await client.aclose()
    for coin, hours in (("BTC", SPAN_HOURS), ("ETH", SPARK_HOURS)):
        candles = store.candles(coin, INTERVAL)
        assert len(candles) == hours  # whole hours, the open candle the last
        times = [c.open_time for c in candles]
        assert times == sorted(times) and times[1] - times[0] == 3_600_000
        assert all(float(c.low) <= float(c.close) <= float(c.high) for c in candles)
        status = store.feed_status(f"candles:{coin}")
        assert status.state is FeedState.FALLBACK and status.source is Source.REST
    assert "candles:BTC" in store.take_changes()
    assert keeper.asked == {"BTC": 1, "ETH": 1}
    clock.advance(keeper.fast_interval)
    client = InfoClient(sim.url, budget=1200)
    keeper._client = client
    try:
        await keeper.step()
    finally:
        await client.aclose()
    assert keeper.asked == {"BTC": 2, "ETH": 1}


async def test_failure_is_logged_once_and_asked_again_later() -> None:
    clock = FakeClock()
    store = Store(clock)
    calls: list[dict[str, Any]] = []

    def fail(request: httpx.Request) -> httpx.Response:
        calls.append({})
        return httpx.Response(500)

    http = httpx.AsyncClient(transport=httpx.MockTransport(fail))
    client = InfoClient("http://x", budget=1200, http_client=http, rng=random.Random(0))
    keeper = CandleKeeper(client, store, coins=lambda: ("BTC",), selected=lambda: None, clock=clock)
    await keeper.step()
    await keeper.step()  # not due yet: backing off
    assert len(calls) == 1
    clock.advance(10.0)
    await keeper.step()
    assert len(calls) == 2
    warned = [e.text for e in store.health.events if "candles of BTC failed" in e.text]
    assert len(warned) == 1
    assert store.feed_status("candles:BTC").state is FeedState.MISSING
    await http.aclose()


def _has_candles(store: Store) -> bool:
    return all(len(store.candles(c, INTERVAL)) >= 24 for c in ("BTC", "ETH"))


async def test_engine_keeps_watchlist_candles_over_loopback(sim: SimServer, wait: Wait) -> None:
    """The engine runs the keeper: once the catalog is in force every watched coin has its
    candles, selected or not, with a websocket or in REST mode."""
    for use_websocket in (True, False):
        settings = Settings(
            network="custom",
            api_url=sim.url,
            watchlist=("BTC", "ETH"),
            websocket=TEST_WS,
            use_websocket=use_websocket,
        )
        async with engine_factory() as make:
            engine = await make(settings)
            await wait(lambda e=engine: _has_candles(e.store), 10)
            assert engine.candles.asked.keys() >= {"BTC", "ETH"}


async def test_candles_spend_only_their_share_of_the_budget() -> None:
    """A 500 budget leaves 50 a minute to candles: two requests (22 each), the third coin
    waits for the next minute; the answer, even empty, says the coin is loaded."""
    clock = FakeClock()
    store = Store(clock)
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["req"]["coin"])
        return httpx.Response(200, json=[])

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = InfoClient("http://x", budget=500, http_client=http, clock=clock)
    keeper = CandleKeeper(
        client, store, coins=lambda: ("BTC", "ETH", "SOL"), selected=lambda: "ETH", clock=clock
    )
    await keeper.step()
    assert asked == ["ETH", "BTC"]  # the selected coin first
    clock.advance(30.0)
    await keeper.step()
    assert asked == ["ETH", "BTC"]
    clock.advance(31.0)
    await keeper.step()
    assert asked == ["ETH", "BTC", "SOL", "ETH"]  # SOL's first fetch, then ETH's refresh
    assert store.feed_status("candles:SOL").state is FeedState.FALLBACK
    assert store.candles("SOL", INTERVAL) == []
    await http.aclose()


async def test_snapshot_and_record_runtimes_ask_no_candles(sim: SimServer, wait: Wait) -> None:
    """The TUI's runtime keeps candles; the one-shot snapshot and the recording do not spend
    REST weight on them (``Runtime(candles=False)``)."""
    settings = Settings(network="custom", api_url=sim.url, watchlist=("BTC",), websocket=TEST_WS)
    for candles in (True, False):
        async with Runtime(settings, candles=candles) as rt:
            await wait(lambda r=rt: r.store.mid("BTC") is not None and r.engine.watchlist, 10)
            names = {t.get_name() for t in rt.engine.supervisor.tasks}
            assert ("candles" in names) is candles
            assert "catalog" in names


TEN = ("BTC", "ETH", "SOL", "HYPE", "XRP", "DOGE", "AVAX", "BNB", "LINK", "SUI")


def _sparklines(store: Store, coins: tuple[str, ...] = TEN) -> int:
    return sum(len(store.candles(c, INTERVAL)) >= 24 for c in coins)


async def test_first_fetch_of_ten_coins_is_one_burst_while_the_socket_is_live(
    sim: SimServer,
) -> None:
    """With the websocket live every coin's first fetch goes out in the first round, the
    whole budget's spend kept within ``FIRST_SHARE`` and counted as the simulator charges it;
    the refreshes after it keep to ``SHARE``. In REST mode (no burst) the same first round
    keeps to ``SHARE``: two sparklines of 21 in a 60 share, the selected chart's 22 first."""
    charged = sim.tracker.client("127.0.0.1").rest_weight
    for burst, expected in ((True, len(TEN)), (False, 2)):
        store = Store(time.time)
        clock = FakeClock()
        client = InfoClient(sim.url, budget=600, clock=clock)

        def socket_live(live: bool = burst) -> bool:
            return live

        keeper = CandleKeeper(
            client,
            store,
            coins=lambda: TEN,
            selected=lambda: "BTC",
            clock=clock,
            burst=socket_live,
        )
        before = charged.used()
        try:
            await keeper.step()
        finally:
            await client.aclose()
        assert _sparklines(store) == expected == len(keeper.asked)
        spent = client.budget.used()
        assert spent == charged.used() - before  # client and simulator count alike
        assert client.budget.peak <= 600 * (FIRST_SHARE if burst else SHARE) + 54
        assert spent <= 600 * (FIRST_SHARE if burst else SHARE)
        assert len(store.candles("BTC", INTERVAL)) == SPAN_HOURS
        assert len(store.candles("ETH", INTERVAL)) == SPARK_HOURS


async def test_a_coin_selected_after_its_sparkline_gets_its_full_chart_at_once(
    sim: SimServer,
) -> None:
    store = Store(time.time)
    clock = FakeClock()
    client = InfoClient(sim.url, budget=1200, clock=clock)
    selected: list[str | None] = [None]
    keeper = CandleKeeper(
        client, store, coins=lambda: ("BTC", "ETH"), selected=lambda: selected[0], clock=clock
    )
    try:
        await keeper.step()
        assert len(store.candles("ETH", INTERVAL)) == SPARK_HOURS
        selected[0] = "ETH"
        clock.advance(1.0)
        await keeper.step()
    finally:
        await client.aclose()
    assert keeper.asked == {"BTC": 1, "ETH": 2}
    assert len(store.candles("ETH", INTERVAL)) == SPAN_HOURS


async def test_ten_sparklines_within_seconds_of_start_over_loopback(
    sim: SimServer, wait: Wait
) -> None:
    """The engine with ten watched coins and a live socket: every row has its sparkline
    within a few seconds (with only the 10 % share it took minutes), and the REST weight spent,
    truth included, stays within the budget. In REST mode the candles keep to their share."""
    settings = Settings(network="custom", api_url=sim.url, watchlist=TEN, websocket=TEST_WS)
    async with engine_factory() as make:
        engine = await make(settings)
        await wait(lambda: _sparklines(engine.store) == len(TEN), 8)
        assert engine.info.budget.peak <= settings.rest_weight_budget
    rest = Settings(
        network="custom", api_url=sim.url, watchlist=TEN, websocket=TEST_WS, use_websocket=False
    )
    async with engine_factory() as make:
        engine = await make(rest)
        await wait(lambda: _sparklines(engine.store) >= 1, 8)
        share = rest.rest_weight_budget * SHARE
        assert sum(w for _, w in engine.candles._spent) <= share
        assert _sparklines(engine.store) <= share // 21
