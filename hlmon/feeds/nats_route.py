"""``NatsRoute``: reach the exchange through an ``hlmon daemon`` that publishes to NATS.

``hlmon --via nats://HOST:PORT`` (the runtime adds ``/NETWORK``): the websocket feed opens
``nats_socket.NatsSocket``s (the exchange's frames read from the daemon's subjects, the
subscriptions asked of the daemon over request/reply), and ``/info`` goes to the daemon as a
NATS request (``hl.<network>._info``), so the whole desk spends one REST budget. The status
bar says ``via nats``.

What outlives one socket lives here: the NATS connection, this client's id, what it holds
(renewed every third of the daemon's lease, so the daemon keeps the upstream subscriptions
while the socket is down, and lets go of them once this process is gone) and, per event
stream, the last JetStream sequence applied (a new socket resumes after it).

When the daemon does not answer (no responder on NATS, or NATS unreachable) twice, the route
switches to direct connections (``direct (nats down)``), and back at a later reconnect once
the daemon's ``_daemon`` frames are heard again, as ``via.DaemonRoute`` does for a local one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

import httpx
import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from hlmon.cancelling import cancel_and_wait
from hlmon.feeds.nats_connect import connect, why
from hlmon.feeds.nats_endpoint import NatsEndpoint
from hlmon.feeds.nats_socket import NatsSocket
from hlmon.feeds.nats_subjects import control_subject
from hlmon.feeds.via import FAILURES_BEFORE_DIRECT, ViaSink

logger = logging.getLogger("hlmon.feeds.nats")

VIA_NATS = "nats"
DIRECT_FALLBACK = "direct (nats down)"
CLOSE_TIMEOUT_S = 5.0
"""How long the NATS connection may take to close (flushes, then gives up)."""
NATS_API_URL = "http://hlmon-nats"
"""The REST base URL the engine posts to (the transport sends it over NATS)."""
CONFIRM_GRACE = 10.0
"""After a new socket opens, what the old one held and the new one did not take back within
this long is let go of (the feed dropped it while disconnected)."""
_encode = msgspec.json.encode
_decode = msgspec.json.decode


class NatsRoute:
    """Which way the feeds go now: the daemon over NATS, or the exchange directly."""

    def __init__(
        self,
        endpoint: NatsEndpoint,
        *,
        direct_api_url: str,
        direct_ws_url: str,
        health: ViaSink,
        client_id: str | None = None,
    ) -> None:
        if endpoint.network is None:
            raise ValueError("NatsRoute needs the endpoint's network")
        self.endpoint = endpoint
        self.network = endpoint.network
        self.direct_api_url = direct_api_url.rstrip("/")
        self.direct_ws_url = direct_ws_url
        self.client_id = client_id or "nats-" + secrets.token_hex(8)
        self._health = health
        self.using_daemon = True
        self._failures = 0
        self.switches = 0
        """Times the route changed side (tests read it)."""
        self.held: dict[str, dict[str, Any]] = {}
        """Subscriptions the current socket holds (key -> wire), renewed with the daemon."""
        self._previous: dict[str, dict[str, Any]] = {}
        self._previous_until = 0.0
        self.last_seq: dict[str, int] = {}
        """Per event subscription, the last JetStream stream sequence the feed received."""
        self.lease = 60.0
        self.status_interval = 5.0
        self.daemon_heard: float | None = None
        """Monotonic time the daemon last said something (``_daemon`` or a reply)."""
        self.connector = NatsConnector(self)
        self._nc: NatsClient | None = None
        self._connecting: asyncio.Task[NatsClient] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._sockets: set[NatsSocket] = set()
        health.set_via(VIA_NATS)

    # ------------------------------------------------------------------ NATS connection

    async def nats(self) -> NatsClient:
        """The NATS connection, made on first use. Raises OSError when it cannot be made."""
        if self._nc is not None and not self._nc.is_closed:
            return self._nc
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> NatsClient:
        nc = await connect(
            self.endpoint,
            name=f"hlmon {self.client_id}",
            on_error=self._on_error,
            disconnected_cb=self._on_disconnected,
        )
        await nc.subscribe(control_subject(self.network, "_daemon"), cb=self._on_daemon_frame)
        self._nc = nc
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        return nc

    async def _on_error(self, exc: Exception) -> None:
        logger.info("NATS at %s: %s", self.endpoint.display, why(exc))

    async def _on_disconnected(self) -> None:
        # Every open socket ends: the feed shows it and reconnects (resuming by sequence).
        for sock in list(self._sockets):
            sock.end("NATS connection lost")

    async def _on_daemon_frame(self, msg: Msg) -> None:
        self.daemon_heard = time.monotonic()

    def daemon_fresh(self) -> bool:
        """The daemon was heard within three of its status intervals (and NATS is up)."""
        heard = self.daemon_heard
        nc = self._nc
        return (
            nc is not None
            and nc.is_connected
            and heard is not None
            and time.monotonic() - heard < 3 * self.status_interval + 1.0
        )

    def hello(self, data: Any) -> None:
        """The daemon's ``_hello``: its lease and status interval."""
        self.daemon_heard = time.monotonic()
        if isinstance(data, dict):
            lease = data.get("lease")
            interval = data.get("statusInterval")
            if isinstance(lease, int | float) and lease > 0:
                self.lease = float(lease)
            if isinstance(interval, int | float) and interval > 0:
                self.status_interval = float(interval)

    # ------------------------------------------------------------------ sockets and leases

    @property
    def connection(self) -> NatsClient | None:
        """The NATS connection once made (``nats()`` makes it)."""
        return self._nc

    def socket_opened(self, sock: NatsSocket) -> None:
        self._sockets.add(sock)
        if self.held:
            self._previous = {**self._previous, **self.held}
            self._previous_until = time.monotonic() + CONFIRM_GRACE
            self.held = {}

    def socket_closed(self, sock: NatsSocket) -> None:
        self._sockets.discard(sock)

    def hold(self, key: str, wire: dict[str, Any]) -> None:
        self.held[key] = wire
        self._previous.pop(key, None)

    def let_go(self, key: str) -> None:
        self.held.pop(key, None)
        self._previous.pop(key, None)
        self.last_seq.pop(key, None)

    def renewal(self) -> list[dict[str, Any]]:
        """What this client holds now (a new socket's grace included)."""
        if self._previous and time.monotonic() >= self._previous_until:
            for key in self._previous:
                self.last_seq.pop(key, None)
            self._previous = {}
        return [*self.held.values(), *self._previous.values()]

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.lease / 3))
            nc = self._nc
            if nc is None or not nc.is_connected or not self.using_daemon:
                continue
            body = {"method": "renew", "client": self.client_id, "subscriptions": self.renewal()}
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                await nc.request(control_subject(self.network, "_subscribe"), _encode(body), 5.0)
                self.daemon_heard = time.monotonic()

    # ------------------------------------------------------------------ websocket route

    def pick(self, last_seq: int | None) -> tuple[str, NatsConnector | None]:
        """Where the next connection attempt goes (``WsFeed``)."""
        if not self.using_daemon:
            if self.daemon_fresh():
                self._switch(True, "the hlmon daemon answers on NATS again: reading from it")
            elif self._nc is None and (self._connecting is None or self._connecting.done()):
                # Never connected: try in the background; a later attempt may use it.
                self._connecting = asyncio.get_running_loop().create_task(self._connect())
                self._connecting.add_done_callback(_retrieved)
        if not self.using_daemon:
            return self.direct_ws_url, None
        return self.endpoint.display, self.connector

    def connected(self) -> None:
        self._failures = 0

    def failed(self) -> None:
        """A connection attempt through NATS failed."""
        if not self.using_daemon:
            return
        self._failures += 1
        if self._failures >= FAILURES_BEFORE_DIRECT:
            self._switch(
                False, f"no hlmon daemon on NATS: connecting directly to {self.direct_ws_url}"
            )

    def _switch(self, to_daemon: bool, why: str) -> None:
        self.using_daemon = to_daemon
        self._failures = 0
        self.switches += 1
        self._health.set_via(VIA_NATS if to_daemon else DIRECT_FALLBACK)
        self._health.log(why, "info" if to_daemon else "warn")

    # ------------------------------------------------------------------ REST

    @property
    def api_url(self) -> str:
        return NATS_API_URL

    def http_client(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        """An httpx client whose requests go to the daemon over NATS (or directly)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=timeout, transport=_NatsInfoTransport(self))
        return self._http

    async def info(self, body: bytes, wait: float) -> tuple[int, bytes, str]:
        """One ``/info`` body answered by the daemon: (HTTP status, body, content type).

        Raises:
            OSError: NATS or the daemon cannot be reached (no responder).
            TimeoutError: no answer within ``wait`` seconds.
        """
        nc = await self.nats()
        headers = {"Hlmon-Client": self.client_id}
        try:
            msg = await nc.request(
                control_subject(self.network, "_info"), body, wait, headers=headers
            )
        except NoRespondersError:
            raise OSError("no hlmon daemon answers on NATS") from None
        except NatsTimeout:
            raise TimeoutError(f"no /info answer over NATS within {wait:g} s") from None
        except NatsError as exc:
            raise OSError(why(exc)) from None
        self.daemon_heard = time.monotonic()
        head = msg.headers or {}
        try:
            status = int(head.get("Hlmon-Status", "502"))
        except ValueError:
            status = 502
        return status, msg.data, head.get("Content-Type", "application/json")

    async def aclose(self) -> None:
        for sock in list(self._sockets):
            await sock.close()
        await cancel_and_wait(
            [t for t in (self._renewer, self._connecting) if t is not None], what="NATS route"
        )
        self._renewer = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        nc, self._nc = self._nc, None
        if nc is not None:
            # Bounded: nats-py's close can wait on a reconnect that never comes.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), CLOSE_TIMEOUT_S)


class NatsConnector:
    """Opens ``NatsSocket``s for ``WsFeed`` (in place of an ``aiohttp.ClientSession``)."""

    def __init__(self, route: NatsRoute) -> None:
        self._route = route

    async def ws_connect(self, url: str, **_options: Any) -> NatsSocket:
        """A socket once the daemon answers ``hello``.

        Raises:
            ConnectionError: NATS or the daemon cannot be reached.
        """
        route = self._route
        try:
            nc = await route.nats()
            body = _encode({"method": "hello", "client": route.client_id})
            reply = await nc.request(control_subject(route.network, "_subscribe"), body, 2.0)
        except NoRespondersError:
            raise ConnectionError(
                f"no hlmon daemon serves hl.{route.network} on NATS at {route.endpoint.display}"
            ) from None
        except (NatsError, OSError, TimeoutError) as exc:
            raise ConnectionError(f"NATS at {route.endpoint.display}: {exc}") from None
        with contextlib.suppress(msgspec.DecodeError, TypeError):
            route.hello(_decode(reply.data).get("data"))
        sock = NatsSocket(route)
        route.socket_opened(sock)
        try:
            await sock.open()
        except BaseException:
            await sock.close()
            raise
        return sock


class _NatsInfoTransport(httpx.AsyncBaseTransport):
    """``/info`` over NATS while the route says so, else straight to the exchange."""

    def __init__(self, route: NatsRoute) -> None:
        self._route = route
        self._direct = httpx.AsyncHTTPTransport(verify=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._route
        if route.using_daemon:
            timeouts = request.extensions.get("timeout") or {}
            wait = timeouts.get("read") or 15.0
            try:
                status, body, kind = await route.info(await request.aread(), float(wait))
            except OSError:
                route.failed()
                route.failed()  # no daemon at all: no point waiting for a second try
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc), request=request) from None
            else:
                return httpx.Response(status, content=body, headers={"Content-Type": kind})
        target = httpx.URL(route.direct_api_url + request.url.path)
        direct = httpx.Request(
            request.method,
            target,
            headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"],
            content=await request.aread(),
            extensions=request.extensions,
        )
        return await self._direct.handle_async_request(direct)

    async def aclose(self) -> None:
        await self._direct.aclose()


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a failed background connect is expected: nothing to report
