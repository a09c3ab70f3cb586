"""Malformed config files: only what tests/test_config.py does not already cover (it walks
every key with a wrong type or value, unknown keys, bad TOML and non-UTF-8). Here: odd files
and random bytes; the only exception that may come out is ``ConfigError``, and its message
never echoes a key-like value."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlmon.config import ConfigError, load_settings

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def _load(path: Path) -> None:
    load_settings(path, env={}, cwd=path.parent, user_dir=path.parent / "none")


@pytest.mark.parametrize(
    "content",
    [
        b"",  # empty: defaults
        b'\xef\xbb\xbfnetwork = "testnet"\n',  # UTF-8 BOM
        b'network = "testnet"\nnetwork = "mainnet"\n',  # duplicate key
        b"[stale]\n[stale]\n",  # duplicate table
        pytest.param(
            b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
            id="deeply-nested",
        ),
        b"watchlist = [" + b'"BTC",' * 50_000 + b"]\n",  # huge array
        b"\x00\x01\x02\xff\xfe",
        b"[websocket]\nping_interval = 1e999\n",  # inf
        b"[websocket]\nping_interval = nan\n",
        b"fps = 1e308\n",
        b'address = "' + KEY.encode() + b'"\n[[[\n',  # a key next to a syntax error
        b'theme = "' + KEY.encode() + b'"\n',
    ],
    ids=lambda c: repr(c[:24]) if isinstance(c, bytes) else None,
)
def test_odd_files_load_or_raise_config_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    try:
        _load(path)
    except ConfigError as exc:
        assert KEY not in str(exc).lower()
        assert str(path) in str(exc)


def test_config_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        _load(tmp_path)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_only_ever_raise_config_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    try:
        _load(path)
    except ConfigError:
        pass
