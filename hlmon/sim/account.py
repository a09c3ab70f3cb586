"""The demo account: positions, resting and trigger orders, fills and funding over time.

Money is ``Decimal`` throughout. Each perp dex has its own margin pool in that dex's collateral
token (``pools``), and the accounting identity the exchange shows holds per dex by
construction: ``accountValue = totalRawUsd + sum(szi * markPx)``, per margin mode. Resting
orders fill when the market trades through them (and on a schedule, so a demo always shows
fills); each fill removes the order, moves the position, pays a fee from its dex's pool, puts
the trade on the tape with the fill's ``tid``, and re-places a fresh order near the market.
The starting content is in ``hlmon.sim.account_seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlmon.sim.account_seed import seed_demo
from hlmon.sim.account_state import AccountState
from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import apply_fill
from hlmon.sim.market import FUNDING_DELAY_MS, HOUR_MS, Market
from hlmon.sim.numbers import (
    MONEY_QUANTUM,
    decimal_to_ticks,
    fmt_exact,
    fmt_float,
    plain_number,
    ticks_to_decimal,
)
from hlmon.sim.orders import (
    AccountEvents,
    Order,
    Position,
    funding_dict,
    update_order_dict,
)

__all__ = ["AccountEvents", "AccountParams", "DemoAccount"]

DEMO_ADDRESS = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
MAX_FILLS = 10_000
"""Fills kept (the exchange serves only the 10 000 most recent)."""


@dataclass(slots=True)
class AccountParams:
    """How often the demo account fills (seconds between scheduled fills)."""

    fill_every_min_s: float = 10.0
    fill_every_max_s: float = 30.0


def _q(value: Decimal, quantum: Decimal = MONEY_QUANTUM) -> Decimal:
    return value.quantize(quantum)


class DemoAccount(AccountState):
    """The one account with data; every other valid address is an empty account."""

    def __init__(
        self,
        market: Market,
        seed: int,
        params: AccountParams | None = None,
        address: str = DEMO_ADDRESS,
    ) -> None:
        super().__init__(market, seed, address)
        self.params = params or AccountParams()
        self.listener: Callable[[AccountEvents], None] | None = None
        now = market.now
        self.funding_due = (now // HOUR_MS + 1) * HOUR_MS + FUNDING_DELAY_MS
        self.next_fill_at = now + self._fill_gap()
        seed_demo(self, now)

    # ------------------------------------------------------------------ schedule

    def _fill_gap(self) -> int:
        p = self.params
        return int(self.rng.uniform(p.fill_every_min_s, p.fill_every_max_s) * 1000)

    # ------------------------------------------------------------------ dynamics

    def step(self, now: int) -> AccountEvents:
        """Fill crossed orders, fire the fill schedule and pay funding at block ``now``."""
        ev = AccountEvents()
        for order in list(self.orders.values()):
            if order.oid not in self.orders:
                continue
            st = self.market.coin(order.coin)
            assert st is not None
            if order.is_trigger:
                if order.parent is not None and order.parent in self.orders:
                    continue
                mark = self.market.mark_decimal(st)
                above = order.trigger_condition.startswith("Price above")
                if (mark >= order.trigger_px) if above else (mark <= order.trigger_px):
                    self._trigger(order, mark, now, ev)
                continue
            best_bid = ticks_to_decimal(st.bid, st.exp)
            best_ask = ticks_to_decimal(st.ask, st.exp)
            if (order.side == "B" and best_ask <= order.limit_px) or (
                order.side == "A" and best_bid >= order.limit_px
            ):
                self._fill_order(order, order.limit_px, order.sz, False, now, ev)
        if now >= self.next_fill_at:
            self.next_fill_at = now + self._fill_gap()
            self._force(None, now, ev, any_dex=True)
        if now >= self.funding_due:
            self._pay_funding(self.funding_due, ev)
            self.funding_due = (now // HOUR_MS + 1) * HOUR_MS + FUNDING_DELAY_MS
        if ev and self.listener is not None:
            self.listener(ev)
        return ev

    def deposit(self, usdc: Decimal | str = "1000") -> dict[str, Any]:
        """Credit a USDC deposit to the default dex now (a ``userNonFundingLedgerUpdates``
        event)."""
        amount = Decimal(usdc)
        self.pools[""] += amount
        self.cum_ledger += amount
        item = {
            "time": self.market.now,
            "hash": self.new_hash(),
            "delta": {"type": "deposit", "usdc": fmt_exact(amount)},
        }
        self.ledger.append(item)
        ev = AccountEvents(ledger=[item])
        if self.listener is not None:
            self.listener(ev)
        return item

    def force_fill(self, coin: str | None = None) -> dict[str, Any] | None:
        """Fill one resting limit order now; returns the fill or None.

        ``coin`` names the market (any dex, e.g. ``xyz:TSLA``); without it a default-dex order
        is chosen, so a test's forced fill always moves the default dex's state. Scheduled
        fills choose among every dex.
        """
        ev = AccountEvents()
        fill = self._force(coin, self.market.now, ev)
        if ev and self.listener is not None:
            self.listener(ev)
        return fill

    def _force(
        self, coin: str | None, now: int, ev: AccountEvents, *, any_dex: bool = False
    ) -> dict[str, Any] | None:
        candidates = [
            o
            for o in self.orders.values()
            if not o.is_trigger
            and (o.coin == coin if coin is not None else any_dex or dex_of(o.coin) == "")
        ]
        if not candidates:
            return None
        candidates.sort(key=lambda o: o.oid)
        order = candidates[self.rng.randrange(len(candidates))]
        st = self.market.coin(order.coin)
        assert st is not None
        # The market trades through the order: move the book there first.
        self.market.cross_to(
            st.spec.index, decimal_to_ticks(order.limit_px, st.exp), order.side == "B"
        )
        return self._fill_order(order, order.limit_px, order.sz, False, now, ev)

    def _trigger(self, order: Order, mark: Decimal, now: int, ev: AccountEvents) -> None:
        pos = self.positions.get(order.coin)
        self._remove(order.oid)
        closing = pos is not None and ((pos.szi > 0) == (order.side == "A"))
        if pos is None or not closing:
            ev.order_updates.append(
                {
                    "order": update_order_dict(order, Decimal(0)),
                    "status": "reduceOnlyCanceled",
                    "statusTimestamp": now,
                }
            )
            return
        ev.order_updates.append(
            {"order": update_order_dict(order), "status": "triggered", "statusTimestamp": now}
        )
        sz = min(order.sz, abs(pos.szi))
        self._fill_order(order, mark, sz, True, now, ev, already_removed=True)

    def _remove(self, oid: int) -> None:
        order = self.orders.pop(oid, None)
        if order is None:
            return
        for parent in self.orders.values():
            if oid in parent.children:
                parent.children.remove(oid)
        for child in order.children:
            if child in self.orders:
                self.orders[child].parent = None

    def _fill_order(
        self,
        order: Order,
        px: Decimal,
        sz: Decimal,
        crossed: bool,
        now: int,
        ev: AccountEvents,
        *,
        already_removed: bool = False,
    ) -> dict[str, Any]:
        if not already_removed:
            self._remove(order.oid)
        coin = order.coin
        pos = self.positions.get(coin)
        start = pos.szi if pos else Decimal(0)
        delta = sz if order.side == "B" else -sz
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
        hash_hex = self.new_hash()
        tid = self.market.next_tid()
        fill = self.make_fill(
            coin,
            px,
            sz,
            order.side,
            now,
            start,
            direction,
            closed_pnl,
            order.oid,
            crossed,
            tid,
            hash_hex,
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
        self.fills.append(fill)
        if len(self.fills) > MAX_FILLS + 1000:  # only the most recent fills stay reachable
            del self.fills[: len(self.fills) - MAX_FILLS]
        ev.fills.append(fill)
        done = update_order_dict(order, Decimal(0))
        ev.order_updates.append({"order": done, "status": "filled", "statusTimestamp": now})
        self.order_status[order.oid] = (done, "filled", now)
        if len(self.order_status) > MAX_FILLS + 1000:
            for oid in sorted(self.order_status)[: len(self.order_status) - MAX_FILLS]:
                if oid not in self.orders:
                    del self.order_status[oid]
        verb = "Bought" if order.side == "B" else "Sold"
        ev.notifications.append(
            f"{'Resting order' if not crossed else order.order_type + ' order'} filled: "
            f"{verb} {plain_number(sz)} {coin} at ${plain_number(px)}"
        )
        other = self.rng.choice(self.market.users)
        users = [self.address, other] if order.side == "B" else [other, self.address]
        aggressor = ("A" if order.side == "B" else "B") if not crossed else order.side
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
        if not order.is_trigger:
            self._replace(order, now, ev)
        return fill

    def _replace(self, filled: Order, now: int, ev: AccountEvents) -> None:
        """Re-place a resting order near the market so fills keep coming."""
        side = "A" if filled.side == "B" else "B"
        factor = 1 + self.rng.uniform(0.002, 0.008) * (1 if side == "A" else -1)
        px = self.price_near(filled.coin, factor)
        order = self.place(filled.coin, side, px, filled.orig_sz, now)
        ev.order_updates.append(
            {"order": update_order_dict(order), "status": "open", "statusTimestamp": now}
        )

    def _pay_funding(self, t: int, ev: AccountEvents) -> None:
        for pos in self.positions.values():
            st = self.market.coin(pos.coin)
            assert st is not None
            rate = Decimal(fmt_float(self.market.funding_rate(st), 10))
            usdc = _q(-pos.szi * self.market.mark_decimal(st) * rate)
            if pos.cross:
                self.pools[st.spec.dex] += usdc
            else:
                pos.raw_usd += usdc
            pos.cum_all -= usdc
            pos.cum_open -= usdc
            pos.cum_change -= usdc
            item = funding_dict(t, pos, usdc, rate)
            self.fundings.append(item)
            ev.fundings.append(item)
