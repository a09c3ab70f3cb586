"""The event loop hlmon's commands run on: uvloop's when it is installed, else asyncio's own.

uvloop (libuv under asyncio's API) takes about 0.2 point of a core off the TUI under the
``stress`` profile (issue #16; 12 interleaved pairs, 8.72 -> 8.53 %). The setting
``event_loop`` (``$HLMON_EVENT_LOOP``) chooses: ``auto`` (the default: uvloop when
importable), ``uvloop`` or ``asyncio``.

The loop is chosen per run through ``asyncio.Runner``'s ``loop_factory``, not by installing a
global loop policy: nothing outside the run changes (the tests, another caller in the same
process), and loop policies are deprecated from Python 3.14. uvloop is imported only when a
command starts its loop, never by ``--help``. A leaf module: it imports nothing from hlmon.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

logger = logging.getLogger("hlmon.event_loop")

EVENT_LOOPS: tuple[str, ...] = ("auto", "uvloop", "asyncio")
"""The values of the ``event_loop`` setting."""

T = TypeVar("T")


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the loop ``choice`` names; None means asyncio's default loop.

    ``auto`` falls back to asyncio when uvloop cannot be imported (Windows, or not installed);
    ``uvloop`` asked for by name and missing raises the ``ImportError``.
    """
    if choice not in EVENT_LOOPS:
        raise ValueError(f"event loop: expected one of {', '.join(EVENT_LOOPS)}, got {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: which implementation ``loop`` is (read from its type)."""
    return "uvloop" if type(loop).__module__.partition(".")[0] == "uvloop" else "asyncio"


def running_loop_name() -> str:
    """The name of the loop the caller runs on (called from inside a coroutine)."""
    return loop_name(asyncio.get_running_loop())


def run(main: Coroutine[Any, Any, T], choice: str = "auto") -> T:
    """``asyncio.run(main)`` on the loop ``choice`` names (one of :data:`EVENT_LOOPS`); the
    loop in use is logged (INFO, ``event loop: uvloop``)."""
    try:
        factory = loop_factory(choice)
    except BaseException:
        main.close()  # never awaited: no "coroutine was never awaited" warning on top
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        logger.info("event loop: %s", loop_name(runner.get_loop()))
        return runner.run(main)
