"""``stop_event()``: an ``asyncio.Event`` set on SIGINT or SIGTERM, for the headless commands
that run until told to stop (``hlmon sim``, ``hlmon replay``, ``hlmon record``). No Textual."""

from __future__ import annotations

import asyncio
import signal


def stop_event() -> asyncio.Event:
    """An event the running loop sets on SIGINT/SIGTERM (call it inside the loop).

    Where signal handlers cannot be installed (not the main thread, or a platform without
    ``add_signal_handler``) the event is returned unwired: the caller's other stop conditions
    (a duration, KeyboardInterrupt) still apply.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    return stop
