"""``SimServer``: a local Hyperliquid on one port (``POST /info`` and websocket ``/ws``).

Owns the clock, the market, the demo account, the fan-out hub, limits and faults, and runs one
block loop that moves the market and pushes frames. With a ``ManualClock`` nothing moves until
``advance()`` is awaited, which makes every frame deterministic for a seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import WSMsgType, web

from hlmon.cancelling import cancel_and_wait
from hlmon.listen import listen
from hlmon.sim.account import DemoAccount
from hlmon.sim.clock import ClockFn, ManualClock, WallClock, is_manual
from hlmon.sim.faults import Faults
from hlmon.sim.hub import PONG, Connection, Hub, frame
from hlmon.sim.info import (
    UNPROCESSABLE,
    InfoRequestError,
    InfoServerError,
    InfoService,
    base_weight,
    request_weight,
)
from hlmon.sim.limits import (
    LimitTracker,
    SimLimits,
    messages_refusal,
    subscriptions_refusal,
    users_refusal,
)
from hlmon.sim.market import Market
from hlmon.sim.profiles import Profile, get_profile
from hlmon.sim.roles import check_mode
from hlmon.sim.subscriptions import (
    InvalidSubscription,
    Ping,
    PostRequest,
    RequestParseError,
    SubscribeRequest,
    parse_error_text,
    parse_request,
    parse_subscription,
)
from hlmon.sim.truth import Truth, truth_of
from hlmon.sim.universe import Universe

if TYPE_CHECKING:
    from hlmon.sim.control import ControlRoutes

_ENCODER = msgspec.json.Encoder()
BAD_NAME_DROP_S = 0.1
"""Delay before the socket of a subscription naming something unlisted is dropped (2026: the
exchange aborted 90-155 ms after the request, with no close frame and no error frame)."""
HELD_MAX = 1000
"""Client frames a socket holds during a stall; one more drops it (an overflowing buffer)."""


class SimServer:
    """A simulated Hyperliquid API server (see the package docstring for the full API)."""

    def __init__(
        self,
        seed: int = 7,
        profile: str | Profile = "standard",
        clock: ClockFn | None = None,
        *,
        limits: SimLimits | None = None,
        idle_timeout: float = 60.0,
        fault_routes: bool = False,
        autotick: bool | None = None,
        legacy_invalid_subscription: bool = False,
        demo_account: str = "standard",
        markets: str = "standard",
    ) -> None:
        self.seed = seed
        self.profile = get_profile(profile)
        self.clock: ClockFn = clock if clock is not None else WallClock()
        self._offset_ms = 0
        self.autotick = (not is_manual(self.clock)) if autotick is None else autotick
        self.idle_timeout = idle_timeout
        self.fault_routes = fault_routes
        self.limits = limits or SimLimits()
        self.universe = Universe(markets)
        self.market = Market(self.universe, seed, self.now_ms(), self.profile.market)
        self.account = DemoAccount(
            self.market, seed, self.profile.account, mode=check_mode(demo_account)
        )
        self.hub = Hub(self.market, self.account, self.profile)
        self.account.listener = self.hub.publish_account
        self.info = InfoService(self.universe, self.market, self.account)
        self.faults = Faults(legacy_invalid_subscription)
        self.faults.install(self._drop_all, self._broadcast, self._answer_held)
        self.control_routes: ControlRoutes | None = None
        """The ``/_sim`` routes, once started with ``fault_routes``."""
        self.tracker = LimitTracker(self.limits)
        self.connections: set[Connection] = set()
        self.url = ""
        self.ws_url = ""
        self.host = ""
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ public API

    @property
    def demo_address(self) -> str:
        """The address of the demo account (lower-case ``0x`` + 40 hex)."""
        return self.account.address

    @property
    def truth(self) -> Truth:
        """A snapshot of the demo account as the simulator knows it."""
        return truth_of(self.account)

    def _truth_dict(self) -> dict[str, Any]:
        return self.truth.as_dict()

    def now_ms(self) -> int:
        """Simulated time in ms (the injected clock plus any ``advance``)."""
        return self.clock() + self._offset_ms

    def tick(self, now: int | None = None) -> None:
        """Run one block at ``now`` (default: the clock). Ignored if time did not move."""
        now = self.now_ms() if now is None else now
        if now <= self.market.now:
            return
        step = self.market.step(now)
        self.account.step(now)
        self.hub.publish(step)

    async def advance(self, seconds: float, step_ms: int | None = None) -> None:
        """Move simulated time forward by ``seconds``, running the blocks in between.

        Blocks are ``profile.tick_ms`` apart, widened so one call runs at most 500 blocks
        (an hour jumps in 7.2 s steps); pass ``step_ms`` to choose the block spacing.
        """
        ms = int(seconds * 1000)
        target = self.now_ms() + ms
        tick_ms = step_ms or max(self.profile.tick_ms, ms // 500)
        t = self.market.now
        n = 0
        while t < target:
            t = min(t + tick_ms, target)
            if isinstance(self.clock, ManualClock):
                self.clock.set(t)
            else:
                self._offset_ms = max(self._offset_ms, t - self.clock())
            self.tick(t)
            n += 1
            if n % 50 == 0:
                await asyncio.sleep(0)
        if not isinstance(self.clock, ManualClock):
            self._offset_ms = max(self._offset_ms, target - self.clock())
        await asyncio.sleep(0)

    def force_fill(self, coin: str | None = None, oid: int | None = None) -> dict[str, Any] | None:
        """Fill one resting demo order now (see ``DemoAccount.force_fill``)."""
        return self.account.force_fill(coin, oid)

    def force_trigger(self, oid: int | None = None) -> dict[str, Any] | None:
        """Trigger a Stop Limit order now (see ``DemoAccount.force_trigger``)."""
        return self.account.force_trigger(oid)

    def cancel_order(self, oid: int) -> dict[str, Any] | None:
        """Cancel an open demo order now (``canceled``)."""
        return self.account.cancel_order(oid)

    def liquidate(self, coin: str | None = None) -> dict[str, Any] | None:
        """Liquidate a demo position now (see ``DemoAccount.liquidate``)."""
        return self.account.liquidate(coin)

    def start_twap(self, coin: str, side: str, sz: str, minutes: int = 30) -> dict[str, Any]:
        """Start a demo TWAP now; returns its ``activated`` history item."""
        return self.account.start_twap(coin, side, sz, minutes)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port); returns ``self.url``."""
        app = web.Application()
        app.router.add_post("/info", self._handle_info)
        app.router.add_get("/ws", self._handle_ws)
        if self.fault_routes:
            scenarios: dict[str, Callable[..., Any]] = {
                "force_fill": self.force_fill,
                "trigger": self.force_trigger,
                "cancel_order": self.cancel_order,
                "liquidate": self.liquidate,
                "twap": self.start_twap,
                "deposit": self.account.deposit,
            }
            from hlmon.sim.control import ControlRoutes  # only with them: not for --demo

            routes = ControlRoutes(self.faults, scenarios, self.advance, self._truth_dict)
            routes.install(app)
            self.control_routes = routes
        self._runner, self.port = await listen(app, host, port)
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.ws_url = f"ws://{host}:{self.port}/ws"
        loop = asyncio.get_running_loop()
        if self.autotick:
            self._tasks.append(loop.create_task(self._block_loop()))
        self._tasks.append(loop.create_task(self._idle_loop()))
        return self.url

    async def stop(self) -> None:
        """Close every socket and stop listening."""
        await cancel_and_wait(self._tasks, what="simulator task")
        self._tasks.clear()
        self.faults.clear()
        conns = list(self.connections)
        results = await asyncio.gather(
            *(asyncio.wait_for(c.close(1001, b"server shutdown"), 0.5) for c in conns),
            return_exceptions=True,
        )
        for conn, result in zip(conns, results, strict=True):
            if isinstance(result, BaseException):  # client did not answer the close: drop it
                conn.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ loops

    async def _block_loop(self) -> None:
        interval = self.profile.tick_ms / 1000.0
        next_at = time.monotonic()
        while True:
            self.tick()
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # running late: do not try to catch up block by block
                next_at = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)

    async def _idle_loop(self) -> None:
        period = max(min(self.idle_timeout / 4, 1.0), 0.01)
        while True:
            await asyncio.sleep(period)
            if self.faults.stalled:
                continue
            cutoff = time.monotonic() - self.idle_timeout
            for conn in list(self.connections):
                if conn.last_send < cutoff and not conn.closed:
                    await conn.close(1000, b"idle timeout")

    # ------------------------------------------------------------------ faults plumbing

    def _drop_all(self) -> None:
        for conn in list(self.connections):
            conn.abort()

    def _answer_held(self) -> None:
        """The stall ended: answer each connection's requests held meanwhile, in order."""
        for conn in list(self.connections):
            held, conn.held = conn.held, []
            for raw in held:
                if conn.closed:
                    break
                self._on_message(conn, raw)

    def _broadcast(self, texts: list[str]) -> None:
        for conn in list(self.connections):
            for text in texts:
                conn.send(text)

    # ------------------------------------------------------------------ websocket

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        ip = request.remote or "unknown"
        if self.faults.refusing:
            return web.Response(status=503, text="Service Unavailable")
        refusal = self.tracker.try_connect(ip)
        if refusal is not None:
            return web.Response(status=429, text=refusal)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        try:
            await ws.prepare(request)
        except Exception:
            self.tracker.disconnect(ip)
            raise
        conn = Connection(ws, request, ip, self.faults, self.limits.send_queue_max)
        self.connections.add(conn)
        writer = asyncio.get_running_loop().create_task(conn.run_writer())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    if self.faults.stalled:  # frozen: read later (``_answer_held``)
                        conn.held.append(msg.data)
                        if len(conn.held) > HELD_MAX:
                            conn.abort()  # its buffer would overflow
                    else:
                        self._on_message(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    conn.send(frame("error", parse_error_text(msg.data)))
                if conn.closed:
                    break
        finally:
            conn.closed = True
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            self.hub.remove_connection(conn)
            self.connections.discard(conn)
            self.tracker.disconnect(ip)
        return ws

    def _ip_subscriptions(self, ip: str) -> tuple[int, set[str]]:
        count = 0
        users: set[str] = set()
        for conn in self.connections:
            if conn.ip != ip:
                continue
            count += len(conn.subs)
            users.update(s.user for s in conn.subs.values() if s.user is not None)
        return count, users

    def _on_message(self, conn: Connection, raw: str) -> None:
        if not self.tracker.try_message(conn.ip):
            conn.send(frame("error", messages_refusal(self.limits)))
            return
        try:
            req = parse_request(raw)
        except RequestParseError:
            conn.send(frame("error", parse_error_text(raw)))
            return
        if isinstance(req, Ping):
            conn.send(PONG)
        elif isinstance(req, SubscribeRequest):
            self._on_subscribe(conn, req, raw)
        elif isinstance(req, PostRequest):
            self._on_post(conn, req, raw)

    def _on_subscribe(self, conn: Connection, req: SubscribeRequest, raw: str) -> None:
        try:
            sub = parse_subscription(req.subscription, self.universe)
        except RequestParseError:
            conn.send(frame("error", parse_error_text(raw)))
            return
        except InvalidSubscription:
            self._on_invalid(conn, req.subscription)
            return
        if req.method == "unsubscribe":
            if sub.key not in conn.subs:
                conn.send(frame("error", f"Already unsubscribed: {sub.sent}"))
                return
            del conn.subs[sub.key]
            self.hub.remove(conn, sub.key)
            conn.send(
                frame("subscriptionResponse", {"method": "unsubscribe", "subscription": sub.echo})
            )
            return
        if sub.key in conn.subs:
            conn.send(frame("error", f"Already subscribed: {sub.sent}"))
            return
        count, users = self._ip_subscriptions(conn.ip)
        if count >= self.limits.max_subscriptions:
            conn.send(frame("error", subscriptions_refusal(self.limits)))
            return
        if sub.user is not None and sub.user not in users and len(users) >= self.limits.max_users:
            conn.send(frame("error", users_refusal(self.limits)))
            return
        conn.subs[sub.key] = sub
        conn.send(frame("subscriptionResponse", {"method": "subscribe", "subscription": sub.echo}))
        for text in self.hub.add(conn, sub):
            conn.send(text)

    def _on_invalid(self, conn: Connection, subscription: Any) -> None:
        """A subscription naming something unlisted: drop the whole socket a moment later,
        without a close or error frame (2026), or answer ``Invalid subscription {...}`` and
        keep it open (the older behaviour, ``legacy_invalid_subscription``)."""
        if self.faults.legacy_invalid:
            sent = msgspec.json.encode(subscription).decode()
            conn.send(frame("error", f"Invalid subscription {sent}"))
            return
        asyncio.get_running_loop().call_later(BAD_NAME_DROP_S, conn.abort)

    def _on_post(self, conn: Connection, req: PostRequest, raw: str) -> None:
        if req.type == "action":
            response: dict[str, Any] = {
                "type": "action",
                "payload": {"status": "err", "response": "Unable to recover signer."},
            }
            conn.send(frame("post", {"id": req.id, "response": response}))
            return
        try:
            kind = self.info.kind(req.payload)
            if not self.tracker.rest_allowed(conn.ip, base_weight(kind)):
                response = {"type": "error", "payload": "429 Too Many Requests"}
                conn.send(frame("post", {"id": req.id, "response": response}))
                return
            kind, result = self.info.handle(req.payload)
        except InfoRequestError:
            conn.send(frame("error", parse_error_text(raw)))
            return
        except InfoServerError:  # what REST answers with HTTP 500 (an unknown dex)
            self.tracker.charge_rest(conn.ip, base_weight(kind))
            response = {"type": "error", "payload": "500 Internal Server Error"}
            conn.send(frame("post", {"id": req.id, "response": response}))
            return
        self.tracker.charge_rest(conn.ip, request_weight(kind, result))
        response = {"type": "info", "payload": {"type": kind, "data": result}}
        conn.send(frame("post", {"id": req.id, "response": response}))

    # ------------------------------------------------------------------ REST

    async def _handle_info(self, request: web.Request) -> web.StreamResponse:
        ip = request.remote or "unknown"
        status = self.faults.take_info_status()
        if status is not None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Error"
            return web.Response(status=status, text=reason)
        await self.faults.hang()
        if self.faults.latency_s:
            await asyncio.sleep(self.faults.latency_s)
        try:
            raw = await request.read()
        except ConnectionResetError:
            # The client gave up (timeout, shutdown) mid-body: nothing to answer, and not a
            # server error worth a traceback in the log.
            return web.Response(status=499, text="client closed request")
        try:
            body = msgspec.json.decode(raw)
            kind = self.info.kind(body)
        except (msgspec.DecodeError, InfoRequestError):
            return web.Response(status=422, text=UNPROCESSABLE)
        if not self.tracker.rest_allowed(ip, base_weight(kind)):
            return web.Response(status=429, text="Too Many Requests")
        try:
            kind, result = self.info.handle(body)
        except InfoRequestError:
            return web.Response(status=422, text=UNPROCESSABLE)
        except InfoServerError:  # an unknown dex: the exchange fails it, and still charges it
            self.tracker.charge_rest(ip, base_weight(kind))
            return web.Response(status=500, text="Internal Server Error")
        self.tracker.charge_rest(ip, request_weight(kind, result))
        return web.Response(body=_ENCODER.encode(result), content_type="application/json")
