"""Settings: typed, validated, loaded from TOML files, the environment and CLI flags.

Resolution order (later wins): built-in defaults, then the first config file found among
``--config PATH``, ``$HLMON_CONFIG``, ``./config.toml``, the user config dir; then the
``HLMON_ADDRESS`` / ``HLMON_NETWORK`` environment overrides; then CLI flags.

Public API: :class:`Settings` (with :class:`StaleThresholds` and :class:`WebsocketSettings`),
:func:`load_settings`, :func:`settings_from_mapping`, :func:`validate_address`,
:func:`parse_coins`, :func:`find_config_file`, :class:`ConfigError` and
:data:`DEFAULT_CONFIG_TOML` (the commented defaults; ``config.toml`` in the repository is
exactly this text).

The TOML keys are the dataclass field names: top-level keys for :class:`Settings`, a
``[stale]`` table for :class:`StaleThresholds`, a ``[websocket]`` table for
:class:`WebsocketSettings`, an ``[alerts]`` table (with ``[[alerts.rules]]``) for
:class:`~hlmon.alerts.settings.AlertSettings`. Nothing here touches the machine at import time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import math
import os
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hlmon.alerts.settings import AlertConfigError, AlertSettings, parse_alerts

logger = logging.getLogger(__name__)

NETWORK_URLS: dict[str, str] = {
    "mainnet": "https://api.hyperliquid.xyz",
    "testnet": "https://api.hyperliquid-testnet.xyz",
}
NETWORKS: tuple[str, ...] = ("mainnet", "testnet", "custom")
DEFAULT_WATCHLIST: tuple[str, ...] = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE")
CONFIG_FILENAME = "config.toml"
APP_NAME = "hlmon"


class ConfigError(Exception):
    """A setting is missing, unknown or invalid. The message names the source and the key."""


@dataclass(frozen=True)
class StaleThresholds:
    """Seconds after the last update at which a feed counts as stale (or quiet, see state)."""

    mids: float = 15.0
    """allMids pushes every ~5 s."""
    book: float = 15.0
    """l2Book (20 levels) pushes every ~5 s."""
    book_fast: float = 2.5
    """l2Book with fast=true pushes every ~0.5 s."""
    bbo: float = 10.0
    """bbo pushes only on change; silence on a live socket is 'quiet'."""
    trades: float = 30.0
    """trades push as they happen; silence on a live socket is 'quiet'."""
    ctx: float = 5.0
    """activeAssetCtx pushes every ~1 s."""
    account: float = 12.0
    """clearinghouseState pushes every ~4 s."""
    orders: float = 12.0
    """openOrders pushes every ~4 s."""
    fills: float = 60.0
    """userFills is event-driven; silence on a live socket is 'quiet'."""


@dataclass(frozen=True)
class WebsocketSettings:
    """Heartbeat and reconnect tuning for the websocket feed."""

    ping_interval: float = 15.0
    """Seconds between application pings; well inside the server's 60 s idle close."""
    pong_timeout: float = 10.0
    """No pong within this many seconds of a ping: the socket is dead (half-open)."""
    silence_timeout: float = 30.0
    """No frame at all for this many seconds: the socket is dead."""
    backoff_initial: float = 0.5
    """First reconnect delay bound, doubled each failed attempt (full jitter)."""
    backoff_max: float = 30.0
    """Cap on the reconnect delay bound."""
    max_new_per_minute: int = 30
    """Never open more new connections than this per minute (the exchange's limit)."""


