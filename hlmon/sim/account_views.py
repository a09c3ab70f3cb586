"""Read-only views of the demo account in the exchange's wire shapes, per perp dex.

``AccountViews`` is the base of ``DemoAccount``: everything here reads the account's state
(pools, positions, orders, history) and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import Margin
from hlmon.sim.market import Market
from hlmon.sim.numbers import fmt_decimal, fmt_exact
from hlmon.sim.orders import Order, Position, frontend_order_dict, plain_order_dict

ZERO_HASH = "0x" + "0" * 64


class AccountViews:
    """The wire views of an account; ``DemoAccount`` fills in the state."""

    market: Market
    margin: Margin
    address: str
    pools: dict[str, Decimal]
    positions: dict[str, Position]
    orders: dict[int, Order]
    fills: list[dict[str, Any]]
    fundings: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    cum_ledger: Decimal
    """USDC deposited in total (``webData3.userState.cumLedger``)."""
    spot_balances: list[dict[str, str]]
    """Spot balances (``coin``, ``total``, ``hold``, ``entryNtl``) by token name."""

    # ------------------------------------------------------------------ wire shapes

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

    def _orders_on(self, dex: str) -> list[Order]:
        """Open orders on ``dex``, newest first."""
        mine = [o for o in self.orders.values() if dex_of(o.coin) == dex]
        return sorted(mine, key=lambda o: (-o.timestamp, -o.oid))

    def frontend_open_orders(self, dex: str = "") -> list[dict[str, Any]]:
        """REST ``frontendOpenOrders`` / WS ``openOrders`` list of ``dex``, newest first."""
        return [self.frontend_order(o) for o in self._orders_on(dex)]

    def open_orders(self, dex: str = "") -> list[dict[str, Any]]:
        """REST ``openOrders`` list of ``dex`` (plain shape)."""
        return [plain_order_dict(o) for o in self._orders_on(dex)]

    # ------------------------------------------------------------------ margin views

    def _positions_on(self, dex: str) -> list[Position]:
        return [p for p in self.positions.values() if dex_of(p.coin) == dex]

    def summary(self, dex: str = "") -> dict[str, Decimal]:
        """Totals of one dex's pool (Decimal), see ``Margin.summary``."""
        return self.margin.summary(self.pools[dex], self._positions_on(dex))

    def clearinghouse_state(self, dex: str = "") -> dict[str, Any]:
        """REST ``clearinghouseState`` body of ``dex`` (``""`` = the default dex)."""
        return self.margin.clearinghouse_state(self.pools[dex], self._positions_on(dex))

    def all_dexs_states(self) -> list[list[Any]]:
        """``allDexsClearinghouseState`` tuples: ``[dex, state]`` for every dex, empty or not."""
        return [[dex, self.clearinghouse_state(dex)] for dex in self.pools]

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
        avail = self.summary(st.spec.dex)["withdrawable"]
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
        """``webData3`` data (``perpDexStates`` has one entry per perp dex)."""
        return {
            "userState": {
                "agentAddress": None,
                "agentValidUntil": None,
                "cumLedger": fmt_exact(self.cum_ledger),
                "serverTime": self.market.now,
                "isVault": False,
                "user": self.address,
            },
            "perpDexStates": [
                {"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": []} for _ in self.pools
            ],
        }

    def spot_clearinghouse_state(self) -> dict[str, Any]:
        """REST ``spotClearinghouseState`` body."""
        index = {t.name: t.index for t in self.market.universe.tokens}
        return {
            "balances": [
                {
                    "coin": b["coin"],
                    "token": index[b["coin"]],
                    "total": b["total"],
                    "hold": b["hold"],
                    "entryNtl": b["entryNtl"],
                }
                for b in self.spot_balances
            ]
        }

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
