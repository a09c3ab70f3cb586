"""Equity and liquidation risk of one account, by its mode (2026 protocol page §4.4, §4.5).

Pure: no I/O. Inputs are the decoded states (per-dex perp states joined by dex *name*, the
spot state), the catalog (each dex's collateral token, token names and pairs) and the default
dex's ``allMids`` (spot ``@N`` and outcome ``#N`` mids). Every figure is a decimal string;
an input that is missing makes the figures that need it None and is named in ``missing``
(never a silent zero). ``known_usd`` sums what could be valued.

standard (``default``/``disabled``/``dexAbstraction``)
    Each perp dex is its own pool in its collateral token. Per dex: ``accountValue``;
    equity = sum over dexes of accountValue x USD price of the dex's token, plus the spot
    balances valued (``spot.value_spot``). Ratio: per dex ``crossMaintenanceMarginUsed /
    crossMarginSummary.accountValue``; the account's is the worst (highest) dex.
unifiedAccount
    Collateral lives in spot; ``accountValue``/``withdrawable`` are not balances. Equity =
    spot balances valued + sum of ``unrealizedPnl`` of every perp position (x USD price of its
    dex's token). Ratio: the unified account ratio: per collateral token t,
    ``crossMM[t] / (spot total of t - isolated marginUsed[t])`` over dexes settling in t, the
    maximum over tokens with a positive denominator (0 if none).
portfolioMargin
    Equity as unified (per token also borrowed and supplied). Ratio: the server's
    ``portfolioMarginRatio``; the account can be liquidated above 0.95.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hlmon.protocol.account_types import ClearinghouseState, SpotClearinghouseState
from hlmon.state.account_modes import AccountMode
from hlmon.state.catalog import MarketCatalog
from hlmon.state.decimals import SAFE, dec_str, pct, try_dec
from hlmon.state.spot import SpotValuation, UsdPricer, value_spot

PORTFOLIO_MARGIN_LIQUIDATION = Decimal("0.95")
"""A portfolio-margin account can be liquidated when its ratio is above this."""
RATIO_PLACES = 10

_ZERO = Decimal(0)


class RatioKind(StrEnum):
    CROSS_MAINTENANCE = "crossMaintenance"
    UNIFIED = "unifiedAccountRatio"
    PORTFOLIO_MARGIN = "portfolioMarginRatio"

    @property
    def label(self) -> str:
        return _RATIO_LABELS[self]


_RATIO_LABELS = {
    RatioKind.CROSS_MAINTENANCE: "cross maintenance / account value (worst dex)",
    RatioKind.UNIFIED: "unified account ratio",
    RatioKind.PORTFOLIO_MARGIN: "portfolio margin ratio",
}
_RATIO_OF_MODE = {
    AccountMode.STANDARD: RatioKind.CROSS_MAINTENANCE,
    AccountMode.UNIFIED: RatioKind.UNIFIED,
    AccountMode.PORTFOLIO_MARGIN: RatioKind.PORTFOLIO_MARGIN,
}


@dataclass(frozen=True, slots=True)
class DexFigures:
    """One perp dex's part. Amounts are in the dex's collateral token unless named ``_usd``."""

    dex: str
    collateral: str | None
    account_value: str | None
    """``marginSummary.accountValue``: a balance only for standard accounts."""
    value_usd: str | None
    """Standard: the account value in USD; otherwise the positions' uPnL in USD."""
    unrealized_pnl: str | None
    cross_maintenance: str | None
    ratio: str | None
    """Standard: ``crossMaintenanceMarginUsed / crossMarginSummary.accountValue``."""


@dataclass(frozen=True, slots=True)
class TokenAmount:
    """An amount of one token: a perp pool (standard) or a spot balance (unified/PM)."""

    token: str
    amount: str
    value_usd: str | None
    borrowed: str | None = None
    supplied: str | None = None


