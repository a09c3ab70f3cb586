"""Soak: hlmon's FeedEngine + Store for a long time against the ``stress`` simulator, with a
fault every so often, watching for anything that grows.

``make soak`` runs 30 minutes (``SOAK_MINUTES`` shortens it; ``SOAK_SAMPLE_S`` sets the
sampling period, default 10 s; ``SOAK_FAULT_S`` the fault period, default 60 s). The simulator
runs in its own process (``hlmon sim --profile stress --faults``) so this process's memory is
hlmon's alone; faults go over ``POST /_sim/...``: drops, drops with refused reconnects, stalls,
malformed and error frames, /info 429s, in turn.

Every sample: RSS (``/proc/self/statm``), the Python heap traced by ``tracemalloc``, asyncio
task count, the websocket outbox and pending acks, and the store's rings (fills, trades,
fundings, log, stamps). ``tracemalloc`` snapshots at the end of the
warm-up and at the end give the allocation sites that grew most in between (``top_growth``
in the JSON and the table), which is where to look when a slope is not flat
(``SOAK_TRACEMALLOC=0`` turns tracing off).

Every sample also takes the fill and the deep bytes of every capped structure
(``benchmarks/soak_rings.py``: fills, fundings, ledger, log, tapes, histories, dedupe
memories). A ring still filling toward its cap is growth with a known ceiling: the table shows
each one's held/cap, fill rate and projected plateau, and the heap slope *net* of their bytes
(and of the soak's own samples) is the figure with no known bound. The raw slopes are reported
beside it. Each sample first runs a full ``gc.collect()`` (``SOAK_GC=0`` turns it off), so the
heap is live memory, not live memory plus however much cyclic garbage waits for the next
generation-2 collection (a sawtooth minutes long that biases a slope). ``SOAK_OUT`` writes
the JSON elsewhere than ``benchmarks/results/soak.json``.

The product's runtime and daemon trim the C heap once a minute (``hlmon.c_heap``); the soak
runs the same trimmer beside the engine, times each call (``heap_trim_ms_mean_max``) and reads
``/proc/self/smaps_rollup`` at the end of the warm-up and at the end, so RSS growth can be told
apart as anonymous memory (heap, arenas) or file-backed (``SOAK_TRIM=0``: no trimmer).

Pass criteria (measured after a warm-up of the first quarter of the run; the 2,000-fill ring
takes ~53 minutes to fill at the stress profile's rate, so it may still be filling):

* traced-heap slope net of the capped structures <= ``HEAP_NET_SLOPE_MAX_MB_PER_MIN``
  (0.01 MB/min, issue #16's target);
* no capped structure above its cap;
* RSS slope <= ``RSS_SLOPE_MAX_MB_PER_MIN`` (0.5 MB/min: 15 MB over 30 minutes would fail) and
  RSS at the end <= warm RSS + ``RSS_GROWTH_MAX_MB`` (20 MB);
* task count: never more than the warm-up maximum + 3 (fallback polls and reconciliations
  come and go), and the median of the last third of the samples at most the first third's + 1;
* every queue/ring at or under its bound at every sample, and none growing after warm-up;
* still live at the end: socket live and every periodic feed fresh within 15 s of the last
  fault being cleared, and every fill the simulator made since the oldest fill hlmon holds is
  held (by (tid, oid)).

Writes ``benchmarks/results/soak.json``; exits 1 on failure.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO,
    RESULTS_DIR,
    die_with_parent,
    growth_sites,
    heap_snapshot,
    machine_info,
    print_table,
    slope_per_minute,
    smaps_rollup_mb,
)
from benchmarks.engine_checks import engine_live, seconds_until
from benchmarks.soak_rings import RingFill, capped_mb, deep_bytes, plateau_rows, ring_fills
from hlmon.c_heap import HeapTrimmer, glibc_malloc_trim
from hlmon.config import Settings, WebsocketSettings
from hlmon.feeds.engine import FeedEngine
from hlmon.state import Store

RSS_SLOPE_MAX_MB_PER_MIN = 0.5
RSS_GROWTH_MAX_MB = 20.0
HEAP_NET_SLOPE_MAX_MB_PER_MIN = 0.01
"""Issue #16's target, on the traced heap net of the capped structures' bytes: what grows
besides rings filling toward their caps (those are reported with their projected plateau)."""
TASK_HEADROOM = 3
OUTBOX_MAX = 50
"""Frames waiting to be sent on the websocket (subscribes after a reconnect, pings)."""
SOAK_WS = WebsocketSettings(
    ping_interval=5.0,
    pong_timeout=3.0,
    silence_timeout=10.0,
    backoff_initial=0.2,
    backoff_max=5.0,
    max_new_per_minute=30,
)
"""Shorter than the defaults (so a stall is caught in seconds), exchange limits kept."""
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("drop_all", {}),
    ("refuse_connections+drop_all", {"seconds": 5}),
    ("stall", {"seconds": 12}),
    ("send_malformed", {"n": 6}),
    ("send_error", {"text": "soak: something odd"}),
    ("info_status+drop_all", {"status": 429, "count": 4}),
]


def rss_self_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


SMALL_RINGS = {"fills_cap": 100, "log_cap": 50, "candles_cap": 50, "fundings_cap": 100}
"""``SOAK_SMALL_RINGS=1``: caps the stress run fills within the warm-up, so the slope after it
is the process with every ring full (what a run of weeks looks like) instead of rings filling
for an hour; a diagnostic, not the product's caps."""
TRACE_FRAMES = 4
"""Frames kept per traced allocation (enough to tell which caller's list grows)."""
TOP_GROWTH = 10


