"""``AsyncioTransport`` against real loopback servers, side by side with httpx's own
``AsyncHTTPTransport`` (httpcore): the same answers, the same keep-alive reuse and the same
httpx exceptions for every failure hlmon's ``InfoClient`` tells apart."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from hlmon.feeds.asyncio_http import AsyncioTransport
from tests.support import self_signed_certificate

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BODY = b'{"BTC": "100.5"}'
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)

TRANSPORTS = {
    "httpcore": lambda verify: httpx.AsyncHTTPTransport(verify=verify),
    "asyncio": lambda verify: AsyncioTransport(verify=verify),
}


@pytest.fixture(params=sorted(TRANSPORTS))
def make(request: pytest.FixtureRequest) -> Callable[..., httpx.AsyncClient]:
    def client(verify: ssl.SSLContext | bool = True, **timeouts: float) -> httpx.AsyncClient:
        timeout = httpx.Timeout(5.0, **timeouts)
        return httpx.AsyncClient(timeout=timeout, transport=TRANSPORTS[request.param](verify))

    return client


class Server:
    """A loopback server running ``handler`` on each connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def run(self, ssl_ctx: ssl.SSLContext | None = None) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl_ctx)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()


async def test_posts_and_reuses_the_connection(make: Callable[..., httpx.AsyncClient]) -> None:
    seen: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append(await read_request(reader))
            writer.write(OK)
            await writer.drain()

    server = Server(echo)
    async with server.run() as port, make() as client:
        for _ in range(3):
            r = await client.post(f"http://127.0.0.1:{port}/info?x=1", json={"type": "allMids"})
            assert (r.status_code, r.json(), r.http_version) == (200, {"BTC": "100.5"}, "HTTP/1.1")
            assert r.reason_phrase == "OK"
    assert server.connections == 1
    head, body = seen[0].split(b"\r\n\r\n")
    assert head.startswith(b"POST /info?x=1 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:%d" % port in head
    assert body == b'{"type":"allMids"}'


async def test_chunked_answer_and_connection_close(
    make: Callable[..., httpx.AsyncClient],
) -> None:
    """A chunked body is read whole; ``Connection: close`` means a new connection next time."""

    async def chunked_then_close(reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await read_request(reader)
        w.write(b"HTTP/1.1 503 Busy\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n")
        w.write(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await w.drain()

    server = Server(chunked_then_close)
    async with server.run() as port, make() as client:
        for _ in range(2):
            r = await client.post(f"http://127.0.0.1:{port}/info", content=b"{}")
            assert (r.status_code, r.content, r.reason_phrase) == (503, b"abcde", "Busy")
    assert server.connections == 2


async def test_refused_is_a_connect_error(make: Callable[..., httpx.AsyncClient]) -> None:
    server = Server(keep_alive)
    async with server.run() as port:
        pass  # closed again: nothing listens on the port now
    async with make() as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{port}/info", content=b"{}")


async def test_no_answer_is_a_read_timeout(make: Callable[..., httpx.AsyncClient]) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # until the client gives up and closes

    server = Server(mute)
    async with server.run() as port, make(read=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"http://127.0.0.1:{port}/info", content=b"{}")


async def test_no_tls_handshake_is_a_connect_timeout(
    make: Callable[..., httpx.AsyncClient],
) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = Server(mute)
    async with server.run() as port, make(connect=0.2) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.post(f"https://127.0.0.1:{port}/info", content=b"{}")


@pytest.mark.parametrize(
    "answer",
    [b"", b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort", b"NOT HTTP AT ALL\r\n\r\n"],
    ids=["nothing", "cut-body", "garbage"],
)
async def test_broken_answers_are_remote_protocol_errors(
    make: Callable[..., httpx.AsyncClient], answer: bytes
) -> None:
    """Closed without an answer (a dead keep-alive connection), a body cut short, garbage."""

    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    server = Server(broken)
    async with server.run() as port, make() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"http://127.0.0.1:{port}/info", content=b"{}")


async def test_a_cancelled_request_closes_its_connection(
    make: Callable[..., httpx.AsyncClient],
) -> None:
    """Cancelled while waiting for the answer: that connection is not reused, the next request
    gets a fresh one and its own answer."""
    arrived = asyncio.Event()

    async def slow_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if server.connections == 1:
            arrived.set()
            await reader.read()
            return
        writer.write(OK)
        await writer.drain()

    server = Server(slow_first)
    async with server.run() as port, make() as client:
        url = f"http://127.0.0.1:{port}/info"
        task = asyncio.create_task(client.post(url, content=b"{}"))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        r = await client.post(url, content=b"{}")
        assert r.json() == {"BTC": "100.5"}
    assert server.connections == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), ip_name=True)


@pytest.mark.skipif(not Path("/usr/bin/openssl").exists(), reason="needs openssl to make a cert")
async def test_tls_verified(
    make: Callable[..., httpx.AsyncClient], certificate: tuple[Path, Path]
) -> None:
    """Refused when no trusted CA signed the certificate (the default: httpx's CA bundle);
    served, with keep-alive, over a context that trusts it."""
    cert, key = certificate
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server = Server(keep_alive)
    async with server.run(server_ctx) as port:
        url = f"https://127.0.0.1:{port}/info"
        async with make() as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.post(url, content=b"{}")
        trusting = ssl.create_default_context(cafile=str(cert))
        async with make(trusting) as client:
            for _ in range(2):
                assert (await client.post(url, content=b"{}")).json() == {"BTC": "100.5"}
        wrong_name = ssl.create_default_context(cafile=str(cert))
        async with make(wrong_name) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.post(f"https://localhost:{port}/info", content=b"{}")
    assert server.connections == 1  # the handshakes refused never reach the handler
