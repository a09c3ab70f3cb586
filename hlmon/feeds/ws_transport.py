"""The websocket transport's small helpers: the socket type, its timeouts, and an abort.

Split from ``hlmon.feeds.ws_feed`` (which imports them) to keep that module about the feed's
state machine; why a socket ended is ``hlmon.feeds.failures``, the proxy ``hlmon.feeds.proxy``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

import aiohttp

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
