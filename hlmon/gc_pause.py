"""Start-up without the cyclic garbage collector in the way.

Starting the TUI creates some 100,000 objects that live as long as the process (modules,
classes, styles); the collector walks them again and again while they are being made (some 250
collections, 10-15 % of the time to the first frame). ``pause()`` stops automatic collection;
``resume()`` freezes what exists (``gc.freeze``: later collections skip it, which also makes the
TUI's own collections cheaper) and turns collection back on.

The ``hlmon`` console script pauses before importing anything; the TUI resumes after its first
paint, every other command at once. Resuming when nothing was paused does nothing, so library
use (the tests) never runs with the collector off.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collection until ``resume()`` (only if it is on now)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze the objects made so far and collect automatically again (if ``pause`` stopped it)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    """Whether ``pause()`` has stopped collection and ``resume()`` has not restarted it."""
    return _paused
