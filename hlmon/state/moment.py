"""One moment of the ``Store`` (a base class, like the ingest halves): reads inside
``one_moment`` judge what time alone changes (which marks are fresh, each feed's status) once,
not at every read.

A UI frame is such a moment: it reads the positions, their totals and the dex summaries some
ten times, and each feed's status up to six times (the status line, the panes' marks, the
header, the dex line). Outside a moment every read judges again, on the clock of that read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .health import FeedHealth
from .types import Clock, FeedStatus, PositionView, Stamp


class OneMoment:
    """``one_moment`` and the judgements it holds (see the module docstring)."""

    # Set by Store.__init__.
    _stamps: dict[str, Stamp]
    _clock: Clock
    _moment_views: list[PositionView] | None = None
    """The rows judged in the current moment (valid while they are the cached rows)."""
    _moment_statuses: dict[str, tuple[Stamp | None, FeedStatus]] | None = None
    """Inside ``one_moment`` (None outside): feed key -> (its stamp when judged, its status).
    Only the keys one frame reads (tens), dropped when the moment ends."""
    _moment_clock: tuple[float, bool] | None = None
    """(now, socket alive) of the moment's first status judgement: every status of the moment
    is judged at that time."""

    if TYPE_CHECKING:  # the Store provides them
        health: FeedHealth

        def _classify(self, feed_key: str, now: float, socket_alive: bool) -> FeedStatus:
            """``feed_key``'s status at ``now``."""

    @contextmanager
    def one_moment(self) -> Iterator[None]:
        """Reads inside the block are of one moment: which marks are fresh and each feed's
        status are judged at the first read, not again at each (a UI frame reads the
        positions, their totals and the dex summaries some ten times). For a reader that runs
        synchronously, as a frame does in the event loop: no write lands inside; one that
        did would drop the rows anyway, and a feed whose stamp it replaced is judged again."""
        self._moment_views, self._moment_statuses, self._moment_clock = None, {}, None
        try:
            yield
        finally:
            self._moment_views, self._moment_statuses, self._moment_clock = None, None, None

    @property
    def _in_moment(self) -> bool:
        return self._moment_statuses is not None

    def _judged_at(self) -> tuple[float, bool]:
        """(now, socket alive) of the moment: taken at its first status judgement."""
        at = self._moment_clock
        if at is None:
            now = self._clock()
            at = self._moment_clock = (now, self.health.socket_alive(now))
        return at

    def _judge_all(
        self, feed_keys: list[str], held: dict[str, tuple[Stamp | None, FeedStatus]]
    ) -> dict[str, FeedStatus]:
        """``_judge`` of each key inside a moment (``held``: its statuses)."""
        now, alive = self._judged_at()
        return {key: self._judge_held(key, held, now, alive) for key in feed_keys}

    def _judge(self, feed_key: str) -> FeedStatus:
        """The status of ``feed_key``: judged now outside a moment, once inside one."""
        held = self._moment_statuses
        if held is None:
            now = self._clock()
            return self._classify(feed_key, now, self.health.socket_alive(now))
        return self._judge_held(feed_key, held, *self._judged_at())

    def _judge_held(
        self,
        feed_key: str,
        held: dict[str, tuple[Stamp | None, FeedStatus]],
        now: float,
        alive: bool,
    ) -> FeedStatus:
        """The moment's status of ``feed_key``: the one judged already unless its stamp was
        replaced since (a push within the moment)."""
        stamp = self._stamps.get(feed_key)
        judged = held.get(feed_key)
        if judged is not None and judged[0] is stamp:
            return judged[1]
        status = self._classify(feed_key, now, alive)
        held[feed_key] = (stamp, status)
        return status
