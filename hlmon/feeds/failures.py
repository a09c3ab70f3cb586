"""What went wrong with a websocket connection: the full text for the log, a few words for the
status bar.

``describe(exc)`` is the full text (``ClientConnectorError: Cannot connect to host ...``), kept
as the connection's ``last_error`` and logged. ``reason(exc)`` classifies the exception by its
type, not its text, into what a trader can act on: ``cannot connect: 127.0.0.1:9 refused``,
``DNS: host not found``, ``TLS error``, ``HTTP 503``, ``timed out connecting``. (aiohttp's own
message says ``ssl:default`` even for a plain ``ws://`` URL, which reads like a TLS problem; the
short reason does not repeat it.) ``describe_end(msg)`` says why ``receive`` returned something
other than a data frame.
"""

from __future__ import annotations

import errno
import ssl
from typing import Any

import aiohttp
from aiohttp import WSMsgType

from hlmon.state.reasons import short_reason


class SocketDead(Exception):
    """The heartbeat decided the socket is dead (missing pong or silence)."""


class ConnectionLost(Exception):
    """The socket ended (close frame, dropped connection, protocol error); says why."""


def describe(exc: BaseException) -> str:
    """The full text of a failure: ``Type: message``."""
    if isinstance(exc, ConnectionLost):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def reason(exc: BaseException) -> str:
    """A short reason for a failed connection attempt or a lost connection (see module)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"DNS: {exc.host} not found"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS error: certificate"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "TLS error"
    if isinstance(exc, aiohttp.ClientConnectorError):
        where = f"{exc.host}:{exc.port}"
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
            return f"cannot connect: {where} refused"
        if isinstance(os_error, TimeoutError):
            return f"cannot connect: {where} timed out"
        return f"cannot connect: {where}"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"HTTP {exc.status}" if exc.status else "websocket handshake refused"
    if isinstance(exc, TimeoutError):
        return "timed out connecting"
    if isinstance(exc, SocketDead):
        return str(exc)
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return "connection dropped"
    return short_reason(describe(exc)) or type(exc).__name__


def describe_end(msg: aiohttp.WSMessage | Any) -> str:
    """Why ``receive`` returned something other than a data frame."""
    kind = msg.type
    if kind is WSMsgType.CLOSE:
        why = f": {msg.extra}" if msg.extra else ""
        return f"closed by server (code {msg.data}{why})"
    if kind is WSMsgType.ERROR:  # bad framing, frame over max_msg_size, ...
        err = msg.data
        if isinstance(err, aiohttp.WebSocketError):
            return f"websocket error (code {err.code}): {err}"
        return describe(err) if isinstance(err, BaseException) else f"websocket error: {err!r}"
    # CLOSED/CLOSING: EOF or a reset with no close frame (a close frame comes as CLOSE).
    return "socket dropped without a close frame"
