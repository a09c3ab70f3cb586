"""A small chaos run inside ``make test``: every fault kind against the real simulator, and
every fill the simulator made held exactly once at the end (``make chaos`` is the full run).

It asserts invariants only (fills, equity, positions, no crash, every fault recovered from),
never timings beyond generous deadlines, so it cannot flake on a slow machine.
"""

from __future__ import annotations

import pytest

from benchmarks.chaos.plan import BURST_FRAMES, small_plan
from benchmarks.chaos.run import ChaosRun

pytestmark = pytest.mark.slow


async def test_small_chaos_run_loses_and_doubles_nothing() -> None:
    plan = small_plan(seed=7)
    kinds = {f.kind for f in plan}
    assert kinds >= {
        "drop", "drop_refuse", "stall", "malformed", "error", "rest_429", "rest_500",
        "rest_hang", "latency", "burst", "clock_jump",
    }  # fmt: skip
    report = await ChaosRun(plan, seed=7, plan_name="small").run()

    assert report.failures == []
    assert report.crashes == 0, report.crash_details
    assert report.sim_errors == 0
    assert report.fills_made >= 10
    assert report.fills_forced_during_outage >= 3
    assert report.fills_held == report.fills_made
    assert report.fills_missing == report.fills_doubled == report.fills_extra == 0
    assert report.equity_match and report.positions_match and report.orders_match
    assert report.unrecovered == 0
    assert len(report.faults) == len(plan)
    # Every drop (and every stall, once detected) is a reconnect the engine survived.
    dropping = ("drop", "drop_refuse", "rest_429", "rest_500", "rest_hang")
    drops = sum(f.kind in dropping for f in plan)
    assert report.reconnects >= drops
    stalls = [f for f in report.faults if f.kind == "stall"]
    assert all(f.detect_s is not None for f in stalls)
    assert report.frames_rejected >= report.malformed_sent > 0
    assert report.burst_frames_received >= BURST_FRAMES
    assert report.msgs_per_s_after_back_jump is not None
    assert report.msgs_per_s_after_back_jump < 500  # not earlier traffic from the "future"
