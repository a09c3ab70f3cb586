"""Spot balances named and valued in USD (2026 protocol page §4.2). Pure: no I/O.

- A token row is named from ``spotMeta`` (the catalog), the row's own ``coin`` otherwise.
- Its USD price is the mid of its USDC pair (``@N``, or ``PURR/USDC``); without one, the mid
  of another pair times the quote token's own USDC mid (quotes are permissionless: USDT0,
  USDH...). USDC itself is worth exactly 1. Where it came from is said with the pairs' shown
  names (``HYPE/USDC``), as the web app and the watchlist write them.
- An outcome row ``+N`` (side ``N % 10`` of outcome ``N // 10``) is named from the catalog's
  ``#N`` market and priced at mid ``#N`` in its quote token; a settled ``oN`` row is shown
  raw, without a price (its value is not in the mids).
- uPnL = total * price - ``entryNtl`` (the cost basis, in USDC); free = total - hold.

A price that cannot be found is unknown, never zero: the row has no value, and the total is
None while any row with a non-zero balance lacks one (``known_usd`` sums what is known).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hlmon.protocol.account_types import SpotBalance, SpotClearinghouseState
from hlmon.state.catalog import USDC_TOKEN, MarketCatalog, MarketKind
from hlmon.state.decimals import SAFE, dec_str, try_dec

_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Price:
    """A USD price and the markets it was read from, by the names a trader reads
    (``HYPE/USDC``; ``HYPE/USDT0 via USDT0/USDC``; ``outcome mid via USDH/USDC``), not the
    wire's ``@107`` or ``#90``."""

    usd: Decimal
    via: str


class UsdPricer:
    """USD prices of spot tokens and outcome sides from the catalog and one ``allMids`` map
    (the default dex's, which carries the spot ``@N`` and outcome ``#N`` mids)."""

    def __init__(self, catalog: MarketCatalog, mids: Mapping[str, str]) -> None:
        self._catalog = catalog
        self._mids = mids

    def _mid(self, coin: str) -> Decimal | None:
        mid = try_dec(self._mids.get(coin))
        return mid if mid is not None and mid > _ZERO else None

    def token(self, token: int) -> Price | None:
        """The USD price of one unit of spot token ``token``, or None when unknown."""
        if token == USDC_TOKEN:
            return Price(_ONE, "USDC")
        for pair in self._catalog.spot_pairs_of(token):
            mid = self._mid(pair.name)
            if mid is None:
                continue
            if pair.quote_token == USDC_TOKEN:
                return Price(mid, pair.display)
            quote = self._usdc_only(pair.quote_token)
            if quote is not None:
                return Price(SAFE.multiply(mid, quote.usd), f"{pair.display} via {quote.via}")
        return None

    def _usdc_only(self, token: int | None) -> Price | None:
        """A quote token's price through its own USDC pair (one hop: no loops)."""
        if token is None:
            return None
        if token == USDC_TOKEN:
            return Price(_ONE, "USDC")
        pair = self._catalog.usdc_pair(token)
        mid = None if pair is None else self._mid(pair.name)
        return None if pair is None or mid is None else Price(mid, pair.display)

    def outcome(self, code: int) -> Price | None:
        """The USD price of one share of outcome side ``#code``, or None when unknown."""
        market = self._catalog.market(f"#{code}")
        mid = self._mid(f"#{code}")
        if market is None or market.kind != MarketKind.OUTCOME or mid is None:
            return None
        quote = self.token(market.quote_token) if market.quote_token is not None else None
        if quote is None:
            return None  # the quote token is not said (or not priced): unknown, not USDC
        # The side's own book, which its row already names (not the wire's ``#N``), and the
        # quote token's conversion when it is not USDC.
        via = "outcome mid"
        if market.quote_token != USDC_TOKEN:
            via = f"{via} via {quote.via}"
        return Price(SAFE.multiply(mid, quote.usd), via)


class SpotRowKind(StrEnum):
    TOKEN = "token"
    OUTCOME = "outcome"
    """``+N``: a held outcome side."""
    SETTLED = "settled"
    """``oN``: a settled outcome; no price."""


