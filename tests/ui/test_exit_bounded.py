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