@dataclass(slots=True)
class Sample:
    t: float
    rss_mb: float
    heap_mb: float
    """Traced heap; with ``collect`` (the default), after a full collection: live memory."""
    tasks: int
    outbox: int
    pending_acks: int
    fills: int
    trades: int
    fundings: int
    log: int
    stamps: int
    frames_total: int
    msgs_per_s: float
    reconnects: int
    state: str
    capped_mb: float = 0.0
    """Deep bytes of every capped structure (``soak_rings``), for the net slope."""
    garbage_mb: float = 0.0
    """What the full collection before this sample freed (cyclic garbage a gen-2 collection
    would have freed later): without it, the heap is a sawtooth whose phase biases a slope."""
    anon_mb: float = 0.0
    """Anonymous resident memory (``smaps_rollup``): heap and arenas, not code pages."""
    harness_mb: float = 0.0
    """Deep bytes of the soak's own record (its samples and faults so far): growth of the
    harness, not of hlmon, so it is taken out of the net slope too."""


@dataclass
class SoakReport:
    minutes: float
    samples: list[Sample] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    fills_made_recent: int = 0
    fills_missing_recent: int = 0
    live_at_end: bool = False
    live_after_s: float | None = None
    crashes: list[str] = field(default_factory=list)
    top_growth: list[dict[str, Any]] = field(default_factory=list)
    trim_ms: list[float] = field(default_factory=list)
    """How long each of the heap trimmer's ``malloc_trim`` calls took."""
    smaps_warm: dict[str, float] = field(default_factory=dict)
    smaps_end: dict[str, float] = field(default_factory=dict)
    rings_warm: list[RingFill] = field(default_factory=list)
    rings_end: list[RingFill] = field(default_factory=list)
    rings: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _post(url: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
        resp.read()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:  # loopback only
        return json.loads(resp.read())


def _pump(stream: Any, out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)


def start_sim() -> tuple[subprocess.Popen[str], str, str]:
    """``hlmon sim --profile stress --faults`` on a free loopback port: (process, url, demo)."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "hlmon"), "sim", "--profile", "stress", "--faults",
         "--port", "0", "--seed", "11"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        preexec_fn=die_with_parent,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    url = address = None
    deadline = time.monotonic() + 20
    while (url is None or address is None) and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith("listening on "):
            url = line.split()[-1]
        elif line.startswith("demo address "):
            address = line.split()[-1]
    if url is None or address is None:
        proc.kill()
        raise RuntimeError("the simulator did not start")
    return proc, url, address


def _store(settings: Settings, small_rings: bool) -> Store:
    if not small_rings:
        return Store(time.time, settings.stale)
    small = SMALL_RINGS
    return Store(
        time.time,
        settings.stale,
        fills_cap=small["fills_cap"],
        log_cap=small["log_cap"],
        candles_cap=small["candles_cap"],
        fundings_cap=small["fundings_cap"],
    )


class Soak:
    def __init__(
        self,
        minutes: float,
        sample_s: float,
        fault_s: float,
        collect: bool,
        trim: bool = True,
        small_rings: bool = False,
    ) -> None:
        self.minutes = minutes
        self.trim = trim
        self.small_rings = small_rings
        self.sample_s = sample_s
        self.fault_s = fault_s
        self.report = SoakReport(minutes=minutes)
        self.rng = random.Random(11)
        self.last_rings: list[RingFill] = []
        self.collect = collect

    def _sample(self, engine: FeedEngine, store: Store, t0: float) -> Sample:
        ws = engine.ws
        assert ws is not None
        outbox = ws._outbox.qsize() if ws._outbox is not None else 0
        coins = set(store.mids) if len(store.mids) < 2000 else set()
        t = round(time.monotonic() - t0, 1)
        garbage = 0.0
        if self.collect:
            before = tracemalloc.get_traced_memory()[0]
            gc.collect()
            garbage = (before - tracemalloc.get_traced_memory()[0]) / 1e6
        rss_mb = round(rss_self_mb(), 2)
        anon_mb = smaps_rollup_mb(os.getpid()).get("Anonymous", 0.0)
        heap_mb = round(tracemalloc.get_traced_memory()[0] / 1e6, 3)
        self.last_rings = ring_fills(store)  # after the heap is read: it allocates while counting
        return Sample(
            t=t,
            rss_mb=rss_mb,
            anon_mb=anon_mb,
            heap_mb=heap_mb,
            capped_mb=round(capped_mb(self.last_rings), 3),
            garbage_mb=round(garbage, 3),
            harness_mb=round(deep_bytes([self.report.samples, self.report.faults]) / 1e6, 3),
            tasks=len(asyncio.all_tasks()),
            outbox=outbox,
            pending_acks=len(ws.pending_acks),
            fills=len(store.fills()),
            trades=sum(len(store.trades(c)) for c in coins),
            fundings=len(store.fundings()),
            log=len(store.health.events),
            stamps=len(store._stamps),
            frames_total=store.health.frames_total,
            msgs_per_s=round(store.health.msgs_per_s(), 1),
            reconnects=store.health.connection.reconnects,
            state=store.health.connection.state.value,
        )

    def _fault(self, url: str, i: int) -> None:
        name, args = FAULTS[i % len(FAULTS)]
        self.report.faults.append(name)
        if name == "refuse_connections+drop_all":
            _post(f"{url}/_sim/refuse_connections", args)
            _post(f"{url}/_sim/drop_all", {})
        elif name == "info_status+drop_all":
            _post(f"{url}/_sim/info_status", args)
            _post(f"{url}/_sim/drop_all", {})
        else:
            _post(f"{url}/_sim/{name}", args)

    def _timed_trim(self) -> Any:
        """glibc's ``malloc_trim``, timed into the report (None off glibc)."""
        trim = glibc_malloc_trim()
        if trim is None:
            return None

        def timed() -> None:
            t = time.perf_counter()
            trim()
            self.report.trim_ms.append(round((time.perf_counter() - t) * 1e3, 3))

        return timed

    def _live(self, engine: FeedEngine, store: Store) -> bool:
        return engine_live(engine, store)

    async def _wait(self, cond: Callable[[], bool], within: float) -> float | None:
        return await seconds_until(cond, within, interval=0.05)

    async def run(self) -> SoakReport:
        proc, url, address = start_sim()
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(
            lambda _loop, ctx: self.report.crashes.append(
                f"{ctx.get('message')}: {ctx.get('exception')!r}"
            )
        )
        settings = Settings(
            network="custom",
            api_url=url,
            address=address,
            watchlist=("BTC", "ETH", "SOL", "HYPE"),
            websocket=SOAK_WS,
        )
        store = _store(settings, self.small_rings)
        engine = FeedEngine(
            settings,
            store,
            rng=random.Random(11),
            timings=replace(SOAK_WS, stable_after=2.0),
        )
        # The product's runtime and daemon run this trimmer beside the engine (hlmon.c_heap):
        # the soak measures that process, so it runs it too (SOAK_TRIM=0: without).
        trimmer = None
        if self.trim and (timed := self._timed_trim()) is not None:
            trimmer = asyncio.create_task(HeapTrimmer(timed).run(), name="heap-trim")
        try:
            await engine.start()
            if await self._wait(lambda: self._live(engine, store), 30) is None:
                raise RuntimeError("never live at start")
            t0 = time.monotonic()
            end = t0 + self.minutes * 60
            warm_at = t0 + self.minutes * 60 / 4
            warm: tracemalloc.Snapshot | None = None
            warmed = False  # not ``warm is None``: without tracemalloc the snapshot is None
            next_sample = t0
            next_fault = t0 + self.fault_s / 2
            n_fault = 0
            while True:
                now = time.monotonic()
                if not warmed and now >= warm_at:
                    warmed = True
                    warm = heap_snapshot()
                    self.report.rings_warm = ring_fills(store)
                    self.report.smaps_warm = smaps_rollup_mb(os.getpid())
                if now >= next_sample:
                    sample = self._sample(engine, store, t0)
                    self.report.samples.append(sample)
                    print(
                        f"  t={sample.t:7.1f}s rss={sample.rss_mb:7.2f} MB"
                        f" heap={sample.heap_mb:6.3f}"
                        f" net={sample.heap_mb - sample.capped_mb - sample.harness_mb:6.3f}"
                        f" tasks={sample.tasks:3d}"
                        f" outbox={sample.outbox} fills={sample.fills} trades={sample.trades}"
                        f" log={sample.log} msg/s={sample.msgs_per_s:.0f} {sample.state}"
                        f" reconn={sample.reconnects}",
                        flush=True,
                    )
                    next_sample += self.sample_s
                if now >= end:
                    break
                # The last fault comes at least 30 s before the end (so "live at the end"
                # measures recovery, not a fault still in progress).
                if now >= next_fault and now < end - 30:
                    await asyncio.to_thread(self._fault, url, n_fault)
                    n_fault += 1
                    next_fault += self.fault_s
                wake = min(next_sample, end, max(next_fault, time.monotonic() + 0.05))
                await asyncio.sleep(max(0.0, wake - time.monotonic()) + 0.001)
            self.report.top_growth = growth_sites(warm, heap_snapshot(), TOP_GROWTH)
            self.report.smaps_end = smaps_rollup_mb(os.getpid())
            self.report.rings_end = self.last_rings
            _post(f"{url}/_sim/clear", {})
            live_after = await self._wait(lambda: self._live(engine, store), 15)
            self.report.live_after_s = None if live_after is None else round(live_after, 2)
            self.report.live_at_end = self.report.live_after_s is not None
            truth = await asyncio.to_thread(_get, f"{url}/_sim/truth")
            held = {(f.tid, f.oid) for f in store.fills()}
            oldest = min((f.time for f in store.fills()), default=0)
            recent = {(f["tid"], f["oid"]) for f in truth["fills"] if f["time"] >= oldest}
            self.report.fills_made_recent = len(recent)
            self.report.fills_missing_recent = len(recent - held)
        finally:
            if trimmer is not None:
                trimmer.cancel()
            await engine.stop()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._judge()
        return self.report

    def _judge(self) -> None:
        rep = self.report
        samples = rep.samples
        fails = rep.failures
        warm = [s for s in samples if s.t >= self.minutes * 60 / 4]
        if len(warm) < 3:
            fails.append(f"too few samples after warm-up ({len(warm)})")
            return
        rss_slope = slope_per_minute([(s.t, s.rss_mb) for s in warm])
        heap_slope = slope_per_minute([(s.t, s.heap_mb) for s in warm])
        anon_slope = slope_per_minute([(s.t, s.anon_mb) for s in warm])
        task_slope = slope_per_minute([(s.t, s.tasks) for s in warm])
        rss_growth = warm[-1].rss_mb - warm[0].rss_mb
        heap_net = slope_per_minute([(s.t, s.heap_mb - s.capped_mb - s.harness_mb) for s in warm])
        rss_net = slope_per_minute([(s.t, s.rss_mb - s.capped_mb - s.harness_mb) for s in warm])
        harness_slope = slope_per_minute([(s.t, s.harness_mb) for s in warm])
        capped_slope = slope_per_minute([(s.t, s.capped_mb) for s in warm])
        after_warm_min = (warm[-1].t - warm[0].t) / 60
        rep.rings = plateau_rows(rep.rings_warm or rep.rings_end, rep.rings_end, after_warm_min)
        checks: dict[str, Any] = {
            "rss_start_mb": samples[0].rss_mb,
            "rss_warm_mb": warm[0].rss_mb,
            "rss_end_mb": samples[-1].rss_mb,
            "rss_slope_mb_per_min": None if rss_slope is None else round(rss_slope, 3),
            "rss_growth_after_warmup_mb": round(rss_growth, 2),
            "anon_slope_mb_per_min": None if anon_slope is None else round(anon_slope, 4),
            "heap_slope_mb_per_min": None if heap_slope is None else round(heap_slope, 4),
            "heap_end_mb": samples[-1].heap_mb,
            "heap_net_slope_mb_per_min": None if heap_net is None else round(heap_net, 4),
            "rss_net_slope_mb_per_min": None if rss_net is None else round(rss_net, 4),
            "capped_slope_mb_per_min": None if capped_slope is None else round(capped_slope, 4),
            "capped_end_mb": samples[-1].capped_mb,
            "garbage_mb_max": max(s.garbage_mb for s in samples),
            "harness_slope_mb_per_min": None if harness_slope is None else round(harness_slope, 4),
            "capped_plateau_mb": round(sum(r["plateau_mb"] or 0.0 for r in rep.rings), 3),
            "rings_filling": [r["name"] for r in rep.rings if not r["full"] and r["held"]],
            "tasks_min_max": [min(s.tasks for s in samples), max(s.tasks for s in samples)],
            "task_slope_per_min": None if task_slope is None else round(task_slope, 3),
            "outbox_max": max(s.outbox for s in samples),
            "fills_max": max(s.fills for s in samples),
            "log_max": max(s.log for s in samples),
            "reconnects": samples[-1].reconnects,
            "frames_total": samples[-1].frames_total,
            "faults": len(rep.faults),
            "heap_trims": len(rep.trim_ms),
            "heap_trim_ms_mean_max": [
                round(sum(rep.trim_ms) / len(rep.trim_ms), 3) if rep.trim_ms else None,
                max(rep.trim_ms, default=None),
            ],
            "smaps_warm_mb": rep.smaps_warm,
            "smaps_end_mb": rep.smaps_end,
        }
        rep.checks = checks
        if rss_slope is not None and rss_slope > RSS_SLOPE_MAX_MB_PER_MIN:
            fails.append(f"RSS grows {rss_slope:.2f} MB/min > {RSS_SLOPE_MAX_MB_PER_MIN}")
        if heap_net is not None and heap_net > HEAP_NET_SLOPE_MAX_MB_PER_MIN:
            fails.append(
                f"heap net of capped rings grows {heap_net:.4f} MB/min"
                f" > {HEAP_NET_SLOPE_MAX_MB_PER_MIN}"
            )
        if rss_growth > RSS_GROWTH_MAX_MB:
            fails.append(f"RSS grew {rss_growth:.1f} MB after warm-up > {RSS_GROWTH_MAX_MB}")
        early = [s.tasks for s in samples if s.t < self.minutes * 60 / 4] or [warm[0].tasks]
        if max(s.tasks for s in warm) > max(early) + TASK_HEADROOM:
            fails.append("task count above its warm-up maximum + headroom")
        third = max(1, len(warm) // 3)
        first = sorted(s.tasks for s in warm[:third])[third // 2]
        last = sorted(s.tasks for s in warm[-third:])[third // 2]
        checks["tasks_median_first_last_third"] = [first, last]
        if last > first + 1:
            fails.append(f"task count creeps up (median {first} -> {last})")
        if checks["outbox_max"] > OUTBOX_MAX:
            fails.append(f"websocket outbox reached {checks['outbox_max']}")
        for ring in rep.rings:
            if ring["held"] > ring["cap"]:
                fails.append(f"{ring['name']} above its cap ({ring['held']} > {ring['cap']})")
        caps = {"fills": 2000, "log": 500, "fundings": 1000}  # checked at every sample too
        for name, cap in caps.items():
            peak = max(getattr(s, name) for s in samples)
            if peak > cap:
                fails.append(f"{name} above its cap ({peak} > {cap})")
        for name in ("stamps", "pending_acks"):  # no cap: must simply not grow
            vals = [getattr(s, name) for s in warm]
            if vals[-1] > max(vals[0] * 1.5, vals[0] + 10):
                fails.append(f"{name} keeps growing ({vals[0]} -> {vals[-1]})")
        if not rep.live_at_end:
            fails.append("not live at the end")
        if rep.fills_missing_recent:
            fails.append(f"{rep.fills_missing_recent} recent fill(s) missing")
        if rep.crashes:
            fails.append(f"{len(rep.crashes)} crash(es): {rep.crashes[:2]}")


def _ring_note(ring: dict[str, Any]) -> str:
    if ring["cap"] == 0:
        return "none held"
    if ring["full"]:
        return f"full, {ring['mb']} MB"
    if ring["plateau_mb"] is None:
        return f"empty ({ring['fill_per_min']}/min after warm-up)"
    eta = "" if ring["full_in_min"] is None else f" in ~{ring['full_in_min']:g} min"
    return (
        f"{ring['mb']} MB now, plateau +{ring['to_plateau_mb']} MB{eta}"
        f" ({ring['fill_per_min']}/min after warm-up)"
    )


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "30"))
    if os.environ.get("SOAK_TRACEMALLOC", "1") not in ("", "0"):
        tracemalloc.start(TRACE_FRAMES)
    sample_s = float(os.environ.get("SOAK_SAMPLE_S", "10"))
    fault_s = float(os.environ.get("SOAK_FAULT_S", "60"))
    print(f"soak: {minutes:g} min, sample every {sample_s:g} s, a fault every {fault_s:g} s")
    collect = os.environ.get("SOAK_GC", "1") not in ("", "0")
    trim = os.environ.get("SOAK_TRIM", "1") not in ("", "0")
    small = os.environ.get("SOAK_SMALL_RINGS", "") not in ("", "0")
    rep = asyncio.run(Soak(minutes, sample_s, fault_s, collect, trim, small).run())
    c = rep.checks
    rows: list[tuple[str, Any, str]] = [
        ("minutes", rep.minutes, f"{len(rep.samples)} samples"),
        ("faults", len(rep.faults), ", ".join(sorted(set(rep.faults)))),
        ("RSS start / end MB", f"{c.get('rss_start_mb')} / {c.get('rss_end_mb')}", ""),
        ("RSS slope MB/min", c.get("rss_slope_mb_per_min"), f"max {RSS_SLOPE_MAX_MB_PER_MIN}"),
        ("RSS growth MB", c.get("rss_growth_after_warmup_mb"), f"max {RSS_GROWTH_MAX_MB:g}"),
        ("anonymous MB warm / end",
         f"{rep.smaps_warm.get('Anonymous')} / {rep.smaps_end.get('Anonymous')}",
         "heap and arenas (smaps_rollup); the rest of RSS is code and libraries"),
        ("anonymous slope MB/min", c.get("anon_slope_mb_per_min"), "after warm-up"),
        ("heap trims", c.get("heap_trims"),
         f"malloc_trim(0), ms mean/max {c.get('heap_trim_ms_mean_max')}"
         + ("" if trim else " (SOAK_TRIM=0: off)")),
        ("heap slope MB/min, raw", c.get("heap_slope_mb_per_min"), "traced heap, after warm-up"),
        ("heap slope MB/min, net", c.get("heap_net_slope_mb_per_min"),
         f"minus capped rings and harness; max {HEAP_NET_SLOPE_MAX_MB_PER_MIN}"),
        ("RSS slope MB/min, net", c.get("rss_net_slope_mb_per_min"),
         "minus capped rings and harness"),
        ("harness slope MB/min", c.get("harness_slope_mb_per_min"), "the soak's own samples"),
        ("cyclic garbage MB, max", c.get("garbage_mb_max"),
         "freed by the collection before a sample (SOAK_GC=0: not collected)"),
        ("capped rings MB", f"{c.get('capped_end_mb')} -> {c.get('capped_plateau_mb')}",
         f"now -> when all full; slope {c.get('capped_slope_mb_per_min')} MB/min"),
        ("tasks min..max", str(c.get("tasks_min_max")), f"slope {c.get('task_slope_per_min')}/min"),
        ("outbox max", c.get("outbox_max"), f"max {OUTBOX_MAX}"),
        ("reconnects", c.get("reconnects"), "survived"),
        ("frames", c.get("frames_total"), "received"),
        ("recent fills missing", rep.fills_missing_recent, f"of {rep.fills_made_recent}"),
        ("live at end", "yes" if rep.live_at_end else "NO", f"after {rep.live_after_s} s"),
        ("crashes", len(rep.crashes), ""),
    ]  # fmt: skip
    rows += [
        (f"ring: {r['name']}", f"{r['held']:,}/{r['cap']:,}", _ring_note(r)) for r in rep.rings
    ]
    rows += [
        (f"grew: {g['site']}", f"{g['kb']} kB", f"{g['blocks']:+d} blocks after warm-up")
        for g in rep.top_growth[:5]
    ]
    print_table("hlmon soak", rows)
    print("\nRESULT: " + ("PASS" if not rep.failures else "FAIL: " + "; ".join(rep.failures)))
    doc = {
        "machine": machine_info(),
        "minutes": rep.minutes,
        "heap_trim": trim,
        "small_rings": SMALL_RINGS if small else None,
        "sample_every_s": sample_s,
        "fault_every_s": fault_s,
        "passed": not rep.failures,
        "failures": rep.failures,
        "thresholds": {
            "rss_slope_mb_per_min": RSS_SLOPE_MAX_MB_PER_MIN,
            "rss_growth_after_warmup_mb": RSS_GROWTH_MAX_MB,
            "task_count": "after warm-up: never above the warm-up max + headroom; median of "
            "the last third at most the first third's + 1",
            "task_headroom": TASK_HEADROOM,
            "outbox_max": OUTBOX_MAX,
            "warm_up": "first quarter of the run",
            "heap": "traced heap after a full gc.collect() at every sample (live memory; "
            "SOAK_GC=0: as found, cyclic garbage included)"
            if collect
            else "traced heap as found (cyclic garbage included)",
            "heap_net_slope_mb_per_min": HEAP_NET_SLOPE_MAX_MB_PER_MIN,
            "net": "traced heap (or RSS) minus the deep bytes of every capped structure "
            "(benchmarks/soak_rings.py) and of the soak's own samples: growth that is not a "
            "ring filling toward its cap",
        },
        "rings": rep.rings,
        **rep.checks,
        "fills_made_recent": rep.fills_made_recent,
        "fills_missing_recent": rep.fills_missing_recent,
        "live_at_end": rep.live_at_end,
        "live_after_s": rep.live_after_s,
        "crashes": rep.crashes,
        "top_growth": rep.top_growth,
        "fault_sequence": rep.faults,
        "samples": [asdict(s) for s in rep.samples],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = Path(os.environ.get("SOAK_OUT") or RESULTS_DIR / "soak.json").resolve()
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
