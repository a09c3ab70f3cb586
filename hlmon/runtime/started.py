"""A backend entered before the UI starts: ``--coins`` is checked before anything is drawn.

The TUI normally enters its backend on mount, so the first frame never waits for the network.
When the user typed ``--coins`` (``settings.strict_watchlist``) an unlisted name must end the
run with exit 1 and a message *before* the screen is taken over: ``run_app`` enters the
``Runtime`` first (which waits for the market catalog and raises ``InputRejected``), then runs
the app on a ``StartedBackend`` whose entry hands over the running controls and whose exit
leaves the stop to the one who started it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from hlmon.config import Settings
from hlmon.runtime.controls import Backend, Controls
from hlmon.state import Store


class StartedBackend:
    """``backend``, already entered (its ``controls``); entering and leaving do nothing."""

    def __init__(self, backend: Backend, controls: Controls) -> None:
        self.backend = backend
        self.controls = controls

    @property
    def settings(self) -> Settings:
        return self.backend.settings

    @property
    def store(self) -> Store:
        return self.backend.store

    @property
    def clock(self) -> Callable[[], float]:
        return self.backend.clock

    @property
    def network(self) -> str:
        return self.backend.network

    @property
    def address(self) -> str | None:
        return self.backend.address

    async def __aenter__(self) -> Controls:
        return self.controls

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """The caller that entered the backend leaves it (after the app has stopped)."""