@dataclass(frozen=True)
class Settings:
    """Everything hlmon can be told. Frozen: derive a changed copy with dataclasses.replace."""

    network: str = "mainnet"
    """``mainnet``, ``testnet`` or ``custom`` (then ``api_url`` is required)."""
    api_url: str = NETWORK_URLS["mainnet"]
    """REST base URL; the websocket URL is derived from it (http->ws, + /ws)."""
    address: str | None = None
    """Public 0x address to watch; without it only market panels show. With ``addresses``,
    the selected one (default: the first of ``addresses``)."""
    addresses: tuple[str, ...] = ()
    """More public addresses to watch, one account row each; ``address`` is always watched
    too, and at most 10 distinct addresses in all (the exchange's unique-user limit)."""
    labels: tuple[tuple[str, str], ...] = ()
    """Display names for watched addresses, ``(address, label)`` pairs (the ``labels`` table)."""
    watchlist: tuple[str, ...] = DEFAULT_WATCHLIST
    """Coins in the watchlist, in display order."""
    use_websocket: bool = True
    """Use the websocket feed (the normal path)."""
    rest_fallback: bool = True
    """Poll /info for stale feeds while the websocket is down or a feed is stale."""
    rest_weight_budget: int = 600
    """REST weight hlmon may spend per minute (the exchange allows 1200 per IP)."""
    fps: float = 12.0
    """UI refresh rate: widgets read the store this many times a second."""
    theme: str = "textual-dark"
    """Textual theme name."""
    stale: StaleThresholds = field(default_factory=StaleThresholds)
    """Per-feed staleness thresholds (the ``[stale]`` table)."""
    websocket: WebsocketSettings = field(default_factory=WebsocketSettings)
    """Heartbeat and reconnect tuning (the ``[websocket]`` table)."""
    alerts: AlertSettings = field(default_factory=AlertSettings)
    """Alert rules and delivery (the ``[alerts]`` table, ``hlmon.alerts.settings``)."""
    demo: bool = False
    """Run against the built-in simulator."""
    record_path: str | None = None
    """Record every websocket frame received to this gzip JSON-lines file (``--record``); a
    command-line option only, not a config-file key."""

    @property
    def ws_url(self) -> str:
        """The websocket URL derived from ``api_url``."""
        base = self.api_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[len("https://") :] + "/ws"
        if base.startswith("http://"):
            return "ws://" + base[len("http://") :] + "/ws"
        return base + "/ws"

    @property
    def watched_addresses(self) -> tuple[str, ...]:
        """Every watched address, lower-case, each once: ``addresses`` in order, with
        ``address`` first when it is not among them."""
        out = [a.lower() for a in self.addresses]
        if self.address is not None and self.address.lower() not in out:
            out.insert(0, self.address.lower())
        return tuple(dict.fromkeys(out))

    def label_for(self, address: str) -> str | None:
        """The configured label of ``address`` (any case), or None."""
        wanted = address.lower()
        return next((label for addr, label in self.labels if addr == wanted), None)


