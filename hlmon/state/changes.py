"""Change keys that tell a listener when the first one arrives: how the UI learns there is
something to paint without polling, and without the store knowing what a UI is.

``Store.take_changes`` hands the reader the keys recorded since its last call and starts a new
set. With a listener registered (``Store.on_changes``) the new set is *armed*: the first key
added to it calls the listener once and disarms it, so the listener runs once per
``take_changes``, never once per frame received. Every write path of the store records its keys
with ``set.add``/``set.update``, so none can forget to notify.

The hot path pays nothing: an armed set is a ``set`` subclass whose ``add`` is Python code only
until its first key; it then becomes a ``_QuietKeys``, whose ``add`` is the builtin one again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Listener = Callable[[], None]
"""Called with no arguments, synchronously, by whoever records the first change (normally the
event loop's thread; a listener that can be called from another thread must hand over itself)."""


class _Keys(set[str]):
    """The common layout of armed and quiet key sets (so one can become the other)."""

    __slots__ = ("listener",)
    listener: Listener | None


class _QuietKeys(_Keys):
    """A key set that notifies nobody: plain ``set`` speed."""

    __slots__ = ()


class _ArmedKeys(_Keys):
    """A key set that calls its listener when its first key arrives, then goes quiet."""

    __slots__ = ()

    def _fire(self) -> None:
        # From now on adds are the builtin ones (same layout: the class can change in place).
        self.__class__ = _QuietKeys  # type: ignore[assignment]
        listener = self.listener
        if listener is not None:
            listener()

    def add(self, key: str) -> None:
        set.add(self, key)
        self._fire()

    def update(self, *keys: Iterable[str]) -> None:
        set.update(self, *keys)
        if self:
            self._fire()


def new_keys(listener: Listener | None) -> set[str]:
    """An empty key set, armed for ``listener`` (a plain set when there is none)."""
    if listener is None:
        return set()
    keys = _ArmedKeys()
    keys.listener = listener
    return keys


def rearm(keys: set[str], listener: Listener | None) -> set[str]:
    """``keys`` with a new listener: armed when empty, else a plain copy (the caller tells the
    new listener about the pending keys itself)."""
    return set(keys) if keys else new_keys(listener)
