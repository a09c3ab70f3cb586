"""Text formatting for the screen: prices, money, percentages, ages, addresses, sparklines.

Prices and sizes arrive as the exchange's decimal strings; they are re-formatted through
``Decimal`` so the screen never shows float artefacts. Derived numbers (percentages, notional)
may be floats; they are rounded to a fixed number of places before printing.

One set of rules for every pane (and the alert texts: the core of it, ``fmt_amount``,
``fmt_px_text``, ``price_places``, ``shown_decimals``, lives in ``hlmon.state.decimals``):

- thousands are separated by ``,``; a negative number starts with ``-``, a signed positive
  one with ``+`` (PnL), so the sign never depends on colour;
- a price shows the decimals the exchange allows (5 significant figures, integers always
  allowed: BTC at 104,412 has none), widened to the decimals the string really carries
  (a mid half a tick between prices); a trailing ``.0`` is not a decimal;
- a size shows the decimals it carries, without trailing zeros;
- an abbreviated amount (``fmt_compact``) has two decimals below 10 of its unit and one
  above (``3.04B``, ``412.1M``, ``950.8K``); a column abbreviates all its amounts of 1,000 and
  more as soon as one does not fit (``fmt_column``), never some of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from decimal import Decimal

from hlmon.state.decimals import fmt_amount, fmt_px_text, fmt_size_text, price_places, try_dec
from hlmon.state.decimals import shown_decimals as shown_decimals  # the panes import it here

DASH = "–"
"""A value that does not exist (no liquidation price, no trigger)."""
WAITING = "…"
"""A value whose feed has not delivered its first data yet."""
SPARK_CHARS = "▁▂▃▄▅▆▇█"
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def to_decimal(value: str | float | Decimal | None) -> Decimal | None:
    """Parse a wire string (or number) into a Decimal; ``None`` if it is not a number (a
    float through its shortest text, as it prints)."""
    return try_dec(str(value) if isinstance(value, float) else value)


def decimals_of(value: str) -> int:
    """Number of decimals written in a decimal string (``"104412.0"`` -> 1)."""
    _, dot, frac = value.partition(".")
    return len(frac) if dot else 0


def price_decimals(value: str | float | Decimal | None, max_decimals: int = 6) -> int:
    """Decimals the exchange allows for a price: 5 significant figures (integer prices are
    always allowed, so a price of 100,000 or more has none).

    Args:
        value: A price.
        max_decimals: The asset's cap (``6 - szDecimals`` on perps).

    Returns:
        The number of decimals to print so that a column of prices lines up.
    """
    d = to_decimal(value)
    return 0 if d is None else price_places(d, max_decimals)


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
    return DASH if d is None else fmt_amount(d, decimals, sign=sign)


def fmt_px(value: str | float | Decimal | None, decimals: int | None = None) -> str:
    """Format a price at the exchange's precision with thousands separators.

    Args:
        value: The price.
        decimals: Places to print; by default the 5-significant-figure rule, widened to
            the places the string carries (a mid can sit half a tick between prices).

    Returns:
        The text, or a dash.
    """
    d = to_decimal(value)
    if d is None:
        return DASH
    if decimals is None:  # the shared rule (``hlmon.state.decimals``), as in alert texts
        return fmt_px_text(value if isinstance(value, str) else d)
    return fmt_amount(d, decimals)


def fmt_size(value: str | float | Decimal | None, decimals: int | None = None) -> str:
    """Format a size; by default exact as on the wire, without trailing zeros, with separators."""
    if value is None:
        return DASH
    if decimals is None and isinstance(value, str):  # the shared rule, as in the log's lines
        return fmt_size_text(value, DASH)
    return fmt_num(value, 4 if decimals is None else decimals)


def fmt_money(value: str | float | Decimal | None, *, sign: bool = False) -> str:
    """Format a USD amount with two decimals and separators (``18,204.77``)."""
    return fmt_num(value, 2, sign=sign)


SMALL_PLACES_MAX = 6
"""USDC's own precision on the exchange: a payment is never shown with more places."""


def fmt_payment(value: str | float | Decimal | None, *, sign: bool = False) -> str:
    """A money amount that is often under a cent (a funding payment): two decimals, but one
    below a cent keeps two significant figures (``+0.0041``, ``-0.00012``) rather than reading
    ``0.00``, which would say nothing was paid, in neither direction."""
    d = to_decimal(value)
    if d is None:
        return DASH
    places = 2
    if d and abs(d) < Decimal("0.01"):
        places = min(SMALL_PLACES_MAX, 1 - d.adjusted())
    return fmt_amount(d, places, sign=sign)


_UNITS = (
    (Decimal("1e3"), "K"),
    (Decimal("1e6"), "M"),
    (Decimal("1e9"), "B"),
    (Decimal("1e12"), "T"),
)


def fmt_compact(value: float | Decimal | str | None, small_decimals: int = 0) -> str:
    """Format an amount compactly: ``3.04B``, ``412.1M``, ``8.25M``, ``950.8K``.

    Two decimals below 10 of the unit, one above; below 1,000 the amount itself with
    ``small_decimals`` places. Rounding never shows ``1000.0K``: it moves to the next unit.
    """
    d = to_decimal(value)
    if d is None:
        return DASH
    small = fmt_num(d, small_decimals)
    rounded = to_decimal(small.replace(",", ""))
    if rounded is not None and abs(rounded) < 1000:  # 999.96 rounds to 1,000: abbreviated
        return small
    for i, (scale, suffix) in enumerate(_UNITS):
        last = i == len(_UNITS) - 1
        if not last and abs(d) >= _UNITS[i + 1][0]:
            continue
        x = d / scale
        text = f"{x:.2f}"
        if abs(Decimal(text)) >= 10:
            text = f"{x:.1f}"
        if abs(Decimal(text)) >= 1000 and not last:
            continue  # 999.96K rounds to the next unit: 1.00M
        return text + suffix
    return small  # not reached: the last unit always returns


def fmt_column(
    values: Sequence[str | float | Decimal | None], decimals: int, width: int
) -> list[str]:
    """Format a column of amounts by one rule: exact with ``decimals`` places when every one
    fits ``width``; otherwise every amount of 1,000 or more abbreviated (``fmt_compact``)."""
    exact = [fmt_num(v, decimals) for v in values]
    if all(len(t) <= width for t in exact):
        return exact
    return [fmt_compact(v, decimals) for v in values]


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


def as_listed(coin: str) -> str:
    """A coin's name as the exchange lists it: how a table names coins before a catalog can
    give their display names (``HYPE/USDC`` for ``@107``)."""
    return coin