# The example config.toml at the repository root is exactly this text (a test checks both that
# the file matches and that it parses to Settings()), so the documented defaults cannot drift.
DEFAULT_CONFIG_TOML = """\
# hlmon configuration: every key with its default value.
#
# hlmon uses the first file found among: --config PATH, $HLMON_CONFIG, ./config.toml and the
# user config dir (~/.config/hlmon/config.toml on Linux). Keys left out keep their defaults.
# $HLMON_ADDRESS / $HLMON_NETWORK override the file; command-line flags override both.
# Unknown keys and wrong types are errors.

# "mainnet", "testnet", or "custom" (then api_url is required; giving api_url alone means
# "custom"). A custom api_url must be https unless its host is loopback (127.0.0.1, localhost,
# ::1), e.g. the local simulator started by `hlmon sim`.
network = "mainnet"
# api_url = "http://127.0.0.1:8080"

# Public address to watch (0x + 40 hex digits); without one only market panels show.
# hlmon is read-only and never needs a private key: one is refused if given here.
# address = "0x0000000000000000000000000000000000000000"
# More accounts (up to 10 addresses in all, the exchange's limit): each gets a row in the
# Accounts tab; `address` is the one selected at start (default: the first listed), and
# labels name them on screen. --address may be repeated or comma-separated.
addresses = []
# addresses = [
#     "0x0000000000000000000000000000000000000000",
#     "0x1111111111111111111111111111111111111111",
# ]
# labels = { "0x1111111111111111111111111111111111111111" = "hedge" }

# Coins in the watchlist, in display order. Names are case-sensitive ("kPEPE", "@107").
watchlist = ["BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE"]

# Feeds: the websocket is the normal path; REST /info polling covers stale or dead feeds.
use_websocket = true
rest_fallback = true
# REST weight per minute hlmon may spend (1..1200; the exchange allows 1200 per IP).
rest_weight_budget = 600

# UI refresh rate in frames per second (1..60) and the Textual theme. 12 keeps the worst
# exchange-to-screen delay under 100 ms; the UI's CPU cost grows with it, not with traffic.
fps = 12.0
theme = "textual-dark"

# Run against the built-in simulator instead of a real network (same as --demo).
demo = false

# Seconds without an update after which a feed counts as stale. Feeds that push only on change
# (bbo, trades, fills) are shown as "quiet" instead while the socket is proven alive.
[stale]
mids = 15.0       # allMids pushes every ~5 s
book = 15.0       # l2Book (20 levels) pushes every ~5 s
book_fast = 2.5   # l2Book with fast=true pushes every ~0.5 s
bbo = 10.0        # pushes on change only
trades = 30.0     # pushes as trades happen
ctx = 5.0         # activeAssetCtx pushes every ~1 s
account = 12.0    # clearinghouseState pushes every ~4 s
orders = 12.0     # openOrders pushes every ~4 s
fills = 60.0      # event-driven

# Heartbeat and reconnect tuning. The server closes sockets idle for 60 s.
[websocket]
ping_interval = 15.0        # seconds between pings (< 60)
pong_timeout = 10.0         # no pong within this: the socket is dead
silence_timeout = 30.0      # no frame at all within this: the socket is dead
backoff_initial = 0.5       # first reconnect delay bound, doubled per failure (with jitter)
backoff_max = 30.0          # cap on the reconnect delay bound
max_new_per_minute = 30     # new connections per minute (1..30, the exchange's limit)

# Alerts: fired once when a level is crossed, re-armed only after the value is back past the
# level by hysteresis_pct percent of it, then silent for cooldown_s. Each alert is shown in the
# app and the Log tab, rings the terminal bell and sends a desktop notification through the
# terminal (OSC 9 and/or OSC 777; works over SSH; inside tmux it needs
# `set -g allow-passthrough on`). Terminals that understand both OSCs show two notifications:
# keep one in desktop_osc.
[alerts]
bell = true
desktop = true
desktop_osc = [9, 777]
cooldown_s = 60.0
hysteresis_pct = 0.1
timeout_s = 5.0             # for the command and the webhook
# Also run a command (no shell; {title} {body} {level} {rule} are filled in) and/or POST JSON
# {"text", "title", "body", "level", "rule", "time"} to a webhook (https, or http to loopback).
# command = ["notify-send", "{title}", "{body}"]
# webhook = "https://hooks.example.com/hlmon"

# The rules. Giving any [[alerts.rules]] replaces this list, so keep the dead-man's switch:
# it fires when any feed has been stale for stale_for_s seconds while positions are open.
[[alerts.rules]]
kind = "deadman"
stale_for_s = 30.0

# More kinds (levels are prices in USD, or percents):
# [[alerts.rules]]
# kind = "price"            # the mid crosses a level; exactly one of above / below
# coin = "BTC"
# above = 110000
# [[alerts.rules]]
# kind = "liq_distance"     # a position gets closer to liquidation than below_pct % of mark
# below_pct = 10            # coin = "ETH" to watch one position; default: every position
# [[alerts.rules]]
# kind = "margin_ratio"     # maintenance margin / account value, in % (100 = liquidation)
# above_pct = 80
# [[alerts.rules]]
# kind = "upnl"             # total unrealised PnL in USD: above and/or below
# below = -500
# [[alerts.rules]]
# kind = "fill"             # any new fill of the watched account
"""


# --- showing values in messages -------------------------------------------------------------

_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")
_PRIVATE_KEY_RE = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
# Any 64-hex run anywhere in a string: never echo such a string, whatever key it was given for.
_KEYISH_RE = re.compile(r"[0-9a-fA-F]{64}")
_REDACTED = "<hidden: looks like a private key>"

PRIVATE_KEY_WARNING = (
    "this looks like a PRIVATE KEY (64 hex digits), not an address. hlmon is read-only and "
    "never needs a private key; give your public address (0x + 40 hex digits) instead. "
    "If that key is real, remove it from wherever you typed or stored it."
)


def redact(text: str) -> str:
    """Replace anything that looks like a private key (64 hex digits) in ``text``."""
    return re.sub(r"(?:0x)?[0-9a-fA-F]{64,}", _REDACTED, text)


def _show(value: Any) -> str:
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
    if _KEYISH_RE.search(text):
        return _REDACTED
    return text if len(text) <= 80 else text[:77] + "..."


