"""Chaos run: hlmon's FeedEngine + Store against the in-process simulator while faults rain.

``make chaos`` (``python -m benchmarks.chaos``) runs the full plan; ``tests/reliability``
runs a small plan through the same code (``run_chaos(small_plan(), ...)``).

What happens:

* The simulator (wall clock, fast cadences, fault routes) and one ``FeedEngine`` watching the
  demo account run in one event loop, with a loop exception handler counting crashes.
* A fault plan, shuffled with a fixed seed, is played one fault at a time: connection drops,
  drops with refused reconnects, stalls (half-open sockets), malformed frames, ``error``
  frames, /info 429/500/hangs (with a drop so reconciliation has to go through them), latency
  spikes, a burst of 10,000 frames in one second, and the store's clock stepping forward and
  back (an NTP step). After each fault the script waits for live data again (a condition with
  a deadline) and records how long it took.
* All along, a side task forces demo fills every few hundred ms, also while the socket is
  down, on top of the simulator's own scheduled fills.
* At the end the simulator clock is frozen, faults cleared, one last drop forces a final
  reconnect + reconciliation, and hlmon's fills, positions, open orders and equity are compared
  with ``sim.truth``: every fill made must be held exactly once.

The burst: the simulator has no burst fault (its engineer is still at work on it), so the
script pushes 10,000 valid frames (replays of the current ``bbo``/``l2Book``) through the
server's own fan-out (``SimServer._broadcast``) in ten slices over one second; they travel the
real socket, ``decode`` and ``Store.apply`` like any other frame.

Time is compressed (hours of bad network in a few minutes), so the per-minute limits on new
connections and REST weight are lifted on both sides (``LIMIT_SCALE``); the limiter and budget
themselves are covered by tests/feeds.

Results: a table on stdout and ``benchmarks/results/chaos.json``. Exit status 1 if any fill is
missing or doubled, positions/equity/orders differ from the truth, anything crashed, or a
fault was never recovered from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.common import REPO, RESULTS_DIR, machine_info, print_table
from benchmarks.engine_checks import engine_live, seconds_until
from hlmon.config import Settings, StaleThresholds, WebsocketSettings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.ws_feed import FeedTimings
from hlmon.sim import STANDARD, SimLimits, SimServer
from hlmon.state import Store

CHAOS_WS = WebsocketSettings(
    ping_interval=0.3,
    pong_timeout=0.4,
    silence_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.4,
    max_new_per_minute=300,
)
"""Short heartbeat and backoff (as in tests/feeds) so a stall is caught in < 1 s."""
CHAOS_TIMINGS = FeedTimings.from_settings(CHAOS_WS, ack_timeout=1.0, stable_after=0.5)
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
BURST_FRAMES = 10_000
RECOVERY_DEADLINE = 20.0
"""A fault not recovered from within this many seconds counts as a failure."""
CHAOS_LOG_CAP = 1_000_000
"""Event log lines the chaos store keeps: all of them (the app keeps 500), since the report
looks for internal errors and odd disconnect reasons in every line."""
BUG_EXCEPTIONS = (
    "KeyError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "NameError",
    "UnboundLocalError",
    "AssertionError",
    "ZeroDivisionError",
    "RecursionError",
    "InvalidOperation",
    "OverflowError",
    "UnicodeDecodeError",
    "ValueError",
    "NotImplementedError",
    "internal error",
    "could not apply",
)
"""A disconnect or log line naming one of these means our code raised (a crash). Network
failures (dropped, refused, reset, timed out, handshake 503) name other exceptions whatever
the websocket library, so a denylist survives a change of client."""


# ------------------------------------------------------------------ plan


@dataclass(frozen=True)
class Fault:
    """One fault of the plan."""

    kind: str
    seconds: float = 0.0
    n: int = 0


def full_plan(seed: int) -> list[Fault]:
    """The ``make chaos`` plan: 50+ drop cycles and every other fault several times."""
    rng = random.Random(seed)
    plan: list[Fault] = []
    plan += [Fault("drop") for _ in range(36)]
    plan += [Fault("drop_refuse", seconds=round(rng.uniform(1.0, 3.0), 2)) for _ in range(14)]
    plan += [Fault("stall", seconds=round(rng.uniform(1.0, 2.5), 2)) for _ in range(8)]
    plan += [Fault("malformed", n=6) for _ in range(5)]
    plan += [Fault("error") for _ in range(5)]
    plan += [Fault("rest_429", n=6) for _ in range(3)]
    plan += [Fault("rest_500", n=6) for _ in range(3)]
    plan += [Fault("rest_hang", seconds=2.0) for _ in range(2)]
    plan += [Fault("latency", seconds=2.0, n=250) for _ in range(4)]
    plan += [Fault("burst", n=BURST_FRAMES)]
    plan += [Fault("clock_jump", seconds=120.0), Fault("clock_jump", seconds=-180.0)]
    rng.shuffle(plan)
    return plan


def small_plan(seed: int) -> list[Fault]:
    """The ``make test`` plan: every fault kind once (drops a few times), ~15-20 s."""
    rng = random.Random(seed)
    plan = [
        Fault("drop"),
        Fault("drop"),
        Fault("drop"),
        Fault("drop_refuse", seconds=1.0),
        Fault("stall", seconds=1.0),
        Fault("stall", seconds=1.5),
        Fault("malformed", n=6),
        Fault("error"),
        Fault("rest_429", n=4),
        Fault("rest_500", n=4),
        Fault("rest_hang", seconds=1.0),
        Fault("latency", seconds=1.0, n=200),
        Fault("burst", n=BURST_FRAMES),
        Fault("clock_jump", seconds=90.0),
        Fault("clock_jump", seconds=-120.0),
    ]
    rng.shuffle(plan)
    return plan


# ------------------------------------------------------------------ harness pieces


class JumpClock:
    """The store's clock: wall time plus an offset the script steps (an NTP step)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def jump(self, seconds: float) -> None:
        self.offset += seconds


