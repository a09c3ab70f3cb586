"""Exact decimal formatting and Hyperliquid price/size tick rules.

Prices and sizes are held as integers counting ticks (or lots) at a power-of-ten exponent, so
the simulator never prints float artefacts. The exchange rules: a price has at most 5
significant figures (integers are always allowed) and at most ``6 - szDecimals`` decimals for
perps (``8 - szDecimals`` for spot); a size has ``szDecimals`` decimals. Strings look like the
exchange's: ``"104412.0"``, ``"3688.2"``, ``"0.001604"``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

MONEY_QUANTUM = Decimal("0.000001")
RATE_QUANTUM = Decimal("0.0000000001")


def price_exponent(px: float, max_decimals: int) -> int:
    """The power of ten of one price tick for a price near ``px``."""
    if px <= 0:
        return -max_decimals
    exp = math.floor(math.log10(px)) - 4
    return min(max(exp, -max_decimals), 0)


def fmt_ticks(ticks: int, exp: int) -> str:
    """Format ``ticks * 10**exp`` like the exchange: trailing zeros stripped, at least ``.0``."""
    if exp >= 0:
        return f"{ticks * 10**exp}.0"
    neg = ticks < 0
    digits = str(-ticks if neg else ticks).rjust(1 - exp, "0")
    whole, frac = digits[:exp], digits[exp:].rstrip("0") or "0"
    return f"{'-' if neg else ''}{whole}.{frac}"


def _exchange_style(text: str) -> str:
    """Fixed-point ``text`` the exchange's way: trailing zeros stripped, at least ``.0``, and
    no negative zero (``"12.50"`` -> ``"12.5"``, ``"3"`` -> ``"3.0"``, ``"-0.00"`` -> ``"0.0"``).
    Shared by every formatter below so they cannot disagree."""
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text == "-0.0" else text


def fmt_decimal(value: Decimal, quantum: Decimal = MONEY_QUANTUM) -> str:
    """Format a Decimal rounded to ``quantum`` the exchange way (``"0.0"``, ``"-2.82848"``)."""
    q = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if q == 0:
        return "0.0"
    return _exchange_style(format(q, "f"))


def fmt_float(value: float, decimals: int) -> str:
    """Format a float with fixed decimals then strip zeros: safe from repr artefacts."""
    return _exchange_style(f"{value:.{decimals}f}")


def ticks_to_decimal(ticks: int, exp: int) -> Decimal:
    """An exact Decimal for ``ticks * 10**exp``."""
    return Decimal(ticks).scaleb(exp)


def decimal_to_ticks(value: Decimal, exp: int) -> int:
    """Round a Decimal to the nearest tick at ``exp``."""
    return int((value.scaleb(-exp)).to_integral_value(rounding=ROUND_HALF_EVEN))


def plain_number(value: Decimal) -> str:
    """A Decimal as text without a trailing ``.0`` for whole numbers (used in notifications)."""
    text = format(value.normalize(), "f")
    return text


def fmt_exact(value: Decimal) -> str:
    """Format a Decimal without rounding, exchange style (``"0.05"``, ``"12.0"``)."""
    return _exchange_style(format(value, "f"))
