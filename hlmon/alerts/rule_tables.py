"""Alert rules back to ``[[alerts.rules]]`` tables: the inverse of ``hlmon.alerts.settings``.

Generic over the rule dataclasses: a rule becomes ``{"kind": ..., field: value, ...}`` with
its fields under their own names (``None`` left out: absent means "not given"), so a kind or a
field added later with the same names in the parser round-trips without a change here.
``enabled`` is written only when false (a rule switched off in the alerts view). Only a
rule whose TOML keys are not its field names needs an adapter in ``_ADAPTERS`` (``price``:
``direction`` + ``level`` are written as ``above = level`` or ``below = level``). The tests
round-trip a sample of every kind in ``RULE_KINDS`` through TOML text and the parser.

Values stay what the parser reads back: ``Decimal`` levels are kept as Decimal (the TOML writer
prints them exactly), floats as floats, strings as strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hlmon.alerts.rules import RULE_KINDS, AlertRule, PriceCross
from hlmon.keyguard import looks_like_key

_KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in RULE_KINDS.items()}


def _price_table(rule: Any) -> dict[str, Any]:
    assert isinstance(rule, PriceCross)
    table: dict[str, Any] = {"coin": rule.coin, rule.direction: rule.level}
    if not rule.enabled:
        table["enabled"] = False
    return table


_ADAPTERS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {PriceCross: _price_table}
"""Rule classes whose TOML keys differ from their fields."""


def _fields_table(rule: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(rule):
        raise TypeError(f"{type(rule).__name__} is not a rule dataclass")
    table: dict[str, Any] = {}
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if value is not None and not (f.name == "enabled" and value is True):
            table[f.name] = value  # (on is the default: only ``enabled = false`` is written)
    return table


def rule_kind(rule: AlertRule) -> str:
    """The config ``kind`` of ``rule``.

    Raises:
        TypeError: not a class listed in ``RULE_KINDS``.
    """
    kind = _KIND_OF.get(type(rule))
    if kind is None:
        raise TypeError(f"{type(rule).__name__} is not a known alert rule kind")
    return kind


def rule_table(rule: AlertRule) -> dict[str, Any]:
    """``rule`` as the table ``[[alerts.rules]]`` parses back to an equal rule.

    Raises:
        TypeError: an unknown rule class.
        ValueError: a string value that looks like a private key (never written anywhere).
    """
    kind = rule_kind(rule)
    adapter = _ADAPTERS.get(type(rule), _fields_table)
    table = {"kind": kind, **adapter(rule)}
    for key, value in table.items():
        if isinstance(value, str) and looks_like_key(value):
            raise ValueError(f"alert rule {kind}: key {key!r} looks like a private key")
    return table


def rule_tables(rules: tuple[AlertRule, ...] | list[AlertRule]) -> list[dict[str, Any]]:
    """Every rule as its table, in order."""
    return [rule_table(rule) for rule in rules]