class FreezableSimClock:
    """The simulator's clock (ms): wall time until ``freeze``; then it stands still, so the
    market, the account and the truth stop moving for the final comparison."""

    def __init__(self) -> None:
        self.frozen: int | None = None

    def __call__(self) -> int:
        return self.frozen if self.frozen is not None else int(time.time() * 1000)

    def freeze(self) -> None:
        self.frozen = self()


class CrashCounter:
    """A loop exception handler: every unhandled exception in a task or callback is counted.

    Errors whose traceback is entirely inside the simulator or aiohttp's server are counted
    apart (``sim_errors``): they are the test rig's, not hlmon's.
    """

    def __init__(self) -> None:
        self.hlmon: list[str] = []
        self.sim: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def uninstall(self) -> None:
        if self._loop is not None:
            self._loop.set_exception_handler(self._previous)

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", ""))
        text = f"{message}: {exc!r}" if exc is not None else message
        if exc is not None:
            files = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
            text += " @ " + " <- ".join(Path(f).name for f in files[-3:])
            ours = any(
                f"hlmon{os.sep}{part}" in f
                for f in files
                for part in ("feeds", "state", "protocol", "config", "ui", "snapshot")
            )
            if files and not ours:
                self.sim.append(text)
                return
        self.hlmon.append(text)


@dataclass
class FaultRecord:
    """What one fault cost."""

    kind: str
    recovery_s: float | None = None
    """Fault end -> live data again (None: not recovered within the deadline)."""
    detect_s: float | None = None
    """Stalls: stall start -> socket declared dead."""
    note: str = ""


