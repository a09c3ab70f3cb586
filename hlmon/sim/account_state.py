"""The demo account's state and the primitives that add to it.

``AccountState`` holds one margin pool per perp dex (in that dex's collateral token), the
positions, open orders and histories, and knows how to make ids, hashes, valid prices, orders,
fills and fundings. ``hlmon.sim.account_seed`` builds the starting content with these
primitives; ``hlmon.sim.account.DemoAccount`` moves it over time.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hlmon.sim.account_views import AccountViews
from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import Margin
from hlmon.sim.market import Market
from hlmon.sim.numbers import decimal_to_ticks, fmt_exact, ticks_to_decimal
from hlmon.sim.orders import Order, Position, fill_dict, funding_dict, update_order_dict


class AccountState(AccountViews):
    """Pools, positions, orders and histories of one account, with the primitives to add to
    them (the views come from ``AccountViews``)."""

    def __init__(self, market: Market, seed: int, address: str) -> None:
        self.market = market
        self.margin = Margin(market)
        self.address = address
        self.rng = random.Random(seed * 7919 + 17)
        self.pools: dict[str, Decimal] = {dex: Decimal(0) for dex in market.universe.dex_names}
        """Cash of each perp dex (``""`` = default) in that dex's collateral token."""
        self.positions: dict[str, Position] = {}
        self.orders: dict[int, Order] = {}
        self.order_status: dict[int, tuple[dict[str, Any], str, int]] = {}
        self.fills: list[dict[str, Any]] = []
        self.fundings: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.cum_ledger = Decimal(0)
        self.spot_balances: list[dict[str, str]] = []
        self._oid = 4_000_000_000 + (seed % 1000) * 1_000_000

    @property
    def cash(self) -> Decimal:
        """Cash of the default dex's pool."""
        return self.pools[""]

    def next_oid(self) -> int:
        """A fresh order id (increasing, with random gaps as on the exchange)."""
        self._oid += 1 + self.rng.randrange(50)
        return self._oid

    def new_hash(self) -> str:
        """A fresh random transaction hash."""
        return "0x" + f"{self.rng.getrandbits(256):064x}"

    def price_near(self, coin: str, factor: float) -> Decimal:
        """A valid price for ``coin`` near ``mark * factor``."""
        st = self.market.coin(coin)
        assert st is not None
        ticks = max(1, round(self.market.mark_ticks(st) * factor))
        return ticks_to_decimal(ticks, st.exp)

    def place(self, coin: str, side: str, px: Decimal, sz: Decimal, ts: int) -> Order:
        """Rest a limit order."""
        order = Order(self.next_oid(), coin, side, px, sz, sz, ts)
        self.orders[order.oid] = order
        self.order_status[order.oid] = (update_order_dict(order), "open", ts)
        return order

    def place_trigger(
        self,
        coin: str,
        side: str,
        sz: Decimal,
        trigger: Decimal,
        kind: str,
        ts: int,
        *,
        parent: int | None = None,
        position_tpsl: bool = False,
    ) -> Order:
        """Rest a reduce-only take-profit (``kind="tp"``) or stop (``"sl"``) market order."""
        above = (kind == "tp") == (side == "A")
        slip = Decimal("0.9") if side == "A" else Decimal("1.1")
        st = self.market.coin(coin)
        assert st is not None
        limit = ticks_to_decimal(max(1, decimal_to_ticks(trigger * slip, st.exp)), st.exp)
        order = Order(
            self.next_oid(),
            coin,
            side,
            limit,
            sz,
            sz,
            ts,
            order_type="Take Profit Market" if kind == "tp" else "Stop Market",
            tif=None,
            is_trigger=True,
            trigger_px=trigger,
            trigger_condition=f"Price {'above' if above else 'below'} {fmt_exact(trigger)}",
            reduce_only=True,
            is_position_tpsl=position_tpsl,
            parent=parent,
        )
        self.orders[order.oid] = order
        self.order_status[order.oid] = (update_order_dict(order), "open", ts)
        return order

    def make_fill(
        self,
        coin: str,
        px: Decimal,
        sz: Decimal,
        side: str,
        t: int,
        start: Decimal,
        direction: str,
        closed_pnl: Decimal,
        oid: int,
        crossed: bool,
        tid: int | None = None,
        hash_hex: str | None = None,
    ) -> dict[str, Any]:
        """A fill dict; the fee is in the collateral token of the coin's dex."""
        return fill_dict(
            coin,
            px,
            sz,
            side,
            t,
            start,
            direction,
            closed_pnl,
            oid,
            crossed,
            self.market.next_tid() if tid is None else tid,
            hash_hex or self.new_hash(),
            fee_token=self.market.universe.collateral_name(dex_of(coin)),
        )

    make_funding = staticmethod(funding_dict)
