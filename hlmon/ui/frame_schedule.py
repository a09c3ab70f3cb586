"""When a screen runs its next frame: on change with a leading edge, and at deadlines.

* The first change after a quiet period runs a frame at once (the next loop turn), instead of
  waiting for the next tick of a fixed timer (up to 83 ms at 12 fps).
* Changes arriving within ``interval`` of the last *full* frame are coalesced into one frame
  at ``last full + interval``: a flood costs ``1 / interval`` full frames a second, no more.
* An *urgent* change (what the user watches for latency: the selected coin's trades) waits
  at most ``urgent_wait``: under a steady flood of other changes there is never a quiet
  period, and it would otherwise wait up to a whole ``interval``. It brings the next frame
  forward when that frame is further away than ``urgent_wait``. A frame brought forward may
  be *light* (``frame_started`` says so): the screen paints the urgent changes only and holds
  the rest for the full frame at ``last full + interval``. Every repainted pane costs in
  Textual's compositor and in bytes to the terminal, so a light frame (the tape alone) costs
  a fraction of a full one.
* A coalesced frame whose time has come runs on the first change (or deadline) after it, in
  the loop wake-up that brought it, and on a timer of its own only ``late_ok`` after its time
  when no change comes. Under a flood a change comes every few milliseconds, and a wake-up of
  its own costs a frame more than its work: on the 2-core Xeon a frame's CPU time live is
  2-3x the same frame's in a warm replay (``benchmarks.frame_cost``). Urgent frames keep their
  exact time.
* Nothing changed: no frame, except at the deadlines the screen asks for (``wake_in``): the
  once-a-second age tick, the moment a feed goes stale.

Plain asyncio (``loop.call_at``), no Textual: the screen hands in ``run``, which must only
post the frame to the UI's own queue (``call_later``), so the frame runs in the screen's
message pump like any other event.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Iterable

URGENT_WAIT = 0.020
"""The longest an urgent change waits for its frame: send -> painted p99 <= 50 ms leaves room
for the frame and its paint (a frame paints when it ends: ``frame_repaints``), on a slow host."""
LATE_OK = 0.030
"""How late a coalesced (not urgent) frame may run when no change comes to run it: a quarter of
the full frames' interval at 12 fps; the book and the watchlist follow a flood ~8 times a
second, a few milliseconds later each."""
EARLY_S = 0.002
"""A frame this close to its full frame's time is full (timers may fire a little early)."""
POST_TIMEOUT = 2.0
"""A posted frame that has not started after this long is taken as lost and posted again."""


