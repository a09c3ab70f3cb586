"""Shared helpers for the feeds tests: condition waits with deadlines, never fixed sleeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.support import wait_for


@pytest.fixture
def wait() -> Callable[..., Awaitable[float]]:
    """The ``wait_for`` helper as a fixture (tests need no import path tricks)."""
    return wait_for
