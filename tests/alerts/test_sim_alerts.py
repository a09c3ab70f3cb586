"""Alerts end to end: the real simulator over loopback, the real FeedEngine and Store, and an
evaluation loop standing in for the UI's refresh timer (take_changes -> evaluate).

Every wait is a condition with a deadline; the simulator's cadences are sped up so the whole
file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from hlmon.alerts import Alert, AlertEngine, AlertRule, AnyFill, DataLag, DeadMan, PriceCross
from hlmon.config import Settings, StaleThresholds
from hlmon.feeds.engine import FeedEngine
from hlmon.sim import SimServer
from hlmon.state import Store
from hlmon.state.decimals import fmt_amount, fmt_px_text, shown_decimals
from tests.support import FAST_PROFILE, TEST_TIMINGS, TEST_WS, running_sim

from .conftest import wait_for

FAST_MIDS = FAST_PROFILE.with_changes(all_mids_ms=200)
SHORT_STALE = StaleThresholds(
    mids=1.0, book=1.0, book_fast=1.0, bbo=1.0, trades=1.0, ctx=1.0, account=1.0, orders=1.0,
    fills=1.0,
)  # fmt: skip


class Evaluator:
    """What the UI timer does each frame: take the store's changes and evaluate the alerts."""

    def __init__(self, store: Store, engine: AlertEngine, fps: float = 50.0) -> None:
        self.store = store
        self.engine = engine
        self.alerts: list[Alert] = []
        self._period = 1.0 / fps
        self._task: asyncio.Task[None] | None = None

    def tick(self) -> None:
        self.alerts.extend(self.engine.evaluate(self.store, self.store.take_changes()))

    async def _run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self._period)  # the frame timer, not a wait for a condition

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim(FAST_MIDS) as server:
        yield server


@pytest.fixture
async def run() -> AsyncIterator[Any]:
    """Start a FeedEngine + Evaluator against the sim; both stopped at the end."""
    started: list[tuple[FeedEngine, Evaluator]] = []

    async def make(
        sim: SimServer, rules: list[AlertRule], *, address: bool = True, **alert_kw: Any
    ) -> tuple[FeedEngine, Evaluator]:
        settings = Settings(
            network="custom",
            api_url=sim.url,
            address=sim.demo_address if address else None,
            watchlist=("BTC", "ETH"),
            websocket=TEST_WS,
            stale=SHORT_STALE,
            rest_fallback=False,
        )
        store = Store(time.time, settings.stale)
        feeds = FeedEngine(settings, store, rng=random.Random(5), timings=TEST_TIMINGS)
        alert_kw.setdefault("cooldown_s", 0.0)
        evaluator = Evaluator(store, AlertEngine(rules, clock=time.time, **alert_kw))
        await feeds.start()
        started.append((feeds, evaluator))
        return feeds, evaluator

    yield make
    for feeds, evaluator in started:
        await evaluator.stop()
        await feeds.stop()


async def test_price_cross_through_the_sim(sim: SimServer, run: Any) -> None:
    """A level at the current mid, both ways: the random walk crosses one of them; it fires
    once, in the direction the price went, and not again while the price stays past it."""
    feeds, ev = await run(sim, [], hysteresis_pct=5.0)  # 5 %: no re-arm within the test
    store = feeds.store
    await wait_for(lambda: store.mid("BTC") is not None, 5)
    level = Decimal(store.mid("BTC") or "0")
    # No await between reading the mid and the first evaluation: both rules start armed.
    ev.engine.add(PriceCross("BTC", "above", level))
    ev.engine.add(PriceCross("BTC", "below", level))
    ev.tick()
    assert ev.alerts == []

    def tick_until(cond: Callable[[], object]) -> Callable[[], object]:
        # Evaluate on every poll (the UI timer, driven here so nothing runs between checks).
        return lambda: (ev.tick(), cond())[1]

    await wait_for(tick_until(lambda: ev.alerts), 10)
    (alert,) = ev.alerts
    # Keep only the rule that fired: the other one would rightly fire if the price came back.
    for rule in ev.engine.rules:
        if rule.rule_id != alert.rule_id:
            ev.engine.remove(rule.rule_id)
    mid_then = Decimal(alert.body.split(" mid ")[1].split()[0].replace(",", ""))
    shown = f"{level.normalize():,f}"  # the TUI's rule: separators, the level's own decimals
    if alert.rule_id.startswith("price BTC >"):
        assert mid_then > level and alert.title == f"BTC above {shown}"
    else:
        assert mid_then < level and alert.title == f"BTC below {shown}"
    # Crossing only: several more mids pushes, still exactly one alert.
    frames = store.health.frames_by_channel.get("allMids", 0)
    await wait_for(
        tick_until(lambda: store.health.frames_by_channel.get("allMids", 0) >= frames + 5), 5
    )
    assert len(ev.alerts) == 1