# --- per-value validators ---------------------------------------------------------------------
#
# Each takes the raw value and returns the typed value, or raises _Invalid(expected). The caller
# knows where the value came from and turns that into a ConfigError naming source and key.


class _Invalid(Exception):
    def __init__(self, expected: str, *, show_value: bool = True) -> None:
        super().__init__(expected)
        self.expected = expected
        self.show_value = show_value


Validator = Callable[[Any], Any]


def _seconds(value: Any) -> float:
    expected = "a number of seconds > 0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(expected)
    if not (math.isfinite(value) and value > 0):
        raise _Invalid(expected)
    return float(value)


def _ping_interval(value: Any) -> float:
    # The server closes a socket it has not heard from for 60 s, so pings must come sooner.
    expected = "a number of seconds > 0 and < 60 (the server closes idle sockets after 60 s)"
    try:
        seconds = _seconds(value)
    except _Invalid:
        raise _Invalid(expected) from None
    if seconds >= 60:
        raise _Invalid(expected)
    return seconds


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


def _int_range(lo: int, hi: int, note: str = "") -> Validator:
    expected = f"an integer {lo}..{hi}{note}"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(expected)
        if not lo <= value <= hi:
            raise _Invalid(expected)
        return value

    return check


def _number_range(lo: float, hi: float) -> Validator:
    expected = f"a number {lo:g}..{hi:g}"

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(expected)
        if not (math.isfinite(value) and lo <= value <= hi):
            raise _Invalid(expected)
        return float(value)

    return check


def _network(value: Any) -> str:
    if not isinstance(value, str) or value not in NETWORKS:
        raise _Invalid("one of " + ", ".join(f'"{n}"' for n in NETWORKS))
    return value


def _is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (brackets allowed)."""
    return _is_loopback_host(host.strip("[]"))


def _api_url(value: Any) -> str:
    expected = "an https:// URL (http:// only for 127.0.0.1, localhost or ::1)"
    if not isinstance(value, str):
        raise _Invalid(expected)
    try:
        parts = urllib.parse.urlsplit(value.strip())
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise _Invalid(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(expected)
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and status bars; the exchange needs none.
        raise _Invalid("expected a URL without user:password@ credentials", show_value=False)
    if parts.query or parts.fragment:
        raise _Invalid("a base URL without ?query or #fragment")
    # Plain http would send everything in clear over a real network; it is only acceptable
    # for a local simulator or proxy, so http is allowed for loopback hosts only.
    if parts.scheme == "http" and not _is_loopback_host(parts.hostname):
        raise _Invalid(expected)
    return value.strip().rstrip("/")


def _address(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("an address: a string of 0x + 40 hex digits")
    text = value.strip()
    if _PRIVATE_KEY_RE.fullmatch(text):
        raise _Invalid(PRIVATE_KEY_WARNING, show_value=False)
    if not _ADDRESS_RE.fullmatch(text):
        raise _Invalid("an address: 0x + 40 hex digits")
    return text.lower()


MAX_ADDRESSES = 10
"""Distinct addresses hlmon watches at most: the exchange's unique users per IP (websocket)."""
MAX_LABEL_LEN = 24


def _addresses(value: Any) -> tuple[str, ...]:
    expected = "an array of addresses (0x + 40 hex digits)"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _Invalid(expected)
    out: list[str] = []
    for i, item in enumerate(value, 1):
        try:
            address = _address(item)
        except _Invalid as exc:
            if not exc.show_value:  # a private key: say so, never show it
                raise _Invalid(f"item {i}: {exc.expected}", show_value=False) from None
            raise _Invalid(f"{expected}; item {i} is not one") from None
        if address not in out:
            out.append(address)
    return tuple(out)


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    expected = 'a table of address = "label" (labels up to 24 characters)'
    if not isinstance(value, Mapping):
        raise _Invalid(expected)
    out: dict[str, str] = {}
    for key, label in value.items():
        try:
            address = _address(key)
        except _Invalid as exc:
            if not exc.show_value:
                raise _Invalid(f"a key in labels: {exc.expected}", show_value=False) from None
            raise _Invalid(f"{expected}; a key is not an address") from None
        if not isinstance(label, str):
            raise _Invalid(expected)
        text = label.strip()
        if not text or len(text) > MAX_LABEL_LEN or not text.isprintable():
            raise _Invalid(expected)
        out[address] = text
    return tuple(out.items())


