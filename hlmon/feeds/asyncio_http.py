"""``AsyncioTransport``: httpx's HTTP/1.1 transport, on asyncio streams and h11, without anyio.

httpx's own ``AsyncHTTPTransport`` goes through httpcore, whose connection pool takes its locks,
events and cancel scopes from anyio under asyncio: importing anyio and its asyncio backend
costs some 25 ms of CPU on a small Xeon, on the first REST request of every start-up (before
the first data). hlmon's REST client needs none of it: one host, HTTP/1.1, small JSON posts.

What it keeps from ``AsyncHTTPTransport`` (its defaults, as ``httpx.AsyncClient`` builds it):
keep-alive connections reused per (scheme, host, port), at most 20 idle for at most 5 s and
100 requests at once; TLS with certificate and host-name verification (``verify``, as httpx
takes it); the request's per-phase timeouts (``connect``, ``read``, ``write``, ``pool``); and
the same httpx exceptions: ``ConnectError``/``ConnectTimeout`` (TCP or TLS), ``ReadTimeout``,
``WriteTimeout``, ``ReadError``, ``WriteError``, ``PoolTimeout``, ``RemoteProtocolError``
(also "Server disconnected without sending a response", what a dead keep-alive connection
gives), ``LocalProtocolError`` and ``UnsupportedProtocol``. A request cancelled mid-way closes
its connection. Not supported (``AsyncHTTPTransport`` remains for them): HTTP/2, proxies,
Unix sockets.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

READ_SIZE = 64 * 1024
MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
KEEPALIVE_EXPIRY = 5.0
"""httpx's default ``Limits``: what ``httpx.AsyncClient`` gives ``AsyncHTTPTransport``."""

_Key = tuple[bytes, bytes, int]


class _Connection:
    """One TCP (or TLS) connection and its h11 state machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0

    def reusable(self, now: float) -> bool:
        """Idle, not expired, and the server has not closed it (nor sent anything unasked)."""
        return (
            now - self.idle_since < KEEPALIVE_EXPIRY
            and not self.writer.is_closing()
            and not self.reader.at_eof()
            # Bytes nobody asked for (asyncio's reader buffers what arrives): unusable.
            and not self.reader._buffer  # type: ignore[attr-defined]
        )

    def close(self) -> None:
        self.writer.close()


class AsyncioTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` for HTTP/1.1 on asyncio (see the module docstring)."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[_Key, list[_Connection]] = {}
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            verify = self._verify
            # httpx's own context (certifi's CAs, host names checked) unless given one.
            self._ssl = (
                verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
            )
        return self._ssl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme}://'.", request=request
            )
        if not url.raw_host:
            raise httpx.UnsupportedProtocol("Request URL is missing a host.", request=request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        port = url.port or (443 if scheme == b"https" else 80)
        key: _Key = (scheme, url.raw_host, port)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("Timed out waiting for a connection.", request=request) from exc
        conn: _Connection | None = None
        try:
            conn = self._reuse(key) or await self._connect(key, request, timeouts.get("connect"))
            event = await self._exchange(conn, request, timeouts)
        except BaseException:
            if conn is not None:
                conn.close()
            self._slots.release()
            raise
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_ResponseStream(self, key, conn, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": event.reason},
        )

    def _reuse(self, key: _Key) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.reusable(now):
                return conn
            conn.close()
        return None

    def _release(self, key: _Key, conn: _Connection, reusable: bool) -> None:
        """A response is done with: ``conn`` goes back to the pool or is closed."""
        self._slots.release()
        if reusable and conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
            conn.idle_since = time.monotonic()
            idle = self._idle.setdefault(key, [])
            idle.append(conn)
            if sum(len(v) for v in self._idle.values()) > MAX_KEEPALIVE:
                idle.pop(0).close()
        else:
            conn.close()

    async def _connect(
        self, key: _Key, request: httpx.Request, seconds: float | None
    ) -> _Connection:
        scheme, raw_host, port = key
        host = raw_host.decode("ascii")
        try:
            async with asyncio.timeout(seconds):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        if scheme == b"https":
            sni = request.extensions.get("sni_hostname") or host
            try:
                async with asyncio.timeout(seconds):
                    await writer.start_tls(self._ssl_context(), server_hostname=sni)
            except BaseException as exc:
                writer.close()
                if isinstance(exc, TimeoutError):
                    raise httpx.ConnectTimeout(str(exc), request=request) from exc
                if isinstance(exc, OSError):  # ssl.SSLError too: a failed verification
                    raise httpx.ConnectError(str(exc), request=request) from exc
                raise
        return _Connection(reader, writer)

    async def _exchange(
        self, conn: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> h11.Response:
        """Send ``request`` and read up to the response's head."""
        try:
            await self._send(
                conn,
                h11.Request(
                    method=request.method, target=request.url.raw_path, headers=request.headers.raw
                ),
                request,
                timeouts.get("write"),
            )
            assert isinstance(request.stream, httpx.AsyncByteStream)
            async for chunk in request.stream:
                await self._send(conn, h11.Data(data=chunk), request, timeouts.get("write"))
            await self._send(conn, h11.EndOfMessage(), request, timeouts.get("write"))
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        while True:
            event = await _next_event(conn, request, timeouts.get("read"))
            if isinstance(event, h11.Response):
                return event
            # 1xx answers (100 Continue...) are skipped, as httpcore does.

    async def _send(
        self, conn: _Connection, event: Any, request: httpx.Request, seconds: float | None
    ) -> None:
        data = conn.h11.send(event)
        if not data:
            return
        try:
            async with asyncio.timeout(seconds):
                conn.writer.write(data)
                await conn.writer.drain()
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def _next_event(conn: _Connection, request: httpx.Request, seconds: float | None) -> Any:
    """The next h11 event from the server, reading from the socket as h11 needs."""
    while True:
        try:
            event = conn.h11.next_event()
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        if event is not h11.NEED_DATA:
            return event
        try:
            async with asyncio.timeout(seconds):
                data = await conn.reader.read(READ_SIZE)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        if data == b"" and conn.h11.their_state is h11.SEND_RESPONSE:
            # What a keep-alive connection the server closed while idle gives (httpcore's words).
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        conn.h11.receive_data(data)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of one response; closing it returns the connection to the pool."""

    def __init__(
        self,
        transport: AsyncioTransport,
        key: _Key,
        conn: _Connection,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._request = request
        self._timeout = timeout
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while not self._done:
                event = await _next_event(self._conn, self._request, self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    self._done = True
        except BaseException:
            self._finish(reusable=False)
            raise

    async def aclose(self) -> None:
        self._finish(reusable=self._done)

    def _finish(self, *, reusable: bool) -> None:
        if not self._closed:
            self._closed = True
            self._transport._release(self._key, self._conn, reusable)
