"""The REST poll planner: how often each wanted ``/info`` feed is polled within the weight budget.

Pure arithmetic (no I/O, no clock): given the budget per minute, a reserve share kept back for
reconciliation and the catalog, and the wanted feeds (each a ``PollKey``, a ``Priority``, a
desired cadence, a floor cadence and an expected weight per poll), ``plan_rest`` returns a
``RestPlan``: per feed an interval, its weight per minute and a state (``ok``, ``stretched``,
``not served``), plus a one-line human summary.

The budget left after the reserve is spent in three passes, each with what the last one left:

1. the selected coin's book (``Priority.SELECTED_COIN``) at its cadence: it is cheap (60 w/min
   at 2 s) and the one feed whose cadence must survive any number of dexes and accounts;
2. every other feed at its *floor* (``max_interval``, 5 min by default), in priority order. A
   feed whose floor no longer fits is *not served*: the lowest priorities are dropped first,
   and only when even the floors do not fit;
3. the rest raises every class back towards its cadence together, on one scale: a class's
   feeds are stretched by ``factor * CLASS_STRETCH[class]`` (at least 1, capped at each feed's
   floor), with the smallest ``factor`` that fits. A lower class weighs more, so it is stretched
   first as feeds are added and always at least as far as a class above it; but a class above
   gives way before a class below is pushed to its floor. Strict priority did the opposite:
   with the selected account on three dexes its state (every 4.8 s) took the whole budget and
   the selected coin's trades, the fills and the contexts fell to their 5 min floor.

Within a class, the order of the wanted feeds is their importance (used to decide who is
dropped first among equals, and to order due polls). The planned weight per minute never
exceeds ``budget * (1 - reserve_share)``. It is a long-run average: the rolling-window
``WeightBudget`` stays the hard limit on what is actually sent.

One-off requests (``userRole``, ``userAbstraction``, ``portfolio`` on adding an account, the
catalog reload) are not planned: they are paid from the reserve.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from fractions import Fraction

from hlmon.protocol import info

# --------------------------------------------------------------------------- weights

DEFAULT_BUDGET = 600
"""hlmon's share of the exchange's 1200 weight per minute per IP."""

DEFAULT_RESERVE_SHARE = 0.2
"""Share of the budget kept back for reconciliation, catalog reloads and one-off calls."""

DEFAULT_MAX_INTERVAL = 300.0
"""Longest interval a served feed is stretched to (its floor)."""


def poll_weight(kind: str, expected_items: int = 0) -> int:
    """Expected weight of one ``kind`` call whose answer holds ``expected_items`` items, by
    the protocol's table (2026 protocol page §7), the one every request is charged by."""
    return info.base_weight(kind) + info.extra_weight(kind, expected_items)


# --------------------------------------------------------------------------- wanted feeds


@dataclass(frozen=True, order=True)
class PollKey:
    """One periodic ``/info`` call: its ``type`` and its fixed parameters.

    The wiring maps a key to an ``InfoRequest`` (moving parameters such as a fills cursor or
    a book precision are added there). ``dex`` is ``""`` for the default dex.
    """

    kind: str
    params: tuple[tuple[str, str], ...] = ()
    base_weight: int = field(default=info.DEFAULT_WEIGHT, compare=False)

    @classmethod
    def of(cls, kind: str, **params: str) -> PollKey:
        """The key for ``kind`` with ``params`` (sorted, so equal calls give equal keys)."""
        return cls(kind, tuple(sorted(params.items())), info.base_weight(kind))

    def param(self, name: str) -> str | None:
        """The value of parameter ``name``, None when absent."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def __str__(self) -> str:
        inner = ",".join(f"{k}={v or 'default'}" for k, v in self.params)
        return f"{self.kind}({inner})" if inner else self.kind


class Priority(IntEnum):
    """Who gets the budget first (lower value first)."""

    SELECTED_COIN = 1
    """The selected coin's book (and the bbo read from it): kept at its cadence while it fits."""
    SELECTED_ACCOUNT = 2
    """The selected account's state (per active dex, spot) and open orders."""
    AT_RISK = 3
    """Other accounts near liquidation or with positions: state and orders."""
    MARKET = 4
    """Contexts and mids per dex, the selected coin's trades, the account's fills and fundings."""
    BACKGROUND = 5
    """Idle accounts: state every few minutes."""


