"""``AlertEngine``: turns what the rules see into alerts, once per crossing.

The UI calls :meth:`AlertEngine.evaluate` from its refresh timer with the Store and the change
keys it just took; only rules whose inputs changed are checked (plus the few that must look
every time, like the dead-man's switch). Per rule and subject the engine keeps:

* arming: a threshold rule fires when it goes *past* its level while armed, then stays
  disarmed until the value is back on the safe side by the hysteresis band (``hysteresis_pct``
  percent of the level). No alert every tick while past, no flapping around the level.
* cooldown: after an alert, the same rule and subject stays silent for ``cooldown_s``. A
  crossing inside the cooldown is dropped (it is flapping); events (fills) inside it are held
  and delivered as one summary alert when the cooldown ends, so no fill goes unannounced.

The alerts view reads :meth:`AlertEngine.status` (state, last value, last fire, cooldown per
rule) and changes the list with :meth:`~AlertEngine.add`, :meth:`~AlertEngine.replace`,
:meth:`~AlertEngine.set_enabled` and :meth:`~AlertEngine.remove`.

Pure: no I/O, no Textual, time from the injected clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from hlmon.alerts.check import CHANGES
from hlmon.alerts.rules import AlertRule, Check, LiqDistance, PriceCross

if TYPE_CHECKING:
    from hlmon.state import Store
    from hlmon.state.catalog import MarketCatalog


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert to deliver."""

    rule_id: str
    title: str
    body: str
    level: str
    """``warn`` or ``error``."""
    time: float
    """Clock time it fired."""


RuleState = Literal["disabled", "waiting", "armed", "fired", "held", "cooling"]
"""A rule's state in the alerts view:

* ``disabled``: switched off, never checked;
* ``waiting``: nothing to look at yet (no mid, no position, no data);
* ``armed``: on the safe side, fires on the next crossing;
* ``fired``: fired and still past its level (re-arms back on the safe side);
* ``held``: past its level without having fired (it was already past when it started), or
  events held back by the cooldown;
* ``cooling``: fired within the cooldown, back on the safe side.
"""
_RANK: dict[str, int] = {"waiting": 0, "armed": 1, "cooling": 2, "held": 3, "fired": 4}


@dataclass(frozen=True, slots=True)
class RuleStatus:
    """What the alerts view shows of one rule (a copy: reading it changes nothing)."""

    rule: AlertRule
    state: RuleState
    value: str
    """The last value looked at (``mid 106,312.5``), ``""`` before any."""
    last_fired: float | None
    """Clock time of its last alert, None if it never fired."""
    cooling_until: float | None
    """Clock time its cooldown ends, None if not cooling."""
    fired: int
    """Alerts it gave since it was added (or last edited)."""

    @property
    def rule_id(self) -> str:
        return self.rule.rule_id


@dataclass(slots=True)
class _Subject:
    armed: bool
    last_fired: float | None = None
    held: int = 0
    """Events suppressed by the cooldown, delivered when it ends."""
    held_check: Check | None = None
    value: str = ""
    """The value of the last check."""
    fired_past: bool = False
    """Disarmed by firing (not by being past at first sight)."""


@dataclass(slots=True)
class _RuleState:
    rule: AlertRule
    memo: dict[str, Any] = field(default_factory=dict)
    subjects: dict[str, _Subject] = field(default_factory=dict)
    checked: bool = False
    """Checked at least once (a new rule is checked on the next evaluation whatever changed)."""
    watch: frozenset[str] | None = None
    """``rule.watch_keys()``, asked once (rules are frozen)."""
    value: str = ""
    """The value of the last check (kept when its subject goes away)."""
    last_fired: float | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        self.watch = self.rule.watch_keys()


