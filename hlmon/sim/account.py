"""The demo account: positions, resting and trigger orders, fills and funding over time.

Money is ``Decimal`` throughout. Each perp dex has its own margin pool in that dex's collateral
token (``pools``), and the accounting identity the exchange shows holds per dex by
construction: ``accountValue = totalRawUsd + sum(szi * markPx)``, per margin mode. Resting
orders fill when the market trades through them (and on a schedule, so a demo always shows
fills); each fill removes the order, moves the position (or, for a spot pair, the spot
wallet), pays a fee, puts the trade on the tape with the fill's ``tid``, and re-places a fresh
order near the market. A Stop Limit order whose trigger the mark crosses is ``triggered`` and
rests as a limit order; TWAPs execute a slice every 30 s; a liquidation can be forced
(``hlmon.sim.account_actions``). The account mode (``standard``/``unified``/``portfolio``)
changes only how the balances read (``hlmon.sim.account_views``), never the money. The
starting content is in ``hlmon.sim.account_seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlmon.sim import account_actions
from hlmon.sim.account_seed import seed_demo
from hlmon.sim.account_state import MAX_FILLS, AccountState
from hlmon.sim.dexes import dex_of
from hlmon.sim.market import FUNDING_DELAY_MS, HOUR_MS, Market
from hlmon.sim.numbers import (
    MONEY_QUANTUM,
    decimal_to_ticks,
    fmt_exact,
    fmt_float,
    plain_number,
    ticks_to_decimal,
)
from hlmon.sim.orders import AccountEvents, Order, funding_dict, update_order_dict
from hlmon.sim.roles import DEMO_ADDRESS

__all__ = ["DEMO_ADDRESS", "MAX_FILLS", "AccountEvents", "AccountParams", "DemoAccount"]


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
        mode: str = "standard",
    ) -> None:
        super().__init__(market, seed, address, mode)
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

    def _emit(self, ev: AccountEvents) -> None:
        if ev and self.listener is not None:
            self.listener(ev)

    # ------------------------------------------------------------------ dynamics

    def step(self, now: int) -> AccountEvents:
        """Fill crossed orders, fire triggers, TWAP slices, the fill schedule and funding at
        block ``now``."""
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
        account_actions.run_twaps(self, now, ev)
        if now >= self.next_fill_at:
            self.next_fill_at = now + self._fill_gap()
            self._force(None, now, ev, any_dex=True)
        if now >= self.funding_due:
            self._pay_funding(self.funding_due, ev)
            self.funding_due = (now // HOUR_MS + 1) * HOUR_MS + FUNDING_DELAY_MS
        self._emit(ev)
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
        self.record_ledger(item)
        self._emit(AccountEvents(ledger=[item]))
        return item

    # ------------------------------------------------------------------ forced events

    def force_fill(self, coin: str | None = None, oid: int | None = None) -> dict[str, Any] | None:
        """Fill one resting limit order now; returns the fill or None.

        ``oid`` names the order (a triggered Stop Limit included). ``coin`` names the market
        (any dex, e.g. ``xyz:TSLA``, or a spot pair); without either a default-dex perp order
        is chosen, so a test's forced fill always moves the default dex's state. Scheduled
        fills choose among every dex and spot.
        """
        ev = AccountEvents()
        fill = self._force(coin, self.market.now, ev, oid=oid)
        self._emit(ev)
        return fill

    def force_trigger(self, oid: int | None = None) -> dict[str, Any] | None:
        """Move the mark across a Stop Limit order's trigger and trigger it now (``oid``
        None: the oldest untriggered one); returns its ``triggered`` order update or None."""
        ev = AccountEvents()
        update = account_actions.force_trigger(self, oid, self.market.now, ev)
        self._emit(ev)
        return update

    def cancel_order(self, oid: int) -> dict[str, Any] | None:
        """Cancel an open order now (``canceled``); returns the order update or None."""
        ev = AccountEvents()
        update = account_actions.cancel(self, oid, "canceled", self.market.now, ev)
        self._emit(ev)
        return update

    def liquidate(self, coin: str | None = None) -> dict[str, Any] | None:
        """Liquidate one position now (``coin`` None: the default dex's first isolated one,
        else any); returns the ``userEvents`` liquidation object or None."""
        ev = AccountEvents()
        liq = account_actions.liquidate(self, coin, self.market.now, ev)
        self._emit(ev)
        return liq

    def start_twap(
        self, coin: str, side: str, sz: Decimal | str, minutes: int = 30
    ) -> dict[str, Any]:
        """Start a TWAP now; returns its ``activated`` history item."""
        ev = AccountEvents()
        item = account_actions.start_twap(self, coin, side, Decimal(sz), minutes, ev)
        self._emit(ev)
        return item

    def _force(
        self,
        coin: str | None,
        now: int,
        ev: AccountEvents,
        *,
        any_dex: bool = False,
        oid: int | None = None,
    ) -> dict[str, Any] | None:
        if oid is not None:
            candidates = [o for o in self.orders.values() if o.oid == oid and not o.is_trigger]
        else:
            candidates = [
                o
                for o in self.orders.values()
                if not o.is_trigger
                and (
                    o.coin == coin
                    if coin is not None
                    else any_dex or (dex_of(o.coin) == "" and not self._is_spot(o.coin))
                )
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

    def _is_spot(self, coin: str) -> bool:
        spec = self.market.universe.get(coin)
        return spec is not None and spec.is_spot

    def _trigger(self, order: Order, mark: Decimal, now: int, ev: AccountEvents) -> None:
        if not order.reduce_only:  # a Stop Limit order: it now rests on the book
            account_actions.trigger_to_book(self, order, now, ev)
            return
        pos = self.positions.get(order.coin)
        self.remove_order(order.oid)
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
            self.remove_order(order.oid)
        fill = self.execute(order.coin, order.side, px, sz, crossed, now, ev, order.oid)
        self.record_fill(fill, ev)
        done = update_order_dict(order, Decimal(0))
        ev.order_updates.append({"order": done, "status": "filled", "statusTimestamp": now})
        self.set_status(order, "filled", now, Decimal(0))
        verb = "Bought" if order.side == "B" else "Sold"
        ev.notifications.append(
            f"{'Resting order' if not crossed else order.order_type + ' order'} filled: "
            f"{verb} {plain_number(sz)} {order.coin} at ${plain_number(px)}"
        )
        if order.triggered:
            account_actions.rearm_stop_limit(self, order, now, ev)
        elif not order.is_trigger:
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
            self.record_funding(item)
            ev.fundings.append(item)