def parse_coins(text: str) -> list[str]:
    """Split a ``--coins`` value: names separated by commas and/or whitespace."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def _watchlist(value: Any) -> tuple[str, ...]:
    expected = "a non-empty array of coin names (strings without spaces)"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _Invalid(expected)
    coins: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise _Invalid(expected)
        coin = item.strip()
        if not coin or any(ch.isspace() for ch in coin):
            raise _Invalid(expected)
        if _KEYISH_RE.search(coin):
            # A key pasted into the wrong field must not travel on into subscriptions,
            # snapshots and logs.
            raise _Invalid(
                f"a coin name, not a private key: {PRIVATE_KEY_WARNING}", show_value=False
            )
        # Case is kept as given: names like "kPEPE", "@107" and "PURR/USDC" are case-sensitive.
        if coin not in coins:
            coins.append(coin)
    if not coins:
        raise _Invalid(expected)
    return tuple(coins)


def _theme(value: Any) -> str:
    # Checked only for shape here: the theme list lives in Textual, which config must not import.
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("a theme name (a non-empty string)")
    return value.strip()


_STALE_SCHEMA: dict[str, Validator] = {
    f.name: _seconds for f in dataclasses.fields(StaleThresholds)
}
_WEBSOCKET_SCHEMA: dict[str, Validator] = {
    "ping_interval": _ping_interval,
    "pong_timeout": _seconds,
    "silence_timeout": _seconds,
    "backoff_initial": _seconds,
    "backoff_max": _seconds,
    "max_new_per_minute": _int_range(1, 30, " (the exchange allows 30 per minute)"),
}
_TABLES: dict[str, dict[str, Validator]] = {"stale": _STALE_SCHEMA, "websocket": _WEBSOCKET_SCHEMA}
_SCHEMA: dict[str, Validator] = {
    "network": _network,
    "api_url": _api_url,
    "address": _address,
    "addresses": _addresses,
    "labels": _labels,
    "watchlist": _watchlist,
    "use_websocket": _boolean,
    "rest_fallback": _boolean,
    "rest_weight_budget": _int_range(1, 1200),
    "fps": _number_range(1, 60),
    "theme": _theme,
    "demo": _boolean,
}


# --- layers -----------------------------------------------------------------------------------


@dataclass
class _Layer:
    """Validated values from one source (a file, the environment or the flags)."""

    values: dict[str, Any] = field(default_factory=dict)
    """Top-level settings given by this source (None never appears: absent means not given)."""
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Nested tables given by this source, partially."""
    where: dict[str, str] = field(default_factory=dict)
    """How to name each given key in a message, e.g. ``config.toml: key 'api_url'``."""


def _error(where: str, value: Any, exc: _Invalid) -> ConfigError:
    if exc.show_value:
        return ConfigError(f"{where}: expected {exc.expected}, got {_show(value)}")
    return ConfigError(f"{where}: {exc.expected}")


def _file_layer(data: Mapping[str, Any], source: str) -> _Layer:
    layer = _Layer()
    for key, value in data.items():
        where = f"{source}: key '{key}'"
        if key in _TABLES:
            schema = _TABLES[key]
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: expected a table [{key}], got {_show(value)}")
            table: dict[str, Any] = {}
            for sub, sub_value in value.items():
                sub_where = f"{source}: key '{key}.{sub}'"
                if sub not in schema:
                    # The value is not shown: an unknown key could be anything, even a secret.
                    known = ", ".join(schema)
                    raise ConfigError(f"{sub_where}: unknown key (known in [{key}]: {known})")
                try:
                    table[sub] = schema[sub](sub_value)
                except _Invalid as exc:
                    raise _error(sub_where, sub_value, exc) from None
                layer.where[f"{key}.{sub}"] = sub_where
            layer.tables[key] = table
        elif key == "alerts":
            # A file-only table with its own parser (rules are arrays of tables).
            try:
                layer.values[key] = parse_alerts(value, source)
            except AlertConfigError as exc:
                raise ConfigError(str(exc)) from None
            layer.where[key] = where
        elif key in _SCHEMA:
            try:
                layer.values[key] = _SCHEMA[key](value)
            except _Invalid as exc:
                raise _error(where, value, exc) from None
            layer.where[key] = where
        else:
            known = ", ".join([*_SCHEMA, *(f"[{t}]" for t in (*_TABLES, "alerts"))])
            raise ConfigError(f"{where}: unknown key (known keys: {known})")
    return layer


