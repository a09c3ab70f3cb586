"""Decimal helpers: parse the exchange's decimal strings and print numbers without float noise.

Hyperliquid sends every price, size and amount as a decimal string. hlmon never turns them into
floats for arithmetic (``0.1 + 0.2`` must print ``0.3``), and never prints an exponent
(``Decimal("1E+2")`` prints ``100``). The UI reuses these helpers for display.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# Wide enough that account values times 100 with 6+ decimals never lose digits.
_CTX = Context(prec=48, rounding=ROUND_HALF_UP)
_ZERO = Decimal(0)

SAFE = Context(prec=48, rounding=ROUND_HALF_UP, traps=[])
"""For sums, products and quotients of exchange values in the account models: exact at these
sizes, and never raises (hostile input such as ``1e999999`` squared gives Infinity or NaN,
which ``dec_str`` reports as None, i.e. unknown)."""


def dec_str(d: Decimal | None, places: int | None = None) -> str | None:
    """``fmt_dec`` of a finite result (``places`` rounds, e.g. ratios); None otherwise."""
    if d is None or not d.is_finite():
        return None
    return fmt_dec(d, places)


def to_dec(value: str | int | Decimal) -> Decimal:
    """Parse an exchange decimal string (or int) exactly. Raises ValueError on garbage."""
    if isinstance(value, Decimal):
        return value
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return d


def try_dec(value: str | int | Decimal | None) -> Decimal | None:
    """Like ``to_dec`` but None for None, garbage or non-finite input (never raises)."""
    if type(value) is str:  # the usual case, without ``to_dec``'s checks (hot: UI frames)
        try:
            d = Decimal(value)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    if value is None:
        return None
    try:
        return to_dec(value)
    except ValueError:
        return None


def fmt_dec(d: Decimal, places: int | None = None, *, grouped: bool = False) -> str:
    """Format ``d`` in plain notation.

    Args:
        d: the number.
        places: round half-up to exactly this many decimals (padding with zeros); None keeps
            every significant digit and drops trailing zeros (``921.200`` -> ``921.2``).
        grouped: insert thousands separators (``104,412.5``).
    """
    try:
        if places is not None:
            d = d.quantize(Decimal(1).scaleb(-places), context=_CTX)
        else:
            d = d.normalize(_CTX)
    except ArithmeticError:
        pass  # more digits than the context holds (hostile input such as "1e400"): unrounded
    if d == _ZERO:
        d = abs(d)  # never print "-0" / "-0.00"
    return f"{d:,f}" if grouped else f"{d:f}"


def quantize_sig(d: Decimal, sig: int = 5, max_places: int = 6) -> Decimal:
    """Round to ``sig`` significant figures like an exchange price, integers always kept.

    Hyperliquid prices have at most 5 significant figures (integer prices are always valid) and
    at most 6 decimals for perps; hlmon uses this for prices it computes itself.
    """
    if d == _ZERO:
        return _ZERO
    int_digits = d.adjusted() + 1  # digits before the point (<= 0 for |d| < 1)
    places = min(max_places, max(0, sig - int_digits))
    try:
        return d.quantize(Decimal(1).scaleb(-places), context=_CTX)
    except ArithmeticError:
        return d  # too many digits to round within the context (hostile input)


def pct(num: Decimal, den: Decimal, places: int = 2) -> str | None:
    """``num / den * 100`` rounded to ``places``; None when ``den`` is zero."""
    if den == _ZERO:
        return None
    try:
        return fmt_dec(_CTX.multiply(_CTX.divide(num, den), Decimal(100)), places)
    except ArithmeticError:
        return None  # overflow (hostile input such as "1e999999" / "1e-999999")


def decimals_of(px: str) -> int:
    """Number of digits after the point in a decimal string (``"104412.50"`` -> 2)."""
    dot = px.find(".")
    return 0 if dot < 0 else len(px) - dot - 1


def fmt_price(px: str | None, sz_decimals: int | None = None) -> str:
    """Display a price string with thousands separators, keeping the exchange's digits.

    With ``sz_decimals`` (from ``meta``), pad to the coin's price precision so a column of
    prices does not jitter: perps allow ``6 - szDecimals`` decimals, and at most 5 significant
    figures. Existing digits are never dropped. Unparseable input comes back unchanged; None
    prints as an empty string.
    """
    if px is None:
        return ""
    d = try_dec(px)
    if d is None:
        return px
    places = decimals_of(px)
    if sz_decimals is not None:
        int_digits = max(1, d.copy_abs().adjusted() + 1) if d != _ZERO else 1
        places = max(places, min(max(0, 6 - sz_decimals), max(0, 5 - int_digits)))
    return fmt_dec(d, places, grouped=True)


# ---------------------------------------------------------------------- display text
# One rule for every number a person reads: the TUI (``hlmon.ui.fmt`` builds on these) and the
# alert texts (``hlmon.alerts``, which cannot import the UI) print the same number the same way.


def shown_decimals(value: str) -> int:
    """Decimals worth showing in a decimal string: those written, less trailing zeros
    (``"104412.0"`` -> 0, ``"3688.20"`` -> 1, ``"0.00125"`` -> 5)."""
    _, dot, frac = value.partition(".")
    return len(frac.rstrip("0")) if dot else 0


def price_places(d: Decimal, max_places: int = 6) -> int:
    """Decimals the exchange allows for a price: 5 significant figures, integer prices always
    allowed (a price of 100,000 or more has none), at most ``max_places``."""
    if d == _ZERO:
        return 0
    # From the decimal exponent, not a float log: '1e400' is a valid Decimal but an inf float.
    return max(0, min(max_places, 5 - (d.adjusted() + 1)))


_QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(19))
"""``1``, ``0.1``, ... ``1e-18``: the quantum of each number of places (made once, not per
number formatted: a fifth of ``fmt_amount``'s time, and the UI formats thousands a second)."""


def fmt_amount(d: Decimal, places: int, *, sign: bool = False) -> str:
    """``d`` with thousands separators and exactly ``places`` decimals (half-up), never
    ``-0.00``; ``sign`` puts ``+`` before a positive number (PnL: the sign, not a colour)."""
    try:
        if places < 0:
            q = d
        else:
            quantum = _QUANTA[places] if places < len(_QUANTA) else Decimal(1).scaleb(-places)
            q = d.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds ('1e30'): unrounded
        q = d
    if q == _ZERO:
        q = abs(q)
    text = f"{q:,.{places}f}"
    return "+" + text if sign and q > _ZERO else text


def fmt_px_text(value: str | Decimal) -> str:
    """A price at the exchange's precision (``price_places``), widened to the decimals a
    string really carries (a mid half a tick between prices); unparseable input unchanged."""
    d = try_dec(value)
    if d is None:
        return str(value)
    places = price_places(d)
    if isinstance(value, str):
        places = max(places, min(shown_decimals(value), 8))
    return fmt_amount(d, places)


def fmt_size_text(value: str, unparsed: str | None = None) -> str:
    """A size as the exchange wrote it, less trailing zeros, with separators (``"120.0"``
    -> ``120``, ``"1500.25"`` -> ``1,500.25``): the panes' sizes and the log's. Input that
    does not parse gives ``unparsed`` (None: the input unchanged)."""
    d = try_dec(value)
    if d is None:
        return value if unparsed is None else unparsed
    return fmt_amount(d, shown_decimals(value))


def fmt_usd(value: str | Decimal, *, sign: bool = False) -> str:
    """A USD amount with two decimals and separators (``18,204.77``, ``+921.20``)."""
    d = try_dec(value)
    return str(value) if d is None else fmt_amount(d, 2, sign=sign)


def fmt_percent(value: str | Decimal, places: int = 2) -> str:
    """A percentage already scaled to 100 (``"12.1000"`` -> ``12.10%``)."""
    d = try_dec(value)
    return f"{value}%" if d is None else fmt_amount(d, places) + "%"
