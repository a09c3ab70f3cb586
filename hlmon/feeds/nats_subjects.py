"""NATS subjects for the exchange's streams, as ``hlmon daemon --nats`` publishes them.

Pure naming (no NATS client here): the daemon and ``hlmon --via nats://`` both use it.

Every subject starts ``hl.<network>.`` (``mainnet``, ``testnet`` or ``custom-<10 hex>``, the
daemon's upstream name), then::

    book.<coin>[.nSigFigs-5][.mantissa-2][.fast-true]   l2Book
    bbo.<coin>                                          bbo
    trades.<coin>                                       trades
    candle.<coin>.<interval>                            candle
    ctx.<coin>                                          activeAssetCtx
    mids.<dex or main>                                  allMids
    user.<address>.<feed>[.<param>-<value>...]          the user streams (``USER_FEEDS``)
    user.<address>.assetdata.<coin>                     activeAssetData
    _daemon / _subscribe / _info                        the daemon's state, requests, /info

Payloads are the exchange's own ``{"channel":...,"data":...}`` frames, byte for byte.

Escaping (``escape_token``): a subject token keeps ``A-Z a-z 0-9 -`` and writes every other
byte of the name's UTF-8 as ``_`` and two upper-case hex digits, ``_`` itself included:
``xyz:TSLA`` -> ``xyz_3ATSLA``, ``@107`` -> ``_40107``, ``PURR/USDC`` -> ``PURR_2FUSDC``,
``#90`` -> ``_2390``. So no name can contain ``.``, ``*``, ``>`` or a space, the mapping is
reversible and case is kept (``kPEPE``). ``main`` stands for the default dex of ``allMids``;
a dex really called ``main`` is written ``_6Dain``. Optional parameters follow as
``<name>-<value>`` tokens in name order (``true``/``false`` for flags).

Where frames are kept (``delivery_of``): the event streams (fills, order updates, user
events, fundings, ledger, notifications, TWAP fills and history) go to a JetStream stream
``hl-<network>-events`` so a client resumes by sequence; state streams (books, mids,
contexts, account states...) and ``_daemon`` to ``hl-<network>-last``, which keeps only the
last message per subject (a new subscriber starts from it); trades are core NATS only, their
backfill comes with the subscribe reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hlmon.feeds.nats_endpoint import check_network
from hlmon.protocol.subscriptions import Subscription

Delivery = Literal["events", "last", "core"]
"""``events``: JetStream, resumed by sequence; ``last``: JetStream, last per subject;
``core``: plain NATS."""

_KEEP = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_ESCAPED_RE = re.compile(r"(?:[A-Za-z0-9-]|_[0-9A-F]{2})+")
MAIN_DEX = "main"
"""The ``mids`` token of the default dex."""
_MAIN_ESCAPED = "_6Dain"
"""The ``mids`` token of a dex really called ``main``."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one subscription type maps to a subject."""

    word: str
    """The subject word (``book``; for user streams the feed, ``fills``)."""
    delivery: Delivery
    primary: tuple[str, ...] = ()
    """Parameters written as bare tokens, in order, after the word (after the address for
    user streams); the rest are optional ``name-value`` tokens."""
    user: bool = False


_KINDS: dict[str, _Kind] = {
    "l2Book": _Kind("book", "last", ("coin",)),
    "bbo": _Kind("bbo", "last", ("coin",)),
    "trades": _Kind("trades", "core", ("coin",)),
    "candle": _Kind("candle", "last", ("coin", "interval")),
    "activeAssetCtx": _Kind("ctx", "last", ("coin",)),
    "allMids": _Kind("mids", "last", ("dex",)),
    "clearinghouseState": _Kind("state", "last", user=True),
    "allDexsClearinghouseState": _Kind("alldexs", "last", user=True),
    "openOrders": _Kind("openorders", "last", user=True),
    "spotState": _Kind("spot", "last", user=True),
    "twapStates": _Kind("twapstates", "last", user=True),
    "webData3": _Kind("webdata", "last", user=True),
    "activeAssetData": _Kind("assetdata", "last", ("coin",), user=True),
    "orderUpdates": _Kind("orders", "events", user=True),
    "userEvents": _Kind("events", "events", user=True),
    "userFills": _Kind("fills", "events", user=True),
    "userFundings": _Kind("fundings", "events", user=True),
    "userNonFundingLedgerUpdates": _Kind("ledger", "events", user=True),
    "notification": _Kind("notification", "events", user=True),
    "userTwapSliceFills": _Kind("twapfills", "events", user=True),
    "userTwapHistory": _Kind("twaphistory", "events", user=True),
}
"""Every subscription type that has a subject (others are not published)."""
_BY_WORD = {(k.user, k.word): t for t, k in _KINDS.items()}

PARAM_TYPES: Mapping[str, type] = {
    "coin": str,
    "interval": str,
    "dex": str,
    "nSigFigs": int,
    "mantissa": int,
    "fast": bool,
    "aggregateByTime": bool,
    "ignorePortfolioMargin": bool,
}
"""The parameters a subject can carry, with their wire types."""

CONTROL_WORDS = ("_daemon", "_subscribe", "_info")


def escape_token(text: str) -> str:
    """``text`` as one NATS subject token (see the module docstring).

    Raises:
        ValueError: ``text`` is empty.
    """
    if not text:
        raise ValueError("an empty name has no subject token")
    raw = text.encode()
    if all(b in _KEEP for b in raw):
        return text
    return "".join(chr(b) if b in _KEEP else f"_{b:02X}" for b in raw)


