"""Keeps the alert evaluation benchmark (``benchmarks/alert_eval.py``) from rotting: its store
builds and a run completes (not a timed assertion)."""

from __future__ import annotations

from benchmarks import alert_eval
from hlmon.alerts import DeadMan


def test_the_benchmark_runs_its_rules_on_a_degraded_store() -> None:
    assert alert_eval.per_frame_us([DeadMan(30.0)], frames=700, repeats=1) > 0