class FrameSchedule:
    """Decides when ``run`` is called; see the module docstring."""

    def __init__(
        self,
        run: Callable[[], None],
        interval: float,
        loop: asyncio.AbstractEventLoop,
        *,
        urgent_wait: float = URGENT_WAIT,
        late_ok: float = LATE_OK,
        now: Callable[[], float] | None = None,
    ) -> None:
        """
        Args:
            run: posts one frame to the UI (called on the loop, at most once per request).
            interval: the shortest time between two change-driven full frames.
            urgent_wait: the longest an urgent change waits for its frame.
            late_ok: how late a coalesced frame may run when no change comes to run it.
            loop: the UI's event loop.
            now: monotonic seconds comparable with ``loop.call_at`` (default ``loop.time``).
        """
        self._run = run
        self.interval = interval
        self.urgent_wait = urgent_wait
        self.late_ok = late_ok
        self._loop = loop
        self._now = now or loop.time
        self._thread = threading.get_ident()
        self._last = -math.inf
        """``now()`` when the last frame started."""
        self._last_full = -math.inf
        """``now()`` when the last full frame started."""
        self._pending: asyncio.TimerHandle | None = None
        """The change-driven frame asked for and not posted yet."""
        self._pending_at = math.inf
        """When the frame asked for is due (it runs on the first change from then on)."""
        self._timer_at = math.inf
        """When its timer runs it if no change has: its time, or ``late_ok`` after."""
        self._posted_at: float | None = None
        """When a frame was posted that has not started yet: it will take every change made
        until it starts. Not trusted after ``POST_TIMEOUT`` (a post the UI dropped)."""
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_at = math.inf
        self.closed = False

    def changed(self, urgent: bool = False) -> None:
        """Something changed: a frame now, or at ``last full + interval``; for an urgent
        change no later than ``last + urgent_wait`` (bringing a frame asked for forward), at
        once if that has passed. A frame asked for whose time has come runs now. Thread-safe."""
        if threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self.changed, urgent)
            return
        if self.closed or self._in_flight():
            return  # the frame on its way takes every change made until it starts
        now = self._now()
        if self._run_if_due(now):
            return
        pending = self._pending
        at = max(now, self._last_full + self.interval)
        if urgent:  # leading edge too: at once unless a frame ran less than urgent_wait ago
            at = min(at, max(now, self._last + self.urgent_wait))
        timer_at = at if urgent or at <= now else at + self.late_ok
        if pending is not None:
            if at >= self._pending_at and timer_at >= self._timer_at:
                return  # coalesced into the frame already asked for
            pending.cancel()
            at = min(at, self._pending_at)
            timer_at = min(timer_at, self._timer_at)
        self._pending_at = at
        self._timer_at = timer_at
        self._pending = self._loop.call_at(timer_at, self._fire)

    def wake_in(self, delay: float) -> None:
        """Run a frame ``delay`` seconds from now even if nothing changes; replaces the
        previous deadline (each frame sets the next one)."""
        if self.closed:
            return
        at = self._now() + max(0.0, delay)
        if self._deadline is not None:
            if abs(at - self._deadline_at) < 0.001:
                return  # the same deadline: keep the handle
            self._deadline.cancel()
        self._deadline_at = at
        self._deadline = self._loop.call_at(at, self._fire_deadline)

    def frame_started(self, light_ok: bool = False) -> bool:
        """The screen calls this at the start of every frame, however it was triggered: the
        frame takes every change made until now, so a frame asked for is not run again.

        Returns whether the frame is full: always when not ``light_ok`` (the screen needs
        every pane: a new second, a feed's state), else when ``interval`` has passed since the
        last full frame. A light frame paints the urgent changes only; the screen hands the
        rest back with ``changed()``, which asks for the full frame at ``last full +
        interval``."""
        now = self._now()
        full = not light_ok or now >= self._last_full + self.interval - EARLY_S
        self._last = now
        if full:
            self._last_full = now
        self._posted_at = None
        if self._pending is not None:  # this frame takes every change made until now
            self._pending.cancel()
            self._forget_pending()
        return full

    def close(self) -> None:
        """Cancel whatever is scheduled; later requests do nothing."""
        self.closed = True
        for handle in (self._pending, self._deadline):
            if handle is not None:
                handle.cancel()
        self._pending = self._deadline = None

    @property
    def pending(self) -> bool:
        """A change-driven frame is asked for and not posted yet."""
        return self._pending is not None

    @property
    def due(self) -> float | None:
        """``now()``-time the change-driven frame asked for is due (None: none asked for)."""
        return self._pending_at if self._pending is not None else None

    @property
    def deadline(self) -> float | None:
        """``now()``-time of the next wake-up asked for with ``wake_in`` (None: none)."""
        return self._deadline_at if self._deadline is not None else None

    @property
    def last_started(self) -> float:
        """``now()`` at the start of the last frame (-inf before the first)."""
        return self._last

    @property
    def last_full(self) -> float:
        """``now()`` at the start of the last full frame (-inf before the first)."""
        return self._last_full

    def _in_flight(self) -> bool:
        posted = self._posted_at
        return posted is not None and self._now() - posted < POST_TIMEOUT

    def _post(self) -> None:
        self._posted_at = self._now()
        self._run()

    def _forget_pending(self) -> None:
        self._pending = None
        self._pending_at = self._timer_at = math.inf

    def _fire(self) -> None:
        self._forget_pending()
        if not self._in_flight():
            self._post()

    def _fire_deadline(self) -> None:
        self._deadline = None
        self._deadline_at = math.inf
        if self._run_if_due(self._now()):
            return
        if self._pending is None and not self._in_flight():  # else a frame on its way covers it
            self._post()

    def _run_if_due(self, now: float) -> bool:
        """Run the frame asked for if its time has come, in this wake-up rather than on its
        timer (``late_ok`` after its time); True if it did."""
        pending = self._pending
        if pending is None or now < self._pending_at:
            return False
        pending.cancel()
        self._fire()
        return True


def wake_delay(now: float, deadlines: Iterable[float | None]) -> float:
    """Seconds from ``now`` (a wall clock) to the next whole second or the first of
    ``deadlines`` still ahead, whichever comes first (None: no such deadline)."""
    delay = 1.0 - (now % 1.0)
    for at in deadlines:
        if at is not None and now < at < now + delay:
            delay = at - now
    return delay
