"""A bounded, deduplicating collection of timestamped records (fills, fundings, ledger).

Records can arrive in any order and more than once: a ``userFills`` snapshot after every
reconnect repeats what the socket already delivered, REST reconciliation repeats both, and a
snapshot can hold fills older than live ones. So the ring is keyed (dedupe) and ordered by an
explicit sort key on read, and evicts the *oldest by time*, not the first inserted.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class DedupeRing(Generic[T]):
    """Keeps at most ``cap`` records, unique by ``key``, newest first by ``order`` on read."""

    def __init__(
        self,
        cap: int,
        key: Callable[[T], Hashable],
        order: Callable[[T], Any],
    ) -> None:
        """
        Args:
            cap: maximum number of records kept.
            key: identity for dedupe, e.g. ``(fill.tid, fill.oid)``.
            order: sort key, larger = newer, e.g. ``(fill.time, fill.tid)``.
        """
        self._cap = max(1, cap)
        self._key = key
        self._order = order
        self._items: dict[Hashable, T] = {}
        self._oldest: Any = None  # order key of the oldest kept record while full, else None
        self._newest: T | None = None
        self._sorted: list[T] | None = None  # cache, newest first; None when dirty

    def __len__(self) -> int:
        return len(self._items)

    @property
    def cap(self) -> int:
        """The most records kept (the oldest by time go first)."""
        return self._cap

    def __contains__(self, item: T) -> bool:
        return self._key(item) in self._items

    def add_many(self, items: Iterable[T]) -> int:
        """Merge records; returns how many were new *and kept* (a duplicate or a record older
        than everything in a full ring does not count)."""
        added: list[Hashable] = []
        store = self._items
        for item in items:
            k = self._key(item)
            if k in store:
                continue
            if self._oldest is not None and self._order(item) < self._oldest:
                continue  # would be evicted immediately
            store[k] = item
            added.append(k)
            if self._newest is None or self._order(item) > self._order(self._newest):
                self._newest = item
        if not added:
            return 0
        self._sorted = None
        if len(store) > self._cap:
            ordered = sorted(store.values(), key=self._order, reverse=True)
            for dropped in ordered[self._cap :]:
                del store[self._key(dropped)]
            self._sorted = ordered[: self._cap]
            self._fix_oldest()
            return sum(1 for k in added if k in store)
        if len(store) == self._cap:
            self._oldest = min(self._order(v) for v in store.values())
        return len(added)

    def _fix_oldest(self) -> None:
        if self._sorted is not None and len(self._sorted) >= self._cap:
            self._oldest = self._order(self._sorted[-1])

    def remove(self, item: T) -> bool:
        """Remove a record (by key); True if it was present."""
        if self._items.pop(self._key(item), None) is None:
            return False
        self._sorted = None
        self._oldest = None  # no longer full
        if self._newest is not None and self._key(self._newest) == self._key(item):
            self._newest = max(self._items.values(), key=self._order, default=None)
        return True

    def clear(self) -> None:
        self._items.clear()
        self._oldest = None
        self._newest = None
        self._sorted = None

    def newest_first(self) -> list[T]:
        """All records, newest first. Cached until the next change; callers get a copy."""
        if self._sorted is None:
            self._sorted = sorted(self._items.values(), key=self._order, reverse=True)
            self._fix_oldest()
        return list(self._sorted)

    @property
    def newest(self) -> T | None:
        """The newest record by ``order``, or None when empty."""
        return self._newest
