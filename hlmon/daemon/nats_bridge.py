"""``NatsBridge``: the daemon's streams on a NATS server (``hlmon daemon --nats URL``).

For a desk of many hosts behind one egress IP: one daemon owns the exchange connections and
publishes; every terminal reads from NATS (``hlmon --via nats://…``). Subjects and escaping:
``feeds.nats_subjects``; the request protocol: ``nats_clients``.

- Every frame of every upstream stream (whoever asked for it: a local client or a NATS one)
  is published once, as the exchange's bytes, on the stream's subject, by one writer task in
  arrival order (a bounded queue: what does not fit is counted, never held).
- JetStream keeps the event streams (``hl-<network>-events``, file storage, ``events_max_age``
  s) so a client that reconnects resumes by stream sequence, and the last frame of each state
  stream and of ``_daemon`` (``hl-<network>-last``, memory, one per subject) so a new
  subscriber starts from the current state in the same ordered consumer that then carries the
  live frames: no window between "fetch the last value" and "subscribe" where a frame could
  be lost or arrive out of order, as with a KV get followed by a core subscription. That
  stream is purged when the daemon starts and per subject when a stream closes, so a value
  is never older than the stream serving it.
- ``hl.<network>._subscribe``: requests turned into upstream subscriptions (``NatsRequests``);
  ``hl.<network>._info``: ``/info`` bodies answered by the daemon's ``InfoProxy`` (one REST
  budget for the desk; the answer's HTTP status in the ``Hlmon-Status`` header);
  ``hl.<network>._daemon``: the daemon's upstream state, on every change and every
  ``status_interval`` s (a client that stops hearing it knows the daemon is gone).

Credentials go to the NATS client only; logs name the server by ``endpoint.display``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api as js_api
from nats.js.errors import BadRequestError

from hlmon.cancelling import cancel_and_wait
from hlmon.daemon.catalog import DaemonCatalog
from hlmon.daemon.nats_clients import NatsClients
from hlmon.daemon.nats_requests import NatsRequests
from hlmon.daemon.rest import InfoProxy
from hlmon.daemon.sessions import ClientSession
from hlmon.daemon.streams import Stream
from hlmon.daemon.upstream import Upstream
from hlmon.feeds.nats_connect import connect, why
from hlmon.feeds.nats_endpoint import NatsEndpoint
from hlmon.feeds.nats_subjects import (
    control_subject,
    delivery_of,
    stream_name,
    stream_subjects,
    subject_of,
)

logger = logging.getLogger("hlmon.daemon.nats")

MAX_QUEUE = 100_000
"""Frames waiting for the NATS writer at most; past that they are dropped and counted."""
MAX_INFO_IN_FLIGHT = 64
STATUS_HEADER = "Hlmon-Status"
CLIENT_HEADER = "Hlmon-Client"
CLOSE_TIMEOUT_S = 5.0
"""How long a NATS connection may take to close on stop (flushes, then gives up)."""

RestClient = Callable[[str | None, str], ClientSession | None]
"""The session a REST request is counted against (``DaemonServer._rest_client``)."""


class NatsBridge:
    """Publishes the daemon's streams to NATS and serves NATS clients' requests."""

    def __init__(
        self,
        upstream: Upstream,
        info: InfoProxy,
        rest_client: RestClient,
        endpoint: NatsEndpoint,
        network: str,
        *,
        status_interval: float = 5.0,
        lease: float = 60.0,
        events_max_age: float = 3600.0,
    ) -> None:
        self.upstream = upstream
        self.info = info
        self._rest_client = rest_client
        self.endpoint = endpoint
        self.network = network
        self.events_max_age = events_max_age
        self.clients = NatsClients(lease)
        self.catalog = DaemonCatalog(info)
        hello = {
            "network": network,
            "lease": lease,
            "statusInterval": status_interval,
            "pid": os.getpid(),
        }
        self.requests = NatsRequests(
            upstream, self.clients, self.catalog, network=network, hello=hello
        )
        self._nc: NatsClient | None = None
        self._queue: deque[tuple[str, bytes | None]] = deque()
        """Frames to publish, in order; ``None``: purge that subject's last value."""
        self._wake = asyncio.Event()
        self._subjects: dict[str, str | None] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._info_slots = asyncio.Semaphore(MAX_INFO_IN_FLIGHT)
        self.published = 0
        self.dropped = 0
        """Frames not published: the queue was full or NATS refused them (outage)."""
        self.oversize = 0
        """Frames larger than the NATS server's max_payload."""
        self.info_requests = 0
        self.connected = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, set up the JetStream streams and start serving.

        Raises:
            OSError: NATS cannot be reached or set up, or another daemon serves this network.
        """
        self._nc = await connect(
            self.endpoint,
            name=f"hlmon daemon {self.network}",
            on_error=self._on_error,
            pending_size=16 * 2**20,  # frames buffered while NATS reconnects
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self.connected = True
        try:
            await self._refuse_a_second_daemon()
            await self._setup_streams(purge_last=True)
            nc = self._nc
            await nc.subscribe(control_subject(self.network, "_subscribe"), cb=self._on_request)
            await nc.subscribe(control_subject(self.network, "_info"), cb=self._on_info)
            await nc.flush()
        except BaseException:
            await self.stop()
            raise
        upstream = self.upstream
        upstream.tap = self.tap
        upstream.on_close = self.stream_closed
        for stream in upstream.streams.values():
            stream.tap = self.tap
        self._spawn(self._write())
        self._spawn(self._expire_leases())
        await self.catalog.start()
        logger.info("publishing to NATS at %s as hl.%s", self.endpoint.display, self.network)

    async def stop(self) -> None:
        upstream = self.upstream
        if upstream.tap == self.tap:
            upstream.tap = None
            upstream.on_close = None
        await cancel_and_wait(list(self._tasks), what="NATS bridge task")
        for holder in list(self.clients.by_id.values()):
            self.requests.drop(holder)
        await self.catalog.stop()
        nc, self._nc = self._nc, None
        self.connected = False
        if nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.flush(), 1.0)
            # Bounded: nats-py's close can wait on a reconnect that never comes.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), CLOSE_TIMEOUT_S)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refuse_a_second_daemon(self) -> None:
        assert self._nc is not None
        probe = b'{"method":"hello","client":"hlmon-daemon-probe"}'
        try:
            await self._nc.request(control_subject(self.network, "_subscribe"), probe, 0.5)
        except (NoRespondersError, NatsTimeout):
            return
        raise OSError(
            f"another hlmon daemon already serves hl.{self.network} on NATS at "
            f"{self.endpoint.display}"
        )

    async def _setup_streams(self, *, purge_last: bool) -> None:
        assert self._nc is not None
        js = self._nc.jetstream(timeout=5.0)
        configs = (
            js_api.StreamConfig(
                name=stream_name(self.network, "events"),
                subjects=stream_subjects(self.network, "events"),
                retention=js_api.RetentionPolicy.LIMITS,
                storage=js_api.StorageType.FILE,
                max_age=self.events_max_age,
                # No per-subject cap: dropping only the oldest (age, size) keeps "the first
                # sequence still kept" an exact test of whether a client can resume.
                max_bytes=512 * 2**20,
                discard=js_api.DiscardPolicy.OLD,
                num_replicas=1,
            ),
            js_api.StreamConfig(
                name=stream_name(self.network, "last"),
                subjects=stream_subjects(self.network, "last"),
                retention=js_api.RetentionPolicy.LIMITS,
                storage=js_api.StorageType.MEMORY,
                max_age=3600.0,
                max_msgs_per_subject=1,
                max_bytes=256 * 2**20,
                discard=js_api.DiscardPolicy.OLD,
                num_replicas=1,
            ),
        )
        try:
            for config in configs:
                try:
                    await js.add_stream(config)
                except BadRequestError:  # there, with another configuration: bring it in line
                    await js.update_stream(config)
            if purge_last:
                await js.purge_stream(stream_name(self.network, "last"))
        except (NatsError, OSError, TimeoutError) as exc:
            raise OSError(
                f"cannot set up JetStream on NATS at {self.endpoint.display} (is it started "
                f"with -js?): {why(exc)}"
            ) from None

    # ------------------------------------------------------------------ NATS connection

    async def _on_error(self, exc: Exception) -> None:
        logger.warning("NATS at %s: %s", self.endpoint.display, why(exc))

    async def _on_disconnected(self) -> None:
        if not self.connected:
            return  # closing (stop), or already said
        self.connected = False
        logger.warning("NATS at %s: disconnected, reconnecting", self.endpoint.display)

    async def _on_reconnected(self) -> None:
        self.connected = True
        logger.info("NATS at %s: reconnected", self.endpoint.display)
        # A server restarted without its storage has lost the streams: make them again.
        self._spawn(self._setup_streams_quietly())

    async def _setup_streams_quietly(self) -> None:
        try:
            await self._setup_streams(purge_last=False)
        except OSError as exc:
            logger.warning("%s", exc)

    # ------------------------------------------------------------------ publishing

    def tap(self, stream: Stream, raw: bytes) -> None:
        """A frame of ``stream`` from upstream: queue it for its subject."""
        subject = self._subjects.get(stream.key, "")
        if subject == "":
            try:
                subject = subject_of(self.network, stream.sub)
            except ValueError:
                subject = None
            self._subjects[stream.key] = subject
        if subject is None:
            return
        self._enqueue(subject, raw)

    def _enqueue(self, subject: str, raw: bytes) -> None:
        if len(self._queue) >= MAX_QUEUE:
            self.dropped += 1
            return
        self._queue.append((subject, raw))
        if len(self._queue) == 1:
            self._wake.set()

    def daemon_state(self, frame: bytes) -> None:
        """The daemon's ``_daemon`` frame (its upstream state), for NATS clients."""
        self._enqueue(control_subject(self.network, "_daemon"), frame)

    def stream_closed(self, stream: Stream) -> None:
        """Nobody holds ``stream`` any more: its last value must not greet the next one."""
        subject = self._subjects.pop(stream.key, None)
        if subject is None or delivery_of(stream.kind) != "last":
            return
        # Queued behind that subject's last frames, so none of them lands after the purge.
        self._queue.append((subject, None))
        self._wake.set()

    async def _purge(self, subject: str) -> None:
        if subject in self._subjects.values() or self._nc is None:
            return  # opened again meanwhile, and already publishing: its value is fresh
        with contextlib.suppress(NatsError, OSError, TimeoutError):
            js = self._nc.jetstream(timeout=2.0)
            await js.purge_stream(stream_name(self.network, "last"), subject=subject)

    async def _write(self) -> None:
        queue = self._queue
        wake = self._wake
        nc = self._nc
        assert nc is not None
        warned: set[str] = set()
        while True:
            if not queue:
                wake.clear()
                await wake.wait()
                continue
            subject, raw = queue.popleft()
            if raw is None:
                await self._purge(subject)
                continue
            try:
                await nc.publish(subject, raw)
            except MaxPayloadError:
                self.oversize += 1
                if subject not in warned:
                    warned.add(subject)
                    logger.warning(
                        "frame of %d bytes on %s exceeds the NATS server's max_payload (%d)",
                        len(raw),
                        subject,
                        nc.max_payload,
                    )
            except (NatsError, OSError):
                self.dropped += 1
            else:
                self.published += 1

    # ------------------------------------------------------------------ requests

    async def _on_request(self, msg: Msg) -> None:
        if not msg.reply:
            return
        answer = self.requests.handle(msg.data)
        if isinstance(answer, bytes):
            await self._reply(msg.reply, answer)
        else:
            self._spawn(self._reply_later(msg.reply, answer))

    async def _reply_later(self, reply: str, answer: Awaitable[bytes]) -> None:
        await self._reply(reply, await answer)

    async def _reply(self, reply: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        if self._nc is None:
            return
        with contextlib.suppress(NatsError, OSError):
            await self._nc.publish(reply, body, headers=headers)

    async def _on_info(self, msg: Msg) -> None:
        if msg.reply:
            self._spawn(self._answer_info(msg))

    async def _answer_info(self, msg: Msg) -> None:
        self.info_requests += 1
        client_id = (msg.headers or {}).get(CLIENT_HEADER)
        async with self._info_slots:
            # Counted against the NATS client when it holds streams too (one row per client).
            client = self.clients.by_id.get(client_id or "") or self._rest_client(client_id, "nats")
            answer = await self.info.info(msg.data, client)
        status, body = answer.status, answer.body
        if self._nc is not None and len(body) > self._nc.max_payload - 1024:
            status = 502
            body = (
                f"hlmon daemon: an answer of {len(body)} bytes exceeds the NATS server's "
                f"max_payload ({self._nc.max_payload})"
            ).encode()
        headers = {STATUS_HEADER: str(status), "Content-Type": answer.content_type}
        await self._reply(msg.reply, body, headers)

    async def _expire_leases(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for holder in self.clients.expired(time.monotonic()):
                logger.info("NATS client %s silent for its lease: released", holder.id)
                self.requests.drop(holder)

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "server": self.endpoint.display,
            "connected": self.connected,
            "network": self.network,
            "published": self.published,
            "queued": len(self._queue),
            "dropped": self.dropped,
            "oversize": self.oversize,
            "requests": self.requests.requests,
            "refused": self.requests.refused,
            "info_requests": self.info_requests,
            "catalog": self.catalog.status(),
            "clients": [h.status(now) for h in self.clients.by_id.values()],
        }
