"""Fees summed per fee token (2026 protocol page §6.4). Pure: no I/O.

A fill's ``fee`` is in its ``feeToken`` (USDC, but also USDH on ``flx`` fills, USOL, HYPE...),
includes ``builderFee``, and is negative for a rebate. Amounts of different tokens are never
added together. A fill whose fee the exchange did not state (the tolerant decoder's
``feeToken ""``) or whose fee is not a number is counted apart, not as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from hlmon.protocol.account_types import Fill
from hlmon.state.decimals import SAFE, dec_str, try_dec


@dataclass(frozen=True, slots=True)
class FeeTotals:
    """Fee totals by token (decimal strings, tokens in first-seen order)."""

    by_token: dict[str, str] = field(default_factory=dict)
    """Total fee per token, builder fees included; negative = net rebate."""
    builder_by_token: dict[str, str] = field(default_factory=dict)
    """The builders' share per token (already inside ``by_token``)."""
    fills: int = 0
    """Fills whose fee is in ``by_token``."""
    unknown: int = 0
    """Fills whose fee or fee token is not known (left out of every total)."""

    def total(self, token: str) -> str | None:
        """The total in ``token``, or None when no fill paid in it."""
        return self.by_token.get(token)


def total_fees(fills: Iterable[Fill]) -> FeeTotals:
    """Sum the fees of ``fills`` per fee token (pass each fill once: dedupe before)."""
    sums: dict[str, Decimal] = {}
    builder: dict[str, Decimal] = {}
    counted = unknown = 0
    for fill in fills:
        fee = try_dec(fill.fee)
        if not fill.feeToken or fee is None:
            unknown += 1
            continue
        counted += 1
        sums[fill.feeToken] = SAFE.add(sums.get(fill.feeToken, Decimal(0)), fee)
        share = try_dec(fill.builderFee)
        if share is not None:
            builder[fill.feeToken] = SAFE.add(builder.get(fill.feeToken, Decimal(0)), share)
    return FeeTotals(_strings(sums), _strings(builder), counted, unknown)


def _strings(sums: dict[str, Decimal]) -> dict[str, str]:
    # A non-finite total (hostile input) is dropped: unknown, not a number that looks real.
    return {token: text for token, d in sums.items() if (text := dec_str(d)) is not None}
