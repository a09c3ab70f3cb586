"""What every alert rule shares: :class:`Check` (what a rule sees), the :class:`Rule`
protocol the engine needs, the threshold comparison, and the number formatting of alert texts.

Split from :mod:`hlmon.alerts.rules` so the account rules (``rules``) and the feed-health
rules (``feed_rules``) can both build on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hlmon.state.decimals import fmt_amount, fmt_dec, fmt_px_text, shown_decimals, try_dec

if TYPE_CHECKING:
    from hlmon.state import Store

Direction = Literal["above", "below"]

_HUNDRED = Decimal(100)

CHANGES = "changes"
"""The ``memo`` key under which the engine leaves the change keys of the evaluation for rules
that look every time (``watch_keys() is None``); None: unknown, look at everything."""


@dataclass(frozen=True, slots=True)
class Check:
    """What one rule sees for one subject at one evaluation."""

    subject: str
    """``""`` for single-valued rules, the coin for per-position ones."""
    past: bool = False
    """Beyond the level now (threshold rules)."""
    clear: bool = True
    """Back on the safe side by the hysteresis band: the rule may re-arm."""
    event: bool = False
    """Something happened (fills): fire now, no arming involved."""
    title: str = ""
    body: str = ""
    count: int = 1
    """How many events this check stands for (fills in one evaluation)."""
    value: str = ""
    """The value looked at, as the alerts view shows it (``BTC 106,312.5``, ``mids 3 s``)."""


class Rule(Protocol):
    """What the engine needs from a rule."""

    @property
    def rule_id(self) -> str:
        """Stable, unique per distinct rule; also how the UI names it. Never depends on
        ``enabled``: switching a rule off and on is the same rule."""
        ...

    @property
    def enabled(self) -> bool:
        """False: kept in the list (and the config) but never checked."""
        ...

    @property
    def severity(self) -> str:
        """Severity of its alerts: ``warn`` or ``error``."""
        ...

    @property
    def fire_if_past_at_start(self) -> bool:
        """Fire on the first observation if it is already past the level."""
        ...

    def watch_keys(self) -> frozenset[str] | None:
        """Store change keys that can change the answer; None = check every evaluation."""
        ...

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        """What the rule sees now. ``memo`` is the engine's scratch space for this rule."""
        ...


def threshold_check(
    subject: str,
    value: Decimal,
    level: Decimal,
    direction: Direction,
    band_pct: Decimal,
    *,
    title: str,
    body: str,
    shown: str = "",
) -> Check:
    """Past / clear for ``value`` against ``level`` (``shown``: the value as the alerts view
    shows it).

    The band is ``band_pct`` percent of ``|level|``: with 0.1 %, a BTC alert above 110000
    re-arms once the price is back at or below 109890.
    """
    band = abs(level) * band_pct / _HUNDRED
    if direction == "above":
        past = value > level
        clear = value <= level - band
    else:
        past = value < level
        clear = value >= level + band
    return Check(subject, past=past, clear=clear and not past, title=title, body=body, value=shown)


def reuse_last(memo: dict[str, Any], now: float, every_s: float) -> list[Check] | None:
    """For rules that look every evaluation but whose answer moves with time, in seconds:
    the last answer while it is still good, else None (look again).

    Looked again at least every ``every_s``, on every evaluation whose changes are unknown,
    and on a change of one of the keys the last answer said could change it (``wake`` in
    :func:`remember`: the feeds that were late, whose data arriving may clear it). A frame
    that brings other changes then costs nothing instead of a walk over every feed.
    """
    last: list[Check] | None = memo.get("last")
    due: float | None = memo.get("due_at")
    changes = memo.get(CHANGES)
    if last is None or due is None or changes is None or not 0 < due - now <= every_s:
        return None
    wake: frozenset[str] | None = memo.get("wake")
    if changes and (wake is None or not wake.isdisjoint(changes)):
        return None
    return last


def remember(
    memo: dict[str, Any],
    now: float,
    every_s: float,
    checks: list[Check],
    wake: frozenset[str] | None = frozenset(),
) -> list[Check]:
    """Keep ``checks`` as the answer :func:`reuse_last` gives until ``now + every_s``, or
    until one of the change keys ``wake`` arrives (None: any change; empty: none, time
    alone can change the answer)."""
    memo["last"] = checks
    memo["due_at"] = now + every_s
    memo["wake"] = wake
    return checks


def fmt_px(px: str | None) -> str:
    """A price as the TUI shows it (``hlmon.state.decimals``: one rule for both)."""
    return "–" if px is None else fmt_px_text(px)


def fmt_level(level: Decimal) -> str:
    """A user's level as written (its own decimals), with separators: ``110,000``."""
    return fmt_amount(level, shown_decimals(fmt_dec(level)))


def fmt_size(sz: str) -> str:
    """A size as the TUI shows it: the decimals it carries, with separators."""
    d = try_dec(sz)
    return sz if d is None else fmt_amount(d, shown_decimals(sz))
