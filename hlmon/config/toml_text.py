"""A small TOML emitter for the values hlmon writes back (its saved-settings section).

Only what that section needs: strings (escaped), integers, floats, ``Decimal`` (written as the
exact number it is), booleans, arrays of those, and arrays of tables. No dependency: the
standard library reads TOML (``tomllib``) but cannot write it, and the tests prove this emitter
with ``tomllib`` round-trips.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


def toml_key(key: str) -> str:
    """``key`` bare when TOML allows it, else quoted."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot write {value} as a TOML number")
    if value == value.to_integral_value():
        return str(int(value))
    # Fixed point, never an exponent: "0.00001", not "1E-5" (tomllib reads both, people one).
    return format(value, "f")


def toml_value(value: Any) -> str:
    """One inline TOML value (no tables: see :func:`toml_table`).

    Raises:
        TypeError: a type this emitter does not write.
        ValueError: a Decimal that is not finite.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest repr that reads back equal ("0.1", "1e+16")
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(item, Mapping) for item in value)
    )


def toml_table(name: str, table: Mapping[str, Any]) -> str:
    """``[name]`` with its keys, then each array of tables as ``[[name.key]]`` blocks.

    ``name`` is a dotted path of already valid keys. Nested plain tables are not needed by
    hlmon and are refused (TypeError) rather than written wrongly.
    """
    lines = [f"[{name}]"]
    arrays: list[tuple[str, Sequence[Mapping[str, Any]]]] = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            raise TypeError(f"nested table {name}.{key} is not supported")
        if _is_table_array(value):
            arrays.append((key, value))
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, items in arrays:
        for item in items:
            lines.append("")
            lines.append(f"[[{name}.{toml_key(key)}]]")
            for sub, value in item.items():
                if isinstance(value, Mapping) or _is_table_array(value):
                    raise TypeError(f"nested table {name}.{key}.{sub} is not supported")
                lines.append(f"{toml_key(sub)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"