class AlertEngine:
    """Evaluates alert rules against the Store."""

    def __init__(
        self,
        rules: Iterable[AlertRule] = (),
        *,
        clock: Callable[[], float],
        cooldown_s: float = 60.0,
        hysteresis_pct: float = 0.1,
    ) -> None:
        """
        Args:
            rules: the initial rules (duplicates by ``rule_id`` are kept once).
            clock: seconds, like ``time.time`` (the Store's clock).
            cooldown_s: silence after an alert, per rule and subject.
            hysteresis_pct: re-arm band, in percent of the rule's level.
        """
        self._clock = clock
        self.cooldown_s = cooldown_s
        self._band = Decimal(str(hysteresis_pct))
        self._states: dict[str, _RuleState] = {}
        for rule in rules:
            self.add(rule)

    # ------------------------------------------------------------------ rules

    @property
    def rules(self) -> list[AlertRule]:
        """The rules, in the order added."""
        return [st.rule for st in self._states.values()]

    def add(self, rule: AlertRule) -> str:
        """Add a rule (no-op if one with the same id exists); returns its id."""
        rid = rule.rule_id
        if rid not in self._states:
            self._states[rid] = _RuleState(rule)
        return rid

    def remove(self, rule_id: str) -> bool:
        """Remove a rule by id; True if it existed."""
        return self._states.pop(rule_id, None) is not None

    def replace(self, rule_id: str, rule: AlertRule) -> str:
        """Put ``rule`` in the place of ``rule_id`` (an edit): same position in the list, a
        fresh start (armed or not by what it sees next). Returns the new id.

        Raises:
            KeyError: no rule ``rule_id``.
            ValueError: another rule already has the new rule's id.
        """
        if rule_id not in self._states:
            raise KeyError(rule_id)
        new_id = rule.rule_id
        if new_id != rule_id and new_id in self._states:
            raise ValueError(f"the same rule already exists: {new_id}")
        if new_id == rule_id and self._states[rule_id].rule == rule:
            return rule_id  # nothing changed: keep its state
        self._states = {
            (new_id if rid == rule_id else rid): (_RuleState(rule) if rid == rule_id else st)
            for rid, st in self._states.items()
        }
        return new_id

    def set_enabled(self, rule_id: str, enabled: bool) -> bool:
        """Switch a rule on or off; True if it exists. Off forgets what it saw, so back on it
        starts over like a new rule (no alert for what happened while it was off)."""
        st = self._states.get(rule_id)
        if st is None:
            return False
        if st.rule.enabled != enabled:
            self._states[rule_id] = _RuleState(dataclasses.replace(st.rule, enabled=enabled))
        return True

    def status(self) -> list[RuleStatus]:
        """Every rule's state, last value, last fire and cooldown, in list order."""
        now = self._clock()
        return [self._status(st, now) for st in self._states.values()]

    def _status(self, st: _RuleState, now: float) -> RuleStatus:
        cooling_until: float | None = None
        state: RuleState = "waiting"
        value = st.value
        for sub in st.subjects.values():
            if sub.last_fired is not None and self._cooling(sub, now):
                end = sub.last_fired + self.cooldown_s
                cooling_until = end if cooling_until is None else max(cooling_until, end)
            if sub.held:
                here: RuleState = "held"
            elif not sub.armed:
                here = "fired" if sub.fired_past else "held"
            elif self._cooling(sub, now):
                here = "cooling"
            else:
                here = "armed"
            if _RANK[here] > _RANK[state]:
                state, value = here, sub.value or value
        if not st.rule.enabled:
            state = "disabled"
        return RuleStatus(st.rule, state, value, st.last_fired, cooling_until, st.fired)

    def check_coins(self, catalog: MarketCatalog) -> list[str]:
        """Hold the rules naming a coin to the exchange's market catalog.

        A rule whose coin the catalog cannot resolve (unknown, ambiguous, delisted) is removed,
        refused like any bad key; one spelled another way (``btc``) is kept with the exact name
        (``BTC``). Returns one message per rule changed or refused, for the log.
        """
        notes: list[str] = []
        states: dict[str, _RuleState] = {}
        for rid, st in self._states.items():
            rule = st.rule
            if not isinstance(rule, PriceCross | LiqDistance) or rule.coin is None:
                states[rid] = st
                continue
            res = catalog.resolve(rule.coin)
            if res.name is None:
                notes.append(f"alert {rid!r} refused: {res.message}")
            elif res.name != rule.coin:
                exact: AlertRule = dataclasses.replace(rule, coin=res.name)
                states.setdefault(exact.rule_id, _RuleState(exact))
                notes.append(f"alert {rid!r} watches {res.name}")
            else:
                states[rid] = st
        self._states = states
        return notes

    # ------------------------------------------------------------------ evaluation

    def evaluate(
        self, store: Store, changes: set[str] | frozenset[str] | None = None
    ) -> list[Alert]:
        """Alerts that fire now.

        Args:
            store: the Store to read.
            changes: change keys since the last call (what ``store.take_changes()`` returned
                to the UI); None checks every rule.
        """
        now = self._clock()
        alerts: list[Alert] = []
        for rid, st in list(self._states.items()):
            rule = st.rule
            if not rule.enabled:
                continue
            watch = st.watch
            if watch is None:
                st.memo[CHANGES] = changes
                due = True
            else:
                due = changes is None or not st.checked or not watch.isdisjoint(changes)
            if due:
                checks = rule.check(store, now, st.memo, self._band)
                st.checked = True
                fired = self._apply(st, rid, checks, now)
                if fired:
                    alerts.extend(fired)
            alerts.extend(self._release_held(st, rid, now))
        if alerts:
            for alert in alerts:
                st = self._states[alert.rule_id]
                st.last_fired = alert.time
                st.fired += 1
        return alerts

    def _cooling(self, sub: _Subject, now: float) -> bool:
        return sub.last_fired is not None and now - sub.last_fired < self.cooldown_s

    def _apply(self, st: _RuleState, rid: str, checks: list[Check], now: float) -> list[Alert]:
        rule = st.rule
        out: list[Alert] = []
        seen: set[str] = set()
        for chk in checks:
            seen.add(chk.subject)
            sub = st.subjects.get(chk.subject)
            if chk.value:
                st.value = chk.value
            if chk.event:
                if sub is None:
                    sub = st.subjects[chk.subject] = _Subject(armed=True)
                sub.value = chk.value or sub.value
                if self._cooling(sub, now):
                    sub.held += chk.count
                    sub.held_check = chk
                    continue
                sub.last_fired = now
                out.append(Alert(rid, chk.title, chk.body, rule.severity, now))
                continue
            if sub is None:
                # First sight: already past counts as a crossing only for rules that say so.
                sub = st.subjects[chk.subject] = _Subject(armed=not chk.past, value=chk.value)
                if not (chk.past and rule.fire_if_past_at_start):
                    continue
                sub.armed = True
            sub.value = chk.value
            if sub.armed and chk.past:
                sub.armed = False
                if self._cooling(sub, now):
                    sub.fired_past = False  # dropped: held past the level, not fired
                    continue  # flapping inside the cooldown: dropped, re-arms as usual
                sub.fired_past = True
                sub.last_fired = now
                out.append(Alert(rid, chk.title, chk.body, rule.severity, now))
            elif not sub.armed and chk.clear:
                sub.armed = True
                sub.fired_past = False
        # A subject that disappeared (a position closed, a mid missing) starts over if it comes
        # back, unless it still holds events or is cooling down.
        for name in [n for n in st.subjects if n not in seen]:
            sub = st.subjects[name]
            if not sub.held and not self._cooling(sub, now):
                del st.subjects[name]
        return out

    def _release_held(self, st: _RuleState, rid: str, now: float) -> list[Alert]:
        out: list[Alert] = []
        for sub in st.subjects.values():
            if sub.held and sub.held_check is not None and not self._cooling(sub, now):
                chk = sub.held_check
                n = sub.held
                sub.held, sub.held_check = 0, None
                sub.last_fired = now
                more = n - chk.count
                title = chk.title if more <= 0 else f"{chk.title} (+{more} more)"
                body = f"{chk.body} (held {n} during the {self.cooldown_s:g} s cooldown)"
                out.append(Alert(rid, title, body, st.rule.severity, now))
        return out