@dataclass(frozen=True, slots=True)
class AccountEquity:
    mode: AccountMode | None
    equity_usd: str | None
    """The account's total in USD by the rules of its mode; None while an input is missing."""
    known_usd: str
    """The sum of the parts that could be valued (equal to ``equity_usd`` when complete)."""
    ratio: str | None
    ratio_kind: RatioKind | None
    per_token: tuple[TokenAmount, ...]
    per_dex: tuple[DexFigures, ...]
    spot: SpotValuation | None
    missing: tuple[str, ...]
    """What could not be known, in words (``state of dex xyz``, ``USD price of HYPE``...)."""

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def ratio_name(self) -> str:
        return self.ratio_kind.label if self.ratio_kind is not None else "unknown"

    @property
    def ratio_pct(self) -> str | None:
        """The ratio in percent, 2 decimals (``"4.00"``); None when unknown."""
        ratio = try_dec(self.ratio)
        return None if ratio is None else pct(ratio, Decimal(1))

    @property
    def liquidation_ratio(self) -> str | None:
        """The level above which the account can be liquidated, when the exchange says one."""
        return "0.95" if self.ratio_kind == RatioKind.PORTFOLIO_MARGIN else None

    @property
    def liquidatable(self) -> bool | None:
        """Portfolio margin: ratio above 0.95; None when unknown or not stated for the mode."""
        ratio = try_dec(self.ratio)
        if self.ratio_kind != RatioKind.PORTFOLIO_MARGIN or ratio is None:
            return None
        return ratio > PORTFOLIO_MARGIN_LIQUIDATION


def account_equity(
    mode: AccountMode | None,
    catalog: MarketCatalog,
    *,
    dex_states: Mapping[str, ClearinghouseState],
    spot: SpotClearinghouseState | None,
    mids: Mapping[str, str],
    expected_dexes: Iterable[str] | None = None,
) -> AccountEquity:
    """Equity, ratio and per-token amounts of one account (see the module docstring).

    Args:
        mode: the account's mode (``account_modes.normalise_mode``); None = not read yet.
        catalog: dexes with their collateral tokens, token names, spot pairs.
        dex_states: perp states by dex name (``""`` = default dex), as the feeds hold them.
        spot: the spot state, None when it has not arrived.
        mids: the default dex's mids (spot ``@N``/``PURR/USDC`` and outcome ``#N`` keys).
        expected_dexes: the dexes whose states must be present; default every catalog dex.
    """
    if mode is None:
        return AccountEquity(None, None, "0", None, None, (), (), None, ("account mode",))
    names = _dex_names(catalog, dex_states, expected_dexes)
    calc = _Calc(catalog, mids)
    if mode == AccountMode.STANDARD:
        return calc.standard(names, dex_states, spot)
    return calc.unified(mode, names, dex_states, spot)


def _dex_names(
    catalog: MarketCatalog,
    states: Mapping[str, ClearinghouseState],
    expected: Iterable[str] | None,
) -> list[str]:
    names = list(expected) if expected is not None else [d.name for d in catalog.dexes()]
    if expected is None and not names:
        names = [""]
    return names + [name for name in states if name not in names]


def _label(dex: str) -> str:
    return f"dex {dex}" if dex else "the default dex"


def _ratio(num: Decimal, den: Decimal) -> Decimal | None:
    """``num / den`` to ``RATIO_PLACES``; None when not finite (hostile input overflowing)."""
    ratio = SAFE.quantize(SAFE.divide(num, den), Decimal(1).scaleb(-RATIO_PLACES))
    return ratio if ratio.is_finite() else None


def _positive(d: Decimal) -> bool:
    return d.is_finite() and d > _ZERO


