"""Text formatting for the screen: prices, money, percentages, ages, addresses, sparklines.

Prices and sizes arrive as the exchange's decimal strings; they are re-formatted through
``Decimal`` so the screen never shows float artefacts. Derived numbers (percentages, notional)
may be floats; they are rounded to a fixed number of places before printing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DASH = "–"
SPARK_CHARS = "▁▂▃▄▅▆▇█"
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def to_decimal(value: str | float | Decimal | None) -> Decimal | None:
    """Parse a wire string (or number) into a Decimal; ``None`` if it is not a number."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def decimals_of(value: str) -> int:
    """Number of decimals written in a decimal string (``"104412.0"`` -> 1)."""
    _, dot, frac = value.partition(".")
    return len(frac) if dot else 0


def price_decimals(value: str | float | Decimal | None, max_decimals: int = 6) -> int:
    """Decimals the exchange allows for a price: 5 significant figures, at least one decimal.

    Args:
        value: A price.
        max_decimals: The asset's cap (``6 - szDecimals`` on perps).

    Returns:
        The number of decimals to print so that a column of prices lines up.
    """
    d = to_decimal(value)
    if d is None or d == 0:
        return 1
    # From the decimal exponent, not a float log: '1e400' is a valid Decimal but an inf float.
    int_digits = d.adjusted() + 1  # <= 0 below 1
    return max(1, min(max_decimals, 5 - int_digits))


def fmt_num(value: str | float | Decimal | None, decimals: int, *, sign: bool = False) -> str:
    """Format a number with thousands separators and exactly ``decimals`` places.

    Args:
        value: The number (wire string, Decimal or float).
        decimals: Places after the point.
        sign: Prefix ``+`` for positive values.

    Returns:
        The text, or a dash when ``value`` is not a number.
    """
    d = to_decimal(value)
    if d is None:
        return DASH
    try:
        q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP) if decimals >= 0 else d
    except InvalidOperation:  # more digits than the context holds ('1e30'): show it unrounded
        q = d
    if q == 0:
        q = abs(q)  # never print -0.00
    text = f"{q:,.{decimals}f}"
    if sign and q > 0:
        text = "+" + text
    return text


def fmt_px(value: str | float | Decimal | None, decimals: int | None = None) -> str:
    """Format a price at the exchange's precision with thousands separators.

    Args:
        value: The price.
        decimals: Places to print; by default the 5-significant-figure rule, widened to
            the places written in the string (a mid can sit half a tick between prices).

    Returns:
        The text, or a dash.
    """
    if value is None:
        return DASH
    if decimals is None:
        decimals = price_decimals(value)
        if isinstance(value, str):
            decimals = max(decimals, min(decimals_of(value), 8))
    return fmt_num(value, decimals)


def fmt_size(value: str | float | Decimal | None, decimals: int | None = None) -> str:
    """Format a size; by default as written on the wire (exact), with separators."""
    if value is None:
        return DASH
    if decimals is None:
        decimals = decimals_of(value) if isinstance(value, str) else 4
    return fmt_num(value, decimals)


def fmt_money(value: str | float | Decimal | None, *, sign: bool = False) -> str:
    """Format a USD amount with two decimals and separators (``18,204.77``)."""
    return fmt_num(value, 2, sign=sign)


def fmt_compact(value: float | Decimal | str | None) -> str:
    """Format a large amount compactly: ``3.04B``, ``412.1M``, ``88.2M``, ``12.5K``."""
    d = to_decimal(value)
    if d is None:
        return DASH
    x = float(d)
    ax = abs(x)
    if ax >= 1e12:
        return f"{x / 1e12:.2f}T"
    if ax >= 1e9:
        return f"{x / 1e9:.2f}B"
    if ax >= 1e6:
        return f"{x / 1e6:.1f}M"
    if ax >= 1e3:
        return f"{x / 1e3:.1f}K"
    return f"{x:.0f}"


def fmt_pct(value: float | None, decimals: int = 2, *, sign: bool = True) -> str:
    """Format a percentage that is already scaled to percent (``1.5`` -> ``+1.50%``)."""
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{value:+.{decimals}f}%" if sign else f"{value:.{decimals}f}%"
    if text.lstrip("+-").rstrip("%").strip("0.") == "":
        text = f"{0:.{decimals}f}%"  # no signed zero
    return text


def fmt_age(seconds: float | None) -> str:
    """Format an age compactly: ``0.4s``, ``18s``, ``2m05s``, ``3h02m``."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    s = max(0.0, seconds)
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{int(s)}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def fmt_clock(epoch_s: float, *, tenths: bool = False) -> str:
    """Local wall time ``HH:MM:SS`` (``HH:MM:SS.t`` with tenths) of an epoch in seconds."""
    lt = time.localtime(epoch_s)
    text = f"{lt.tm_hour:02d}:{lt.tm_min:02d}:{lt.tm_sec:02d}"
    if tenths:
        text += f".{int(epoch_s * 10) % 10}"
    return text


def fmt_ms_clock(epoch_ms: int | float | None, *, tenths: bool = False) -> str:
    """Local wall time of an exchange timestamp in milliseconds."""
    if epoch_ms is None:
        return DASH
    return fmt_clock(epoch_ms / 1000.0, tenths=tenths)


def fmt_when(epoch_ms: int | float | None, now_s: float) -> str:
    """``HH:MM:SS`` for today (local time), ``MM-DD HH:MM`` for older events."""
    if epoch_ms is None:
        return DASH
    t = epoch_ms / 1000.0
    lt, ln = time.localtime(t), time.localtime(now_s)
    if (lt.tm_year, lt.tm_yday) == (ln.tm_year, ln.tm_yday):
        return fmt_clock(t)
    return f"{lt.tm_mon:02d}-{lt.tm_mday:02d} {lt.tm_hour:02d}:{lt.tm_min:02d}"


def short_address(address: str | None) -> str:
    """Shorten ``0x8a31...f02c`` to ``0x8a31…f02c``; a dash when there is no address."""
    if not address:
        return DASH
    if len(address) <= 13:
        return address
    return f"{address[:6]}…{address[-4:]}"


def sparkline(values: Sequence[float], width: int) -> str:
    """A sparkline of the last ``width`` values, scaled to their own min..max.

    A flat series draws a flat middle line, so "no movement" does not look like a crash.
    """
    if width <= 0:
        return ""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi - lo <= abs(hi) * 1e-12:
        return SPARK_CHARS[3] * len(vals)
    top = len(SPARK_CHARS) - 1
    scale = top / (hi - lo)
    return "".join(SPARK_CHARS[round((v - lo) * scale)] for v in vals)


def bar(fraction: float, width: int) -> str:
    """A left-aligned horizontal bar of ``width`` cells filled to ``fraction`` (eighths)."""
    if width <= 0:
        return ""
    f = min(max(fraction, 0.0), 1.0)
    eighths = round(f * width * 8)
    if f > 0 and eighths == 0:
        eighths = 1  # a non-empty level is never invisible
    full, rest = divmod(eighths, 8)
    text = "█" * full + (BAR_EIGHTHS[rest] if rest else "")
    return text.ljust(width)
