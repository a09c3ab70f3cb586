"""``decode``: one websocket text frame in, one typed ``Message`` out.

Hot path: a single msgspec decoder over the tagged union of known channels, which validates
types while it parses. Only when that fails do we parse generically, to tell an unknown
channel (returned as ``UnknownMsg``, not an error) from malformed input (``ProtocolError``).
A frame that bundles independent entries (``allDexsClearinghouseState``: one state per dex)
is then read entry by entry, so one unreadable dex costs that dex, not the whole frame.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import (
    KNOWN_CHANNELS,
    AllDexsClearinghouseState,
    AllDexsClearinghouseStateMsg,
    ClearinghouseState,
    KnownMsg,
    Message,
    UnknownMsg,
)

_FAST: msgspec.json.Decoder[Any] = msgspec.json.Decoder(KnownMsg)
_fast_decode = _FAST.decode
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
        msg: Message = _fast_decode(frame)
        return msg
    except Exception as exc:  # any failure: the slow path classifies it
        return _classify(frame, exc)


def _classify(frame: object, fast_error: Exception) -> Message:
    """Slow path after the typed decode failed: unknown channel or ProtocolError."""
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
    if channel == "allDexsClearinghouseState":
        partial = _all_dexs_entry_by_entry(obj.get("data"))
        if partial is not None:
            return partial
    if channel in KNOWN_CHANNELS:
        raise ProtocolError(f"invalid {channel!r} frame: {fast_error}", frame)
    return UnknownMsg(channel=channel, data=obj.get("data"))


def _all_dexs_entry_by_entry(data: object) -> Message | None:
    """The frame with its readable ``[dex, state]`` entries, or None if the frame itself is bad."""
    if not isinstance(data, dict):
        return None
    user, entries = data.get("user"), data.get("clearinghouseStates")
    if not isinstance(user, str) or not isinstance(entries, list):
        return None
    kept: list[tuple[str, ClearinghouseState]] = []
    for entry in entries:
        try:
            kept.append(msgspec.convert(entry, tuple[str, ClearinghouseState]))
        except (msgspec.ValidationError, TypeError, ValueError):
            continue
    dropped = len(entries) - len(kept)
    state = AllDexsClearinghouseState(user=user, clearinghouseStates=kept, dropped=dropped)
    return AllDexsClearinghouseStateMsg(data=state)


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