class _Calc:
    """One computation: collects what is missing while it goes."""

    def __init__(self, catalog: MarketCatalog, mids: Mapping[str, str]) -> None:
        self.catalog = catalog
        self.mids = mids
        self.pricer = UsdPricer(catalog, mids)
        self.missing: list[str] = []

    def _miss(self, what: str) -> None:
        if what not in self.missing:
            self.missing.append(what)

    def _collateral(self, dex: str) -> tuple[int | None, str | None]:
        found = self.catalog.dex(dex)
        if found is None or found.collateral_token is None:
            return None, None
        token = found.collateral_token
        return token, found.collateral or self.catalog.token_name(token) or f"token {token}"

    def _usd(self, amount: Decimal | None, token: int | None, dex: str) -> Decimal | None:
        """``amount`` of ``dex``'s collateral in USD; None (and noted) when unknown."""
        if amount is None:
            return None
        if amount == _ZERO:
            return _ZERO
        if token is None:
            self._miss(f"collateral token of {_label(dex)}")
            return None
        price = self.pricer.token(token)
        if price is None:
            self._miss(f"USD price of {self.catalog.token_name(token) or f'token {token}'}")
            return None
        return SAFE.multiply(amount, price.usd)

    def _state(
        self, dex: str, states: Mapping[str, ClearinghouseState]
    ) -> ClearinghouseState | None:
        state = states.get(dex)
        if state is None:
            self._miss(f"state of {_label(dex)}")
        elif state.dropped:
            self._miss(f"{state.dropped} unreadable position(s) on {_label(dex)}")
        return state

    def _spot(self, spot: SpotClearinghouseState | None) -> SpotValuation | None:
        if spot is None:
            self._miss("spot balances")
            return None
        valued = value_spot(spot, self.catalog, self.mids)
        for coin in valued.unpriced:
            self._miss(f"USD price of {coin}")
        if valued.dropped:
            self._miss(f"{valued.dropped} unreadable spot balance(s)")
        return valued

    def _result(
        self,
        mode: AccountMode,
        parts: list[Decimal | None],
        ratio: Decimal | None,
        per_token: list[TokenAmount],
        per_dex: list[DexFigures],
        spot: SpotValuation | None,
    ) -> AccountEquity:
        known = _ZERO
        for part in parts:
            if part is not None:
                known = SAFE.add(known, part)
        complete = not self.missing and all(p is not None for p in parts)
        return AccountEquity(
            mode=mode,
            equity_usd=dec_str(known) if complete else None,
            known_usd=dec_str(known) or "0",
            ratio=dec_str(ratio),
            ratio_kind=_RATIO_OF_MODE[mode],
            per_token=tuple(per_token),
            per_dex=tuple(per_dex),
            spot=spot,
            missing=tuple(self.missing),
        )

    # ------------------------------------------------------------------ standard

    def standard(
        self,
        names: list[str],
        states: Mapping[str, ClearinghouseState],
        spot_state: SpotClearinghouseState | None,
    ) -> AccountEquity:
        parts: list[Decimal | None] = []
        per_dex: list[DexFigures] = []
        pools: dict[str, Decimal] = {}
        worst: Decimal | None = _ZERO
        for dex in names:
            token, collateral = self._collateral(dex)
            state = self._state(dex, states)
            if state is None:
                per_dex.append(DexFigures(dex, collateral, None, None, None, None, None))
                parts.append(None)
                worst = None
                continue
            value = try_dec(state.marginSummary.accountValue)
            if value is None:
                self._miss(f"account value on {_label(dex)}")
            usd = self._usd(value, token, dex)
            parts.append(usd)
            if value is not None:
                key = collateral or f"collateral of {_label(dex)}"
                pools[key] = SAFE.add(pools.get(key, _ZERO), value)
            ratio = self._dex_ratio(state)
            worst = None if worst is None or ratio is None else max(worst, ratio)
            per_dex.append(
                DexFigures(
                    dex,
                    collateral,
                    state.marginSummary.accountValue,
                    dec_str(usd),
                    dec_str(_upnl(state)),
                    state.crossMaintenanceMarginUsed,
                    dec_str(ratio),
                )
            )
        valued = self._spot(spot_state)
        parts.append(None if valued is None else try_dec(valued.known_usd))
        per_token = [TokenAmount(name, dec_str(v) or "0", None) for name, v in pools.items()]
        return self._result(AccountMode.STANDARD, parts, worst, per_token, per_dex, valued)

    def _dex_ratio(self, state: ClearinghouseState) -> Decimal | None:
        maintenance = try_dec(state.crossMaintenanceMarginUsed)
        value = try_dec(state.crossMarginSummary.accountValue)
        if maintenance is None or value is None:
            return None
        if _positive(value):
            return _ratio(maintenance, value)
        return _ZERO if maintenance == _ZERO else None  # margin used with no value: unknown

    # ------------------------------------------------------------------ unified, PM

    def unified(
        self,
        mode: AccountMode,
        names: list[str],
        states: Mapping[str, ClearinghouseState],
        spot_state: SpotClearinghouseState | None,
    ) -> AccountEquity:
        valued = self._spot(spot_state)
        parts: list[Decimal | None] = [None if valued is None else try_dec(valued.known_usd)]
        per_dex: list[DexFigures] = []
        cross_mm: dict[int, Decimal] = {}
        isolated: dict[int, Decimal] = {}
        ratio_known = valued is not None
        for dex in names:
            token, collateral = self._collateral(dex)
            state = self._state(dex, states)
            if state is None:
                per_dex.append(DexFigures(dex, collateral, None, None, None, None, None))
                parts.append(None)
                ratio_known = False
                continue
            upnl = _upnl(state)
            usd = self._usd(upnl, token, dex)
            parts.append(usd)
            maintenance = try_dec(state.crossMaintenanceMarginUsed)
            iso = _isolated_margin(state)
            if maintenance is None or iso is None or upnl is None:
                self._miss(f"margin figures on {_label(dex)}")
                ratio_known = False
            elif token is not None:
                cross_mm[token] = SAFE.add(cross_mm.get(token, _ZERO), maintenance)
                isolated[token] = SAFE.add(isolated.get(token, _ZERO), iso)
            elif maintenance != _ZERO or iso != _ZERO:
                self._miss(f"collateral token of {_label(dex)}")
                ratio_known = False
            per_dex.append(
                DexFigures(
                    dex,
                    collateral,
                    state.marginSummary.accountValue,
                    dec_str(usd),
                    dec_str(upnl),
                    state.crossMaintenanceMarginUsed,
                    None,
                )
            )
        ratio: Decimal | None = None
        if mode == AccountMode.UNIFIED and ratio_known and spot_state is not None:
            ratio = self._unified_ratio(spot_state, cross_mm, isolated)
        elif mode == AccountMode.PORTFOLIO_MARGIN and spot_state is not None:
            ratio = try_dec(spot_state.portfolioMarginRatio)
            if ratio is None:
                self._miss("portfolioMarginRatio")
        return self._result(mode, parts, ratio, _spot_tokens(valued), per_dex, valued)

    def _unified_ratio(
        self,
        spot: SpotClearinghouseState,
        cross_mm: Mapping[int, Decimal],
        isolated: Mapping[int, Decimal],
    ) -> Decimal | None:
        totals: dict[int, Decimal] = {}
        for balance in spot.balances:
            total = try_dec(balance.total)
            if balance.token is None:
                continue
            if total is None:
                self._miss(f"spot balance of {balance.coin}")
                return None
            totals[balance.token] = SAFE.add(totals.get(balance.token, _ZERO), total)
        worst: Decimal | None = _ZERO
        for token, maintenance in cross_mm.items():
            available = SAFE.subtract(totals.get(token, _ZERO), isolated.get(token, _ZERO))
            if not available.is_finite():
                return None
            if available > _ZERO:
                ratio = _ratio(maintenance, available)
                worst = None if worst is None or ratio is None else max(worst, ratio)
        return worst


def _upnl(state: ClearinghouseState) -> Decimal | None:
    total = _ZERO
    for asset in state.assetPositions:
        pnl = try_dec(asset.position.unrealizedPnl)
        if pnl is None:
            return None
        total = SAFE.add(total, pnl)
    return total


def _isolated_margin(state: ClearinghouseState) -> Decimal | None:
    total = _ZERO
    for asset in state.assetPositions:
        if asset.position.leverage.type != "isolated":
            continue
        used = try_dec(asset.position.marginUsed)
        if used is None:
            return None
        total = SAFE.add(total, used)
    return total


def _spot_tokens(valued: SpotValuation | None) -> list[TokenAmount]:
    if valued is None:
        return []
    return [
        TokenAmount(r.name, r.total, r.value_usd, r.borrowed, r.supplied)
        for r in valued.rows
        if any(try_dec(v) not in (None, _ZERO) for v in (r.total, r.borrowed, r.supplied))
    ]
