"""Supervision of the engine's long-lived tasks: a task that dies unexpectedly shows the
connection DOWN with the reason and is restarted with backoff; then the state is LIVE again.

The unit tests drive ``Supervisor`` with hand-made tasks; the fault tests inject a bug inside
the websocket feed's ``on_down`` callback and inside the REST poller's round of a real
``FeedEngine`` against the real simulator on loopback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.rest_sources import ScreenState
from hlmon.feeds.supervisor import Supervisor
from hlmon.sim import SimServer
from hlmon.state import ConnState, Store
from tests.support import FAST_PROFILE, TEST_TIMINGS, TEST_WS, FakeClock, running_sim, wait_for


class RecordingStore(Store):
    """A real store that also keeps every connection state it was given, in order, so a
    short DOWN between two LIVEs cannot slip between two polls of the test."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.states: list[tuple[ConnState, str | None]] = []
        health = self.health
        set_connection = health.set_connection

        def recording(state: ConnState, **kw: Any) -> None:
            self.states.append((state, kw.get("error")))
            set_connection(state, **kw)

        health.set_connection = recording  # type: ignore[method-assign]
        recover = health.recover

        def recovering(task: str, *, socket_live: bool) -> None:
            was = health.connection.state
            recover(task, socket_live=socket_live)
            if health.connection.state is not was:
                self.states.append((health.connection.state, None))

        health.recover = recovering  # type: ignore[method-assign]

    def downs(self, needle: str) -> list[int]:
        """Indexes of the DOWN states whose reason contains ``needle``."""
        return [
            i for i, (s, e) in enumerate(self.states) if s is ConnState.DOWN and needle in (e or "")
        ]

    def live_after(self, index: int) -> bool:
        return any(s is ConnState.LIVE for s, _ in self.states[index + 1 :])


def supervisor(store: Store, **kw: Any) -> Supervisor:
    return Supervisor(store.health, FullJitterBackoff(0.01, 0.05, random.Random(3)), **kw)


# ---------------------------------------------------------------------- unit


class TestSupervisor:
    async def test_crash_shows_down_with_reason_and_restarts(self) -> None:
        store = RecordingStore(time.time)
        runs: list[int] = []
        restarted: list[str] = []

        async def job() -> None:
            runs.append(1)
            if len(runs) <= 2:
                raise RuntimeError(f"bug {len(runs)}")
            await asyncio.Event().wait()  # then runs until cancelled

        sup = supervisor(store, on_restart=restarted.append)
        sup.spawn("poller", job)
        await wait_for(lambda: len(runs) == 3)
        assert [e for _, e in store.states] == [
            f"internal error in poller: RuntimeError('bug {n}'); restarting it in "
            f"{c.restart_in:.1f} s"
            for n, c in zip((1, 2), sup.crashes, strict=True)
        ]
        assert store.health.connection.state is ConnState.DOWN
        assert "RuntimeError('bug 2')" in (store.health.connection.last_error or "")
        assert restarted == ["poller", "poller"] and sup.restarts == {"poller": 2}
        logged = [e.text for e in store.health.events]
        assert any(t.startswith("websocket down: internal error in poller") for t in logged)
        assert sum("poller restarted after an internal error" in t for t in logged) == 2
        await sup.stop()
        assert sup.tasks == []

    async def test_cancellation_is_not_a_crash(self) -> None:
        store = RecordingStore(time.time)
        started = asyncio.Event()

        async def job() -> None:
            started.set()
            await asyncio.Event().wait()

        sup = supervisor(store)
        task = sup.spawn("ws-feed", job)
        await started.wait()
        await sup.stop()
        assert task.cancelled() and store.states == [] and not sup.crashes

    async def test_one_shot_ends_but_a_forever_task_returning_is_a_crash(self) -> None:
        store = RecordingStore(time.time)
        calls = {"once": 0, "forever": 0}

        async def once() -> None:
            calls["once"] += 1

        async def forever() -> None:
            calls["forever"] += 1
            if calls["forever"] > 1:
                await asyncio.Event().wait()

        sup = supervisor(store)
        done = sup.spawn("reconcile", once, forever=False)
        sup.spawn("fallback", forever)
        await done
        await wait_for(lambda: calls["forever"] == 2)
        assert calls["once"] == 1
        assert [c.error for c in sup.crashes] == ["returned"]
        await sup.stop()

    async def test_backoff_grows_with_quick_deaths_and_resets_after_a_stable_run(self) -> None:
        """Delays are drawn with the attempt counting quick deaths; a task that ran for
        ``stable_after`` seconds restarts from the first (shortest) bound again."""
        clock = FakeClock(0.0)
        store = RecordingStore(time.time)
        bounds: list[int] = []

        class Spy(FullJitterBackoff):
            def delay(self, attempt: int) -> float:
                bounds.append(attempt)
                return 0.0

        lifetimes = iter([0.0, 0.0, 0.0, 20.0, 0.0])

        async def job() -> None:
            life = next(lifetimes, None)
            if life is None:
                await asyncio.Event().wait()
            clock.advance(life or 0.0)
            raise ValueError("dies")

        sup = Supervisor(
            store.health, Spy(1.0, 30.0, random.Random(1)), stable_after=10.0, clock=clock
        )
        sup.spawn("fallback", job)
        await wait_for(lambda: len(bounds) == 5)
        assert bounds == [0, 1, 2, 0, 1]
        await sup.stop()


