"""What the daemon accepts from a client, checked before anything goes upstream.

A request the exchange would not parse is a ``BadRequest`` (answered ``PARSE_ERROR`` + the
frame); one it would refuse, or close the whole socket over (bad ``nSigFigs``, ``mantissa``,
``dex``), is an ``InvalidSubscription`` (answered ``Invalid subscription {...}``). Used by the
local socket (``server``) and the NATS requests (``nats_requests``).
"""

from __future__ import annotations

from typing import Any

from hlmon.protocol.subscriptions import Subscription, check_book_params, check_dex

PARSE_ERROR = "Error parsing JSON into valid websocket request: "
_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF")


class BadRequest(Exception):
    """Not a request the exchange would parse."""


class InvalidSubscription(Exception):
    """Parses, but would be refused (or close the exchange's socket)."""


def parse_subscription(wire: Any) -> Subscription:
    """The daemon's check of a client's ``subscription`` object: what the exchange would not
    parse is a parse error; what would be refused, or close its socket (bad ``nSigFigs``,
    ``mantissa``, ``dex``), is an invalid subscription."""
    if not isinstance(wire, dict):
        raise BadRequest
    kind = wire.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadRequest
    params: list[tuple[str, Any]] = []
    for name, value in wire.items():
        if name == "type" or value is None:
            continue
        if not isinstance(value, str | int | bool):
            raise BadRequest
        if name == "user":
            if not isinstance(value, str) or not _is_address(value):
                raise BadRequest
            value = value.lower()
        elif name == "coin" and (not isinstance(value, str) or not value or value != value.strip()):
            raise BadRequest
        params.append((name, value))
    if kind == "l2Book":
        try:
            check_book_params(wire.get("nSigFigs"), wire.get("mantissa"))
        except ValueError:
            raise InvalidSubscription from None
    if "dex" in wire:
        try:
            check_dex(wire["dex"])
        except ValueError:
            raise InvalidSubscription from None
    return Subscription(kind, tuple(params))


def _is_address(text: str) -> bool:
    return len(text) == 42 and text.startswith("0x") and _ADDRESS_CHARS.issuperset(text[2:])
