"""Shared fixtures. Keep this small: fixtures used by one test module belong in that module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolate_machine_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests away from the developer's config, logs and HLMON_* variables.

    platformdirs reads the XDG variables on every call, so pointing them at a temporary
    directory makes "the user config dir" an empty one inside the test's tmp_path.
    """
    for name in list(os.environ):
        if name.startswith("HLMON_"):
            monkeypatch.delenv(name)
    # XDG_RUNTIME_DIR too: a test must never find (or start) the machine's own hlmon daemon.
    for name in (
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "XDG_RUNTIME_DIR",
    ):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))
