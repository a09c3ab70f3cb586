"""How a chaos run tells a crash of hlmon from a network failure or a fault of the rig."""

from __future__ import annotations

import asyncio
import os
import traceback
from pathlib import Path
from typing import Any

BUG_EXCEPTIONS = (
    "KeyError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "NameError",
    "UnboundLocalError",
    "AssertionError",
    "ZeroDivisionError",
    "RecursionError",
    "InvalidOperation",
    "OverflowError",
    "UnicodeDecodeError",
    "ValueError",
    "NotImplementedError",
    "internal error",
    "could not apply",
)
"""A disconnect or log line naming one of these means our code raised (a crash). Network
failures (dropped, refused, reset, timed out, handshake 503) name other exceptions whatever
the websocket library, so a denylist survives a change of client."""


CHAOS_LOG_CAP = 1_000_000
"""Event log lines the chaos store keeps: all of them (the app keeps 500), since the report
looks for internal errors and odd disconnect reasons in every line."""


class CrashCounter:
    """A loop exception handler: every unhandled exception in a task or callback is counted.

    Errors whose traceback is entirely inside the simulator or aiohttp's server are counted
    apart (``sim_errors``): they are the test rig's, not hlmon's.
    """

    def __init__(self) -> None:
        self.hlmon: list[str] = []
        self.sim: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def uninstall(self) -> None:
        if self._loop is not None:
            self._loop.set_exception_handler(self._previous)

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", ""))
        text = f"{message}: {exc!r}" if exc is not None else message
        if exc is not None:
            files = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
            text += " @ " + " <- ".join(Path(f).name for f in files[-3:])
            ours = any(
                f"hlmon{os.sep}{part}" in f
                for f in files
                for part in ("feeds", "state", "protocol", "config", "ui", "snapshot")
            )
            if files and not ours:
                self.sim.append(text)
                return
        self.hlmon.append(text)
