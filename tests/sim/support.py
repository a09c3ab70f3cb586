"""Helpers for simulator tests: a small websocket client, decode, condition waits.

Every test talks to a real ``SimServer`` over 127.0.0.1 with a real websockets/httpx client.
Waiting is always for a condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from hlmon.protocol import messages
from hlmon.sim import ManualClock, SimServer
from hlmon.sim.account import AccountParams
from hlmon.sim.profiles import STANDARD

START_MS = 1_790_000_000_000
"""Fixed start of the manual clock (ms)."""

FAST = STANDARD.with_changes(
    name="test-fast",
    tick_ms=20,
    l2book_ms=200,
    l2book_fast_ms=40,
    all_mids_ms=200,
    ctx_ms=100,
    user_ms=200,
    all_dexs_ms=200,
    account=AccountParams(fill_every_min_s=0.3, fill_every_max_s=0.6),
)
"""Short cadences for wall-clock tests."""


def decode_frame(raw: str | bytes) -> Any:
    """Decode a frame with the protocol layer (``hlmon.protocol.decode`` when available)."""
    try:
        from hlmon.protocol.decode import decode
    except ImportError:  # pragma: no cover - only before the protocol layer lands
        return msgspec.json.decode(raw, type=messages.KnownMsg)
    return decode(raw)


async def wait_until(cond: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    """Poll ``cond`` until it is true or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.005)


class WsClient:
    """A thin test client over a websockets connection that keeps every frame it read."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.log: list[tuple[str, dict[str, Any]]] = []
        """(raw text, parsed JSON) of every frame read so far."""
        self._taken: set[int] = set()

    async def send(self, obj: Any) -> None:
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def subscribe(self, sub: dict[str, Any]) -> None:
        await self.send({"method": "subscribe", "subscription": sub})

    async def unsubscribe(self, sub: dict[str, Any]) -> None:
        await self.send({"method": "unsubscribe", "subscription": sub})

    async def read(self, within: float = 5.0) -> tuple[str, dict[str, Any] | None]:
        """The next raw frame, whatever it is (parsed as JSON when it parses)."""
        raw = await asyncio.wait_for(self.ws.recv(), within)
        text = raw if isinstance(raw, str) else raw.decode()
        try:
            return text, json.loads(text)
        except ValueError:
            return text, None

    async def _read(self, within: float) -> tuple[str, dict[str, Any]]:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        text = raw if isinstance(raw, str) else raw.decode()
        item = (text, json.loads(text))
        self.log.append(item)
        return item

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], within: float = 5.0
    ) -> tuple[str, dict[str, Any]]:
        """The oldest frame not yet returned that matches ``pred``, reading more as needed."""
        deadline = time.monotonic() + within
        scanned = 0
        while True:
            for i in range(scanned, len(self.log)):
                if i not in self._taken and pred(self.log[i][1]):
                    self._taken.add(i)
                    return self.log[i]
            scanned = len(self.log)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for a matching frame")
            try:
                await self._read(left)
            except TimeoutError:
                raise AssertionError("timed out waiting for a matching frame") from None

    async def channel(self, name: str, within: float = 5.0) -> tuple[str, dict[str, Any]]:
        """The next frame on channel ``name``."""
        return await self.wait_for(lambda m: m.get("channel") == name, within)

    async def drain(self, quiet: float = 0.05, within: float = 10.0) -> None:
        """Read until nothing arrives for ``quiet`` seconds (used after a burst of requests);
        fails if frames still keep coming after ``within`` seconds."""
        deadline = time.monotonic() + within
        try:
            while time.monotonic() < deadline:
                await self._read(quiet)
        except TimeoutError:
            return
        raise AssertionError(f"frames still arriving after {within} s of draining")

    def channels(self) -> list[str]:
        return [m.get("channel", "") for _, m in self.log]

    async def read_until_closed(self, within: float = 5.0) -> ConnectionClosed:
        """Read (and log) every frame until the server ends the connection; returns how it
        ended. Fails if it is still open after ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the connection is still open")
            try:
                await self._read(left)
            except ConnectionClosed as exc:
                return exc
            except TimeoutError:
                raise AssertionError("the connection is still open") from None


def make_sim(**kwargs: Any) -> SimServer:
    """A manual-clock simulator with overrides (limits, idle timeout, profile...)."""
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("clock", ManualClock(START_MS))
    return SimServer(**kwargs)
