"""The demo account's state and the primitives that add to it.

``AccountState`` holds one margin pool per perp dex (in that dex's collateral token), the
positions, open orders and histories, the spot wallet and the TWAP book, and knows how to make
ids, hashes, valid prices, orders, fills and fundings, and how to execute a trade
(``execute``: a perp trade moves a position and its pool, a spot trade the wallet; both put
the trade on the tape). ``hlmon.sim.account_seed`` builds the starting content with these
primitives; ``hlmon.sim.account.DemoAccount`` moves it over time.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hlmon.sim.account_views import AccountViews
from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import Margin, apply_fill
from hlmon.sim.market import Market
from hlmon.sim.numbers import decimal_to_ticks, fmt_exact, ticks_to_decimal
from hlmon.sim.orders import (
    AccountEvents,
    Order,
    Position,
    fill_dict,
    funding_dict,
    update_order_dict,
)
from hlmon.sim.roles import check_mode
from hlmon.sim.spot import SpotWallet
from hlmon.sim.twap import TwapBook

MAX_FILLS = 10_000
"""Fills kept (the exchange serves only the 10 000 most recent)."""
MAX_HISTORY = 10_000
"""Fundings and ledger updates kept each: a demo of weeks must not grow without end (hlmon
itself keeps 1 000 and 500)."""
TRIM_SLACK = 1000
"""A history is trimmed once it is this far over its cap (one slice delete, not one per item)."""


def keep_recent(items: list[Any], cap: int) -> None:
    """Drop the oldest of ``items`` (oldest first) once they are ``TRIM_SLACK`` over ``cap``."""
    if len(items) > cap + TRIM_SLACK:
        del items[: len(items) - cap]


class AccountState(AccountViews):
    """Pools, positions, orders and histories of one account, with the primitives to add to
    them (the views come from ``AccountViews``)."""

    def __init__(self, market: Market, seed: int, address: str, mode: str = "standard") -> None:
        self.market = market
        self.mode = check_mode(mode)
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
        self.spot = SpotWallet(market)
        self.twaps = TwapBook(address)
        self.lid = 0
        """Last liquidation id (``userEvents`` ``liquidation.lid``)."""
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

    def place_stop_limit(
        self, coin: str, side: str, sz: Decimal, trigger: Decimal, limit: Decimal, ts: int
    ) -> Order:
        """Rest a Stop Limit order: when the mark crosses ``trigger`` it is ``triggered`` and
        then rests on the book as a limit order at ``limit``."""
        above = side == "B"
        order = Order(
            self.next_oid(),
            coin,
            side,
            limit,
            sz,
            sz,
            ts,
            order_type="Stop Limit",
            tif=None,
            is_trigger=True,
            trigger_px=trigger,
            trigger_condition=f"Price {'above' if above else 'below'} {fmt_exact(trigger)}",
        )
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

    def remove_order(self, oid: int) -> None:
        """Take an order off the open list (and unlink it from its parent and children)."""
        order = self.orders.pop(oid, None)
        if order is None:
            return
        for parent in self.orders.values():
            if oid in parent.children:
                parent.children.remove(oid)
        for child in order.children:
            if child in self.orders:
                self.orders[child].parent = None

    def record_fill(self, fill: dict[str, Any], ev: AccountEvents) -> None:
        """List a fill on ``userFills`` (and trim the history to what the exchange keeps)."""
        self.fills.append(fill)
        keep_recent(self.fills, MAX_FILLS)  # only the most recent fills stay reachable
        ev.fills.append(fill)

    def record_funding(self, item: dict[str, Any]) -> None:
        """List a funding payment (oldest trimmed past ``MAX_HISTORY``)."""
        self.fundings.append(item)
        keep_recent(self.fundings, MAX_HISTORY)

    def record_ledger(self, item: dict[str, Any]) -> None:
        """List a non-funding ledger update (oldest trimmed past ``MAX_HISTORY``)."""
        self.ledger.append(item)
        keep_recent(self.ledger, MAX_HISTORY)

    def set_status(self, order: Order, status: str, now: int, sz: Decimal | None = None) -> None:
        """Record an order's new status (``orderStatus``/``historicalOrders``) and trim."""
        self.order_status[order.oid] = (update_order_dict(order, sz), status, now)
        if len(self.order_status) > MAX_FILLS + TRIM_SLACK:
            for oid in sorted(self.order_status)[: len(self.order_status) - MAX_FILLS]:
                if oid not in self.orders:
                    del self.order_status[oid]

    def execute(
        self,
        coin: str,
        side: str,
        px: Decimal,
        sz: Decimal,
        crossed: bool,
        now: int,
        ev: AccountEvents,
        oid: int,
        *,
        hash_hex: str | None = None,
        twap_id: int | None = None,
        direction: str | None = None,
    ) -> dict[str, Any]:
        """Trade ``sz`` of ``coin`` at ``px`` for the demo account and put it on the tape.

        A perp trade moves the position and its dex's pool (the fee in the dex's collateral
        token); a spot trade moves the wallet (the fee in the token received). Returns the
        fill; the caller decides where it is listed (fills, TWAP slice fills).
        """
        st = self.market.coin(coin)
        assert st is not None
        hash_hex = hash_hex or self.new_hash()
        tid = self.market.next_tid()
        if st.spec.is_spot:
            fee, token, pnl, start = self.spot.apply_fill(st.spec, side, px, sz, crossed)
            fill = fill_dict(
                coin,
                px,
                sz,
                side,
                now,
                start,
                direction or ("Buy" if side == "B" else "Sell"),
                pnl,
                oid,
                crossed,
                tid,
                hash_hex,
                fee_token=token,
                fee=fee,
                twap_id=twap_id,
            )
            ev.spot_changed = True
        else:
            fill = self._execute_perp(coin, side, px, sz, crossed, now, oid, tid, hash_hex)
            if direction is not None:
                fill["dir"] = direction
            fill["twapId"] = twap_id
        other = self.rng.choice(self.market.users)
        users = [self.address, other] if side == "B" else [other, self.address]
        aggressor = side if crossed else ("A" if side == "B" else "B")
        trade = self.market.record_trade(
            st.spec.index,
            aggressor,
            decimal_to_ticks(px, st.exp),
            decimal_to_ticks(sz, -st.spec.sz_decimals),
            users,
            tid,
            hash_hex,
        )
        ev.trades.append(trade)
        return fill

    def _execute_perp(
        self,
        coin: str,
        side: str,
        px: Decimal,
        sz: Decimal,
        crossed: bool,
        now: int,
        oid: int,
        tid: int,
        hash_hex: str,
    ) -> dict[str, Any]:
        pos = self.positions.get(coin)
        start = pos.szi if pos else Decimal(0)
        delta = sz if side == "B" else -sz
        if start == 0 or (start > 0) == (delta > 0):
            direction = "Open Long" if delta > 0 else "Open Short"
        elif abs(delta) <= abs(start):
            direction = "Close Long" if start > 0 else "Close Short"
        else:
            direction = "Long > Short" if start > 0 else "Short > Long"
        closed_pnl = Decimal(0)
        if pos is not None and start != 0 and (start > 0) != (delta > 0):
            closed = min(abs(delta), abs(start))
            closed_pnl = closed * (px - pos.entry) * (1 if start > 0 else -1)
        st = self.market.coin(coin)
        assert st is not None
        fill = self.make_fill(
            coin, px, sz, side, now, start, direction, closed_pnl, oid, crossed, tid, hash_hex
        )
        dex = st.spec.dex
        self.pools[dex] -= Decimal(fill["fee"])
        if pos is None:  # a new position: cross unless the market is isolated-only
            lev = min(10, st.spec.max_leverage)
            pos = Position(coin, Decimal(0), px, lev, not st.spec.strict_isolated)
            self.positions[coin] = pos
        self.pools[dex] += apply_fill(pos, start, delta, px)
        if pos.szi == 0:
            del self.positions[coin]
        return fill
