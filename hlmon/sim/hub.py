"""Websocket fan-out: per-connection bounded send queues and per-feed cadences.

Every distinct subscription (by normalised key) is one *feed*. Each block the hub decides which
feeds are due, builds each payload once, encodes it once with msgspec, and appends the same
frame string to every subscribed connection's queue. A connection whose queue grows past the
limit is dropped, as the exchange drops sockets that do not keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from hlmon.sim import user_feeds
from hlmon.sim.account import DemoAccount
from hlmon.sim.faults import Faults
from hlmon.sim.market import Market, StepResult
from hlmon.sim.market_feeds import (
    ALL_DEXS_ASSET_CTXS,
    FAST_ASSET_CTXS,
    FastCtxs,
    all_dexs_asset_ctxs,
)
from hlmon.sim.orders import AccountEvents
from hlmon.sim.profiles import Profile
from hlmon.sim.subscriptions import Subscription

_ENCODER = msgspec.json.Encoder()
PONG = '{"channel":"pong"}'


def frame(channel: str, data: Any) -> str:
    """Encode one server frame."""
    return _ENCODER.encode({"channel": channel, "data": data}).decode()


class Connection:
    """One websocket client: its subscriptions and a bounded outgoing queue."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        ip: str,
        faults: Faults,
        queue_max: int,
    ) -> None:
        self.ws = ws
        self.request = request
        self.ip = ip
        self.faults = faults
        self.queue_max = queue_max
        self.subs: dict[str, Subscription] = {}
        self.held: list[str] = []
        """Text frames the client sent during a stall, answered when it ends."""
        self.closed = False
        self.last_send = time.monotonic()
        self.frames_sent = 0
        self._queue: deque[tuple[float, str]] = deque()
        self._wake = asyncio.Event()

    def send(self, text: str) -> None:
        """Queue a frame (dropped while stalled; an overflowing socket is dropped)."""
        if self.closed or self.faults.stalled:
            return
        if len(self._queue) >= self.queue_max:
            self.abort()
            return
        self._queue.append((time.monotonic(), text))
        self._wake.set()

    async def run_writer(self) -> None:
        """Drain the queue into the socket until the connection closes."""
        ws = self.ws
        queue = self._queue
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while queue and not self.closed:
                    if self.faults.stalled:
                        queue.clear()
                        break
                    latency = self.faults.latency_s
                    if latency:
                        delay = queue[0][0] + latency - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                            continue
                    text = queue.popleft()[1]
                    await ws.send_str(text)
                    self.frames_sent += 1
                    self.last_send = time.monotonic()
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the socket without a close frame (like a vanished server)."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._wake.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        """Close the socket politely."""
        self.closed = True
        self._wake.set()
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message)


@dataclass(slots=True)
class Feed:
    """One distinct subscription and the connections that share its frames."""

    sub: Subscription
    conns: set[Connection] = field(default_factory=set)
    coin_index: int = -1
    cadence: int = 0
    next_due: int = 0
    last_marker: Any = None


class Hub:
    """Decides what each feed pushes per block and fans frames out."""

    def __init__(self, market: Market, account: DemoAccount, profile: Profile) -> None:
        self.market = market
        self.account = account
        self.profile = profile
        self.feeds: dict[str, Feed] = {}
        self.frames_out = 0

    # ------------------------------------------------------------------ membership

    def add(self, conn: Connection, sub: Subscription) -> list[str]:
        """Subscribe ``conn``; returns the frames to send right after the ack."""
        feed = self.feeds.get(sub.key)
        if feed is None:
            feed = Feed(sub)
            if sub.coin is not None:
                st = self.market.coin(sub.coin)
                feed.coin_index = -1 if st is None else st.spec.index
            cadence = feed.cadence = self._cadence(sub)
            feed.next_due = self.market.now + cadence if cadence else 0
            self.feeds[sub.key] = feed
            if sub.type == FAST_ASSET_CTXS:
                feed.last_marker = FastCtxs(self.market)
        feed.conns.add(conn)
        if sub.type == FAST_ASSET_CTXS:  # a snapshot for each new subscriber
            return [frame(sub.channel, feed.last_marker.snapshot())]
        return self.initial_frames(sub)

    def subscribers(self, kind: str) -> int:
        """Connections subscribed to feeds of type ``kind`` (tests read it)."""
        return sum(len(f.conns) for f in self.feeds.values() if f.sub.type == kind)

    def remove(self, conn: Connection, key: str) -> None:
        """Unsubscribe ``conn`` from the feed ``key``."""
        feed = self.feeds.get(key)
        if feed is None:
            return
        feed.conns.discard(conn)
        if not feed.conns:
            del self.feeds[key]

    def remove_connection(self, conn: Connection) -> None:
        """Forget every subscription of a closed connection."""
        for key in list(conn.subs):
            self.remove(conn, key)

    def _cadence(self, sub: Subscription) -> int:
        p = self.profile
        return {
            "allMids": p.all_mids_ms,
            "l2Book": p.l2book_fast_ms if sub.fast else p.l2book_ms,
            "activeAssetCtx": p.ctx_ms,
            "activeAssetData": p.ctx_ms,
            "clearinghouseState": p.user_ms,
            "openOrders": p.user_ms,
            "webData3": p.user_ms,
            "spotState": p.user_ms,
            "allDexsClearinghouseState": p.all_dexs_ms,
            FAST_ASSET_CTXS: p.fast_ctxs_ms,
            ALL_DEXS_ASSET_CTXS: p.all_dexs_ctxs_ms,
        }.get(sub.type, 0)

    # ------------------------------------------------------------------ payloads

    def payload(self, sub: Subscription) -> Any:
        """Current full data for a state feed (None for event-only feeds)."""
        m = self.market
        kind = sub.type
        if kind == "allMids":  # the default dex's frame has no "dex" key at all
            mids = m.all_mids(sub.dex)
            return {"dex": sub.dex, "mids": mids} if sub.dex else {"mids": mids}
        if kind == ALL_DEXS_ASSET_CTXS:
            return all_dexs_asset_ctxs(m)
        st = m.coin(sub.coin) if sub.coin is not None else None
        if kind == "l2Book" and st is not None:
            data = m.book(st, 5 if sub.fast else 20, sub.n_sig_figs, sub.mantissa)
            return {**data, "fast": True} if sub.fast else data
        if kind == "bbo" and st is not None:
            return m.bbo(st)
        if kind == "candle" and st is not None and sub.interval is not None:
            return m.candle(st, sub.interval)
        if kind == "activeAssetCtx" and st is not None:
            ctx = m.spot_ctx(st) if st.spec.is_spot else m.perp_ctx(st)
            return {"coin": st.spec.name, "ctx": ctx}
        return user_feeds.state_payload(self.account, m, sub)

    def initial_frames(self, sub: Subscription) -> list[str]:
        """Frames a new subscriber gets after its ack."""
        kind = sub.type
        if kind in user_feeds.EVENT_ONLY:
            return []
        st = self.market.coin(sub.coin) if sub.coin is not None else None
        if st is not None and st.spec.delisted and kind in ("trades", "bbo", "candle"):
            return []  # a delisted coin never trades or quotes: these stay silent
        if kind == "trades":
            return [frame("trades", self.market.recent_trades(st))] if st else []
        snapshot = user_feeds.snapshot_frame(self.account, sub)
        if snapshot is not None:
            return [frame(*snapshot)]
        data = self.payload(sub)
        return [] if data is None else [frame(sub.channel, data)]

    # ------------------------------------------------------------------ pushing

    def _fan_out(self, feed: Feed, text: str) -> None:
        for conn in feed.conns:
            conn.send(text)
        self.frames_out += len(feed.conns)

    def publish(self, step: StepResult) -> None:
        """Push everything due in the block ``step``."""
        now = step.time
        changed = set(step.book_changed)
        trades = step.trades
        coins = self.market.coins
        for feed in list(self.feeds.values()):
            sub = feed.sub
            kind = sub.type
            idx = feed.coin_index
            if kind == "bbo":
                if idx in changed:
                    data = self.market.bbo(coins[idx])
                    marker = data["bbo"]
                    if marker != feed.last_marker:
                        feed.last_marker = marker
                        self._fan_out(feed, frame("bbo", data))
            elif kind == "trades":
                batch = trades.get(idx)
                if batch:
                    self._fan_out(feed, frame("trades", batch))
            elif kind == "candle":
                if idx in trades:
                    self._fan_out(feed, frame("candle", self.payload(sub)))
            elif feed.next_due and now >= feed.next_due:
                feed.next_due = max(feed.next_due + feed.cadence, now + 1)
                if kind == FAST_ASSET_CTXS:
                    delta = feed.last_marker.delta()
                    if delta is not None:
                        self._fan_out(feed, frame(sub.channel, delta))
                    continue
                if kind == "l2Book":
                    ver = coins[idx].ver
                    if ver == feed.last_marker and not coins[idx].spec.delisted:
                        continue  # (a delisted book is resent empty on every push)
                    feed.last_marker = ver
                self._fan_out(feed, frame(sub.channel, self.payload(sub)))

    def publish_account(self, ev: AccountEvents) -> None:
        """Push demo-account events to the demo user's feeds."""
        demo = self.account.address
        in_spot = self.account.collateral_in_spot
        for feed in list(self.feeds.values()):
            sub = feed.sub
            if sub.type == "trades" and ev.trades:
                batch = [t for t in ev.trades if t["coin"] == sub.coin]
                if batch:
                    self._fan_out(feed, frame("trades", batch))
                continue
            if sub.user != demo:
                continue
            events = user_feeds.event_frames(sub, ev)
            if events is not None:
                for channel, data in events:
                    self._fan_out(feed, frame(channel, data))
            elif user_feeds.state_touched(sub, ev, in_spot):
                self._fan_out(feed, frame(sub.channel, self.payload(sub)))
