"""The lower tabs' rows: handed to the visible tab's table when its data changes, to a hidden
tab's when it is shown.

Formatting 2,000 fills again on every new fill, for a tab nobody is looking at, was most of a
frame under load. A hidden tab only learns how many rows wait for it (``set_pending``), so its
name still counts them at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hlmon.round_memo import RoundMemo
from hlmon.state import Store
from hlmon.state.accounts import AccountRow
from hlmon.ui.widgets.account import (
    OrderRowMemo,
    account_rows,
    fill_rows,
    funding_rows,
    log_rows,
    order_rows,
)
from hlmon.ui.widgets.tabs import LowerTabs
from hlmon.ui.widgets.whole_account import AccountFacts

TAB_KEYS: dict[str, frozenset[str]] = {
    # A state can make a dex active; the catalog names a spot pair (``@107`` -> HYPE/USDC).
    "orders": frozenset(("orders", "account", "catalog")),
    "fills": frozenset(("fills", "catalog")),
    "funding": frozenset(("fundings",)),
    "log": frozenset(("log",)),
    "accounts": frozenset(("account", "accounts")),
}
"""The change keys each lower tab shows."""
TABLE_KEYS = frozenset().union(*TAB_KEYS.values())
"""Every change key some lower tab shows."""
PENDING_COUNTS: dict[str, Callable[[Store], int]] = {
    "orders": lambda store: len(store.open_orders()),
    "fills": lambda store: len(store.fills()),
    "funding": lambda store: len(store.fundings()),
}
"""Tabs whose names count their rows: how many rows the store holds."""
_FEEDS = {"fills": "fills", "funding": "fundings"}
"""The feed whose first data makes a tab's rows the truth (orders: see ``loaded``)."""


class TabRows:
    """Which lower tabs' rows changed, and handing them over (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        lower: LowerTabs,
        clock: Callable[[], float],
        address: Callable[[], str | None],
        account_facts: Callable[[list[AccountRow]], dict[str, AccountFacts]],
    ) -> None:
        self.store = store
        self._account_facts = account_facts
        self.lower = lower
        self.clock = clock
        self._address = address
        self.stale: set[str] = set(TAB_KEYS)
        """Tabs whose data changed since their table last got its rows."""
        self._orders_seen: tuple[bool, int] | None = None
        """(``loaded("orders")``, local day) when the orders table last got its rows."""
        self._order_rows: OrderRowMemo = RoundMemo()
        """The orders' rows last handed over (an unchanged order is not formatted again)."""

    def changed(self, changes: set[str]) -> None:
        """Data changed: the visible tab gets its rows, hidden ones their counts."""
        for tab, keys in TAB_KEYS.items():
            if not keys.isdisjoint(changes) and not self._same_orders(tab, changes):
                self.stale.add(tab)
        for tab in self.stale.copy():
            if tab == self.lower.active:
                self.fill(tab)
            elif tab in PENDING_COUNTS:
                count = PENDING_COUNTS[tab](self.store)
                self.lower.tables[tab].set_pending(count, loaded=self.loaded(tab))

    def _same_orders(self, tab: str, changes: set[str]) -> bool:
        """A state push without an orders change (several a second under load) changes the
        orders' rows only if it completes (or undoes) the list, a dex became active (or a new
        day began: times of older orders show their date). A new catalog may rename a coin."""
        return (
            tab == "orders"
            and changes.isdisjoint(("orders", "catalog"))
            and tab not in self.stale
            and self._orders_view() == self._orders_seen
        )

    def _orders_view(self) -> tuple[bool, int]:
        return self.loaded("orders"), time.localtime(self.clock()).tm_yday

    def shown(self, tab: str) -> None:
        """``tab`` became visible: its rows, if they changed while it was hidden."""
        if tab in self.stale:
            self.fill(tab)

    def fill(self, tab: str) -> None:
        """Hand ``tab``'s table its rows."""
        self.stale.discard(tab)
        store, now, table = self.store, self.clock(), self.lower.tables[tab]
        if tab == "accounts":
            rows = store.accounts()
            total = store.accounts_total(rows)
            table.set_data(*account_rows(rows, total, self._account_facts(rows)))
        elif tab == "orders":
            orders = store.open_orders()
            flags = {o.oid: f for o in orders if (f := store.order_flag(o.oid)) is not None}
            self._orders_seen = seen = self._orders_view()
            listed = order_rows(orders, now, flags, self._order_rows, store.display_name)
            table.set_data(*listed, loaded=seen[0])
        elif tab == "fills":
            fills = fill_rows(store.fills(), now, store.display_name)
            table.set_data(*fills, loaded=self.loaded(tab))
        elif tab == "funding":
            table.set_data(*funding_rows(store.fundings(), now), loaded=self.loaded(tab))
        elif tab == "log":
            table.set_data(*log_rows(store.health.events))

    def loaded(self, tab: str) -> bool:
        """Whether a tab's rows are the truth yet (without an address there is nothing to wait
        for): the orders only once the state and the orders of every active dex have arrived
        (an empty list before that would be a false "no open orders")."""
        if self._address() is None:
            return True
        if tab == "orders":
            return self.store.orders_ready()
        feed = _FEEDS.get(tab)
        return feed is None or self.store.stamp(feed) is not None
