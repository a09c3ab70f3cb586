"""The ``[alerts]`` config table: :class:`AlertSettings` and its parser.

The alerts layer owns these settings; :mod:`hlmon.config` composes them into its ``Settings``
and calls :func:`parse_alerts` for the ``alerts`` key. The scalar keys are the fields marked
:func:`~hlmon.settable.settable`; the rules are parsed here. Messages have the shape of every
other config error: ``config.toml: key 'alerts.rules[2].below_pct': expected ..., got ...``
(rules are counted from 1, in file order).

Imports no :mod:`hlmon.config` (which sits above alerts): only the leaves
:mod:`hlmon.settable`, :mod:`hlmon.keyguard` and :mod:`hlmon.loopback`.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hlmon.alerts.rules import (
    RULE_KINDS,
    AlertRule,
    AnyFill,
    DataLag,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
)
from hlmon.keyguard import PRIVATE_KEY_WARNING, looks_like_key
from hlmon.loopback import is_loopback_host
from hlmon.settable import (
    Invalid,
    SettingError,
    boolean,
    invalid_message,
    number,
    parse_table,
    seconds,
    settable,
    settable_table,
)

OSC_NUMBERS: tuple[int, ...] = (9, 777)


class AlertConfigError(SettingError):
    """An invalid ``[alerts]`` value; the message is complete (source, key, expectation)."""


def _fail(where: str, value: Any, exc: Invalid) -> AlertConfigError:
    return AlertConfigError(invalid_message(where, value, exc))


# --- value checks -------------------------------------------------------------------------------

_hysteresis = number("a percent 0..50", lambda v: 0 <= v <= 50)
_cooldown = number("a number of seconds >= 0", lambda v: v >= 0)


def _osc(value: Any) -> tuple[int, ...]:
    expected = "an array of OSC numbers: [9], [777] or [9, 777]"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise Invalid(expected)
    out: list[int] = []
    for item in value:
        if isinstance(item, bool) or item not in OSC_NUMBERS:
            raise Invalid(expected)
        if item not in out:
            out.append(int(item))
    if not out:
        raise Invalid(expected)
    return tuple(out)


def _command(value: Any) -> tuple[str, ...]:
    expected = 'an array of strings, program first, e.g. ["notify-send", "{title}", "{body}"]'
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise Invalid(expected)
    if not all(isinstance(item, str) for item in value) or not value[0].strip():
        raise Invalid(expected)
    return tuple(value)


def check_webhook_url(url: str) -> str:
    """``url`` if it is https (http only for a loopback host), else ValueError (no echo)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        _ = parts.port
    except ValueError:
        raise ValueError("webhook must be an https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("webhook must be an https:// URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("webhook must be https:// (http:// only for 127.0.0.1, localhost, ::1)")
    return url.strip()


def _webhook(value: Any) -> str:
    expected = "an https:// URL (http:// only for 127.0.0.1, localhost or ::1)"
    if not isinstance(value, str):
        raise Invalid(expected)
    try:
        return check_webhook_url(value)
    except ValueError:
        # The URL is not shown: webhook URLs usually carry a secret token.
        raise Invalid(f"expected {expected} (the value is not shown)", show_value=False) from None


# --- rules --------------------------------------------------------------------------------------

RULE_KEYS: dict[str, tuple[str, ...]] = {
    "price": ("kind", "coin", "above", "below", "enabled"),
    "liq_distance": ("kind", "below_pct", "coin", "enabled"),
    "margin_ratio": ("kind", "above_pct", "enabled"),
    "upnl": ("kind", "above", "below", "enabled"),
    "fill": ("kind", "enabled"),
    "liquidation": ("kind", "enabled"),
    "deadman": ("kind", "stale_for_s", "enabled"),
    "data_lag": ("kind", "lag_s", "feed", "enabled"),
}
"""The keys of each rule kind's table (``enabled = false`` keeps a rule switched off)."""
_RULE_EXAMPLE = '{kind = "price", coin = "BTC", above = 110000}'


def _coin(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise Invalid("a coin name (a string without spaces)")
    if looks_like_key(value):
        # A key pasted into the wrong field must not travel on into alerts and logs.
        raise Invalid(
            f"expected a coin name, not a private key: {PRIVATE_KEY_WARNING} "
            "(the value is not shown)",
            show_value=False,
        )
    return value.strip()


def _dec(value: Any, expected: str, ok: Callable[[float], bool]) -> Decimal:
    number(expected, ok)(value)
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


def _feed(value: Any) -> str:
    expected = 'a feed kind or key, e.g. "mids", "book", "account", "book:BTC"'
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise Invalid(expected)
    if looks_like_key(value):
        raise Invalid(
            f"expected a feed name, not a private key: {PRIVATE_KEY_WARNING} "
            "(the value is not shown)",
            show_value=False,
        )
    return value.strip()


def _rule(value: Any, source: str, index: int, array: str = "alerts.rules") -> AlertRule:
    def at(key: str | None = None) -> str:
        return f"{source}: key '{array}[{index}]{'.' + key if key else ''}'"

    return parse_rule(value, at)


def parse_rule(value: Any, at: Callable[[str | None], str]) -> AlertRule:
    """One rule table (``{kind = "price", coin = "BTC", above = 110000}``) -> its rule.

    ``at(key)`` names where a bad value is (``config.toml: key 'alerts.rules[2].coin'``;
    the alerts view's form names the field); the config and the form share these checks.

    Raises:
        AlertConfigError: what is wrong, where.
    """
    rule = _parse_rule(value, at)
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(at("enabled"), enabled, Invalid("true or false"))
    return rule if enabled else dataclasses.replace(rule, enabled=False)


def _parse_rule(value: Any, at: Callable[[str | None], str]) -> AlertRule:
    if not isinstance(value, Mapping):
        raise _fail(at(None), value, Invalid(f"a table like {_RULE_EXAMPLE}"))
    kind = value.get("kind")
    kinds = ", ".join(f'"{k}"' for k in RULE_KINDS)
    if kind is None:
        raise AlertConfigError(f"{at('kind')}: missing (one of {kinds})")
    if not isinstance(kind, str) or kind not in RULE_KINDS:
        raise _fail(at("kind"), kind, Invalid(f"one of {kinds}"))
    known = RULE_KEYS[kind]
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
        except Invalid as exc:
            raise _fail(at(key), value[key], exc) from None

    def need(key: str, what: str) -> AlertConfigError:
        return AlertConfigError(f"{at(key)}: missing ({what})")

    if kind == "price":
        coin = get("coin", _coin)
        if coin is None:
            raise need("coin", "the coin to watch")
        above, below = get("above", _price), get("below", _price)
        if (above is None) == (below is None):
            raise AlertConfigError(f"{at(None)}: a price rule needs exactly one of above or below")
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
            raise AlertConfigError(f"{at(None)}: an upnl rule needs above, below or both")
        if above is not None and below is not None and below >= above:
            raise AlertConfigError(f"{at(None)}: below ({below}) must be less than above ({above})")
        return UpnlBeyond(above, below)
    if kind == "fill":
        return AnyFill()
    if kind == "liquidation":
        return Liquidated()
    if kind == "data_lag":
        lag = get("lag_s", seconds)
        if lag is None:
            raise need("lag_s", "alert when a feed's data is more than this many seconds behind")
        return DataLag(lag, get("feed", _feed))
    stale_for = get("stale_for_s", seconds)
    return DeadMan(30.0 if stale_for is None else stale_for)


def _parse_rules(value: Any, source: str) -> tuple[AlertRule, ...]:
    return parse_rule_tables(value, source, "alerts.rules")


def parse_rule_tables(value: Any, source: str, array: str) -> tuple[AlertRule, ...]:
    """Rules from an array of tables found at the dotted key ``array`` of ``source`` (the
    ``[[alerts.rules]]`` parser, also used for hlmon's saved section); messages name that key.

    Raises:
        AlertConfigError: naming ``source`` and ``array[i].key``.
    """
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(f"{source}: key '{array}'", value, Invalid(f"an array of tables ([[{array}]])"))
    return tuple(_rule(item, source, i, array) for i, item in enumerate(value, 1))


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSettings:
    """Alert rules and how alerts are delivered (the ``[alerts]`` table)."""

    bell: bool = field(default=True, metadata=settable(boolean))
    """Ring the terminal bell on every alert."""
    desktop: bool = field(default=True, metadata=settable(boolean))
    """Desktop notifications through the terminal (OSC 9 / OSC 777; work over SSH and tmux)."""
    desktop_osc: tuple[int, ...] = field(default=OSC_NUMBERS, metadata=settable(_osc))
    """Which notification sequences to send: 9, 777 or both."""
    cooldown_s: float = field(default=60.0, metadata=settable(_cooldown))
    """Seconds an alert stays silent after firing (per rule, per position)."""
    hysteresis_pct: float = field(default=0.1, metadata=settable(_hysteresis))
    """A fired rule re-arms only once back past its level by this percent of the level."""
    command: tuple[str, ...] | None = field(default=None, metadata=settable(_command))
    """Run this program per alert (no shell); ``{title}``, ``{body}``, ``{level}``, ``{rule}``
    are replaced in each argument."""
    webhook: str | None = field(default=None, metadata=settable(_webhook))
    """POST each alert as JSON here (https, or http to a loopback host)."""
    timeout_s: float = field(default=5.0, metadata=settable(seconds))
    """Timeout for the command and the webhook."""
    rules: tuple[AlertRule, ...] = field(
        default=(DeadMan(30.0), Liquidated()), metadata=settable_table(_parse_rules)
    )
    """The alert rules (``[[alerts.rules]]`` tables). Giving any replaces the default list
    (the dead-man's switch and the watched account's own liquidation)."""


def parse_alerts(value: Any, source: str) -> AlertSettings:
    """The ``[alerts]`` table from a config file named ``source``.

    Raises:
        AlertConfigError: naming ``source`` and the dotted key.
    """
    try:
        return AlertSettings(**parse_table(AlertSettings, value, source, "alerts"))
    except AlertConfigError:
        raise
    except SettingError as exc:
        raise AlertConfigError(str(exc)) from None
