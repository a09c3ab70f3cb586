"""What the market table shows: a filter typed by the user and a sort order.

A query is words separated by spaces: ``dex:xyz`` keeps the perps of one dex (``dex:`` alone
the default dex), ``perp`` or ``spot`` keeps one kind, and every other word must appear in the
market's name or display name (case-insensitive): ``eth perp``, ``dex:xyz nv``, ``usdc spot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hlmon.state.catalog import Market, MarketKind


class SortColumn(StrEnum):
    """A column of the market table, in display order (the order ``s`` cycles through)."""

    NAME = "name"
    MARK = "mark"
    MID = "mid"
    CHANGE = "change"
    """24 h change in percent, from ``prevDayPx``."""
    FUNDING = "funding"
    """Hourly funding rate (perps)."""
    FUNDING_APR = "apr"
    """Hourly funding times 24 x 365 (perps)."""
    OPEN_INTEREST = "oi"
    """Open interest in USD: ``openInterest * markPx`` (perps)."""
    VOLUME = "volume"
    """24 h notional volume (``dayNtlVlm``)."""

    def next(self) -> SortColumn:
        members = list(SortColumn)
        return members[(members.index(self) + 1) % len(members)]


@dataclass(frozen=True, slots=True)
class SortSpec:
    """Sort by ``column``; markets without a value always come last, in either direction."""

    column: SortColumn = SortColumn.VOLUME
    descending: bool = True

    def flipped(self) -> SortSpec:
        return SortSpec(self.column, not self.descending)

    def by(self, column: SortColumn) -> SortSpec:
        """Sort by ``column``: names ascending, numbers biggest first (as a trader scans)."""
        return SortSpec(column, column is not SortColumn.NAME)


_KINDS = {"perp": MarketKind.PERP, "spot": MarketKind.SPOT}


@dataclass(frozen=True, slots=True)
class MarketQuery:
    """A parsed filter (see the module docstring); ``MarketQuery()`` keeps every market."""

    text: str = ""
    terms: tuple[str, ...] = ()
    """Case-folded words that must all appear in the name or the display name."""
    dex: str | None = None
    """Keep only perps of this dex (``""`` = default dex); None = any."""
    kind: MarketKind | None = None

    @classmethod
    def parse(cls, text: str) -> MarketQuery:
        terms: list[str] = []
        dex: str | None = None
        kind: MarketKind | None = None
        for word in text.split():
            folded = word.casefold()
            if folded.startswith("dex:"):
                dex = word[4:]  # dex names are exact (lower case on mainnet)
            elif folded in _KINDS:
                kind = _KINDS[folded]
            else:
                terms.append(folded)
        return cls(text.strip(), tuple(terms), dex, kind)

    @property
    def is_empty(self) -> bool:
        return not self.terms and self.dex is None and self.kind is None

    def matches(self, market: Market) -> bool:
        if self.kind is not None and market.kind != self.kind:
            return False
        if self.dex is not None and (market.kind != MarketKind.PERP or market.dex != self.dex):
            return False
        if self.terms:
            hay = f"{market.name}\n{market.display}".casefold()
            return all(term in hay for term in self.terms)
        return True

    def describe(self) -> str:
        """A short human description (``dex xyz, perp, "nv"``); empty when nothing filters."""
        parts: list[str] = []
        if self.dex is not None:
            parts.append(f"dex {self.dex or 'default'}")
        if self.kind is not None:
            parts.append(str(self.kind))
        parts += [f'"{t}"' for t in self.terms]
        return ", ".join(parts)
