"""What one round of a rebuild built, by key, for the next round to reuse.

A pane's rows and the store's position views are rebuilt from a list several times a second
under load, while most items did not change: a position is replaced on every push, never
changed in place, so the same position object at the same marks has the same view; the same
order with the same flag on the same day has the same row. ``RoundMemo`` keeps the last round's
values by key with the inputs they were built from, and hands a value back when the inputs are
the same: the first input by identity (the item, which is never changed in place), the others
by equality. It holds the last round's entries only: bounded by the list. A leaf module (it
imports nothing from hlmon), used by ``state`` and ``ui`` alike.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RoundMemo(Generic[K, V]):
    """See the module docstring. ``begin()`` starts a round; ``get`` answers within it."""

    def __init__(self) -> None:
        self._last: dict[K, tuple[tuple[object, ...], V]] = {}
        self._now: dict[K, tuple[tuple[object, ...], V]] = {}

    def begin(self, keep: bool = True) -> None:
        """A new round: what the last one built is reusable (unless not ``keep``: what it was
        built for changed as a whole), and only until the next."""
        self._last, self._now = (self._now if keep else {}), {}

    def clear(self) -> None:
        """Forget everything (the next round builds every value)."""
        self._last, self._now = {}, {}

    def get(self, key: K, inputs: tuple[object, ...], build: Callable[[], V]) -> V:
        """The value for ``key``: the last round's when built from the same ``inputs``, else
        ``build()``'s."""
        held = self._last.get(key)
        value = held[1] if held is not None and _same(held[0], inputs) else build()
        self._now[key] = (inputs, value)
        return value

    def __len__(self) -> int:
        """Entries of the current round."""
        return len(self._now)

    def __getitem__(self, key: K) -> V:
        """The current round's value for ``key``."""
        return self._now[key][1]


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    return not old if not new else old[0] is new[0] and old[1:] == new[1:]