def unescape_token(token: str) -> str:
    """The name a token stands for (the inverse of ``escape_token``).

    Raises:
        ValueError: not a token ``escape_token`` writes.
    """
    if not _ESCAPED_RE.fullmatch(token):
        raise ValueError(f"not an escaped subject token: {token!r}")
    if "_" not in token:
        return token
    out = bytearray()
    i = 0
    while i < len(token):
        if token[i] == "_":
            out.append(int(token[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(ord(token[i]))
            i += 1
    text = out.decode()
    if escape_token(text) != token:  # e.g. "_41" for a plain "A": one spelling per name
        raise ValueError(f"not the canonical token of {text!r}: {token!r}")
    return text


def prefix(network: str) -> str:
    """``hl.<network>``."""
    return "hl." + check_network(network)


def control_subject(network: str, word: str) -> str:
    """``hl.<network>._daemon``, ``._subscribe`` or ``._info``."""
    if word not in CONTROL_WORDS:
        raise ValueError(f"no control subject {word!r}")
    return f"{prefix(network)}.{word}"


def delivery_of(kind: str) -> Delivery | None:
    """Where frames of subscription type ``kind`` are kept, None if it has no subject."""
    spec = _KINDS.get(kind)
    return None if spec is None else spec.delivery


def _value_token(name: str, value: Any) -> str:
    kind = PARAM_TYPES.get(name)
    if kind is None:
        raise ValueError(f"parameter {name!r} has no subject form")
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a bool, got {value!r}")
        return "true" if value else "false"
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        return str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return escape_token(value)


def _parse_value(name: str, token: str) -> Any:
    kind = PARAM_TYPES.get(name)
    if kind is None:
        raise ValueError(f"unknown parameter {name!r}")
    if kind is bool:
        if token not in ("true", "false"):
            raise ValueError(f"{name}: expected true or false, got {token!r}")
        return token == "true"
    if kind is int:
        if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
            raise ValueError(f"{name}: expected an integer, got {token!r}")
        return int(token)
    return unescape_token(token)


def subject_of(network: str, sub: Subscription) -> str | None:
    """The subject ``sub``'s frames are published on, None for a type without one.

    Raises:
        ValueError: a parameter that has no subject form (an unknown name or a bad value).
    """
    spec = _KINDS.get(sub.type)
    if spec is None:
        return None
    params = dict(sub.params)
    tokens = [prefix(network)]
    if spec.user:
        user = params.pop("user", None)
        if not isinstance(user, str) or not re.fullmatch(r"0x[0-9a-f]{40}", user):
            raise ValueError(f"{sub.type} needs a lower-case address, got {user!r}")
        tokens += ["user", user]
    tokens.append(spec.word)
    for name in spec.primary:
        value = params.pop(name, None)
        if name == "dex":
            dex = value or ""
            tokens.append(
                MAIN_DEX if dex == "" else _MAIN_ESCAPED if dex == MAIN_DEX else escape_token(dex)
            )
        else:
            tokens.append(_value_token(name, value))
    for name in sorted(params):
        tokens.append(f"{name}-{_value_token(name, params[name])}")
    return ".".join(tokens)


def subscription_of(network: str, subject: str) -> Subscription:
    """The subscription a published subject stands for (the inverse of ``subject_of``).

    Raises:
        ValueError: not a stream subject of ``network``.
    """
    head = prefix(network) + "."
    if not subject.startswith(head):
        raise ValueError(f"not a subject of {network}: {subject!r}")
    tokens = subject[len(head) :].split(".")
    user: str | None = None
    if tokens[0] == "user":
        if len(tokens) < 3 or not re.fullmatch(r"0x[0-9a-f]{40}", tokens[1]):
            raise ValueError(f"a user subject needs a lower-case address: {subject!r}")
        user = tokens[1]
        tokens = tokens[2:]
    kind = _BY_WORD.get((user is not None, tokens[0]))
    if kind is None:
        raise ValueError(f"no stream is published on {subject!r}")
    spec = _KINDS[kind]
    rest = tokens[1:]
    if len(rest) < len(spec.primary):
        raise ValueError(f"{subject!r} lacks {', '.join(spec.primary)}")
    params: list[tuple[str, Any]] = [] if user is None else [("user", user)]
    for name, token in zip(spec.primary, rest, strict=False):
        if name == "dex":
            special = {MAIN_DEX: "", _MAIN_ESCAPED: MAIN_DEX}
            dex = special[token] if token in special else unescape_token(token)
            if dex:
                params.append(("dex", dex))
        else:
            params.append((name, _parse_value(name, token)))
    for token in rest[len(spec.primary) :]:
        name, sep, value = token.partition("-")
        if not sep or name in spec.primary or name in dict(params):
            raise ValueError(f"bad parameter token {token!r} in {subject!r}")
        params.append((name, _parse_value(name, value)))
    sub = Subscription(kind, tuple(params))
    if subject_of(network, sub) != subject:
        raise ValueError(f"not the canonical subject of {sub.to_wire()}: {subject!r}")
    return sub


def stream_name(network: str, delivery: Literal["events", "last"]) -> str:
    """The JetStream stream holding ``delivery`` frames of ``network``."""
    return f"hl-{check_network(network)}-{delivery}"


def stream_subjects(network: str, delivery: Literal["events", "last"]) -> list[str]:
    """The subject filters of that stream (disjoint from the other's)."""
    head = prefix(network)
    out: list[str] = []
    for spec in _KINDS.values():
        if spec.delivery != delivery:
            continue
        base = f"{head}.user.*.{spec.word}" if spec.user else f"{head}.{spec.word}"
        if spec.primary:
            out.append(base + ".>")
        else:
            out += [base, base + ".>"]
    if delivery == "last":
        out.append(control_subject(network, "_daemon"))
    return out
