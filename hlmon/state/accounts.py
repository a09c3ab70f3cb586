"""The account book: one summary row per watched address, for the all-accounts view.

hlmon watches up to 10 addresses (the exchange's unique-user limit per IP) but keeps full
detail (orders, fills, fundings) only for the selected one, in the ``Store``. For every watched
address the clearinghouse states (``allDexsClearinghouseState`` and the default dex's
``clearinghouseState`` pushes, or REST polls of weight 2 per active dex) are enough for a
summary row: per dex, and per collateral token (``state.dexes``), each row stamped with when
and from where it came so its age can be shown next to it.

States are held per dex NAME; a dex missing from a push is unknown, not empty, so its last
state stays. An older state (exchange ``time``) never replaces a newer one of the same dex.

Pure: no I/O, no Textual; the store passes the clock reading and the collateral lookup in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from hlmon.protocol.messages import ClearinghouseState

from .decimals import fmt_dec, pct, try_dec
from .dexes import (
    DEFAULT_DEX,
    CollateralOf,
    DexSummary,
    TokenTotal,
    dex_summary,
    merge_token_totals,
    token_totals,
)
from .freshness import classify
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
    """Default dex: marginSummary.accountValue (exchange string, USDC)."""
    total_margin_used: str | None
    """Default dex: marginSummary.totalMarginUsed (exchange string, USDC)."""
    margin_ratio_pct: str | None
    """Default dex: crossMaintenanceMarginUsed / cross account value * 100, 2 dp."""
    total_upnl: str | None
    """Default dex: sum of the positions' exchange ``unrealizedPnl``."""
    positions: int | None
    """Number of open positions on every dex."""
    received_at: float | None
    """Local clock when the oldest state the row shows arrived (its age at worst)."""
    source: Source | None
    state: FeedState
    """Freshness of this row (``live``, ``fallback``, ``stale`` or ``missing``)."""
    age_s: float | None
    """Seconds since the state arrived."""
    dexes: tuple[DexSummary, ...] = ()
    """Each dex with a state, the default dex first (empty HIP-3 dexes included)."""
    tokens: tuple[TokenTotal, ...] = ()
    """Sums per collateral token over the dexes with margin or a position (and the default
    dex): what the row shows. Amounts of different tokens are never added."""

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
    """Sums over the rows that have data (``accounts_with_data`` of ``accounts``).

    ``account_value``, ``total_margin_used``, ``margin_ratio_pct`` and ``total_upnl`` are the
    default dexes' (USDC), as before HIP-3; ``by_token`` has every dex, one total per
    collateral token.
    """

    accounts: int
    accounts_with_data: int
    account_value: str
    total_margin_used: str
    margin_ratio_pct: str | None
    """Sum of maintenance margins / sum of cross account values * 100, 2 dp (default dexes)."""
    total_upnl: str
    positions: int
    """Open positions on every dex."""
    oldest_age_s: float | None
    """Age of the oldest row with data: how old the total is, at worst."""
    by_token: tuple[TokenTotal, ...] = ()
    """One total per collateral token (USDC first, unknown last), never across tokens."""


