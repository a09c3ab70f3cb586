"""``DaemonRoute``: reach the exchange through a local ``hlmon daemon``, or directly when it is
gone.

The endpoint is ``unix:/path/to/daemon.sock`` (the usual case: a private Unix socket) or
``http://127.0.0.1:PORT`` (a TCP listener; its token is sent as ``Authorization: Bearer``).
The route names this client with a random id (``/ws?client=ID``) so the daemon can keep its
subscriptions and missed events across a reconnect, and asks for what it missed with
``&seq=N`` (the last numbered frame the websocket saw).

Both paths follow the route: the websocket feed asks ``pick`` before every connection attempt,
and the REST client's transport asks ``using_daemon`` before every request. Two failed
attempts to reach the daemon (or one REST connection refused) switch to direct connections to
the exchange (``health.set_via("direct (daemon down)")``); a later reconnect goes back to the
daemon as soon as its socket answers again.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import httpx

DAEMON_HOST = "hlmon-daemon"
"""The host name in URLs sent over the Unix socket (the socket decides where they go)."""
VIA_DAEMON = "daemon"
DIRECT_FALLBACK = "direct (daemon down)"
FAILURES_BEFORE_DIRECT = 2


class WsConnector(Protocol):
    """What opens a route's websocket: an ``aiohttp.ClientSession`` or a look-alike whose
    ``ws_connect`` returns a socket with ``receive``, ``send_str`` and ``close``
    (``nats_socket.NatsConnector``)."""

    def ws_connect(self, *args: Any, **kwargs: Any) -> Any: ...


class Route(Protocol):
    """Where each websocket connection attempt goes (``DaemonRoute``, ``NatsRoute``), for
    ``WsFeed``."""

    def pick(self, last_seq: int | None) -> tuple[str, WsConnector | None]: ...
    def connected(self) -> None: ...
    def failed(self) -> None: ...


class ViaRoute(Route, Protocol):
    """A route the engine also sends its REST requests by (``routes.open_route``)."""

    using_daemon: bool

    @property
    def api_url(self) -> str: ...
    def http_client(self, timeout: httpx.Timeout) -> httpx.AsyncClient: ...
    async def aclose(self) -> None: ...


class ViaSink(Protocol):
    """Where the route says which way it goes (``FeedHealth``)."""

    def set_via(self, label: str | None) -> None: ...
    def log(self, text: str, level: str = ...) -> None: ...


@dataclass(frozen=True)
class DaemonEndpoint:
    """Where a daemon listens."""

    socket_path: str | None
    """The Unix socket, or None for TCP."""
    base_url: str
    """``http://hlmon-daemon`` over the socket, else the TCP listener's URL."""
    token: str | None = None

    @classmethod
    def parse(cls, text: str, token: str | None = None) -> DaemonEndpoint:
        """``unix:/path``, ``/path`` or ``http://host:port``.

        Raises:
            ValueError: anything else.
        """
        text = text.strip()
        if text.startswith("unix:"):
            text = text[len("unix:") :]
        if text.startswith(("/", "~")):
            return cls(os.path.expanduser(text), f"http://{DAEMON_HOST}", None)
        parts = urlsplit(text)
        if parts.scheme in ("http", "https") and parts.hostname:
            return cls(None, text.rstrip("/"), token)
        raise ValueError(f"not a daemon socket path or http URL: {text!r}")

    def reachable(self) -> bool:
        """A cheap check before a connection attempt: the socket file is there (TCP: yes)."""
        if self.socket_path is None:
            return True
        try:
            return stat.S_ISSOCK(os.stat(self.socket_path).st_mode)
        except OSError:
            return False

    def answers(self) -> bool:
        """Something accepts connections on the socket now (TCP: assumed)."""
        if self.socket_path is None:
            return True
        if not self.reachable():
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(0.5)
        try:
            sock.connect(self.socket_path)
        except OSError:
            return False
        finally:
            sock.close()
        return True

    def headers(self, client_id: str) -> dict[str, str]:
        out = {"X-Hlmon-Client": client_id}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out


