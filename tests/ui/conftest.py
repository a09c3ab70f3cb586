"""Fixtures for the UI tests: local time pinned to UTC, a fixed clock, a populated store,
and the app on a ``FakeRuntime`` (``tests/fakes.py``) that records what the UI asks of its
backend (the real runtime and engine are tested in tests/feeds and tests/ui/test_integration)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app
from tests.catalogs import default_catalog
from tests.fakes import FakeRuntime

from .helpers import FakeClock, populated_store, settings


@pytest.fixture(autouse=True)
def _utc_local_time() -> Iterator[None]:
    """The header clock and trade times print local time: pin it so screens are stable."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(autouse=True)
def _no_color_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's NO_COLOR must not change what the tests see."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return populated_store(clock)


@pytest.fixture
def runtime(store: Store, clock: FakeClock) -> FakeRuntime:
    """The backend the ``app`` fixture runs on: records the UI's calls; the test catalog is in
    force once it starts (what ``a`` resolves against)."""
    return FakeRuntime(settings(), store, clock, catalog=default_catalog())


@pytest.fixture
def app(runtime: FakeRuntime) -> HlmonApp:
    """The app on the populated store."""
    return build_app(runtime)
