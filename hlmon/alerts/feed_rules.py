"""Rules about the data itself rather than the market: the dead-man's switch (``DeadMan``) and
the data-lag rule (``DataLag``).

Both look every evaluation (staleness is the *absence* of changes), but walking every feed's
freshness on every frame is what a busy screen cannot afford (issue #16): they keep their last
answer and look again at most every second (sooner for a threshold of a few seconds), on any
evaluation whose changes are unknown, and on any change while past the level (arriving data may
clear it). See :func:`hlmon.alerts.check.reuse_last`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlmon.alerts.check import Check, remember, reuse_last, threshold_check
from hlmon.state.freshness import feed_kind, is_periodic, stale_age, stale_for
from hlmon.state.types import FeedState, FeedStatus

if TYPE_CHECKING:
    from hlmon.state import Store

_LOOK_EVERY_S = 1.0
_FLAT = "no open positions"
_ACCOUNT = frozenset(("account",))


def _look_every(limit_s: float) -> float:
    """Look again every second, or four times within a short limit (a 0.5 s test switch)."""
    return min(_LOOK_EVERY_S, max(0.05, limit_s / 4))


@dataclass(frozen=True, slots=True)
class DeadMan:
    """Dead-man's switch: an expected feed stale for more than ``stale_for_s`` seconds while
    positions are open. Re-arms when every feed is fresh again or the account is flat."""

    stale_for_s: float = 30.0
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "error"
    fire_if_past_at_start = True

    @property
    def rule_id(self) -> str:
        return f"deadman {self.stale_for_s:g}s"

    def watch_keys(self) -> frozenset[str] | None:
        return None  # staleness is the absence of changes: look every time

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        every = _look_every(self.stale_for_s)
        last = reuse_last(memo, now, every)
        if last is not None:
            return last
        checks, wake = self._look(store, now, memo)
        return remember(memo, now, every, checks, wake)

    def _look(
        self, store: Store, now: float, memo: dict[str, Any]
    ) -> tuple[list[Check], frozenset[str]]:
        """The answer, and the change keys that can change it before time does: positions
        opening (``account``) while flat, the stale feeds' data while past; none while clear
        (data arriving cannot make it worse)."""
        missing_since: dict[str, float] = memo.setdefault("missing_since", {})
        positions = store.positions()
        if not positions:
            missing_since.clear()
            return [Check("", past=False, clear=True, value=_FLAT)], _ACCOUNT
        bad: list[tuple[str, float]] = []
        worst: tuple[str, float] | None = None
        statuses = store.feed_statuses()
        silent = store.health.silent_for()  # an event feed is stale since the socket went quiet
        for key, status in statuses.items():
            secs: float | None = None
            if status.state == "stale" and status.age_s is not None:
                secs = stale_for(status, store.threshold(key), silent)
                missing_since.pop(key, None)
            elif status.state == "missing":
                secs = now - missing_since.setdefault(key, now)
            else:
                missing_since.pop(key, None)
            if secs is None:
                continue
            if worst is None or secs > worst[1]:
                worst = (key, secs)
            if secs >= self.stale_for_s:
                bad.append((key, secs))
        for key in [k for k in missing_since if k not in statuses]:
            del missing_since[key]
        n = len(positions)
        if not bad:
            # Stale for less than the limit so far: said, not hidden behind "fresh".
            value = f"fresh · {n} open" if worst is None else f"{worst[0]} stale {worst[1]:.0f} s"
            return [Check("", past=False, clear=True, value=value)], frozenset()
        feeds = ", ".join(f"{key} stale {secs:.0f} s" for key, secs in bad[:6])
        if len(bad) > 6:
            feeds += f", +{len(bad) - 6} more"
        check = Check(
            "",
            past=True,
            clear=False,
            title="Data stale with open positions",
            body=f"{n} position{'s' if n != 1 else ''} open and the data stopped: {feeds}",
            value=f"{worst[0]} stale {worst[1]:.0f} s" if worst is not None else "",
        )
        return [check], frozenset(key for key, _ in bad) | _ACCOUNT


def behind_s(status: FeedStatus, silent: float | None = None) -> float | None:
    """How many seconds behind the data of one feed is; None: nothing to say (never arrived,
    or an event feed that is quiet on a live socket: a quiet market, not old data).

    A periodic feed is as old as its last update plus how late that update was; an event
    feed that moves is behind by its lag; one gone stale (the socket not alive) by its age, or
    by how long the exchange has been silent (``silent``) when that is shorter: nothing was
    missed before the socket went quiet, however old the last event.
    """
    state = status.state
    if state in (FeedState.MISSING, FeedState.QUIET) or status.age_s is None:
        return None
    lag = status.lag_s or 0.0
    if is_periodic(feed_kind(status.feed)):
        return status.age_s + lag
    return stale_age(status, silent) if state is FeedState.STALE else lag


@dataclass(frozen=True, slots=True)
class DataLag:
    """A feed's data more than ``lag_s`` seconds behind (see :func:`behind_s`): no update
    for that long on a feed pushed on a timer, or updates that arrive that late.

    ``feed`` names a feed kind (``mids``, ``book``, ``account``: every feed of that kind) or
    one feed (``book:BTC``); None watches every expected feed. One alert names the worst ones;
    it re-arms when they are all back within the level (less the hysteresis band). Unlike
    the dead-man's switch it does not need open positions.
    """

    lag_s: float = 10.0
    feed: str | None = None
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "warn"
    fire_if_past_at_start = True

    @property
    def rule_id(self) -> str:
        return f"data lag {self.feed or 'any'} > {self.lag_s:g}s"

    def watch_keys(self) -> frozenset[str] | None:
        return None  # age grows with time alone: look every time (cheaply, see the module)

    def _watches(self, key: str) -> bool:
        feed = self.feed
        return feed is None or key == feed or (":" not in feed and feed_kind(key) == feed)

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        every = _look_every(self.lag_s)
        last = reuse_last(memo, now, every)
        if last is not None:
            return last
        checks, wake = self._look(store, band_pct)
        return remember(memo, now, every, checks, wake)

    def _look(self, store: Store, band_pct: Decimal) -> tuple[list[Check], frozenset[str] | None]:
        """The answer, and the change keys that can change it before time does: any while
        nothing has arrived, the late feeds' data while past, none while clear (a lag that
        appears is seen within a second)."""
        if self.feed is not None and ":" in self.feed:
            statuses = [store.feed_status(self.feed)]
        else:
            statuses = [st for key, st in store.feed_statuses().items() if self._watches(key)]
        silent = store.health.silent_for()
        behind = [(st.feed, secs) for st in statuses if (secs := behind_s(st, silent)) is not None]
        if not behind:
            return [], None  # nothing has arrived yet: waiting for data, never a guess
        behind.sort(key=lambda item: -item[1])
        worst_key, worst = behind[0]
        level = Decimal(str(self.lag_s))
        late = [(k, s) for k, s in behind if s > self.lag_s]
        named = ", ".join(f"{k} {s:.0f} s" for k, s in late[:6])
        if len(late) > 6:
            named += f", +{len(late) - 6} more"
        check = threshold_check(
            "",
            Decimal(f"{worst:.3f}"),
            level,
            "above",
            band_pct,
            title=f"Data {worst:.0f} s behind: {worst_key}",
            body=f"data more than {self.lag_s:g} s behind: {named}",
            shown=f"{worst_key} {worst:.1f} s",
        )
        # Not yet clear (past, or inside the band): the late feeds' data may clear it.
        wake = frozenset() if check.clear else frozenset(k for k, s in behind if s > self.lag_s)
        return [check], wake
