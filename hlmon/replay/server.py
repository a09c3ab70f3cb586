"""``ReplayServer``: serves a recording through the exchange protocol, like the simulator.

One aiohttp server on one port: websocket ``/ws`` and ``POST /info``, so any client (hlmon with
``--api-url http://HOST:PORT``) connects as to the exchange. Clients subscribe as usual and get
the recorded frames of their subscriptions (matched by stream key, ``message_sub_key``) at the
recorded pace divided by ``speed``. Acks, pongs and ``post`` answers are generated, not
replayed. ``/info`` answers from the recorded state at the current position (the latest frame
of the matching stream, or the first one before anything was replayed): ``allMids``,
``l2Book``, ``clearinghouseState``, ``openOrders``/``frontendOpenOrders``, ``userFills``,
``userFillsByTime``, ``exchangeStatus``. The market catalog (``perpDexs``, ``allPerpMetas``,
``spotMeta``, ``outcomeMeta``, ``meta``) and an account's ``userRole``, ``userAbstraction`` and
``portfolio`` are answered as the exchange answered the recording client (a format-2
recording keeps those answers; the one in force at the current position). A recording
without them (format 1) gets a catalog made up of every coin the recording names
(``hlmon.replay.catalog``), and no answer on the account's role, mode or portfolio. Other
known types get an empty but valid answer.

A client that subscribes mid-replay, and every client after a seek, first gets the latest
recorded frame of each state stream (book, mids, bbo, contexts, account, orders) at the new
position, as the exchange sends a snapshot on subscribe.

Exchange timestamps (books, bbo, trades, clearinghouse states) are moved to the present
through the replay clock (``hlmon.replay.times``; ``present_times=False`` serves the frames byte
for byte), so a replayed feed is not taken for a lagging one.

The replay clock starts when the first subscription arrives (so a client started after the
server misses nothing), unless created ``paused``. Control, from Python or over HTTP::

    server.pause()        POST /_replay/pause
    server.resume()       POST /_replay/resume
    server.seek(t)        POST /_replay/seek  {"t": seconds_from_start}
    server.set_speed(x)   POST /_replay/speed {"x": 2}
    server.status()       GET  /_replay/status
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from hlmon.cancelling import cancel_and_wait
from hlmon.listen import listen
from hlmon.protocol.subscriptions import stream_key
from hlmon.replay.catalog import catalog_answers, recorded_coins
from hlmon.replay.recording import ROUTE_ALL, ROUTE_KEY, ROUTE_TYPE, Frame, Recording
from hlmon.replay.times import ReplayClockMap, present_data, present_text

logger = logging.getLogger(__name__)

_ENCODER = msgspec.json.Encoder()
PONG = '{"channel":"pong"}'
UNPROCESSABLE = "Failed to deserialize the JSON body into the target type"
MAX_QUEUED = 50_000
"""A client this many frames behind is disconnected (as the exchange drops slow readers)."""
BATCH = 500
"""Frames sent per loop turn before yielding to other tasks (high speeds, bursts)."""

STATE_TYPES = frozenset(
    (
        "allMids",
        "l2Book",
        "bbo",
        "activeAssetCtx",
        "activeAssetData",
        "clearinghouseState",
        "openOrders",
        "webData3",
        "candle",
    )
)
"""Streams whose latest frame is the whole state: sent as a snapshot on subscribe and seek."""

_EMPTY_MARGIN = {
    "accountValue": "0.0",
    "totalNtlPos": "0.0",
    "totalRawUsd": "0.0",
    "totalMarginUsed": "0.0",
}
EMPTY_ANSWERS: dict[str, Any] = {
    "allMids": {},
    "clearinghouseState": {
        "marginSummary": _EMPTY_MARGIN,
        "crossMarginSummary": _EMPTY_MARGIN,
        "crossMaintenanceMarginUsed": "0.0",
        "withdrawable": "0.0",
        "assetPositions": [],
        "time": 0,
    },
    "spotClearinghouseState": {"balances": []},
    "openOrders": [],
    "frontendOpenOrders": [],
    "historicalOrders": [],
    "userFills": [],
    "userFillsByTime": [],
    "userTwapSliceFills": [],
    "userTwapSliceFillsByTime": [],
    "candleSnapshot": [],
    "meta": {"universe": []},
    "metaAndAssetCtxs": [{"universe": []}, []],
    "spotMeta": {"universe": [], "tokens": []},
    "spotMetaAndAssetCtxs": [{"universe": [], "tokens": []}, []],
    "fundingHistory": [],
    "userFunding": [],
    "userNonFundingLedgerUpdates": [],
    "orderStatus": {"status": "unknownOid"},
    "recentTrades": [],
}
"""Valid answers with nothing in them, for types the recording cannot answer."""
MAX_FILLS = 2000


class _Client:
    """One websocket client: its subscriptions and a bounded outgoing queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.keys: dict[str, str] = {}
        """stream key -> subscription type."""
        self.types: dict[str, int] = {}
        """subscription type -> number of subscriptions of that type."""
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.closed = False

    def send(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_QUEUED:
            self.closed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(text)

    async def run_writer(self) -> None:
        while True:
            text = await self.queue.get()
            if text is None:
                await self.ws.close(code=1008, message=b"client too slow")
                return
            await self.ws.send_str(text)


class ReplayServer:
    """Serves one ``Recording`` (see the module docstring)."""

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float = 1.0,
        paused: bool = False,
        present_times: bool = True,
    ) -> None:
        _check_speed(speed)
        self.recording = recording
        self.present_times = present_times
        """Move exchange timestamps to the present (``hlmon.replay.times``)."""
        self.frames: list[Frame] = recording.frames
        self._times = [f.t for f in self.frames]
        self._by_key: dict[str, list[int]] = {}
        for i, f in enumerate(self.frames):
            if f.route == ROUTE_KEY and f.key is not None:
                self._by_key.setdefault(f.key, []).append(i)
        self._catalog = catalog_answers(recorded_coins(recording))
        """The market catalog's answers: the coins this recording can serve."""
        self.speed = speed
        self.cursor = 0
        """Index of the next frame to send."""
        self.sent = 0
        """Frames sent to clients (one per frame and client)."""
        self.clients: set[_Client] = set()
        self._pos_base = 0.0
        self._wall_base = 0.0
        self._epoch_at_base = time.time()
        """Wall-clock seconds when ``_wall_base`` was taken (for ``present_times``)."""
        self._running = False
        self._paused = paused
        self._started = False
        """The clock has started (first subscription, a resume or a seek)."""
        self._changed = asyncio.Event()
        self.finished = asyncio.Event()
        """Set when every frame was sent (cleared by a seek back)."""
        self.url = ""
        self.ws_url = ""
        self.host = ""
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ clock and control

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def position(self) -> float:
        """Seconds from the recording's start the replay has reached."""
        if self._running:
            return self._pos_base + (self._now() - self._wall_base) * self.speed
        return self._pos_base

    @property
    def state(self) -> str:
        """``waiting`` (for a first subscription), ``playing``, ``paused`` or ``finished``."""
        if self.cursor >= len(self.frames) and self._started:
            return "finished"
        if self._running:
            return "playing"
        return "paused" if self._paused else "waiting"

    def _set_running(self, running: bool) -> None:
        self._pos_base = self.position
        self._wall_base, self._epoch_at_base = self._now(), time.time()
        self._running = running
        self._changed.set()

    def pause(self) -> None:
        """Stop the replay clock (clients stay connected; pings are still answered)."""
        self._paused = True
        self._set_running(False)

    def resume(self) -> None:
        """Start or continue the replay clock."""
        self._paused = False
        self._started = True
        self._set_running(True)

    def set_speed(self, speed: float) -> None:
        """Replay at ``speed`` times the recorded pace from now on."""
        _check_speed(speed)
        self._pos_base = self.position
        self._wall_base, self._epoch_at_base = self._now(), time.time()
        self.speed = speed
        self._changed.set()

    def seek(self, t: float) -> None:
        """Jump to ``t`` seconds from the start; frames before ``t`` are skipped, and each
        client gets the latest state frame of its streams at ``t``."""
        if not isinstance(t, int | float) or isinstance(t, bool) or not t >= 0:
            raise ValueError(f"seek: expected seconds >= 0, got {t!r}")
        t = min(float(t), self.recording.duration)
        self.cursor = bisect.bisect_right(self._times, t)
        self._pos_base = t
        self._wall_base, self._epoch_at_base = self._now(), time.time()
        if self.cursor < len(self.frames):
            self.finished.clear()
        for client in list(self.clients):
            for key, sub_type in client.keys.items():
                self._send_snapshot(client, key, sub_type)
        self._changed.set()

    def status(self) -> dict[str, Any]:
        """Where the replay is (``GET /_replay/status``)."""
        rec = self.recording
        return {
            "state": self.state,
            "position": round(self.position, 3),
            "duration": round(rec.duration, 3),
            "speed": self.speed,
            "frames": len(self.frames),
            "cursor": self.cursor,
            "sent": self.sent,
            "clients": len(self.clients),
            "recording": str(rec.path),
            "header": rec.header,
            "truncated": rec.truncated,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port); returns ``self.url``."""
        app = web.Application()
        app.router.add_post("/info", self._handle_info)
        app.router.add_get("/ws", self._handle_ws)
        app.router.add_post("/_replay/{action}", self._handle_control)
        app.router.add_get("/_replay/status", self._handle_status)
        self._runner, self.port = await listen(app, host, port)
        self.host = host
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self.ws_url = f"ws://{shown}:{self.port}/ws"
        self._wall_base, self._epoch_at_base = self._now(), time.time()
        self._task = asyncio.create_task(self._replay_loop(), name="replay")
        return self.url

    async def stop(self) -> None:
        """Close every socket and stop listening."""
        if self._task is not None:
            await cancel_and_wait([self._task], what="replay")
            self._task = None
        for client in list(self.clients):
            client.closed = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.ws.close(code=1001, message=b"replay stopped"), 0.5)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ReplayServer:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ the replay loop

    async def _replay_loop(self) -> None:
        frames = self.frames
        while True:
            self._changed.clear()
            if self.cursor >= len(frames):
                if self._started:
                    self.finished.set()
                await self._changed.wait()
                continue
            if not self._running:
                await self._changed.wait()
                continue
            ahead = frames[self.cursor].t - self.position
            if ahead > 0:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that
                # lands in the turn a change (pause, seek) comes, and stop() would wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ahead / self.speed):
                        await self._changed.wait()
                continue
            pos = self.position
            n = 0
            while self.cursor < len(frames) and frames[self.cursor].t <= pos and n < BATCH:
                self._dispatch(frames[self.cursor])
                self.cursor += 1
                n += 1
            await asyncio.sleep(0)

    def _clock_map(self) -> ReplayClockMap:
        return ReplayClockMap(self.recording.start, self._pos_base, self._epoch_at_base, self.speed)

    def _text(self, frame: Frame) -> str:
        """The frame as sent: its exchange times moved to the present (``present_times``)."""
        if not self.present_times:
            return frame.text
        return present_text(frame.text, frame.channel, self._clock_map())

    def _dispatch(self, frame: Frame) -> None:
        route, key = frame.route, frame.key
        text: str | None = None
        for client in self.clients:
            if (
                (route == ROUTE_KEY and key in client.keys)
                or (route == ROUTE_TYPE and key in client.types)
                or (route == ROUTE_ALL and client.keys)
            ):
                if text is None:
                    text = self._text(frame)
                client.send(text)
                self.sent += 1

    def _latest(self, key: str) -> Frame | None:
        """The latest frame of stream ``key`` before the cursor, or None."""
        indices = self._by_key.get(key)
        if not indices:
            return None
        i = bisect.bisect_left(indices, self.cursor)
        return self.frames[indices[i - 1]] if i > 0 else None

    def _send_snapshot(self, client: _Client, key: str, sub_type: str) -> None:
        if sub_type not in STATE_TYPES:
            return
        frame = self._latest(key)
        if frame is not None:
            client.send(self._text(frame))
            self.sent += 1

    # ------------------------------------------------------------------ websocket

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        client = _Client(ws)
        self.clients.add(client)
        writer = asyncio.create_task(client.run_writer())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_message(client, msg.data)
                if client.closed:
                    break
        finally:
            client.closed = True
            self.clients.discard(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    def _on_message(self, client: _Client, raw: str) -> None:
        try:
            req = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            req = None
        method = req.get("method") if isinstance(req, dict) else None
        if method == "ping":
            client.send(PONG)
            return
        if method in ("subscribe", "unsubscribe") and isinstance(req, dict):
            sub = req.get("subscription")
            if isinstance(sub, dict) and isinstance(sub.get("type"), str):
                self._on_subscribe(client, method, sub)
                return
        if method == "post" and isinstance(req, dict):
            request = req.get("request")
            payload = request.get("payload") if isinstance(request, dict) else None
            if isinstance(payload, dict) and isinstance(payload.get("type"), str):
                found, result = self._info(payload)
                if found:
                    answer = {"type": payload["type"], "data": result}
                    response = {"type": "info", "payload": answer}
                else:
                    response = {"type": "error", "payload": UNPROCESSABLE}
                client.send(_frame("post", {"id": req.get("id"), "response": response}))
                return
        client.send(_frame("error", f"Error parsing JSON into valid websocket request: {raw}"))

    def _on_subscribe(self, client: _Client, method: str, sub: dict[str, Any]) -> None:
        sub_type: str = sub["type"]
        key = stream_key(sub)
        if method == "unsubscribe":
            if client.keys.pop(key, None) is not None:
                left = client.types.get(sub_type, 0) - 1
                if left > 0:
                    client.types[sub_type] = left
                else:
                    client.types.pop(sub_type, None)
        elif key not in client.keys:
            client.keys[key] = sub_type
            client.types[sub_type] = client.types.get(sub_type, 0) + 1
        client.send(_frame("subscriptionResponse", {"method": method, "subscription": sub}))
        if method == "subscribe":
            self._send_snapshot(client, key, sub_type)
            if not self._started and not self._paused:
                self.resume()  # the clock starts with the first subscription

    # ------------------------------------------------------------------ /info

    def _data(self, key: str, *, first_if_none: bool = True) -> Any:
        """``data`` of the latest frame of ``key`` (or of its first frame if none yet)."""
        frame = self._latest(key)
        if frame is None and first_if_none:
            indices = self._by_key.get(key)
            frame = self.frames[indices[0]] if indices else None
        if frame is None:
            return None
        obj = msgspec.json.decode(frame.text)
        data = obj.get("data") if isinstance(obj, dict) else None
        if self.present_times and frame.channel == "l2Book":
            data = present_data(data, self._clock_map())
        return data

    def _fills(self, user: str) -> list[dict[str, Any]]:
        key = stream_key({"type": "userFills", "user": user})
        indices = self._by_key.get(key, [])
        upto = bisect.bisect_left(indices, self.cursor)
        if upto == 0 and indices:
            upto = 1  # before anything was replayed: the fills the first snapshot held
        seen: set[tuple[Any, Any]] = set()
        fills: list[dict[str, Any]] = []
        for i in indices[:upto]:
            data = msgspec.json.decode(self.frames[i].text).get("data") or {}
            for fill in data.get("fills") or []:
                ident = (fill.get("tid"), fill.get("oid"))
                if ident not in seen:
                    seen.add(ident)
                    fills.append(fill)
        fills.sort(key=lambda f: f.get("time", 0), reverse=True)
        return fills[:MAX_FILLS]

    def _info(self, body: dict[str, Any]) -> tuple[bool, Any]:
        """``(known, answer)`` for an /info body."""
        kind = body.get("type")
        user = body.get("user")
        user = user.lower() if isinstance(user, str) else None
        dex = body.get("dex") or ""
        found, recorded = self.recording.answer(body, self.position)
        if found:
            return True, recorded
        if kind in ("perpDexs", "allPerpMetas", "spotMeta", "outcomeMeta"):
            return True, self._catalog[kind]
        if kind == "meta":
            meta = self._catalog["meta"].get(dex)
            return meta is not None, meta
        if kind == "allMids":
            data = self._data(stream_key({"type": "allMids", "dex": dex}))
            if isinstance(data, dict) and isinstance(data.get("mids"), dict):
                return True, data["mids"]
        elif kind == "l2Book" and isinstance(body.get("coin"), str):
            data = self._data(stream_key({"type": "l2Book", "coin": body["coin"]}))
            if isinstance(data, dict):
                return True, data
            return True, {"coin": body["coin"], "time": 0, "levels": [[], []]}
        elif kind == "clearinghouseState" and user:
            data = self._data(stream_key({"type": "clearinghouseState", "user": user, "dex": dex}))
            if isinstance(data, dict) and isinstance(data.get("clearinghouseState"), dict):
                state = data["clearinghouseState"]
                return True, present_data(state, self._clock_map()) if self.present_times else state
        elif kind in ("openOrders", "frontendOpenOrders") and user:
            data = self._data(stream_key({"type": "openOrders", "user": user, "dex": dex}))
            if isinstance(data, dict) and isinstance(data.get("orders"), list):
                return True, data["orders"]
        elif kind in ("userFills", "userFillsByTime") and user:
            fills = self._fills(user)
            if kind == "userFillsByTime":
                lo = body.get("startTime") or 0
                hi = body.get("endTime")
                fills = [
                    f
                    for f in fills
                    if f.get("time", 0) >= lo and (hi is None or f.get("time", 0) <= hi)
                ]
            return True, fills
        elif kind == "exchangeStatus":
            if self.present_times:
                now_ms = int(time.time() * 1000)
            else:
                now_ms = int((self.recording.start + self.position) * 1000)
            return True, {"time": now_ms, "specialStatuses": None}
        if isinstance(kind, str) and kind in EMPTY_ANSWERS:
            return True, EMPTY_ANSWERS[kind]
        return False, None

    async def _handle_info(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict):
            return web.Response(status=422, text=UNPROCESSABLE)
        found, result = self._info(body)
        if not found:
            return web.Response(status=422, text=UNPROCESSABLE)
        return web.Response(body=_ENCODER.encode(result), content_type="application/json")

    # ------------------------------------------------------------------ /_replay control

    async def _handle_status(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.status())

    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        raw = await request.read()
        try:
            args = msgspec.json.decode(raw) if raw.strip() else {}
        except msgspec.DecodeError:
            args = None
        if not isinstance(args, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        try:
            if action == "pause":
                self.pause()
            elif action == "resume":
                self.resume()
            elif action == "seek":
                self.seek(args.get("t"))  # type: ignore[arg-type]
            elif action == "speed":
                self.set_speed(args.get("x"))  # type: ignore[arg-type]
            else:
                known = "pause, resume, seek, speed"
                return web.json_response(
                    {"error": f"unknown action {action!r} (known: {known})"}, status=404
                )
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True, **self.status()})


def _check_speed(speed: Any) -> None:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not (0 < speed <= 10_000):
        raise ValueError(f"speed: expected a number 0 < x <= 10000, got {speed!r}")


def _frame(channel: str, data: Any) -> str:
    return _ENCODER.encode({"channel": channel, "data": data}).decode()
