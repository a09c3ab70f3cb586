"""The small TOML emitter (``hlmon.config.toml_text``), proven by ``tomllib`` round-trips."""

from __future__ import annotations

import math
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.config.toml_text import toml_key, toml_string, toml_table, toml_value

# TOML text is Unicode scalar values: every character but the surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
SCALARS = st.one_of(
    TEXT,
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)


def _round_trip(value: Any) -> Any:
    return tomllib.loads(toml_table("t", {"k": value}))["t"]["k"]


@settings(max_examples=400, deadline=None)
@given(SCALARS)
def test_scalars_read_back_equal(value: Any) -> None:
    assert _round_trip(value) == value


@settings(max_examples=200, deadline=None)
@given(st.lists(SCALARS, max_size=6))
def test_arrays_read_back_equal(values: list[Any]) -> None:
    assert _round_trip(values) == values


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_any_key_reads_back(key: str) -> None:
    assert tomllib.loads(f"{toml_key(key)} = 1\n") == {key: 1}


def test_strings_escape_what_toml_needs() -> None:
    assert toml_string('a "b" \\ c\n\t\x00\x7f é') == '"a \\"b\\" \\\\ c\\n\\t\\u0000\\u007F é"'


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
)
def test_decimals_are_written_exactly(value: Decimal) -> None:
    text = toml_value(value)
    assert "E" not in text.upper()  # fixed point, as a person writes it
    read = tomllib.loads(f"k = {text}\n", parse_float=Decimal)["k"]
    assert Decimal(read) == value


def test_special_floats_and_refusals() -> None:
    assert _round_trip(math.inf) == math.inf and _round_trip(-math.inf) == -math.inf
    assert math.isnan(_round_trip(math.nan))
    with pytest.raises(ValueError):
        toml_value(Decimal("NaN"))
    with pytest.raises(TypeError):
        toml_value(object())
    with pytest.raises(TypeError):
        toml_table("t", {"nested": {"a": 1}})


def test_arrays_of_tables() -> None:
    text = toml_table(
        "saved",
        {
            "rules": [{"kind": "price", "above": Decimal("1.5")}, {"kind": "fill"}],
            "theme": "nord",
            "empty": [],
        },
    )
    assert tomllib.loads(text) == {
        "saved": {
            "theme": "nord",
            "empty": [],
            "rules": [{"kind": "price", "above": 1.5}, {"kind": "fill"}],
        }
    }
