"""Leaving the app never hangs on its backend: a last save or a backend stop that does not end
is given up after its bound (``FINISH_WAIT_S``, ``STOP_WAIT_S``; shortened here), said in the
log, and the app exits. Before these bounds a hung stop held the terminal (and a test run) for
good."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hlmon.config.saved import SavedChoices
from hlmon.ui import app as app_module
from hlmon.ui import saving
from hlmon.ui.app import build_app
from tests.fakes import FakeRuntime

from .helpers import pilot_wait, settings

EXIT_LIMIT_S = 10.0
"""The whole run, start to exit: far above the shortened bounds, far below pytest's timeout."""


class HangingRuntime(FakeRuntime):
    """A backend whose save (a config on a hung disk) or stop never returns."""

    hang_save = False
    hang_stop = False

    async def save_settings(self, choices: SavedChoices) -> bool:
        self.calls.append(("save_settings", (choices,)))
        if self.hang_save:
            await asyncio.Event().wait()
        return False

    async def __aexit__(self, *exc: Any) -> None:
        await super().__aexit__(*exc)
        if self.hang_stop:
            await asyncio.Event().wait()


async def test_a_hung_last_save_does_not_hold_the_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saving, "FINISH_WAIT_S", 0.2)
    runtime = HangingRuntime(settings(saved_file=str(tmp_path / "config.toml")))
    runtime.hang_save = True
    app = build_app(runtime)
    async with asyncio.timeout(EXIT_LIMIT_S):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: runtime.started)
            # Saved on leaving: the quiet time must not pass first (a loaded machine can take
            # longer than the 0.4 s default to leave, and the timer's save is then cancelled).
            app.saver.delay_s = 60.0
            await pilot.press("t")
    assert runtime.named("save_settings") and runtime.stopped
    assert app.saver.last_error is not None and "still running" in app.saver.last_error
    assert app.saver.settled


async def test_a_hung_backend_stop_does_not_hold_the_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "STOP_WAIT_S", 0.2)
    runtime = HangingRuntime(settings())
    runtime.hang_stop = True
    app = build_app(runtime)
    async with asyncio.timeout(EXIT_LIMIT_S):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: runtime.started)
    assert runtime.stopped


class SlowDiskRuntime(FakeRuntime):
    """A save that is still writing when the user leaves; ``release`` lets it end."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.release = asyncio.Event()

    async def save_settings(self, choices: SavedChoices) -> bool:
        self.calls.append(("save_settings", (choices,)))
        await self.release.wait()
        self.calls.append(("save_written", ()))
        return True


async def test_a_save_already_running_is_awaited_before_the_backend_stops(
    tmp_path: Path,
) -> None:
    """The timer's save had started (its quiet time passed) when the user left: leaving waits
    for it to end instead of cancelling it with the app's workers."""
    runtime = SlowDiskRuntime(settings(saved_file=str(tmp_path / "config.toml")))
    app = build_app(runtime)
    finish = app.saver.finish

    async def finish_releasing() -> None:
        runtime.release.set()  # the disk answers only once the exit has begun
        await finish()

    app.saver.finish = finish_releasing  # type: ignore[method-assign]
    async with asyncio.timeout(EXIT_LIMIT_S):
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: runtime.started)
            app.saver.delay_s = 0.01
            await pilot.press("t")
            await pilot_wait(pilot, lambda: runtime.named("save_settings"))
            assert not app.saver.settled  # in flight, blocked on the disk
    order = [name for name, _args in runtime.calls if name in ("save_written", "stop")]
    assert order == ["save_written", "stop"]
    assert app.saver.saves == 1 and app.saver.last_error is None
