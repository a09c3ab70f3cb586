"""Reading a recording made by ``hlmon record`` / ``--record`` (format: ``hlmon.feeds.recorder``).

``load_recording(path) -> Recording`` reads and checks the whole file, classifies every frame
by the subscription stream it belongs to (``message_sub_key``) and raises ``RecordingError``
with a message naming the file and line for anything that is not a readable recording. A file
cut short (the recording process was killed) loads up to its last complete frame, with
``truncated`` set.
"""

from __future__ import annotations

import bisect
import gzip
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import msgspec

from hlmon.protocol.decode import decode
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import (
    ErrorMsg,
    NotificationMsg,
    OrderUpdatesMsg,
    PongMsg,
    PostMsg,
    SubscriptionResponseMsg,
    UnknownMsg,
    UserEventsMsg,
)
from hlmon.protocol.subscriptions import message_sub_key
from hlmon.recording_format import READABLE_FORMATS

# Data frames that carry no user or coin are routed by subscription type.
_ROUTE_BY_TYPE: dict[type, str] = {
    OrderUpdatesMsg: "orderUpdates",
    UserEventsMsg: "userEvents",
    NotificationMsg: "notification",
}
# Control frames are answers to what a client sent: the replay server makes its own.
_CONTROL = (PongMsg, SubscriptionResponseMsg, PostMsg)


class RecordingError(Exception):
    """The file is not a readable hlmon recording; the message says where and why."""


ROUTE_NONE = 0
"""Not replayed (acks, pongs, post answers: the replay server generates its own)."""
ROUTE_KEY = 1
"""Sent to connections subscribed to the stream ``Frame.key``."""
ROUTE_TYPE = 2
"""Sent to connections with any subscription of type ``Frame.key`` (e.g. orderUpdates)."""
ROUTE_ALL = 3
"""Sent to every connection (error frames, frames that do not decode)."""


@dataclass(slots=True)
class Frame:
    """One recorded frame."""

    t: float
    """Seconds since the recording started (never decreasing)."""
    text: str
    """The frame exactly as received."""
    route: int
    """One of the ``ROUTE_*`` constants."""
    key: str | None
    """Stream key (``ROUTE_KEY``) or subscription type (``ROUTE_TYPE``)."""
    channel: str
    """Wire channel, ``?`` if the frame did not decode."""


@dataclass
class Recording:
    """A loaded recording."""

    path: Path
    header: dict[str, Any]
    """The header line (``hlmon_recording``, version, network, api_url, address, coins, start)."""
    frames: list[Frame] = field(default_factory=list)
    answers: dict[str, list[tuple[float, Any]]] = field(default_factory=dict)
    """The recorded /info answers (format 2's ``info`` lines) by ``answer_key`` of their
    request: ``(seconds since the start, answer)``, oldest first."""
    trailer: dict[str, Any] | None = None
    """The closing line of a cleanly stopped recording, else None."""
    truncated: bool = False
    """The file ended mid-frame (the recorder was killed); frames up to there are loaded."""

    @property
    def start(self) -> float:
        """Wall-clock time the recording started."""
        return float(self.header["start"])

    @property
    def duration(self) -> float:
        """Seconds from the start to the last frame."""
        return self.frames[-1].t if self.frames else 0.0

    def answer(self, body: dict[str, Any], at: float) -> tuple[bool, Any]:
        """``(found, answer)``: the recorded answer to the /info request ``body`` in force at
        ``at`` seconds (the last one recorded by then; before the first, the first)."""
        kept = self.answers.get(answer_key(body))
        if not kept:
            return False, None
        i = bisect.bisect_right(kept, at, key=lambda item: item[0])
        return True, kept[max(i - 1, 0)][1]


def answer_key(body: dict[str, Any]) -> str:
    """One key for the /info requests that ask the same question: keys sorted, the address
    in lower case, the default dex (``"dex": ""``) the same as no ``dex``."""
    norm = {k: v for k, v in body.items() if not (k == "dex" and v == "")}
    user = norm.get("user")
    if isinstance(user, str):
        norm["user"] = user.lower()
    return msgspec.json.encode(norm, order="sorted").decode()