PROTECTED = Priority.SELECTED_COIN
"""The class planned at its cadence before any other feed gets its floor."""

CLASS_STRETCH: dict[Priority, Fraction] = {
    Priority.SELECTED_COIN: Fraction(1),  # planned alone, before the others (pass 1)
    Priority.SELECTED_ACCOUNT: Fraction(1),
    Priority.AT_RISK: Fraction(3, 2),
    Priority.MARKET: Fraction(2),
    Priority.BACKGROUND: Fraction(4),
}
"""How far each class is stretched for one step of the planner's factor (pass 3): under one
budget, market data waits twice as many cadences as the selected account's state."""


@dataclass(frozen=True)
class WantedFeed:
    """A feed the screen wants served over REST.

    Attributes:
        key: the call that serves it (unique within one plan).
        priority: its class.
        cadence: desired seconds between polls (its freshness threshold or push cadence).
        weight: expected weight per poll (``poll_weight``).
        label: short name grouping feeds in the summary (``"ctx"``, ``"other accounts"``).
        max_interval: the longest interval it may be stretched to before it is dropped.
    """

    key: PollKey
    priority: Priority
    cadence: float
    weight: float
    label: str
    max_interval: float = DEFAULT_MAX_INTERVAL

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cadence) and self.cadence > 0):
            raise ValueError(f"{self.key}: cadence must be a positive number, got {self.cadence}")
        if not (math.isfinite(self.max_interval) and self.max_interval >= self.cadence):
            raise ValueError(
                f"{self.key}: max_interval {self.max_interval} must be at least the cadence "
                f"{self.cadence}"
            )
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"{self.key}: weight must be positive, got {self.weight}")

    @property
    def desired_rate(self) -> float:
        """Weight per minute at its cadence."""
        return self.weight * 60.0 / self.cadence

    @property
    def floor_rate(self) -> float:
        """Weight per minute at its longest interval."""
        return self.weight * 60.0 / self.max_interval


# --------------------------------------------------------------------------- the plan


class PlanState(Enum):
    """How a feed fares in the plan."""

    OK = "ok"
    """Polled at its cadence."""
    STRETCHED = "stretched"
    """Polled, less often than its cadence."""
    NOT_SERVED = "not served"
    """Not polled: not even its floor fits."""


@dataclass(frozen=True)
class PlannedFeed:
    """One feed's place in the plan (``interval`` is None and the rate 0 when not served)."""

    feed: WantedFeed
    interval: float | None
    weight_per_min: float
    state: PlanState

    @property
    def key(self) -> PollKey:
        return self.feed.key


@dataclass(frozen=True)
class RestPlan:
    """The planned cadence of every wanted feed, highest priority first."""

    budget: int
    reserve_share: float
    entries: tuple[PlannedFeed, ...]
    _index: dict[PollKey, PlannedFeed] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {e.key: e for e in self.entries})

    @property
    def available(self) -> float:
        """Weight per minute the plan may spend (budget minus the reserve)."""
        return self.budget * (1.0 - self.reserve_share)

    @property
    def weight_per_min(self) -> float:
        """Planned weight per minute over every served feed."""
        return sum(e.weight_per_min for e in self.entries)

    @property
    def degraded(self) -> bool:
        """True when some feed is stretched or not served."""
        return any(e.state is not PlanState.OK for e in self.entries)

    def entry(self, key: PollKey) -> PlannedFeed | None:
        """The plan of ``key``; None when it is not wanted."""
        return self._index.get(key)

    def served(self) -> list[PlannedFeed]:
        return [e for e in self.entries if e.interval is not None]

    def summary(self) -> str:
        """One line, e.g. ``REST plan: 452/600 w/min (120 reserved); book BTC every 2 s; …``."""
        reserved = self.budget - self.available
        head = f"REST plan: {self.weight_per_min:.0f}/{self.budget} w/min ({reserved:.0f} reserved)"
        return "; ".join([head, *(_describe_group(g) for g in _groups(self.entries))])