# ---------------------------------------------------------------------- faults, real sim


class FaultyEngine(FeedEngine):
    """The real engine with injectable bugs: ``on_down`` raises while ``down_faults`` > 0, the
    REST poller's round (which alone asks ``_screen``) and the report of its restart raise
    while ``poller_broken``."""

    down_faults = 0
    poller_broken = False

    def _on_down(self) -> None:
        if self.down_faults > 0:
            self.down_faults -= 1
            raise RuntimeError("injected fault in on_down")
        super()._on_down()

    def _screen(self) -> ScreenState:
        if self.poller_broken:
            raise RuntimeError("injected fault in the poller")
        return super()._screen()

    def _restarted(self, name: str) -> None:
        if self.poller_broken and name == "rest-poller":
            raise RuntimeError("injected fault in the poller's restart")
        super()._restarted(name)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim(FAST_PROFILE) as server:
        yield server


@pytest.fixture
async def engine(sim: SimServer) -> AsyncIterator[FaultyEngine]:
    settings = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC",),
        websocket=TEST_WS,
    )
    store = RecordingStore(time.time, settings.stale)
    timings = dataclasses.replace(TEST_TIMINGS, backoff_initial=0.2, backoff_max=0.4)
    eng = FaultyEngine(
        settings, store, rng=random.Random(5), timings=timings, fallback_down_grace=0.3
    )
    await eng.start()
    try:
        await wait_for(
            lambda: store.health.connection.state is ConnState.LIVE and eng.reconciled.is_set()
        )
        yield eng
    finally:
        await eng.stop()


def recording(engine: FeedEngine) -> RecordingStore:
    assert isinstance(engine.store, RecordingStore)
    return engine.store


class TestFaults:
    async def test_crash_in_on_down_goes_down_then_live(
        self, sim: SimServer, engine: FaultyEngine
    ) -> None:
        """Before supervision this crash killed the websocket task for good and left
        "● LIVE" (then "silent") on screen. Now: DOWN with the reason, restart, LIVE, data."""
        store = recording(engine)
        reconciles = engine.reconcile_count
        engine.down_faults = 1
        sim.faults.drop_all()
        await wait_for(lambda: store.downs("injected fault in on_down"))
        (down,) = store.downs(
            "internal error in ws-feed: RuntimeError('injected fault in on_down')"
        )
        await wait_for(lambda: store.live_after(down), 5)
        assert store.health.connection.state is ConnState.LIVE
        assert engine.supervisor.restarts == {"ws-feed": 1}
        # The restarted feed resubscribed: data flows, and the account was reconciled afresh.
        frames = store.health.frames_by_channel.get("bbo", 0)
        await wait_for(lambda: store.health.frames_by_channel.get("bbo", 0) > frames, 5)
        await wait_for(lambda: engine.reconcile_count > reconciles, 5)

    async def test_crash_in_the_poller_goes_down_then_live(
        self, sim: SimServer, engine: FaultyEngine
    ) -> None:
        """A bug in the REST poller's round: DOWN with the reason while it keeps failing,
        LIVE again once its restart runs (the socket itself was never lost)."""
        store = recording(engine)
        engine.poller_broken = True
        # (A calm poller sleeps up to ``CALM_WAIT_MAX`` before its first round meets it.)
        await wait_for(lambda: len(store.downs("internal error in rest-poller")) >= 2, 5)
        assert store.health.connection.state is ConnState.DOWN
        assert "internal error in rest-poller" in (store.health.connection.last_error or "")
        first = store.downs("internal error in rest-poller")[0]
        assert not store.live_after(first)  # still failing: never shown LIVE meanwhile
        reconnects = store.health.connection.reconnects
        engine.poller_broken = False
        # Its second crash is still waiting out its backoff: LIVE once that restart ran.
        await wait_for(lambda: engine.supervisor.restarts.get("rest-poller", 0) >= 2, 5)
        await wait_for(lambda: store.live_after(store.downs("rest-poller")[-1]), 5)
        assert store.states[-1] == (ConnState.LIVE, None)
        # A recovery, not a reconnect: the same socket, nothing counted, nothing "reconnected".
        assert store.health.connection.reconnects == reconnects
        log = [e.text for e in store.health.events]
        assert any("rest-poller recovered" in line for line in log)
        assert not any(line.startswith("reconnected to") for line in log)
        # The restarted poller does its job: with the socket gone, mids come over REST.
        before = engine.rest.polls_of("allMids")
        sim.faults.refuse_connections(5.0)
        sim.faults.drop_all()
        await wait_for(lambda: engine.rest.polls_of("allMids") > before, 5)