class DaemonRoute:
    """Which way the feeds go now: the daemon, or the exchange directly."""

    def __init__(
        self,
        endpoint: DaemonEndpoint,
        *,
        direct_api_url: str,
        direct_ws_url: str,
        health: ViaSink,
        client_id: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.direct_api_url = direct_api_url.rstrip("/")
        self.direct_ws_url = direct_ws_url
        self.client_id = client_id or secrets.token_hex(8)
        self._health = health
        self.using_daemon = True
        self._failures = 0
        self.switches = 0
        """Times the route changed side (tests read it)."""
        self._ws_session: aiohttp.ClientSession | None = None
        self._http: httpx.AsyncClient | None = None
        health.set_via(VIA_DAEMON)

    # ------------------------------------------------------------------ websocket

    def pick(self, last_seq: int | None) -> tuple[str, aiohttp.ClientSession | None]:
        """The URL (and session, None: the feed's own) for the next connection attempt."""
        if not self.using_daemon and self.endpoint.answers():
            self._switch(True, "the daemon answers again: connecting through it")
        if not self.using_daemon:
            return self.direct_ws_url, None
        base = self.endpoint.base_url
        ws_base = "ws" + base[len("http") :]
        url = f"{ws_base}/ws?client={self.client_id}"
        if last_seq is not None:
            url += f"&seq={last_seq}"
        return url, self._session()

    def connected(self) -> None:
        self._failures = 0

    def failed(self) -> None:
        """A connection attempt through the daemon failed."""
        if not self.using_daemon:
            return
        self._failures += 1
        if self._failures >= FAILURES_BEFORE_DIRECT or not self.endpoint.reachable():
            self._switch(False, f"daemon unreachable: connecting directly to {self.direct_ws_url}")

    def _switch(self, to_daemon: bool, why: str) -> None:
        self.using_daemon = to_daemon
        self._failures = 0
        self.switches += 1
        self._health.set_via(VIA_DAEMON if to_daemon else DIRECT_FALLBACK)
        self._health.log(why, "info" if to_daemon else "warn")

    def _session(self) -> aiohttp.ClientSession:
        if self._ws_session is None:
            path = self.endpoint.socket_path
            connector = aiohttp.UnixConnector(path=path) if path is not None else None
            self._ws_session = aiohttp.ClientSession(
                connector=connector, headers=self.endpoint.headers(self.client_id)
            )
        return self._ws_session

    # ------------------------------------------------------------------ REST

    @property
    def api_url(self) -> str:
        """The base URL the REST client posts to (the transport re-routes it)."""
        return self.endpoint.base_url

    def http_client(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        """An httpx client whose requests follow the route (closed by ``aclose``)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=timeout,
                transport=_RouteTransport(self),
                headers=self.endpoint.headers(self.client_id),
            )
        return self._http

    async def aclose(self) -> None:
        if self._ws_session is not None:
            await self._ws_session.close()
            self._ws_session = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class _RouteTransport(httpx.AsyncBaseTransport):
    """Sends to the daemon while the route says so, else (or when it refuses connections)
    straight to the exchange, without the daemon's headers."""

    def __init__(self, route: DaemonRoute) -> None:
        self._route = route
        path = route.endpoint.socket_path
        self._daemon = httpx.AsyncHTTPTransport(uds=path) if path else httpx.AsyncHTTPTransport()
        self._direct = httpx.AsyncHTTPTransport(verify=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = self._route
        if route.using_daemon:
            try:
                return await self._daemon.handle_async_request(request)
            except httpx.ConnectError:
                route.failed()
                route.failed()  # refused outright: no point waiting for a second try
        target = httpx.URL(route.direct_api_url + request.url.path)
        drop = {"host", "authorization", "x-hlmon-client"}
        direct = httpx.Request(
            request.method,
            target,
            headers=[(k, v) for k, v in request.headers.items() if k.lower() not in drop],
            content=request.content,
            extensions=request.extensions,
        )
        return await self._direct.handle_async_request(direct)

    async def aclose(self) -> None:
        await self._daemon.aclose()
        await self._direct.aclose()
