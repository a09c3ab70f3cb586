"""Startup: seconds from launching hlmon to the first painted data.

Two paths, ``repeats`` runs each, alternating:

- ``demo``: ``hlmon --demo`` (the simulator starts inside the process);
- ``server``: ``hlmon --api-url URL --address ADDR`` against a simulator already listening on
  loopback in its own process (the non-demo path: connect, subscribe, first frames).

Each run starts hlmon in a detached tmux session of 120x40, pinned to one CPU, and polls
``capture-pane`` every 10 ms from the other CPU (so the polling does not slow down what it
measures). Reported: the time to the first painted screen (any text) and to the first data,
i.e. a mid price on the watchlist's BTC row. Then ``q`` quits the app and the time to exit is
noted. Medians; ``first_data_s`` (the demo path) is the figure the issue's target is for.

Bytecode: the runs start with hlmon's modules compiled (``compileall`` first), as after a
``pip install`` or any earlier run. A shell with ``PYTHONDONTWRITEBYTECODE`` set (some sandboxes
and CI images) would otherwise compile every hlmon module from source on every launch, some
0.1-0.2 s on a small Xeon that no installed copy pays. For the same reason the table of
generated code (``hlmon.codegen_cache``: dataclass methods..., written by a launch as bytecode
is) is written first, with ``python -m hlmon.codegen_cache``.

Run alone: ``python -m benchmarks.startup [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import REPO, Tmux, cpu_seconds, median, print_table, rnd

MID_ROW = re.compile(r"\bBTC\s+\d[\d,]*\.\d+")
"""The BTC watchlist row with a mid price (before data it shows a dash)."""
TIMEOUT = 30.0


def clean_env() -> dict[str, str]:
    """No HLMON_* overrides from the caller's environment, a fixed terminal type."""
    env = {k: "" for k in os.environ if k.startswith("HLMON_")}
    env["TERM"] = "xterm-256color"
    return env


APP_CPU, POLL_CPU = 1, 0


def _pin_self(cpu: int) -> None:
    """Run this process (and the tmux server it starts) on ``cpu`` when there are two."""
    if (os.cpu_count() or 1) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def one_run(index: int, args: str = "--demo") -> dict[str, Any]:
    """Launch ``hlmon ARGS`` and time its first paint, first data and exit."""
    tmux = Tmux(f"startup{index}")
    pin = f"taskset -c {APP_CPU} " if (os.cpu_count() or 1) > 1 else ""
    t0 = time.monotonic()
    first_paint = first_data = cpu_at_data = None
    try:
        pid = tmux.start(f"{pin}.venv/bin/hlmon {args}", env=clean_env())
        while time.monotonic() - t0 < TIMEOUT:
            screen = tmux.capture()
            now = time.monotonic() - t0
            if first_paint is None and screen.strip():
                first_paint = now
            if MID_ROW.search(screen):
                first_data = now
                with contextlib.suppress(OSError):
                    cpu_at_data = cpu_seconds(pid)
                break
            time.sleep(0.01)
        tmux.send_keys("q")
        t_quit = time.monotonic()
        exited = None
        while time.monotonic() - t_quit < 10:
            if tmux.pane_dead():
                exited = time.monotonic() - t_quit
                break
            time.sleep(0.02)
    finally:
        tmux.close()
    return {
        "first_paint_s": first_paint,
        "first_data_s": first_data,
        "first_data_cpu_s": cpu_at_data,
        "quit_s": exited,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "first_data_s": rnd(median(r["first_data_s"] for r in runs), 3),
        "first_paint_s": rnd(median(r["first_paint_s"] for r in runs), 3),
        "first_data_cpu_s": rnd(median(r["first_data_cpu_s"] for r in runs), 3),
        "quit_s": rnd(median(r["quit_s"] for r in runs), 3),
        "runs": [{k: rnd(v, 3) for k, v in r.items()} for r in runs],
    }


def compile_bytecode() -> None:
    """Compile hlmon's modules with the app's interpreter (see the module docstring), and
    the code they generate (``hlmon.codegen_cache``)."""
    python = REPO / ".venv" / "bin" / "python"
    interpreter = str(python if python.exists() else sys.executable)
    for args in (["compileall", "-q", "hlmon"], ["hlmon.codegen_cache"]):
        subprocess.run([interpreter, "-m", *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def measure(repeats: int = 5, log: Any = print) -> dict[str, Any]:
    """Returns the ``startup`` JSON section (top level: the demo path; ``server``: the other)."""
    from benchmarks.ui_cost import Sim

    compile_bytecode()
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    _pin_self(POLL_CPU)
    sim = Sim("standard")
    demo: list[dict[str, Any]] = []
    server: list[dict[str, Any]] = []
    try:
        for i in range(repeats):
            for runs, args, what in (
                (demo, "--demo", "demo"),
                (server, f"--api-url {sim.url} --address {sim.address}", "server"),
            ):
                r = one_run(i, args)
                runs.append(r)
                log(
                    f"  startup {what} run {i + 1}/{repeats}: paint {rnd(r['first_paint_s'], 3)}"
                    f" data {rnd(r['first_data_s'], 3)} (cpu {rnd(r['first_data_cpu_s'], 3)})"
                )
    finally:
        sim.stop()
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
    return {
        **_summary(demo),
        "server": {
            **_summary(server),
            "method": "hlmon --api-url URL --address ADDR, the "
            "simulator (standard profile) already listening in its own process",
        },
        "repeats": repeats,
        "method": "hlmon --demo in tmux 120x40 pinned to one CPU, capture-pane polled every "
        "10 ms from the other; data = a mid price on the BTC watchlist row; hlmon's bytecode "
        "compiled first (as installed), its generated-code table written first (as after a launch)",
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    rows = [
        ("first paint", res["first_paint_s"], "s (hlmon --demo launched -> any text on screen)"),
        ("first data", res["first_data_s"], "s (-> BTC mid painted; target <= 0.5)"),
        ("first data, CPU", res["first_data_cpu_s"], "s of CPU hlmon had used by then"),
        ("quit", res["quit_s"], "s ('q' -> process gone)"),
    ]
    server = res.get("server")
    if server:
        rows += [
            ("server: first paint", server["first_paint_s"], "s (hlmon --api-url local server)"),
            ("server: first data", server["first_data_s"], "s (-> BTC mid painted)"),
            ("server: first data, CPU", server["first_data_cpu_s"], "s of CPU by then"),
        ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    res = measure(args.repeats)
    print_table("Startup (median)", table_rows(res))
    print(json.dumps(res["runs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
