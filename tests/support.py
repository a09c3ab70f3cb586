"""Helpers shared by several test packages: a hand-driven clock, a frame builder, condition
waits with deadlines, the shortened timings, sped-up simulator and engine factory the loopback
tests use, and the undoing of the CLI's logging setup.

Package-specific builders (positions, clearinghouse states, ...) stay in each package's
``conftest.py`` / ``helpers.py``: their shapes and defaults differ on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.settings import WebsocketSettings
from hlmon.protocol.messages import KnownMsg, Message
from hlmon.sim import STANDARD, Profile, SimServer
from hlmon.state import Store

T0 = 1_790_000_000.0
"""2026-09-21 14:13:20 UTC: the fixed wall clock the unit tests start at."""


class FakeClock:
    """A wall clock that only moves when told to."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


def msg(channel: str, data: Any = None) -> Message:
    """A frame struct from plain JSON-like data, exactly as ``decode`` would build it."""
    frame: dict[str, Any] = {"channel": channel}
    if data is not None:
        frame["data"] = data
    return msgspec.json.decode(msgspec.json.encode(frame), type=KnownMsg)


async def wait_for(
    cond: Callable[[], object], within: float = 5.0, interval: float = 0.01
) -> float:
    """Poll ``cond`` until it is truthy; return the seconds it took.

    Raises ``AssertionError`` (with the deadline) when the deadline passes first, so a failing
    test says what it was waiting for instead of hanging.
    """
    start = time.monotonic()
    deadline = start + within
    while True:
        if cond():
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {within} s: {cond}")
        await asyncio.sleep(interval)


TEST_WS = WebsocketSettings(
    ping_interval=0.3,
    pong_timeout=0.4,
    silence_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.4,
    max_new_per_minute=30,
)
"""Short heartbeat and backoff so a stall is caught, and recovered from, in about a second."""
TEST_TIMINGS = dataclasses.replace(TEST_WS, ack_timeout=1.0, stable_after=0.5)
FAST_PROFILE = STANDARD.with_changes(
    name="fast", l2book_ms=400, all_mids_ms=400, ctx_ms=200, user_ms=400, all_dexs_ms=400
)
"""Simulator cadences sped up so the loopback tests run in seconds."""


@contextlib.asynccontextmanager
async def running_sim(profile: Profile = FAST_PROFILE, seed: int = 11) -> AsyncIterator[SimServer]:
    """A simulator listening on a free loopback port; stopped on exit."""
    server = SimServer(seed=seed, profile=profile)
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def engine_factory() -> AsyncIterator[Callable[..., Awaitable[FeedEngine]]]:
    """``make(settings, **kw)``: start a ``FeedEngine`` on a fresh wall-clock ``Store`` with a
    seeded rng, ``TEST_TIMINGS`` and a 0.3 s fallback grace (``kw`` overrides any engine
    argument). Every engine made is stopped on exit."""
    started: list[FeedEngine] = []

    async def make(settings: Settings, **kw: Any) -> FeedEngine:
        store = Store(time.time, settings.stale)
        kw.setdefault("timings", TEST_TIMINGS)
        kw.setdefault("fallback_down_grace", 0.3)
        engine = FeedEngine(settings, store, rng=random.Random(5), **kw)
        await engine.start()
        started.append(engine)
        return engine

    try:
        yield make
    finally:
        for engine in started:
            await engine.stop()


@contextlib.contextmanager
def cli_logging_restored() -> Iterator[None]:
    """On exit, undo what running the CLI did to the root logger: the handlers it installed
    (removed and closed), the level, and the capture of warnings."""
    from hlmon import cli_logging  # only the CLI tests pay for importing it

    level = logging.getLogger().level
    try:
        yield
    finally:
        for handler in cli_logging._installed_handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
        cli_logging._installed_handlers.clear()
        logging.getLogger().setLevel(level)
        logging.captureWarnings(False)


REPO_ROOT = Path(__file__).resolve().parent.parent


def python_stdout(code: str, timeout: float = 60.0) -> str:
    """What ``python -c code`` prints, run in a fresh interpreter from the repository root
    (a non-zero exit fails with the child's stderr; a run over ``timeout`` seconds too)."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def self_signed_certificate(folder: Path, *, ip_name: bool = False) -> tuple[Path, Path]:
    """A one-day self-signed certificate for ``CN=127.0.0.1`` and its key, made by openssl in
    ``folder``; ``ip_name`` also names 127.0.0.1 as a subject alternative name (what host-name
    verification checks)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    names = ["-addext", "subjectAltName=IP:127.0.0.1"] if ip_name else []
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", *names, "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
