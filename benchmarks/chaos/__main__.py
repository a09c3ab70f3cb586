"""``make chaos``: the full plan, the TUI scenario, the table and ``results/chaos.json``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import benchmarks.chaos
from benchmarks.chaos.plan import full_plan, small_plan
from benchmarks.chaos.report import print_report
from benchmarks.chaos.run import ChaosRun
from benchmarks.chaos.tui import tui_scenario
from benchmarks.common import REPO, RESULTS_DIR, machine_info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.chaos",
        description=(benchmarks.chaos.__doc__ or "").split("\n", 1)[0],
    )
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
