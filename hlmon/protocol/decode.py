"""``decode``: one websocket text frame in, one typed ``Message`` out.

Hot path: a single msgspec decoder over the tagged union of known channels, which validates
types while it parses. Only when that fails do we parse generically, to tell an unknown
channel (returned as ``UnknownMsg``, not an error) from malformed input (``ProtocolError``).
A frame of an account channel (fills, fundings, orders, states, TWAPs...) is then read item by
item (``repair.FRAME_READERS``): an odd item is defaulted or left out and counted on the
message (``repair.tolerance_of``), so one unreadable fill or dex costs that item, not the frame.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import KNOWN_CHANNELS, KnownMsg, Message, UnknownMsg
from hlmon.protocol.repair import FRAME_READERS
from hlmon.protocol.tolerant import Bad

_FAST: msgspec.json.Decoder[Any] = msgspec.json.Decoder(KnownMsg)
fast_decode = _FAST.decode
"""The typed decode alone (a C call): a hot loop calls it directly and, when it raises,
hands the frame and its error to ``classify``: together exactly ``decode``, one Python call
less per frame."""
_GENERIC: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def decode(frame: bytes | str) -> Message:
    """Decode one websocket frame.

    Returns a known message struct, or ``UnknownMsg(channel, data)`` for a well-formed frame
    on a channel hlmon does not know.

    Raises:
        ProtocolError: for anything else: non-JSON text (e.g. the legacy greeting
            ``Websocket connection established.``), truncated JSON, a non-object, a missing or
            non-string ``channel``, or a known channel whose payload has wrong types, missing
            fields or nulls where they are not allowed.
    """
    try:
        msg: Message = fast_decode(frame)
        return msg
    except Exception as exc:  # any failure: the slow path classifies it
        return classify(frame, exc)


def classify(frame: object, fast_error: Exception) -> Message:
    """Slow path after the typed decode (``fast_decode``) failed with ``fast_error``: a
    repaired account frame, an unknown channel, or ``ProtocolError``."""
    if not isinstance(frame, bytes | bytearray | memoryview | str):
        raise ProtocolError(f"frame must be bytes or str, not {type(frame).__name__}", frame)
    try:
        obj = _GENERIC.decode(frame)
    except RecursionError:
        raise ProtocolError("frame nests too deeply", frame) from None
    except Exception as exc:  # msgspec and unicode errors: not JSON
        raise ProtocolError(f"not a JSON frame: {exc}", frame) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"frame is a JSON {_json_kind(obj)}, not an object", frame)
    channel = obj.get("channel")
    if not isinstance(channel, str):
        raise ProtocolError("frame has no string 'channel'", frame)
    reader = FRAME_READERS.get(channel)
    if reader is not None:
        try:
            return reader(obj.get("data"))
        except Bad as exc:
            raise ProtocolError(f"invalid {channel!r} frame: {exc}", frame) from None
    if channel in KNOWN_CHANNELS:
        raise ProtocolError(f"invalid {channel!r} frame: {fast_error}", frame)
    return UnknownMsg(channel=channel, data=obj.get("data"))


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"
