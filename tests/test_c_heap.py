"""The C heap trimmer: on its schedule by an injected clock, nothing off glibc."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from benchmarks.common import rss_mb
from hlmon import c_heap
from hlmon.c_heap import HeapTrimmer, glibc_malloc_trim
from tests.support import FakeClock


def test_trims_once_per_period_from_the_start() -> None:
    clock = FakeClock(1000.0)
    calls: list[float] = []
    trimmer = HeapTrimmer(lambda: calls.append(clock.now), clock=clock, every_s=60)
    assert not trimmer.poll()  # built now: the first trim is a period away
    clock.now += 59.9
    assert not trimmer.poll()
    clock.now += 0.1
    assert trimmer.poll()
    assert not trimmer.poll()  # the next is a period after this one
    clock.now += 59
    assert not trimmer.poll()
    clock.now += 1
    assert trimmer.poll()
    assert calls == [1060.0, 1120.0]
    assert trimmer.trims == 2


def test_a_late_poll_trims_once_and_reschedules_from_then() -> None:
    clock = FakeClock(1000.0)
    calls: list[float] = []
    trimmer = HeapTrimmer(lambda: calls.append(clock.now), clock=clock, every_s=60)
    clock.now += 500  # a suspended laptop: no burst of catch-up trims
    assert trimmer.poll()
    assert not trimmer.poll()
    assert trimmer.seconds_to_due() == 60
    assert calls == [1500.0]


async def test_run_sleeps_until_each_due_time_and_trims() -> None:
    clock = FakeClock(1000.0)
    calls: list[float] = []
    slept: list[float] = []
    trimmer = HeapTrimmer(lambda: calls.append(clock.now), clock=clock, every_s=60)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 3:
            raise asyncio.CancelledError
        clock.now += seconds

    with pytest.raises(asyncio.CancelledError):
        await trimmer.run(sleep)
    assert slept[:3] == [60, 60, 60]
    assert calls == [1060.0, 1120.0, 1180.0]


async def test_run_returns_when_there_is_nothing_to_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c_heap, "glibc_malloc_trim", lambda: None)
    clock = FakeClock(1000.0)
    trimmer = HeapTrimmer(clock=clock, every_s=60)

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    await trimmer.run(sleep)  # returns instead of waking up every minute for nothing
    assert trimmer.trims == 0


def test_no_malloc_trim_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert glibc_malloc_trim() is None


def test_no_malloc_trim_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_name(name: str) -> str:
        raise ValueError(f"unrecognized configuration name: {name}")

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "confstr", no_such_name)  # what musl's Python does
    assert glibc_malloc_trim() is None
    monkeypatch.setattr(os, "confstr", lambda name: None)
    assert glibc_malloc_trim() is None


def test_the_default_trimmer_off_glibc_calls_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    clock = FakeClock(1000.0)
    trimmer = HeapTrimmer(clock=clock, every_s=60)
    clock.now += 60
    assert not trimmer.poll()
    assert trimmer.trims == 0


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="glibc only",
)
def test_glibc_trim_returns_memory_that_free_kept() -> None:
    trim = glibc_malloc_trim()
    assert trim is not None
    trim()
    # 40 MB of blocks under malloc's mmap threshold, freed below a survivor: free() cannot
    # shrink the heap past the survivor, so the pages stay resident until a trim.
    blocks = [bytearray(4000) for _ in range(10_000)]
    survivor = bytearray(4000)
    del blocks
    before = _rss_mb()
    assert trim() == 1  # malloc_trim says whether it gave anything back
    assert _rss_mb() < before - 20
    assert len(survivor) == 4000


def _rss_mb() -> float:
    return rss_mb(os.getpid())
