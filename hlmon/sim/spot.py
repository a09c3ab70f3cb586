"""Spot balances of the demo account and their wire shape in each account mode.

``SpotWallet`` holds what the account owns on the spot side (token name -> amount, cost basis
``entryNtl`` in USDC) and outcome sides (``+N`` rows, which have no ``token``). ``hold`` is not
stored: it is what the resting spot orders reserve (the quote token for a buy, the base token
for a sell). A spot fill moves base and quote, pays the fee in the token received (the base
token on a buy, the quote token on a sell) and carries the cost basis along.

How the rows read per mode (``hlmon.sim.account_modes``): a standard account shows the spot
side alone. A unified or portfolio-margin account keeps its perp collateral here too: each
collateral token's row adds the realised money of the perp dexes settling in it (``total``)
and the margin those positions use (``hold``), so the perp clearinghouse reads about 0. Under
portfolio margin the eligible rows also carry ``ltv``, ``supplied``, ``borrowed`` and
``spotHold`` (the spot-order reserve alone), and the state carries ``portfolioMarginEnabled``
and ``portfolioMarginRatio``; ``ignorePortfolioMargin`` leaves those extras out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from hlmon.sim.market import Market
from hlmon.sim.numbers import fmt_decimal
from hlmon.sim.orders import MAKER_FEE, TAKER_FEE, Order
from hlmon.sim.universe import CoinSpec

BALANCE_QUANTUM = Decimal("0.00000001")
NTL_QUANTUM = Decimal("0.000001")
RATIO_QUANTUM = Decimal("0.000001")
PM_LTV: dict[str, str] = {"USDC": "1.0", "USDT0": "1.0", "HYPE": "0.65", "UBTC": "0.5"}
"""Portfolio margin: the eligible tokens and their loan-to-value (docs: HYPE 0.65, BTC 0.5)."""
PM_BASE_REQUIREMENT = Decimal(20)
"""Portfolio margin: the fixed part of the maintenance requirement (20 USDC)."""
STABLE_COLLATERAL = frozenset({"USDC", "USDH", "USDE", "USDT0"})


@dataclass(slots=True)
class PerpCollateral:
    """What the perp dexes add to a unified or portfolio-margin account's spot rows."""

    settled: dict[str, Decimal] = field(default_factory=dict)
    """Collateral token -> realised money of the dexes settling in it (margin included)."""
    margin: dict[str, Decimal] = field(default_factory=dict)
    """Collateral token -> margin used by those dexes' positions."""
    upnl_usd: Decimal = Decimal(0)
    cross_mm_usd: Decimal = Decimal(0)


