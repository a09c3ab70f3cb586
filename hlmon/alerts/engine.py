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

Pure: no I/O, no Textual, time from the injected clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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


@dataclass(slots=True)
class _Subject:
    armed: bool
    last_fired: float | None = None
    held: int = 0
    """Events suppressed by the cooldown, delivered when it ends."""
    held_check: Check | None = None


@dataclass(slots=True)
class _RuleState:
    rule: AlertRule
    memo: dict[str, Any] = field(default_factory=dict)
    subjects: dict[str, _Subject] = field(default_factory=dict)
    checked: bool = False
    """Checked at least once (a new rule is checked on the next evaluation whatever changed)."""


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
            watch = rule.watch_keys()
            due = (
                changes is None or not st.checked or watch is None or not watch.isdisjoint(changes)
            )
            if due:
                checks = rule.check(store, now, st.memo, self._band)
                st.checked = True
                alerts.extend(self._apply(st, rid, checks, now))
            alerts.extend(self._release_held(st, rid, now))
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
            if chk.event:
                if sub is None:
                    sub = st.subjects[chk.subject] = _Subject(armed=True)
                if self._cooling(sub, now):
                    sub.held += chk.count
                    sub.held_check = chk
                    continue
                sub.last_fired = now
                out.append(Alert(rid, chk.title, chk.body, rule.severity, now))
                continue
            if sub is None:
                # First sight: already past counts as a crossing only for rules that say so.
                sub = st.subjects[chk.subject] = _Subject(armed=not chk.past)
                if not (chk.past and rule.fire_if_past_at_start):
                    continue
                sub.armed = True
            if sub.armed and chk.past:
                sub.armed = False
                if self._cooling(sub, now):
                    continue  # flapping inside the cooldown: dropped, re-arms as usual
                sub.last_fired = now
                out.append(Alert(rid, chk.title, chk.body, rule.severity, now))
            elif not sub.armed and chk.clear:
                sub.armed = True
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
