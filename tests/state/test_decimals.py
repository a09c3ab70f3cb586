"""Decimal helpers: exact parsing, plain formatting, price display."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlmon.state.decimals import (
    decimals_of,
    fmt_dec,
    fmt_price,
    fmt_size_text,
    pct,
    quantize_sig,
    to_dec,
    try_dec,
)

PARSE_CASES = ["104412.5", "-0", "0.000001", "1e999999", "-1E-999999", " 7.50 ", "1_000", "",
               "abc", "NaN", "sNaN", "-Infinity", "inf", "1,5", "0x10", "\u0661\u0662"]  # fmt: skip
"""Strings the parsers must agree on (``hlmon.ui.fmt.to_decimal`` too: ``tests/ui``)."""


class TestParse:
    def test_exact(self) -> None:
        """Exchange strings parse exactly: 0.1 + 0.2 is 0.3, not 0.30000000000000004."""
        assert fmt_dec(to_dec("0.1") + to_dec("0.2")) == "0.3"

    @pytest.mark.parametrize("bad", ["", "abc", "NaN", "Infinity", "1,5"])
    def test_garbage_raises_value_error(self, bad: str) -> None:
        with pytest.raises(ValueError):
            to_dec(bad)

    def test_try_dec(self) -> None:
        assert try_dec(None) is None
        assert try_dec("x") is None
        assert try_dec("-2.5") == Decimal("-2.5")

    @pytest.mark.parametrize("text", PARSE_CASES)
    def test_a_string_parses_as_to_dec_says(self, text: str) -> None:
        """Strings (the hot case) take a shorter path: the same answers as ``to_dec``."""
        try:
            expected: Decimal | None = to_dec(text)
        except ValueError:
            expected = None
        got = try_dec(text)
        assert got == expected and str(got) == str(expected)  # same digits and exponent


class TestFormat:
    @pytest.mark.parametrize(
        ("value", "places", "expected"),
        [
            ("921.200", None, "921.2"),
            ("1E+2", None, "100"),
            ("1.5E-7", None, "0.00000015"),
            ("-0.000", None, "0"),
            ("-0.001", 2, "0.00"),
            ("2.345", 2, "2.35"),  # half-up, not banker's
            ("2.5", 0, "3"),
            ("12", 2, "12.00"),
            ("1234567.891", None, "1234567.891"),
        ],
    )
    def test_fmt_dec(self, value: str, places: int | None, expected: str) -> None:
        assert fmt_dec(Decimal(value), places) == expected

    def test_grouped(self) -> None:
        assert fmt_dec(Decimal("104412.5"), grouped=True) == "104,412.5"
        assert fmt_dec(Decimal("-1234.5"), 2, grouped=True) == "-1,234.50"

    @given(st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-1e12,
                       max_value=1e12))  # fmt: skip
    def test_never_exponent_and_round_trips(self, d: Decimal) -> None:
        """Whatever the magnitude: plain notation, and parsing it back gives the same number."""
        s = fmt_dec(d)
        assert "E" not in s and "e" not in s
        assert Decimal(s) == d

    def test_pct(self) -> None:
        assert pct(Decimal("1"), Decimal("3")) == "33.33"
        assert pct(Decimal("1"), Decimal("0")) is None

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("78135.0000001", "78135"),  # integers always allowed
            ("104412.55", "104413"),
            ("201.5549", "201.55"),
            ("0.0123456", "0.012346"),
            ("0.00000012345", "0"),  # at most 6 decimals (perps)
        ],
    )
    def test_quantize_sig(self, value: str, expected: str) -> None:
        assert fmt_dec(quantize_sig(Decimal(value))) == expected


class TestPrice:
    def test_keeps_exchange_digits(self) -> None:
        assert fmt_price("104412.50") == "104,412.50"
        assert fmt_price("0.067131") == "0.067131"
        assert decimals_of("104412.50") == 2
        assert decimals_of("21") == 0

    def test_pads_to_coin_precision(self) -> None:
        # ETH szDecimals 4: up to 2 decimals, 5 significant figures -> 1 decimal at 4 int digits
        assert fmt_price("3688", sz_decimals=4) == "3,688.0"
        # SOL szDecimals 2: 201.55 style
        assert fmt_price("201.5", sz_decimals=2) == "201.50"
        # never drops digits the exchange sent
        assert fmt_price("104412.5", sz_decimals=5) == "104,412.5"

    def test_odd_input(self) -> None:
        assert fmt_price(None) == ""
        assert fmt_price("n/a") == "n/a"


@pytest.mark.parametrize(
    ("wire", "shown"),
    [("120.0", "120"), ("1500.250", "1,500.25"), ("0.00125", "0.00125"), ("0", "0"),
     ("-3.50", "-3.5"), ("abc", "abc"), ("NaN", "NaN")],
)  # fmt: skip
def test_a_size_as_the_panes_show_it(wire: str, shown: str) -> None:
    assert fmt_size_text(wire) == shown
    # The panes ask for a dash where the text does not parse (``hlmon.ui.fmt.fmt_size``).
    assert fmt_size_text(wire, "–") == (shown if try_dec(wire) is not None else "–")