def plan_rest(
    feeds: Iterable[WantedFeed],
    *,
    budget: int = DEFAULT_BUDGET,
    reserve_share: float = DEFAULT_RESERVE_SHARE,
) -> RestPlan:
    """Choose every feed's interval within ``budget * (1 - reserve_share)`` weight per minute.

    Raises:
        ValueError: a bad budget or reserve share, or two feeds with the same key.
    """
    if budget < 1:
        raise ValueError(f"budget must be at least 1 weight per minute, got {budget}")
    if not (0.0 <= reserve_share < 1.0):
        raise ValueError(f"reserve_share must be in [0, 1), got {reserve_share}")
    ordered = _ordered(feeds)
    # Exact rationals: an exact fit is admitted, and float rounding can never tip the sum of
    # the planned rates over the budget.
    remaining = Fraction(budget) * (1 - Fraction(reserve_share))
    intervals: dict[PollKey, float] = {}

    protected = [f for f in ordered if f.priority is PROTECTED]
    others = [f for f in ordered if f.priority is not PROTECTED]
    # Pass 1: the protected class at its cadence, else as much of it as fits.
    served_protected = _admit(protected, remaining)
    remaining -= _place(served_protected, remaining, intervals)
    # Pass 2: everything else at its floor, by priority; what does not fit is not served.
    served_others = _admit(others, remaining)
    remaining -= sum((_floor_rate(f) for f in served_others), Fraction(0))
    # Pass 3: the rest raises every class from its floor towards its cadence on one scale,
    # lower classes stretched further (``CLASS_STRETCH``).
    floors = sum((_floor_rate(f) for f in served_others), Fraction(0))
    _place(served_others, remaining + floors, intervals)
    entries = tuple(_entry(f, intervals.get(f.key)) for f in ordered)
    return RestPlan(budget, reserve_share, entries)


def _ordered(feeds: Iterable[WantedFeed]) -> list[WantedFeed]:
    """Feeds by priority, stable within a class; duplicate keys are an error."""
    listed = list(feeds)
    seen: set[PollKey] = set()
    for f in listed:
        if f.key in seen:
            raise ValueError(f"feed {f.key} is wanted twice")
        seen.add(f.key)
    return sorted(listed, key=lambda f: f.priority)


def _rate(f: WantedFeed, interval: float) -> Fraction:
    return _per_minute(f.weight, interval)


@functools.lru_cache(maxsize=1024)
def _per_minute(weight: float, interval: float) -> Fraction:
    # Cached: a re-plan (each selection change, each step of the REST cut) plans the same
    # feeds again, and the exact rational of a float has a denominator near 2**52, slow to
    # build and divide. The same inputs give the same Fraction: nothing else changes.
    return Fraction(weight) * 60 / Fraction(interval)


def _desired_rate(f: WantedFeed) -> Fraction:
    return _rate(f, f.cadence)


def _floor_rate(f: WantedFeed) -> Fraction:
    return _rate(f, f.max_interval)


def _admit(feeds: Sequence[WantedFeed], room: Fraction) -> list[WantedFeed]:
    """Feeds whose floors fit in ``room``, most important first (a later, lighter one may
    still fit where a heavier one did not)."""
    admitted: list[WantedFeed] = []
    used = Fraction(0)
    for f in feeds:
        floor = _floor_rate(f)
        if used + floor <= room:
            admitted.append(f)
            used += floor
    return admitted


def _place(feeds: Sequence[WantedFeed], room: Fraction, out: dict[PollKey, float]) -> Fraction:
    """Stretch ``feeds`` (whose floors fit in ``room``) on one factor (``_graded_factor``),
    store their intervals in ``out`` and return the weight per minute they spend (at most
    ``room``)."""
    factor = _graded_factor(feeds, room)
    spent = Fraction(0)
    for f in feeds:
        interval = _interval(f, _class_factor(f, factor))
        out[f.key] = interval
        spent += _rate(f, interval)
    return spent


def _cap_factor(f: WantedFeed) -> Fraction:
    return _ratio(f.max_interval, f.cadence)


@functools.lru_cache(maxsize=1024)
def _ratio(a: float, b: float) -> Fraction:
    return Fraction(a) / Fraction(b)


def _class_factor(f: WantedFeed, factor: Fraction) -> Fraction:
    """The stretch of ``f`` at the planner's ``factor``: its class's share of it, at least 1
    (its cadence), at most its cap (its floor)."""
    return min(max(Fraction(1), factor * CLASS_STRETCH[f.priority]), _cap_factor(f))