async def test_forced_fill_alerts(sim: SimServer, run: Any) -> None:
    """The fills history (snapshot) is quiet; a fill made now in the sim alerts once."""
    feeds, ev = await run(sim, [AnyFill()])
    store = feeds.store
    ev.start()
    await wait_for(lambda: feeds.reconciled.is_set() and store.fills(), 5)
    ev.tick()
    assert ev.alerts == []  # the demo account's history is not news
    made = sim.force_fill("BTC")
    assert made is not None
    await wait_for(lambda: ev.alerts, 5)
    alert = ev.alerts[-1]
    assert alert.rule_id == "fill" and alert.title.startswith(("Fill: BTC", "2 fills"))
    side = "BUY" if made["side"] == "B" else "SELL"
    # As the TUI prints them (one number rule): the price at the exchange's precision.
    assert (
        f"{side} {fmt_amount(Decimal(made['sz']), shown_decimals(made['sz']))} BTC @ " in alert.body
    )
    assert f"@ {fmt_px_text(made['px'])} (" in alert.body


async def test_deadman_fires_when_the_sim_stalls_with_positions_open(
    sim: SimServer, run: Any
) -> None:
    """Stall the server (sockets open, nothing sent): with positions open and no REST fallback,
    the dead-man's switch fires once; when data flows again it re-arms."""
    feeds, ev = await run(sim, [DeadMan(0.5)])
    store = feeds.store
    ev.start()
    await wait_for(lambda: feeds.reconciled.is_set() and store.positions(), 5)
    await wait_for(lambda: not store.stale_feeds(), 5)
    assert ev.alerts == []
    sim.faults.stall()
    await wait_for(lambda: ev.alerts, 8)
    (alert,) = ev.alerts
    assert alert.title == "Data stale with open positions" and alert.level == "error"
    assert "stale" in alert.body
    sim.faults.unstall()
    await wait_for(lambda: not store.stale_feeds(), 10)
    ev.tick()
    assert len(ev.alerts) == 1  # re-armed, not re-fired


async def test_deadman_quiet_when_flat(sim: SimServer, run: Any) -> None:
    """Same stall with no account watched (no positions): stale data, no dead-man alert."""
    feeds, ev = await run(sim, [DeadMan(0.5)], address=False)
    store = feeds.store
    ev.start()
    await wait_for(lambda: store.mid("BTC") is not None, 5)
    sim.faults.stall()

    def stale_long_enough() -> bool:
        age = store.feed_status("mids").age_s
        return age is not None and age > store.threshold("mids") + 0.5 + 0.3

    await wait_for(stale_long_enough, 8)
    ev.tick()
    assert "mids" in store.stale_feeds()
    assert ev.alerts == []


async def test_data_lag_fires_when_the_socket_drops(sim: SimServer, run: Any) -> None:
    """The socket dropped and the server refusing new ones: the mids stop, their age grows
    past the level and the data-lag rule fires once; when the socket is back it re-arms."""
    feeds, ev = await run(sim, [DataLag(1.0, "mids")], address=False)
    store = feeds.store
    ev.start()
    await wait_for(lambda: ev.engine.status()[0].state == "armed", 5)
    assert ev.alerts == []
    sim.faults.refuse_connections(30)
    sim.faults.drop_all()
    await wait_for(lambda: ev.alerts, 8)
    (alert,) = ev.alerts
    assert alert.rule_id == "data lag mids > 1s" and alert.title.endswith("behind: mids")
    age = store.feed_status("mids").age_s
    assert age is not None and age > 1.0
    assert ev.engine.status()[0].state == "fired"
    sim.faults.refuse_until = 0.0  # let it reconnect
    await wait_for(lambda: ev.engine.status()[0].state != "fired", 10)
    assert len(ev.alerts) == 1  # re-armed, not re-fired
