"""Unit tests for reconnect pacing: full-jitter bounds, the cap, the rolling-minute limiter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlmon.feeds.backoff import ConnectionRateLimiter, FullJitterBackoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestFullJitterBackoff:
    @given(attempt=st.integers(min_value=0, max_value=10_000), seed=st.integers(0, 2**32))
    def test_delay_within_full_jitter_bounds(self, attempt: int, seed: int) -> None:
        """Every delay lies in [0, min(cap, initial * 2**attempt)]."""
        b = FullJitterBackoff(initial=0.5, cap=30.0, rng=random.Random(seed))
        bound = min(30.0, 0.5 * 2 ** min(attempt, 62))
        assert b.bound(attempt) == bound
        assert 0.0 <= b.delay(attempt) <= bound

    def test_bound_doubles_then_caps(self) -> None:
        """The bound doubles per attempt and stops at the cap, for any number of attempts."""
        b = FullJitterBackoff(initial=0.5, cap=30.0, rng=random.Random(1))
        assert [b.bound(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
        assert b.bound(10**9) == 30.0

    def test_jitter_is_full_not_partial(self) -> None:
        """Delays spread over the whole window (close to 0 and close to the bound)."""
        b = FullJitterBackoff(initial=1.0, cap=8.0, rng=random.Random(7))
        delays = [b.delay(3) for _ in range(2000)]
        assert min(delays) < 0.2
        assert max(delays) > 7.8

    def test_uses_injected_random_source(self) -> None:
        """Same seed, same sequence: tests can pin delays."""
        a = FullJitterBackoff(0.5, 30.0, random.Random(42))
        b = FullJitterBackoff(0.5, 30.0, random.Random(42))
        assert [a.delay(n) for n in range(10)] == [b.delay(n) for n in range(10)]


class TestConnectionRateLimiter:
    def test_thirty_per_minute(self) -> None:
        """30 attempts pass, the 31st waits until the oldest leaves the window."""
        clock = FakeClock()
        lim = ConnectionRateLimiter(30, clock=clock)
        for _ in range(30):
            assert lim.wait_time() == 0.0
            lim.note_attempt()
            clock.now += 0.5
        # 30 attempts in the last 15 s; the first was at t=1000, so room at t=1060.
        assert lim.wait_time() == pytest.approx(1060.0 - clock.now)
        clock.now = 1060.0
        assert lim.wait_time() == 0.0

    def test_never_more_than_max_in_any_window(self) -> None:
        """Driving it as the feed does (wait, then attempt) never puts 31 in a minute."""
        clock = FakeClock()
        lim = ConnectionRateLimiter(30, clock=clock)
        times: list[float] = []
        for _ in range(200):
            clock.now += lim.wait_time()
            lim.note_attempt()
            times.append(clock.now)
            clock.now += 0.1
        for i, t in enumerate(times):
            assert sum(1 for u in times[i:] if u < t + 60.0) <= 30

    def test_rejects_zero(self) -> None:
        with pytest.raises(ValueError):
            ConnectionRateLimiter(0)
