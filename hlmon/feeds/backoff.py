"""Reconnect pacing: exponential backoff with full jitter, and a rolling-minute connection cap.

Both are pure (an injected random source and clock) so their bounds are unit-tested without
sockets or sleeps.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class FullJitterBackoff:
    """Delay before reconnect attempt ``n``: ``uniform(0, min(cap, initial * 2**n))``.

    Full jitter (rather than "exponential plus a little noise") spreads many clients that lost
    the same server over the whole window, so they do not come back in lock-step.
    """

    initial: float
    """Upper bound of the first delay, in seconds."""
    cap: float
    """Upper bound never exceeded, however many attempts failed."""
    rng: random.Random
    """Random source; injected so tests can pin or bound it."""

    def bound(self, attempt: int) -> float:
        """The upper bound of the delay for ``attempt`` (0-based)."""
        # Clamp the exponent: 2**attempt overflows float arithmetic after ~1000 attempts and
        # "never give up" means attempt can grow without limit.
        exponent = min(max(attempt, 0), 62)
        return min(self.cap, self.initial * float(2**exponent))

    def delay(self, attempt: int) -> float:
        """A random delay in ``[0, bound(attempt)]``."""
        return self.rng.uniform(0.0, self.bound(attempt))


class ConnectionRateLimiter:
    """At most ``max_per_window`` connection attempts in any rolling ``window`` seconds.

    The exchange allows 30 new websocket connections per minute per IP; every attempt is
    counted (even a failed one) because we cannot know whether the server counted it.
    """

    def __init__(
        self,
        max_per_window: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_per_window < 1:
            raise ValueError("max_per_window must be at least 1")
        self.max_per_window = max_per_window
        self.window = window
        self._clock = clock
        self._attempts: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._attempts and self._attempts[0] <= now - self.window:
            self._attempts.popleft()

    def wait_time(self) -> float:
        """Seconds until one more attempt is allowed (0 when allowed now)."""
        now = self._clock()
        self._expire(now)
        if len(self._attempts) < self.max_per_window:
            return 0.0
        return max(0.0, self._attempts[0] + self.window - now)

    def note_attempt(self) -> None:
        """Record an attempt made now."""
        now = self._clock()
        self._expire(now)
        self._attempts.append(now)

    def attempts_in_window(self) -> int:
        """How many attempts the current window holds."""
        self._expire(self._clock())
        return len(self._attempts)
