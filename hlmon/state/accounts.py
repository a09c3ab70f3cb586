"""The account book: one summary row per watched address, for the all-accounts view.

hlmon watches up to 10 addresses (the exchange's unique-user limit per IP) but keeps full
detail (positions, orders, fills, fundings) only for the selected one, in the ``Store``. For
every watched address the ``clearinghouseState`` push (one cheap subscription each, or a REST
poll of weight 2) is enough for a summary row: equity, margin used and ratio, total uPnL and
the number of positions, each row stamped with when and from where it came so its age can be
shown next to it.

Pure: no I/O, no Textual; the store passes the clock reading in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from hlmon.protocol.messages import ClearinghouseState

from .decimals import fmt_dec, pct, try_dec
from .freshness import classify
from .positions import account_summary
from .types import FeedState, Source, Stamp

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One watched address's summary (None fields: no clearinghouse state received yet)."""

    address: str
    """Lower-case 0x address."""
    label: str | None
    """The configured label, if any."""
    selected: bool
    """This is the account whose detail the other panels show."""
    account_value: str | None
    """marginSummary.accountValue (exchange string)."""
    total_margin_used: str | None
    """marginSummary.totalMarginUsed (exchange string)."""
    margin_ratio_pct: str | None
    """crossMaintenanceMarginUsed / cross account value * 100, 2 dp."""
    total_upnl: str | None
    """Sum of the positions' exchange ``unrealizedPnl``."""
    positions: int | None
    """Number of open positions."""
    received_at: float | None
    """Local clock when the state arrived."""
    source: Source | None
    state: FeedState
    """Freshness of this row (``live``, ``fallback``, ``stale`` or ``missing``)."""
    age_s: float | None
    """Seconds since the state arrived."""

    @property
    def short_address(self) -> str:
        """``0x1234…abcd``."""
        return f"{self.address[:6]}…{self.address[-4:]}"

    @property
    def name(self) -> str:
        """The label, else the short address."""
        return self.label or self.short_address


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """Sums over the rows that have data (``accounts_with_data`` of ``accounts``)."""

    accounts: int
    accounts_with_data: int
    account_value: str
    total_margin_used: str
    margin_ratio_pct: str | None
    """Sum of maintenance margins / sum of cross account values * 100, 2 dp."""
    total_upnl: str
    positions: int
    oldest_age_s: float | None
    """Age of the oldest row with data: how old the total is, at worst."""


@dataclass(frozen=True, slots=True)
class _Entry:
    state: ClearinghouseState
    stamp: Stamp
    account_value: str
    total_margin_used: str
    margin_ratio_pct: str | None
    total_upnl: str
    positions: int
    cross_value: Decimal | None
    maintenance: Decimal | None


def is_older(state: ClearinghouseState, held: ClearinghouseState | None) -> bool:
    """``state`` carries an exchange time before ``held``'s (both known)."""
    return (
        held is not None
        and state.time is not None
        and held.time is not None
        and state.time < held.time
    )


