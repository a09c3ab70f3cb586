"""Why the connection is not live, in the few words a status bar has room for.

The feeds report the full error text (``last_error``, and the log keeps it); the status bar
shows a short reason next to ``DOWN`` / ``CONNECTING`` / ``RECONNECTING``. Feeds that know the
exception classify it by type (``hlmon.feeds.failures``) and pass the reason along; anything
else (a supervisor's "internal error in ...", an error from an older code path) is classified
here from its text, which is what this module does.
"""

from __future__ import annotations

import re

MAX_REASON = 48
"""Longest reason kept; the full text is in the log."""

_HOST = re.compile(r"[Cc]annot connect to host (\S+?)(?::(\d+))? ssl:")
_STATUS = re.compile(r"\b([1-5]\d\d)\b")
_CLOSE_CODE = re.compile(r"code (\d+)")
_INTERNAL = re.compile(r"internal error in ([\w.-]+)")
_EXC_PREFIX = re.compile(r"^[A-Z]\w*(?:Error|Exception|Dead|Lost|Timeout)\w*: ")


def short_reason(error: str | None) -> str | None:
    """A short reason for ``error`` (the full text), or None for no error."""
    if not error:
        return None
    text = error.strip()
    low = text.lower()
    m = _INTERNAL.search(text)
    if m:
        return f"internal error in {m.group(1)}"
    if "disabled" in low:
        return "websocket disabled"
    host = _HOST.search(text)
    where = (
        f"{host.group(1)}:{host.group(2)}"
        if host and host.group(2)
        else (host.group(1) if host else None)
    )
    if "dns" in low or "name or service not known" in low or "nodename nor servname" in low:
        return f"DNS: {host.group(1)} not found" if host else "DNS lookup failed"
    if "certificate" in low:
        return "TLS error: certificate"
    if "ssl" in low and ("error" in low or "handshake" in low) and "ssl:default" not in low:
        return "TLS error"
    if "handshake" in low or "invalid response status" in low:
        status = _STATUS.search(text)
        return f"HTTP {status.group(1)}" if status else "websocket handshake refused"
    if "refused" in low or "connect call failed" in low:
        return f"cannot connect: {where} refused" if where else "connection refused"
    if "cannot connect" in low:
        return f"cannot connect: {where}" if where else "cannot connect"
    if "timed out" in low or "timeout" in low:
        return "timed out connecting" if "open" in low or "connect" in low else "timed out"
    if "closed by server" in low:
        code = _CLOSE_CODE.search(text)
        return f"closed by server ({code.group(1)})" if code else "closed by server"
    if "without a close frame" in low or "disconnected" in low:
        return "connection dropped"
    if "reset" in low:
        return "connection reset"
    return _clip(_EXC_PREFIX.sub("", text))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
