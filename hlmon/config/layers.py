"""Sources of settings (a file, the environment, the flags) as layers, and their merge.

The schema is derived from :class:`~hlmon.config.settings.Settings`: its settable fields are
the top-level keys, its settable tables the ``[stale]``, ``[websocket]`` and ``[alerts]`` tables
(each read from its own layer's type). A layer holds only what its source gave; the merge
applies layers over the defaults, lowest priority first, then checks cross-field rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hlmon.config.errors import ConfigError
from hlmon.config.settings import Settings
from hlmon.config.validators import MAX_ADDRESSES, NETWORK_URLS, parse_coins
from hlmon.settable import (
    Invalid,
    SettingError,
    checks_of,
    default_of,
    invalid_message,
    parse_table,
    tables_of,
)

KEYS = checks_of(Settings)
"""Top-level config keys and their checks (``network``, ``api_url``, ... ``demo``)."""
TABLES = tables_of(Settings)
"""Config tables and their parsers: ``stale`` and ``websocket`` are read key by key (None),
``alerts`` by its own parser."""


@dataclass
class Layer:
    """Validated values from one source (a file, the environment or the flags)."""

    values: dict[str, Any] = field(default_factory=dict)
    """Top-level settings given by this source (None never appears: absent means not given)."""
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tables read key by key, as given by this source (partially)."""
    where: dict[str, str] = field(default_factory=dict)
    """How to name each given key in a message, e.g. ``config.toml: key 'api_url'``."""


def file_layer(data: Mapping[str, Any], source: str) -> Layer:
    """A layer from a parsed TOML file named ``source``."""
    layer = Layer()
    for key, value in data.items():
        where = f"{source}: key '{key}'"
        if key in TABLES:
            parse = TABLES[key]
            try:
                if parse is None:
                    table_type = type(default_of(Settings, key))
                    table = parse_table(table_type, value, source, key)
                    layer.tables[key] = table
                    for sub in table:
                        layer.where[f"{key}.{sub}"] = f"{source}: key '{key}.{sub}'"
                else:
                    layer.values[key] = parse(value, source)
                    layer.where[key] = where
            except SettingError as exc:
                raise ConfigError(str(exc)) from None
        elif key in KEYS:
            try:
                layer.values[key] = KEYS[key](value)
            except Invalid as exc:
                raise ConfigError(invalid_message(where, value, exc)) from None
            layer.where[key] = where
        else:
            # The value is not shown: an unknown key could be anything, even a secret.
            known = ", ".join([*KEYS, *(f"[{t}]" for t in TABLES)])
            raise ConfigError(f"{where}: unknown key (known keys: {known})")
    return layer


def flat_layer(values: Mapping[str, Any], names: Mapping[str, str]) -> Layer:
    """A layer from the environment or flags: ``names`` maps a setting to its source name."""
    layer = Layer()
    for key, value in values.items():
        if value is None:
            continue
        if key not in KEYS:
            raise ValueError(f"not a top-level setting: {key!r}")
        where = names.get(key, f"--{key.replace('_', '-')}")
        if key in ("watchlist", "addresses") and isinstance(value, str):
            value = parse_coins(value)
        try:
            layer.values[key] = KEYS[key](value)
        except Invalid as exc:
            raise ConfigError(invalid_message(where, value, exc)) from None
        layer.where[key] = where
    return layer


def merge(layers: Sequence[Layer]) -> Settings:
    """Apply layers over the defaults, lowest priority first, and check cross-field rules."""
    values: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {name: {} for name, p in TABLES.items() if p is None}
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

    for name, given in tables.items():
        values[name] = dataclasses.replace(default_of(Settings, name), **given)
    websocket = values["websocket"]
    if websocket.backoff_initial > websocket.backoff_max:
        key = "websocket.backoff_initial"
        raise ConfigError(
            f"{where.get(key, where.get('websocket.backoff_max', key))}: backoff_initial "
            f"({websocket.backoff_initial:g}) must not exceed backoff_max "
            f"({websocket.backoff_max:g})"
        )
    if values.get("addresses") and values.get("address") is None:
        values["address"] = values["addresses"][0]  # only a list given: select the first
    settings = Settings(**values)
    watched = settings.watched_addresses
    cap = min(settings.max_users, MAX_ADDRESSES)
    if len(watched) > cap:
        raise ConfigError(
            f"{where.get('addresses', where.get('address', 'addresses'))}: at most "
            f"{cap} distinct addresses can be watched (max_users, the exchange's limit of "
            f"unique users per IP), got {len(watched)} counting address"
        )
    return settings
