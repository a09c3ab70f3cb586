"""The dashboard's side of paint-on-change: listening to the store, posting frames, and when
to wake up without a change (``FrameSchedule`` decides when; this wires it to a screen).

Split from ``dashboard`` to keep it small. It knows the screen through a callable that posts
one frame into the screen's own message queue, so frames run like any other event.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from hlmon.state import ConnState, FeedState, Source, Store
from hlmon.ui.frame_schedule import FrameSchedule, wake_delay
from hlmon.ui.widgets.bars import SILENT_AFTER_S

WAKE_MARGIN_S = 0.002
"""Wake this much after a threshold, so the frame sees it crossed."""


class PaintOnChange:
    """Frames on store changes (the selected coin's trades urgent), ages once a second and at
    every feed's state change; see ``screens.dashboard``."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self.monotonic: Callable[[], float] = time.monotonic
        """For intervals between frames (the wall ``clock`` may step)."""
        self.schedule: FrameSchedule | None = None
        """When the next frame runs (set by ``start``)."""
        self._coin: str | None = None
        self.urgent: frozenset[str] = frozenset()
        """Change keys whose frame comes within 20 ms (the selected coin's trades, the catalog)."""
        self._states: dict[str, tuple[FeedState, Source | None]] = {}
        self._age_second: int | None = None
        self.held: set[str] | None = None
        """While a full screen covers the dashboard: the change keys its frames took but
        painted nothing for (None: shown)."""

    def start(self, post_frame: Callable[[], None], fps: float, coin: str | None) -> None:
        """Listen to the store from now on (``post_frame`` posts one frame to the screen)."""
        self.schedule = FrameSchedule(post_frame, 1.0 / fps, asyncio.get_running_loop())
        self.follow(coin)
        self.plan_wake()

    def stop(self) -> None:
        """Stop listening and cancel what is scheduled."""
        self.store.on_changes(None)
        if self.schedule is not None:
            self.schedule.close()

    def follow(self, coin: str | None) -> None:
        """The selected coin's trades are urgent changes (the tape is the live view whose
        latency is watched; the book and the rest wait for the interval), and so is the
        catalog: when it comes in force the watchlist goes from "waiting for market catalog…"
        to its rows, the first data on screen at start-up, which would otherwise wait up to a
        whole interval (83 ms at 12 fps) after a frame the first change ran. It changes once
        per catalog load (minutes apart): one extra frame at most."""
        self._coin = coin
        if self.schedule is not None:
            trades = (f"trades:{coin}",) if coin is not None else ()
            self.urgent = frozenset(("catalog", *trades))
            self.store.on_changes(self.schedule.changed, self.urgent)

    def cover(self) -> None:
        """A full screen hides the dashboard: frames hold their changes from now on."""
        self.store.on_changes(None)  # no change-driven frames: the once-a-second ones only
        if self.held is None:
            self.held = set()

    def uncover(self) -> set[str]:
        """The dashboard shows again: listen to the store; returns the changes held."""
        held, self.held = self.held or set(), None
        if self.schedule is not None:
            self.follow(self._coin)
        return held

    def run_frame(self, frame: Callable[[], None]) -> None:
        """Run one frame on one moment of the store: every pane reads the same marks, and the
        positions and their totals are judged once, not once per read (``Store.one_moment``)."""
        with self.store.one_moment():
            frame()

    def frame_started(self) -> tuple[bool, bool]:
        """At the start of a frame: (the ages tick: a new whole second; a feed's state or
        source moved since the last frame)."""
        if self.schedule is not None:
            self.schedule.frame_started()
        second = math.floor(self.clock())
        tick = second != self._age_second
        self._age_second = second
        states = {k: (st.state, st.source) for k, st in self.store.feed_statuses().items()}
        moved = states != self._states
        self._states = states
        return tick, moved

    def plan_wake(self, due_in: float | None = None) -> None:
        """Wake at the next whole second (ages, the header clock), or sooner when a feed goes
        stale, the socket falls silent or in ``due_in`` seconds (work the screen held back),
        even if nothing arrives."""
        if self.schedule is not None:
            conn = self.store.health.connection
            live = conn.state is ConnState.LIVE and conn.last_alive is not None
            silent_at = conn.last_alive + SILENT_AFTER_S if live and conn.last_alive else None
            now = self.clock()
            due = None if due_in is None else now + max(due_in, 0.001)
            deadlines = (self.store.next_state_change(), silent_at, due)
            self.schedule.wake_in(wake_delay(now, deadlines) + WAKE_MARGIN_S)


class HeldBack:
    """Work that runs at most once per ``interval``: at once after a quiet spell, else held
    back until ``due_at`` (the screen wakes for it even if nothing else arrives)."""

    def __init__(self, interval: float, monotonic: Callable[[], float]) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._last = -math.inf
        self.due_at: float | None = None
        """``monotonic()`` when the held-back work is due (None: nothing held back)."""

    def ask(self) -> bool:
        """The work is wanted: True to do it now, else it is held back (see ``due``)."""
        due = self._last + self.interval
        if self._monotonic() >= due:
            return True
        self.due_at = due
        return False

    @property
    def due(self) -> bool:
        """Held-back work whose time has come."""
        return self.due_at is not None and self._monotonic() >= self.due_at

    def done(self) -> None:
        """The work was done (asked for or not): the interval starts again."""
        self._last = self._monotonic()
        self.due_at = None

    def due_in(self) -> float | None:
        """Seconds until the held-back work is due (None: nothing held back)."""
        return None if self.due_at is None else self.due_at - self._monotonic()
