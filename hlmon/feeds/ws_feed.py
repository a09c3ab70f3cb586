"""``WsFeed``: one websocket to the exchange, kept alive, resubscribed, never given up.

State machine pushed to the store's health (``FeedHealth.set_connection``)::

    connecting -> live -> reconnecting(attempt, next retry in s) -> live -> ...

``attempt`` is the try since the connection was lost (1, 2, ...), what the status bar shows;
the backoff grows with consecutive quick failures instead, across outages. Each failure comes
with its full text and a short reason (``feeds.failures``). The outage reported on the way
back to live runs from the last data frame before it, not from when it was detected.

(``down`` is the engine's business: websockets disabled, or a task of the engine crashed and
its supervisor is restarting it, see ``hlmon.feeds.supervisor``.)

Liveness is decided by the application, not by TCP: a ``{"method":"ping"}`` goes out every
``ping_interval``; no ``pong`` within ``pong_timeout`` or no frame at all within
``silence_timeout`` means the socket is dead even if the kernel still calls it open
(half-open sockets are common), so we abort it and reconnect. Reconnects wait
``uniform(0, min(cap, initial * 2**attempt))`` (full jitter) and never open more than
``max_new_per_minute`` connections in any rolling minute.

Transport: aiohttp's client websocket (its frame reader is C; per frame it costs a fifth of
``websockets``' pure-Python one), on an ``aiohttp.ClientSession`` the feed owns for its life
(or one passed in). Library-level pings are off (``heartbeat=None``); protocol pings from the
server are still answered (``autoping``). TLS: the session's default context (certificates and
host names verified); nothing here can turn that off.

Every received frame goes ``decode -> apply``; a frame that does not decode is counted with
``health.note_rejected`` and the loop carries on. Counting (frames, bytes, per channel) and the
``note_alive`` stamp are batched: the loop keeps plain counters and pushes them to the store's
health (``note_alive`` + ``note_frames``) once per event-loop turn, i.e. every time it has
drained what the socket delivered. That push is the only path: the store never calls back into
the feed, so what it reports is at most one loop turn behind. With a ``recorder`` (see
``hlmon.feeds.recorder``), each raw frame is first handed to ``recorder.write(raw, time.time())``.
Through an ``hlmon daemon`` (``route``, see ``hlmon.feeds.via``) each attempt asks the route
where to go, the last numbered frame (``{"seq":N,...}``) is remembered for the reconnect, and
``_daemon`` frames (the daemon's upstream state) go to ``on_daemon``, not the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import aiohttp
from aiohttp import WSMsgType

from hlmon import tls_deferral
from hlmon.cancelling import cancel_and_wait
from hlmon.feeds.backoff import ConnectionRateLimiter, FullJitterBackoff
from hlmon.feeds.failures import ConnectionLost, SocketDead, describe, describe_end, reason
from hlmon.feeds.proxy import env_proxy as _env_proxy
from hlmon.feeds.settings import WebsocketSettings
from hlmon.feeds.via import Route
from hlmon.feeds.ws_limits import LimitKind
from hlmon.feeds.ws_subscriptions import SubscriptionBook, sub_label
from hlmon.feeds.ws_transport import WS_TIMEOUT, Socket, abort
from hlmon.protocol.decode import classify, fast_decode
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import (
    ErrorMsg,
    KnownMsg,
    Message,
    PongMsg,
    SubscriptionResponseMsg,
    UnknownMsg,
)
from hlmon.protocol.subscriptions import (
    PING_FRAME,
    Subscription,
    subscribe_frame,
    unsubscribe_frame,
)
from hlmon.state.types import ConnState, Source

MAX_FRAME_BYTES = 16 * 2**20
"""Largest frame accepted: a big account's clearinghouseState is ~65 KB, allMids ~16 KB;
16 MB leaves room for huge snapshots while still bounding memory."""


class HealthSink(Protocol):
    """The part of ``FeedHealth`` the websocket feed pushes to."""

    def note_alive(self) -> None: ...
    def note_rtt(self, ms: float) -> None: ...
    def note_frames(
        self, n: int, nbytes: int, by_channel: dict[str, int], at: float | None = ...
    ) -> None: ...
    def note_rejected(self, reason: str, snippet: str) -> None: ...
    def set_connection(
        self,
        state: ConnState,
        *,
        attempt: int = ...,
        next_retry_in: float | None = ...,
        url: str | None = ...,
        error: str | None = ...,
        reason: str | None = ...,
    ) -> None: ...
    def log(self, text: str, level: str = ...) -> None: ...


class FeedStore(Protocol):
    """The part of the Store the websocket feed writes to: messages, and its health."""

    def apply(self, msg: Message, source: Source = ...) -> Any: ...
    @property
    def health(self) -> HealthSink: ...


class FrameSink(Protocol):
    """Where raw frames go when recording (``hlmon.feeds.recorder.FrameRecorder``)."""

    def write(self, raw: bytes, t: float) -> None: ...


@dataclass
class FeedStats:
    """Counters tests and benchmarks read."""

    connects: int = 0
    """Successful connections (the first included)."""
    attempts: int = 0
    """Connection attempts, successful or not."""
    dead_detected: int = 0
    """Connections the heartbeat declared dead."""
    last_dead_reason: str | None = None
    unacked_logged: int = 0
    held_back: int = 0
    """Market subscriptions held back after a drop right after they were sent."""
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=100))
    """The last 100 backoff delays slept, in order (bounded: the feed runs for weeks)."""
    limit_errors: dict[str, int] = field(default_factory=dict)
    """``error`` frames reporting an exchange limit, by kind (``users``, ``channels``...)."""


LiveCallback = Callable[[float | None], None]
"""Called on every transition into live with the outage length (None on the first connect).
Must not block: start a task for slow work (reconciliation)."""
DownCallback = Callable[[], None]
"""Called when a live connection is lost (before any reconnect wait)."""
HeldBackCallback = Callable[[list[Subscription]], None]
"""Called with the market subscriptions held back after a drop (see
``hlmon.feeds.ws_subscriptions``); they are no longer subscribed."""


class WsFeed:
    """Keeps one websocket to ``url`` live and subscribed to ``subscriptions``."""

    def __init__(
        self,
        url: str,
        store: FeedStore,
        timings: WebsocketSettings,
        *,
        rng: random.Random | None = None,
        on_live: LiveCallback | None = None,
        on_down: DownCallback | None = None,
        max_size: int = MAX_FRAME_BYTES,
        recorder: FrameSink | None = None,
        session: aiohttp.ClientSession | None = None,
        route: Route | None = None,
        on_daemon: Callable[[Any], None] | None = None,
        max_users: int = 10,
        learn_user_cap: bool = True,
        on_held_back: HeldBackCallback | None = None,
    ) -> None:
        """``session``: an ``aiohttp.ClientSession`` to connect with (the feed then does not
        close it); by default ``run`` opens its own and closes it when it ends.
        ``max_users``: users subscribed at most (lowered for good if the exchange refuses one
        earlier, unless ``learn_user_cap`` is False: the owner keeps the cap across sockets);
        ``on_held_back``: told which market subscriptions a drop made it hold back."""
        self.url = url
        self.route = route
        self._on_daemon = on_daemon
        self.last_seq: int | None = None
        """The last numbered frame received through a daemon (sent back on reconnect)."""
        self.recorder = recorder
        """Gets every received frame with its wall-clock receive time (must not block)."""
        self._store = store
        self._health = store.health
        self.timings = timings
        self._backoff = FullJitterBackoff(
            timings.backoff_initial, timings.backoff_max, rng or random.Random()
        )
        self._limiter = ConnectionRateLimiter(timings.max_new_per_minute, clock=self._now)
        self._on_live = on_live
        self._on_down = on_down
        self._max_size = max_size
        self.book = SubscriptionBook(max_users, learn_cap=learn_user_cap)
        """What is subscribed, sent, acknowledged and held back (``ws_subscriptions``)."""
        self._on_held_back = on_held_back
        self._capped_logged: set[str] = set()
        self._session = session
        self._ws: Socket | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._last_frame = 0.0
        self._ping_sent_at: float | None = None
        self._down_since: float | None = None
        """When the outage began: the last data frame before the socket died."""
        self._last_data: float | None = None
        """Monotonic time of the last data frame (not a pong or an ack), any socket."""
        self._outage: float | None = None
        self.live = asyncio.Event()
        """Set once a connection has delivered its first frame, until it dies: an open
        socket that never says anything is not live."""
        self.stats = FeedStats()
        # Frames received but not yet pushed to the health (see the module docstring).
        self._counts: dict[str, int] = {}
        self._nbytes = 0
        self._flush_armed = False

    # ------------------------------------------------------------------ subscriptions

    @property
    def subscriptions(self) -> list[Subscription]:
        """What the feed is (or will be, once connected) subscribed to."""
        return list(self.book.subs.values())

    def subscribe(self, sub: Subscription) -> None:
        """Add ``sub``; sent now if connected (a new user's in turn), and after every
        reconnect."""
        self._send_subs(self.book.add(sub, self._now()))

    def unsubscribe(self, sub: Subscription) -> None:
        """Drop ``sub``; an unsubscribe is sent if connected."""
        if self.book.discard(sub) and self._outbox is not None:
            self._outbox.put_nowait(unsubscribe_frame(sub))

    def _send_subs(self, subs: list[Subscription]) -> None:
        # Queued rather than awaited: the engine's select_coin is synchronous, and one writer
        # per connection keeps unsubscribe-old / subscribe-new in order.
        if self._outbox is not None:
            for sub in subs:
                self._outbox.put_nowait(subscribe_frame(sub))
        self._log_capped()

    # ------------------------------------------------------------------ main loop

    _now = staticmethod(time.monotonic)
    """Monotonic seconds (what ``loop.time()`` reads too, but a plain C call): every deadline."""

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        session = self._session
        if session is not None:
            await self._run(session)
            return
        # Default TLS context: certificates and host names verified (docs/security.md).
        async with aiohttp.ClientSession() as session:
            await self._run(session)

    async def _run(self, session: aiohttp.ClientSession) -> None:
        # ``attempt`` is what the status bar shows: tries since the connection was lost (or
        # since start-up), 1 for the first retry. ``failures`` counts consecutive quick
        # failures for the backoff: a socket that keeps dying soon after connecting backs off
        # further each time, although each outage's attempts start again at 1.
        attempt = 0
        failures = 0
        retrying = False
        error: str | None = None
        why: str | None = None
        announced = False
        while True:
            # Until the first connection succeeds the state stays "connecting" (with its retry
            # count); after a live connection was lost it is "reconnecting".
            waiting = ConnState.RECONNECTING if self.stats.connects else ConnState.CONNECTING
            if retrying:
                delay = max(self._backoff.delay(failures - 1), self._limiter.wait_time())
                self.stats.delays.append(delay)
                # The error is passed once per failure: the health logs each new one.
                self._health.set_connection(
                    waiting,
                    attempt=attempt,
                    next_retry_in=delay,
                    url=self.url,
                    error=error,
                    reason=why,
                )
                await asyncio.sleep(delay)
                # Never more than max_new_per_minute attempts in any rolling minute.
                while (wait := self._limiter.wait_time()) > 0:
                    self._health.set_connection(
                        waiting, attempt=attempt, next_retry_in=wait, url=self.url
                    )
                    await asyncio.sleep(wait)
            retrying = True
            self._limiter.note_attempt()
            self.stats.attempts += 1
            url, via_session = self.url, None
            if self.route is not None:
                url, via_session = self.route.pick(self.last_seq)
                if via_session is None:
                    self.last_seq = None  # direct: the exchange does not number frames
                self.url = url.split("?", 1)[0]  # shown without the client id
            if not announced:  # where the route sends it (the daemon), not the upstream
                announced = True
                self._health.set_connection(ConnState.CONNECTING, attempt=0, url=self.url)
            use_session = via_session or session
            if url.startswith("wss:"):
                tls_deferral.load_deferred_certs()  # a TUI start may have put them off
            try:
                async with asyncio.timeout(self.timings.open_timeout):
                    ws = await use_session.ws_connect(
                        url,
                        autoping=True,  # answer the server's protocol pings
                        heartbeat=None,  # application pings only (see module docstring)
                        max_msg_size=self._max_size,
                        timeout=WS_TIMEOUT,
                        compress=0,
                        decode_text=False,  # text frames as bytes: msgspec parses them as is
                        proxy=None if via_session is not None else _env_proxy(url),
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, DNS, TLS, HTTP status, timeout...
                attempt += 1
                failures += 1
                error = describe(exc)
                if isinstance(exc, TimeoutError) and not str(exc):
                    error = "TimeoutError: timed out opening the socket"
                why = reason(exc)
                if self.route is not None and via_session is not None:
                    self.route.failed()
                continue
            if self.route is not None:
                self.route.connected()
            started = self._now()
            error, why = await self._serve(ws)
            lived = self._now() - started
            # The delay before a retry after n consecutive quick failures is drawn from
            # uniform(0, min(cap, initial * 2**(n-1))); a socket that lived stable_after
            # starts the count again.
            failures = 1 if lived >= self.timings.stable_after else failures + 1
            attempt = 1
            # No log line here: the next set_connection carries ``error`` and the health logs
            # "connection lost: <why>, retry n in x s" once.

    async def _serve(self, ws: Socket) -> tuple[str, str]:
        """Run one connection until it dies; return why it died (full text, short reason)."""
        self._ws = ws
        self._outbox = asyncio.Queue()
        now = self._now()
        self._last_frame = now
        self._ping_sent_at = None
        self.stats.connects += 1
        self._send_subs(self.book.connect(now))
        tasks = [
            asyncio.create_task(self._receive(ws), name="ws-receive"),
            asyncio.create_task(self._heartbeat(ws), name="ws-heartbeat"),
            asyncio.create_task(self._write(ws, self._outbox), name="ws-write"),
        ]
        text, why = "closed", "closed"
        dropped = False
        """The server or the network ended it (not our heartbeat, not a cancellation)."""
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            # In task order: when the socket ends, the receiver's reason (close code, drop) is
            # the one to tell, not the writer's "cannot write to closing transport".
            for task in (t for t in tasks if t in done):
                exc = task.exception()
                if exc is None:
                    text, why = "closed by server", "closed by server"
                else:
                    text, why = describe(exc), reason(exc)
                dropped = not isinstance(exc, SocketDead)
                if isinstance(exc, SocketDead):
                    self.stats.dead_detected += 1
                    self.stats.last_dead_reason = str(exc)
                break
        finally:
            await cancel_and_wait(tasks, what="socket task")
            self.live.clear()
            self._ws = None
            self._outbox = None
            # The outage began with the last data this socket delivered (a stall can precede
            # the heartbeat's verdict by half a minute), not when it was declared dead.
            self._down_since = self._last_data if self._last_data is not None else self._now()
            self._hold_back(self.book.disconnect(self._now(), dropped=dropped))
            if self._on_down is not None:
                self._on_down()
            await abort(ws)
        return text, why

    # ------------------------------------------------------------------ per-connection tasks

    async def _receive(self, ws: Socket) -> None:
        # The hot loop: everything it needs is bound to locals, messages are dispatched on
        # their exact type, and counting is plain dict/int increments handed over in batches.
        health = self._health
        apply = self._store.apply
        receive = ws.receive
        monotonic = time.monotonic
        record = self.recorder.write if self.recorder is not None else None
        wall = time.time
        channels = _CHANNELS
        counts = self._counts
        call_soon = asyncio.get_running_loop().call_soon
        flush = self._flush_counts
        text, binary = WSMsgType.TEXT, WSMsgType.BINARY
        ws_source = Source.WS
        live = self.live.is_set()
        last_data = self._last_data
        numbered = self.route is not None
        try:
            while True:
                msg = await receive()
                kind = msg.type
                if kind is not text and kind is not binary:
                    raise ConnectionLost(describe_end(msg))
                frame: bytes = msg.data
                if numbered and frame[:7] == b'{"seq":':
                    with contextlib.suppress(ValueError):
                        self.last_seq = int(frame[7 : frame.find(b",", 7)])
                if record is not None:
                    record(frame, wall())
                self._last_frame = received = monotonic()
                if not live:
                    live = True
                    self._went_live()
                self._nbytes += len(frame)
                if not self._flush_armed:
                    # Push the counts once the loop has drained what the socket delivered.
                    self._flush_armed = True
                    call_soon(flush)
                try:
                    decoded = fast_decode(frame)
                except Exception as fast_error:  # ``decode`` inlined: its slow path
                    try:
                        decoded = classify(frame, fast_error)
                    except ProtocolError as exc:
                        counts["?"] = counts.get("?", 0) + 1
                        health.note_rejected(exc.reason, exc.snippet)
                        continue
                cls = type(decoded)
                channel = channels.get(cls) or _channel_of(decoded)
                counts[channel] = counts.get(channel, 0) + 1
                if cls is PongMsg:
                    if self._ping_sent_at is not None:
                        health.note_rtt((self._last_frame - self._ping_sent_at) * 1000.0)
                    self._ping_sent_at = None
                elif cls is SubscriptionResponseMsg:
                    self._match_ack(cast(SubscriptionResponseMsg, decoded))
                elif cls is ErrorMsg:
                    self._on_error_frame(cast(ErrorMsg, decoded).data)
                elif cls is UnknownMsg and self._on_daemon is not None:
                    unknown = cast(UnknownMsg, decoded)
                    if unknown.channel == "_daemon":
                        self._on_daemon(unknown.data)
                        continue
                    last_data = received
                else:
                    last_data = received
                try:
                    apply(decoded, ws_source)
                except Exception as exc:
                    # A bug in applying one frame must cost that frame, not the connection (a
                    # reconnect would just replay the snapshot that triggers it).
                    health.note_rejected(f"could not apply {channel} frame: {exc!r}", "")
        finally:
            self._last_data = last_data
            self._flush_counts()

    def _flush_counts(self) -> None:
        """Push the frames counted since the last call to the health (and stamp it alive)."""
        self._flush_armed = False
        counts = self._counts
        if not counts:
            return
        self._health.note_alive()
        self._health.note_frames(sum(counts.values()), self._nbytes, counts)
        counts.clear()
        self._nbytes = 0

    def _went_live(self) -> None:
        # Live only once the server has said something on this socket (normally the first
        # ack, milliseconds after the upgrade): a server that accepts and then stays silent
        # must not turn the status bar green.
        self.live.set()
        self._health.set_connection(ConnState.LIVE, attempt=0, url=self.url)
        # The outage: from the last data before it to now (None on the first connection).
        down = self._down_since
        self._outage = None if down is None else self._now() - down
        if self._on_live is not None:
            self._on_live(self._outage)

    def _match_ack(self, msg: SubscriptionResponseMsg) -> None:
        self._send_subs(self.book.ack(msg.data, self._now()))

    def _on_error_frame(self, text: str) -> None:
        """An exchange limit reported: act on it (the store logs the text, rate-limited)."""
        cap = self.book.gate.cap
        limit, released = self.book.error(text, self._now())
        if limit is None:
            return
        counts = self.stats.limit_errors
        counts[limit.kind] = counts.get(limit.kind, 0) + 1
        if limit.kind is LimitKind.USERS and self.book.gate.cap != cap:
            self._health.log(
                f"the exchange refused another user: at most {self.book.gate.cap} users are "
                "subscribed from now on (the others' rows come from REST)",
                "warn",
            )
        self._send_subs(released)

    def _log_capped(self) -> None:
        new = [u for u in self.book.gate.capped if u not in self._capped_logged]
        if new:
            self._capped_logged.update(new)
            self._health.log(
                f"user cap {self.book.gate.cap}: not subscribed on the websocket: "
                f"{', '.join(new)} (their rows come from REST)",
                "warn",
            )

    def _hold_back(self, held: list[Subscription]) -> None:
        if not held:
            return
        self.stats.held_back += len(held)
        shown = ", ".join(sub_label(s) for s in held)
        self._health.log(
            f"the socket was dropped right after subscribing {shown}: held back, not "
            "resubscribed (the exchange drops a socket over a name it does not list)",
            "error",
        )
        if self._on_held_back is not None:
            self._on_held_back(held)  # after the log line: its own lines say what follows

    async def _write(self, ws: Socket, outbox: asyncio.Queue[str]) -> None:
        while True:
            frame = await outbox.get()
            await ws.send_str(frame)

    async def _heartbeat(self, ws: Socket) -> None:
        t = self.timings
        next_ping = self._now() + t.ping_interval
        while True:
            now = self._now()
            if self._ping_sent_at is not None and now - self._ping_sent_at >= t.pong_timeout:
                raise SocketDead(f"no pong within {t.pong_timeout:g} s")
            if now - self._last_frame >= t.silence_timeout:
                raise SocketDead(f"no frame for {t.silence_timeout:g} s")
            probe = self._ping_sent_at is None and now - self._last_frame >= t.probe_after
            if now >= next_ping or probe:
                if self._ping_sent_at is None:
                    self._ping_sent_at = now
                try:
                    # A peer that stopped reading can make even a tiny send wait for buffer
                    # space; that must not silence the watchdog.
                    async with asyncio.timeout(t.pong_timeout):
                        await ws.send_str(PING_FRAME)
                except TimeoutError:
                    raise SocketDead(f"ping not sent within {t.pong_timeout:g} s") from None
                next_ping = now + t.ping_interval
            self._log_unacked(now)
            deadlines = [next_ping, self._last_frame + t.silence_timeout]
            if self._ping_sent_at is not None:
                deadlines.append(self._ping_sent_at + t.pong_timeout)
            else:
                deadlines.append(self._last_frame + t.probe_after)
            oldest = self.book.oldest_pending()
            if oldest is not None:
                deadlines.append(oldest + t.ack_timeout)
            await asyncio.sleep(max(0.0, min(deadlines) - self._now()) + 0.001)

    def _log_unacked(self, now: float) -> None:
        late, released = self.book.late(now, self.timings.ack_timeout)
        self._send_subs(released)
        if not late:
            return
        self.stats.unacked_logged += len(late)
        # One line for the lot: after a reconnect to a silent server every subscription is
        # late at once, and a line each would flood the log tab.
        shown = ", ".join(late[:3]) + (f" and {len(late) - 3} more" if len(late) > 3 else "")
        self._health.log(
            f"{len(late)} subscription(s) not acknowledged within "
            f"{self.timings.ack_timeout:g} s: {shown}",
            "warn",
        )

    @property
    def pending_acks(self) -> list[Subscription]:
        """Subscriptions sent on this connection and not acknowledged yet."""
        return [p.sub for p in self.book.pending.values()]

    async def close(self) -> None:
        """Abort the current socket, if any (``run`` is stopped by cancelling its task)."""
        if self._ws is not None:
            await abort(self._ws)


_CHANNELS: dict[type, str] = {cls: cls.__struct_config__.tag for cls in KnownMsg.__args__}


def _channel_of(msg: Message) -> str:
    """The wire channel of a decoded message (msgspec keeps the tag off the instance)."""
    if isinstance(msg, UnknownMsg):
        return msg.channel
    return _CHANNELS.get(type(msg), "?")
