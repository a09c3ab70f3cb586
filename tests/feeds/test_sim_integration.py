"""The feed engine against the real simulator over loopback, with faults injected.

Real sockets, real HTTP, no mocks of our own code. Heartbeat and backoff timings are shortened
(``TEST_WS``) and the simulator's cadences sped up (``FAST_PROFILE``) so the suite stays fast;
every wait is a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoTimeout, ServerError
from hlmon.protocol import info
from hlmon.sim import SimServer
from hlmon.sim.limits import SimLimits
from hlmon.state import ConnState, FeedState, Source
from hlmon.state.settings import StaleThresholds
from tests.catalogs import default_catalog
from tests.support import FAST_PROFILE, TEST_TIMINGS, TEST_WS, engine_factory, running_sim

Wait = Callable[..., Awaitable[float]]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim(FAST_PROFILE) as server:
        yield server


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    base = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC", "ETH"),
        websocket=TEST_WS,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def engines() -> AsyncIterator[Callable[..., Awaitable[FeedEngine]]]:
    async with engine_factory() as make:
        yield make


def ws_subs_on_sim(sim: SimServer) -> int:
    return sum(len(c.subs) for c in sim.connections)


def fill_keys(fills: list[Any]) -> list[tuple[int, int]]:
    return [(f["tid"], f["oid"]) if isinstance(f, dict) else (f.tid, f.oid) for f in fills]


class TestReconnect:
    async def test_kill_all_reconnects_resubscribes_and_data_flows(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """drop_all: the engine reconnects, resubscribes everything, and frames flow again."""
        engine = await engines(settings_for(sim))
        store = engine.store
        await wait(lambda: store.book("BTC") is not None and engine.reconciled.is_set(), 5)
        await wait(lambda: ws_subs_on_sim(sim) == len(engine.ws.subscriptions), 3)
        before = set(engine.ws.subscriptions)
        sim.faults.drop_all()
        await wait(lambda: store.health.connection.reconnects == 1, 5)
        frames = store.health.frames_by_channel.get("bbo", 0)
        await wait(lambda: store.health.frames_by_channel.get("bbo", 0) > frames, 5)
        # Everything the engine holds is subscribed again. It may hold more than before the
        # drop: on a loaded host the demo account's HIP-3 dexes can be found active after
        # ``before`` was taken (the engine checks every ``dex_tick``), and their feeds join.
        await wait(lambda: ws_subs_on_sim(sim) == len(engine.ws.subscriptions), 3)
        assert before <= set(engine.ws.subscriptions)
        assert store.health.connection.state is ConnState.LIVE
        await wait(lambda: engine.reconcile_count >= 2, 5)
        assert any(e.text.startswith("reconnected after") for e in store.health.events)

    async def test_stall_detected_within_heartbeat_deadline(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """Socket open, server silent: declared dead by the heartbeat, not by TCP."""
        engine = await engines(settings_for(sim, address=None))
        store = engine.store
        await wait(lambda: engine.ws.live.is_set() and store.mid("BTC") is not None, 5)
        await wait(lambda: store.health.frames_by_channel.get("pong", 0) >= 1, 3)
        t0 = time.monotonic()
        sim.faults.stall()
        await wait(lambda: engine.ws.stats.dead_detected == 1, 3)
        detect = time.monotonic() - t0
        # Worst case: a ping just went out before the stall -> ping_interval + pong_timeout.
        assert detect <= TEST_WS.ping_interval + TEST_WS.pong_timeout + 0.2
        sim.faults.unstall()
        await wait(lambda: store.health.connection.reconnects >= 1 and engine.ws.live.is_set(), 5)

    async def test_a_short_stall_ends_without_a_reconnect(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """The server freezes for less than the pong timeout: the ping sent meanwhile is
        answered when it thaws (late, not lost), so the socket is kept. (The simulator once
        dropped those pings: the socket was killed seconds after data had resumed.)"""
        # Scheduled pings far apart: the ping of the stall is the silence probe, and no later
        # ping's pong would clear it.
        timings = dataclasses.replace(
            TEST_TIMINGS, ping_interval=60.0, probe_after=0.3, pong_timeout=1.5, silence_timeout=5.0
        )
        engine = await engines(settings_for(sim, address=None), timings=timings)
        store = engine.store
        await wait(lambda: engine.ws.live.is_set() and store.mid("BTC") is not None, 5)
        pongs = store.health.frames_by_channel.get("pong", 0)
        sim.faults.stall()
        # After probe_after of silence the probe goes out, and gets no answer yet.
        await wait(lambda: engine.ws._ping_sent_at is not None, 3)
        probed_at = time.monotonic()
        await wait(lambda: time.monotonic() - probed_at > 0.3, 2)
        assert store.health.frames_by_channel.get("pong", 0) == pongs
        sim.faults.unstall()
        await wait(lambda: store.health.frames_by_channel.get("pong", 0) > pongs, 3)
        # Past the moment the unanswered probe would have had the socket declared dead.
        deadline = probed_at + timings.pong_timeout + 0.3
        await wait(lambda: time.monotonic() > deadline, timings.pong_timeout + 2)
        assert engine.ws.stats.dead_detected == 0
        assert store.health.connection.reconnects == 0

    async def test_malformed_and_error_frames_counted(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        engine = await engines(settings_for(sim, address=None))
        store = engine.store
        await wait(lambda: engine.ws.live.is_set() and sim.connections, 5)
        sim.faults.send_malformed(6)
        sim.faults.send_error("Something odd happened")
        await wait(lambda: store.health.frames_rejected >= 6 and store.health.server_errors >= 1, 3)
        assert store.health.frames_rejected == 6
        assert any("server error: Something odd" in e.text for e in store.health.events)
        assert any("rejected frame" in e.text for e in store.health.events)
        # Still the same healthy connection, data still applied.
        mids = store.health.frames_by_channel.get("allMids", 0)
        await wait(lambda: store.health.frames_by_channel.get("allMids", 0) > mids, 3)
        assert store.health.connection.reconnects == 0


class TestOutage:
    async def test_fills_during_outage_recovered_exactly_once(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """Fills made while connections are refused are all in the store after reconnect,
        each once (reconciliation alone: the REST fallback is off here)."""
        engine = await engines(settings_for(sim, rest_fallback=False))
        store = engine.store
        await wait(lambda: engine.reconciled.is_set() and store.fills(), 5)
        sim.faults.refuse_connections(1.5)
        sim.faults.drop_all()
        await wait(lambda: not engine.ws.live.is_set(), 2)
        made = [f for f in (sim.force_fill() for _ in range(3)) if f is not None]
        assert len(made) == 3
        await wait(lambda: engine.ws.live.is_set() and engine.reconcile_count >= 2, 8)
        truth = fill_keys(sim.truth.fills)
        held = fill_keys(store.fills())
        assert len(held) == len(set(held))
        assert set(truth) <= set(held)
        for f in made:
            assert held.count((f["tid"], f["oid"])) == 1
        assert engine.last_reconcile is not None and engine.last_reconcile.new_fills >= 3
        line = [e.text for e in store.health.events if e.text.startswith("reconnected after")][-1]
        assert "recovered" in line and "fill" in line

    async def test_fallback_takes_over_and_hands_back(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """Websocket refused: REST keeps mids/book/account/orders fresh (source rest);
        websocket back: the fallback stops by itself."""
        engine = await engines(settings_for(sim))
        store = engine.store
        await wait(lambda: engine.ws.live.is_set() and engine.reconciled.is_set(), 5)
        await wait(lambda: store.source_of("account") is Source.WS, 3)
        sim.faults.refuse_connections(2.5)
        sim.faults.drop_all()
        await wait(lambda: store.health.fallback_active, 3)
        await wait(
            lambda: all(
                store.feed_status(k).state is FeedState.FALLBACK
                for k in ("mids", "book:BTC", "account", "orders")
            ),
            4,
        )
        assert any(
            e.text.startswith("fallback on: ") and "mids" in e.text for e in store.health.events
        )
        fills_before = len(store.fills())
        sim.force_fill()
        await wait(lambda: len(store.fills()) > fills_before, 20)  # fills: every 10-14 s
        await wait(lambda: engine.ws.live.is_set(), 6)
        await wait(lambda: not store.health.fallback_active, 5)
        assert any(e.text.startswith("fallback off") for e in store.health.events)
        assert store.source_of("mids") is Source.WS
        assert engine.info.budget.peak <= engine.settings.rest_weight_budget

    async def test_select_coin_switches_subscriptions(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        engine = await engines(settings_for(sim, address=None))
        store = engine.store
        await wait(lambda: store.book("BTC") is not None, 5)
        engine.select_coin("ETH")
        await wait(lambda: store.book("ETH") is not None and store.bbo("ETH") is not None, 5)
        assert "book:BTC" not in store.expected and "book:ETH" in store.expected
        conn = next(iter(sim.connections))
        await wait(lambda: not any('"BTC"' in k and "l2Book" in k for k in conn.subs), 3)
        engine.set_book_mode(True, None)
        assert store.book_fast
        await wait(lambda: store.book("ETH") is not None and store.book("ETH").fast, 5)


EVERY_FEED = ("mids", "book:BTC", "bbo:BTC", "trades:BTC", "ctx:BTC", "ctx:ETH", "account",
              "orders", "fills", "fundings")  # fmt: skip


class TestRestOnly:
    async def test_rest_mode_serves_every_feed_and_is_not_down(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """use_websocket=False: the connection is REST (a mode, said once as information),
        every feed on screen is kept over REST at once, and coin switches are followed."""
        engine = await engines(settings_for(sim, use_websocket=False))
        store = engine.store
        assert store.health.connection.state is ConnState.REST
        await wait(
            lambda: all(store.feed_status(k).state is FeedState.FALLBACK for k in EVERY_FEED), 4
        )
        assert all(store.source_of(k) is Source.REST for k in EVERY_FEED)
        ctx = store.ctx("ETH")
        assert ctx is not None and ctx.openInterest and ctx.funding
        said = [e for e in store.health.events if "websocket off by choice" in e.text]
        assert len(said) == 1 and said[0].level == "info"
        assert not [e for e in store.health.events if e.level == "error"]
        assert not store.health.fallback_active
        plan = store.health.rest_plan
        assert plan is not None and plan.cadences["book:BTC"] == 2.0
        engine.select_coin("ETH")
        await wait(lambda: store.book("ETH") is not None and store.bbo("ETH") is not None, 4)
        await wait(lambda: store.trades("ETH"), 4)
        assert store.source_of("book:ETH") is Source.REST
        assert store.health.rest_weight_used > 0 and store.health.rest_budget == 600

    async def test_rest_mode_loads_the_account_once(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """The poller's first polls are the account's load: no start-up reconciliation
        fetches the same states, orders, spot and fills again (there is no socket to
        reconcile with), and the account checks do not wait for one. A dex found active is
        polled in the poller's next round, not at the engine's next check of the dexes (a
        minute away here)."""
        engine = await engines(settings_for(sim, use_websocket=False), dex_tick=60.0)
        store = engine.store
        user = sim.demo_address
        await wait(
            lambda: (
                bool(store.open_orders() and store.fills()) and store.account_mode(user) is not None
            ),
            5,
        )
        await wait(lambda: len(store.active_dexes()) > 1 and store.orders_ready(), 5)
        hip3 = [d for d in store.active_dexes() if d]
        assert {o.coin.partition(":")[0] for o in store.open_orders() if ":" in o.coin} <= set(hip3)
        assert all(store.stamp(f"orders:{d}") is not None for d in hip3)
        assert engine.reconcile_count == 0 and not engine.reconciled.is_set()
        assert store.source_of("orders") is Source.REST
        assert engine.rest.polls_of("frontendOpenOrders") >= 1

    async def test_429_lets_the_age_grow_until_the_feed_is_stale(
        self, sim: SimServer, engines: Any, wait: Wait
    ) -> None:
        """Every /info answered 429: nothing passes for fresh; the book (planned every 2 s,
        so stale 5 s after its last answer) shows STALE with its true age, then recovers."""
        settings = settings_for(sim, use_websocket=False, stale=StaleThresholds(book=1.0))
        engine = await engines(settings)
        store = engine.store
        await wait(lambda: store.feed_status("book:BTC").state is FeedState.FALLBACK, 4)
        assert store.threshold("book:BTC") == 5.0
        sim.faults.info_status(429)
        try:
            await wait(lambda: engine.info.rate_limited > 0, 4)
            stamp = store.stamp("book:BTC")
            await wait(lambda: store.feed_status("book:BTC").state is FeedState.STALE, 8)
            status = store.feed_status("book:BTC")
            assert status.source is Source.REST and (status.age_s or 0) > 5.0
            assert store.stamp("book:BTC") == stamp  # refusals never refreshed the as-of time
            assert any("HTTP 429" in e.text and e.level == "warn" for e in store.health.events)
        finally:
            sim.faults.clear()
        await wait(lambda: store.feed_status("book:BTC").state is FeedState.FALLBACK, 20)

    async def test_poller_stays_under_budget_by_the_sims_weight_counter(
        self, wait: Wait, engines: Any
    ) -> None:
        """The simulator limits REST weight to exactly hlmon's budget (120 a minute, far below
        what the screen wants): the plan degrades and says so, the selected coin's book is
        polled at the plan's cadence, and the simulator never has to answer 429. The engine
        starts with a market catalog (a catalog load costs 60-80 of these 120:
        ``test_sim_catalog`` and the catalog benchmark cover it); the feeds' first polls alone
        outgrow the reserve, so the plan is cut until they leave the window."""
        budget = 120
        server = SimServer(
            seed=11, profile=FAST_PROFILE, limits=SimLimits(rest_weight_per_minute=budget)
        )
        await server.start(host="127.0.0.1", port=0)
        try:
            engine = await engines(
                settings_for(server, use_websocket=False, rest_weight_budget=budget),
                catalog=default_catalog(),
            )
            store = engine.store
            await wait(lambda: store.feed_status("book:BTC").state is FeedState.FALLBACK, 4)
            t0 = time.monotonic()
            books = engine.rest.polls_of("l2Book")
            await asyncio.sleep(8.0)  # let the poller run: the point is what it spends meanwhile
            elapsed = time.monotonic() - t0
            spent = server.tracker.client("127.0.0.1").rest_weight.used()
            plan = store.health.rest_plan
            assert plan is not None and plan.degraded and plan.weight_per_min <= budget * 0.8
            assert any(e.text.startswith("REST plan:") and e.level == "warn"
                       for e in store.health.events)  # fmt: skip
            assert engine.info.rate_limited == 0  # the simulator never had to refuse
            assert 0 < spent <= engine.info.budget.used() <= budget
            assert engine.info.budget.peak <= budget
            assert engine.rest.cut > 0 and any(
                "one-off loads hold" in e.text for e in store.health.events
            )
            book_every = plan.cadences["book:BTC"]
            assert engine.rest.polls_of("l2Book") - books >= int(elapsed / book_every) - 1
        finally:
            await server.stop()


class TestInfoAgainstSim:
    async def test_429_and_500_retried_then_ok(self, sim: SimServer) -> None:
        client = InfoClient(sim.url, budget=600, backoff_initial=0.01, backoff_cap=0.05)
        try:
            sim.faults.info_status(429, count=2)
            assert "BTC" in await client.info(info.all_mids())
            assert client.rate_limited == 2
            sim.faults.info_status(500, count=2)
            assert "BTC" in await client.info(info.all_mids())
            sim.faults.info_status(503)
            with pytest.raises(ServerError):
                await client.info(info.all_mids(), retries=1)
        finally:
            sim.faults.clear()
            await client.aclose()

    async def test_hang_times_out_typed(self, sim: SimServer) -> None:
        import httpx

        client = InfoClient(sim.url, budget=600, timeout=httpx.Timeout(0.3), backoff_cap=0.01)
        try:
            sim.faults.info_hang(5)
            t0 = time.monotonic()
            with pytest.raises(InfoTimeout):
                await client.info(info.all_mids(), retries=1)
            assert time.monotonic() - t0 < 1.5
        finally:
            sim.faults.clear()
            await client.aclose()

    async def test_budget_never_exceeded_in_window(self, sim: SimServer) -> None:
        """A burst against a 40-weight budget: 20 allMids go out, the 21st is refused
        (non-urgent) instead of exceeding; the server never had to say 429."""
        client = InfoClient(sim.url, budget=40)
        try:
            sent = 0
            with pytest.raises(BudgetExhausted) as err:
                for _ in range(100):
                    await client.info(info.all_mids(), urgent=False)
                    sent += 1
            assert sent == 20
            assert client.budget.used() == 40 and client.budget.peak == 40
            assert 55 < err.value.retry_in <= 60
            assert client.rate_limited == 0
        finally:
            await client.aclose()
