"""Change keys that tell a listener when the first one arrives: how the UI learns there is
something to paint without polling, and without the store knowing what a UI is.

``Store.take_changes`` hands the reader the keys recorded since its last call and starts a new
set. With a listener registered (``Store.on_changes``) the new set is *armed*: the first key
added to it calls ``listener(urgent)`` and disarms it, so the listener runs once per
``take_changes``, never once per frame received. Keys the reader marked *urgent* (what the user
watches for latency: the selected coin's trades) call it once more, with ``True``, if they
arrive after a plain first key. Keys starting with one of the reader's *quiet* prefixes are
recorded but call nobody: the reader shows nothing that moves with them alone (the dashboard:
``bbo:*``), so it takes them with the next change it does show. Every write path of the store
records its keys with ``set.add``/``set.update``, so none can forget to notify.

The hot path pays nothing once told: an armed set is a ``set`` subclass whose ``add`` is Python
code only until it has told the listener everything it can; it then becomes a ``_QuietKeys``,
whose ``add`` is the builtin one again. Without a listener the sets are plain sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

Listener = Callable[[bool], None]
"""Called with ``urgent``, synchronously, by whoever records the change (normally the event
loop's thread; a listener that can be called from another thread must hand over itself)."""


def all_quiet(keys: Iterable[str], quiet: tuple[str, ...]) -> bool:
    """Whether every key of ``keys`` starts with one of the ``quiet`` prefixes (True when
    there are none): such keys call for no read on their own."""
    return all(key.startswith(quiet) for key in keys)


class _Keys(set[str]):
    """The common layout of the key sets below (so one can become another in place)."""

    __slots__ = ("listener", "quiet", "urgent")
    listener: Listener
    urgent: frozenset[str]
    quiet: tuple[str, ...]

    def _tell(self, urgent: bool) -> None:
        # From now on adds are the builtin ones, or watch for an urgent key only.
        if urgent or not self.urgent:
            self.__class__ = _QuietKeys
        else:
            self.__class__ = _UrgentKeys
        self.listener(urgent)


class _QuietKeys(_Keys):
    """A key set that has told its listener everything: plain ``set`` speed."""

    __slots__ = ()


class _UrgentKeys(_Keys):
    """Told of a first change already: tells again for the first urgent key."""

    __slots__ = ()

    def add(self, key: str) -> None:
        set.add(self, key)
        if key in self.urgent:
            self._tell(True)

    def update(self, *keys: Iterable[str]) -> None:
        set.update(self, *keys)
        if not self.urgent.isdisjoint(self):
            self._tell(True)


class _ArmedKeys(_Keys):
    """Empty since the last ``take_changes``: tells the listener about the first key."""

    __slots__ = ()

    def add(self, key: str) -> None:
        set.add(self, key)
        if not key.startswith(self.quiet):
            self._tell(key in self.urgent)

    def update(self, *keys: Iterable[str]) -> None:
        set.update(self, *keys)
        if not all_quiet(self, self.quiet):
            self._tell(not self.urgent.isdisjoint(self))


def new_keys(
    listener: Listener | None,
    urgent: frozenset[str] = frozenset(),
    quiet: tuple[str, ...] = (),
) -> set[str]:
    """An empty key set, armed for ``listener`` (a plain set when there is none); keys
    starting with a ``quiet`` prefix do not call it."""
    if listener is None:
        return set()
    keys = _ArmedKeys()
    keys.listener = listener
    keys.urgent = urgent
    keys.quiet = quiet
    return keys


def rearm(
    keys: set[str],
    listener: Listener | None,
    urgent: frozenset[str] = frozenset(),
    quiet: tuple[str, ...] = (),
) -> tuple[set[str], bool | None]:
    """``keys`` handed over to a new listener: ``(key set, tell)``, where ``tell`` is None when
    nothing is pending (or only quiet keys), else the ``urgent`` flag the caller must call the
    listener with now. The new set goes on watching for what it has not told yet."""
    new = new_keys(listener, urgent, quiet)
    set.update(new, keys)  # the builtin update: the caller tells the listener itself
    if all_quiet(keys, quiet):  # nothing pending, or quiet keys only
        return new, None
    told = not urgent.isdisjoint(keys)
    if isinstance(new, _Keys):
        new.__class__ = _QuietKeys if told or not urgent else _UrgentKeys
    return new, told


class _HealthKeys(Protocol):
    """What ``ChangeKeys`` needs of ``FeedHealth`` (which keeps change keys of its own)."""

    def take_changes(self) -> set[str]: ...

    def on_changes(self, listener: Listener | None) -> bool | None: ...


class ChangeKeys:
    """The store's change keys and their listener: a base class of ``Store`` (which sets the
    attributes), so ``take_changes`` stays a method of the store."""

    _changes: set[str]
    _listener: Listener | None
    _urgent: frozenset[str]
    _quiet: tuple[str, ...]
    _health_keys: _HealthKeys
    """The store's ``health`` (its keys come out of ``take_changes`` too)."""
    _key_sources: tuple[Callable[[], set[str]], ...]
    """Every ``take_changes`` of the store's parts (health, catalog) merged into its own."""

    def take_changes(self) -> set[str]:
        """Keys changed since the last call (and reset); re-arms the ``on_changes`` listener."""
        changes = self._changes
        self._changes = new_keys(self._listener, self._urgent, self._quiet)
        for take in self._key_sources:
            more = take()
            if more:
                changes = changes | more
        return changes

    def on_changes(
        self, listener: Listener | None, urgent: Iterable[str] = (), quiet: tuple[str, ...] = ()
    ) -> None:
        """Call ``listener(False)`` when a change is recorded and none was pending: once after
        each ``take_changes``, not once per frame (see ``changes``); ``listener(True)`` when
        one of the ``urgent`` keys is (once more, if a plain key came first). Keys starting
        with a ``quiet`` prefix are recorded without a call. None unregisters.

        The listener runs synchronously in the writer (the feeds' event loop): it should only
        schedule the read, e.g. a UI frame. Changes already pending call it at once.
        """
        self._listener = listener
        self._urgent = frozenset(urgent)
        self._quiet = quiet
        self._changes, tell = rearm(self._changes, listener, self._urgent, quiet)
        health_tell = self._health_keys.on_changes(listener)
        if listener is not None and (tell is not None or health_tell is not None):
            listener(bool(tell))
