"""``ChoiceSaver``: the UI's choices saved to the user's config file, debounced, off the loop.

The app says what changed (``watchlist``, ``theme``, ``book``, ``rules``); after a short quiet
time the saver collects the current values of everything changed in this run and hands them
to ``Controls.save_settings``, which writes them in a thread (``hlmon.config.saved``). Only
what changed in this run is saved, so a value given by a flag (``--theme``) is never written
unless the user changed it in the UI. The UI itself does no file I/O.

A failed save is logged and shown, never raised; a run that saves nothing (a config named with
``--config`` or ``./config.toml``) says so once. Leaving the app saves what is still pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.timer import Timer

from hlmon.config import ConfigError
from hlmon.config.saved import SavedChoices
from hlmon.runtime.controls import Controls

SAVE_DELAY_S = 0.4
"""Quiet time before saving: a burst of changes (a few coins added) is one write."""

FINISH_WAIT_S = 5.0
"""Leaving waits at most this long for the last save: a config on a hung (network) disk must not
keep the terminal. The write goes on in its thread, atomic as ever."""

KINDS = frozenset(("watchlist", "theme", "book", "rules"))


class ChoiceSaver:
    """Debounces and sends the UI's choices to the backend (see the module docstring)."""

    def __init__(
        self,
        app: App[Any],
        *,
        collect: Callable[[frozenset[str]], SavedChoices],
        controls: Callable[[], Controls | None],
        log: Callable[[str, str], None],
        saved_file: str | None,
        delay_s: float = SAVE_DELAY_S,
    ) -> None:
        """
        Args:
            app: for its timer and notifications.
            collect: the current choices, for the kinds changed in this run.
            controls: the backend's controls, None until it has started.
            log: ``(text, level)`` into the Log tab.
            saved_file: where the choices go (``Settings.saved_file``); None: nowhere.
            delay_s: the quiet time before a save.
        """
        self._app = app
        self._collect = collect
        self._controls = controls
        self._log = log
        self.saved_file = saved_file
        self.delay_s = delay_s
        """Quiet time before a save (tests lengthen it to prove a burst is one write)."""
        self.changed: set[str] = set()
        """Kinds the user changed in this run (saved from now on)."""
        self._timer: Timer | None = None
        self._writing: asyncio.Future[None] | None = None
        """The last save handed to the backend: it may still be writing when the user leaves
        (Textual then cancels the worker that waits for it, not the write)."""
        self._told_not_saved = False
        self.saves = 0
        """Saves finished (written, unchanged or failed): tests poll it."""
        self.in_flight = 0
        self.last_error: str | None = None

    @property
    def settled(self) -> bool:
        """Nothing waits to be saved and no save is running."""
        return self._timer is None and self.in_flight == 0

    def changed_now(self, kind: str) -> None:
        """``kind`` changed in the UI: save it after the quiet time."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of choice: {kind!r}")
        if self.saved_file is None:
            if not self._told_not_saved:
                self._told_not_saved = True
                text = (
                    "settings changed in the UI are kept for this run only: a --demo run, "
                    "or its config file was named with --config or is ./config.toml"
                )
                self._log(text, "info")
                self._app.notify(text, timeout=5)
            return
        self.changed.add(kind)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._app.set_timer(self.delay_s, self._due, name="save-settings")

    def _due(self) -> None:
        if self._controls() is None:
            # The backend has not started yet: try again after another quiet time.
            self._timer = self._app.set_timer(self.delay_s, self._due, name="save-settings")
            return
        self._timer = None
        self._app.run_worker(self._save(), group="save-settings", exit_on_error=False)

    async def _save(self) -> None:
        controls = self._controls()
        if controls is None or not self.changed:
            return
        choices = self._collect(frozenset(self.changed))
        self.in_flight += 1
        self._writing = asyncio.ensure_future(self._write(controls, choices))
        await asyncio.shield(self._writing)

    async def _write(self, controls: Controls, choices: SavedChoices) -> None:
        try:
            written = await controls.save_settings(choices)
        except ConfigError as exc:
            self.last_error = str(exc)
            self._log(f"settings not saved: {exc}", "error")
            self._app.notify(str(exc), title="settings not saved", severity="error", timeout=10)
        except Exception as exc:  # a save must never take the UI down
            self.last_error = repr(exc)
            self._log(f"settings not saved: {exc!r}", "error")
            self._app.notify(repr(exc), title="settings not saved", severity="error", timeout=10)
        else:
            self.last_error = None
            if written:
                self._log(f"settings saved to {self.saved_file}", "info")
        finally:
            self.in_flight -= 1
            self.saves += 1

    async def finish(self) -> None:
        """Leaving: let a save already writing end, and save what is still waiting for its
        quiet time, now (within ``FINISH_WAIT_S`` in all)."""
        writing = self._writing if self._writing is not None and not self._writing.done() else None
        pending = self._timer is not None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if writing is None and not pending:
            return
        try:
            async with asyncio.timeout(FINISH_WAIT_S):
                if writing is not None:
                    await asyncio.shield(writing)
                if pending:
                    await self._save()
        except TimeoutError:
            if self._writing is not None:
                self._writing.cancel()  # given up on (a thread already writing still ends)
            self.last_error = f"the save was still running after {FINISH_WAIT_S:g} s"
            self._log(f"settings save not awaited: {self.last_error}", "error")
