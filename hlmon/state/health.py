"""``FeedHealth``: the facts about the feeds themselves, as the feeds push them.

Connection state and retries, socket liveness and ping round trip, frame counters and msg/s,
rejected and error frames, REST weight usage, whether the REST fallback runs, and the event
log. Data flows one way: the websocket feed, the engine and its pollers (and ``Store.apply``,
for error/unknown/ack frames) push here; the UI and the store's freshness read what has been
pushed. Nothing here calls back into a feed: a feed that counts frames in batches hands them
over once per event-loop turn, so a read may be one loop turn behind, never more.

Pure like the rest of ``hlmon.state``: no I/O, no asyncio, time from the injected clock.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import replace

from .changes import Listener, new_keys, rearm
from .clock import RebasingClock
from .reasons import short_reason
from .telemetry import FrameCounter
from .types import Clock, ConnectionInfo, ConnState, LogEvent, RestPlanView

_LEVELS = {"info": "info", "warn": "warn", "warning": "warn", "error": "error"}
_REJECT_LOG_INTERVAL = 1.0
"""Log at most one rejected-frame line per second; a garbage flood must not evict the log."""
_MAX_UNKNOWN_LOGGED = 64
_ALIVE_GAP_S = 1.0
"""Proof of life after this much silence is a change the screen must show at once."""
ALIVE_WINDOW = 8.0
"""A socket counts as alive while a frame or pong arrived this recently. A healthy socket is
never silent this long: the feeds' own pushes come every second or more often, and one silent
for 5 s is probed with a ping (``WebsocketSettings.probe_after``) whose pong comes within a
round trip; 3 s of slack covers a slow path. A half-open socket is then doubted after 8 s, well
before the heartbeat declares it dead (probe + 10 s without a pong), and what only a live
socket vouches for (a quiet event feed, the tape's "nothing newer") is marked stale by then."""
_ERROR_LOG_INTERVAL = 10.0
"""Log each kind of server error at most once per this many seconds: the exchange can send a
limit error hundreds of times a second (2026 protocol page §1.3)."""
_MAX_ERROR_KINDS = 64
_DIGITS = re.compile(r"\d+")


class FeedHealth:
    """Connection facts, liveness, counters, REST usage and the event log.

    Change keys (``take_changes``): ``status`` for connection/RTT/REST/fallback changes, ``log``
    for a new log line. Liveness and counters change every frame and are read on the UI tick
    instead, so they record no change key.
    """

    def __init__(
        self,
        clock: Clock | RebasingClock,
        *,
        alive_window: float = ALIVE_WINDOW,
        log_cap: int = 500,
    ) -> None:
        """
        Args:
            clock: the store's ``RebasingClock`` (shared, so one clock step rebases every
                held time), or a plain clock for a health object of its own.
            alive_window: a socket counts as alive if a frame/pong arrived this recently.
            log_cap: log lines kept.
        """
        self._time = clock if isinstance(clock, RebasingClock) else RebasingClock(clock)
        self._time.on_step_back(self._shift_times)
        self._clock = self._time.now
        self._alive_window = alive_window
        self._changes: set[str] = set()
        self._listener: Listener | None = None

        self._conn_state = ConnState.CONNECTING
        self._attempt = 0
        self._next_retry_at: float | None = None
        self._reconnects = 0
        self._ever_live = False
        self._url = ""
        self._last_alive: float | None = None
        self._last_error: str | None = None
        self._reason: str | None = None
        self._connected_since: float | None = None
        self._suspended_since: float | None = None
        """``connected_since`` of a live socket while an engine task's crash shows DOWN."""
        self.live_epoch = 0
        """Counts transitions into LIVE (each one a new socket): what was measured on the
        previous socket (a round trip, a subscription's first frame) is not this one's."""
        self._via: str | None = None
        self._upstream: ConnectionInfo | None = None
        """The daemon's own link to the exchange, as its ``_daemon`` frames say."""
        self._upstream_down_since: float | None = None
        """When the daemon's link to the exchange went down (None: live, or no daemon)."""
        self.ws_rtt_ms: float | None = None
        """Round trip of the latest application ping on the current socket, in ms (None until
        its first pong)."""

        self._frames = FrameCounter()
        self.frames_rejected = 0
        self.server_errors = 0
        self.unknown_frames = 0
        self.acks = 0
        self.tolerated: dict[str, list[int]] = {}
        """kind -> [answers/frames repaired, items left out, items kept with defaults]."""
        self._unknown_logged: set[str] = set()
        self._last_reject_log: float | None = None
        self._rejects_suppressed = 0
        self._error_logged: dict[str, tuple[float, int]] = {}
        """Kind of server error -> (when last logged, how many since were not)."""
        self.rest_weight_used = 0
        self.rest_budget = 0
        self.fallback_active = False
        self._rest_plan: RestPlanView | None = None

        self._log: deque[LogEvent] = deque(maxlen=log_cap)

    def _shift_times(self, delta: float) -> None:
        if self._last_alive is not None:
            self._last_alive += delta
        if self._connected_since is not None:
            self._connected_since += delta
        if self._suspended_since is not None:
            self._suspended_since += delta
        if self._next_retry_at is not None:
            self._next_retry_at += delta
        if self._upstream_down_since is not None:
            self._upstream_down_since += delta

    def take_changes(self) -> set[str]:
        """Change keys recorded since the last call (and reset); ``Store.take_changes`` merges
        them with its own."""
        changes = self._changes
        self._changes = new_keys(self._listener)
        return changes

    def on_changes(self, listener: Listener | None) -> bool | None:
        """Call ``listener(False)`` on the first change after each ``take_changes``
        (``Store.on_changes`` registers its listener here too). Returns None, or the flag the
        caller must call the listener with now for changes already pending."""
        self._listener = listener
        self._changes, tell = rearm(self._changes, listener)
        return tell

    # ================================================================== writes: connection

    def set_connection(
        self,
        state: ConnState,
        *,
        attempt: int = 0,
        next_retry_in: float | None = None,
        url: str | None = None,
        error: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Record the websocket state; logs transitions and counts reconnects.

        ``error`` is the full text (logged, kept as ``last_error``); ``reason`` its short form
        for the status bar (classified from ``error`` when not given, see ``state.reasons``).
        A state without an error keeps the last reason until the socket is LIVE again.
        """
        now = self._clock()
        prev_state, prev_attempt, prev_url = self._conn_state, self._attempt, self._url
        if url is not None:
            self._url = url
        if error is not None:
            self._last_error = error
            self._reason = reason or short_reason(error)
        self._attempt = attempt
        self._next_retry_at = now + next_retry_in if next_retry_in is not None else None
        self._conn_state = state
        if state is ConnState.LIVE:
            self._reason = None
            self._suspended_since = None
            if prev_state is not ConnState.LIVE:
                if self._ever_live:
                    self._reconnects += 1
                self._ever_live = True
                self._connected_since = now
                self._last_alive = now  # the handshake itself proves the socket alive
                self.live_epoch += 1
                self.ws_rtt_ms = None  # a new socket: the old one's round trip says nothing
        else:
            if prev_state is ConnState.LIVE and state is ConnState.DOWN:
                # Possibly an engine task's crash with the socket still up (see ``recover``).
                self._suspended_since = self._connected_since
            elif state is not ConnState.DOWN:
                self._suspended_since = None
            self._connected_since = None
        self._changes.add("status")
        if (
            state is prev_state
            and attempt == prev_attempt
            and error is None
            and self._url == prev_url
        ):
            return  # nothing new to tell the user (e.g. a repeated LIVE)
        self._log_connection(state, attempt, next_retry_in, error)

    def _log_connection(
        self, state: ConnState, attempt: int, next_retry_in: float | None, error: str | None
    ) -> None:
        why = f": {error}" if error else ""
        if state is ConnState.LIVE:
            if self._reconnects:
                self.log(f"reconnected to {self._url} (reconnect {self._reconnects})")
            else:
                self.log(f"connected to {self._url}")
        elif state is ConnState.CONNECTING and not attempt:
            self.log(f"connecting to {self._url}{why}")
        elif state in (ConnState.CONNECTING, ConnState.RECONNECTING):
            # CONNECTING with an attempt: the first connection has not succeeded yet.
            what = "connect failed" if state is ConnState.CONNECTING else "connection lost"
            retry = f", retry {attempt}" if attempt else ""
            when = f" in {next_retry_in:.1f} s" if next_retry_in is not None else ""
            self.log(f"{what}{why}{retry}{when}", "warn")
        elif state is ConnState.REST:
            # A choice, not a fault: information, said once.
            self.log("websocket off by choice (use_websocket = false): REST serves every feed")
        else:
            self.log(f"websocket down{why}", "error")

    def recover(self, task: str, *, socket_live: bool) -> None:
        """A crashed engine task other than the websocket feed (the supervisor showed DOWN
        with the reason) runs again. With ``socket_live`` the socket was never lost: the state
        goes back to LIVE as it was (same socket, same ``connected_since``), which is neither
        a reconnect nor a new round trip (the log says "<task> recovered", not "reconnected").
        Otherwise the websocket feed reports its own state, as it always does."""
        restore = (
            socket_live and self._conn_state is ConnState.DOWN and self._suspended_since is not None
        )
        if restore:
            self._conn_state = ConnState.LIVE
            self._connected_since = self._suspended_since
            self._attempt = 0
            self._next_retry_at = None
            self._reason = None
            self._changes.add("status")
            self.log(f"{task} recovered; the websocket stayed connected")
        self._suspended_since = None

    # ================================================================== writes: via a daemon

    def set_via(self, label: str | None) -> None:
        """Connected through a daemon (``daemon``, or ``nats`` when reading it from a NATS
        server), fallen back from one, or plain direct."""
        if label == self._via:
            return
        self._via = label
        if label not in ("daemon", "nats"):
            self._upstream = None
            self._upstream_down_since = None
        self._changes.add("status")

    def set_upstream(
        self,
        state: ConnState,
        *,
        attempt: int = 0,
        next_retry_in: float | None = None,
        error: str | None = None,
        reconnects: int = 0,
    ) -> None:
        """The daemon's link to the exchange (from its ``_daemon`` frames)."""
        now = self._clock()
        prev = self._upstream
        if state is ConnState.LIVE:
            self._upstream_down_since = None
        elif self._upstream_down_since is None:
            self._upstream_down_since = now
        self._upstream = ConnectionInfo(
            state=state,
            attempt=attempt,
            next_retry_at=None if next_retry_in is None else now + next_retry_in,
            reconnects=reconnects,
            url="",
            last_alive=None,
            last_error=error,
            connected_since=None,
        )
        if prev is not None and (prev.state, prev.attempt) == (state, attempt):
            return
        self._changes.add("status")
        if prev is None and state is ConnState.LIVE:
            return
        why = f": {error}" if error and state is not ConnState.LIVE else ""
        level = "info" if state is ConnState.LIVE else "warn"
        self.log(f"exchange via daemon: {state.value}{why}", level)

    @property
    def upstream_live(self) -> bool:
        """False while a daemon says its link to the exchange is not live."""
        return self._upstream is None or self._upstream.state is ConnState.LIVE

    def note_alive(self) -> None:
        """A pong or any frame proved the socket alive now.

        Records ``status`` only after a gap of ``_ALIVE_GAP_S`` (the screen may be showing the
        silence), not on every batch of frames.
        """
        now = self._clock()
        last = self._last_alive
        if last is None or not 0 <= now - last < _ALIVE_GAP_S:
            self._changes.add("status")
        self._last_alive = now

    def note_rtt(self, ms: float) -> None:
        """Round trip of the latest ping/pong, in milliseconds."""
        self.ws_rtt_ms = ms
        self._changes.add("status")

    # ================================================================== writes: counters

    def note_frame(self, channel: str, nbytes: int) -> None:
        """Count one received frame (for msg/s and per-channel totals)."""
        self._frames.add(self._clock(), channel, nbytes)

    def note_frames(
        self, n: int, nbytes: int, by_channel: dict[str, int], at: float | None = None
    ) -> None:
        """Count ``n`` received frames at once (``nbytes`` in all, ``by_channel`` per channel),
        the last received at ``at`` (store clock; default now). For feeds that batch their
        counting; the totals and msg/s are the same as ``n`` calls of ``note_frame``."""
        self._frames.add_many(self._clock() if at is None else at, n, nbytes, by_channel)

    def note_rejected(self, reason: str, snippet: str) -> None:
        """A malformed frame: counted and logged (rate-limited). Never raises."""
        self.frames_rejected += 1
        now = self._clock()
        last = self._last_reject_log
        # 0 <= ...: after the clock steps back, log again at once instead of staying silent
        # until it has caught up with the last logged time.
        if last is not None and 0 <= now - last < _REJECT_LOG_INTERVAL:
            self._rejects_suppressed += 1
            return
        more = f" (+{self._rejects_suppressed} more)" if self._rejects_suppressed else ""
        self._rejects_suppressed = 0
        self._last_reject_log = now
        self.log(f"rejected frame: {reason}: {snippet[:120]!r}{more}", "warn")

    def note_server_error(self, text: str) -> None:
        """An ``error`` frame from the server: counted and logged, each kind (the text with
        its numbers blanked) at most once per 10 s with a count of the ones left out; the
        connection is kept."""
        self.server_errors += 1
        text = str(text)
        kind = _DIGITS.sub("N", text[:200])
        now = self._clock()
        last = self._error_logged.get(kind)
        if last is not None and 0 <= now - last[0] < _ERROR_LOG_INTERVAL:
            self._error_logged[kind] = (last[0], last[1] + 1)
            return
        if last is None and len(self._error_logged) >= _MAX_ERROR_KINDS:
            self._error_logged.pop(next(iter(self._error_logged)))
        more = f" (+{last[1]} more)" if last is not None and last[1] else ""
        self._error_logged[kind] = (now, 0)
        self.log(f"server error: {text[:300]}{more}", "error")

    def note_unknown(self, channel: str) -> None:
        """A frame on a channel hlmon does not know: counted; logged once per channel."""
        self.unknown_frames += 1
        logged = self._unknown_logged
        if channel not in logged and len(logged) < _MAX_UNKNOWN_LOGGED:
            logged.add(channel)
            self.log(f"ignoring frames on unknown channel {channel!r}", "warn")

    def note_ack(self) -> None:
        """A subscription response arrived."""
        self.acks += 1

    def note_tolerated(self, kind: str, dropped: int, defaulted: int) -> bool:
        """An answer or frame of ``kind`` (channel or info type) that the tolerant decoder
        repaired: ``dropped`` items left out, ``defaulted`` kept with defaults. Counted per
        kind (``tolerated``); True the first time for ``kind`` (the caller logs it once)."""
        counts = self.tolerated.get(kind)
        first = counts is None
        if counts is None:
            if len(self.tolerated) >= _MAX_UNKNOWN_LOGGED:
                return False  # a hostile feed inventing kinds: stop keeping new ones
            counts = self.tolerated[kind] = [0, 0, 0]
        counts[0] += 1
        counts[1] += dropped
        counts[2] += defaulted
        return first

    # ================================================================== writes: REST

    def set_rest_usage(self, weight_last_minute: int, budget: int) -> None:
        """REST weight spent in the last minute, and the budget it is held to."""
        if (weight_last_minute, budget) != (self.rest_weight_used, self.rest_budget):
            self.rest_weight_used = weight_last_minute
            self.rest_budget = budget
            self._changes.add("status")

    def set_fallback_active(self, active: bool) -> None:
        """The REST fallback poller started or stopped."""
        if active == self.fallback_active:
            return
        self.fallback_active = active
        # No log line here: the poller logs the switch itself, with the feeds involved.
        self._changes.add("status")

    def set_rest_plan(self, plan: RestPlanView | None) -> None:
        """The REST poller re-planned (None: no plan, nothing polled)."""
        if plan != self._rest_plan:
            self._rest_plan = plan
            self._changes.add("status")

    @property
    def rest_plan(self) -> RestPlanView | None:
        """The REST poll plan in force, or None."""
        return self._rest_plan

    def rest_cadence(self, feed_key: str) -> float | None:
        """Planned seconds between the REST polls serving ``feed_key``; None: not planned."""
        plan = self._rest_plan
        return None if plan is None else plan.cadences.get(feed_key)

    @property
    def rest_mode(self) -> bool:
        """The websocket is off by choice: REST is the transport, not a fallback."""
        return self._conn_state is ConnState.REST

    # ================================================================== the event log

    def log(self, text: str, level: str = "info") -> None:
        """Append a line to the event log (``info``, ``warn`` or ``error``)."""
        self._log.append(LogEvent(self._clock(), _LEVELS.get(level, level), text))
        self._changes.add("log")

    @property
    def events(self) -> list[LogEvent]:
        """The event log, newest last."""
        return list(self._log)

    # ================================================================== reads

    @property
    def connection(self) -> ConnectionInfo:
        """The websocket connection facts as last pushed by the feed; through a daemon, the
        daemon's link to the exchange when that one is not live."""
        info = ConnectionInfo(
            state=self._conn_state,
            attempt=self._attempt,
            next_retry_at=self._next_retry_at,
            reconnects=self._reconnects,
            url=self._url,
            last_alive=self._last_alive,
            last_error=self._last_error,
            connected_since=self._connected_since,
            reason=self._reason if self._conn_state is not ConnState.LIVE else None,
            via=self._via,
        )
        up = self._upstream
        if up is None:
            return info
        info = replace(info, reconnects=info.reconnects + up.reconnects)
        if self._conn_state is not ConnState.LIVE or up.state is ConnState.LIVE:
            return info
        return replace(
            info,
            state=up.state,
            attempt=up.attempt,
            next_retry_at=up.next_retry_at,
            last_error=up.last_error,
            connected_since=None,
            reason=short_reason(up.last_error) or "exchange link down (daemon)",
        )

    def socket_alive(self, now: float | None = None) -> bool:
        """The socket is LIVE and a frame/pong arrived within ``alive_window`` of ``now``
        (default: the clock now)."""
        if self._conn_state is not ConnState.LIVE or self._last_alive is None:
            return False
        if not self.upstream_live:
            return False
        return (self._clock() if now is None else now) - self._last_alive <= self._alive_window

    def silent_for(self, now: float | None = None) -> float | None:
        """Seconds since the exchange was last heard from: the last frame or pong, or through
        a daemon whose own link is down, when that link went down (None: never heard). How
        long an event feed has gone unvouched for (``freshness.stale_for``)."""
        heard = self._last_alive
        if heard is None:
            return None
        if self._upstream_down_since is not None:
            heard = min(heard, self._upstream_down_since)
        return max(0.0, (self._clock() if now is None else now) - heard)

    def alive_until(self) -> float | None:
        """The clock time at which the socket stops counting as alive if nothing arrives
        (None: not alive now)."""
        if self._conn_state is not ConnState.LIVE or self._last_alive is None:
            return None
        return self._last_alive + self._alive_window

    @property
    def frames_total(self) -> int:
        return self._frames.total

    @property
    def bytes_total(self) -> int:
        return self._frames.bytes_total

    @property
    def frames_by_channel(self) -> Mapping[str, int]:
        return self._frames.by_channel

    def msgs_per_s(self) -> float:
        """Frames per second over the last ~5 s."""
        return self._frames.rate(self._clock())
