"""``Stream``: one upstream subscription, shared by every client that asked for it.

Frames are forwarded as the exchange sent them (bytes, never re-encoded). What a client that
joins late gets at once depends on the kind of stream:

- state streams (``l2Book``, ``bbo``, ``allMids``, contexts, ``clearinghouseState``,
  ``openOrders``...): each frame replaces the last, so the last frame is replayed;
- backfill streams (``trades``; ``userFills``, ``userFundings``, ledger updates after their
  ``isSnapshot`` frame): the daemon keeps the newest items merged and replays them as one
  frame, shaped like the exchange's own first frame;
- event streams without a snapshot (``orderUpdates``, ``user``, ``notification``): nothing;
- ``fastAssetCtxs``, whose frames after the first hold only what changed: every frame merged,
  replayed as one full frame (``fast_ctxs``).

User event streams (fills, order updates, user events, fundings, ledger, notifications) are
numbered per client (``"seq"``, see ``sessions``) so a client that reconnects gets what it
missed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import msgspec

from hlmon.daemon.fast_ctxs import FastCtxsMerge
from hlmon.protocol.market_streams import FAST_ASSET_CTXS
from hlmon.protocol.subscriptions import Subscription, canonical_key, stream_key


class Subscriber(Protocol):
    """A client holding streams (``sessions.ClientSession``)."""

    subs: dict[str, Stream]

    def push(self, raw: bytes, event: bool) -> None: ...
    def send(self, raw: bytes) -> None: ...


EVENT_TYPES = frozenset(
    (
        "userFills",
        "orderUpdates",
        "userEvents",
        "userFundings",
        "userNonFundingLedgerUpdates",
        "notification",
        "userTwapSliceFills",
        "userTwapHistory",
    )
)
"""Subscription types whose frames are events a client must not miss (numbered per client)."""

BACKFILL_FIELD: dict[str, str | None] = {
    "trades": None,  # data is the list itself
    "userFills": "fills",
    "userFundings": "fundings",
    "userNonFundingLedgerUpdates": "nonFundingLedgerUpdates",
    "userTwapSliceFills": "twapSliceFills",
    "userTwapHistory": "history",
}
"""Streams whose first frame is a backfill: the list the daemon merges (None: ``data``)."""
BACKFILL_KEEP: dict[str, int] = {"trades": 100}
"""Items kept per backfill stream (default ``DEFAULT_KEEP``)."""
DEFAULT_KEEP = 2000

NO_EVENTS = frozenset(("orderUpdates", "userEvents", "notification"))
"""Event streams with no snapshot: nothing to replay to a new subscriber."""

_ATTRIBUTED = frozenset(
    (
        "l2Book",
        "bbo",
        "trades",
        "allMids",
        "candle",
        "activeAssetCtx",
        "activeAssetData",
        "clearinghouseState",
        "allDexsClearinghouseState",
        "openOrders",
        "userFills",
        "userFundings",
        "userNonFundingLedgerUpdates",
        "webData3",
        # The whole account (#14): frames name their user (and twapStates its dex).
        "spotState",
        "twapStates",
        "userTwapSliceFills",
        "userTwapHistory",
    )
)
"""Types whose frames say which stream they belong to (``protocol.message_sub_key``)."""
_CHANNEL_OF_TYPE = {"userEvents": "user"}

_decode = msgspec.json.decode
_encode = msgspec.json.encode


def route_of(wire: Mapping[str, Any]) -> str:
    """What a data frame of this subscription can be recognised by on a shared socket.

    For most types that is the stream (coin, user, dex...); ``orderUpdates``, ``user`` and
    ``notification`` frames carry no user, and types hlmon does not know are taken by their
    channel alone, so only one subscription of those fits on one socket.
    """
    kind = str(wire.get("type"))
    if kind in _ATTRIBUTED:
        return stream_key(wire)
    return "channel:" + _CHANNEL_OF_TYPE.get(kind, kind)


class Stream:
    """One upstream subscription and the clients that share it."""

    def __init__(self, sub: Subscription, lane: int) -> None:
        self.sub = sub
        self.key = sub.key
        self.route = route_of(sub.to_wire())
        self.lane = lane
        """Index of the upstream socket it lives on."""
        self.kind = sub.type
        self.event = sub.type in EVENT_TYPES
        self.user: str | None = sub.get("user")
        self.subscribers: dict[Subscriber, None] = {}
        """Clients holding it (connected, or disconnected within their resume window)."""
        self.waiting: list[Subscriber] = []
        """Clients to ack once the exchange acks the upstream subscription."""
        self.ack_frame: bytes | None = None
        """The exchange's ack (its normalised echo), replayed to each later subscriber."""
        self.last_frame: bytes | None = None
        self._items: deque[Any] | None = None
        self._head: dict[str, Any] = {}
        self._fast = FastCtxsMerge() if self.kind == FAST_ASSET_CTXS else None
        self.frames = 0
        self.last_at: float | None = None
        """Monotonic time of the last frame from upstream."""
        self.created = time.monotonic()
        self.tap: Callable[[Stream, bytes], None] | None = None
        """Also gets every frame from upstream (the NATS bridge), or None."""

    # ------------------------------------------------------------------ upstream side

    def acked(self, echo: Mapping[str, Any]) -> list[Subscriber]:
        """The exchange acked it: remember the ack; returns the clients waiting for it."""
        if self.ack_frame is None:
            ack = {"method": "subscribe", "subscription": dict(echo)}
            self.ack_frame = _encode({"channel": "subscriptionResponse", "data": ack})
        waiting, self.waiting = self.waiting, []
        return waiting

    def deliver(self, raw: bytes) -> None:
        """A frame of this stream from upstream: keep what a late joiner needs, fan it out."""
        self.frames += 1
        self.last_at = time.monotonic()
        if self.kind in BACKFILL_FIELD:
            self._merge(raw)
        elif self._fast is not None:
            self._fast.apply(raw)
        elif not self.event:
            self.last_frame = raw
        event = self.event
        for session in self.subscribers:
            session.push(raw, event)
        if self.tap is not None:
            self.tap(self, raw)

    def _merge(self, raw: bytes) -> None:
        try:
            msg = _decode(raw)
            data = msg["data"]
        except (msgspec.DecodeError, KeyError, TypeError):
            return
        name = BACKFILL_FIELD[self.kind]
        if name is None:
            items = data if isinstance(data, list) else None
            snapshot = False
        elif isinstance(data, dict):
            items = data.get(name)
            snapshot = bool(data.get("isSnapshot"))
        else:
            items = None
            snapshot = False
        if not isinstance(items, list):
            return
        if snapshot or self._items is None:
            if name is not None and not snapshot:
                return  # a delta before the snapshot: the snapshot (when it comes) has it
            self._items = deque(maxlen=BACKFILL_KEEP.get(self.kind, DEFAULT_KEEP))
            if isinstance(data, dict):
                self._head = {k: v for k, v in data.items() if k != name}
        self._items.extend(items)

    # ------------------------------------------------------------------ late joiners

    def replay(self) -> list[bytes]:
        """What a new subscriber gets at once: the last state, or the merged backfill."""
        if self.kind in BACKFILL_FIELD:
            if self._items is None:
                return []
            name = BACKFILL_FIELD[self.kind]
            items = list(self._items)
            if name is None:
                data: Any = items
            else:
                data = {**self._head, "isSnapshot": True, name: items}
            channel = "trades" if name is None else self.kind
            return [_encode({"channel": channel, "data": data})]
        if self._fast is not None:
            frame = self._fast.snapshot_frame()
            return [] if frame is None else [frame]
        if self.event or self.last_frame is None:
            return []
        return [self.last_frame]

    # ------------------------------------------------------------------ status

    def status(self, now: float) -> dict[str, Any]:
        """One row of ``GET /_daemon/status``."""
        return {
            "subscription": self.sub.to_wire(),
            "lane": self.lane,
            "clients": len(self.subscribers),
            "acked": self.ack_frame is not None,
            "frames": self.frames,
            "age_s": None if self.last_at is None else round(now - self.last_at, 3),
        }


def sub_key(wire: Mapping[str, Any]) -> str:
    """The subscription's identity (an ack's echo has the same one)."""
    return canonical_key(wire)


def users_of(streams: Iterable[Stream]) -> set[str]:
    """The distinct users the streams track."""
    return {s.user for s in streams if s.user}
