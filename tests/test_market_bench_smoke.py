"""Keeps the market-screen benchmark from rotting: a couple of frames, no timing asserted."""

from __future__ import annotations

from benchmarks import market_app, market_screen


def test_market_screen_benchmark_runs() -> None:
    result = market_screen.measure(frames=2, repeats=1)
    assert result["names"] == 1592
    assert result["screen_frame_cpu_ms"] > 0
    assert result["all_dexs_bytes"] > 100_000  # shaped like mainnet's ~116 KB frame


def test_market_app_benchmark_runs() -> None:
    """The real app against the large ``stress`` simulator, headless, one short window each."""
    result = market_app.measure(seconds=1.0, warmup=0.5, mode="headless")
    assert result["names"] > 1500 and result["priced"] == result["names"]
    assert result["market_cpu_pct"] > 0 and result["dashboard_cpu_pct"] > 0
    assert result["fast_frames_per_s"] > 0
