"""The rest of the account (#14): spot balances, active TWAPs, own liquidations, and the facts
read once per address (account mode, role, equity history).

Plain data plus its merge rules; ``extras_ingest.ExtrasIngest`` decides what reaches it (the
user filter) and stamps it. ``AccountExtras`` is the selected account's and is cleared when
another account is selected; ``AddressFacts`` is kept per address for the whole run (a mode or
a role is read once, an equity history every few minutes).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hlmon.protocol.account_types import (
    PortfolioPeriod,
    SpotClearinghouseState,
    TwapHistoryItem,
    TwapState,
    UserRole,
)

from .account_modes import AccountMode, normalise_mode
from .liquidations import LiquidationDetector, OwnLiquidation
from .types import Stamp

TWAP_HISTORY_CAP = 200
"""TWAP state changes kept (newest last)."""
OWN_LIQUIDATIONS_CAP = 50
"""Own liquidations kept (newest last)."""
HISTORY_PERIODS: tuple[str, ...] = ("day", "week", "month", "allTime")
"""``portfolio`` periods in the order the sparkline prefers them: the shortest span with
enough points to draw a line."""
MIN_HISTORY_POINTS = 3
"""A period with fewer samples than this does not make a line."""


@dataclass(frozen=True, slots=True)
class ModeReading:
    """An account's mode as read from the exchange."""

    mode: AccountMode | None
    """None when the exchange said something hlmon does not know (shown raw)."""
    raw: str
    """The exchange's spelling (``default``, ``disabled``, ``unifiedAccount``...)."""
    source: str
    """``userAbstraction`` (REST, once per address) or ``webData3`` (each push)."""

    @property
    def label(self) -> str:
        """Short text for the header: ``unified``, or the raw value when unknown."""
        return self.mode.label if self.mode is not None else self.raw or "?"


ROLE_LABELS: dict[str, str] = {
    "vault": "vault",
    "subAccount": "sub-account",
    "agent": "agent wallet",
    "missing": "unknown address",
}
"""Roles worth a label (``user`` is the normal case and gets none)."""


def role_label(role: UserRole | None) -> str | None:
    """``vault`` / ``sub-account`` / ``agent wallet`` / ``unknown address``; None for a plain
    user or a role not read yet; an unknown role is shown as the exchange wrote it."""
    if role is None or role.role == "user":
        return None
    return ROLE_LABELS.get(role.role, role.role)


@dataclass(frozen=True, slots=True)
class EquityHistory:
    """An account's equity samples over one ``portfolio`` period (sparse: hours apart)."""

    period: str
    """``day``, ``week``, ``month`` or ``allTime``."""
    points: tuple[tuple[int, str], ...]
    """``(ms, accountValue)`` oldest first, the exchange's strings."""
    fetched_at: float
    """Local clock when the answer arrived."""

    @property
    def span_ms(self) -> int:
        """From the first sample to the last."""
        return self.points[-1][0] - self.points[0][0] if len(self.points) > 1 else 0


def pick_history(
    periods: Sequence[tuple[str, PortfolioPeriod]], fetched_at: float
) -> EquityHistory | None:
    """The shortest of ``day``/``week``/``month``/``allTime`` with enough samples for a line
    (else the longest there is), samples sorted by time; None when there is none."""
    by_name = dict(periods)
    best: EquityHistory | None = None
    for name in HISTORY_PERIODS:
        period = by_name.get(name)
        if period is None:
            continue
        points = tuple(sorted(period.accountValueHistory))
        if not points:
            continue
        best = EquityHistory(name, points, fetched_at)
        if len(points) >= MIN_HISTORY_POINTS:
            return best
    return best


class AddressFacts:
    """What is read once (or rarely) per address, kept across account switches."""

    def __init__(self) -> None:
        self.modes: dict[str, ModeReading] = {}
        self.roles: dict[str, UserRole] = {}
        self.histories: dict[str, EquityHistory] = {}
        self.spots: dict[str, tuple[SpotClearinghouseState, Stamp]] = {}
        """Spot state per watched address (the collateral of unified/PM accounts)."""

    def set_mode(self, address: str, raw: str, source: str) -> bool:
        """Record ``address``'s mode; True when it changed."""
        reading = ModeReading(normalise_mode(raw), raw, source)
        key = address.lower()
        old = self.modes.get(key)
        self.modes[key] = reading
        return old is None or (old.mode, old.raw) != (reading.mode, reading.raw)

    def keep_only(self, addresses: Iterable[str]) -> None:
        """Forget the addresses no longer watched: their facts would outlive their rows, one
        set per address ever watched in a session of weeks."""
        keep = {a.lower() for a in addresses}
        for table in (self.modes, self.roles, self.histories, self.spots):
            for address in [a for a in table if a not in keep]:
                del table[address]

    def shift_times(self, delta: float) -> None:
        """The clock stepped back: move every held time with it."""
        self.histories = {
            a: EquityHistory(h.period, h.points, h.fetched_at + delta)
            for a, h in self.histories.items()
        }
        self.spots = {a: (state, stamp.shifted(delta)) for a, (state, stamp) in self.spots.items()}


class AccountExtras:
    """The selected account's TWAPs and own liquidations (its spot state is in
    ``AddressFacts.spots``, like every watched account's)."""

    def __init__(self) -> None:
        self.twaps: dict[str, list[tuple[int, TwapState]]] = {}
        """Active TWAPs by perp dex (``""`` = default), as the last ``twapStates`` push."""
        self.twap_history: deque[TwapHistoryItem] = deque(maxlen=TWAP_HISTORY_CAP)
        self._history_keys: set[tuple[int | None, int, str]] = set()
        self.liquidations: deque[OwnLiquidation] = deque(maxlen=OWN_LIQUIDATIONS_CAP)
        self.detector: LiquidationDetector | None = None
        self.unknown_statuses: set[str] = set()
        """Order statuses already logged as unknown (once each)."""

    def clear(self, user: str | None) -> None:
        """Forget everything: ``user`` is selected now (None: no account)."""
        self.twaps.clear()
        self.twap_history.clear()
        self._history_keys.clear()
        self.liquidations.clear()
        self.detector = LiquidationDetector(user) if user is not None else None

    def add_history(self, items: Iterable[TwapHistoryItem]) -> list[TwapHistoryItem]:
        """Merge TWAP history (snapshots repeat it); returns the items new to it."""
        new: list[TwapHistoryItem] = []
        for item in items:
            key = (item.twapId, item.time, item.status.status)
            if key in self._history_keys:
                continue
            self._history_keys.add(key)
            if len(self.twap_history) == self.twap_history.maxlen:
                old = self.twap_history[0]
                self._history_keys.discard((old.twapId, old.time, old.status.status))
            self.twap_history.append(item)
            new.append(item)
        return new

    def note_liquidations(self, found: Iterable[OwnLiquidation]) -> list[OwnLiquidation]:
        """Keep the detector's new findings; returns them."""
        out = list(found)
        self.liquidations.extend(out)
        return out
