"""``DaemonServer``: the exchange's protocol, served to every client on the host.

Routes (one aiohttp app, on a private Unix socket and optionally a loopback TCP port):

- ``GET /ws`` (``?client=ID&seq=N`` optional): the websocket protocol. Subscriptions are shared
  upstream (``upstream``), acked with the exchange's own echo, and a late joiner gets the last
  snapshot at once (``streams``). The first frame, and one on every change of the daemon's
  upstream connection (and every ``status_interval`` seconds), is
  ``{"channel":"_daemon","data":{"via":"daemon","state":...}}``: hlmon shows it; other clients
  ignore a channel they do not know. ``post`` info requests are answered like ``/info``.
- ``POST /info``: answered by ``rest.InfoProxy`` (shared cache, one budget). A client may name
  itself with the ``X-Hlmon-Client`` header to see its weight in the status.
- ``GET /_daemon/status``: JSON: upstream connection, per-stream freshness, REST budget,
  clients with their subscriptions and weight.

Over TCP every request needs the token (``Authorization: Bearer TOKEN``); over the Unix socket
the file mode (0600 in a 0700 directory) is the lock. Anything that looks like a private key is
refused unread and never echoed (``hlmon.keyguard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import WSMsgType, web

from hlmon.cancelling import cancel_and_wait
from hlmon.daemon import paths
from hlmon.daemon.checks import PARSE_ERROR, BadRequest, InvalidSubscription, parse_subscription
from hlmon.daemon.limits import DaemonLimits
from hlmon.daemon.rest import InfoProxy
from hlmon.daemon.sessions import CLIENT_ID_RE, ClientSession, SessionRegistry
from hlmon.daemon.upstream import Refused, Upstream, error_frame
from hlmon.feeds.settings import WebsocketSettings
from hlmon.feeds.weight_budget import WeightBudget
from hlmon.keyguard import looks_like_key, redact
from hlmon.protocol.subscriptions import Subscription

if TYPE_CHECKING:
    from hlmon.daemon.nats_bridge import NatsBridge

logger = logging.getLogger("hlmon.daemon")

PONG = b'{"channel":"pong"}'
DAEMON_CHANNEL = "_daemon"
MAX_CLIENT_FRAME = 64 * 1024
_encode = msgspec.json.encode
_decode = msgspec.json.decode


@dataclass(frozen=True)
class DaemonConfig:
    """What one daemon serves and where."""

    api_url: str
    """The exchange's REST base URL (the websocket URL is derived from it)."""
    socket_path: Path | None
    """The Unix socket to listen on (its directory is made private), or None."""
    tcp_host: str = "127.0.0.1"
    tcp_port: int | None = None
    """Also listen on this TCP port (0: any free one), token required; None: no TCP."""
    token: str | None = None
    """The TCP listener's token (generated when None and TCP is on)."""
    limits: DaemonLimits = field(default_factory=DaemonLimits)
    timings: WebsocketSettings = field(default_factory=WebsocketSettings)
    resume_window: float = 60.0
    """Seconds a client that dropped keeps its subscriptions and missed events."""
    confirm_grace: float = 10.0
    """After a resume, subscriptions not renewed within this long are dropped."""
    status_interval: float = 5.0
    """Seconds between ``_daemon`` frames when nothing changes."""
    nats_url: str | None = field(default=None, repr=False)
    """Also publish to this NATS server (``nats_bridge``); may hold credentials: never shown."""
    nats_token: str | None = field(default=None, repr=False)
    nats_events_max_age: float = 3600.0
    """Seconds JetStream keeps event frames for NATS clients to resume from."""

    @property
    def ws_url(self) -> str:
        base = self.api_url.rstrip("/")
        for http, ws in (("https://", "wss://"), ("http://", "ws://")):
            if base.startswith(http):
                return ws + base[len(http) :] + "/ws"
        return base + "/ws"


