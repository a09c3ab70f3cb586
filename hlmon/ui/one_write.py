"""One terminal write per screen update.

Textual's ``App._display`` hands the driver three writes for each update: "begin synchronized
update", the update, "end synchronized update". The Linux driver queues each for its writer
thread, and every queued write wakes that thread, which writes and flushes it alone: three
wake-ups and three tty writes a frame, for sequences that reach the terminal together anyway.
Here the three are joined into one write, in the same order, so the terminal receives exactly
the same bytes. (py-spy put about 6 % of the ``stress`` samples on the queue's notify; a
microbenchmark of the put does not confirm that: what is saved is two wake-ups and two writes.)

Private API: ``App._display`` and ``App._driver`` (Textual is pinned in ``requirements.lock``;
``tests/ui/test_one_write.py`` fails if the display stops going through the driver's write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from textual.app import App
from textual.driver import Driver


class _Collected:
    """Stands in for the driver during one update: keeps the writes, forwards the rest."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self.parts: list[str] = []

    def write(self, data: str) -> None:
        self.parts.append(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def display_in_one_write(
    display: Callable[[Any, Any], None], app: App[Any], screen: Any, renderable: Any
) -> None:
    """Run Textual's ``display(screen, renderable)`` with its writes joined into one."""
    driver = app._driver
    if renderable is None or driver is None or app.is_headless:
        display(screen, renderable)
        return
    collected = _Collected(driver)
    app._driver = cast(Driver, collected)
    try:
        display(screen, renderable)
    finally:
        app._driver = driver
    if collected.parts:
        driver.write("".join(collected.parts))
