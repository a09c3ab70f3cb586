"""Memory: RSS of the real ``hlmon`` process over a long ``stress`` run; growth must be flat.

The simulator (``stress`` profile, its own process) serves on loopback; ``hlmon --api-url URL
--address DEMO`` (the real CLI) runs in a detached tmux session of 120x40. RSS is read from
``/proc/PID/statm`` when the first data is painted (``rss_mb_start``), then every few seconds
until the end (``rss_mb_end``). Growth is the least-squares slope of RSS over time (MB/min):
``slope_mb_per_min`` over the whole run after a 30 s warm-up, ``slope_mb_per_min_second_half``
over its second half, and ``slope_mb_per_min_steady`` (issue #16's figure) after the first
``STEADY_AFTER_S`` (150 s): RSS climbs ~6 MB in the first two minutes (caches, allocator
arenas, the first screens) and then flattens, so a whole-run slope overstates lasting growth.
All three are the process's real RSS. ``smaps_*_mb`` split it into anonymous memory (heap,
arenas) and file-backed pages (code). ``--env K=V`` runs hlmon with an extra environment
variable (``MALLOC_ARENA_MAX=2``, ``PYTHONMALLOC=malloc``) to compare allocator settings.

Duration: 10 minutes by default; ``BENCH_QUICK=1`` makes it 60 s, ``BENCH_MEMORY_SECONDS=N``
sets it exactly. Run alone: ``python -m benchmarks.memory [--seconds N]``.

``--trace`` answers *what* grows instead: the real app runs headless in this process against
the ``stress`` simulator with ``tracemalloc`` on; it reports the traced heap's slope after a
warm-up (the first quarter) and the allocation sites that grew most from the end of the
warm-up to the end (store, UI caches, Textual's own), the store's capped rings' bytes
(``soak_rings``: growth toward a known ceiling) and the heap slope net of them, and every
``lru_cache`` and Textual cache with its fill and cap. Slower (tracing), so not part of
``make bench``: ``python -m benchmarks.memory --trace --seconds 600``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import tracemalloc
from typing import Any

from benchmarks.common import (
    CpuMeter,
    Tmux,
    growth_sites,
    heap_snapshot,
    print_table,
    rnd,
    rss_mb,
    slope_per_minute,
    smaps_rollup_mb,
    thread_count,
    wait_until,
)
from benchmarks.soak_rings import capped_mb, ring_fills
from benchmarks.startup import MID_ROW, clean_env
from benchmarks.ui_cost import APP_CPU, Sim

DEFAULT_SECONDS = 600
QUICK_SECONDS = 60
STEADY_AFTER_S = 150.0
"""Start of the steady part: the rings, caches and allocator arenas fill in the first minutes
(the samples climb, then flatten), so a slope over the whole run overstates lasting growth."""


def default_seconds() -> tuple[float, str]:
    """The run length and why (env overrides)."""
    if os.environ.get("BENCH_MEMORY_SECONDS"):
        return float(os.environ["BENCH_MEMORY_SECONDS"]), "BENCH_MEMORY_SECONDS"
    if os.environ.get("BENCH_QUICK", "") not in ("", "0"):
        return QUICK_SECONDS, "BENCH_QUICK=1 (shortened from 10 min)"
    return DEFAULT_SECONDS, "default (10 min)"


def steady_after(seconds: float) -> float:
    """Where the steady part starts: ``STEADY_AFTER_S``, or a quarter into a short run."""
    return min(STEADY_AFTER_S, seconds / 4)


def rss_slopes(samples: list[tuple[float, float]], seconds: float) -> dict[str, float | None]:
    """The slopes (MB/min) of (second, RSS MB) samples: after a 30 s warm-up, over the second
    half, and over the steady part (``steady_after``)."""
    steady_from = steady_after(seconds)
    return {
        "warm": slope_per_minute([s for s in samples if s[0] >= min(30.0, seconds / 6)]),
        "second_half": slope_per_minute([s for s in samples if s[0] >= seconds / 2]),
        "steady": slope_per_minute([s for s in samples if s[0] >= steady_from]),
    }


def measure(
    seconds: float, why: str = "", log: Any = print, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Returns the ``memory`` JSON section (``extra_env``: for the hlmon process, e.g. an
    allocator setting to compare)."""
    interval = 2.0 if seconds <= 120 else 5.0
    sim = Sim("stress")
    tmux = Tmux("memory")
    samples: list[tuple[float, float]] = []
    load_before = os.getloadavg()[0]
    try:
        pin = f"taskset -c {APP_CPU} " if (os.cpu_count() or 1) > 1 else ""
        # This checkout's code (``-m`` from the repository), not whatever a venv's script finds.
        pid = tmux.start(
            f"{pin}{sys.executable} -m hlmon --api-url {sim.url} --address {sim.address}",
            env={**clean_env(), **(extra_env or {})},
        )
        if not wait_until(lambda: bool(MID_ROW.search(tmux.capture())), 30, 0.05):
            raise RuntimeError(f"hlmon showed no data within 30 s:\n{tmux.capture()}")
        t0 = time.monotonic()
        cpu = CpuMeter(pid)
        cpu.start()
        samples.append((0.0, rss_mb(pid)))
        smaps_start = smaps_rollup_mb(pid)
        next_log = 60.0
        while (elapsed := time.monotonic() - t0) < seconds:
            time.sleep(min(interval, seconds - elapsed))
            samples.append((time.monotonic() - t0, rss_mb(pid)))
            if samples[-1][0] >= next_log:
                log(f"  memory {samples[-1][0]:.0f}/{seconds:.0f} s: RSS {samples[-1][1]:.1f} MB")
                next_log += 60
        cpu_pct = cpu.stop()
        smaps_end = smaps_rollup_mb(pid)
        threads = thread_count(pid)
        alive = not tmux.pane_dead()
        tmux.send_keys("q")
        wait_until(tmux.pane_dead, 10)
    finally:
        tmux.close()
        sim.stop()
    slopes = rss_slopes(samples, seconds)
    steady_from = steady_after(seconds)
    steady = [s for s in samples if s[0] >= steady_from]
    return {
        "rss_mb_start": rnd(samples[0][1]),
        "rss_mb_end": rnd(samples[-1][1]),
        "rss_mb_max": rnd(max(v for _, v in samples)),
        "slope_mb_per_min": rnd(slopes["warm"], 3),
        "slope_mb_per_min_second_half": rnd(slopes["second_half"], 3),
        "slope_mb_per_min_steady": rnd(slopes["steady"], 4),
        "steady_after_s": steady_from,
        "rss_mb_steady_start": rnd(steady[0][1], 2) if steady else None,
        "slopes": "least squares over the process's RSS (/proc/PID/statm): slope_mb_per_min "
        "after a 30 s warm-up, _steady after steady_after_s (rings, caches and allocator "
        "arenas filled), _second_half over the second half",
        "smaps_start_mb": smaps_start,
        "smaps_end_mb": smaps_end,
        "threads_at_end": threads,
        "extra_env": extra_env or {},
        "loadavg_1m_before_after": [rnd(load_before, 2), rnd(os.getloadavg()[0], 2)],
        "seconds": seconds,
        "duration_source": why,
        "profile": "stress",
        "cpu_pct": rnd(cpu_pct),
        "alive_at_end": alive,
        "samples": [[rnd(t), rnd(v, 2)] for t, v in samples],
    }


