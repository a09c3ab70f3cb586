"""The demo account: positions, resting and trigger orders, fills and funding over time.

Money is ``Decimal`` throughout. The accounting identity the exchange shows holds by
construction: ``accountValue = totalRawUsd + sum(szi * markPx)``, per margin mode. Resting
orders fill when the market trades through them (and on a schedule, so a demo always shows
fills); each fill removes the order, moves the position, pays a fee, puts the trade on the tape
with the fill's ``tid``, and re-places a fresh order near the market.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlmon.sim.margin import Margin
from hlmon.sim.market import HOUR_MS, Market
from hlmon.sim.numbers import (
    MONEY_QUANTUM,
    decimal_to_ticks,
    fmt_decimal,
    fmt_exact,
    fmt_float,
    plain_number,
    ticks_to_decimal,
)
from hlmon.sim.orders import (
    AccountEvents,
    Order,
    Position,
    fill_dict,
    frontend_order_dict,
    funding_dict,
    plain_order_dict,
    update_order_dict,
)

__all__ = ["AccountEvents", "AccountParams", "DemoAccount"]

DEMO_ADDRESS = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
ZERO_HASH = "0x" + "0" * 64
INITIAL_DEPOSIT = Decimal("100000")
MAX_FILLS = 10_000
"""Fills kept (the exchange serves only the 10 000 most recent)."""
FUNDING_DELAY_MS = 37
"""Funding is paid a few ms after the hour, as on the exchange."""


@dataclass(slots=True)
class AccountParams:
    """How often the demo account fills (seconds between scheduled fills)."""

    fill_every_min_s: float = 10.0
    fill_every_max_s: float = 30.0


def _q(value: Decimal, quantum: Decimal = MONEY_QUANTUM) -> Decimal:
    return value.quantize(quantum)


class DemoAccount:
    """The one account with data; every other valid address is an empty account."""

    def __init__(
        self,
        market: Market,
        seed: int,
        params: AccountParams | None = None,
        address: str = DEMO_ADDRESS,
    ) -> None:
        self.market = market
        self.margin = Margin(market)
        self.address = address
        self.params = params or AccountParams()
        self.rng = random.Random(seed * 7919 + 17)
        self.cash = INITIAL_DEPOSIT
        self.positions: dict[str, Position] = {}
        self.orders: dict[int, Order] = {}
        self.order_status: dict[int, tuple[dict[str, Any], str, int]] = {}
        self.fills: list[dict[str, Any]] = []
        self.fundings: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.listener: Callable[[AccountEvents], None] | None = None
        self._oid = 4_000_000_000 + (seed % 1000) * 1_000_000
        now = market.now
        self.funding_due = (now // HOUR_MS + 1) * HOUR_MS + FUNDING_DELAY_MS
        self.next_fill_at = now + self._fill_gap()
        self._build_initial(now)

    # ------------------------------------------------------------------ setup

    def _fill_gap(self) -> int:
        p = self.params
        return int(self.rng.uniform(p.fill_every_min_s, p.fill_every_max_s) * 1000)

    def _next_oid(self) -> int:
        self._oid += 1 + self.rng.randrange(50)
        return self._oid

    def _hash(self) -> str:
        return "0x" + f"{self.rng.getrandbits(256):064x}"

    def _mark(self, coin: str) -> Decimal:
        return self.margin.mark(coin)

    def _px(self, coin: str, factor: float) -> Decimal:
        """A valid price for ``coin`` near ``mark * factor``."""
        st = self.market.coin(coin)
        assert st is not None
        ticks = max(1, round(self.market.mark_ticks(st) * factor))
        return ticks_to_decimal(ticks, st.exp)

    def _build_initial(self, now: int) -> None:
        self.ledger.append(
            {
                "time": now - 5 * 86_400_000 + 1234,
                "hash": self._hash(),
                "delta": {"type": "deposit", "usdc": fmt_exact(INITIAL_DEPOSIT)},
            }
        )
        self.ledger.append(
            {
                "time": now - 4 * 86_400_000 + 4321,
                "hash": self._hash(),
                "delta": {"type": "accountClassTransfer", "usdc": "250.0", "toPerp": False},
            }
        )
        self.cash -= Decimal("250")
        setups = [
            ("BTC", Decimal("0.5"), 0.985, 20, True),
            ("ETH", Decimal("-8.0"), 1.01, 15, True),
            ("SOL", Decimal("120"), 0.99, 10, False),
            ("HYPE", Decimal("-400"), 1.02, 5, False),
        ]
        history: list[dict[str, Any]] = []
        # A few dozen past round trips on other coins, for snapshots and REST history.
        coins = ["LTC", "AAVE", "DOGE", "LINK", "AVAX", "XRP", "SUI", "ENA", "kPEPE"]
        t = now - 3 * 86_400_000
        for k in range(16):
            coin = coins[k % len(coins)]
            st = self.market.coin(coin)
            assert st is not None
            lots = max(1, st.base_lots // 4)
            sz = ticks_to_decimal(lots, -st.spec.sz_decimals)
            px_open = self._px(coin, 1 + self.rng.uniform(-0.03, 0.03))
            px_close = self._px(coin, 1 + self.rng.uniform(-0.03, 0.03))
            long = self.rng.random() < 0.5
            t += self.rng.randrange(600_000, 14_400_000)
            oid = self._next_oid()
            history.append(
                self._fill_dict(
                    coin,
                    px_open,
                    sz,
                    "B" if long else "A",
                    t,
                    Decimal(0),
                    "Open Long" if long else "Open Short",
                    Decimal(0),
                    oid,
                    True,
                )
            )
            t += self.rng.randrange(60_000, 3_600_000)
            pnl = (px_close - px_open) * sz * (1 if long else -1)
            start = sz if long else -sz
            history.append(
                self._fill_dict(
                    coin,
                    px_close,
                    sz,
                    "A" if long else "B",
                    t,
                    start,
                    "Close Long" if long else "Close Short",
                    pnl,
                    self._next_oid(),
                    False,
                )
            )
        for coin, szi, factor, lev, cross in setups:
            entry = self._px(coin, factor)
            pos = Position(coin, szi, entry, lev, cross)
            if cross:
                self.cash -= szi * entry
            else:
                margin = abs(szi) * entry / lev
                self.cash -= margin
                pos.raw_usd = margin - szi * entry
            self.positions[coin] = pos
            t_open = now - self.rng.randrange(3_600_000, 20 * 3_600_000)
            history.append(
                self._fill_dict(
                    coin,
                    entry,
                    abs(szi),
                    "B" if szi > 0 else "A",
                    t_open,
                    Decimal(0),
                    "Open Long" if szi > 0 else "Open Short",
                    Decimal(0),
                    self._next_oid(),
                    True,
                )
            )
        history.sort(key=lambda f: f["time"])
        for f in history:
            self.cash -= Decimal(f["fee"])
            self.cash += Decimal(f["closedPnl"])
        self.fills = history
        # Past hourly fundings for the open positions.
        hour = now // HOUR_MS * HOUR_MS
        for h in range(24, 0, -1):
            for pos in self.positions.values():
                st = self.market.coin(pos.coin)
                assert st is not None
                rate = Decimal(fmt_float(self.rng.uniform(-0.00002, 0.00006), 10))
                usdc = _q(-pos.szi * self._mark(pos.coin) * rate)
                self.fundings.append(
                    self._funding_dict(hour - h * HOUR_MS + FUNDING_DELAY_MS, pos, usdc, rate)
                )
                pos.cum_all -= usdc
                pos.cum_open -= usdc
        # Resting limit orders around the market, one with TP/SL children, and position TP/SL.
        for coin, side, factor, size in [
            ("BTC", "B", 0.996, "0.05"),
            ("BTC", "A", 1.004, "0.05"),
            ("SOL", "A", 1.006, "20"),
            ("HYPE", "B", 0.992, "50"),
            ("AAVE", "B", 0.993, "2"),
            ("LTC", "A", 1.009, "5"),
        ]:
            self._place(coin, side, self._px(coin, factor), Decimal(size), now - 600_000)
        parent = self._place("ETH", "B", self._px("ETH", 0.995), Decimal("1.0"), now - 300_000)
        tp = self._place_trigger(
            "ETH",
            "A",
            Decimal("1.0"),
            self._px("ETH", 1.03),
            "tp",
            now - 300_000,
            parent=parent.oid,
        )
        sl = self._place_trigger(
            "ETH",
            "A",
            Decimal("1.0"),
            self._px("ETH", 0.97),
            "sl",
            now - 300_000,
            parent=parent.oid,
        )
        parent.children = [tp.oid, sl.oid]
        self._place_trigger(
            "BTC",
            "A",
            Decimal("0.5"),
            self._px("BTC", 0.92),
            "sl",
            now - 900_000,
            position_tpsl=True,
        )
        self._place_trigger(
            "BTC",
            "A",
            Decimal("0.5"),
            self._px("BTC", 1.08),
            "tp",
            now - 900_000,
            position_tpsl=True,
        )
        self._place_trigger(
            "HYPE",
            "B",
            Decimal("400"),
            self._px("HYPE", 1.10),
            "sl",
            now - 900_000,
            position_tpsl=True,
        )

    def _place(self, coin: str, side: str, px: Decimal, sz: Decimal, ts: int) -> Order:
        order = Order(self._next_oid(), coin, side, px, sz, sz, ts)
        self.orders[order.oid] = order
        self.order_status[order.oid] = (self._update_order(order), "open", ts)
        return order

    def _place_trigger(
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
        above = (kind == "tp") == (side == "A")
        slip = Decimal("0.9") if side == "A" else Decimal("1.1")
        st = self.market.coin(coin)
        assert st is not None
        limit = ticks_to_decimal(max(1, decimal_to_ticks(trigger * slip, st.exp)), st.exp)
        order = Order(
            self._next_oid(),
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
        self.order_status[order.oid] = (self._update_order(order), "open", ts)
        return order

    # ------------------------------------------------------------------ wire shapes

    def _fill_dict(
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
            hash_hex or self._hash(),
        )

    _funding_dict = staticmethod(funding_dict)
    _update_order = staticmethod(update_order_dict)

    def frontend_order(self, order: Order, nested: bool = True) -> dict[str, Any]:
        """Frontend shape of ``order`` (with its open TP/SL children when ``nested``)."""
        children = []
        if nested:
            children = [
                self.frontend_order(self.orders[c], False)
                for c in order.children
                if c in self.orders
            ]
        return frontend_order_dict(order, children)

    def frontend_open_orders(self) -> list[dict[str, Any]]:
        """REST ``frontendOpenOrders`` / WS ``openOrders`` list, newest first."""
        ordered = sorted(self.orders.values(), key=lambda o: (-o.timestamp, -o.oid))
        return [self.frontend_order(o) for o in ordered]

    def open_orders(self) -> list[dict[str, Any]]:
        """REST ``openOrders`` list (plain shape)."""
        ordered = sorted(self.orders.values(), key=lambda o: (-o.timestamp, -o.oid))
        return [plain_order_dict(o) for o in ordered]

    # ------------------------------------------------------------------ margin views

    def summary(self) -> dict[str, Decimal]:
        """Account totals (Decimal), see ``Margin.summary``."""
        return self.margin.summary(self.cash, self.positions.values())

    def clearinghouse_state(self) -> dict[str, Any]:
        """REST ``clearinghouseState`` body."""
        return self.margin.clearinghouse_state(self.cash, list(self.positions.values()))

    def active_asset_data(self, coin: str) -> dict[str, Any]:
        """``activeAssetData`` data for the demo account."""
        st = self.market.coin(coin)
        assert st is not None
        pos = self.positions.get(coin)
        lev = pos.leverage if pos else min(10, st.spec.max_leverage)
        leverage: dict[str, Any] = {
            "type": "cross" if (pos is None or pos.cross) else "isolated",
            "value": lev,
        }
        if pos is not None and not pos.cross:
            leverage["rawUsd"] = fmt_decimal(pos.raw_usd)
        avail = self.summary()["withdrawable"]
        mark = self.market.mark_decimal(st)
        max_sz = avail * lev / mark if mark else Decimal(0)
        sz_q = Decimal(1).scaleb(-st.spec.sz_decimals)
        return {
            "user": self.address,
            "coin": coin,
            "leverage": leverage,
            "maxTradeSzs": [fmt_decimal(max_sz, sz_q), fmt_decimal(max_sz, sz_q)],
            "availableToTrade": [fmt_decimal(avail), fmt_decimal(avail)],
            "markPx": fmt_exact(mark),
        }

    def web_data3(self) -> dict[str, Any]:
        """``webData3`` data."""
        return {
            "userState": {
                "agentAddress": None,
                "agentValidUntil": None,
                "cumLedger": fmt_exact(INITIAL_DEPOSIT),
                "serverTime": self.market.now,
                "isVault": False,
                "user": self.address,
            },
            "perpDexStates": [{"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": []}],
        }

    def spot_clearinghouse_state(self) -> dict[str, Any]:
        """REST ``spotClearinghouseState`` body."""
        return {
            "balances": [
                {"coin": "USDC", "token": 0, "total": "250.0", "hold": "0.0", "entryNtl": "0.0"},
                {"coin": "PURR", "token": 1, "total": "1200.0", "hold": "0.0", "entryNtl": "271.4"},
            ]
        }

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
            self._force(None, now, ev)
        if now >= self.funding_due:
            self._pay_funding(self.funding_due, ev)
            self.funding_due = (now // HOUR_MS + 1) * HOUR_MS + FUNDING_DELAY_MS
        if ev and self.listener is not None:
            self.listener(ev)
        return ev

    def deposit(self, usdc: Decimal | str = "1000") -> dict[str, Any]:
        """Credit a USDC deposit now (a ``userNonFundingLedgerUpdates`` event)."""
        amount = Decimal(usdc)
        self.cash += amount
        item = {
            "time": self.market.now,
            "hash": self._hash(),
            "delta": {"type": "deposit", "usdc": fmt_exact(amount)},
        }
        self.ledger.append(item)
        ev = AccountEvents(ledger=[item])
        if self.listener is not None:
            self.listener(ev)
        return item

    def force_fill(self, coin: str | None = None) -> dict[str, Any] | None:
        """Fill one resting limit order now (on ``coin`` if given); returns the fill or None."""
        ev = AccountEvents()
        fill = self._force(coin, self.market.now, ev)
        if ev and self.listener is not None:
            self.listener(ev)
        return fill

    def _force(self, coin: str | None, now: int, ev: AccountEvents) -> dict[str, Any] | None:
        candidates = [
            o for o in self.orders.values() if not o.is_trigger and (coin is None or o.coin == coin)
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
                    "order": self._update_order(order, Decimal(0)),
                    "status": "reduceOnlyCanceled",
                    "statusTimestamp": now,
                }
            )
            return
        ev.order_updates.append(
            {"order": self._update_order(order), "status": "triggered", "statusTimestamp": now}
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
        pos = self.positions.get(order.coin)
        start = pos.szi if pos else Decimal(0)
        delta = sz if order.side == "B" else -sz
        new = start + delta
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
        st = self.market.coin(order.coin)
        assert st is not None
        hash_hex = self._hash()
        tid = self.market.next_tid()
        fill = self._fill_dict(
            order.coin,
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
        self.cash -= Decimal(fill["fee"])
        self._apply(order.coin, pos, start, delta, new, px)
        self.fills.append(fill)
        if len(self.fills) > MAX_FILLS + 1000:  # only the most recent fills stay reachable
            del self.fills[: len(self.fills) - MAX_FILLS]
        ev.fills.append(fill)
        ev.order_updates.append(
            {
                "order": self._update_order(order, Decimal(0)),
                "status": "filled",
                "statusTimestamp": now,
            }
        )
        self.order_status[order.oid] = (self._update_order(order, Decimal(0)), "filled", now)
        if len(self.order_status) > MAX_FILLS + 1000:
            for oid in sorted(self.order_status)[: len(self.order_status) - MAX_FILLS]:
                if oid not in self.orders:
                    del self.order_status[oid]
        verb = "Bought" if order.side == "B" else "Sold"
        ev.notifications.append(
            f"{'Resting order' if not crossed else order.order_type + ' order'} filled: "
            f"{verb} {plain_number(sz)} {order.coin} at ${plain_number(px)}"
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

    def _apply(
        self,
        coin: str,
        pos: Position | None,
        start: Decimal,
        delta: Decimal,
        new: Decimal,
        px: Decimal,
    ) -> None:
        """Move cash/margin and the position for a fill of ``delta`` at ``px``."""
        if pos is None:
            pos = Position(coin, Decimal(0), px, min(10, self._max_lev(coin)), True)
            self.positions[coin] = pos
        if pos.cross:
            self.cash -= delta * px
            if new == 0:
                del self.positions[coin]
                return
            if start == 0 or (start > 0) == (delta > 0):
                pos.entry = (pos.entry * abs(start) + px * abs(delta)) / abs(new)
            elif (start > 0) != (new > 0):
                pos.entry = px
                pos.cum_open = Decimal(0)
            pos.szi = new
            pos.cum_change = Decimal(0)
            return
        equity = pos.raw_usd + start * px
        if start == 0 or (start > 0) == (delta > 0):
            add = abs(delta) * px / pos.leverage
            self.cash -= add
            pos.raw_usd += add - delta * px
            pos.entry = (pos.entry * abs(start) + px * abs(delta)) / abs(new)
        elif (start > 0) == (new > 0):
            kept = equity * new / start
            self.cash += equity - kept
            pos.raw_usd = kept - new * px
        else:
            self.cash += equity
            if new == 0:
                del self.positions[coin]
                return
            margin = abs(new) * px / pos.leverage
            self.cash -= margin
            pos.raw_usd = margin - new * px
            pos.entry = px
            pos.cum_open = Decimal(0)
        pos.szi = new
        pos.cum_change = Decimal(0)

    def _max_lev(self, coin: str) -> int:
        st = self.market.coin(coin)
        assert st is not None
        return st.spec.max_leverage

    def _replace(self, filled: Order, now: int, ev: AccountEvents) -> None:
        """Re-place a resting order near the market so fills keep coming."""
        side = "A" if filled.side == "B" else "B"
        factor = 1 + self.rng.uniform(0.002, 0.008) * (1 if side == "A" else -1)
        order = self._place(filled.coin, side, self._px(filled.coin, factor), filled.orig_sz, now)
        ev.order_updates.append(
            {"order": self._update_order(order), "status": "open", "statusTimestamp": now}
        )

    def _pay_funding(self, t: int, ev: AccountEvents) -> None:
        for pos in self.positions.values():
            st = self.market.coin(pos.coin)
            assert st is not None
            rate = Decimal(fmt_float(self.market.funding_rate(st), 10))
            usdc = _q(-pos.szi * self.market.mark_decimal(st) * rate)
            if pos.cross:
                self.cash += usdc
            else:
                pos.raw_usd += usdc
            pos.cum_all -= usdc
            pos.cum_open -= usdc
            pos.cum_change -= usdc
            item = self._funding_dict(t, pos, usdc, rate)
            self.fundings.append(item)
            ev.fundings.append(item)

    # ------------------------------------------------------------------ history queries

    def fills_between(self, start: int, end: int, limit: int = 2000) -> list[dict[str, Any]]:
        """Fills with ``start <= time <= end``, oldest first, at most ``limit``."""
        return [f for f in self.fills if start <= f["time"] <= end][:limit]

    def recent_fills(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Most recent fills, newest first (REST ``userFills``)."""
        return list(reversed(self.fills[-limit:]))

    def user_funding(self, start: int, end: int) -> list[dict[str, Any]]:
        """REST ``userFunding`` items."""
        return [
            {
                "time": f["time"],
                "hash": ZERO_HASH,
                "delta": {
                    "type": "funding",
                    "coin": f["coin"],
                    "usdc": f["usdc"],
                    "szi": f["szi"],
                    "fundingRate": f["fundingRate"],
                    "nSamples": f["nSamples"],
                },
            }
            for f in self.fundings
            if start <= f["time"] <= end
        ][:500]

    def ledger_between(self, start: int, end: int) -> list[dict[str, Any]]:
        """REST ``userNonFundingLedgerUpdates`` items."""
        return [u for u in self.ledger if start <= u["time"] <= end][:500]
