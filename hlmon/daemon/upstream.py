"""``Upstream``: the daemon's sockets to the exchange ("lanes") and the streams on them.

Each lane is a ``feeds.ws_feed.WsFeed`` (heartbeat, full-jitter backoff, the 30-a-minute
connection cap, resubscribe after every reconnect), with the lane itself standing in for the
store: the feed hands it every raw frame (as it would to a recorder) and then the decoded
message, which says which stream the frame belongs to.

Identical subscriptions from any number of clients are one upstream subscription
(ref-counted: unsubscribed upstream when the last client lets go). One socket cannot carry two
subscriptions whose frames look the same (``l2Book`` BTC at two precisions, two users'
``orderUpdates``, which carry no user), so such a second one goes on another lane; lanes
beyond the first are closed when they empty.

Limits (``limits.DaemonLimits``) are checked before anything is sent, and refused with the
exchange's texts. An ``error`` frame from upstream carries no echo (§1.3): it fails the
oldest subscription still waiting for its ack on that lane, and a user-cap refusal lowers the
daemon's user cap to the users the exchange did accept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from hlmon.cancelling import cancel_and_wait
from hlmon.daemon.limits import (
    DaemonLimits,
    MessageWindow,
    messages_text,
    sockets_text,
    subscriptions_text,
    users_text,
)
from hlmon.daemon.sessions import ClientSession
from hlmon.daemon.streams import Stream, route_of, users_of
from hlmon.feeds.settings import WebsocketSettings
from hlmon.feeds.ws_feed import WsFeed
from hlmon.feeds.ws_limits import MAX_USERS_HARD
from hlmon.protocol.messages import (
    ErrorMsg,
    KnownMsg,
    Message,
    PongMsg,
    PostMsg,
    SubscriptionAck,
    SubscriptionResponseMsg,
    UnknownMsg,
)
from hlmon.protocol.subscriptions import Subscription, canonical_key, message_sub_key
from hlmon.state.health import FeedHealth
from hlmon.state.types import ConnState, Source

logger = logging.getLogger("hlmon.daemon.upstream")

_CHANNELS: dict[type, str] = {cls: cls.__struct_config__.tag for cls in KnownMsg.__args__}
_STATE_ORDER = {
    ConnState.DOWN: 3,
    ConnState.RECONNECTING: 2,
    ConnState.CONNECTING: 1,
    ConnState.LIVE: 0,
}
_PINGS_RESERVED = 10
"""Frames a minute kept back per lane for its own pings."""
_encode = msgspec.json.encode


class Refused(Exception):
    """A subscription the daemon will not send upstream; ``str()`` is the error text."""


def error_frame(text: str) -> bytes:
    return _encode({"channel": "error", "data": text})


class _LaneHealth(FeedHealth):
    """A lane's connection facts; every change is passed on (clients see the daemon's
    upstream state live)."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__(time.time)
        self._on_change = on_change

    def set_connection(self, state: ConnState, **kw: Any) -> None:
        super().set_connection(state, **kw)
        self._on_change()


class Lane:
    """One upstream socket: a ``WsFeed`` whose store is this object."""

    def __init__(
        self,
        index: int,
        url: str,
        timings: WebsocketSettings,
        session: aiohttp.ClientSession,
        owner: Upstream,
    ) -> None:
        self.index = index
        self.owner = owner
        self.routes: dict[str, Stream] = {}
        self.health: FeedHealth = _LaneHealth(owner.changed)
        self.unrouted = 0
        """Data frames that matched no stream (e.g. after an unsubscribe, in flight)."""
        self._raw = b""
        self.feed = WsFeed(
            url,
            self,
            timings,
            recorder=self,
            session=session,
            on_live=lambda _outage: owner.lane_live(self),
            on_down=owner.changed,
            # The daemon keeps the user cap across its lanes; each lane still sends a new
            # user's subscriptions one at a time, and tells what a drop made it hold back.
            max_users=MAX_USERS_HARD,
            learn_user_cap=False,
            on_held_back=lambda held: owner.held_back(self, held),
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self.feed.run(), name=f"daemon-lane-{self.index}"
        )

    async def stop(self) -> None:
        if self.task is not None:
            await cancel_and_wait([self.task], what="daemon lane")
            self.task = None
        await self.feed.close()

    # The feed's recorder: the raw bytes of the frame about to be decoded and applied.
    def write(self, raw: bytes, t: float) -> None:
        self._raw = raw

    # The feed's store: the decoded frame; routes ``self._raw`` to its stream.
    def apply(self, msg: Message, source: Source = Source.WS) -> None:
        cls = type(msg)
        if isinstance(msg, SubscriptionResponseMsg):
            self.owner.on_ack(self, msg.data)
            return
        if isinstance(msg, ErrorMsg):
            self.owner.on_error(self, msg.data)
            return
        if cls is PongMsg or cls is PostMsg:
            return
        key = None if cls is UnknownMsg else message_sub_key(msg)
        stream = self.routes.get(key) if key is not None else None
        if stream is None:
            channel = msg.channel if isinstance(msg, UnknownMsg) else _CHANNELS.get(cls, "?")
            if channel == "activeSpotAssetCtx":
                channel = "activeAssetCtx"
            stream = self.routes.get("channel:" + channel)
        if stream is None:
            self.unrouted += 1
            return
        stream.deliver(self._raw)

    def fits(self, route: str) -> bool:
        return route not in self.routes

    def status(self) -> dict[str, Any]:
        conn = self.health.connection
        return {
            "lane": self.index,
            "state": conn.state.value,
            "attempt": conn.attempt,
            "reconnects": conn.reconnects,
            "last_error": conn.last_error,
            "subscriptions": len(self.routes),
            "frames": self.health.frames_total,
            "msgs_per_s": round(self.health.msgs_per_s(), 1),
            "rtt_ms": self.health.ws_rtt_ms,
            "connects": self.feed.stats.connects,
            "unrouted": self.unrouted,
        }


