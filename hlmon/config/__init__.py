"""hlmon.config: settings, typed and validated, from TOML files, the environment and flags.

The top of the settings stack: :class:`Settings` composes each layer's own settings
(:class:`~hlmon.state.settings.StaleThresholds`, :class:`~hlmon.feeds.settings.WebsocketSettings`,
:class:`~hlmon.alerts.settings.AlertSettings`); nothing below config imports it.

- ``settings``: :class:`Settings`, its shape declared once (fields marked settable).
- ``validators``: checks for the top-level values (network, URL, addresses, watchlist...).
- ``layers``: the schema derived from :class:`Settings`, sources as layers, their merge.
- ``loading``: :func:`load_settings` (file, environment, flags), :func:`settings_from_mapping`,
  :func:`validate_address`, :func:`find_config_file`, :func:`default_config_text` (the shipped,
  commented ``config.toml``, package data; the repository's ``config.toml`` is the same text).
- ``flags``: the one table of shared command-line flags.
- ``saved``: the ``[saved]`` block hlmon owns in the user's config file (the UI's watchlist,
  theme, book mode and alert rules): read over the file's own keys, written back atomically
  (``atomic``) with everything outside it kept byte for byte (``toml_text`` writes the TOML).

The TOML keys are the dataclass field names: top-level keys for :class:`Settings`, a
``[stale]``, a ``[websocket]`` and an ``[alerts]`` table (with ``[[alerts.rules]]``).
"""

from hlmon.config.errors import ConfigError
from hlmon.config.flags import FLAG_NAMES
from hlmon.config.loading import (
    APP_NAME,
    CONFIG_FILENAME,
    ENV_OVERRIDES,
    default_config_text,
    default_user_config_dir,
    find_config_file,
    load_settings,
    read_config_file,
    settings_from_mapping,
    validate_address,
)
from hlmon.config.settings import DEFAULT_WATCHLIST, Settings
from hlmon.config.validators import (
    MAX_ADDRESSES,
    MAX_LABEL_LEN,
    NETWORK_URLS,
    NETWORKS,
    parse_coins,
)
from hlmon.feeds.settings import WebsocketSettings
from hlmon.state.settings import StaleThresholds

__all__ = [
    "APP_NAME",
    "CONFIG_FILENAME",
    "DEFAULT_WATCHLIST",
    "ENV_OVERRIDES",
    "FLAG_NAMES",
    "MAX_ADDRESSES",
    "MAX_LABEL_LEN",
    "NETWORKS",
    "NETWORK_URLS",
    "ConfigError",
    "Settings",
    "StaleThresholds",
    "WebsocketSettings",
    "default_config_text",
    "default_user_config_dir",
    "find_config_file",
    "load_settings",
    "parse_coins",
    "read_config_file",
    "settings_from_mapping",
    "validate_address",
]