def _graded_factor(feeds: Sequence[WantedFeed], room: Fraction) -> Fraction:
    """The smallest factor at which ``feeds``, each stretched by ``_class_factor``, spend at
    most ``room`` per minute (0: all fit at their cadence). Their floors must fit in ``room``.

    The spend falls as the factor grows, one piece at a time: a feed costs its desired rate
    until ``factor * stretch`` passes 1, then ``desired / (factor * stretch)`` until it reaches
    its cap, then its floor rate. Between those points the spend is ``fixed + scaled / factor``,
    solved exactly for the factor."""
    fixed = sum((_desired_rate(f) for f in feeds), Fraction(0))
    if fixed <= room:
        return Fraction(0)
    events: list[tuple[Fraction, Fraction, Fraction]] = []
    """(factor, change of ``fixed``, change of ``scaled``) where a feed changes piece."""
    for f in feeds:
        stretch = CLASS_STRETCH[f.priority]
        desired, scaled = _desired_rate(f), _desired_rate(f) / stretch
        cap = _cap_factor(f)
        if cap > 1:
            events.append((1 / stretch, -desired, scaled))
            events.append((cap / stretch, _floor_rate(f), -scaled))
        else:  # never stretched: from its cadence straight to its floor (the same rate)
            events.append((1 / stretch, _floor_rate(f) - desired, Fraction(0)))
    events.sort(key=lambda e: e[0])
    scaled = Fraction(0)
    for i, (at, d_fixed, d_scaled) in enumerate(events):
        fixed += d_fixed
        scaled += d_scaled
        end = events[i + 1][0] if i + 1 < len(events) else None
        if fixed + (scaled / at if scaled else 0) <= room:
            return at  # fits the moment this piece starts
        if scaled and room > fixed:
            factor = scaled / (room - fixed)
            if end is None or factor <= end:
                return factor
    return events[-1][0]  # every feed at its floor


def _interval(f: WantedFeed, factor: Fraction) -> float:
    """The feed's interval for ``factor``, rounded up to the millisecond (never shorter than
    the exact one, so the rate never exceeds what was planned)."""
    if factor == 1:
        return f.cadence
    if factor >= _cap_factor(f):
        return f.max_interval
    exact = Fraction(f.cadence) * factor
    interval = math.ceil(exact * 1000) / 1000
    while Fraction(interval) < exact:  # the float of n/1000 may sit a hair below it
        interval = math.nextafter(interval, math.inf)
    return min(interval, f.max_interval)


def _entry(f: WantedFeed, interval: float | None) -> PlannedFeed:
    if interval is None:
        return PlannedFeed(f, None, 0.0, PlanState.NOT_SERVED)
    state = PlanState.OK if interval == f.cadence else PlanState.STRETCHED
    return PlannedFeed(f, interval, f.weight * 60.0 / interval, state)


# --------------------------------------------------------------------------- summary


def _groups(entries: Sequence[PlannedFeed]) -> list[list[PlannedFeed]]:
    """Entries grouped by label, in order of first appearance."""
    groups: dict[str, list[PlannedFeed]] = {}
    for e in entries:
        groups.setdefault(e.feed.label, []).append(e)
    return list(groups.values())


def _describe_group(group: Sequence[PlannedFeed]) -> str:
    label = group[0].feed.label
    served = [e.interval for e in group if e.interval is not None]
    if not served:
        return f"{label} not served"
    low, high = format_interval(min(served)), format_interval(max(served))
    when = low
    if high != low:
        # "6–9 s" when both are in seconds, else "30 s–5 min".
        when = (
            f"{low.removesuffix(' s')}–{high}"
            if low.endswith(" s") and high.endswith(" s")
            else f"{low}–{high}"
        )
    notes = []
    if any(e.state is PlanState.STRETCHED for e in group):
        notes.append("stretched")
    dropped = len(group) - len(served)
    if dropped:
        notes.append(f"{dropped} of {len(group)} not served")
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{label} every {when}{suffix}"


def format_interval(seconds: float) -> str:
    """``2 s``, ``2.5 s``, ``83 s``, ``2.5 min``, ``5 min``."""
    if seconds >= 120:
        return _trim(seconds / 60) + " min"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    return _trim(seconds) + " s"


def _trim(value: float) -> str:
    """One decimal at most, without a trailing ``.0``."""
    return f"{value:.1f}".removesuffix(".0")
