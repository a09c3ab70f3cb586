"""Detect liquidations of the watched account (2026 protocol page §6.4). Pure: no I/O.

Three signals say "you were liquidated":

- a fill whose ``dir`` starts with ``Liquidated`` (``Liquidated Cross Long``...) and that has
  no ``liquidation`` object, or one naming the watched address as ``liquidatedUser``;
- a ``user`` event ``{"liquidation": ...}`` whose ``liquidated_user`` is the watched address;
- a ledger update whose delta has ``type: "liquidation"``.

A fill whose ``liquidation`` object names *another* user is the watched account absorbing
someone's liquidation (as liquidator or maker): not an alarm. One liquidation arrives as
several fills (one per absorbing maker) and again through the ledger, so events are deduped
on ``(hash, liquidated user, coin)``; the ``user`` event carries no hash or coin and is keyed
by its liquidation id instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hlmon.protocol.account_types import Fill, LedgerUpdate, Liquidation
from hlmon.state.decimals import fmt_px_text, fmt_size_text, fmt_usd

LIQUIDATED_DIR_PREFIX = "Liquidated"
DEFAULT_MEMORY = 4096
"""How many liquidation keys a detector remembers for dedupe."""


class LiquidationSource(StrEnum):
    FILL = "fill"
    USER_EVENT = "userEvent"
    LEDGER = "ledger"


LiquidationKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class OwnLiquidation:
    """One liquidation of the watched account, from one signal.

    ``time`` is ms when the signal carries one (the ``user`` event does not). Amounts are the
    exchange's strings (``notional``/``account_value`` where the signal states them).
    """

    source: LiquidationSource
    user: str
    coin: str
    hash: str
    time: int | None
    size: str | None = None
    price: str | None = None
    notional: str | None = None
    account_value: str | None = None
    method: str | None = None

    @property
    def key(self) -> LiquidationKey:
        """The dedupe key ``(hash, liquidated user, coin)``."""
        return (self.hash, self.user, self.coin)

    def describe(self) -> str:
        """One log line."""
        size = fmt_size_text(self.size) if self.size else None
        what = f"{size} {self.coin}" if size and self.coin else self.coin or "positions"
        at = f" at {fmt_px_text(self.price)}" if self.price else ""
        extra = f", notional ${fmt_usd(self.notional)}" if self.notional else ""
        if self.account_value:
            extra += f", account value ${fmt_usd(self.account_value)}"
        return f"LIQUIDATED: {what}{at}{extra} (from {self.source.value})"


def is_liquidated_dir(direction: str) -> bool:
    return direction.startswith(LIQUIDATED_DIR_PREFIX)


def fill_liquidation(fill: Fill, watched: str) -> OwnLiquidation | None:
    """The watched account's own liquidation this fill shows, or None (absorbed or unrelated).

    ``fill`` must be one of the watched account's fills.
    """
    if not is_liquidated_dir(fill.dir):
        return None
    me = watched.lower()
    named = fill.liquidation.liquidatedUser if fill.liquidation is not None else None
    if named is not None and named.lower() != me:
        return None  # another user's liquidation that this account took part in
    return OwnLiquidation(
        source=LiquidationSource.FILL,
        user=me,
        coin=fill.coin,
        hash=fill.hash,
        time=fill.time,
        size=fill.sz,
        price=fill.px,
        method=fill.liquidation.method if fill.liquidation is not None else None,
    )


def absorbed_key(fill: Fill, watched: str) -> LiquidationKey | None:
    """``(hash, liquidated user, coin)`` when the fill takes part in another user's
    liquidation (never an alarm; the same key shows in every absorbing account's fills)."""
    named = fill.liquidation.liquidatedUser if fill.liquidation is not None else None
    if named is None or named.lower() == watched.lower():
        return None
    return (fill.hash, named.lower(), fill.coin)


def event_liquidation(event: Liquidation, watched: str) -> OwnLiquidation | None:
    """A ``user`` channel liquidation, when the watched account is the one liquidated."""
    me = watched.lower()
    if event.liquidated_user.lower() != me:
        return None  # the watched account was the liquidator
    return OwnLiquidation(
        source=LiquidationSource.USER_EVENT,
        user=me,
        coin="",
        hash=f"lid:{event.lid}",
        time=None,
        notional=event.liquidated_ntl_pos,
        account_value=event.liquidated_account_value,
    )


def ledger_liquidations(update: LedgerUpdate, watched: str) -> list[OwnLiquidation]:
    """A ledger ``liquidation`` delta (always the watched account's own): one event per
    liquidated position, or one without a coin when the delta lists none."""
    delta = update.delta
    if delta.get("type") != "liquidation":
        return []
    me = watched.lower()
    notional, value = _text(delta.get("liquidatedNtlPos")), _text(delta.get("accountValue"))
    positions = delta.get("liquidatedPositions")
    coins: list[tuple[str, str | None]] = []
    if isinstance(positions, list):
        for pos in positions:
            if isinstance(pos, dict) and isinstance(pos.get("coin"), str):
                coins.append((pos["coin"], _text(pos.get("szi"))))
    source = LiquidationSource.LEDGER
    return [
        OwnLiquidation(
            source,
            me,
            coin,
            update.hash,
            update.time,
            size=szi,
            notional=notional,
            account_value=value,
        )
        for coin, szi in coins or [("", None)]
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class LiquidationDetector:
    """Own liquidations of one watched address from every signal, each reported once.

    Feed it every fill, ``user`` liquidation event and ledger update of the address (snapshot
    replays included: already-seen keys are not reported again); it remembers the last
    ``memory`` keys.
    """

    def __init__(self, watched: str, memory: int = DEFAULT_MEMORY) -> None:
        self.watched = watched.lower()
        self._seen: set[LiquidationKey] = set()
        self._order: deque[LiquidationKey] = deque()
        self._memory = memory
        self.absorbed = 0
        """Distinct liquidations of other users this account took part in (not alarms)."""

    def _remember(self, key: LiquidationKey) -> bool:
        """True the first time ``key`` is seen."""
        if key in self._seen:
            return False
        self._seen.add(key)
        self._order.append(key)
        if len(self._order) > self._memory:
            self._seen.discard(self._order.popleft())
        return True

    def _new(self, events: Iterable[OwnLiquidation]) -> list[OwnLiquidation]:
        return [event for event in events if self._remember(event.key)]

    def fills(self, fills: Iterable[Fill]) -> list[OwnLiquidation]:
        """New own liquidations among ``fills``."""
        found: list[OwnLiquidation] = []
        for fill in fills:
            own = fill_liquidation(fill, self.watched)
            if own is not None:
                found.append(own)
                continue
            key = absorbed_key(fill, self.watched)
            if key is not None and self._remember(key):
                self.absorbed += 1
        return self._new(found)

    def user_event(self, event: Liquidation) -> list[OwnLiquidation]:
        own = event_liquidation(event, self.watched)
        return self._new([own] if own is not None else [])

    def ledger(self, updates: Iterable[LedgerUpdate]) -> list[OwnLiquidation]:
        found: list[OwnLiquidation] = []
        for update in updates:
            found.extend(ledger_liquidations(update, self.watched))
        return self._new(found)