class SpotWallet:
    """The spot side of the demo account."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.universe = market.universe
        self.totals: dict[str, Decimal] = {}
        """Token name -> amount owned on the spot side."""
        self.entry: dict[str, Decimal] = {}
        """Token name -> cost basis in USDC."""
        self.outcomes: dict[str, tuple[Decimal, Decimal]] = {}
        """Outcome side (``+90``) -> (amount, cost basis)."""

    def credit(self, token: str, amount: Decimal, entry_ntl: Decimal = Decimal(0)) -> None:
        """Add ``amount`` of ``token`` bought for ``entry_ntl`` USDC."""
        self.totals[token] = self.totals.get(token, Decimal(0)) + amount
        self.entry[token] = self.entry.get(token, Decimal(0)) + entry_ntl

    # ------------------------------------------------------------------ prices

    def usd_price(self, token: str) -> Decimal:
        """USDC value of one ``token``, at the mid of its pair (through the quote token's own
        USDC pair when the pair is not quoted in USDC)."""
        if token == "USDC":
            return Decimal(1)
        pair = self.universe.pair_of_token.get(self.universe.token_index[token])
        if pair is None:
            return Decimal(0)
        mark = self.market.mark_decimal(self.market.coins[pair.index])
        if pair.quote_token == 0:
            return mark
        return mark * self.usd_price(self.universe.tokens[pair.quote_token].name)

    def outcome_price(self, side: str) -> Decimal:
        """Price of an outcome side (``+90`` trades as ``#90``), in USDC."""
        st = self.market.coin("#" + side[1:])
        return Decimal(0) if st is None else self.market.mark_decimal(st)

    def value_usd(self, perp: PerpCollateral | None = None) -> Decimal:
        """What the rows are worth in USDC (with the perp collateral when given)."""
        total = Decimal(0)
        for token, amount in self._merged_totals(perp).items():
            total += amount * self.usd_price(token)
        for side, (amount, _) in self.outcomes.items():
            total += amount * self.outcome_price(side)
        return total

    # ------------------------------------------------------------------ orders and fills

    def pair_tokens(self, spec: CoinSpec) -> tuple[str, str]:
        """(base, quote) token names of a spot pair."""
        tokens = self.universe.tokens
        return tokens[spec.base_token].name, tokens[spec.quote_token].name

    def holds(self, orders: Iterable[Order]) -> dict[str, Decimal]:
        """Token -> amount reserved by resting spot orders."""
        out: dict[str, Decimal] = {}
        for order in orders:
            spec = self.universe.get(order.coin)
            if spec is None or not spec.is_spot or spec.name.startswith("#"):
                continue
            base, quote = self.pair_tokens(spec)
            if order.side == "B":
                out[quote] = out.get(quote, Decimal(0)) + order.limit_px * order.sz
            else:
                out[base] = out.get(base, Decimal(0)) + order.sz
        return out

    def apply_fill(
        self, spec: CoinSpec, side: str, px: Decimal, sz: Decimal, crossed: bool
    ) -> tuple[Decimal, str, Decimal, Decimal]:
        """Move the balances by a spot fill; returns (fee, fee token, closed PnL, the base
        balance before)."""
        base, quote = self.pair_tokens(spec)
        rate = TAKER_FEE if crossed else MAKER_FEE
        start = self.totals.get(base, Decimal(0))
        notional = px * sz
        quote_usd = self.usd_price(quote)
        if side == "B":
            fee = (sz * rate).quantize(BALANCE_QUANTUM)
            self._spend(quote, notional)
            self.credit(base, sz - fee, notional * quote_usd)
            return fee, base, Decimal(0), start
        fee = (notional * rate).quantize(BALANCE_QUANTUM)
        basis = self._spend(base, sz)
        proceeds = notional - fee
        self.credit(quote, proceeds, proceeds * quote_usd if quote != "USDC" else Decimal(0))
        return fee, quote, notional * quote_usd - basis, start

    def _spend(self, token: str, amount: Decimal) -> Decimal:
        """Take ``amount`` of ``token`` out; returns the cost basis that leaves with it."""
        held = self.totals.get(token, Decimal(0))
        basis = self.entry.get(token, Decimal(0))
        part = basis * amount / held if held > 0 else Decimal(0)
        self.totals[token] = held - amount
        self.entry[token] = basis - part
        return part

    # ------------------------------------------------------------------ wire shape

    def _merged_totals(self, perp: PerpCollateral | None) -> dict[str, Decimal]:
        totals = dict(self.totals)
        if perp is not None:
            for token, settled in perp.settled.items():
                if settled or token in totals:
                    totals[token] = totals.get(token, Decimal(0)) + settled
        return totals

    def state(
        self,
        orders: Iterable[Order],
        perp: PerpCollateral | None = None,
        *,
        portfolio_margin: bool = False,
    ) -> dict[str, object]:
        """``spotClearinghouseState`` body (``perp``: unified/portfolio collateral)."""
        spot_holds = self.holds(orders)
        totals = self._merged_totals(perp)
        index = self.universe.token_index
        rows: list[dict[str, object]] = []
        for token in sorted(totals, key=lambda t: index[t]):
            spot_hold = spot_holds.get(token, Decimal(0))
            hold = spot_hold + (perp.margin.get(token, Decimal(0)) if perp else Decimal(0))
            entry = self.entry.get(token, Decimal(0))
            if perp is not None and token != "USDC":
                entry += perp.settled.get(token, Decimal(0)) * self.usd_price(token)
            row: dict[str, object] = {
                "coin": token,
                "token": index[token],
                "total": fmt_decimal(totals[token], BALANCE_QUANTUM),
                "hold": fmt_decimal(hold, BALANCE_QUANTUM),
                "entryNtl": fmt_decimal(entry, NTL_QUANTUM),
            }
            if portfolio_margin and token in PM_LTV:
                row["spotHold"] = fmt_decimal(spot_hold, BALANCE_QUANTUM)
                row["ltv"] = PM_LTV[token]
                row["supplied"] = fmt_decimal(max(totals[token], Decimal(0)), BALANCE_QUANTUM)
                row["borrowed"] = fmt_decimal(max(-totals[token], Decimal(0)), BALANCE_QUANTUM)
            rows.append(row)
        for side, (amount, entry) in sorted(self.outcomes.items()):
            rows.append(
                {
                    "coin": side,
                    "total": fmt_decimal(amount, BALANCE_QUANTUM),
                    "hold": "0.0",
                    "entryNtl": fmt_decimal(entry, NTL_QUANTUM),
                }
            )
        out: dict[str, object] = {"balances": rows}
        if portfolio_margin:
            out["portfolioMarginEnabled"] = True
            out["portfolioMarginRatio"] = fmt_decimal(self.pm_ratio(totals, perp), RATIO_QUANTUM)
        return out

    def pm_ratio(self, totals: dict[str, Decimal], perp: PerpCollateral | None) -> Decimal:
        """The portfolio margin ratio as the docs define it (liquidatable above 0.95):
        maintenance requirement (20 USDC + cross maintenance margin + borrowed value) over
        liquidation value (stable balances + unrealised PnL + supplied non-stable collateral
        at ``(0.5 + 0.5 * LTV)`` of its value)."""
        need = PM_BASE_REQUIREMENT + (perp.cross_mm_usd if perp else Decimal(0))
        value = perp.upnl_usd if perp else Decimal(0)
        for token, amount in totals.items():
            px = self.usd_price(token)
            if amount < 0:
                need += -amount * px
            elif token in STABLE_COLLATERAL:
                value += amount * px
            elif token in PM_LTV:
                value += amount * px * (Decimal("0.5") + Decimal("0.5") * Decimal(PM_LTV[token]))
        return need / value if value > 0 else Decimal(0)
