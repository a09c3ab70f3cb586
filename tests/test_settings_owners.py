"""Each layer owns its settings and config sits on top: nothing below config imports it.

The layer order is ``protocol -> state -> (alerts | feeds) -> config``; the leaves
``keyguard``, ``loopback`` and ``settable`` import nothing above them.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from hlmon.alerts.settings import AlertSettings
from hlmon.config import Settings
from hlmon.config.layers import KEYS, TABLES
from hlmon.feeds.settings import EngineSettings, WebsocketSettings
from hlmon.state.settings import StaleThresholds
from tests.support import python_stdout


def _loaded_after(module: str) -> set[str]:
    """hlmon modules a fresh interpreter has loaded after importing ``module``."""
    code = (
        f"import json, sys, {module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('hlmon'))))\n"
    )
    stdout = python_stdout(code)
    return set(json.loads(stdout))


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("hlmon.state", ("hlmon.config", "hlmon.alerts", "hlmon.feeds", "hlmon.ui")),
        ("hlmon.alerts.settings", ("hlmon.config", "hlmon.feeds", "hlmon.ui")),
        ("hlmon.alerts.delivery", ("hlmon.config", "hlmon.feeds", "hlmon.ui")),
        ("hlmon.feeds.engine", ("hlmon.config", "hlmon.alerts", "hlmon.ui")),
        ("hlmon.keyguard", ("hlmon.",)),
        ("hlmon.loopback", ("hlmon.",)),
        ("hlmon.settable", ("hlmon.config", "hlmon.state", "hlmon.feeds", "hlmon.alerts")),
    ],
)
def test_nothing_below_config_loads_it(module: str, forbidden: tuple[str, ...]) -> None:
    """Importing a lower layer (or a leaf) loads nothing above it."""
    loaded = _loaded_after(module) - {module, "hlmon"}
    if module == "hlmon.settable":
        loaded.discard("hlmon.keyguard")
    bad = sorted(m for m in loaded if m.startswith(forbidden))
    assert not bad, bad


def test_config_loads_no_feed_io() -> None:
    """Composing WebsocketSettings does not drag in the engine, aiohttp or httpx (``hlmon
    --help`` stays fast)."""
    code = (
        "import sys, hlmon.config\n"
        "print(sorted(m for m in ('hlmon.feeds.engine', 'aiohttp', 'httpx') if m in sys.modules))"
    )
    stdout = python_stdout(code)
    assert stdout.strip() == "[]"


def test_settings_compose_the_layers_own_types() -> None:
    """One type per table, owned by its layer; config's schema is derived from the marks."""
    settings = Settings()
    assert type(settings.stale) is StaleThresholds
    assert type(settings.websocket) is WebsocketSettings
    assert type(settings.alerts) is AlertSettings
    assert set(TABLES) == {"stale", "websocket", "alerts"}
    top_level = {f.name for f in dataclasses.fields(Settings)}
    code_only = {"record_path", "strict_watchlist", "daemon_endpoint", "daemon_token"}
    code_only.add("saved_file")
    assert set(KEYS) == top_level - set(TABLES) - code_only  # set by code, not a file


def test_settings_has_everything_the_engine_reads() -> None:
    """mypy proves Settings satisfies EngineSettings where it is passed; this checks the
    protocol's members exist on it at run time too."""
    members = {name for name in vars(EngineSettings) if not name.startswith("_")}
    assert members >= {"api_url", "ws_url", "websocket", "watched_addresses", "label_for"}
    settings = Settings()
    for name in members:
        assert hasattr(settings, name), name
