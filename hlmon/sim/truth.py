"""``Truth``: the demo account as the simulator knows it, for assertions in tests and
``GET /_sim/truth``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hlmon.sim.account import DemoAccount


@dataclass(slots=True)
class Truth:
    """The simulator's own view of the demo account, for assertions in tests."""

    address: str
    fills: list[dict[str, Any]] = field(default_factory=list)
    """Every fill of the demo account, oldest first (history included)."""
    clearinghouse_state: dict[str, Any] = field(default_factory=dict)
    """The default dex's state (what ``clearinghouseState`` without ``dex`` answers)."""
    open_orders: list[dict[str, Any]] = field(default_factory=list)
    """Frontend-shaped open orders of the default dex."""
    fundings: list[dict[str, Any]] = field(default_factory=list)
    """Every funding payment, oldest first (all dexes)."""
    time: int = 0
    dex_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every perp dex's state by dex name (``""`` = default), empty dexes included."""
    dex_open_orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Frontend-shaped open orders by dex name."""
    account_mode: str = "standard"
    """``standard``, ``unified`` or ``portfolio`` (``SimServer(demo_account=...)``)."""
    spot_state: dict[str, Any] = field(default_factory=dict)
    """What ``spotClearinghouseState`` answers now."""
    twap_slice_fills: list[dict[str, Any]] = field(default_factory=list)
    """Every ``{fill, twapId}`` of the demo account's TWAP slices, oldest first (these are
    not in ``fills``: the exchange never lists them on ``userFills``)."""
    twap_states: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Active TWAPs (``[twapId, state]``) by dex name."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (``GET /_sim/truth``)."""
        return {
            "address": self.address,
            "time": self.time,
            "fills": self.fills,
            "clearinghouseState": self.clearinghouse_state,
            "openOrders": self.open_orders,
            "fundings": self.fundings,
            "dexClearinghouseStates": self.dex_states,
            "dexOpenOrders": self.dex_open_orders,
            "accountMode": self.account_mode,
            "spotState": self.spot_state,
            "twapSliceFills": self.twap_slice_fills,
            "twapStates": self.twap_states,
        }


def truth_of(acc: DemoAccount) -> Truth:
    """A snapshot of ``acc`` now."""
    dexes = acc.market.universe.dex_names
    return Truth(
        address=acc.address,
        fills=list(acc.fills),
        clearinghouse_state=acc.clearinghouse_state(),
        open_orders=acc.frontend_open_orders(),
        fundings=list(acc.fundings),
        time=acc.market.now,
        dex_states={dex: acc.clearinghouse_state(dex) for dex in dexes},
        dex_open_orders={dex: acc.frontend_open_orders(dex) for dex in dexes},
        account_mode=acc.mode,
        spot_state=acc.spot_clearinghouse_state(),
        twap_slice_fills=list(acc.twaps.slice_fills),
        twap_states={dex: acc.twap_states(dex) for dex in dexes},
    )
