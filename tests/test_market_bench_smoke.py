"""Keeps the market-screen benchmark from rotting: a couple of frames, no timing asserted."""

from __future__ import annotations

from benchmarks import market_screen


def test_market_screen_benchmark_runs() -> None:
    result = market_screen.measure(frames=2, repeats=1)
    assert result["names"] == 1592
    assert result["screen_frame_cpu_ms"] > 0
    assert result["all_dexs_bytes"] > 100_000  # shaped like mainnet's ~116 KB frame