class DaemonServer:
    """Upstream sockets, the /info proxy and every client session of one host."""

    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.upstream = Upstream(
            config.ws_url, config.timings, config.limits, on_change=self._upstream_changed
        )
        self.info = InfoProxy(config.api_url, WeightBudget(config.limits.rest_weight_per_minute))
        self.sessions = SessionRegistry(resume_window=config.resume_window)
        self.rest_clients: dict[str, ClientSession] = {}
        self.token = config.token
        self.tcp_port: int | None = None
        self.socket_path = config.socket_path
        self.started_at = time.time()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._broadcast_armed = False
        self.nats: NatsBridge | None = None
        """Publishes to NATS (``--nats``), or None."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect upstream and listen. Raises OSError if the socket is taken by a live one."""
        app = web.Application(client_max_size=MAX_CLIENT_FRAME, middlewares=[self._auth])
        app.router.add_get("/ws", self._handle_ws)
        app.router.add_post("/info", self._handle_info)
        app.router.add_get("/_daemon/status", self._handle_status)
        await self.upstream.start()
        await self.info.start()
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        try:
            if self.socket_path is not None:
                await self._listen_unix(runner, self.socket_path)
            if self.config.tcp_port is not None:
                if self.token is None:
                    self.token = paths.new_token()
                site = web.TCPSite(runner, self.config.tcp_host, self.config.tcp_port)
                await site.start()
                sockets = getattr(site._server, "sockets", None) or []
                self.tcp_port = sockets[0].getsockname()[1] if sockets else self.config.tcp_port
            if self.config.nats_url is not None:
                await self._start_nats(self.config.nats_url)
        except BaseException:
            await self.stop()
            raise
        self._spawn(self._housekeeping())

    async def _start_nats(self, url: str) -> None:
        from hlmon.feeds.nats_endpoint import NatsEndpoint

        try:  # nats-py is an optional extra: imported only here
            from hlmon.daemon.nats_bridge import NatsBridge
        except ImportError as exc:
            raise OSError(f"--nats needs nats-py: pip install 'hlmon[nats]' ({exc})") from None

        try:
            endpoint = NatsEndpoint.parse(url, self.config.nats_token)
        except ValueError as exc:
            raise OSError(f"--nats: {exc}") from None
        network = endpoint.network or paths.upstream_name(self.config.api_url)
        bridge = NatsBridge(
            self.upstream,
            self.info,
            self._rest_client,
            endpoint,
            network,
            status_interval=self.config.status_interval,
            lease=max(self.config.resume_window, 3 * self.config.status_interval),
            events_max_age=self.config.nats_events_max_age,
        )
        await bridge.start()
        self.nats = bridge
        bridge.daemon_state(self.daemon_frame())

    async def _listen_unix(self, runner: web.AppRunner, path: Path) -> None:
        _prepare_socket_path(path)
        old_umask = os.umask(0o177)  # the socket is born 0600: no window where others connect
        try:
            await web.UnixSite(runner, str(path)).start()
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)

    async def stop(self) -> None:
        if self.nats is not None:
            await self.nats.stop()
            self.nats = None
        await cancel_and_wait(list(self._tasks), what="daemon task")
        for session in self.sessions.connected():
            if session.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(session.ws.close(), 0.5)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.upstream.stop()
        await self.info.stop()
        if self.socket_path is not None:
            with contextlib.suppress(OSError):
                self.socket_path.unlink()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _housekeeping(self) -> None:
        """Expire sessions past their window, drop unrenewed subscriptions, tell clients the
        upstream state now and then (which also keeps quiet client sockets busy)."""
        last_status = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, self.config.status_interval))
            now = time.monotonic()
            for session in self.sessions.expired(now):
                self._drop(session)
            for session in self.sessions.connected():
                if session.unconfirmed and now - session.connected_at >= self.config.confirm_grace:
                    for key in list(session.unconfirmed):
                        stream = session.subs.pop(key, None)
                        if stream is not None:
                            self.upstream.release(session, stream)
                    session.unconfirmed.clear()
            if now - last_status >= self.config.status_interval:
                last_status = now
                self._broadcast_state()

    def _drop(self, session: ClientSession) -> None:
        for stream in list(session.subs.values()):
            self.upstream.release(session, stream)
        session.subs.clear()
        self.sessions.forget(session)

    # ------------------------------------------------------------------ auth

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if isinstance(peer, tuple) and self.token is not None:  # TCP: the token is required
            given = request.headers.get("Authorization", "")
            given = given[len("Bearer ") :] if given.startswith("Bearer ") else ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return web.Response(status=401, text="hlmon daemon: token required")
        return await handler(request)

    # ------------------------------------------------------------------ /_daemon frames

    def daemon_frame(self) -> bytes:
        data = {"via": "daemon", **self.upstream.connection()}
        return _encode({"channel": DAEMON_CHANNEL, "data": data})

    def _upstream_changed(self) -> None:
        # Coalesced: a reconnect changes state several times within one loop turn.
        if not self._broadcast_armed:
            self._broadcast_armed = True
            asyncio.get_running_loop().call_soon(self._broadcast_state)

    def _broadcast_state(self) -> None:
        self._broadcast_armed = False
        frame = self.daemon_frame()
        for session in self.sessions.connected():
            session.send(frame)
        if self.nats is not None:
            self.nats.daemon_state(frame)

    # ------------------------------------------------------------------ /ws

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        client_id = request.query.get("client")
        if client_id is not None and not CLIENT_ID_RE.fullmatch(client_id):
            return web.Response(status=400, text="client: 1-64 of A-Z a-z 0-9 _ . -")
        seq = _int_or_none(request.query.get("seq"))
        ws = web.WebSocketResponse(autoping=True, max_msg_size=MAX_CLIENT_FRAME)
        await ws.prepare(request)
        session, resumed = self.sessions.open(client_id, _peer(request))
        if session.ws is not None:  # the same client again before its old socket was noticed
            old = session.ws
            await session.detach(old)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.close(), 0.5)
        session.attach(ws, request.transport)
        session.send(self.daemon_frame())
        if resumed:
            session.unconfirmed = set(session.subs)
            if seq is not None:
                frames, complete = session.missed_since(seq)
                for raw in frames:
                    session.send(raw)
                if not complete:
                    logger.warning("client %s resumed after its buffer overflowed", client_id)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(session, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    session.send(error_frame(PARSE_ERROR + "<binary frame>"))
        finally:
            await session.detach(ws)
            if session.ws is None and not self.sessions.keep_after_close(session):
                self._drop(session)
        return ws

    def _on_text(self, session: ClientSession, text: str) -> None:
        if looks_like_key(text):
            session.send(error_frame(PARSE_ERROR + redact(text)[:200]))
            return
        try:
            msg = _decode(text)
            if not isinstance(msg, dict):
                raise BadRequest
            method = msg.get("method")
            if method == "ping":
                session.send(PONG)
            elif method in ("subscribe", "unsubscribe"):
                sub = parse_subscription(msg.get("subscription"))
                if method == "subscribe":
                    self._subscribe(session, sub, msg["subscription"])
                else:
                    self._unsubscribe(session, sub, msg["subscription"])
            elif method == "post":
                self._post(session, msg)
            else:
                raise BadRequest
        except (msgspec.DecodeError, BadRequest):
            session.send(error_frame(PARSE_ERROR + text.strip()[:2000]))
        except InvalidSubscription:
            sent = _encode(msg.get("subscription")).decode()
            session.send(error_frame(f"Invalid subscription {sent}"))

    def _subscribe(self, session: ClientSession, sub: Subscription, sent: Any) -> None:
        held = session.subs.get(sub.key)
        if held is not None:
            if sub.key not in session.unconfirmed:
                session.send(error_frame(f"Already subscribed: {_encode(sent).decode()}"))
                return
            session.unconfirmed.discard(sub.key)  # renewed after a resume
            if held.ack_frame is None:
                held.waiting.append(session)
            else:
                session.send(held.ack_frame)
                if not held.event:  # events were replayed from the buffer already
                    for raw in held.replay():
                        session.send(raw)
            return
        try:
            stream, _new = self.upstream.acquire(session, sub)
        except Refused as refusal:
            session.send(error_frame(str(refusal)))
            return
        session.subs[sub.key] = stream
        if stream.ack_frame is None:
            stream.waiting.append(session)
            return
        session.send(stream.ack_frame)
        for raw in stream.replay():
            session.send(raw)

    def _unsubscribe(self, session: ClientSession, sub: Subscription, sent: Any) -> None:
        stream = session.subs.pop(sub.key, None)
        if stream is None:
            session.send(error_frame(f"Already unsubscribed: {_encode(sent).decode()}"))
            return
        session.unconfirmed.discard(sub.key)
        self.upstream.release(session, stream)
        ack = {"method": "unsubscribe", "subscription": sent}
        session.send(_encode({"channel": "subscriptionResponse", "data": ack}))

    def _post(self, session: ClientSession, msg: dict[str, Any]) -> None:
        rid = msg.get("id")
        request = msg.get("request")
        if isinstance(rid, bool) or not isinstance(rid, int) or not isinstance(request, dict):
            raise BadRequest
        payload = request.get("payload")
        if request.get("type") != "info" or not isinstance(payload, dict):
            reply = {"type": "error", "payload": "hlmon daemon is read-only: info requests only"}
            session.send(_encode({"channel": "post", "data": {"id": rid, "response": reply}}))
            return
        self._spawn(self._answer_post(session, rid, payload))

    async def _answer_post(self, session: ClientSession, rid: int, payload: dict[str, Any]) -> None:
        answer = await self.info.info(_encode(payload), session)
        head = b'{"channel":"post","data":{"id":%d,"response":' % rid
        if answer.status == 200:
            kind = _encode(payload.get("type"))
            body = b'{"type":"info","payload":{"type":' + kind + b',"data":' + answer.body + b"}}"
        else:
            body = _encode({"type": "error", "payload": answer.body.decode("utf-8", "replace")})
        session.send(head + body + b"}}")

    # ------------------------------------------------------------------ /info and status

    async def _handle_info(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        client = self._rest_client(request.headers.get("X-Hlmon-Client"), _peer(request))
        answer = await self.info.info(raw, client)
        return web.Response(
            status=answer.status, body=answer.body, content_type=answer.content_type
        )

    def _rest_client(self, client_id: str | None, peer: str) -> ClientSession | None:
        if client_id is None or not CLIENT_ID_RE.fullmatch(client_id):
            return None
        session = self.sessions.by_id.get(client_id) or self.rest_clients.get(client_id)
        if session is None:
            if len(self.rest_clients) >= 256:  # bounded: the oldest REST-only client goes
                self.rest_clients.pop(next(iter(self.rest_clients)))
            session = ClientSession(client_id, peer, buffer_max=1, queue_max=1)
            self.rest_clients[client_id] = session
        return session

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        up = self.upstream
        clients = self.sessions.all()
        rest_only = [s for cid, s in self.rest_clients.items() if cid not in self.sessions.by_id]
        return {
            "daemon": {
                "pid": os.getpid(),
                "uptime_s": round(time.time() - self.started_at, 1),
                "api_url": self.config.api_url,
                "socket": None if self.socket_path is None else str(self.socket_path),
                "tcp_port": self.tcp_port,
                "resumes": self.sessions.resumes,
            },
            "upstream": {
                **up.connection(),
                "lanes": [lane.status() for lane in up.lanes.values()],
                "subscriptions": len(up.streams),
                "max_subscriptions": up.limits.max_subscriptions,
                "users": up.users(),
                "max_users": up.max_users,
                "messages_last_minute": up.messages.used(),
                "refusals": up.refusals,
            },
            "feeds": [s.status(now) for s in up.streams.values()],
            "rest": self.info.status(),
            "nats": None if self.nats is None else self.nats.status(),
            "clients": [s.status(now) for s in [*clients, *rest_only]],
        }

    async def _handle_status(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_encode(self.status()), content_type="application/json")


def _prepare_socket_path(path: Path) -> None:
    """A private directory, and no socket file in the way (one left by a daemon that died is
    removed; one a live daemon answers on is an error)."""
    paths.ensure_private_dir(path.parent)
    if len(str(path)) > paths.MAX_UNIX_PATH:
        raise OSError(f"socket path too long ({len(str(path))} > {paths.MAX_UNIX_PATH}): {path}")
    if path.exists() or path.is_symlink():
        if paths.probe(path):
            raise OSError(f"a daemon already listens on {path}")
        path.unlink()


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "unix"


def _int_or_none(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)
