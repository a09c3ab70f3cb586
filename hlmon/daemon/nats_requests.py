"""``NatsRequests``: answers to ``hl.<network>._subscribe`` (protocol: ``nats_clients``).

The checks are the local socket's (``checks.parse_subscription``: what the exchange would not
parse, what it would refuse or close its socket over), then the NATS ones: the type must
have a subject, and every coin and dex must be a name the exchange lists (the daemon's
catalog). Limits are the upstream's, shared with the local clients, refused with the
exchange's own texts. Anything that looks like a private key is refused unread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import msgspec

from hlmon.daemon.catalog import DaemonCatalog
from hlmon.daemon.checks import PARSE_ERROR, BadRequest, InvalidSubscription, parse_subscription
from hlmon.daemon.nats_clients import NatsClients, NatsHolder
from hlmon.daemon.streams import BACKFILL_FIELD, Stream
from hlmon.daemon.upstream import Refused, Upstream, error_frame
from hlmon.feeds.nats_subjects import subject_of
from hlmon.keyguard import looks_like_key, redact
from hlmon.protocol.subscriptions import Subscription

_encode = msgspec.json.encode
_decode = msgspec.json.decode
_ERROR = b'{"channel":"error"'
MAX_RENEW = 1000
"""Subscriptions one renew may name (the exchange's per-IP subscription cap)."""

Answer = bytes | Awaitable[bytes]
"""Frames to reply (one per line; empty: nothing to say yet), now or once the exchange acked."""


class _NoCatalog(Exception):
    """Names cannot be checked: the catalog is not loaded."""


class NatsRequests:
    """Turns NATS clients' requests into upstream subscriptions."""

    def __init__(
        self,
        upstream: Upstream,
        clients: NatsClients,
        catalog: DaemonCatalog,
        *,
        network: str,
        hello: dict[str, Any],
        ack_timeout: float = 10.0,
    ) -> None:
        self.upstream = upstream
        self.clients = clients
        self.catalog = catalog
        self.network = network
        self.hello = hello
        self.ack_timeout = ack_timeout
        self.requests = 0
        self.refused = 0

    def handle(self, raw: bytes) -> Answer:
        """The answer to one request body."""
        self.requests += 1
        text = raw.decode("utf-8", "replace")
        if looks_like_key(text):
            return error_frame(PARSE_ERROR + redact(text)[:200])
        msg: Any = None
        try:
            msg = _decode(raw)
            if not isinstance(msg, dict):
                raise BadRequest
            holder = self.clients.get(msg.get("client"))
            if holder is None:
                return error_frame(
                    'hlmon daemon: a NATS request needs "client": 1-64 of A-Z a-z 0-9 _ . - '
                    f"(at most {self.clients.max_clients} clients)"
                )
            method = msg.get("method")
            if method == "hello":
                return _encode({"channel": "_hello", "data": self.hello})
            if method == "subscribe":
                return self._subscribe(holder, msg.get("subscription"), msg.get("resume") is True)
            if method == "unsubscribe":
                return self._unsubscribe(holder, msg.get("subscription"))
            if method == "renew":
                return self._renew(holder, msg.get("subscriptions"))
            raise BadRequest
        except (msgspec.DecodeError, BadRequest):
            self.refused += 1
            return error_frame(PARSE_ERROR + text.strip()[:2000])
        except InvalidSubscription:
            self.refused += 1
            sent = _encode(msg.get("subscription")).decode()
            return error_frame(f"Invalid subscription {sent}")
        except _NoCatalog:
            self.refused += 1
            why = self.catalog.problem or "still loading"
            return error_frame(f"hlmon daemon: the market catalog is not loaded ({why})")

    # ------------------------------------------------------------------ methods

    def _checked(self, wire: Any) -> Subscription:
        sub = parse_subscription(wire)
        try:
            if subject_of(self.network, sub) is None:
                raise InvalidSubscription
        except ValueError:
            raise InvalidSubscription from None
        coin = sub.get("coin")
        dex = sub.get("dex")
        if coin is None and dex is None:
            return sub
        if self.catalog.catalog is None:
            raise _NoCatalog
        if coin is not None and not self.catalog.knows_coin(coin):
            raise InvalidSubscription
        if dex is not None and not self.catalog.knows_dex(dex):
            raise InvalidSubscription
        return sub

    def _take(self, holder: NatsHolder, sub: Subscription) -> Stream:
        """The stream for ``sub``, held by ``holder`` (acquired if new). Raises Refused."""
        stream = holder.subs.get(sub.key)
        if stream is None:
            stream, _new = self.upstream.acquire(holder, sub)
            holder.subs[sub.key] = stream
        if stream.ack_frame is None and holder not in stream.waiting:
            stream.waiting.append(holder)
        return stream

    def _subscribe(self, holder: NatsHolder, wire: Any, resume: bool) -> Answer:
        sub = self._checked(wire)
        try:
            stream = self._take(holder, sub)
        except Refused as refusal:
            self.refused += 1
            return error_frame(str(refusal))
        if stream.ack_frame is not None:
            return _answer(stream, stream.ack_frame, resume)
        return self._after_ack(holder, stream, holder.expect_ack(sub.key), resume)

    async def _after_ack(
        self, holder: NatsHolder, stream: Stream, ack: asyncio.Future[bytes], resume: bool
    ) -> bytes:
        try:
            frame = await asyncio.wait_for(ack, self.ack_timeout)
        except TimeoutError:
            # Still held and waiting upstream: the frames come on the subject when it acks.
            return b""
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the daemon is stopping
            return b""  # unsubscribed meanwhile (``forget_pending`` cancelled the ack)
        if frame.startswith(_ERROR):
            self.refused += 1
            return frame
        return _answer(stream, frame, resume)

    def _unsubscribe(self, holder: NatsHolder, wire: Any) -> bytes:
        sub = parse_subscription(wire)
        stream = holder.subs.pop(sub.key, None)
        holder.forget_pending(sub.key)
        if stream is None:
            return error_frame(f"Already unsubscribed: {_encode(wire).decode()}")
        self.upstream.release(holder, stream)
        ack = {"method": "unsubscribe", "subscription": wire}
        return _encode({"channel": "subscriptionResponse", "data": ack})

    def _renew(self, holder: NatsHolder, wires: Any) -> bytes:
        """Hold exactly ``wires``: take what is missing, let go of what is not named."""
        if not isinstance(wires, list) or len(wires) > MAX_RENEW:
            raise BadRequest
        named: set[str] = set()
        refused = 0
        for wire in wires:
            try:
                sub = self._checked(wire)
                self._take(holder, sub)
            except (BadRequest, InvalidSubscription, _NoCatalog, Refused):
                refused += 1
                continue
            named.add(sub.key)
        for key in [k for k in holder.subs if k not in named]:
            holder.forget_pending(key)
            self.upstream.release(holder, holder.subs.pop(key))
        data = {"held": len(holder.subs), "refused": refused, "lease": self.clients.lease}
        return _encode({"channel": "_renewed", "data": data})

    def drop(self, holder: NatsHolder) -> None:
        """Let go of everything ``holder`` holds and forget it (its lease ran out)."""
        for key, stream in list(holder.subs.items()):
            holder.forget_pending(key)
            self.upstream.release(holder, stream)
        holder.subs.clear()
        self.clients.forget(holder)


def _answer(stream: Stream, ack: bytes, resume: bool) -> bytes:
    """The ack, then (for a backfill stream, unless resuming) the merged backfill."""
    frames = [ack]
    if not resume and stream.kind in BACKFILL_FIELD:
        frames += stream.replay()
    return b"\n".join(frames)
