"""The per-dex reads of the ``Store`` (a base class, like the ingest halves): the catalog that
names each dex's collateral token, each dex's summary, totals per token, the dexes an account is
active on, and whether its open-orders list is complete.

Split from ``store.py`` to keep it small; it shares the store's account state and stamps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hlmon.round_memo import RoundMemo

from .account import AccountState
from .accounts import AccountBook
from .catalog import MarketCatalog
from .dexes import (
    DEFAULT_DEX,
    DexSummary,
    TokenTotal,
    account_feed,
    coin_dex,
    collateral_lookup,
    dex_summaries,
    has_margin_or_position,
    orders_feed,
    token_totals,
)
from .types import Clock, PositionView, Stamp


class DexReads:
    """Per-dex account reads for the selected user (and active dexes of any watched one)."""

    # Set by Store.__init__.
    _account: AccountState
    _accounts: AccountBook
    _user: str | None
    _stamps: dict[str, Stamp]
    _changes: set[str]
    _clock: Clock
    _dex_rounds: RoundMemo[str, DexSummary]
    """Each dex's last summary, by the inputs it was built from (``dexes.dex_summaries``)."""
    _dex_memo: tuple[object, ...] | None = None
    """(rows, catalog, ((dex, state, stamp), ...), summaries) of the last ``dex_summaries``."""
    _totals_memo: tuple[tuple[DexSummary, ...], tuple[TokenTotal, ...]] | None = None
    """(summaries, totals) of the last ``token_totals``."""

    if TYPE_CHECKING:  # the Store provides it

        @property
        def catalog(self) -> MarketCatalog | None:
            """The market catalog in force (each dex's collateral token comes from it)."""

        def _position_views(self) -> list[PositionView]:
            """The rows ``positions()`` returns (cached)."""

    def collateral_of(self, dex: str) -> str | None:
        """The collateral token name of ``dex`` (None: unknown, no catalog or not listed;
        the default dex is USDC without a catalog)."""
        return collateral_lookup(self.catalog)(dex)

    def dex_summaries(self) -> tuple[DexSummary, ...]:
        """The selected user's account on each dex with a state (empty ones included), the
        default dex first, each in its collateral token and with its own stamp; ``equity``
        and ``live_upnl`` at the marks of ``positions()`` (as the default dex's summary)."""
        rows = self._position_views()
        catalog = self.catalog
        states = self._account.clearinghouse
        inputs = tuple((dex, st, self._stamps.get(account_feed(dex))) for dex, st in states.items())
        memo = self._dex_memo
        # States, stamps and rows are replaced, never changed in place: the same objects give
        # the same summaries (read several times a frame, built again only after a change).
        if memo is not None and memo[0] is rows and memo[1] is catalog and _same(memo[2], inputs):
            return memo[3]  # type: ignore[return-value]
        stamps = {dex: st for dex, _, st in inputs if st is not None}
        out = dex_summaries(states, stamps, collateral_lookup(catalog), rows, self._dex_rounds)
        self._dex_memo = (rows, catalog, inputs, out)
        return out

    def token_totals(self) -> tuple[TokenTotal, ...]:
        """The selected user's totals per collateral token (USDC first, unknown last) over the
        default dex and the dexes with margin or a position; tokens are never added together."""
        summaries = self.dex_summaries()
        memo = self._totals_memo
        if memo is not None and memo[0] is summaries:
            return memo[1]  # the same summaries (``dex_summaries`` is memoised): same totals
        out = token_totals(s for s in summaries if s.active or not s.dex)
        self._totals_memo = (summaries, out)
        return out

    def active_dexes(self, address: str | None = None) -> tuple[str, ...]:
        """Dexes whose state and orders are fetched: the default dex (it carries spot orders),
        dexes with margin or a position, and, for the selected user, the dexes of open orders,
        of fills and order updates of the last hour and of fundings of the last two hours.
        ``address``: another watched account (its last states only). Never every dex: only
        where there is activity."""
        if address is not None and address.lower() != self._user:
            return self._accounts.active_dexes(address)
        account = self._account
        now_ms = int(self._clock() * 1000)
        dexes = {DEFAULT_DEX}
        # The dexes whose summary is ``active``, read from the states alone: building the
        # summaries would judge every position's mark (the REST poller asks 4 times a second).
        stamps = self._stamps
        dexes.update(
            dex
            for dex, state in account.clearinghouse.items()
            if stamps.get(account_feed(dex)) is not None and has_margin_or_position(state)
        )
        dexes.update(coin_dex(o.coin) for o in account.orders.values())
        dexes.update(dex for dex, until in account.activity.items() if until >= now_ms)
        return tuple(sorted(dexes))

    def dexes_listed(self) -> bool:
        """An ``allDexsClearinghouseState`` push has listed the selected account's dexes (so
        the active dexes are known, not just the default one)."""
        return self._account.dexes_listed

    def orders_ready(self) -> bool:
        """The open-orders list is complete: both the state and the orders list of every
        active dex have arrived. Before that an empty list would be a false "no orders"."""
        account = self._account
        return all(
            dex in account.orders_loaded and dex in account.clearinghouse
            for dex in self.active_dexes()
        )

    def account_feeds(self) -> list[str]:
        """Feed keys of the selected user's active dexes' states (``account``, ``account:xyz``)."""
        return [account_feed(dex) for dex in self.active_dexes()]

    def order_feeds(self) -> list[str]:
        """Feed keys of the selected user's active dexes' orders (``orders``, ``orders:xyz``)."""
        return [orders_feed(dex) for dex in self.active_dexes()]


def _same(old: object, new: tuple[tuple[object, ...], ...]) -> bool:
    """Whether two ``(dex, state, stamp)`` tuples hold the very same objects."""
    if not isinstance(old, tuple) or len(old) != len(new):
        return False
    return all(
        a[0] == b[0] and a[1] is b[1] and a[2] is b[2] for a, b in zip(old, new, strict=True)
    )
