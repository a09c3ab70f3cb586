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
from typing import NamedTuple

from hlmon.state import ConnState, FeedState, Source, Store
from hlmon.state.changes import all_quiet
from hlmon.ui.frame_schedule import FrameSchedule, wake_delay
from hlmon.ui.widgets.bars import SILENT_AFTER_S

WAKE_MARGIN_S = 0.002
"""Wake this much after a threshold, so the frame sees it crossed."""
QUIET_KEYS = ("bbo:",)
"""Change keys that do not call for a frame: nothing on the dashboard moves with a bbo push
alone (the ladder and its spread line read the book and are rebuilt on book pushes; the
status line's bbo age ticks once a second, its state changes wake a frame of their own). Under
the ``standard`` profile half the frames were bbo-only frames that painted nothing."""

BEHIND_MODAL_INTERVAL = 1.0
"""While a modal (help, a form, a detail) is over the dashboard, its panes follow the store at
most once a second. The dashboard shows through dimmed, and Textual composites the whole of it
under the modal for every update the dashboard makes: under the ``stress`` profile, with help
open, that was ~27 % of a core at the usual frame rate."""

FULL_FRAME_SPACING = 1.5
"""Full frames (every pane) come at most every 1.5 frame intervals: 8 a second at the default
12 fps, under a flood. The selected coin's trades come between them in light frames (the tape
alone), within 20 ms: under the stress profile the trades alone asked for ~16 full frames a
second, whatever the fps, and each full frame costs the compositor every changed pane."""


class FrameStart(NamedTuple):
    """What a frame is to paint (``PaintOnChange.frame_started``)."""

    tick: bool
    """A new whole second: the ages tick."""
    moved: bool
    """A feed's state or source moved since the last frame."""
    full: bool
    """Every pane (else a light frame: ``changes`` holds the selected coin's trades only)."""
    changes: set[str]
    """The change keys to paint."""


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
        self.urgent: frozenset[str] = frozenset()
        """Change keys whose frame comes within 20 ms (the selected coin's trades, the catalog)."""
        self.light: frozenset[str] = frozenset()
        """Change keys a light frame paints (the selected coin's trades)."""
        self._held: set[str] = set()
        """Change keys a light frame took from the store and left to the next full frame."""
        self._states: dict[str, tuple[FeedState, Source | None]] = {}
        self._age_second: int | None = None
        self._coin: str | None = None
        self.hidden: set[str] | None = None
        """While a full screen covers the dashboard: the change keys its frames took and
        painted nothing for (None: shown)."""
        self._interval = 0.0
        """The full frames' interval (``start``), restored when a modal closes."""
        self.behind_modal = False
        """A modal is over the dashboard: frames at most once a second, none urgent."""

    def start(self, post_frame: Callable[[], None], fps: float, coin: str | None) -> None:
        """Listen to the store from now on (``post_frame`` posts one frame to the screen)."""
        interval = self._interval = FULL_FRAME_SPACING / fps
        self.schedule = FrameSchedule(post_frame, interval, asyncio.get_running_loop())
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
        per catalog load (minutes apart): one extra frame at most. The trades alone may come
        in a light frame; the catalog's is a full one."""
        self._coin = coin
        if self.schedule is not None:
            trades = (f"trades:{coin}",) if coin is not None else ()
            self.light = frozenset(trades)
            self.urgent = frozenset(("catalog", *trades))
            if self.behind_modal:  # nothing jumps the queue behind a modal
                self.light = self.urgent = frozenset()
            self.store.on_changes(self.schedule.changed, self.urgent, QUIET_KEYS)

    def set_behind_modal(self, behind: bool) -> None:
        """A modal opened over the dashboard (``behind``) or closed: the frames' pace
        (``BEHIND_MODAL_INTERVAL``). On closing, a frame held back to the slow pace comes at
        the usual one (at once when the last frame is older than an interval); with nothing
        held, no frame: the next change keeps its leading edge."""
        if behind == self.behind_modal or self.schedule is None:
            return
        self.behind_modal = behind
        self.schedule.interval = BEHIND_MODAL_INTERVAL if behind else self._interval
        if self.hidden is None:  # covered by a full screen: ``uncover`` follows again
            self.follow(self._coin)
            if not behind and self.schedule.pending:
                self.schedule.changed()

    def cover(self) -> None:
        """A full screen hides the dashboard: frames hold their changes from now on."""
        self.store.on_changes(None)  # no change-driven frames: the once-a-second ones only
        if self.hidden is None:
            self.hidden = set()

    def uncover(self) -> set[str]:
        """The dashboard shows again: listen to the store; returns the changes held."""
        held, self.hidden = self.hidden or set(), None
        if self.schedule is not None:
            self.follow(self._coin)
        return held

    def keep_hidden(self, changes: set[str]) -> bool:
        """While covered: note ``changes`` for the return, plan the next once-a-second frame,
        and say the frame paints nothing."""
        if self.hidden is None:
            return False
        self.hidden |= changes
        self.plan_wake()
        return True

    def run_frame(self, frame: Callable[[], None]) -> None:
        """Run one frame on one moment of the store: every pane reads the same marks, and the
        positions and their totals are judged once, not once per read (``Store.one_moment``)."""
        with self.store.one_moment():
            frame()

    def frame_started(self, light_ok: bool = False) -> FrameStart:
        """At the start of a frame: the ages tick, a feed moved, the changes to paint.

        With ``light_ok`` (a frame the schedule posted, no held-back work due) the frame is
        light when a full one ran less than the full interval ago and it has the selected
        coin's trades to paint: it paints them alone and leaves every other change to the
        full frame, asked for at once at its time. A new second, a feed's state or source
        that moved (live -> stale is never late) or the catalog makes it full."""
        second = math.floor(self.clock())
        tick = second != self._age_second
        self._age_second = second
        states = self.store.feed_states()
        moved = states != self._states
        self._states = states
        changes = self.store.take_changes()
        if self._held:
            changes |= self._held
            self._held = set()
        light_ok = (
            light_ok
            and self.hidden is None  # covered: the frame paints nothing, light or full
            and not (tick or moved)
            and not self.light.isdisjoint(changes)
            and self.urgent.isdisjoint(changes - self.light)  # the catalog: a full frame
        )
        if self.schedule is None or self.schedule.frame_started(light_ok):
            return FrameStart(tick, moved, True, changes)
        shown = changes & self.light
        if len(shown) < len(changes):
            self._held = held = changes - shown
            # Quiet keys (a bbo that came with the trades) wait for the next frame as they
            # would have alone: asked for, their full frame painted nothing (2.6 of the ~11
            # frames a second under the ``standard`` profile).
            if not all_quiet(held, QUIET_KEYS):
                self.schedule.changed()
        return FrameStart(tick, moved, False, shown)

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