class Upstream:
    """Every upstream subscription, on as few sockets as their frames allow."""

    def __init__(
        self,
        ws_url: str,
        timings: WebsocketSettings,
        limits: DaemonLimits,
        *,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.ws_url = ws_url
        self.timings = timings
        self.limits = limits
        self.max_users = limits.max_users
        """The user cap in force (lowered when the exchange refuses sooner)."""
        self.streams: dict[str, Stream] = {}
        self.lanes: dict[int, Lane] = {}
        self.messages = MessageWindow()
        self.refusals = 0
        self._on_change = on_change
        self._http: aiohttp.ClientSession | None = None
        self.tap: Callable[[Stream, bytes], None] | None = None
        """Given to every new stream (``Stream.tap``): the NATS bridge, or None."""
        self.on_close: Callable[[Stream], None] | None = None
        """Told when a stream closes upstream."""

    async def start(self) -> None:
        """Open the first socket (it stays open: clients see the exchange's state at once)."""
        self._http = aiohttp.ClientSession()
        self._lane(0)

    async def stop(self) -> None:
        for lane in list(self.lanes.values()):
            await lane.stop()
        self.lanes.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def changed(self) -> None:
        self._on_change()

    def lane_live(self, lane: Lane) -> None:
        # After a reconnect the feed resubscribes everything at once: those frames count.
        self.messages.add(len(lane.routes))
        self._on_change()

    def _lane(self, index: int) -> Lane:
        lane = self.lanes.get(index)
        if lane is None:
            assert self._http is not None, "Upstream.start() first"
            lane = Lane(index, self.ws_url, self.timings, self._http, self)
            self.lanes[index] = lane
            lane.start()
        return lane

    # ------------------------------------------------------------------ subscriptions

    def acquire(self, session: ClientSession, sub: Subscription) -> tuple[Stream, bool]:
        """Share ``sub`` with ``session``: the existing stream, or a new one subscribed
        upstream now. Returns ``(stream, is_new)``.

        Raises:
            Refused: a per-IP limit would be broken (the text is the exchange's).
        """
        stream = self.streams.get(sub.key)
        if stream is None:
            self._check_new(sub)
            stream = self._open(sub)
            fresh = True
        else:
            fresh = False
        stream.subscribers[session] = None
        return stream, fresh

    def _check_new(self, sub: Subscription) -> None:
        limits = self.limits
        if len(self.streams) >= limits.max_subscriptions:
            self._refuse(subscriptions_text(limits.max_subscriptions))
        user = sub.get("user")
        users = users_of(self.streams.values())
        if user and user not in users and len(users) >= self.max_users:
            self._refuse(users_text(self.max_users))
        budget = limits.messages_per_minute - _PINGS_RESERVED * max(1, len(self.lanes))
        if self.messages.used() >= budget:
            self._refuse(messages_text(limits.messages_per_minute))

    def _refuse(self, text: str) -> None:
        self.refusals += 1
        raise Refused(text)

    def _open(self, sub: Subscription) -> Stream:
        route = route_of(sub.to_wire())
        index = next((i for i in sorted(self.lanes) if self.lanes[i].fits(route)), None)
        if index is None:
            free = [i for i in range(self.limits.max_upstream_sockets) if i not in self.lanes]
            if not free:
                self._refuse(sockets_text(self.limits.max_upstream_sockets))
            index = free[0]
        lane = self._lane(index)
        stream = Stream(sub, index)
        stream.tap = self.tap
        self.streams[sub.key] = stream
        lane.routes[route] = stream
        lane.feed.subscribe(sub)
        self.messages.add()
        return stream

    def release(self, session: ClientSession, stream: Stream) -> None:
        """``session`` lets go of ``stream``; the last one out unsubscribes upstream."""
        stream.subscribers.pop(session, None)
        if session in stream.waiting:
            stream.waiting.remove(session)
        if not stream.subscribers:
            self._close(stream, send=True)

    def _close(self, stream: Stream, *, send: bool) -> None:
        if self.streams.get(stream.key) is not stream:
            return
        del self.streams[stream.key]
        if self.on_close is not None:
            self.on_close(stream)
        lane = self.lanes.get(stream.lane)
        if lane is None:
            return
        lane.routes.pop(stream.route, None)
        if send:
            lane.feed.unsubscribe(stream.sub)
            self.messages.add()
        if not lane.routes and lane.index != 0:
            del self.lanes[lane.index]
            asyncio.get_running_loop().create_task(lane.stop())

    # ------------------------------------------------------------------ upstream answers

    def on_ack(self, lane: Lane, ack: SubscriptionAck) -> None:
        if ack.method != "subscribe":
            return
        stream = self.streams.get(canonical_key(ack.subscription))
        if stream is None or stream.lane != lane.index:
            return
        for session in stream.acked(ack.subscription):
            if stream.ack_frame is not None:
                session.send(stream.ack_frame)
            for raw in stream.replay():
                session.send(raw)

    def on_error(self, lane: Lane, text: str) -> None:
        logger.warning("upstream lane %d: %s", lane.index, text)
        for prefix in ("Already subscribed: ", "Invalid subscription "):
            if text.startswith(prefix):
                stream = self._named(text[len(prefix) :])
                if stream is not None and prefix.startswith("Already"):
                    self.on_ack(lane, SubscriptionAck("subscribe", stream.sub.to_wire()))
                    return
                if stream is not None:
                    self._fail(stream, text)
                    return
        if text.startswith("Already unsubscribed"):
            return
        pending = [s for s in lane.routes.values() if s.ack_frame is None]
        if not pending:
            frame = error_frame(text)
            for stream in list(lane.routes.values()):
                for session in stream.subscribers:
                    session.send(frame)
            return
        oldest = min(pending, key=lambda s: s.created)
        if text.startswith("Cannot track more than"):
            acked = users_of(s for s in self.streams.values() if s.ack_frame is not None)
            self.max_users = max(1, min(self.max_users, len(acked)))
        self._fail(oldest, text)

    def held_back(self, lane: Lane, held: list[Subscription]) -> None:
        """The exchange dropped ``lane`` right after these were sent (a name it does not
        list): the lane will not resubscribe them, so their clients get an error now."""
        for sub in held:
            stream = self.streams.get(sub.key)
            if stream is not None and stream.lane == lane.index:
                self._fail(
                    stream, f"Invalid subscription {msgspec.json.encode(sub.to_wire()).decode()}"
                )

    def _named(self, text: str) -> Stream | None:
        try:
            wire = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return None
        return self.streams.get(canonical_key(wire)) if isinstance(wire, dict) else None

    def _fail(self, stream: Stream, text: str) -> None:
        """The exchange refused ``stream``: every client holding it gets the error."""
        frame = error_frame(text)
        for session in {*stream.subscribers, *stream.waiting}:
            session.subs.pop(stream.key, None)
            session.send(frame)
        stream.subscribers.clear()
        stream.waiting.clear()
        self._close(stream, send=True)

    # ------------------------------------------------------------------ state

    def connection(self) -> dict[str, Any]:
        """The exchange's side as clients should see it: the worst lane that has work."""
        lanes = [lane for lane in self.lanes.values() if lane.routes or lane.index == 0]
        worst = max(lanes, key=lambda lane: _STATE_ORDER[lane.health.connection.state])
        conn = worst.health.connection
        retry = None if conn.next_retry_at is None else max(0.0, conn.next_retry_at - time.time())
        return {
            "state": conn.state.value,
            "attempt": conn.attempt,
            "nextRetryIn": None if retry is None else round(retry, 2),
            "error": conn.last_error,
            "reconnects": sum(lane.health.connection.reconnects for lane in self.lanes.values()),
            "sockets": len(self.lanes),
        }

    def users(self) -> int:
        return len(users_of(self.streams.values()))
