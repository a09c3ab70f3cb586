"""The memory benchmark's readers and its steady window (no run of the app here)."""

from __future__ import annotations

import os

import pytest

from benchmarks.common import smaps_rollup_mb, thread_count
from benchmarks.memory import STEADY_AFTER_S, rss_slopes, steady_after


def test_the_steady_part_starts_after_the_warm_up_of_a_long_run() -> None:
    assert steady_after(600) == STEADY_AFTER_S
    assert steady_after(60) == 15  # a quick run keeps its last three quarters


def test_a_slope_after_a_filling_start_is_the_lasting_one() -> None:
    # Fills 6 MB in the first 150 s, then grows 0.01 MB/min: only the steady window says so.
    samples = [(t, 60 + min(t, 150) / 25 + t / 6000) for t in range(0, 601, 5)]
    slopes = rss_slopes([(float(t), m) for t, m in samples], 600)
    assert slopes["steady"] == pytest.approx(0.01)
    assert (slopes["warm"] or 0.0) > 20 * 0.01  # after the 30 s warm-up the filling still shows


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="Linux only")
def test_smaps_rollup_of_this_process() -> None:
    smaps = smaps_rollup_mb(os.getpid())
    assert set(smaps) == {"Rss", "Pss_Anon", "Pss_File", "Private_Dirty", "Anonymous"}
    assert 0 < smaps["Anonymous"] < smaps["Rss"]
    assert thread_count(os.getpid()) >= 1


def test_readers_of_a_gone_process_say_nothing() -> None:
    gone = 2**22 + 7  # above Linux's pid_max default of 4,194,304
    assert smaps_rollup_mb(gone) == {}
    assert thread_count(gone) == 0
