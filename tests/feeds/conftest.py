"""Shared helpers for the feeds tests: condition waits with deadlines, never fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest


async def wait_for(cond: Callable[[], object], within: float, interval: float = 0.01) -> float:
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


@pytest.fixture
def wait() -> Callable[..., Awaitable[float]]:
    """The ``wait_for`` helper as a fixture (tests need no import path tricks)."""
    return wait_for