def classify(text: str) -> tuple[int, str | None, str]:
    """``(route, key, channel)`` of one frame."""
    try:
        msg = decode(text)
    except ProtocolError:
        return ROUTE_ALL, None, "?"
    if isinstance(msg, UnknownMsg):
        return ROUTE_ALL, None, msg.channel
    channel = str(type(msg).__struct_config__.tag)
    if isinstance(msg, _CONTROL):
        return ROUTE_NONE, None, channel
    if isinstance(msg, ErrorMsg):
        return ROUTE_ALL, None, channel
    by_type = _ROUTE_BY_TYPE.get(type(msg))
    if by_type is not None:
        return ROUTE_TYPE, by_type, channel
    key = message_sub_key(msg)
    if key is None:
        return ROUTE_NONE, None, channel  # e.g. an empty trades frame: nothing in it
    return ROUTE_KEY, key, channel


def _bad(path: Path, where: str, what: str) -> RecordingError:
    return RecordingError(f"{path}: {where}: {what}")


def _check_header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = msgspec.json.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or "hlmon_recording" not in header:
        raise _bad(path, "line 1", "not an hlmon recording (no header line)")
    fmt = header["hlmon_recording"]
    if isinstance(fmt, bool) or fmt not in READABLE_FORMATS:
        expected = " or ".join(str(f) for f in READABLE_FORMATS)
        what = f"recording format {fmt!r} is not supported (expected {expected})"
        raise _bad(path, "line 1", what)
    if not _is_time(header.get("start")):
        raise _bad(path, "line 1", "header has no valid 'start' time")
    return header


def _is_time(t: Any) -> TypeGuard[int | float]:
    """A finite number of seconds (not a bool, which JSON would also give as a number)."""
    return not isinstance(t, bool) and isinstance(t, int | float) and math.isfinite(t)


def _add_answer(rec: Recording, obj: dict[str, Any], path: Path, lineno: int) -> None:
    t, body = obj.get("t"), obj.get("info")
    if (
        not _is_time(t)
        or not isinstance(body, dict)
        or not isinstance(body.get("type"), str)
        or "a" not in obj
    ):
        what = 'expected {"t": seconds, "info": {"type": ...}, "a": answer}'
        raise _bad(path, f"line {lineno}", what)
    kept = rec.answers.setdefault(answer_key(body), [])
    at = max(float(t) - rec.start, kept[-1][0] if kept else 0.0)
    kept.append((at, obj["a"]))


def load_recording(path: str | Path) -> Recording:
    """Read and check a recording; see the module docstring.

    Raises:
        RecordingError: a missing, unreadable, non-gzip, header-less or corrupt file.
    """
    p = Path(path)
    if not p.exists():
        raise RecordingError(f"{p}: no such file")
    if p.is_dir():
        raise RecordingError(f"{p}: is a directory, expected a recording")
    rec: Recording | None = None
    lineno = 0
    prev_t = 0.0
    try:
        with gzip.open(p, "rb") as fh:
            while True:
                try:
                    line = fh.readline()
                except EOFError:
                    # Killed mid-write: keep what was complete.
                    if rec is None:
                        raise _bad(p, "line 1", "file ends before the header") from None
                    rec.truncated = True
                    break
                if not line:
                    break
                lineno += 1
                if not line.endswith(b"\n") and rec is not None:
                    rec.truncated = True
                    break
                if rec is None:
                    rec = Recording(p, _check_header(p, line))
                    continue
                try:
                    obj = msgspec.json.decode(line)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    raise _bad(p, f"line {lineno}", "not a JSON line") from None
                if not isinstance(obj, dict):
                    raise _bad(p, f"line {lineno}", "expected a JSON object")
                if "end" in obj and "f" not in obj:
                    rec.trailer = obj
                    continue
                if "info" in obj and "f" not in obj:
                    _add_answer(rec, obj, p, lineno)
                    continue
                t, text = obj.get("t"), obj.get("f")
                if not _is_time(t) or not isinstance(text, str):
                    raise _bad(p, f"line {lineno}", 'expected {"t": seconds, "f": frame text}')
                # Wall-clock steps backwards (NTP) must not reorder the replay.
                rel = max(prev_t, float(t) - rec.start)
                prev_t = rel
                route, key, channel = classify(text)
                rec.frames.append(Frame(rel, text, route, key, channel))
    except gzip.BadGzipFile:
        raise RecordingError(f"{p}: not a gzip file (not an hlmon recording?)") from None
    except zlib.error as exc:
        raise _bad(p, f"after line {lineno}", f"corrupt compressed data ({exc})") from None
    except OSError as exc:
        raise RecordingError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if rec is None:
        raise RecordingError(f"{p}: empty file, not an hlmon recording")
    return rec
