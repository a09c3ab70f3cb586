"""``NatsSocket``: the exchange's websocket, as ``WsFeed`` sees it, read from NATS.

``nats_route.NatsConnector.ws_connect`` stands in for ``aiohttp.ClientSession.ws_connect``: it
asks the daemon ``hello`` (no answer: the attempt fails, and the route may fall back) and
returns a socket with ``send_str``, ``receive`` and ``close``. The feed's frames are served
like this:

- ``subscribe``: first the frames' source is opened, then the daemon is asked (so nothing
  published in between is missed): an ordered JetStream consumer for event streams (from the
  sequence after the last one received, when the route has one: a resume; else from now,
  the backfill coming with the reply), one starting at the last message of the subject for
  state streams (the current state, then every new one), a core subscription for trades.
  The daemon's reply (the exchange's ack or error text, then any backfill) is handed on.
- ``unsubscribe``: the source is closed, the daemon told, its reply handed on.
- ``ping``: answered here while NATS is connected and the daemon was heard recently;
  otherwise not at all, so the feed's heartbeat ends the socket.
- ``post`` (an info request): answered from the daemon's ``/info`` over NATS.

The ``_daemon`` frames (the daemon's link to the exchange) come from the last-value stream,
so the first one arrives at once. The sequence of an event frame counts as received only when
``receive`` hands it to the feed: a frame still queued when the socket ends is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from aiohttp import WSMessage, WSMsgType
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.js import api as js_api

from hlmon.feeds.nats_subjects import (
    control_subject,
    delivery_of,
    stream_name,
    subject_of,
)
from hlmon.protocol.subscriptions import Subscription, canonical_key

if TYPE_CHECKING:
    from nats.js.client import JetStreamContext

MAX_QUEUED = 100_000
"""Frames waiting for the feed at most; past that the socket ends (a stalled reader)."""
REQUEST_TIMEOUT = 15.0
"""How long the daemon may take to answer a subscribe (it waits for the exchange's ack)."""
PARSE_ERROR = "Error parsing JSON into valid websocket request: "
_PONG = b'{"channel":"pong"}'
_ERROR = b'{"channel":"error"'
_encode = msgspec.json.encode
_decode = msgspec.json.decode

_Source = NatsSubscription | Any
"""A core subscription or a JetStream push subscription (both ``unsubscribe()``)."""


class SocketRoute(Protocol):
    """What a socket needs of its route (``nats_route.NatsRoute``)."""

    network: str
    client_id: str
    last_seq: dict[str, int]
    """Per event subscription, the last JetStream sequence handed to the feed."""
    daemon_heard: float | None

    @property
    def connection(self) -> NatsClient | None: ...
    def daemon_fresh(self) -> bool: ...
    def hold(self, key: str, wire: dict[str, Any]) -> None: ...
    def let_go(self, key: str) -> None: ...
    def socket_closed(self, sock: NatsSocket) -> None: ...
    async def info(self, body: bytes, wait: float) -> tuple[int, bytes, str]: ...


class NatsSocket:
    """One "connection" of the feed: its subscriptions' sources and the frames they bring."""

    def __init__(self, route: SocketRoute) -> None:
        self._route = route
        self._frames: deque[tuple[bytes, str | None, int | None]] = deque()
        self._wake = asyncio.Event()
        self._sources: dict[str, _Source] = {}
        self._daemon: _Source | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._chains: dict[str, asyncio.Future[Any]] = {}
        """Per subscription key, the last request queued for it."""
        self._ended: str | None = None
        self.closed = False

    @property
    def _nc(self) -> NatsClient:
        nc = self._route.connection
        if nc is None:
            raise ConnectionError("not connected to NATS")
        return nc

    def _js(self) -> JetStreamContext:
        return self._nc.jetstream(timeout=5.0)

    async def open(self) -> None:
        """Start reading the daemon's state (its last frame first)."""
        route = self._route
        self._daemon = await self._js().subscribe(
            control_subject(route.network, "_daemon"),
            stream=stream_name(route.network, "last"),
            ordered_consumer=True,
            deliver_policy=js_api.DeliverPolicy.LAST_PER_SUBJECT,
            cb=self._on_daemon,
        )

    async def _on_daemon(self, msg: Msg) -> None:
        self._route.daemon_heard = time.monotonic()
        self._put(msg.data, None, None)

    # ------------------------------------------------------------------ the feed's side

    async def receive(self) -> WSMessage:
        """The next frame (as bytes), or an ERROR message once the socket ended."""
        frames = self._frames
        while True:
            if frames:
                raw, key, seq = frames.popleft()
                if key is not None and seq is not None:
                    self._route.last_seq[key] = seq
                return WSMessage(WSMsgType.TEXT, raw, None)
            if self._ended is not None or self.closed:
                return WSMessage(WSMsgType.ERROR, ConnectionError(self._ended or "closed"), None)
            self._wake.clear()
            await self._wake.wait()

    async def send_str(self, text: str) -> None:
        """A client frame: served here or asked of the daemon (in the background)."""
        if self.closed:
            raise ConnectionError("the socket is closed")
        try:
            msg = _decode(text)
            method = msg.get("method") if isinstance(msg, dict) else None
        except msgspec.DecodeError:
            method = None
        if method == "ping":
            if self._route.daemon_fresh():
                self._put(_PONG, None, None)
        elif method in ("subscribe", "unsubscribe") and isinstance(msg.get("subscription"), dict):
            work = self._subscribe if method == "subscribe" else self._unsubscribe
            wire = msg["subscription"]
            # In order per subscription (a quick subscribe-unsubscribe must not swap), in
            # parallel across them (each waits for the exchange's ack).
            key = canonical_key(wire)
            self._chains[key] = self._spawn(_after(self._chains.get(key), work(wire)))
        elif method == "post" and isinstance(msg.get("id"), int):
            self._spawn(self._post(msg["id"], msg.get("request")))
        else:
            self._put(_error(PARSE_ERROR + text.strip()[:2000]), None, None)

    async def close(self) -> None:
        """Stop every source (what the route holds stays held with the daemon)."""
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        self._route.socket_closed(self)
        for task in list(self._tasks):
            task.cancel()
        sources = [*self._sources.values(), self._daemon]
        self._sources.clear()
        for source in sources:
            if source is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(source.unsubscribe(), 1.0)

    def end(self, why: str) -> None:
        """End the socket: the feed reads ``why`` once the queued frames are read."""
        if self._ended is None:
            self._ended = why
            self._wake.set()

    # ------------------------------------------------------------------ frames

    def _put(self, raw: bytes, key: str | None, seq: int | None) -> None:
        if self.closed:
            return
        if len(self._frames) >= MAX_QUEUED:
            self.end(f"more than {MAX_QUEUED} frames unread: the feed stalled")
            return
        self._frames.append((raw, key, seq))
        self._wake.set()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        for key, last in list(self._chains.items()):
            if last is task:
                del self._chains[key]
        if not task.cancelled() and task.exception() is not None:
            self.end(f"NATS: {task.exception()}")

    # ------------------------------------------------------------------ subscriptions

    async def _subscribe(self, wire: dict[str, Any]) -> None:
        route = self._route
        key = canonical_key(wire)
        if key in self._sources:
            self._put(_error(f"Already subscribed: {_encode(wire).decode()}"), None, None)
            return
        try:
            sub = _subscription(wire)
            subject = subject_of(route.network, sub)
        except ValueError:
            subject = None
        delivery = delivery_of(str(wire.get("type")))
        if subject is None or delivery is None:
            self._put(_error(f"Invalid subscription {_encode(wire).decode()}"), None, None)
            return
        resume = route.last_seq.get(key) if delivery == "events" else None
        if resume is not None and not await self._still_kept(resume):
            resume = None  # aged out of the stream: start afresh from the backfill
        route.hold(key, wire)
        self._sources[key] = await self._source(subject, delivery, key, resume)
        body: dict[str, Any] = {
            "method": "subscribe",
            "client": route.client_id,
            "subscription": wire,
        }
        if resume is not None:
            body["resume"] = True
        reply = await self._ask(body)
        frames = [line for line in reply.split(b"\n") if line]
        if frames and frames[0].startswith(_ERROR):
            route.let_go(key)
            source = self._sources.pop(key, None)
            if source is not None:
                await source.unsubscribe()
        for raw in frames:
            self._put(raw, None, None)

    async def _unsubscribe(self, wire: dict[str, Any]) -> None:
        key = canonical_key(wire)
        self._route.let_go(key)
        source = self._sources.pop(key, None)
        if source is not None:
            await source.unsubscribe()
        body = {"method": "unsubscribe", "client": self._route.client_id, "subscription": wire}
        for raw in (await self._ask(body)).split(b"\n"):
            if raw:
                self._put(raw, None, None)

    async def _ask(self, body: dict[str, Any]) -> bytes:
        route = self._route
        subject = control_subject(route.network, "_subscribe")
        try:
            msg = await self._nc.request(subject, _encode(body), REQUEST_TIMEOUT)
        except NoRespondersError:
            self.end("the hlmon daemon stopped answering on NATS")
            return b""
        except TimeoutError:
            return b""  # the feed logs the subscription as unacknowledged
        data: bytes = msg.data
        return data

    async def _still_kept(self, seq: int) -> bool:
        """The event stream still holds every message after ``seq``: none aged out (the
        stream drops only its oldest, by age or size) and it was not made anew since."""
        try:
            info = await self._js().stream_info(stream_name(self._route.network, "events"))
        except (NatsError, TimeoutError):
            return False
        state = info.state
        return state is not None and state.first_seq <= seq + 1 and seq <= state.last_seq

    async def _source(self, subject: str, delivery: str, key: str, resume: int | None) -> _Source:
        put = self._put
        if delivery == "core":

            async def core(msg: Msg) -> None:
                put(msg.data, None, None)

            return await self._nc.subscribe(subject, cb=core)
        if delivery == "last":
            policy = js_api.DeliverPolicy.LAST_PER_SUBJECT
            config = None
        elif resume is None:
            policy = js_api.DeliverPolicy.NEW
            config = None
        else:
            policy = js_api.DeliverPolicy.BY_START_SEQUENCE
            config = js_api.ConsumerConfig(opt_start_seq=resume + 1)
        events = delivery == "events"

        async def jetstream(msg: Msg) -> None:
            put(msg.data, key, msg.metadata.sequence.stream if events else None)

        return await self._js().subscribe(
            subject,
            stream=stream_name(self._route.network, "events" if events else "last"),
            ordered_consumer=True,
            deliver_policy=policy,
            config=config,
            cb=jetstream,
        )

    async def _post(self, rid: int, request: Any) -> None:
        payload = request.get("payload") if isinstance(request, dict) else None
        if (
            not isinstance(request, dict)
            or request.get("type") != "info"
            or not isinstance(payload, dict)
        ):
            reply: Any = {"type": "error", "payload": "read-only: info requests only"}
            self._put(
                _encode({"channel": "post", "data": {"id": rid, "response": reply}}), None, None
            )
            return
        try:
            status, body, _kind = await self._route.info(_encode(payload), REQUEST_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            status, body = 502, str(exc).encode()
        head = b'{"channel":"post","data":{"id":%d,"response":' % rid
        if status == 200:
            kind = _encode(payload.get("type"))
            out = b'{"type":"info","payload":{"type":' + kind + b',"data":' + body + b"}}"
        else:
            out = _encode({"type": "error", "payload": body.decode("utf-8", "replace")})
        self._put(head + out + b"}}", None, None)


def _subscription(wire: dict[str, Any]) -> Subscription:
    params = tuple((k, v) for k, v in wire.items() if k != "type" and v is not None)
    return Subscription(str(wire.get("type")), params)


def _error(text: str) -> bytes:
    return _encode({"channel": "error", "data": text})


async def _after(previous: asyncio.Future[Any] | None, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` once ``previous`` (if any) has finished, however it finished; never once
    this task itself was cancelled (the socket closed) while it waited."""
    if previous is not None:
        try:
            await asyncio.shield(previous)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Our own cancel, not ``previous``'s: swallowing it ran a subscribe after
                # close() (a NATS subscription nobody would ever end).
                work.close()
                raise
        except Exception:
            pass  # ``previous`` failed: it said so itself (``_done``)
    await work
