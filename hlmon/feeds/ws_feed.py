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
from typing import Any, Literal, Protocol, cast

import aiohttp
from aiohttp import WSMsgType

from hlmon.feeds.backoff import ConnectionRateLimiter, FullJitterBackoff
from hlmon.feeds.failures import ConnectionLost, SocketDead, describe, describe_end, reason
from hlmon.feeds.proxy import env_proxy as _env_proxy
from hlmon.feeds.settings import WebsocketSettings
from hlmon.feeds.via import Route
from hlmon.protocol.decode import decode
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import (
    KnownMsg,
    Message,
    PongMsg,
    SubscriptionResponseMsg,
    UnknownMsg,
)
from hlmon.protocol.subscriptions import (
    PING_FRAME,
    Subscription,
    ack_matches,
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


_Socket = aiohttp.ClientWebSocketResponse[Literal[False]]
"""A client websocket that hands text frames over as bytes (``decode_text=False``)."""


@dataclass
class _PendingAck:
    sub: Subscription
    sent_at: float


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
    delays: deque[float] = field(default_factory=lambda: deque(maxlen=100))
    """The last 100 backoff delays slept, in order (bounded: the feed runs for weeks)."""


LiveCallback = Callable[[float | None], None]
"""Called on every transition into live with the outage length (None on the first connect).
Must not block: start a task for slow work (reconciliation)."""
DownCallback = Callable[[], None]
"""Called when a live connection is lost (before any reconnect wait)."""


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
    ) -> None:
        """``session``: an ``aiohttp.ClientSession`` to connect with (the feed then does not
        close it); by default ``run`` opens its own and closes it when it ends."""
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
        self._subs: dict[str, Subscription] = {}
        self._session = session
        self._ws: _Socket | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._pending_acks: dict[str, _PendingAck] = {}
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
        return list(self._subs.values())

    def subscribe(self, sub: Subscription) -> None:
        """Add ``sub``; sent now if connected, and after every reconnect."""
        if sub.key in self._subs:
            return
        self._subs[sub.key] = sub
        self._send_soon(subscribe_frame(sub), sub)

    def unsubscribe(self, sub: Subscription) -> None:
        """Drop ``sub``; an unsubscribe is sent if connected."""
        if self._subs.pop(sub.key, None) is None:
            return
        self._pending_acks.pop(sub.key, None)
        self._send_soon(unsubscribe_frame(sub), None)

    def _send_soon(self, frame: str, sub: Subscription | None) -> None:
        # Queued rather than awaited: the engine's select_coin is synchronous, and one writer
        # per connection keeps unsubscribe-old / subscribe-new in order.
        if self._outbox is not None:
            if sub is not None:
                self._pending_acks[sub.key] = _PendingAck(sub, self._now())
            self._outbox.put_nowait(frame)

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
        self._health.set_connection(ConnState.CONNECTING, attempt=0, url=self.url)
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
            use_session = via_session or session
            try:
                async with asyncio.timeout(self.timings.open_timeout):
                    ws = await use_session.ws_connect(
                        url,
                        autoping=True,  # answer the server's protocol pings
                        heartbeat=None,  # application pings only (see module docstring)
                        max_msg_size=self._max_size,
                        timeout=_WS_TIMEOUT,
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

    async def _serve(self, ws: _Socket) -> tuple[str, str]:
        """Run one connection until it dies; return why it died (full text, short reason)."""
        self._ws = ws
        self._outbox = asyncio.Queue()
        self._pending_acks.clear()
        now = self._now()
        self._last_frame = now
        self._ping_sent_at = None
        self.stats.connects += 1
        for sub in self._subs.values():
            self._pending_acks[sub.key] = _PendingAck(sub, now)
            self._outbox.put_nowait(subscribe_frame(sub))
        tasks = [
            asyncio.create_task(self._receive(ws), name="ws-receive"),
            asyncio.create_task(self._heartbeat(ws), name="ws-heartbeat"),
            asyncio.create_task(self._write(ws, self._outbox), name="ws-write"),
        ]
        text, why = "closed", "closed"
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
                if isinstance(exc, SocketDead):
                    self.stats.dead_detected += 1
                    self.stats.last_dead_reason = str(exc)
                break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.live.clear()
            self._ws = None
            self._outbox = None
            # The outage began with the last data this socket delivered (a stall can precede
            # the heartbeat's verdict by half a minute), not when it was declared dead.
            self._down_since = self._last_data if self._last_data is not None else self._now()
            if self._on_down is not None:
                self._on_down()
            await _abort(ws)
        return text, why

    # ------------------------------------------------------------------ per-connection tasks

    async def _receive(self, ws: _Socket) -> None:
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
                    decoded = decode(frame)
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
        health = self._health
        health.note_alive()
        health.note_frames(sum(counts.values()), self._nbytes, counts)
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
        if msg.data.method != "subscribe":
            return
        for key, pending in list(self._pending_acks.items()):
            if ack_matches(pending.sub, msg.data):
                del self._pending_acks[key]
                return

    async def _write(self, ws: _Socket, outbox: asyncio.Queue[str]) -> None:
        while True:
            frame = await outbox.get()
            await ws.send_str(frame)

    async def _heartbeat(self, ws: _Socket) -> None:
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
            if self._pending_acks:
                deadlines.append(
                    min(p.sent_at for p in self._pending_acks.values()) + t.ack_timeout
                )
            await asyncio.sleep(max(0.0, min(deadlines) - self._now()) + 0.001)

    def _log_unacked(self, now: float) -> None:
        late = [
            key
            for key, pending in self._pending_acks.items()
            if now - pending.sent_at >= self.timings.ack_timeout
        ]
        if not late:
            return
        for key in late:
            del self._pending_acks[key]
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
        return [p.sub for p in self._pending_acks.values()]

    async def close(self) -> None:
        """Abort the current socket, if any (``run`` is stopped by cancelling its task)."""
        if self._ws is not None:
            await _abort(self._ws)


_CHANNELS: dict[type, str] = {cls: cls.__struct_config__.tag for cls in KnownMsg.__args__}


def _channel_of(msg: Message) -> str:
    """The wire channel of a decoded message (msgspec keeps the tag off the instance)."""
    if isinstance(msg, UnknownMsg):
        return msg.channel
    return _CHANNELS.get(type(msg), "?")


_WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=1.0)
"""No receive timeout (the heartbeat owns liveness); a close handshake waits at most 1 s."""


async def _abort(ws: _Socket) -> None:
    """Drop a socket now. A polite close handshake could wait on a stalled peer."""
    # aiohttp has no public abort: reach the connection's transport through the response.
    conn = getattr(getattr(ws, "_response", None), "connection", None)
    transport = getattr(conn, "transport", None)
    if transport is not None:
        transport.abort()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            # Marks the socket closed and releases the connection; with the transport gone
            # the close frame fails at once instead of waiting for the peer.
            await ws.close()