async def _trace_app(seconds: float, sample_s: float, log: Any) -> dict[str, Any]:
    """The app in this process, headless, against the stress simulator, with tracemalloc."""
    from benchmarks.ui_cost import SIZE, _poll, _settings
    from hlmon.runtime.root import Runtime
    from hlmon.ui.app import build_app

    tracemalloc.start(4)
    sim = Sim("stress")
    runtime = Runtime(_settings(sim.url, sim.address))
    app = build_app(runtime)
    samples: list[tuple[float, float, float, float]] = []  # (s, heap, RSS, capped rings) MB
    growth: list[dict[str, Any]] = []
    caches: list[dict[str, Any]] = []

    async def harness() -> None:
        nonlocal growth
        try:
            await _poll(lambda: runtime.store.mid("BTC") is not None, 0.1, give_up_after=30)
            t0 = time.monotonic()
            warm = None
            while (elapsed := time.monotonic() - t0) < seconds:
                heap = tracemalloc.get_traced_memory()[0] / 1e6
                rings = capped_mb(ring_fills(runtime.store))  # after the heap: it allocates
                samples.append((elapsed, heap, rss_mb(os.getpid()), rings))
                if warm is None and elapsed >= seconds / 4:
                    warm = heap_snapshot()
                if len(samples) % max(1, int(60 / sample_s)) == 0:
                    log(f"  trace {elapsed:.0f}/{seconds:.0f} s: heap {heap:.2f} MB")
                await asyncio.sleep(sample_s)
            growth = growth_sites(warm, heap_snapshot(), 15)
            caches.extend(c for c in cache_fills() if c["size"])
        finally:
            app.exit()

    task = asyncio.create_task(harness())
    try:
        await app.run_async(headless=True, size=SIZE)
        await task
    finally:
        sim.stop()
        tracemalloc.stop()
    warm = [s for s in samples if s[0] >= seconds / 4]
    warm_samples = [(t, h) for t, h, _, _ in warm]
    warm_rings = [(t, r) for t, _, _, r in warm]
    warm_net = [(t, h - r) for t, h, _, r in warm]
    warm_rss = [(t, m) for t, _, m, _ in warm]
    return {
        "seconds": seconds,
        "heap_mb_start": rnd(samples[0][1], 2) if samples else None,
        "heap_mb_end": rnd(samples[-1][1], 2) if samples else None,
        "heap_slope_mb_per_min": rnd(slope_per_minute(warm_samples), 4),
        "rings_slope_mb_per_min": rnd(slope_per_minute(warm_rings), 4),
        "heap_net_slope_mb_per_min": rnd(slope_per_minute(warm_net), 4),
        "rss_slope_mb_per_min": rnd(slope_per_minute(warm_rss), 4),
        "rings_mb_end": rnd(samples[-1][3], 3) if samples else None,
        "rss_mb_end": rnd(samples[-1][2]) if samples else None,
        "top_growth": growth,
        "caches": caches,
    }


