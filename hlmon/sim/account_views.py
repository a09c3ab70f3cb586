"""Read-only views of the demo account in the exchange's wire shapes, per perp dex.

``AccountViews`` is the base of ``DemoAccount``: everything here reads the account's state
(pools, positions, orders, spot wallet, TWAPs, history) and changes nothing. The account mode
decides where the collateral shows: ``standard`` in each dex's pool; ``unified`` and
``portfolio`` in the spot rows of each collateral token (the perp states then read only the
margin held, ``hlmon.sim.margin``; ``hlmon.sim.spot``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import Margin
from hlmon.sim.market import Market
from hlmon.sim.numbers import fmt_decimal, fmt_exact
from hlmon.sim.orders import Order, Position, frontend_order_dict, plain_order_dict
from hlmon.sim.roles import ABSTRACTION, WEBDATA3_ABSTRACTION
from hlmon.sim.spot import PerpCollateral, SpotWallet
from hlmon.sim.twap import TwapBook

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
    spot: SpotWallet
    twaps: TwapBook
    mode: str
    """``standard``, ``unified`` or ``portfolio`` (``hlmon.sim.roles.ACCOUNT_MODES``)."""

    @property
    def collateral_in_spot(self) -> bool:
        """Unified and portfolio-margin accounts keep their collateral in spot."""
        return self.mode != "standard"

    @property
    def abstraction(self) -> str:
        """REST ``userAbstraction`` answer."""
        return ABSTRACTION[self.mode]

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
        return self.margin.clearinghouse_state(
            self.pools[dex], self._positions_on(dex), collateral_in_spot=self.collateral_in_spot
        )

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
        avail = self.available_to_trade(st.spec.dex)
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

    def available_to_trade(self, dex: str) -> Decimal:
        """Free collateral for a new order on ``dex``: the pool's withdrawable, or (collateral
        in spot) the free part of the dex's collateral token row."""
        if not self.collateral_in_spot:
            return self.summary(dex)["withdrawable"]
        token = self.market.universe.collateral_name(dex)
        perp = self.perp_collateral()
        total = self.spot.totals.get(token, Decimal(0)) + perp.settled.get(token, Decimal(0))
        hold = self.spot.holds(self.orders.values()).get(token, Decimal(0))
        return max(Decimal(0), total - hold - perp.margin.get(token, Decimal(0)))

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
                "abstraction": WEBDATA3_ABSTRACTION[self.mode],
            },
            "perpDexStates": [
                {"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": []} for _ in self.pools
            ],
        }

    def perp_collateral(self) -> PerpCollateral:
        """What the perp dexes hold, by collateral token (a unified account's spot rows)."""
        universe = self.market.universe
        out = PerpCollateral()
        for dex, cash in self.pools.items():
            positions = self._positions_on(dex)
            if not positions and not cash:
                continue
            t = self.margin.summary(cash, positions)
            token = universe.collateral_name(dex)
            px = self.spot.usd_price(token)
            out.settled[token] = out.settled.get(token, Decimal(0)) + t["settled"]
            out.margin[token] = out.margin.get(token, Decimal(0)) + t["margin"]
            out.upnl_usd += t["upnl"] * px
            out.cross_mm_usd += t["cross_mm"] * px
        return out

    def spot_clearinghouse_state(self, ignore_portfolio_margin: bool = False) -> dict[str, Any]:
        """REST ``spotClearinghouseState`` body (WS ``spotState``); see ``hlmon.sim.spot``."""
        perp = self.perp_collateral() if self.collateral_in_spot else None
        pm = self.mode == "portfolio" and not ignore_portfolio_margin
        return self.spot.state(self.orders.values(), perp, portfolio_margin=pm)

    def equity_usd(self) -> tuple[Decimal, Decimal]:
        """(whole account, perps alone) in USDC: every pool's account value plus the spot
        rows, each at its token's price (the same total in every mode)."""
        perp = Decimal(0)
        for dex, cash in self.pools.items():
            token = self.market.universe.collateral_name(dex)
            value = self.margin.summary(cash, self._positions_on(dex))["value"]
            perp += value * self.spot.usd_price(token)
        return perp + self.spot.value_usd(), perp

    def twap_states(self, dex: str) -> list[list[Any]]:
        """``twapStates`` ``states`` of ``dex``."""
        return self.twaps.states(dex)

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
