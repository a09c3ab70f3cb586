"""The ``[alerts]`` config table: :class:`AlertSettings` and its parser.

Kept next to the rules so :mod:`hlmon.config` stays small: it calls :func:`parse_alerts` for
the ``alerts`` key and turns :class:`AlertConfigError` into its own ``ConfigError``. Messages
have the shape of every other config error: ``config.toml: key 'alerts.rules[2].below_pct':
expected ..., got ...`` (rules are counted from 1, in file order).

Imports nothing from hlmon at module level (``hlmon.config`` imports this module).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hlmon.alerts.rules import (
    RULE_KINDS,
    AlertRule,
    AnyFill,
    DeadMan,
    LiqDistance,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
    looks_like_key,
)

OSC_NUMBERS: tuple[int, ...] = (9, 777)


class AlertConfigError(ValueError):
    """An invalid ``[alerts]`` value; the message is complete (source, key, expectation)."""


@dataclass(frozen=True)
class AlertSettings:
    """Alert rules and how alerts are delivered (the ``[alerts]`` table)."""

    bell: bool = True
    """Ring the terminal bell on every alert."""
    desktop: bool = True
    """Desktop notifications through the terminal (OSC 9 / OSC 777; work over SSH and tmux)."""
    desktop_osc: tuple[int, ...] = OSC_NUMBERS
    """Which notification sequences to send: 9, 777 or both."""
    cooldown_s: float = 60.0
    """Seconds an alert stays silent after firing (per rule, per position)."""
    hysteresis_pct: float = 0.1
    """A fired rule re-arms only once back past its level by this percent of the level."""
    command: tuple[str, ...] | None = None
    """Run this program per alert (no shell); ``{title}``, ``{body}``, ``{level}``, ``{rule}``
    are replaced in each argument."""
    webhook: str | None = None
    """POST each alert as JSON here (https, or http to a loopback host)."""
    timeout_s: float = 5.0
    """Timeout for the command and the webhook."""
    rules: tuple[AlertRule, ...] = (DeadMan(30.0),)
    """The alert rules (``[[alerts.rules]]`` tables). Giving any replaces the default list."""


class _Bad(Exception):
    def __init__(self, expected: str, *, show_value: bool = True) -> None:
        super().__init__(expected)
        self.expected = expected
        self.show_value = show_value


def _show(value: Any) -> str:
    from hlmon.config import _show as show  # imported on use: config imports this module

    return show(value)


def _fail(where: str, value: Any, exc: _Bad) -> AlertConfigError:
    if exc.show_value:
        return AlertConfigError(f"{where}: expected {exc.expected}, got {_show(value)}")
    return AlertConfigError(f"{where}: expected {exc.expected} (the value is not shown)")


# --- value checks -------------------------------------------------------------------------------


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("true or false")
    return value


def _number(value: Any, expected: str, ok: Callable[[float], bool]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(expected)
    if not (math.isfinite(value) and ok(value)):
        raise _Bad(expected)
    return float(value)


def _positive(value: Any) -> float:
    return _number(value, "a number of seconds > 0", lambda v: v > 0)


def _hysteresis(value: Any) -> float:
    return _number(value, "a percent 0..50", lambda v: 0 <= v <= 50)


def _cooldown(value: Any) -> float:
    return _number(value, "a number of seconds >= 0", lambda v: v >= 0)


def _osc(value: Any) -> tuple[int, ...]:
    expected = "an array of OSC numbers: [9], [777] or [9, 777]"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _Bad(expected)
    out: list[int] = []
    for item in value:
        if isinstance(item, bool) or item not in OSC_NUMBERS:
            raise _Bad(expected)
        if item not in out:
            out.append(int(item))
    if not out:
        raise _Bad(expected)
    return tuple(out)


def _command(value: Any) -> tuple[str, ...]:
    expected = 'an array of strings, program first, e.g. ["notify-send", "{title}", "{body}"]'
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise _Bad(expected)
    if not all(isinstance(item, str) for item in value) or not value[0].strip():
        raise _Bad(expected)
    return tuple(value)


def _webhook(value: Any) -> str:
    from hlmon.alerts.delivery import check_webhook_url

    expected = "an https:// URL (http:// only for 127.0.0.1, localhost or ::1)"
    if not isinstance(value, str):
        raise _Bad(expected)
    try:
        return check_webhook_url(value)
    except ValueError:
        # The URL is not shown: webhook URLs usually carry a secret token.
        raise _Bad(expected, show_value=False) from None


_SCHEMA: dict[str, Callable[[Any], Any]] = {
    "bell": _bool,
    "desktop": _bool,
    "desktop_osc": _osc,
    "cooldown_s": _cooldown,
    "hysteresis_pct": _hysteresis,
    "command": _command,
    "webhook": _webhook,
    "timeout_s": _positive,
}

# --- rules --------------------------------------------------------------------------------------

_RULE_KEYS: dict[str, tuple[str, ...]] = {
    "price": ("kind", "coin", "above", "below"),
    "liq_distance": ("kind", "below_pct", "coin"),
    "margin_ratio": ("kind", "above_pct"),
    "upnl": ("kind", "above", "below"),
    "fill": ("kind",),
    "deadman": ("kind", "stale_for_s"),
}
_RULE_EXAMPLE = '{kind = "price", coin = "BTC", above = 110000}'


def _coin(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise _Bad("a coin name (a string without spaces)")
    if looks_like_key(value):
        from hlmon.config import PRIVATE_KEY_WARNING

        # A key pasted into the wrong field must not travel on into alerts and logs.
        raise _Bad(f"a coin name, not a private key: {PRIVATE_KEY_WARNING}", show_value=False)
    return value.strip()


def _dec(value: Any, expected: str, ok: Callable[[float], bool]) -> Decimal:
    _number(value, expected, ok)
    # str() of a TOML float is its shortest repr (0.1 -> "0.1"), so levels stay exact.
    return Decimal(str(value))


def _price(value: Any) -> Decimal:
    return _dec(value, "a price > 0", lambda v: v > 0)


def _pct(value: Any) -> Decimal:
    return _dec(value, "a percent > 0 and <= 100", lambda v: 0 < v <= 100)


def _ratio_pct(value: Any) -> Decimal:
    return _dec(value, "a percent > 0", lambda v: v > 0)


def _usd(value: Any) -> Decimal:
    return _dec(value, "an amount in USD (a number)", lambda v: True)


def _rule(value: Any, source: str, index: int) -> AlertRule:
    def at(key: str | None = None) -> str:
        return f"{source}: key 'alerts.rules[{index}]{'.' + key if key else ''}'"

    if not isinstance(value, Mapping):
        raise _fail(at(), value, _Bad(f"a table like {_RULE_EXAMPLE}"))
    kind = value.get("kind")
    kinds = ", ".join(f'"{k}"' for k in RULE_KINDS)
    if kind is None:
        raise AlertConfigError(f"{at('kind')}: missing (one of {kinds})")
    if not isinstance(kind, str) or kind not in RULE_KINDS:
        raise _fail(at("kind"), kind, _Bad(f"one of {kinds}"))
    known = _RULE_KEYS[kind]
    for key in value:
        if key not in known:
            raise AlertConfigError(
                f'{at(str(key))}: unknown key (known for kind "{kind}": {", ".join(known)})'
            )

    def get(key: str, check: Callable[[Any], Any]) -> Any:
        if key not in value:
            return None
        try:
            return check(value[key])
        except _Bad as exc:
            raise _fail(at(key), value[key], exc) from None

    def need(key: str, what: str) -> AlertConfigError:
        return AlertConfigError(f"{at(key)}: missing ({what})")

    if kind == "price":
        coin = get("coin", _coin)
        if coin is None:
            raise need("coin", "the coin to watch")
        above, below = get("above", _price), get("below", _price)
        if (above is None) == (below is None):
            raise AlertConfigError(f"{at()}: a price rule needs exactly one of above or below")
        if above is not None:
            return PriceCross(coin, "above", above)
        return PriceCross(coin, "below", below)
    if kind == "liq_distance":
        pct = get("below_pct", _pct)
        if pct is None:
            raise need("below_pct", "alert when a position is closer to liquidation than this")
        return LiqDistance(pct, get("coin", _coin))
    if kind == "margin_ratio":
        pct = get("above_pct", _ratio_pct)
        if pct is None:
            raise need("above_pct", "alert when the margin ratio is above this percent")
        return MarginRatio(pct)
    if kind == "upnl":
        above, below = get("above", _usd), get("below", _usd)
        if above is None and below is None:
            raise AlertConfigError(f"{at()}: an upnl rule needs above, below or both")
        if above is not None and below is not None and below >= above:
            raise AlertConfigError(f"{at()}: below ({below}) must be less than above ({above})")
        return UpnlBeyond(above, below)
    if kind == "fill":
        return AnyFill()
    stale_for = get("stale_for_s", _positive)
    return DeadMan(30.0 if stale_for is None else stale_for)


def _rules(value: Any, source: str) -> tuple[AlertRule, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(
            f"{source}: key 'alerts.rules'", value, _Bad("an array of tables ([[alerts.rules]])")
        )
    return tuple(_rule(item, source, i) for i, item in enumerate(value, 1))


def parse_alerts(value: Any, source: str) -> AlertSettings:
    """The ``[alerts]`` table from a config file named ``source``.

    Raises:
        AlertConfigError: naming ``source`` and the dotted key.
    """
    if not isinstance(value, Mapping):
        raise _fail(f"{source}: key 'alerts'", value, _Bad("a table [alerts]"))
    given: dict[str, Any] = {}
    for key, sub in value.items():
        where = f"{source}: key 'alerts.{key}'"
        if key == "rules":
            given["rules"] = _rules(sub, source)
            continue
        if key not in _SCHEMA:
            known = ", ".join([*_SCHEMA, "rules"])
            raise AlertConfigError(f"{where}: unknown key (known in [alerts]: {known})")
        try:
            given[key] = _SCHEMA[key](sub)
        except _Bad as exc:
            raise _fail(where, sub, exc) from None
    return AlertSettings(**given)
