"""The C heap under a run of weeks: glibc's free pages handed back once a minute.

glibc's malloc keeps memory that Python freed inside its arenas (it returns memory only from
the top of a heap), so RSS creeps up while the Python heap, traced by ``tracemalloc``, stays
flat: most visibly after reconnects, which free large buffers (the soak, a fault a minute:
0.15 -> 0.06 MB/min with every ring full, 2026-12, 2-core Xeon; ``docs/memory.md``).
``malloc_trim(0)`` returns every free page of every arena to the system (``madvise``); once a
minute it costs ~0.3 ms (``benchmarks/soak.py`` times each call).

Only where the C library is glibc on Linux; anywhere else ``malloc_trim`` does not exist and
``HeapTrimmer.run`` returns at once. Imports nothing from hlmon, so any layer may use it;
``ctypes`` is loaded at the first trim, not at start-up.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

TRIM_EVERY_S = 60.0
"""Often enough that freed memory never piles up for long, rare enough to cost nothing."""

Trim = Callable[[], object]


def glibc_malloc_trim() -> Trim | None:
    """``malloc_trim(0)`` of glibc, or None where the C library is not glibc on Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # musl and others have no such name
            return None
        import ctypes  # only here: start-up never pays for it

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, ValueError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer:
    """Calls ``trim`` once every ``every_s`` seconds of ``clock``, the first time ``every_s``
    after it was built (start-up's garbage is not worth a trim; the steady run's is).

    ``trim`` defaults to glibc's ``malloc_trim(0)``, looked up at the first due time; without
    glibc nothing is ever called.
    """

    def __init__(
        self,
        trim: Trim | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = TRIM_EVERY_S,
    ) -> None:
        self._trim = trim
        self._looked_up = trim is not None
        self._clock = clock
        self.every_s = every_s
        self._due = clock() + every_s
        self.trims = 0
        """How many times ``trim`` was called."""

    def _resolved(self) -> Trim | None:
        if not self._looked_up:
            self._trim = glibc_malloc_trim()
            self._looked_up = True
        return self._trim

    def seconds_to_due(self) -> float:
        return max(0.0, self._due - self._clock())

    def poll(self) -> bool:
        """Trim if due (then the next one is ``every_s`` from now); whether it trimmed."""
        now = self._clock()
        if now < self._due:
            return False
        self._due = now + self.every_s
        trim = self._resolved()
        if trim is None:
            return False
        trim()
        self.trims += 1
        return True

    async def run(self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        """Trim on schedule until cancelled; returns after the first due time when there is
        nothing to call (not glibc)."""
        while True:
            await sleep(self.seconds_to_due())
            self.poll()
            if self._resolved() is None:
                return
