"""The dashboard's whole-account panes (#14): the Spot and TWAP tabs, the fees line under the
Fills tab, and the offer to watch an agent wallet's master account instead.

Split from ``dashboard`` to keep it small; it reads the same store on the same frame timer and
writes into the dashboard's lower tabs. It knows the dashboard only through ``Host`` (no import
of it: the import graph stays acyclic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from textual.notifications import SeverityLevel

from hlmon.state import Store
from hlmon.state.accounts import AccountRow
from hlmon.ui.fmt import short_address
from hlmon.ui.widgets.tabs import LowerTabs
from hlmon.ui.widgets.whole_account import (
    AccountFacts,
    fee_summary,
    spot_rows,
    spot_total_text,
    twap_footer,
    twap_rows,
)


class Host(Protocol):
    """What the panes need from the screen that shows them (the dashboard)."""

    store: Store
    lower: LowerTabs
    address: str | None

    def _loaded(self, feed: str) -> bool: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


EXTRAS_CHANGES = frozenset(("spot", "twaps", "role"))
"""Change keys these panes redraw on (a full refresh passes them all)."""
SPOT_KEYS = frozenset(("spot", "mids", "catalog"))
"""What the Spot tab shows: the balances, valued at the mids, named by the catalog."""


class ExtrasPanes:
    """Fills the Spot and TWAP tabs and the fees footer of one dashboard."""

    def __init__(self, dashboard: Host) -> None:
        self.dashboard = dashboard
        self._offered: set[str] = set()
        """Agent wallets whose master account was offered already (once per address)."""

    def apply_changes(self, changes: set[str] | frozenset[str]) -> None:
        """Redraw what the changed keys feed. The Spot tab (its values move with the mids)
        and the Fills tab's fee line follow while they are shown, and are brought up to date
        when they are shown: hidden, nothing of them is on screen (under load the spot state
        and the fills, summed whole for the fees, change several times a second). The TWAP
        tab's name counts its rows: it follows hidden too."""
        active = self.dashboard.lower.active
        if active == "spot" and not SPOT_KEYS.isdisjoint(changes):
            self.update_spot()
        store = self.dashboard.store
        # Without twapStates a TWAP's progress is its slice fills: they move it too.
        derived = "fills" in changes and not store.twaps_streamed()
        if "twaps" in changes or "catalog" in changes or derived:
            self.update_twaps()
        if active == "fills" and ("fills" in changes or "spot" in changes):
            self.update_fees()
        if "role" in changes:
            self.offer_master()

    def shown(self, tab: str) -> None:
        """A tab was brought to the front: draw it with what is current."""
        if tab == "spot":
            self.update_spot()
        elif tab == "twap":
            self.update_twaps()
        elif tab == "fills":
            self.update_fees()

    def update_spot(self) -> None:
        d = self.dashboard
        table = d.lower.tables["spot"]
        valuation = d.store.spot_valuation()
        if valuation is None:
            table.set_data([], loaded=d.address is None)
            d.lower.set_footer("spot", "")
            return
        table.set_data(*spot_rows(valuation), loaded=True)
        d.lower.set_footer("spot", spot_total_text(valuation))

    def update_twaps(self) -> None:
        d = self.dashboard
        twaps = d.store.twaps()
        rows = twap_rows(twaps, d.store.display_name)
        table = d.lower.tables["twap"]
        table.set_data(*rows, loaded=d.address is None or d.store.twaps_loaded())
        d.lower.set_footer("twap", twap_footer(twaps))

    def update_fees(self) -> None:
        d = self.dashboard
        d.lower.set_footer("fills", fee_summary(d.store.fee_totals()))

    def facts(self, rows: Sequence[AccountRow]) -> dict[str, AccountFacts]:
        """Mode, role and equity by mode of each watched account (the Accounts tab)."""
        store = self.dashboard.store
        return {
            r.address: AccountFacts(
                store.account_mode(r.address),
                store.user_role(r.address),
                store.account_figures(r.address),
            )
            for r in rows
        }

    def master_offer(self) -> tuple[str, str] | None:
        """(agent wallet, its master account) when the selected address is an agent wallet
        whose master is known."""
        d = self.dashboard
        role = d.store.user_role()
        if d.address is None or role is None or role.role != "agent" or not role.master:
            return None
        return d.address.lower(), role.master.lower()

    def offer_master(self) -> None:
        """Say once per address that an agent wallet was given, and how to watch its master."""
        offer = self.master_offer()
        if offer is None or offer[0] in self._offered:
            return
        agent, master = offer
        self._offered.add(agent)
        self.dashboard.notify(
            f"{short_address(agent)} is an agent (API) wallet: it has no positions or orders "
            f"of its own. Press shift+w (or ctrl+p, 'Watch master account') to watch its "
            f"master {short_address(master)} instead.",
            title="agent wallet",
            severity="warning",
            timeout=30,
        )
