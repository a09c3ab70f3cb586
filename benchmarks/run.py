"""``make bench``: every benchmark in turn, one table on stdout, ``benchmarks/results/latest.json``.

Sections (each in its own module, each runnable alone):

- ``ingest``: msg/s of hlmon's feed path vs raw websockets, json.loads, the official SDK;
- ``startup``: ``hlmon --demo`` launch to first painted data;
- ``ui``: CPU, fps, send-to-paint and key-to-paint latency, headless and in tmux, under the
  ``standard`` and ``stress`` simulator profiles;
- ``memory``: RSS over a ``stress`` run (10 min; ``BENCH_QUICK=1``: 60 s);
- ``frames``: CPU ms per frame and per message, replaying a recorded ``stress`` stream
  in-process (CPU time of a fixed piece of work: comparable on a busy machine);
- ``market``: the market screen's cost at ~1,600 names (``benchmarks.market_screen``: built
  frames headless), and the real app with it open under ``stress`` against the simulator's
  ~1,600 markets in tmux (``benchmarks.market_app``: CPU % of a core, target <= 5 %).

Timings are repeated and the median reported. The first run creates ``benchmarks/.sdk-venv``
(hyperliquid-python-sdk from PyPI, never a dependency of hlmon). Needs ``tmux``. The processor
(model name from ``/proc/cpuinfo``, cores) and the load average are printed first and stored
under ``machine`` in the JSON: figures from another processor do not compare. Neither do
figures from another VM with the same processor name: ``benchmarks.host_speed`` times one fixed
piece of work before each section (``<section>.machine.speed_ms``) and at the end
(``machine.speed_ms_at_end``), so a slower or busier host shows in the results.

Usage: ``python -m benchmarks.run [--only ingest,startup,ui,memory,frames,market]``; the UI
part alone: ``--only ui,startup``. A run of some sections keeps the other sections of
``latest.json`` as they were (each section records its own machine and date).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks import frame_cost, host_speed, ingest, market_screen, memory, startup, ui_cost
from benchmarks.common import RESULTS_DIR, machine_info, print_table

SECTIONS = ("ingest", "startup", "ui", "memory", "frames", "market")
OUTPUT = RESULTS_DIR / "latest.json"


def log(text: str) -> None:
    print(text, flush=True)


def cpu_line() -> str:
    """``Intel(R) Xeon(R) Processor, 2 cores``: what the figures were measured on."""
    m = machine_info()
    return f"{m['cpu']}, {m['cores']} cores"


def _previous() -> dict[str, Any]:
    """The sections of the last ``latest.json`` (kept when only some sections run)."""
    try:
        doc = json.loads(OUTPUT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in doc.items() if k in SECTIONS} if isinstance(doc, dict) else {}


def run_sections(only: tuple[str, ...]) -> dict[str, Any]:
    mem_seconds, mem_why = memory.default_seconds()
    plan: dict[str, Callable[[], dict[str, Any]]] = {
        "ingest": lambda: ingest.measure(repeats=5, log=log),
        "startup": lambda: startup.measure(repeats=5, log=log),
        "ui": lambda: ui_cost.measure(seconds=15, repeats=3, log=log),
        "memory": lambda: memory.measure(mem_seconds, mem_why, log=log),
        "frames": lambda: frame_cost.measure(repeats=5, log=log),
        "market": lambda: market_screen.section(log=log),
    }
    results: dict[str, Any] = {}
    for name in SECTIONS:
        if name not in only:
            continue
        if name in ("startup", "ui", "memory") and shutil.which("tmux") is None:
            results[name] = {"error": "tmux is not installed"}
            continue
        load = os.getloadavg()[0]
        speed = host_speed.measure()
        log(
            f"== {name} (load average {load:.2f} on {os.cpu_count()} cores; "
            f"{host_speed.describe(speed)})"
        )
        t0 = time.monotonic()
        try:
            results[name] = plan[name]()
        except Exception as exc:
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["section_seconds"] = round(time.monotonic() - t0, 1)
        # Other work on a shared machine skews wall-clock figures: keep the context.
        results[name]["loadavg_1m_before"] = round(load, 2)
        results[name]["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
        m = machine_info()
        results[name]["machine"] = {
            "cpu": m["cpu"],
            "cores": m["cores"],
            "date": m["date"],
            "speed_ms": speed,
        }
    return results


def print_report(results: dict[str, Any]) -> None:
    tables = {
        "ingest": ("Ingest: messages/s over loopback (median)", ingest.table_rows),
        "ui": ("UI cost (median CPU/fps; latency percentiles over all runs)", ui_cost.table_rows),
        "memory": ("Memory (RSS of the hlmon process)", memory.table_rows),
        "startup": ("Startup (median)", startup.table_rows),
        "frames": ("Frame cost: replayed stress stream, CPU time (median)", frame_cost.table_rows),
        "market": ("Market screen (~1,600 names)", market_screen.table_rows),
    }
    for name, (title, rows) in tables.items():
        section = results.get(name)
        if section is None:
            continue
        if "error" in section:
            print_table(title, [("error", section["error"], "")])
        else:
            print_table(title, rows(section))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    log(f"machine: {cpu_line()}; load average {os.getloadavg()[0]:.2f}")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    if quick and "memory" in only:
        log(f"BENCH_QUICK=1: the memory run is {memory.QUICK_SECONDS} s instead of 10 min")
    started = time.monotonic()
    results = run_sections(only)
    # Measured again at the end: a VM's speed drifts, and the sections' own probes show by how much.
    doc = {**_previous(), "machine": machine_info(), "quick": quick, **results}
    doc["machine"]["speed_ms_at_end"] = host_speed.measure()
    doc["total_seconds"] = round(time.monotonic() - started, 1)
    print_report(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUTPUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(OUTPUT)
    m = doc["machine"]
    print(
        f"\n{m['date']}  {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"textual {m['versions']['textual']}, websockets {m['versions']['websockets']}"
        f"{'  [BENCH_QUICK]' if quick else ''}  total {doc['total_seconds']:.0f} s"
    )
    print(f"host speed at the end: {host_speed.describe(m['speed_ms_at_end'])}")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")
    failed = [name for name in results if "error" in results[name]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
