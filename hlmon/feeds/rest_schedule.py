"""When each planned REST feed is due, with backoff after a refused or failed poll (pure).

``RestScheduler`` holds the wanted feeds, their current ``RestPlan`` (re-planned whenever the
feeds or the budget change) and, per feed, when its last poll was *sent*. ``due()`` lists the
feeds to poll now, highest priority first, in a fixed order with no jitter.

A poll that was refused (HTTP 429, or the local weight budget had no room) or failed pushes
that feed's next due back: by ``Retry-After`` when given, else exponentially (``initial``,
doubled per consecutive failure, up to ``cap``), and never earlier than its planned interval.

What this module deliberately does not know is how old a feed's data is. It records when a
poll was sent, never when data arrived, and offers nothing that could refresh an as-of time:
a refused poll leaves the feed's age growing in the Store until the screen shows it stale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hlmon.feeds.rest_plan import (
    DEFAULT_BUDGET,
    DEFAULT_RESERVE_SHARE,
    PollKey,
    RestPlan,
    WantedFeed,
    plan_rest,
)

BACKOFF_INITIAL = 2.0
"""Seconds of the first backoff after a refused or failed poll."""
BACKOFF_CAP = 120.0
"""Longest exponential backoff."""
RETRY_AFTER_CAP = 600.0
"""A Retry-After (or budget wait) longer than this is honoured only up to it."""


@dataclass
class _PollRecord:
    sent_at: float | None = None
    """When the last poll was sent: scheduling only, never an as-of time."""
    in_flight: bool = False
    failures: int = 0
    """Consecutive refused or failed polls."""
    not_before: float = -math.inf


class RestScheduler:
    """Plans the wanted feeds and says which are due; the caller does the polling."""

    def __init__(
        self,
        feeds: Iterable[WantedFeed] = (),
        *,
        clock: Callable[[], float],
        budget: int = DEFAULT_BUDGET,
        reserve_share: float = DEFAULT_RESERVE_SHARE,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_cap: float = BACKOFF_CAP,
    ) -> None:
        """
        Args:
            feeds: the wanted feeds, most important first within a class.
            clock: monotonic seconds.
            budget: weight per minute hlmon may spend.
            reserve_share: share of it kept back for reconciliation and the catalog.
            backoff_initial: first backoff after a refused or failed poll, in seconds.
            backoff_cap: longest exponential backoff, in seconds.
        """
        if not (0 < backoff_initial <= backoff_cap):
            raise ValueError("backoff needs 0 < backoff_initial <= backoff_cap")
        self._clock = clock
        self._budget = budget
        self._reserve_share = reserve_share
        self.backoff_initial = backoff_initial
        self.backoff_cap = backoff_cap
        self._feeds: tuple[WantedFeed, ...] = tuple(feeds)
        self._plan = plan_rest(self._feeds, budget=budget, reserve_share=reserve_share)
        self._records: dict[PollKey, _PollRecord] = {f.key: _PollRecord() for f in self._feeds}

    # ------------------------------------------------------------------ planning

    @property
    def plan(self) -> RestPlan:
        """The current plan."""
        return self._plan

    @property
    def feeds(self) -> tuple[WantedFeed, ...]:
        return self._feeds

    def set_feeds(self, feeds: Iterable[WantedFeed]) -> bool:
        """Want exactly ``feeds`` from now on; re-plans and returns True when they changed.

        Feeds kept keep their poll history (a feed is not polled again early because another
        was added); feeds removed are forgotten.
        """
        wanted = tuple(feeds)
        if wanted == self._feeds:
            return False
        plan = plan_rest(wanted, budget=self._budget, reserve_share=self._reserve_share)
        self._feeds, self._plan = wanted, plan
        self._records = {f.key: self._records.get(f.key, _PollRecord()) for f in wanted}
        return True

    def add(self, feed: WantedFeed) -> bool:
        """Want ``feed`` too (replacing a feed with the same key); True when the plan changed."""
        kept = [feed if f.key == feed.key else f for f in self._feeds]
        if feed.key not in self._records:
            kept.append(feed)
        return self.set_feeds(kept)

    def remove(self, key: PollKey) -> bool:
        """Stop wanting ``key``; True when it was wanted."""
        return self.set_feeds(f for f in self._feeds if f.key != key)

    def set_budget(self, budget: int, reserve_share: float | None = None) -> bool:
        """Re-plan for a new budget (and reserve share); True when either changed."""
        share = self._reserve_share if reserve_share is None else reserve_share
        if (budget, share) == (self._budget, self._reserve_share):
            return False
        self._plan = plan_rest(self._feeds, budget=budget, reserve_share=share)
        self._budget, self._reserve_share = budget, share
        return True

    # ------------------------------------------------------------------ scheduling

    def next_due(self, key: PollKey) -> float | None:
        """Clock time ``key`` is next due; None when it is not served, unknown or in flight."""
        entry = self._plan.entry(key)
        record = self._records.get(key)
        if entry is None or entry.interval is None or record is None or record.in_flight:
            return None
        planned = -math.inf if record.sent_at is None else record.sent_at + entry.interval
        return max(planned, record.not_before)

    def due_now(self, key: PollKey) -> None:
        """Make ``key`` due at once (a backoff still holds): it serves something new that has
        no data yet, which must not wait out an interval planned for what it served before."""
        record = self._records.get(key)
        if record is not None:
            record.sent_at = None

    def due(self, allowance: float | None = None) -> list[PollKey]:
        """Feeds to poll now, highest priority first (then in the order they were wanted).

        With ``allowance`` (weight the budget can take right now), the list stops at the first
        due feed that no longer fits, so a cheap low-priority poll never overtakes a costly
        higher one.
        """
        now = self._clock()
        out: list[PollKey] = []
        left = math.inf if allowance is None else allowance
        for entry in self._plan.entries:
            when = self.next_due(entry.key)
            if when is None or when > now:
                continue
            if entry.feed.weight > left:
                break
            left -= entry.feed.weight
            out.append(entry.key)
        return out

    def seconds_until_due(self) -> float | None:
        """Seconds until the next feed is due (0 if one is due now); None when nothing is."""
        times = [t for t in (self.next_due(e.key) for e in self._plan.entries) if t is not None]
        if not times:
            return None
        return max(0.0, min(times) - self._clock())

    def failures(self, key: PollKey) -> int:
        """Consecutive refused or failed polls of ``key`` (0 after a success)."""
        record = self._records.get(key)
        return 0 if record is None else record.failures

    # ------------------------------------------------------------------ outcomes

    def note_sent(self, key: PollKey) -> None:
        """A poll of ``key`` was sent now: it is not due again until it ends.

        Raises:
            KeyError: ``key`` is not wanted.
        """
        record = self._records[key]
        record.sent_at = self._clock()
        record.in_flight = True

    def note_success(self, key: PollKey) -> None:
        """The poll of ``key`` was answered: next due one interval after it was sent.

        A key no longer wanted (removed while in flight) is ignored.
        """
        record = self._records.get(key)
        if record is None:
            return
        record.in_flight = False
        record.failures = 0
        record.not_before = -math.inf

    def note_failure(self, key: PollKey, *, retry_after: float | None = None) -> float | None:
        """The poll of ``key`` was refused (429, budget) or failed: back off.

        Args:
            retry_after: seconds the server (``Retry-After``) or the budget asked to wait;
                None for the exponential backoff.

        Returns:
            The clock time ``key`` is due again (None when it is no longer wanted).
        """
        record = self._records.get(key)
        if record is None:
            return None
        now = self._clock()
        record.in_flight = False
        record.failures += 1
        if retry_after is not None and not math.isnan(retry_after):
            delay = min(max(retry_after, 0.0), RETRY_AFTER_CAP)
        else:
            exponent = min(record.failures - 1, 62)
            delay = min(self.backoff_cap, self.backoff_initial * float(2**exponent))
        record.not_before = now + delay
        return self.next_due(key)
