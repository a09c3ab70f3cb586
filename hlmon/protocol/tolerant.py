"""The one fallback for answers that fail the strict typed decode: read them item by item.

Every decoder in this package first tries one strict msgspec pass over the bytes (the normal,
fast case). Only when that fails does it parse the JSON generically and hand it to a *tolerant
reader*, built from the helpers below, which converts entry by entry:

- an item that converts is kept as it is;
- an item that does not is *patched*: a missing (or null) non-essential field gets a neutral
  default, and the item is converted again; it then counts as ``defaulted``;
- an item still unreadable, or missing an identity field (a coin, an oid...), is left out and
  counts as ``dropped``; the rest of the answer survives.

Only a top-level shape that is wrong (not a list, no ``universe``...) raises ``Bad``, which the
callers turn into ``ProtocolError``. Metadata readers live in ``meta``, account readers in
``repair``; both use these helpers, so there is one mechanism.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from hlmon.protocol.errors import ProtocolError

T = TypeVar("T")


class Bad(Exception):
    """A shape the tolerant pass cannot read either (or an item without its identity)."""


class Tally:
    """What a tolerant pass did to one answer: items left out, items kept with defaults."""

    __slots__ = ("defaulted", "dropped")

    def __init__(self) -> None:
        self.dropped = 0
        self.defaulted = 0


class TolerantList(list[T]):
    """A list answer read item by item; equal to (and encoded as) a plain list.

    Attributes:
        dropped: items left out because they could not be read.
        defaulted: items kept with a neutral default for a missing non-essential field.
    """

    dropped: int = 0
    defaulted: int = 0


Patch = Callable[[dict[str, Any], Tally], int]
"""Fills the missing non-essential fields of a copied item in place; returns how many it set.
Raises ``Bad`` when the item lacks an identity field (then it is dropped)."""


def convert(item: Any, tp: type[T]) -> T | None:
    """``item`` as ``tp``, or None when it does not fit."""
    try:
        return msgspec.convert(item, tp)
    except (msgspec.ValidationError, TypeError, ValueError):
        return None


def fits(value: Any, tp: Any) -> bool:
    """True when ``value`` converts to ``tp`` (unlike ``convert``, also when it is None)."""
    try:
        msgspec.convert(value, tp)
    except (msgspec.ValidationError, TypeError, ValueError):
        return False
    return True


def items(raw: Any, tp: type[T], what: str) -> tuple[list[T], list[int]]:
    """Convert each element of list ``raw``; returns (kept, positions left out)."""
    if not isinstance(raw, list):
        raise Bad(f"{what} is not a list")
    kept: list[T] = []
    dropped: list[int] = []
    for pos, item in enumerate(raw):
        value = convert(item, tp)
        if value is None:
            dropped.append(pos)
        else:
            kept.append(value)
    return kept, dropped


def obj(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Bad(f"{what} is not an object")
    return raw


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def fill_missing(item: dict[str, Any], defaults: Mapping[str, Any]) -> int:
    """Set each absent key of ``item`` (or null one, unless null is its default) to its
    default; returns how many were set."""
    n = 0
    for key, default in defaults.items():
        if key not in item or (item[key] is None and default is not None):
            item[key] = default
            n += 1
    return n


def require(item: Mapping[str, Any], *keys: str) -> None:
    """Raise ``Bad`` unless every key is present and not null (identity fields)."""
    for key in keys:
        if item.get(key) is None:
            raise Bad(f"item without {key!r}")


def patched(item: Any, patch: Patch, tally: Tally) -> dict[str, Any] | None:
    """A patched copy of ``item`` (counted as defaulted if anything was set), or None."""
    if not isinstance(item, dict):
        return None
    fixed = dict(item)
    try:
        set_fields = patch(fixed, tally)
    except Bad:
        return None
    if set_fields:
        tally.defaulted += 1
    return fixed


def repaired(item: Any, tp: type[T], patch: Patch, tally: Tally) -> T | None:
    """``item`` as ``tp``: as it is, else patched; None (counted as dropped) when neither fits."""
    value = convert(item, tp)
    if value is not None:
        return value
    dropped, defaulted = tally.dropped, tally.defaulted
    fixed = patched(item, patch, tally)
    value = None if fixed is None else convert(fixed, tp)
    if value is None:  # counted once, as dropped (not its nested items, not as defaulted)
        tally.dropped, tally.defaulted = dropped + 1, defaulted
    return value


def repaired_list(raw: Any, tp: type[T], patch: Patch, tally: Tally, what: str) -> list[T]:
    """Each element of list ``raw`` through ``repaired``; unreadable ones are left out."""
    if not isinstance(raw, list):
        raise Bad(f"{what} is not a list")
    out: list[T] = []
    for item in raw:
        value = repaired(item, tp, patch, tally)
        if value is not None:
            out.append(value)
    return out


def repaired_raw(raw: Any, tp: type[Any], patch: Patch, tally: Tally, what: str) -> list[Any]:
    """Like ``repaired_list`` but keeps the (patched) JSON items, for nesting in a parent that
    is converted as a whole afterwards (positions inside a clearinghouse state)."""
    if not isinstance(raw, list):
        raise Bad(f"{what} is not a list")
    out: list[Any] = []
    for item in raw:
        if convert(item, tp) is not None:
            out.append(item)
            continue
        dropped, defaulted = tally.dropped, tally.defaulted
        fixed = patched(item, patch, tally)
        if fixed is not None and convert(fixed, tp) is not None:
            out.append(fixed)
        else:
            tally.dropped, tally.defaulted = dropped + 1, defaulted
    return out


def tolerant_list(values: Iterable[T], tally: Tally) -> TolerantList[T]:
    out: TolerantList[T] = TolerantList(values)
    out.dropped = tally.dropped
    out.defaulted = tally.defaulted
    return out


def no_patch(item: dict[str, Any], tally: Tally) -> int:
    """For items with nothing to default: an unreadable one is dropped."""
    return 0


_GENERIC: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def parse_json(body: bytes | str, what: str) -> Any:
    """Untyped JSON of ``body``; ``ProtocolError`` when it is not JSON."""
    try:
        return _GENERIC.decode(body)
    except RecursionError:
        raise ProtocolError(f"{what} response nests too deeply", body) from None
    except Exception as exc:  # msgspec and unicode errors: not JSON
        raise ProtocolError(f"invalid {what} response: {exc}", body) from None


def decode_with(reader: Callable[[Any], Any], what: str, body: bytes | str) -> Any:
    """Parse ``body`` generically and read it with the tolerant ``reader``.

    Raises:
        ProtocolError: when the body is not JSON or its top-level shape is wrong.
    """
    raw = parse_json(body, what)
    try:
        return reader(raw)
    except Bad as exc:
        raise ProtocolError(f"invalid {what} response: {exc}", body) from None
