"""Fixtures for the UI tests: local time pinned to UTC, a fixed clock, a populated store,
and a recording stand-in for the feed engine (the engine's own behaviour is tested in
tests/feeds; here we only check what the UI asks of it)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app

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


class RecordingEngine:
    """Stands in for ``FeedEngine``: records the calls the UI makes."""

    def __init__(self, *, fail_start: BaseException | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.fail_start = fail_start
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.calls.append(("start", ()))
        if self.fail_start is not None:
            raise self.fail_start
        self.started = True

    async def stop(self) -> None:
        self.calls.append(("stop", ()))
        self.stopped = True

    def select_coin(self, coin: str) -> None:
        if coin == "BAD!":
            raise ValueError(f"invalid coin {coin!r}")
        self.calls.append(("select_coin", (coin,)))

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        self.calls.append(("set_book_mode", (fast, n_sig_figs)))

    def add_coin(self, coin: str) -> None:
        self.calls.append(("add_coin", (coin,)))

    def remove_coin(self, coin: str) -> None:
        self.calls.append(("remove_coin", (coin,)))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        """Arguments of every call to ``name``."""
        return [args for n, args in self.calls if n == name]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return populated_store(clock)


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def app(store: Store, clock: FakeClock) -> HlmonApp:
    """The app on the populated store, without an engine."""
    return build_app(settings(), store=store, clock=clock)


@pytest.fixture
def app_with_engine(store: Store, clock: FakeClock, engine: RecordingEngine) -> HlmonApp:
    """The app on the populated store, with a recording engine."""
    return build_app(settings(), store=store, clock=clock, engine=engine)  # type: ignore[arg-type]