def cache_fills() -> list[dict[str, Any]]:
    """Every ``functools.lru_cache`` and Textual ``LRUCache``/``FIFOCache`` alive in this
    process, fullest first: how many entries each holds against its cap (None: unbounded).

    A cache filling toward its cap grows like a leak for minutes, then stops; an unbounded one
    never stops. Textual's caches are per widget, so they are summed by where they were built.
    """
    import functools
    import gc

    from textual.cache import FIFOCache, LRUCache

    rows: dict[str, dict[str, Any]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper):
            info = obj.cache_info()
            name = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
            rows[name] = {"cache": name, "n": 1, "size": info.currsize, "cap": info.maxsize}
        elif isinstance(obj, (LRUCache, FIFOCache)):
            name = f"textual {type(obj).__name__}({obj._maxsize})"
            row = rows.setdefault(name, {"cache": name, "n": 0, "size": 0, "cap": 0})
            row["n"] += 1
            row["size"] += len(obj)
            row["cap"] += obj._maxsize
    return sorted(rows.values(), key=lambda r: (r["cap"] is not None, -r["size"]))


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    note = f"{res['seconds']:.0f} s stress run ({res['duration_source']})"
    return [
        ("RSS at first data", res["rss_mb_start"], "MB"),
        ("RSS at end", res["rss_mb_end"], f"MB after {note}"),
        ("RSS growth", res["slope_mb_per_min"], "MB/min (after warm-up)"),
        ("RSS growth, 2nd half", res["slope_mb_per_min_second_half"], "MB/min"),
        (
            "RSS growth, steady",
            res["slope_mb_per_min_steady"],
            f"MB/min after the first {res['steady_after_s']:.0f} s",
        ),
        ("CPU over the run", res["cpu_pct"], "% of one core (tmux, stress)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--trace", action="store_true", help="what grows, with tracemalloc")
    parser.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="extra env for hlmon"
    )
    parser.add_argument("--out", help="also write the JSON section to this file")
    args = parser.parse_args()
    if args.trace:
        res = asyncio.run(_trace_app(args.seconds or 300.0, 5.0, print))
        print_table(
            "What grows (tracemalloc, after the warm-up)",
            [
                ("heap start / end", f"{res['heap_mb_start']} / {res['heap_mb_end']}", "MB"),
                ("heap slope", res["heap_slope_mb_per_min"], "MB/min after the warm-up"),
                (
                    "capped rings slope",
                    res["rings_slope_mb_per_min"],
                    f"MB/min (store rings filling toward their caps, {res['rings_mb_end']} MB)",
                ),
                ("heap slope net", res["heap_net_slope_mb_per_min"], "MB/min minus the rings"),
                ("RSS slope", res["rss_slope_mb_per_min"], "MB/min (tracemalloc's own included)"),
                *(
                    (g["site"], f"{g['kb']} kB", f"{g['blocks']:+d} blocks")
                    for g in res["top_growth"]
                ),
                *(
                    (f"cache {c['cache']}", f"{c['size']}/{c['cap']}", f"{c['n']} instance(s)")
                    for c in res["caches"][:25]
                ),
            ],
        )
        print(json.dumps(res))
        return 0
    seconds, why = (args.seconds, "--seconds") if args.seconds else default_seconds()
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    res = measure(seconds, why, extra_env=extra_env)
    print_table("Memory", table_rows(res))
    print(json.dumps(res["samples"]))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