@dataclass
class ChaosReport:
    """Everything the run measured (``as_dict`` is the JSON written)."""

    seed: int
    plan: str
    duration_s: float = 0.0
    faults: list[FaultRecord] = field(default_factory=list)
    fills_made: int = 0
    fills_held: int = 0
    fills_missing: int = 0
    fills_doubled: int = 0
    fills_extra: int = 0
    fills_mismatched: int = 0
    fills_forced: int = 0
    fills_forced_during_outage: int = 0
    reconnects: int = 0
    dead_detected: int = 0
    frames_total: int = 0
    frames_rejected: int = 0
    malformed_sent: int = 0
    server_errors: int = 0
    crashes: int = 0
    crash_details: list[str] = field(default_factory=list)
    sim_errors: int = 0
    odd_disconnect_reasons: list[str] = field(default_factory=list)
    burst_frames_received: int = 0
    burst_ingest_s: float | None = None
    equity_hlmon: str | None = None
    equity_truth: str | None = None
    equity_match: bool = False
    positions_match: bool = False
    orders_match: bool = False
    position_diffs: list[str] = field(default_factory=list)
    unrecovered: int = 0
    msgs_per_s_after_back_jump: float | None = None
    tui: dict[str, Any] = field(default_factory=dict)

    @property
    def worst_recovery_s(self) -> float | None:
        vals = [f.recovery_s for f in self.faults if f.recovery_s is not None]
        return max(vals) if vals else None

    @property
    def worst_stall_detect_s(self) -> float | None:
        vals = [f.detect_s for f in self.faults if f.detect_s is not None]
        return max(vals) if vals else None

    def by_kind(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for rec in self.faults:
            row = out.setdefault(rec.kind, {"count": 0, "worst_recovery_s": None})
            row["count"] += 1
            if rec.recovery_s is not None:
                worst = max(row["worst_recovery_s"] or 0, rec.recovery_s)
                row["worst_recovery_s"] = round(worst, 3)
            if rec.detect_s is not None:
                row["worst_detect_s"] = round(max(row.get("worst_detect_s", 0), rec.detect_s), 3)
        return out

    @property
    def failures(self) -> list[str]:
        """Why the run failed (empty: passed)."""
        why = []
        if self.fills_missing:
            why.append(f"{self.fills_missing} fill(s) missing")
        if self.fills_doubled:
            why.append(f"{self.fills_doubled} fill(s) doubled")
        if self.fills_extra:
            why.append(f"{self.fills_extra} fill(s) hlmon holds that the simulator never made")
        if self.fills_mismatched:
            why.append(f"{self.fills_mismatched} fill(s) differ from the truth")
        if not self.equity_match:
            why.append(f"equity {self.equity_hlmon} != truth {self.equity_truth}")
        if not self.positions_match:
            why.append(f"positions differ: {self.position_diffs}")
        if not self.orders_match:
            why.append("open orders differ")
        if self.crashes:
            why.append(f"{self.crashes} crash(es): {self.crash_details[:3]}")
        if self.unrecovered:
            why.append(f"{self.unrecovered} fault(s) never recovered from")
        if self.tui.get("failed"):
            why.append(f"TUI scenario: {self.tui['failed']}")
        return why

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["faults"] = self.by_kind()
        d["fault_sequence"] = [f.kind for f in self.faults]
        d["faults_injected"] = len(self.faults)
        d["worst_recovery_s"] = _r(self.worst_recovery_s)
        d["worst_stall_detect_s"] = _r(self.worst_stall_detect_s)
        d["passed"] = not self.failures
        d["failures"] = self.failures
        return d


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


# ------------------------------------------------------------------ the run


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
        self._start_fills = {(f["tid"], f["oid"]) for f in self.sim.truth.fills}
        settings = Settings(
            network="custom",
            api_url=self.sim.url,
            address=self.sim.demo_address,
            watchlist=("BTC", "ETH", "SOL"),
            websocket=CHAOS_WS,
            stale=CHAOS_STALE,
            rest_weight_budget=600 * LIMIT_SCALE,
        )
        self.store = Store(self.store_clock, settings.stale, log_cap=CHAOS_LOG_CAP)
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
            dead = engine.ws.stats.dead_detected
            t0 = time.monotonic()
            self._outage = True
            faults.stall(fault.seconds)
            rec.detect_s = await self._wait(
                lambda: engine.ws.stats.dead_detected > dead, fault.seconds + 5.0
            )
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
        self.report.burst_ingest_s = None if got is None else _r(time.monotonic() - t0)
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
        truth_fills = {(f["tid"], f["oid"]): f for f in truth.fills}
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
        rep.equity_hlmon = summary.account_value if summary is not None else None
        rep.equity_truth = truth.clearinghouse_state["marginSummary"]["accountValue"]
        rep.equity_match = rep.equity_hlmon == rep.equity_truth
        mine = {(p.coin, p.szi, p.entry_px) for p in store.positions()}
        theirs = {
            (ap["position"]["coin"], ap["position"]["szi"], ap["position"]["entryPx"])
            for ap in truth.clearinghouse_state["assetPositions"]
        }
        rep.positions_match = mine == theirs
        rep.position_diffs = sorted(str(x) for x in mine ^ theirs)
        rep.orders_match = {o.oid for o in store.open_orders()} == {
            o["oid"] for o in truth.open_orders
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
                    f"recovery {_fmt_s(rec.recovery_s)}"
                    + (f"  detect {_fmt_s(rec.detect_s)}" if rec.detect_s is not None else "")
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

    def _collect(self, engine: FeedEngine, store: Store) -> None:
        rep = self.report
        assert engine.ws is not None
        rep.reconnects = store.health.connection.reconnects
        rep.dead_detected = engine.ws.stats.dead_detected
        rep.frames_total = store.health.frames_total
        rep.frames_rejected = store.health.frames_rejected
        rep.server_errors = store.health.server_errors
        logs = store.health.events
        internal = [e.text for e in logs if e.text.startswith("internal error")]
        rep.crashes += len(internal)
        rep.crash_details += internal
        odd = set()
        for text in (e.text for e in logs):
            if text.startswith(("connection lost: ", "connect failed: ")):
                reason = text.split(": ", 1)[1]
                if any(bug in reason for bug in BUG_EXCEPTIONS):
                    odd.add(reason[:160])
            if text.startswith("rejected frame: could not apply"):
                odd.add(text[:160])
        rep.odd_disconnect_reasons = sorted(odd)
        rep.crashes += len(odd)
        rep.crash_details += sorted(odd)


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _fmt_s(v: float | None) -> str:
    return "  never" if v is None else f"{v:6.2f}s"


# ------------------------------------------------------------------ TUI in tmux


class _Tmux:
    """One program in a detached tmux session on a private server (``-L``): never touches
    anyone else's tmux sessions; ``close`` kills only that private server."""

    def __init__(self, name: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"hlchaos-{os.getpid()}"
        self.session = name
        self.width, self.height = width, height
        self.status_file = Path("/nonexistent")

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, command: str, status_file: Path) -> None:
        """Run ``command``; its exit status is written to ``status_file`` when it ends."""
        self.status_file = status_file
        out = self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(self.width),
            "-y", str(self.height), f"cd {REPO} && {command}; echo $? > {status_file}",
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"tmux: {out.stderr.strip()}")
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def dead_status(self) -> int | None:
        """The program's exit status once it exited, else None."""
        try:
            text = self.status_file.read_text(encoding="ascii").strip()
        except OSError:
            return None
        return int(text) if text else None

    def close(self) -> None:
        self._tmux("kill-server")


def _pump(stream: Any, out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)


def _post(url: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
        resp.read()


def _wait_sync(cond: Callable[[], bool], within: float) -> float | None:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > within:
            return None
        time.sleep(0.1)
    return time.monotonic() - start


TUI_CONFIG = """\
# Asset contexts push every second: with a 2 s threshold the watchlist turns STALE quickly
# while the websocket is refused (REST cannot serve them). Other feeds keep their defaults.
[stale]
ctx = 2.0

[websocket]
ping_interval = 1.0
pong_timeout = 1.0
silence_timeout = 3.0
backoff_initial = 0.2
backoff_max = 1.0
"""


def tui_scenario() -> dict[str, Any]:
    """The real TUI in tmux against a standalone ``hlmon sim --faults``: RECONNECTING/STALE
    while the connection is refused, LIVE again after, and a clean exit on ``q``."""
    try:
        if importlib.util.find_spec("hlmon.ui.app") is None:
            return {"skipped": "the TUI (hlmon.ui.app) is not importable yet"}
        from hlmon.ui.app import build_app  # noqa: F401
    except Exception as exc:  # a half-built UI must not stop the rest of the chaos run
        return {"skipped": f"the TUI is not importable yet: {exc!r}"}
    if shutil.which("tmux") is None:
        return {"skipped": "tmux is not installed"}
    hlmon_bin = str(Path(sys.executable).parent / "hlmon")
    result: dict[str, Any] = {}
    sim = subprocess.Popen(
        [hlmon_bin, "sim", "--faults", "--port", "0", "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    tmux = _Tmux("chaos-tui")
    tmpdir = tempfile.mkdtemp(prefix="hlmon-chaos-")
    try:
        url = address = None
        lines: queue.Queue[str] = queue.Queue()
        # A thread reads the pipe: select() on a buffered text pipe misses lines already read.
        threading.Thread(target=_pump, args=(sim.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + 15
        while (url is None or address is None) and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line.startswith("listening on "):
                url = line.split()[-1].strip()
            elif line.startswith("demo address "):
                address = line.split()[-1].strip()
        if url is None or address is None:
            return {"failed": "the standalone simulator did not start"}
        cfg = Path(tmpdir) / "config.toml"
        cfg.write_text(TUI_CONFIG, encoding="utf-8")
        tmux.start(
            f"{hlmon_bin} --config {cfg} --api-url {url} --address {address}",
            Path(tmpdir) / "exit-status",
        )

        def screen_has(*needles: str) -> Callable[[], bool]:
            return lambda: any(n in tmux.capture() for n in needles)

        def healthy() -> bool:
            screen = tmux.capture()
            return "● LIVE" in screen and "RECONN" not in screen and "STALE" not in screen

        if _wait_sync(healthy, 20) is None:
            result["failed"] = "never LIVE (without STALE) at start"
            result["screen"] = tmux.capture()
            return result
        _post(f"{url}/_sim/refuse_connections", {"seconds": 5})
        _post(f"{url}/_sim/drop_all", {})
        t0 = time.monotonic()
        seen_reconn = _wait_sync(screen_has("RECONNECTING", "RECONN"), 5)
        seen_stale = _wait_sync(screen_has("STALE"), 6)
        result["reconnecting_shown_after_s"] = _r(seen_reconn)
        result["stale_shown_after_s"] = _r(None if seen_stale is None else time.monotonic() - t0)
        live = _wait_sync(healthy, 20)
        result["live_again_after_s"] = _r(None if live is None else time.monotonic() - t0)
        tmux.keys("q")
        _wait_sync(lambda: tmux.dead_status() is not None, 10)
        result["exit_status"] = tmux.dead_status()
        screen = tmux.capture()
        result["traceback_on_screen"] = "Traceback" in screen
        problems = []
        if seen_reconn is None:
            problems.append("RECONNECTING never shown")
        if seen_stale is None:
            problems.append("STALE never shown")
        if live is None:
            problems.append("never LIVE again")
        if result["exit_status"] != 0:
            problems.append(f"exit status {result['exit_status']}")
        if result["traceback_on_screen"]:
            problems.append("traceback on screen")
        if problems:
            result["failed"] = "; ".join(problems)
            result["screen"] = screen
        return result
    finally:
        tmux.close()
        sim.terminate()
        try:
            sim.wait(5)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait(5)
        shutil.rmtree(tmpdir, ignore_errors=True)


# ------------------------------------------------------------------ CLI


def print_report(rep: ChaosReport) -> None:
    kinds = ", ".join(f"{k} {v['count']}" for k, v in rep.by_kind().items())
    made = (
        f"by the simulator during the run ({rep.fills_forced} forced, "
        f"{rep.fills_forced_during_outage} of them while the socket was down)"
    )
    burst = (
        f"frames received ({BURST_FRAMES} sent in 1 s); all applied "
        f"{_fmt_s(rep.burst_ingest_s).strip()} after the first"
    )
    rows: list[tuple[str, Any, str]] = [
        ("faults injected", len(rep.faults), kinds),
        ("duration_s", rep.duration_s, "wall time of the engine run"),
        ("fills_made", rep.fills_made, made),
        ("fills_held", rep.fills_held, "of those, held by hlmon at the end"),
        ("fills_missing", rep.fills_missing, "in sim.truth, not in hlmon (must be 0)"),
        ("fills_doubled", rep.fills_doubled, "held twice (must be 0)"),
        ("fills_extra", rep.fills_extra, "held by hlmon, never made (must be 0)"),
        ("fills_mismatched", rep.fills_mismatched, "px/sz/time/side/pnl/fee differ (must be 0)"),
        ("equity match", _yes(rep.equity_match), f"{rep.equity_hlmon} vs {rep.equity_truth}"),
        ("positions match", _yes(rep.positions_match), "coin, szi, entryPx vs truth"),
        ("open orders match", _yes(rep.orders_match), "oids vs truth"),
        ("reconnects", rep.reconnects, f"survived; {rep.dead_detected} by the heartbeat"),
        ("worst_recovery_s", rep.worst_recovery_s, "fault end -> live + fresh periodic feeds"),
        ("worst_stall_detect_s", rep.worst_stall_detect_s, "stall start -> declared dead"),
        ("frames_rejected", rep.frames_rejected, f"of {rep.malformed_sent} malformed sent"),
        ("server error frames", rep.server_errors, "logged, connection kept"),
        ("burst", rep.burst_frames_received, burst),
        ("msg/s after clock -", rep.msgs_per_s_after_back_jump, "store clock stepped back"),
        ("crashes", rep.crashes, "unhandled exceptions in hlmon (must be 0)"),
        ("sim errors", rep.sim_errors, "unhandled exceptions in the simulator (rig)"),
        ("unrecovered faults", rep.unrecovered, f"not live within {RECOVERY_DEADLINE:g} s"),
    ]
    if rep.tui:
        if "skipped" in rep.tui:
            rows.append(("TUI in tmux", "skipped", rep.tui["skipped"]))
        else:
            rows.append((
                "TUI in tmux", "FAIL" if rep.tui.get("failed") else "ok",
                f"RECONNECTING after {rep.tui.get('reconnecting_shown_after_s')} s, "
                f"STALE after {rep.tui.get('stale_shown_after_s')} s, LIVE again "
                f"after {rep.tui.get('live_again_after_s')} s, exit {rep.tui.get('exit_status')}",
            ))  # fmt: skip
    print_table(f"hlmon chaos run (seed {rep.seed}, plan {rep.plan})", rows)
    print("\nper fault kind (worst recovery s):")
    for kind, row in rep.by_kind().items():
        extra = f", worst detect {row['worst_detect_s']} s" if "worst_detect_s" in row else ""
        print(f"  {kind:<12} x{row['count']:<3} worst recovery {row['worst_recovery_s']} s{extra}")
    fails = rep.failures
    print("\nRESULT: " + ("PASS" if not fails else "FAIL: " + "; ".join(fails)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "7")))
    parser.add_argument("--small", action="store_true", help="the small plan (as in make test)")
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI-in-tmux scenario")
    parser.add_argument("--quiet", action="store_true", help="no per-fault lines")
    args = parser.parse_args(argv)
    plan = small_plan(args.seed) if args.small else full_plan(args.seed)
    run = ChaosRun(
        plan,
        seed=args.seed,
        plan_name="small" if args.small else "full",
        log=None if args.quiet else lambda text: print(text, flush=True),
    )
    print(f"chaos: {len(plan)} faults, seed {args.seed}", flush=True)
    report = asyncio.run(run.run())
    if not args.no_tui:
        print("chaos: TUI scenario in tmux ...", flush=True)
        report.tui = tui_scenario()
    print_report(report)
    doc = {"machine": machine_info(), **report.as_dict()}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "chaos.json"
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {out.relative_to(REPO)}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