@dataclass(frozen=True, slots=True)
class SpotRow:
    """One balance, named and valued. Amounts are decimal strings; None = unknown.

    ``coin``, ``total``, ``hold`` and ``entry_ntl`` are the exchange's strings unchanged.
    """

    coin: str
    token: int | None
    name: str
    kind: SpotRowKind
    total: str
    hold: str
    free: str | None
    entry_ntl: str | None
    price_usd: str | None
    value_usd: str | None
    upnl_usd: str | None
    price_via: str | None
    borrowed: str | None = None
    supplied: str | None = None
    ltv: str | None = None


@dataclass(frozen=True, slots=True)
class SpotValuation:
    rows: tuple[SpotRow, ...]
    value_usd: str | None
    """Sum of every row's USD value; None while a non-zero balance has no price."""
    known_usd: str
    """Sum of the rows that have a USD value (what is known, flagged by ``unpriced``)."""
    unpriced: tuple[str, ...]
    """Coins of non-zero balances without a USD price."""
    dropped: int = 0
    """Rows the decoder could not read (from the state's tolerance counts)."""

    def row(self, token: int) -> SpotRow | None:
        """The row of spot token ``token``."""
        return next((r for r in self.rows if r.token == token), None)


def outcome_code(coin: str) -> int | None:
    """``+14880`` / ``o14880`` -> 14880 (= 10 * outcome + side); None for a token's coin."""
    if coin[:1] in ("+", "o") and coin[1:].isdigit():
        return int(coin[1:])
    return None


def value_spot(
    state: SpotClearinghouseState, catalog: MarketCatalog, mids: Mapping[str, str]
) -> SpotValuation:
    """Name and value every balance of ``state`` (see the module docstring for the rules)."""
    pricer = UsdPricer(catalog, mids)
    rows = tuple(_row(b, catalog, pricer) for b in state.balances)
    known = _ZERO
    unpriced: list[str] = []
    for row, balance in zip(rows, state.balances, strict=True):
        value = try_dec(row.value_usd)
        if value is not None:
            known = SAFE.add(known, value)
        elif try_dec(balance.total) != _ZERO:
            unpriced.append(row.coin)
    known_str = dec_str(known) or "0"
    total = None if unpriced or dec_str(known) is None else known_str
    return SpotValuation(rows, total, known_str, tuple(unpriced), state.dropped)


def _row(b: SpotBalance, catalog: MarketCatalog, pricer: UsdPricer) -> SpotRow:
    total, hold = try_dec(b.total), try_dec(b.hold)
    free = SAFE.subtract(total, hold) if total is not None and hold is not None else None
    code = outcome_code(b.coin) if b.token is None else None
    price: Price | None
    if b.token is not None:
        kind, name = SpotRowKind.TOKEN, catalog.token_name(b.token) or b.coin
        price = pricer.token(b.token)
    elif code is not None and b.coin.startswith("+"):
        market = catalog.market(f"#{code}")
        kind, name = SpotRowKind.OUTCOME, market.display if market is not None else b.coin
        price = pricer.outcome(code)
    else:  # ``oN`` (settled) or a row shape hlmon does not know: raw, no price
        kind = SpotRowKind.SETTLED if code is not None else SpotRowKind.TOKEN
        name, price = b.coin, None
    value = SAFE.multiply(total, price.usd) if total is not None and price else None
    if total == _ZERO:
        value = _ZERO  # nothing held is worth nothing, priced or not
    entry = try_dec(b.entryNtl)
    upnl = None
    if value is not None and entry is not None and b.token != USDC_TOKEN and total != _ZERO:
        upnl = SAFE.subtract(value, entry)
    return SpotRow(
        coin=b.coin,
        token=b.token,
        name=name,
        kind=kind,
        total=b.total,
        hold=b.hold,
        free=dec_str(free),
        entry_ntl=b.entryNtl,
        price_usd=dec_str(price.usd) if price is not None else None,
        value_usd=dec_str(value),
        upnl_usd=dec_str(upnl),
        price_via=price.via if price is not None else None,
        borrowed=b.borrowed,
        supplied=b.supplied,
        ltv=b.ltv,
    )
