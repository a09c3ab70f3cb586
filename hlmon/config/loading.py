"""Resolve Settings from the defaults, a config file, the environment and the flags.

Order (later wins): built-in defaults, then the first config file found among ``--config
PATH``, ``$HLMON_CONFIG``, ``./config.toml``, the user config dir (its own keys, then its
``[saved]`` section: the UI's choices, ``hlmon.config.saved``); then the ``HLMON_ADDRESS`` /
``HLMON_NETWORK`` / ``HLMON_EVENT_LOOP`` environment overrides; then the flags.
``Settings.saved_file`` says where the UI's choices go (:func:`saved_file_for`). Nothing here
touches the machine at import time.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hlmon.config.errors import ConfigError
from hlmon.config.flags import FLAG_NAMES
from hlmon.config.layers import Layer, flat_layer, merge
from hlmon.config.saved import file_layers
from hlmon.config.settings import Settings
from hlmon.config.validators import check_address
from hlmon.settable import Invalid, invalid_message

logger = logging.getLogger("hlmon.config")

CONFIG_FILENAME = "config.toml"
APP_NAME = "hlmon"

ENV_OVERRIDES: dict[str, str] = {
    "address": "HLMON_ADDRESS",
    "network": "HLMON_NETWORK",
    "event_loop": "HLMON_EVENT_LOOP",
}
"""Environment variables that override single settings."""


def default_config_text() -> str:
    """The commented ``config.toml`` shipped with hlmon: every key with its default value.

    The repository's ``config.toml`` is the same text (a test checks both that the files match
    and that they parse to ``Settings()``), so the documented defaults cannot drift.
    """
    # Imported here: importlib.resources brings tempfile, shutil, lzma and bz2 (some 4 ms of
    # every start-up on the 2-core Xeon) for this one text, which no start-up reads.
    import importlib.resources

    resource = importlib.resources.files("hlmon.config").joinpath(CONFIG_FILENAME)
    return resource.read_text(encoding="utf-8")


def validate_address(value: str, source: str) -> str:
    """Return ``value`` as a lower-case 0x address, or raise :class:`ConfigError`.

    A 64-hex-digit value (a private key, with or without 0x) is refused with a warning; the
    value never appears in the message, and the error is raised ``from None`` so no chained
    exception carries it either.
    """
    try:
        return check_address(value)
    except Invalid as exc:
        raise ConfigError(invalid_message(source, value, exc)) from None


def settings_from_mapping(data: Mapping[str, Any], source: str) -> Settings:
    """Build :class:`Settings` from a parsed TOML mapping (its ``[saved]`` table applied);
    ``source`` names it in errors."""
    return merge(file_layers(data, source))


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
            ``HLMON_NETWORK``, ``HLMON_EVENT_LOOP``. Empty values count as unset.
        cwd: where ``./config.toml`` is looked for (default the process's cwd).
        overrides: already-parsed CLI flags keyed by setting name (``network``, ``api_url``,
            ``address``, ``watchlist`` (a list or a ``"BTC,ETH"`` string), ``demo``, ``fps``,
            ``theme``, ``use_websocket``, ...; see ``flags.settings_overrides``). ``None``
            values mean "not given".
        user_dir: the user config dir (default ``platformdirs.user_config_dir("hlmon")``).

    Raises:
        ConfigError: naming the file or variable or flag, the key, and what was expected.
    """
    environ = os.environ if env is None else env
    layers: list[Layer] = []
    path = find_config_file(config_path, env=environ, cwd=cwd, user_dir=user_dir)
    if path is not None:
        logger.info("config file: %s", path)
        layers.extend(file_layers(read_config_file(path), str(path)))
    env_values = {key: _env_value(environ, var) for key, var in ENV_OVERRIDES.items()}
    if env_values["network"] is not None:
        env_values["network"] = env_values["network"].strip()
    layers.append(flat_layer(env_values, {k: f"${v}" for k, v in ENV_OVERRIDES.items()}))
    if overrides:
        layers.append(flat_layer(overrides, FLAG_NAMES))
    settings = merge(layers)
    saved = saved_file_for(config_path, path, env=environ, user_dir=user_dir)
    if settings.demo:
        # The demo is a sandbox on the simulator's markets: what is tried there must not
        # rewrite the user's real watchlist, theme or alerts.
        saved = None
    return dataclasses.replace(settings, saved_file=None if saved is None else str(saved))


def saved_file_for(
    config_path: Path | None,
    found: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    user_dir: Path | None = None,
) -> Path | None:
    """Where the UI's choices are saved: the user's own config file, never a one-off one.

    ``$HLMON_CONFIG`` or the user config dir's ``config.toml`` (created on the first save when
    no file was found). None (this run's choices are not saved) when the config was named
    with ``--config`` or is a ``./config.toml`` in the current directory (a project's or a
    checkout's file, not the user's).
    """
    environ = os.environ if env is None else env
    if config_path is not None:
        return None
    if found is not None:
        if _env_value(environ, "HLMON_CONFIG") is not None:
            return found
        user_file = (default_user_config_dir() if user_dir is None else user_dir) / CONFIG_FILENAME
        return found if found == user_file else None
    return (default_user_config_dir() if user_dir is None else user_dir) / CONFIG_FILENAME
