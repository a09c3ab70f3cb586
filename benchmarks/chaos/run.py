"""``ChaosRun``: one engine and store against an in-process simulator while the plan's faults
are played one by one (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Callable
from typing import Any

import msgspec

from benchmarks.chaos.clocks import FreezableSimClock, JumpClock
from benchmarks.chaos.crashes import BUG_EXCEPTIONS, CHAOS_LOG_CAP, CrashCounter
from benchmarks.chaos.plan import RECOVERY_DEADLINE, Fault
from benchmarks.chaos.report import ChaosReport, FaultRecord, fmt_s, round_s
from benchmarks.engine_checks import engine_live, seconds_until
from hlmon.config import Settings, StaleThresholds, WebsocketSettings
from hlmon.feeds.engine import FeedEngine
from hlmon.sim import STANDARD, SimLimits, SimServer
from hlmon.state import Store
from hlmon.state.clock import SteadyClock

CHAOS_WS = WebsocketSettings(
    ping_interval=0.3,
    pong_timeout=0.4,
    silence_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.4,
    max_new_per_minute=300,
)
"""Short heartbeat and backoff (as in tests/feeds) so a stall is caught in < 1 s."""
CHAOS_TIMINGS = dataclasses.replace(CHAOS_WS, ack_timeout=1.0, stable_after=0.5)
CHAOS_PROFILE = STANDARD.with_changes(
    name="chaos", l2book_ms=400, all_mids_ms=400, ctx_ms=200, user_ms=400
)
"""Fast cadences: a periodic feed that stopped is noticed within a second."""
CHAOS_STALE = StaleThresholds(
    mids=2.0, book=2.0, book_fast=2.0, bbo=5.0, trades=10.0, ctx=2.0, account=2.0, orders=2.0
)
LIMIT_SCALE = 10
"""Per-minute limits (new connections, REST weight) are lifted this many times: the run packs
hours of faults into minutes."""


class ChaosRun:
    """One chaos run against an in-process simulator (see the module docstring)."""

    def __init__(
        self,
        plan: list[Fault],
        *,
        seed: int = 7,
        plan_name: str = "custom",
        gap: tuple[float, float] = (0.2, 0.8),
        fill_every: tuple[float, float] = (0.2, 0.6),
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.plan = plan
        self.seed = seed
        self.rng = random.Random(seed)
        self.gap = gap
        self.fill_every = fill_every
        self._log = log or (lambda text: None)
        self.report = ChaosReport(seed=seed, plan=plan_name)
        self.store_clock = JumpClock()
        self.sim_clock = FreezableSimClock()
        self.crashes = CrashCounter()
        self.sim: SimServer | None = None
        self.engine: FeedEngine | None = None
        self.store: Store | None = None
        self._outage = False
        self._start_fills: set[tuple[int, int]] = set()

    # -------------------------------------------------------------- setup / teardown

    async def _start(self) -> None:
        limits = SimLimits(
            new_connections_per_minute=30 * LIMIT_SCALE,
            rest_weight_per_minute=1200 * LIMIT_SCALE,
            messages_per_minute=2000 * LIMIT_SCALE,
        )
        self.sim = SimServer(
            seed=self.seed,
            profile=CHAOS_PROFILE,
            clock=self.sim_clock,
            limits=limits,
            fault_routes=True,
        )
        await self.sim.start(host="127.0.0.1", port=0)
        self._start_fills = {(f["tid"], f["oid"]) for f in _made_fills(self.sim.truth)}
        settings = Settings(
            network="custom",
            api_url=self.sim.url,
            address=self.sim.demo_address,
            watchlist=("BTC", "ETH", "SOL"),
            websocket=CHAOS_WS,
            stale=CHAOS_STALE,
            rest_weight_budget=600 * LIMIT_SCALE,
        )
        # As in the app: lag is measured on a clock the store clock's jumps do not move.
        self.store = Store(
            self.store_clock,
            settings.stale,
            log_cap=CHAOS_LOG_CAP,
            lag_clock=SteadyClock(time.time, time.monotonic),
        )
        self.engine = FeedEngine(
            settings,
            self.store,
            rng=random.Random(self.seed),
            timings=CHAOS_TIMINGS,
            fallback_down_grace=0.3,
        )
        await self.engine.start()

    async def _stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
        if self.sim is not None:
            await self.sim.stop()

    # -------------------------------------------------------------- conditions

    def _ws_live(self) -> bool:
        assert self.engine is not None and self.engine.ws is not None
        return self.engine.ws.live.is_set()

    def _live_data(self, frames_before: dict[str, int]) -> bool:
        """Live again (see ``engine_live``) with fresh allMids and book frames since
        ``frames_before``."""
        assert self.engine is not None and self.store is not None
        seen = self.store.health.frames_by_channel
        fresh = all(seen.get(ch, 0) > frames_before.get(ch, 0) for ch in ("allMids", "l2Book"))
        return fresh and engine_live(self.engine, self.store)

    async def _wait(self, cond: Callable[[], bool], within: float) -> float | None:
        return await seconds_until(cond, within)

    def _frames(self) -> dict[str, int]:
        assert self.store is not None
        return dict(self.store.health.frames_by_channel)

    async def _recover(self, rec: FaultRecord, frames_before: dict[str, int] | None = None) -> None:
        frames = self._frames() if frames_before is None else frames_before
        rec.recovery_s = await self._wait(lambda: self._live_data(frames), RECOVERY_DEADLINE)
        if rec.recovery_s is None:
            self.report.unrecovered += 1
            rec.note = "not recovered"

    # -------------------------------------------------------------- fills side task

    async def _fill_loop(self) -> None:
        assert self.sim is not None
        rng = random.Random(self.seed + 1)
        while True:
            await asyncio.sleep(rng.uniform(*self.fill_every))
            self._force_fill()

    def _force_fill(self) -> None:
        assert self.sim is not None
        if self.sim.force_fill() is not None:
            self.report.fills_forced += 1
            if self._outage or not self._ws_live():
                self.report.fills_forced_during_outage += 1

    # -------------------------------------------------------------- faults

    async def _play(self, fault: Fault) -> FaultRecord:
        sim, engine, store = self.sim, self.engine, self.store
        assert sim is not None and engine is not None and store is not None and engine.ws
        faults = sim.faults
        rec = FaultRecord(fault.kind)
        if fault.kind in ("drop", "drop_refuse", "rest_429", "rest_500", "rest_hang"):
            if fault.kind == "drop_refuse":
                faults.refuse_connections(fault.seconds)
            elif fault.kind == "rest_429":
                faults.info_status(429, count=fault.n)
            elif fault.kind == "rest_500":
                faults.info_status(500, count=fault.n)
            elif fault.kind == "rest_hang":
                faults.info_hang(fault.seconds)
            reconciles = engine.reconcile_count
            self._outage = True
            faults.drop_all()
            self._force_fill()  # a fill while the socket is down
            if fault.kind == "drop_refuse":
                await asyncio.sleep(fault.seconds / 2)
                self._force_fill()
                await asyncio.sleep(fault.seconds / 2)
            elif fault.kind == "rest_hang":
                await asyncio.sleep(fault.seconds)
                faults.clear()
            elif fault.kind in ("rest_429", "rest_500"):
                # The fault ends when its answers are used up (or after a few seconds).
                await self._wait(lambda: faults.info_status_code is None, 5.0)
                faults.clear()
            self._outage = False
            await self._recover(rec)
            # Reconciliation of this outage must finish too (it may retry through 429/500).
            done = await self._wait(lambda: engine.reconcile_count > reconciles, RECOVERY_DEADLINE)
            if done is None:
                rec.note = "reconciliation did not finish"
                self.report.unrecovered += 1
        elif fault.kind == "stall":
            await self._wait(lambda: store.health.frames_by_channel.get("pong", 0) > 0, 5.0)
            stats = engine.ws.stats
            dead = stats.dead_detected
            t0 = time.monotonic()
            self._outage = True
            faults.stall(fault.seconds)
            rec.detect_s = await self._wait(lambda: stats.dead_detected > dead, fault.seconds + 5.0)
            self._force_fill()
            await self._wait(lambda: not faults.stalled, fault.seconds + 1.0)
            self._outage = False
            if rec.detect_s is None or rec.detect_s > fault.seconds:
                rec.note = f"stall of {fault.seconds} s not detected while it lasted"
            _ = t0
            await self._recover(rec)
        elif fault.kind == "malformed":
            before = store.health.frames_rejected
            conns = len(sim.connections)
            faults.send_malformed(fault.n)
            self.report.malformed_sent += fault.n * conns
            await self._wait(lambda: store.health.frames_rejected >= before + fault.n * conns, 5.0)
            await self._recover(rec)
        elif fault.kind == "error":
            faults.send_error("chaos: something odd happened")
            await self._recover(rec)
        elif fault.kind == "latency":
            faults.latency(fault.n)
            await asyncio.sleep(fault.seconds)
            faults.latency(0)
            await self._recover(rec)
        elif fault.kind == "burst":
            await self._burst(rec, fault.n)
        elif fault.kind == "clock_jump":
            self.store_clock.jump(fault.seconds)
            rec.note = f"store clock {fault.seconds:+g} s"
            await self._recover(rec, frames_before=self._frames())
            if fault.seconds < 0:
                # After a step back, msg/s must still describe the last few seconds.
                await asyncio.sleep(0)
                self.report.msgs_per_s_after_back_jump = round(store.health.msgs_per_s(), 1)
        else:  # pragma: no cover - plan typo
            raise ValueError(f"unknown fault {fault.kind!r}")
        return rec

    async def _burst(self, rec: FaultRecord, n: int) -> None:
        """``n`` valid frames in one second through the server's own fan-out."""
        sim, store = self.sim, self.store
        assert sim is not None and store is not None
        await self._wait(lambda: store.bbo("BTC") is not None and store.book("BTC") is not None, 5)
        bbo, book = store.bbo("BTC"), store.book("BTC")
        bbo_frame = msgspec.json.encode({"channel": "bbo", "data": bbo}).decode()
        book_frame = msgspec.json.encode({"channel": "l2Book", "data": book}).decode()
        frames = [book_frame if i % 5 == 0 else bbo_frame for i in range(n)]
        total0 = store.health.frames_total
        conns = len(sim.connections)
        t0 = time.monotonic()
        slices = 10
        per = n // slices
        for i in range(slices):
            sim._broadcast(frames[i * per : (i + 1) * per])  # the server's own fan-out (module doc)
            await asyncio.sleep(max(0.0, t0 + (i + 1) / slices - time.monotonic()))
        got = await self._wait(lambda: store.health.frames_total - total0 >= n * conns, 15.0)
        self.report.burst_frames_received = store.health.frames_total - total0
        # From the first slice sent to the last frame applied (1 s of sending included).
        self.report.burst_ingest_s = None if got is None else round_s(time.monotonic() - t0)
        rec.note = f"{n} frames"
        await self._recover(rec, frames_before=self._frames())

    # -------------------------------------------------------------- settle + compare

    async def _settle(self) -> None:
        sim, engine, store = self.sim, self.engine, self.store
        assert sim is not None and engine is not None and store is not None
        sim.faults.clear()
        self.sim_clock.freeze()
        # Wait for the block loop to have run its last block (time no longer moves).
        await asyncio.sleep(CHAOS_PROFILE.tick_ms / 1000 * 2)
        reconciles = engine.reconcile_count
        sim.faults.drop_all()
        await self._wait(
            lambda: self._ws_live() and engine.reconcile_count > reconciles, RECOVERY_DEADLINE
        )
        truth_time = sim.truth.time

        def synced() -> bool:
            st = store.stamp("account")
            return st is not None and st.exchange_time == truth_time

        await self._wait(synced, 10.0)

    def _compare(self) -> None:
        sim, store, rep = self.sim, self.store, self.report
        assert sim is not None and store is not None
        truth = sim.truth
        truth_fills = {(f["tid"], f["oid"]): f for f in _made_fills(truth)}
        held_list = [(f.tid, f.oid) for f in store.fills()]
        held = {(f.tid, f.oid): f for f in store.fills()}
        made = set(truth_fills) - self._start_fills
        rep.fills_made = len(made)
        rep.fills_held = len(made & set(held))
        rep.fills_missing = len(set(truth_fills) - set(held))
        rep.fills_doubled = len(held_list) - len(held)
        rep.fills_extra = len(set(held) - set(truth_fills))
        fields = ("px", "sz", "time", "side", "closedPnl", "fee")
        rep.fills_mismatched = sum(
            1
            for k in set(held) & set(truth_fills)
            if tuple(getattr(held[k], f) for f in fields)
            != tuple(truth_fills[k][f] for f in fields)
        )
        summary = store.account_summary()
        rep.equity_hlmon = summary.exchange_account_value if summary is not None else None
        rep.equity_truth = truth.clearinghouse_state["marginSummary"]["accountValue"]
        rep.equity_match = rep.equity_hlmon == rep.equity_truth
        # Positions and orders of every dex (hlmon holds them all since HIP-3).
        mine = {(p.coin, p.szi, p.entry_px) for p in store.positions()}
        theirs = {
            (ap["position"]["coin"], ap["position"]["szi"], ap["position"]["entryPx"])
            for state in truth.dex_states.values()
            for ap in state["assetPositions"]
        }
        rep.positions_match = mine == theirs
        rep.position_diffs = sorted(str(x) for x in mine ^ theirs)
        rep.orders_match = {o.oid for o in store.open_orders()} == {
            o["oid"] for orders in truth.dex_open_orders.values() for o in orders
        }

    # -------------------------------------------------------------- main

    async def run(self) -> ChaosReport:
        loop = asyncio.get_running_loop()
        self.crashes.install(loop)
        t_start = time.monotonic()
        fill_task: asyncio.Task[None] | None = None
        try:
            await self._start()
            assert self.engine is not None and self.store is not None
            engine, store = self.engine, self.store
            ok = await self._wait(
                lambda: engine.reconciled.is_set() and self._live_data({}), RECOVERY_DEADLINE
            )
            if ok is None:
                raise RuntimeError("hlmon never got live data from the simulator")
            fill_task = asyncio.create_task(self._fill_loop(), name="chaos-fills")
            for i, fault in enumerate(self.plan):
                rec = await self._play(fault)
                self.report.faults.append(rec)
                self._log(
                    f"[{i + 1:3d}/{len(self.plan)}] {fault.kind:<12} "
                    f"recovery {fmt_s(rec.recovery_s)}"
                    + (f"  detect {fmt_s(rec.detect_s)}" if rec.detect_s is not None else "")
                    + (f"  {rec.note}" if rec.note else "")
                )
                await asyncio.sleep(self.rng.uniform(*self.gap))
            fill_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fill_task
            fill_task = None
            await self._settle()
            self._compare()
            self._collect(engine, store)
        finally:
            if fill_task is not None:
                fill_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fill_task
            await self._stop()
            # Let callbacks of closed transports run inside the handler's watch.
            await asyncio.sleep(0.05)
            self.crashes.uninstall()
        self.report.crashes += len(self.crashes.hlmon)
        self.report.crash_details += self.crashes.hlmon
        self.report.sim_errors = len(self.crashes.sim)
        self.report.duration_s = round(time.monotonic() - t_start, 1)
        return self.report

    @staticmethod
    def _logs(store: Store) -> list[tuple[str, str]]:
        """Every log line (level, text): the chaos store's log keeps them all."""
        return [(e.level, e.text) for e in store.health.events]

    def _collect(self, engine: FeedEngine, store: Store) -> None:
        rep = self.report
        assert engine.ws is not None
        rep.reconnects = store.health.connection.reconnects
        rep.dead_detected = engine.ws.stats.dead_detected
        rep.frames_total = store.health.frames_total
        rep.frames_rejected = store.health.frames_rejected
        rep.server_errors = store.health.server_errors
        internal = [text for level, text in self._logs(store) if text.startswith("internal error")]
        rep.crashes += len(internal)
        rep.crash_details += internal
        odd = set()
        for _level, text in self._logs(store):
            if text.startswith(("connection lost: ", "connect failed: ")):
                reason = text.split(": ", 1)[1]
                if any(bug in reason for bug in BUG_EXCEPTIONS):
                    odd.add(reason[:160])
            if text.startswith("rejected frame: could not apply"):
                odd.add(text[:160])
        rep.odd_disconnect_reasons = sorted(odd)
        rep.crashes += len(odd)
        rep.crash_details += sorted(odd)


def _made_fills(truth: Any) -> list[dict[str, Any]]:
    """Every fill the simulator made: ``userFills``' and the TWAP slices (which the exchange
    never lists on ``userFills``; hlmon shows them among the fills, marked TWAP)."""
    return [*truth.fills, *(s["fill"] for s in truth.twap_slice_fills)]