def _flat_layer(values: Mapping[str, Any], names: Mapping[str, str]) -> _Layer:
    """A layer from the environment or flags: ``names`` maps a setting to its source name."""
    layer = _Layer()
    for key, value in values.items():
        if value is None:
            continue
        if key not in _SCHEMA:
            raise ValueError(f"not a top-level setting: {key!r}")
        where = names.get(key, f"--{key.replace('_', '-')}")
        if key in ("watchlist", "addresses") and isinstance(value, str):
            value = parse_coins(value)
        try:
            layer.values[key] = _SCHEMA[key](value)
        except _Invalid as exc:
            raise _error(where, value, exc) from None
        layer.where[key] = where
    return layer


def _merge(layers: Sequence[_Layer]) -> Settings:
    """Apply layers over the defaults, lowest priority first, and check cross-field rules."""
    values: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {name: {} for name in _TABLES}
    where: dict[str, str] = {}
    network: str | None = None
    network_where = ""
    api_url: str | None = None
    for layer in layers:
        # network and api_url are decided together per layer: the highest layer that names
        # either wins, so --network mainnet beats a file's custom api_url and vice versa.
        layer_network = layer.values.get("network")
        layer_url = layer.values.get("api_url")
        if layer_network is None and layer_url is not None:
            layer_network = "custom"  # api_url alone implies a custom network
        if layer_network is not None:
            if (
                layer_network != "custom"
                and layer_url is not None
                and layer_url != NETWORK_URLS[layer_network]
            ):
                raise ConfigError(
                    f"{layer.where['api_url']}: api_url is only used with network "
                    f'"custom" (network is "{layer_network}"); drop one of them'
                )
            network = layer_network
            network_where = layer.where.get("network", layer.where.get("api_url", ""))
        if layer_url is not None:
            api_url = layer_url
        for key, value in layer.values.items():
            if key not in ("network", "api_url"):
                values[key] = value
        for name, table in layer.tables.items():
            tables[name].update(table)
        where.update(layer.where)

    if network is not None:
        values["network"] = network
        if network == "custom":
            # A higher layer may supply the URL (file: network = "custom", flag: --api-url).
            if api_url is None:
                raise ConfigError(f'{network_where}: network "custom" needs an api_url')
            values["api_url"] = api_url
        else:
            values["api_url"] = NETWORK_URLS[network]

    websocket = dataclasses.replace(WebsocketSettings(), **tables["websocket"])
    if websocket.backoff_initial > websocket.backoff_max:
        key = "websocket.backoff_initial"
        raise ConfigError(
            f"{where.get(key, where.get('websocket.backoff_max', key))}: backoff_initial "
            f"({websocket.backoff_initial:g}) must not exceed backoff_max "
            f"({websocket.backoff_max:g})"
        )
    stale = dataclasses.replace(StaleThresholds(), **tables["stale"])
    if values.get("addresses") and values.get("address") is None:
        values["address"] = values["addresses"][0]  # only a list given: select the first
    settings = Settings(**values, stale=stale, websocket=websocket)
    watched = settings.watched_addresses
    if len(watched) > MAX_ADDRESSES:
        raise ConfigError(
            f"{where.get('addresses', where.get('address', 'addresses'))}: at most "
            f"{MAX_ADDRESSES} distinct addresses can be watched (the exchange's limit of "
            f"unique users per IP), got {len(watched)} counting address"
        )
    return settings


# --- public entry points ----------------------------------------------------------------------


def validate_address(value: str, source: str) -> str:
    """Return ``value`` as a lower-case 0x address, or raise :class:`ConfigError`.

    A 64-hex-digit value (a private key, with or without 0x) is refused with a warning; the
    value never appears in the message, and the error is raised ``from None`` so no chained
    exception carries it either.
    """
    try:
        return str(_address(value))
    except _Invalid as exc:
        raise _error(source, value, exc) from None


def settings_from_mapping(data: Mapping[str, Any], source: str) -> Settings:
    """Build :class:`Settings` from a parsed TOML mapping; ``source`` names it in errors."""
    return _merge([_file_layer(data, source)])


