"""``ClientSession``: one client of the daemon, and the registry that keeps them across
reconnects.

A client names itself with ``/ws?client=ID``. Frames of user event streams are numbered for it
(``{"seq":N,...}``: one extra top-level key, which clients that do not know it ignore) and kept
in a bounded buffer. When its socket drops, the session lives on for ``resume_window`` seconds:
it keeps its subscriptions upstream and keeps buffering, and a client that comes back with
``/ws?client=ID&seq=N`` first gets every numbered frame after N, then carries on. Its
resubscriptions are acked without "Already subscribed"; what it does not resubscribe within
``confirm_grace`` seconds is dropped. A client without an id is forgotten when it leaves.

Each connected session has a bounded send queue drained by one writer task: a client that
stops reading is dropped when its queue is full, never allowed to hold the daemon's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from hlmon.daemon.streams import Stream

CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TEXT = WSMsgType.TEXT


class ClientSession:
    """One client: its subscriptions, sequence, resume buffer and send queue."""

    def __init__(
        self, client_id: str | None, peer: str, *, buffer_max: int, queue_max: int
    ) -> None:
        self.id = client_id
        self.peer = peer
        self.subs: dict[str, Stream] = {}
        """Subscription key -> the shared stream."""
        self.unconfirmed: set[str] = set()
        """Keys held from before a resume that the client has not resubscribed yet."""
        self.seq = 0
        """Number of the last event frame numbered for this client."""
        self._buffer: deque[tuple[int, bytes]] = deque(maxlen=buffer_max)
        self._queue: deque[bytes] = deque()
        self._queue_max = queue_max
        self._wake = asyncio.Event()
        self.ws: web.WebSocketResponse | None = None
        self._transport: asyncio.Transport | None = None
        self.writer: asyncio.Task[None] | None = None
        self.connected_at = time.monotonic()
        self.disconnected_at: float | None = None
        self.connects = 0
        self.frames_sent = 0
        self.dropped_slow = 0
        self.info_requests = 0
        self.weight_caused = 0
        """REST weight this client's requests spent upstream (cache misses)."""
        self.weight_saved = 0
        """REST weight its requests would have cost without the shared cache."""

    # ------------------------------------------------------------------ frames

    def push(self, raw: bytes, event: bool) -> None:
        """A frame for this client: numbered and buffered if an event, sent if connected."""
        if event:
            self.seq += 1
            raw = b'{"seq":%d,' % self.seq + raw[1:]
            self._buffer.append((self.seq, raw))
        if self.ws is not None:
            self.send(raw)

    def send(self, raw: bytes) -> None:
        """Queue a frame for the socket; a client too slow to drain its queue is dropped."""
        if self.ws is None:
            return
        if len(self._queue) >= self._queue_max:
            self.dropped_slow += 1
            self._queue.clear()
            if self._transport is not None:
                self._transport.abort()
            return
        self._queue.append(raw)
        if len(self._queue) == 1:
            self._wake.set()

    def missed_since(self, seq: int) -> tuple[list[bytes], bool]:
        """Numbered frames after ``seq``, and whether the buffer still held all of them."""
        frames = [raw for n, raw in self._buffer if n > seq]
        oldest = self._buffer[0][0] if self._buffer else self.seq + 1
        return frames, seq + 1 >= oldest or seq >= self.seq

    # ------------------------------------------------------------------ socket

    def attach(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        """A socket for this session (a new one, or the client came back)."""
        self.ws = ws
        self._transport = transport
        self.connects += 1
        self.disconnected_at = None
        self.connected_at = time.monotonic()
        self._queue.clear()
        self.writer = asyncio.get_running_loop().create_task(self._write(ws))

    async def detach(self, ws: web.WebSocketResponse) -> None:
        """Socket ``ws`` ended: stop writing to it (the session may live on). A no-op when the
        session has moved on to a newer socket."""
        if self.ws is not ws:
            return
        self.ws = None
        self._transport = None
        self.disconnected_at = time.monotonic()
        self._queue.clear()
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def _write(self, ws: web.WebSocketResponse) -> None:
        queue = self._queue
        wake = self._wake
        send = ws.send_frame
        try:
            while True:
                if not queue:
                    wake.clear()
                    await wake.wait()
                    continue
                raw = queue.popleft()
                await send(raw, _TEXT)
                self.frames_sent += 1
        except (ConnectionError, RuntimeError):
            return  # the socket is gone; the reader side sees it and detaches

    # ------------------------------------------------------------------ status

    def status(self, now: float) -> dict[str, Any]:
        """One row of ``GET /_daemon/status`` (no addresses beyond what it subscribed)."""
        return {
            "client": self.id,
            "peer": self.peer,
            "connected": self.ws is not None,
            "disconnected_s": None
            if self.disconnected_at is None
            else round(now - self.disconnected_at, 1),
            "connects": self.connects,
            "subscriptions": [s.sub.to_wire() for s in self.subs.values()],
            "seq": self.seq,
            "frames_sent": self.frames_sent,
            "queued": len(self._queue),
            "dropped_slow": self.dropped_slow,
            "info_requests": self.info_requests,
            "weight_caused": self.weight_caused,
            "weight_saved": self.weight_saved,
        }


class SessionRegistry:
    """Sessions by client id, and the anonymous ones; expires those past their window."""

    def __init__(
        self, *, resume_window: float, buffer_max: int = 5000, queue_max: int = 20_000
    ) -> None:
        self.resume_window = resume_window
        self.buffer_max = buffer_max
        self.queue_max = queue_max
        self.by_id: dict[str, ClientSession] = {}
        self.anonymous: set[ClientSession] = set()
        self.resumes = 0

    def all(self) -> list[ClientSession]:
        return [*self.by_id.values(), *self.anonymous]

    def connected(self) -> list[ClientSession]:
        return [s for s in self.all() if s.ws is not None]

    def open(self, client_id: str | None, peer: str) -> tuple[ClientSession, bool]:
        """The session for a new socket, and whether it resumes a kept one."""
        if client_id is not None:
            old = self.by_id.get(client_id)
            if old is not None:
                self.resumes += 1
                return old, True
        session = ClientSession(
            client_id, peer, buffer_max=self.buffer_max, queue_max=self.queue_max
        )
        if client_id is None:
            self.anonymous.add(session)
        else:
            self.by_id[client_id] = session
        return session, False

    def keep_after_close(self, session: ClientSession) -> bool:
        """Whether a session whose socket ended is kept for a resume."""
        return session.id is not None and self.resume_window > 0

    def forget(self, session: ClientSession) -> None:
        if session.id is not None and self.by_id.get(session.id) is session:
            del self.by_id[session.id]
        self.anonymous.discard(session)

    def expired(self, now: float) -> list[ClientSession]:
        """Disconnected sessions whose resume window has passed."""
        return [
            s
            for s in self.all()
            if s.ws is None
            and s.disconnected_at is not None
            and now - s.disconnected_at >= self.resume_window
        ]
