"""The websocket transport's small helpers: timeouts, abort, proxy choice, why a socket ended.

Split from ``hlmon.feeds.ws_feed`` (which imports them) to keep that module about the feed's
state machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
import urllib.request
from typing import Any, Literal

import aiohttp
from aiohttp import WSMsgType


class ConnectionLost(Exception):
    """The socket ended (close frame, dropped connection, protocol error); says why."""


Socket = aiohttp.ClientWebSocketResponse[Literal[False]]
"""A client websocket that hands text frames over as bytes (``decode_text=False``)."""

WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=1.0)
"""No receive timeout (the heartbeat owns liveness); a close handshake waits at most 1 s."""


async def abort(ws: Socket) -> None:
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


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url``, chosen as ``websockets`` (hlmon's previous
    transport) chose it: ``wss_proxy`` then ``https_proxy`` for wss://, ``ws_proxy``,
    ``https_proxy``, ``http_proxy`` for ws://, none for a host in ``no_proxy``; aiohttp then
    tunnels wss:// with CONNECT. Passed explicitly rather than with aiohttp's ``trust_env``,
    which would also read ~/.netrc. Only http:// proxies are supported (as by aiohttp); another
    kind (socks, https) is skipped."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    if urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    proxies = urllib.request.getproxies()
    for scheme in ("wss", "https") if secure else ("ws", "https", "http"):
        proxy = proxies.get(scheme)
        if proxy is not None and proxy.startswith("http://"):
            return proxy
    return None


def describe_end(msg: aiohttp.WSMessage | Any) -> str:
    """Why ``receive`` returned something other than a data frame."""
    kind = msg.type
    if kind is WSMsgType.CLOSE:
        reason = f": {msg.extra}" if msg.extra else ""
        return f"closed by server (code {msg.data}{reason})"
    if kind is WSMsgType.ERROR:  # bad framing, frame over max_msg_size, ...
        err = msg.data
        if isinstance(err, aiohttp.WebSocketError):
            return f"websocket error (code {err.code}): {err}"
        return describe(err) if isinstance(err, BaseException) else f"websocket error: {err!r}"
    # CLOSED/CLOSING: EOF or a reset with no close frame (a close frame comes as CLOSE).
    return "socket dropped without a close frame"


def describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionLost):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
