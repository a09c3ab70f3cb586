"""Startup: seconds from launching ``hlmon --demo`` to the first painted data.

Each run starts ``hlmon --demo`` (a new process; the simulator runs inside it) in a detached
tmux session of 120x40 and polls ``capture-pane`` every 10 ms. Reported: the time to the first
painted screen (any text) and to the first data, i.e. a mid price on the watchlist's BTC row.
Then ``q`` quits the app and the time to exit is noted. Median of ``repeats`` runs.

Run alone: ``python -m benchmarks.startup [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from typing import Any

from benchmarks.common import Tmux, median, print_table, rnd

MID_ROW = re.compile(r"\bBTC\s+\d[\d,]*\.\d+")
"""The BTC watchlist row with a mid price (before data it shows a dash)."""
TIMEOUT = 30.0


def clean_env() -> dict[str, str]:
    """No HLMON_* overrides from the caller's environment, a fixed terminal type."""
    env = {k: "" for k in os.environ if k.startswith("HLMON_")}
    env["TERM"] = "xterm-256color"
    return env


def one_run(index: int) -> dict[str, Any]:
    tmux = Tmux(f"startup{index}")
    t0 = time.monotonic()
    first_paint = first_data = None
    try:
        tmux.start(".venv/bin/hlmon --demo", env=clean_env())
        while time.monotonic() - t0 < TIMEOUT:
            screen = tmux.capture()
            now = time.monotonic() - t0
            if first_paint is None and screen.strip():
                first_paint = now
            if MID_ROW.search(screen):
                first_data = now
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
    return {"first_paint_s": first_paint, "first_data_s": first_data, "quit_s": exited}


def measure(repeats: int = 5, log: Any = print) -> dict[str, Any]:
    """Returns the ``startup`` JSON section."""
    runs = []
    for i in range(repeats):
        r = one_run(i)
        runs.append(r)
        log(f"  startup run {i + 1}/{repeats}: paint {r['first_paint_s']} data {r['first_data_s']}")
    return {
        "first_data_s": rnd(median(r["first_data_s"] for r in runs), 3),
        "first_paint_s": rnd(median(r["first_paint_s"] for r in runs), 3),
        "quit_s": rnd(median(r["quit_s"] for r in runs), 3),
        "repeats": repeats,
        "method": "hlmon --demo in tmux 120x40, capture-pane polled every 10 ms; data = a mid "
        "price on the BTC watchlist row",
        "runs": [{k: rnd(v, 3) for k, v in r.items()} for r in runs],
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [
        ("first paint", res["first_paint_s"], "s (hlmon --demo launched -> any text on screen)"),
        ("first data", res["first_data_s"], "s (-> BTC mid painted)"),
        ("quit", res["quit_s"], "s ('q' -> process gone)"),
    ]


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
