"""Host speed: the CPU time of one fixed piece of pure-Python work, so runs on hosts that report
the same processor can be told apart.

Two VMs that both say ``Intel(R) Xeon(R) Processor, 2 cores`` have run the same hlmon code at
speeds a factor of two apart (the same replayed stream: 0.53 and 0.995 CPU ms a frame, on one day),
and one VM's speed swung by a factor of two within seconds. A CPU percentage means little
without that context. ``make bench`` therefore runs this probe before each section and stores
the result beside the section's machine line (``speed_ms``), and once more at the end.

The work is the kind hlmon does in a frame: ``Decimal`` arithmetic and formatting, f-strings,
dict and list churn, small tuples. It is fixed (no input, no randomness), so its instruction count
is the same on every host and only the time per instruction varies. Reported: the fastest of
``ROUNDS`` rounds (what the host can do) and the median (what it gave, neighbours included), in
CPU milliseconds of the process, pinned to the CPU the app runs on in the UI section.

Run alone: ``python -m benchmarks.host_speed``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from decimal import Decimal
from typing import Any

from benchmarks.ui_cost import APP_CPU

ROUNDS = 9
_ROWS = 400
_PASSES = 24


def work() -> int:
    """One round: ~50 ms of CPU on the 2-core Xeon VM of 2026-12-02. Returns a checksum, so
    nothing is skipped and a test can tell when the work changed."""
    checksum = 0
    book: dict[str, tuple[Decimal, Decimal]] = {}
    step = Decimal("0.5")
    for p in range(_PASSES):
        lines: list[str] = []
        for i in range(_ROWS):
            px = Decimal(60000 + i) + step * p
            sz = Decimal(i % 17 + 1) / 8
            book[f"{i % 50}"] = (px, sz)
            notional = px * sz
            lines.append(f"{px:>12,.1f} {sz:>8.3f} {notional:>14,.2f}")
        checksum = (checksum * 31 + sum(len(s) for s in lines) + len(book)) % 1_000_000_007
        ordered = sorted(book.items(), key=lambda kv: kv[1][0], reverse=True)
        checksum = (checksum + len("".join(k for k, _ in ordered[:20]))) % 1_000_000_007
    return checksum


def _pin(cpu: int) -> set[int] | None:
    """Pin this process to ``cpu``; returns the CPUs to restore (``common.pinned_to`` pins a
    child before its exec, and ``startup`` pins for good: the bench itself must get them back)."""
    if (os.cpu_count() or 1) > 1 and hasattr(os, "sched_getaffinity"):
        before = os.sched_getaffinity(0)
        if cpu in before:
            os.sched_setaffinity(0, {cpu})
            return before
    return None


def measure(rounds: int = ROUNDS) -> dict[str, Any]:
    """CPU ms of ``work()``: the fastest and the median of ``rounds`` rounds."""
    before = _pin(APP_CPU)
    try:
        work()  # warm: imports, the Decimal context, the allocator
        times: list[float] = []
        for _ in range(rounds):
            t0 = time.process_time()
            work()
            times.append((time.process_time() - t0) * 1000)
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
    best, mid = min(times), statistics.median(times)
    return {
        "best_ms": round(best, 1),
        "median_ms": round(mid, 1),
        "spread": round(mid / best - 1, 3) if best > 0 else 0.0,
        "rounds": rounds,
    }


def describe(speed: dict[str, Any]) -> str:
    """``fixed work 48.1 ms best, 52.3 ms median``: for the log lines."""
    return f"fixed work {speed['best_ms']} ms best, {speed['median_ms']} ms median"


def main() -> int:
    print(json.dumps(measure(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
