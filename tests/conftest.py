"""Shared fixtures. Keep this small: fixtures used by one test module belong in that module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import hang_report

hang_report.install()


@pytest.fixture(scope="session", autouse=True)
def _isolate_session_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same isolation for module- and session-scoped fixtures, which are set up before
    any test's own (a served app, a recording run): their processes and engines must not
    read the developer's config nor write the user cache dir (the market catalog) either."""
    root = tmp_path_factory.mktemp("xdg-session")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HLMON_ADDRESS", "HLMON_CACHE_DIR", "HLMON_CONFIG", "HLMON_LOG",
                     "HLMON_NETWORK"):  # fmt: skip
            patch.delenv(name, raising=False)  # what hlmon reads (HLMON_PAYLOADS stays)
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            patch.setenv(name, str(root / name.lower()))
        yield


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