def read_config_file(path: Path, source: str | None = None) -> dict[str, Any]:
    """Parse a TOML config file, turning every failure into a :class:`ConfigError`."""
    name = source if source is not None else str(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: invalid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib messages give a position, not the offending text, so they are safe to show.
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses per nesting level; a hostile file must still get a clean message.
        raise ConfigError(f"{name}: invalid TOML: nested too deeply") from None


def default_user_config_dir() -> Path:
    """The per-user config directory (``~/.config/hlmon`` on Linux). Never created here."""
    import platformdirs  # imported on use: nothing touches the machine at import time

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    # An empty variable counts as unset, as in most shells' ${VAR:-default} habit.
    value = env.get(name, "")
    return value if value.strip() else None


def find_config_file(
    config_path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user_dir: Path | None = None,
) -> Path | None:
    """The config file to use: ``--config``, ``$HLMON_CONFIG``, ``./config.toml``, user dir.

    An explicitly named file (``--config`` or ``$HLMON_CONFIG``) must exist; the other two are
    used only if present. ``cwd`` and ``user_dir`` default to the real ones.
    """
    environ = os.environ if env is None else env
    base = Path.cwd() if cwd is None else cwd
    if config_path is not None:
        path = base / Path(config_path).expanduser()
        if not path.is_file():
            what = "is not a file" if path.exists() else "no such file"
            raise ConfigError(f"--config {config_path}: {what}")
        return path
    from_env = _env_value(environ, "HLMON_CONFIG")
    if from_env is not None:
        path = base / Path(from_env).expanduser()
        if not path.is_file():
            what = "is not a file" if path.exists() else "no such file"
            raise ConfigError(f"$HLMON_CONFIG={from_env}: {what}")
        return path
    # Named relative to cwd when cwd is the real one, so messages read "config.toml: ...".
    local = Path(CONFIG_FILENAME) if cwd is None else cwd / CONFIG_FILENAME
    if local.is_file():
        return local
    user_file = (default_user_config_dir() if user_dir is None else user_dir) / CONFIG_FILENAME
    if user_file.is_file():
        return user_file
    return None


# Environment variables that override single settings, and the flag name used in messages.
ENV_OVERRIDES: dict[str, str] = {"address": "HLMON_ADDRESS", "network": "HLMON_NETWORK"}
FLAG_NAMES: dict[str, str] = {
    "watchlist": "--coins",
    "addresses": "--address",
    "use_websocket": "--no-ws",
    "rest_fallback": "--no-rest-fallback",
}


def load_settings(
    config_path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    user_dir: Path | None = None,
) -> Settings:
    """Resolve :class:`Settings` from defaults, a config file, the environment and flags.

    Args:
        config_path: ``--config PATH``; must exist if given.
        env: the environment (default ``os.environ``): ``HLMON_CONFIG``, ``HLMON_ADDRESS``,
            ``HLMON_NETWORK``. Empty values count as unset.
        cwd: where ``./config.toml`` is looked for (default the process's cwd).
        overrides: already-parsed CLI flags keyed by setting name (``network``, ``api_url``,
            ``address``, ``watchlist`` (a list or a ``"BTC,ETH"`` string), ``demo``, ``fps``,
            ``theme``, ``use_websocket``, ...). ``None`` values mean "not given".
        user_dir: the user config dir (default ``platformdirs.user_config_dir("hlmon")``).

    Raises:
        ConfigError: naming the file or variable or flag, the key, and what was expected.
    """
    environ = os.environ if env is None else env
    layers: list[_Layer] = []
    path = find_config_file(config_path, env=environ, cwd=cwd, user_dir=user_dir)
    if path is not None:
        logger.info("config file: %s", path)
        layers.append(_file_layer(read_config_file(path), str(path)))
    env_values = {key: _env_value(environ, var) for key, var in ENV_OVERRIDES.items()}
    if env_values["network"] is not None:
        env_values["network"] = env_values["network"].strip()
    layers.append(_flat_layer(env_values, {k: f"${v}" for k, v in ENV_OVERRIDES.items()}))
    if overrides:
        layers.append(_flat_layer(overrides, FLAG_NAMES))
    return _merge(layers)
