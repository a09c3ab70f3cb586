"""How a layer declares which of its settings a config file may set, and how each is checked.

Each layer owns its settings type (``state.settings.StaleThresholds``,
``feeds.settings.WebsocketSettings``, ``alerts.settings.AlertSettings``; ``config.Settings``
composes them). A dataclass field marked :func:`settable` is a config key checked by its
:data:`Check`; one marked :func:`settable_table` is a nested table; an unmarked field is not a
config key at all. :mod:`hlmon.config` derives its schema from these marks, so the shape of a
setting is declared once, next to its default.

Messages have one shape everywhere: ``config.toml: key 'stale.book': expected a number of
seconds > 0, got "x"``; a value is never shown if it looks like a private key.

A leaf: imports only :mod:`hlmon.keyguard`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from hlmon.keyguard import REDACTED, looks_like_key

Check = Callable[[Any], Any]
"""Takes a raw value (from TOML, the environment or a flag) and returns it typed, or raises
:class:`Invalid`. The caller knows where the value came from and names it in the message."""

Parser = Callable[[Any, str], Any]
"""Takes a raw table (or array of tables) and the source's name and returns it typed, or raises
:class:`SettingError` with a complete message (for keys nested deeper than one table)."""

_CHECK = "hlmon.settable.check"
_TABLE = "hlmon.settable.table"


class Invalid(Exception):
    """A value failed its check: ``expected`` says what was wanted.

    With ``show_value=False`` the value is not echoed (a key, a secret URL) and ``expected`` is
    the whole message after the key's name.
    """

    def __init__(self, expected: str, *, show_value: bool = True) -> None:
        super().__init__(expected)
        self.expected = expected
        self.show_value = show_value


class SettingError(ValueError):
    """A setting is unknown or invalid; the message is complete (source, key, expectation)."""


def settable(check: Check) -> dict[str, Any]:
    """Field metadata: a config key whose value ``check`` validates."""
    return {_CHECK: check}


def settable_table(parse: Parser | None = None) -> dict[str, Any]:
    """Field metadata: a nested table; ``parse`` reads it, or (None) the field's own dataclass
    is read key by key from its marks."""
    return {_TABLE: parse}


def checks_of(cls: type) -> dict[str, Check]:
    """The settable keys of the dataclass ``cls`` with their checks, in field order."""
    return {f.name: f.metadata[_CHECK] for f in dataclasses.fields(cls) if _CHECK in f.metadata}


def tables_of(cls: type) -> dict[str, Parser | None]:
    """The nested tables of the dataclass ``cls`` with their parsers, in field order."""
    return {f.name: f.metadata[_TABLE] for f in dataclasses.fields(cls) if _TABLE in f.metadata}


def default_of(cls: type, name: str) -> Any:
    """The default value of field ``name`` of the dataclass ``cls``."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            return f.default
    raise KeyError(name)


# --- messages ---------------------------------------------------------------------------------


def show_value(value: Any) -> str:
    """A short TOML-ish rendering of a bad value for an error message, never a key."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, Mapping):
        return "a table"
    elif isinstance(value, list | tuple):
        try:
            text = json.dumps(list(value), ensure_ascii=False)
        except (TypeError, ValueError):
            text = "an array"
    else:
        return f"a {type(value).__name__}"
    if looks_like_key(text):
        return REDACTED
    return text if len(text) <= 80 else text[:77] + "..."


def invalid_message(where: str, value: Any, exc: Invalid) -> str:
    """``where: expected ..., got ...`` (or ``where: ...`` for a value not to be shown)."""
    if exc.show_value:
        return f"{where}: expected {exc.expected}, got {show_value(value)}"
    return f"{where}: {exc.expected}"


# --- checks -----------------------------------------------------------------------------------


def boolean(value: Any) -> bool:
    """``true`` or ``false`` (a TOML boolean; 1 and "yes" are refused)."""
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def number(expected: str, ok: Callable[[float], bool]) -> Check:
    """A finite number (int or float, never a bool) for which ``ok`` holds, as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(expected)
        if not (math.isfinite(value) and ok(value)):
            raise Invalid(expected)
        return float(value)

    return check


seconds: Check = number("a number of seconds > 0", lambda v: v > 0)
"""A duration in seconds, > 0."""


def number_range(lo: float, hi: float) -> Check:
    """A number ``lo..hi`` (inclusive), as a float."""
    return number(f"a number {lo:g}..{hi:g}", lambda v: lo <= v <= hi)


def int_range(lo: int, hi: int, note: str = "") -> Check:
    """An integer ``lo..hi`` (inclusive); ``note`` says why, e.g. `` (the exchange's limit)``."""
    expected = f"an integer {lo}..{hi}{note}"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(expected)
        if not lo <= value <= hi:
            raise Invalid(expected)
        return value

    return check


# --- reading a table --------------------------------------------------------------------------


def parse_table(cls: type, value: Any, source: str, name: str) -> dict[str, Any]:
    """The keys given in table ``[name]`` of ``source``, checked and typed (partial: keys not
    given are absent), read from the marks of the dataclass ``cls``.

    Raises:
        SettingError: naming ``source`` and the dotted key.
    """
    if not isinstance(value, Mapping):
        raise SettingError(
            f"{source}: key '{name}': expected a table [{name}], got {show_value(value)}"
        )
    checks, tables = checks_of(cls), tables_of(cls)
    given: dict[str, Any] = {}
    for key, sub in value.items():
        where = f"{source}: key '{name}.{key}'"
        if key in checks:
            try:
                given[key] = checks[key](sub)
            except Invalid as exc:
                raise SettingError(invalid_message(where, sub, exc)) from None
        elif key in tables:
            parse = tables[key]
            if parse is not None:
                given[key] = parse(sub, source)
            else:
                inner = type(default_of(cls, key))
                nested = parse_table(inner, sub, source, f"{name}.{key}")
                given[key] = dataclasses.replace(default_of(cls, key), **nested)
        else:
            # The value is not shown: an unknown key could be anything, even a secret.
            known = ", ".join([*checks, *tables])
            raise SettingError(f"{where}: unknown key (known in [{name}]: {known})")
    return given