class AccountBook:
    """Latest default-dex clearinghouse state and summary per watched address."""

    def __init__(self) -> None:
        self._watched: list[str] = []
        self._labels: dict[str, str] = {}
        self._entries: dict[str, _Entry] = {}

    def shift_times(self, delta: float) -> None:
        """Move every receive time by ``delta`` s (the store's clock stepped back)."""
        for address, entry in self._entries.items():
            stamp = replace(entry.stamp, received_at=entry.stamp.received_at + delta)
            self._entries[address] = replace(entry, stamp=stamp)

    @property
    def watched(self) -> tuple[str, ...]:
        """Watched addresses, lower-case, in display order."""
        return tuple(self._watched)

    def set_watched(
        self, addresses: Iterable[str], labels: Mapping[str, str] | None = None
    ) -> bool:
        """Watch these addresses (order kept, duplicates dropped); forget the others' rows.

        Returns True when anything visible changed.
        """
        new = list(dict.fromkeys(a.lower() for a in addresses))
        new_labels = {k.lower(): v for k, v in (labels or {}).items()}
        if new == self._watched and new_labels == self._labels:
            return False
        self._watched = new
        self._labels = new_labels
        keep = set(new)
        for address in [a for a in self._entries if a not in keep]:
            del self._entries[address]
        return True

    def accepts(self, user: str) -> bool:
        return user.lower() in self._watched

    def apply(
        self,
        user: str,
        state: ClearinghouseState,
        source: Source,
        now: float,
        *,
        dex: str = "",
        also: str | None = None,
    ) -> bool:
        """Record ``user``'s state if watched (or equal to ``also``, the selected user).

        Only the default dex (``""``) feeds the row. Returns True when a row changed.
        """
        address = user.lower()
        if dex or not (address in self._watched or address == also):
            return False
        held = self._entries.get(address)
        if held is not None and is_older(state, held.state):
            return False  # older than the row's state (a slow REST reply): keep the newer one
        summary = account_summary(state, source, now)
        self._entries[address] = _Entry(
            state=state,
            stamp=Stamp(now, state.time, source),
            account_value=summary.account_value,
            total_margin_used=summary.total_margin_used,
            margin_ratio_pct=summary.margin_ratio_pct,
            total_upnl=summary.total_upnl,
            positions=len(state.assetPositions),
            cross_value=try_dec(state.crossMarginSummary.accountValue),
            maintenance=try_dec(state.crossMaintenanceMarginUsed),
        )
        return True

    def state_of(self, user: str) -> tuple[ClearinghouseState, Stamp] | None:
        """The last state held for ``user`` and its stamp (to seed a newly selected user)."""
        entry = self._entries.get(user.lower())
        return None if entry is None else (entry.state, entry.stamp)

    def stamp(self, user: str) -> Stamp | None:
        entry = self._entries.get(user.lower())
        return None if entry is None else entry.stamp

    def rows(
        self,
        now: float,
        threshold: float,
        *,
        selected: str | None,
        socket_alive: bool,
        addresses: Sequence[str] | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[AccountRow]:
        """One row per watched address (or per ``addresses``), in display order;
        ``thresholds`` overrides ``threshold`` per address (a row polled over REST)."""
        out: list[AccountRow] = []
        for address in self._watched if addresses is None else addresses:
            entry = self._entries.get(address)
            status = classify(
                "account",
                None if entry is None else entry.stamp,
                now,
                threshold if thresholds is None else thresholds.get(address, threshold),
                socket_alive=socket_alive,
            )
            out.append(
                AccountRow(
                    address=address,
                    label=self._labels.get(address),
                    selected=address == selected,
                    account_value=None if entry is None else entry.account_value,
                    total_margin_used=None if entry is None else entry.total_margin_used,
                    margin_ratio_pct=None if entry is None else entry.margin_ratio_pct,
                    total_upnl=None if entry is None else entry.total_upnl,
                    positions=None if entry is None else entry.positions,
                    received_at=None if entry is None else entry.stamp.received_at,
                    source=status.source,
                    state=status.state,
                    age_s=status.age_s,
                )
            )
        return out

    def totals(self, rows: Sequence[AccountRow]) -> AccountTotals:
        """Sums over ``rows`` (as returned by :meth:`rows`)."""
        value = margin = upnl = cross = maint = _ZERO
        positions = with_data = 0
        ratio_known = True
        oldest: float | None = None
        for row in rows:
            entry = self._entries.get(row.address)
            if entry is None:
                continue
            with_data += 1
            value += try_dec(entry.account_value) or _ZERO
            margin += try_dec(entry.total_margin_used) or _ZERO
            upnl += try_dec(entry.total_upnl) or _ZERO
            positions += entry.positions
            if entry.cross_value is None or entry.maintenance is None:
                ratio_known = False
            else:
                cross += entry.cross_value
                maint += entry.maintenance
            if row.age_s is not None and (oldest is None or row.age_s > oldest):
                oldest = row.age_s
        return AccountTotals(
            accounts=len(rows),
            accounts_with_data=with_data,
            account_value=fmt_dec(value),
            total_margin_used=fmt_dec(margin),
            margin_ratio_pct=pct(maint, cross) if ratio_known and with_data else None,
            total_upnl=fmt_dec(upnl),
            positions=positions,
            oldest_age_s=oldest,
        )
