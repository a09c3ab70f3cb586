"""Fault injection: the ways a real exchange misbehaves, switchable at run time.

``Faults`` holds the switches the server consults (stall, latency, refusing connections,
/info status and hangs) and triggers one-shot actions through callbacks the server installs
(drop every socket, broadcast malformed or ``error`` frames).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec

MALFORMED_FRAMES: tuple[str, ...] = (
    '{"channel":"l2Book","data":{"coin":"BTC","time":',
    "this is not json",
    '{"channel":"l2Book","data":{"coin":5,"time":"soon","levels":"none"}}',
    '{"channel":"trades","data":{"unexpected":true}}',
    '{"data":{"mids":{}}}',
    '["channel","allMids"]',
)
"""Cycled by ``send_malformed``: truncated JSON, non-JSON, wrong types, missing channel."""


class Faults:
    """Run-time fault switches. All methods are safe to call from tests at any time.

    ``legacy_default`` is the server's configured answer to a subscription naming something
    unlisted (``SimServer(legacy_invalid_subscription=...)``); ``clear`` returns to it.
    """

    def __init__(self, legacy_default: bool = False) -> None:
        self.legacy_default = legacy_default
        self.legacy_invalid = legacy_default
        self._on_drop_all: Callable[[], None] = lambda: None
        self._on_broadcast: Callable[[list[str]], None] = lambda frames: None
        self._on_unstall: Callable[[], None] = lambda: None
        self._stalled = False
        self._unstall_handle: asyncio.TimerHandle | None = None
        self.latency_s = 0.0
        self.refuse_until = 0.0
        self.info_status_code: int | None = None
        self.info_status_remaining: int | None = None
        self.info_hang_s: float | None = None
        self._released = asyncio.Event()
        self._malformed_next = 0

    def install(
        self,
        on_drop_all: Callable[[], None],
        on_broadcast: Callable[[list[str]], None],
        on_unstall: Callable[[], None] = lambda: None,
    ) -> None:
        """Called by the server to connect the one-shot actions (``on_unstall``: answer
        what the clients asked during the stall)."""
        self._on_drop_all = on_drop_all
        self._on_broadcast = on_broadcast
        self._on_unstall = on_unstall

    # -------------------------------------------------------------- websocket faults

    def drop_all(self) -> None:
        """Abort every open websocket now, without a close frame."""
        self._on_drop_all()

    def stall(self, seconds: float | None = None) -> None:
        """Keep sockets open but send nothing (not even pongs) for ``seconds`` or until unstall.

        A frozen server: what clients send meanwhile is held, not read, and answered in order
        when the stall ends (a ping gets its pong late, never not at all); the pushes of the
        stall are lost."""
        self._stalled = True
        if self._unstall_handle is not None:
            self._unstall_handle.cancel()
            self._unstall_handle = None
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._unstall_handle = loop.call_later(seconds, self.unstall)

    def unstall(self) -> None:
        """End a stall: what clients sent meanwhile is answered now; pushes resume with the
        next block."""
        was = self._stalled
        self._stalled = False
        if self._unstall_handle is not None:
            self._unstall_handle.cancel()
            self._unstall_handle = None
        if was:
            self._on_unstall()

    @property
    def stalled(self) -> bool:
        """True while stalled."""
        return self._stalled

    def send_malformed(self, n: int = 1) -> None:
        """Send ``n`` malformed frames to every connected socket."""
        frames = []
        for _ in range(n):
            frames.append(MALFORMED_FRAMES[self._malformed_next % len(MALFORMED_FRAMES)])
            self._malformed_next += 1
        self._on_broadcast(frames)

    def send_error(self, text: str) -> None:
        """Send ``{"channel":"error","data":text}`` to every connected socket."""
        self._on_broadcast([msgspec.json.encode({"channel": "error", "data": text}).decode()])

    def latency(self, ms: float) -> None:
        """Delay every websocket frame and /info answer by ``ms``."""
        self.latency_s = max(ms, 0.0) / 1000.0

    def refuse_connections(self, seconds: float) -> None:
        """Reject websocket upgrades with HTTP 503 for ``seconds``."""
        self.refuse_until = time.monotonic() + seconds

    def legacy_invalid_subscription(self, enabled: bool = True) -> None:
        """Answer a subscription naming an unlisted coin or dex (or bad ``l2Book`` options)
        with the older ``Invalid subscription {...}`` error frame and keep the socket open,
        instead of dropping the socket as the exchange does since 2026 (``enabled=False``)."""
        self.legacy_invalid = enabled

    @property
    def refusing(self) -> bool:
        """True while new websocket connections are refused."""
        return time.monotonic() < self.refuse_until

    # -------------------------------------------------------------- REST faults

    def info_status(self, status: int = 429, count: int | None = None) -> None:
        """Answer the next ``count`` /info requests (all if None) with HTTP ``status``."""
        self.info_status_code = status
        self.info_status_remaining = count

    def take_info_status(self) -> int | None:
        """The status to fail this /info request with, consuming one of ``count``."""
        code = self.info_status_code
        if code is None:
            return None
        if self.info_status_remaining is not None:
            self.info_status_remaining -= 1
            if self.info_status_remaining <= 0:
                self.info_status_code = None
                self.info_status_remaining = None
        return code

    def info_hang(self, seconds: float) -> None:
        """Make every /info request wait ``seconds`` (or until ``clear``) before answering."""
        self.info_hang_s = seconds
        self._released = asyncio.Event()

    async def hang(self) -> None:
        """Wait out an /info hang, if one is set."""
        if self.info_hang_s is None:
            return
        released = self._released
        try:
            async with asyncio.timeout(self.info_hang_s):  # (wait_for can lose a cancel on 3.11)
                await released.wait()
        except TimeoutError:
            pass

    def clear(self) -> None:
        """Switch every fault off (hung /info requests are released)."""
        self.unstall()
        self.latency_s = 0.0
        self.refuse_until = 0.0
        self.info_status_code = None
        self.info_status_remaining = None
        self.info_hang_s = None
        self._released.set()
        self.legacy_invalid = self.legacy_default

    def state(self) -> dict[str, object]:
        """Current switches, for ``GET /_sim/faults`` and logs."""
        return {
            "stalled": self._stalled,
            "latency_ms": self.latency_s * 1000,
            "refusing": self.refusing,
            "info_status": self.info_status_code,
            "info_status_remaining": self.info_status_remaining,
            "info_hang_s": self.info_hang_s,
            "legacy_invalid_subscription": self.legacy_invalid,
        }