@dataclass(frozen=True, slots=True)
class _DexEntry:
    state: ClearinghouseState
    stamp: Stamp
    summary: DexSummary
    """Computed once per state, collateral left None (filled in at read: the catalog may
    arrive after the state)."""
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
    """Latest clearinghouse state per dex and summary per watched address."""

    def __init__(self) -> None:
        self._watched: list[str] = []
        self._labels: dict[str, str] = {}
        self._entries: dict[str, dict[str, _DexEntry]] = {}
        """address -> dex -> its last state."""

    def shift_times(self, delta: float) -> None:
        """Move every receive time by ``delta`` s (the store's clock stepped back)."""
        for dexes in self._entries.values():
            for dex, entry in dexes.items():
                stamp = entry.stamp.shifted(delta)
                summary = replace(entry.summary, stamp=stamp)
                dexes[dex] = replace(entry, stamp=stamp, summary=summary)

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
        dex: str = DEFAULT_DEX,
        also: str | None = None,
    ) -> bool:
        """Record ``user``'s state of ``dex`` if watched (or equal to ``also``, the selected
        user). Returns True when a row changed."""
        address = user.lower()
        if not (address in self._watched or address == also):
            return False
        dexes = self._entries.setdefault(address, {})
        held = dexes.get(dex)
        if held is not None and is_older(state, held.state):
            return False  # older than the row's state (a slow REST reply): keep the newer one
        stamp = Stamp(now, state.time, source)
        dexes[dex] = _DexEntry(
            state=state,
            stamp=stamp,
            summary=dex_summary(dex, state, None, stamp),
            cross_value=try_dec(state.crossMarginSummary.accountValue),
            maintenance=try_dec(state.crossMaintenanceMarginUsed),
        )
        return True

    def states_of(self, user: str) -> dict[str, tuple[ClearinghouseState, Stamp]]:
        """Every dex state held for ``user`` and its stamp (to seed a newly selected user)."""
        dexes = self._entries.get(user.lower(), {})
        return {dex: (e.state, e.stamp) for dex, e in dexes.items()}

    def active_dexes(self, user: str) -> tuple[str, ...]:
        """The default dex and every dex where ``user`` holds margin or a position."""
        dexes = self._entries.get(user.lower(), {})
        return (DEFAULT_DEX, *sorted(d for d, e in dexes.items() if d and e.summary.active))

    def stamp(self, user: str) -> Stamp | None:
        """The row's stamp: its oldest shown dex state (None: nothing received)."""
        shown = self._shown(user.lower())
        return min(shown, key=lambda e: e.stamp.received_at).stamp if shown else None

    def _shown(self, address: str) -> list[_DexEntry]:
        """The dex states a row sums: the default dex and the dexes with margin or a
        position (all held ones when none qualifies, so an empty account still has a row)."""
        dexes = self._entries.get(address)
        if not dexes:
            return []
        shown = [e for d, e in dexes.items() if d == DEFAULT_DEX or e.summary.active]
        return shown or list(dexes.values())

    def rows(
        self,
        now: float,
        threshold: float,
        *,
        selected: str | None,
        socket_alive: bool,
        addresses: Sequence[str] | None = None,
        collateral_of: CollateralOf | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[AccountRow]:
        """One row per watched address (or per ``addresses``), in display order;
        ``thresholds`` overrides ``threshold`` per address (a row polled over REST)."""
        out: list[AccountRow] = []
        for address in self._watched if addresses is None else addresses:
            shown = self._shown(address)
            stamp = min((e.stamp for e in shown), key=lambda s: s.received_at, default=None)
            limit = threshold if thresholds is None else thresholds.get(address, threshold)
            status = classify("account", stamp, now, limit, socket_alive=socket_alive)
            main = self._entries.get(address, {}).get(DEFAULT_DEX)
            summaries = self._summaries(address, collateral_of)
            shown_dexes = {e.summary.dex for e in shown}
            out.append(
                AccountRow(
                    address=address,
                    label=self._labels.get(address),
                    selected=address == selected,
                    account_value=None if main is None else main.summary.account_value,
                    total_margin_used=None if main is None else main.summary.total_margin_used,
                    margin_ratio_pct=None if main is None else main.summary.margin_ratio_pct,
                    total_upnl=None if main is None else main.summary.total_upnl,
                    positions=sum(s.positions for s in summaries) if summaries else None,
                    received_at=None if stamp is None else stamp.received_at,
                    source=status.source,
                    state=status.state,
                    age_s=status.age_s,
                    dexes=summaries,
                    tokens=token_totals(s for s in summaries if s.dex in shown_dexes),
                )
            )
        return out

    def _summaries(
        self, address: str, collateral_of: CollateralOf | None
    ) -> tuple[DexSummary, ...]:
        dexes = self._entries.get(address, {})
        return tuple(
            replace(dexes[d].summary, collateral=collateral_of(d) if collateral_of else None)
            for d in sorted(dexes)
        )

    def totals(self, rows: Sequence[AccountRow]) -> AccountTotals:
        """Sums over ``rows`` (as returned by :meth:`rows`)."""
        value = margin = upnl = cross = maint = _ZERO
        positions = with_data = 0
        ratio_known = True
        oldest: float | None = None
        for row in rows:
            if row.received_at is None:
                continue
            with_data += 1
            positions += row.positions or 0
            if row.age_s is not None and (oldest is None or row.age_s > oldest):
                oldest = row.age_s
            main = self._entries.get(row.address, {}).get(DEFAULT_DEX)
            if main is None:
                ratio_known = False
                continue
            value += try_dec(main.summary.account_value) or _ZERO
            margin += try_dec(main.summary.total_margin_used) or _ZERO
            upnl += try_dec(main.summary.total_upnl) or _ZERO
            if main.cross_value is None or main.maintenance is None:
                ratio_known = False
            else:
                cross += main.cross_value
                maint += main.maintenance
        return AccountTotals(
            accounts=len(rows),
            accounts_with_data=with_data,
            account_value=fmt_dec(value),
            total_margin_used=fmt_dec(margin),
            margin_ratio_pct=pct(maint, cross) if ratio_known and with_data else None,
            total_upnl=fmt_dec(upnl),
            positions=positions,
            oldest_age_s=oldest,
            by_token=merge_token_totals(r.tokens for r in rows if r.received_at is not None),
        )
