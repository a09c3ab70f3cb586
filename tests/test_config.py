"""Settings loading: validation messages, resolution order, addresses and the example config."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import tomllib
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlmon.alerts.settings import AlertSettings
from hlmon.config import (
    NETWORK_URLS,
    ConfigError,
    Settings,
    StaleThresholds,
    default_config_text,
    load_settings,
    parse_coins,
    settings_from_mapping,
    validate_address,
)
from tests.support import REPO_ROOT, python_stdout

ADDRESS = "0x" + "AbCdEf0123" * 4
PRIVATE_KEY_DIGITS = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WEBSOCKET_KEYS = (
    "ping_interval",
    "pong_timeout",
    "silence_timeout",
    "backoff_initial",
    "backoff_max",
    "max_new_per_minute",
)
"""The documented [websocket] keys; the feed's other timings are tuned in code only."""


def _toml_value(value: Any) -> str:
    """Just enough TOML for the values these tests write."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)  # strings, numbers and arrays of them are valid TOML this way


def _write_toml(path: Path, data: dict[str, Any]) -> Path:
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    if "." in dotted:
        table, key = dotted.split(".", 1)
        return {table: {key: value}}
    return {dotted: value}


def _load(tmp_path: Path, config: Path | None = None, **kwargs: Any) -> Settings:
    """load_settings confined to tmp_path: its own cwd, user dir and environment."""
    kwargs.setdefault("env", {})
    kwargs.setdefault("cwd", tmp_path / "cwd")
    kwargs.setdefault("user_dir", tmp_path / "user")
    return load_settings(config, **kwargs)


def _all_keys() -> set[str]:
    # record_path and strict_watchlist are set by the --record and --coins flags only, never
    # by a config file; the daemon's endpoint and token by the runtime and the environment.
    code_only = {"stale", "websocket", "record_path", "strict_watchlist", "daemon_endpoint",
                 "daemon_token", "saved_file"}  # fmt: skip
    keys = {f.name for f in dataclasses.fields(Settings)} - code_only
    keys |= {f"stale.{f.name}" for f in dataclasses.fields(StaleThresholds)}
    keys |= {f"websocket.{name}" for name in WEBSOCKET_KEYS}
    keys.discard("alerts")
    keys |= {f"alerts.{f.name}" for f in dataclasses.fields(AlertSettings)}
    return keys


# One value of the wrong type for every key...
BAD_TYPES: dict[str, Any] = {
    "network": 1,
    "api_url": 443,
    "address": 12345,
    "addresses": "0x" + "ab" * 20,
    "labels": 5,
    "watchlist": "BTC",
    "use_websocket": "yes",
    "rest_fallback": 1,
    "rest_weight_budget": "600",
    "max_users": "10",
    "cache_dir": 5,
    "fps": "10",
    "theme": True,
    "book_fast": "yes",
    "book_sig_figs": 5.0,
    "demo": "false",
    "demo_account": "merged",
    "daemon": 5,
    "event_loop": 1,
    **{f"stale.{f.name}": "x" for f in dataclasses.fields(StaleThresholds)},
    **{f"websocket.{name}": "x" for name in WEBSOCKET_KEYS},
    "alerts.bell": "yes",
    "alerts.desktop": 1,
    "alerts.desktop_osc": 9,
    "alerts.cooldown_s": "60",
    "alerts.hysteresis_pct": True,
    "alerts.command": "notify-send",
    "alerts.webhook": 5,
    "alerts.timeout_s": "5",
    "alerts.rules": "deadman",
}

# ...and values of the right type that are still wrong.
BAD_VALUES: list[tuple[str, Any]] = [
    ("network", "moon"),
    ("network", "Mainnet"),
    ("api_url", "ftp://example.com"),
    ("api_url", "http://example.com"),
    ("api_url", "http://10.0.0.1:3001"),
    ("api_url", "http://0.0.0.0:3001"),
    ("api_url", "https://"),
    ("api_url", "https://example.com/?a=1"),
    ("daemon", "sometimes"),
    ("daemon", "http://10.0.0.1:8765"),
    ("event_loop", "fast"),
    ("event_loop", "Uvloop"),
    ("address", "0x1234"),
    ("address", "0x" + "g" * 40),
    ("address", "ab" * 20),
    ("address", "0x" + "a" * 41),
    ("addresses", ["0x" + "ab" * 20, "0x1234"]),
    ("addresses", [1]),
    ("labels", {"0x1234": "main"}),
    ("labels", {"0x" + "ab" * 20: ""}),
    ("labels", {"0x" + "ab" * 20: "x" * 25}),
    ("watchlist", []),
    ("watchlist", [""]),
    ("watchlist", ["BTC", "  "]),
    ("watchlist", ["BTC ETH"]),
    ("watchlist", ["BTC", 1]),
    ("rest_weight_budget", 0),
    ("rest_weight_budget", 1201),
    ("rest_weight_budget", 600.0),
    ("max_users", 0),
    ("max_users", 16),
    ("cache_dir", ""),
    ("fps", 0),
    ("fps", 0.5),
    ("fps", 61),
    ("fps", math.nan),
    ("theme", ""),
    ("book_sig_figs", 1),
    ("book_sig_figs", 6),
    ("stale.book", 0),
    ("stale.book", -1.5),
    ("stale.mids", math.inf),
    ("stale.fills", math.nan),
    ("websocket.ping_interval", 60),
    ("websocket.pong_timeout", 0),
    ("websocket.max_new_per_minute", 0),
    ("websocket.max_new_per_minute", 31),
    ("websocket.max_new_per_minute", 2.5),
    ("alerts.desktop_osc", [52]),
    ("alerts.desktop_osc", []),
    ("alerts.cooldown_s", -1),
    ("alerts.hysteresis_pct", 60),
    ("alerts.command", []),
    ("alerts.command", ["", "{title}"]),
    ("alerts.webhook", "http://hooks.example.com/x"),
    ("alerts.webhook", "ftp://127.0.0.1/x"),
    ("alerts.timeout_s", 0),
]


class TestValidationMessages:
    def test_bad_type_table_covers_every_setting(self) -> None:
        """Adding a setting without a validation test fails here."""
        assert set(BAD_TYPES) == _all_keys()

    @pytest.mark.parametrize(("key", "value"), sorted(BAD_TYPES.items()))
    def test_wrong_type_names_file_and_key(self, tmp_path: Path, key: str, value: Any) -> None:
        """A value of the wrong type in a real file names the file, the dotted key, 'expected'."""
        path = _write_toml(tmp_path / "conf" / "config.toml", _nested(key, value))
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, path)
        message = str(info.value)
        assert message.startswith(f"{path}: key '{key}': expected ")
        assert "got " in message

    @pytest.mark.parametrize(("key", "value"), BAD_VALUES)
    def test_wrong_value_names_source_and_key(self, key: str, value: Any) -> None:
        """A well-typed but invalid value names the source and the key."""
        with pytest.raises(ConfigError) as info:
            settings_from_mapping(_nested(key, value), "config.toml")
        assert str(info.value).startswith(f"config.toml: key '{key}': expected ")

    def test_message_shape_matches_the_issue(self) -> None:
        """The exact wording the issue asks for."""
        with pytest.raises(ConfigError) as info:
            settings_from_mapping({"stale": {"book": "x"}}, "config.toml")
        assert str(info.value) == (
            """config.toml: key 'stale.book': expected a number of seconds > 0, got "x\""""
        )

    @pytest.mark.parametrize(
        ("data", "key"),
        [
            ({"colour": "red"}, "colour"),
            ({"stale": {"boook": 3}}, "stale.boook"),
            ({"websocket": {"ping": 3}}, "websocket.ping"),
            ({"websocket": {"open_timeout": 3}}, "websocket.open_timeout"),
            ({"websocket": {"stable_after": 3}}, "websocket.stable_after"),
            ({"private_key": "0x" + PRIVATE_KEY_DIGITS}, "private_key"),
        ],
    )
    def test_unknown_key(self, data: dict[str, Any], key: str) -> None:
        """Unknown keys are refused, top level or nested, and their value is never shown."""
        with pytest.raises(ConfigError) as info:
            settings_from_mapping(data, "my.toml")
        message = str(info.value)
        assert message.startswith(f"my.toml: key '{key}': unknown key")
        assert PRIVATE_KEY_DIGITS not in message

    def test_table_given_as_scalar_and_scalar_as_table(self) -> None:
        """[stale] must be a table; fps must not be one."""
        with pytest.raises(ConfigError, match=r"key 'stale': expected a table"):
            settings_from_mapping({"stale": 5}, "c.toml")
        with pytest.raises(ConfigError, match=r"key 'fps': expected a number 1\.\.60, got a"):
            settings_from_mapping({"fps": {"x": 1}}, "c.toml")

    def test_backoff_initial_above_max(self) -> None:
        """Cross-field rule: the first backoff bound cannot exceed the cap."""
        with pytest.raises(ConfigError, match=r"'websocket\.backoff_max'.*must not exceed"):
            settings_from_mapping({"websocket": {"backoff_max": 0.1}}, "c.toml")

    def test_invalid_toml_names_file(self, tmp_path: Path) -> None:
        """A syntax error names the file and the position."""
        path = tmp_path / "bad.toml"
        path.write_text('network = "mainnet\n', encoding="utf-8")
        with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML: .*line 1"):
            _load(tmp_path, path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Binary junk is a clear error, not a UnicodeDecodeError."""
        path = tmp_path / "bin.toml"
        path.write_bytes(b'theme = "\xff\xfe"\n')
        with pytest.raises(ConfigError, match=r"bin\.toml: invalid TOML"):
            _load(tmp_path, path)

    def test_valid_values_are_typed(self) -> None:
        """Integers where seconds are expected become floats; good values pass through."""
        settings = settings_from_mapping(
            {
                "fps": 30,
                "rest_weight_budget": 1200,
                "stale": {"book": 20},
                "websocket": {"max_new_per_minute": 1, "backoff_initial": 1},
                "theme": "nord",
                "use_websocket": False,
            },
            "c.toml",
        )
        assert settings.fps == 30.0 and isinstance(settings.fps, float)
        assert settings.stale.book == 20.0 and isinstance(settings.stale.book, float)
        assert settings.stale.mids == StaleThresholds().mids
        assert settings.websocket.max_new_per_minute == 1
        assert settings.rest_weight_budget == 1200
        assert (settings.theme, settings.use_websocket) == ("nord", False)


class TestNetworkAndUrl:
    @pytest.mark.parametrize("network", ["mainnet", "testnet"])
    def test_named_networks_use_https(self, network: str) -> None:
        """Named networks map to their fixed https URLs."""
        settings = settings_from_mapping({"network": network}, "c.toml")
        assert settings.api_url == NETWORK_URLS[network]
        assert settings.api_url.startswith("https://")
        assert settings.ws_url.startswith("wss://")

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:3001",
            "http://127.9.9.9",
            "http://localhost:8080/",
            "http://[::1]:3001",
            "https://node.example.com/base",
        ],
    )
    def test_api_url_alone_implies_custom(self, url: str) -> None:
        """http is fine for loopback hosts; https anywhere; a trailing slash is dropped."""
        settings = settings_from_mapping({"api_url": url}, "c.toml")
        assert settings.network == "custom"
        assert settings.api_url == url.rstrip("/")

    def test_custom_needs_url(self) -> None:
        """network = "custom" without any api_url is an error."""
        with pytest.raises(
            ConfigError, match=r"key 'network': network \"custom\" needs an api_url"
        ):
            settings_from_mapping({"network": "custom"}, "c.toml")

    def test_named_network_with_other_url_conflicts(self) -> None:
        """A named network plus a different api_url in the same source is ambiguous."""
        with pytest.raises(ConfigError, match=r"key 'api_url': api_url is only used with"):
            settings_from_mapping(
                {"network": "testnet", "api_url": "https://x.example.com"}, "c.toml"
            )
        same = settings_from_mapping(
            {"network": "testnet", "api_url": NETWORK_URLS["testnet"]}, "c.toml"
        )
        assert same.network == "testnet"

    def test_credentials_in_url_refused_and_not_shown(self) -> None:
        """user:password@ in a URL would end up in logs; refuse it without echoing it."""
        with pytest.raises(ConfigError) as info:
            settings_from_mapping({"api_url": "https://me:hunter2@node.example.com"}, "c.toml")
        assert "hunter2" not in str(info.value)


class TestResolutionOrder:
    def _files(self, tmp_path: Path) -> dict[str, Path]:
        return {
            "flag": _write_toml(tmp_path / "flag.toml", {"theme": "from-flag"}),
            "env": _write_toml(tmp_path / "env.toml", {"theme": "from-env"}),
            "cwd": _write_toml(tmp_path / "cwd" / "config.toml", {"theme": "from-cwd"}),
            "user": _write_toml(tmp_path / "user" / "config.toml", {"theme": "from-user"}),
        }

    def test_file_precedence(self, tmp_path: Path) -> None:
        """--config > $HLMON_CONFIG > ./config.toml > user dir > defaults."""
        files = self._files(tmp_path)
        env = {"HLMON_CONFIG": str(files["env"])}
        assert _load(tmp_path, files["flag"], env=env).theme == "from-flag"
        assert _load(tmp_path, env=env).theme == "from-env"
        assert _load(tmp_path).theme == "from-cwd"
        files["cwd"].unlink()
        assert _load(tmp_path).theme == "from-user"
        files["user"].unlink()
        assert _load(tmp_path) == Settings()

    def test_only_the_first_file_is_used(self, tmp_path: Path) -> None:
        """Files are not merged: defaults fill what the chosen file omits."""
        _write_toml(tmp_path / "cwd" / "config.toml", {"theme": "nord"})
        _write_toml(tmp_path / "user" / "config.toml", {"fps": 30})
        settings = _load(tmp_path)
        assert (settings.theme, settings.fps) == ("nord", Settings().fps)

    def test_relative_paths_resolve_against_cwd(self, tmp_path: Path) -> None:
        """--config and $HLMON_CONFIG given relative are looked up from cwd."""
        _write_toml(tmp_path / "cwd" / "sub" / "a.toml", {"fps": 5})
        assert _load(tmp_path, Path("sub/a.toml")).fps == 5.0
        assert _load(tmp_path, env={"HLMON_CONFIG": "sub/a.toml"}).fps == 5.0

    def test_real_user_config_dir_is_platformdirs(self, tmp_path: Path) -> None:
        """Without user_dir, the platformdirs location is used (XDG points into tmp_path)."""
        import platformdirs

        user_file = Path(platformdirs.user_config_dir("hlmon")) / "config.toml"
        assert str(user_file).startswith(str(tmp_path))  # the conftest isolation works
        _write_toml(user_file, {"theme": "from-xdg"})
        settings = load_settings(env={}, cwd=tmp_path / "cwd")
        assert settings.theme == "from-xdg"

    def test_explicit_missing_file_is_an_error(self, tmp_path: Path) -> None:
        """A file the user named must exist; an empty $HLMON_CONFIG counts as unset."""
        with pytest.raises(ConfigError, match=r"--config .*nope\.toml: no such file"):
            _load(tmp_path, tmp_path / "nope.toml")
        with pytest.raises(ConfigError, match=r"\$HLMON_CONFIG=.*nope\.toml: no such file"):
            _load(tmp_path, env={"HLMON_CONFIG": str(tmp_path / "nope.toml")})
        with pytest.raises(ConfigError, match=r"is not a file"):
            _load(tmp_path, tmp_path)
        assert _load(tmp_path, env={"HLMON_CONFIG": ""}) == Settings()

    def test_flag_beats_env_beats_file(self, tmp_path: Path) -> None:
        """For address and network: flag > env > file."""
        a_file, a_env, a_flag = ("0x" + c * 40 for c in "abc")
        path = _write_toml(tmp_path / "c.toml", {"address": a_file, "network": "testnet"})
        assert _load(tmp_path, path).address == a_file
        env = {"HLMON_ADDRESS": a_env, "HLMON_NETWORK": "mainnet"}
        settings = _load(tmp_path, path, env=env)
        assert (settings.address, settings.network) == (a_env, "mainnet")
        settings = _load(
            tmp_path, path, env=env, overrides={"address": a_flag, "network": "testnet"}
        )
        assert (settings.address, settings.network) == (a_flag, "testnet")
        assert settings.api_url == NETWORK_URLS["testnet"]

    def test_network_and_url_travel_together(self, tmp_path: Path) -> None:
        """The highest source naming a network or an api_url decides both."""
        local = "http://127.0.0.1:3001"
        path = _write_toml(tmp_path / "c.toml", {"network": "custom", "api_url": local})
        assert _load(tmp_path, path).api_url == local
        flagged = _load(tmp_path, path, overrides={"network": "mainnet"})
        assert (flagged.network, flagged.api_url) == ("mainnet", NETWORK_URLS["mainnet"])
        from_env = _load(tmp_path, path, env={"HLMON_NETWORK": "testnet"})
        assert from_env.api_url == NETWORK_URLS["testnet"]

        named = _write_toml(tmp_path / "n.toml", {"network": "testnet"})
        custom = _load(tmp_path, named, overrides={"api_url": local})
        assert (custom.network, custom.api_url) == ("custom", local)

        # A custom network named in the file may take its URL from a flag.
        bare = _write_toml(tmp_path / "b.toml", {"network": "custom"})
        assert _load(tmp_path, bare, overrides={"api_url": local}).api_url == local
        # ...and $HLMON_NETWORK=custom reuses the file's URL.
        url_only = _write_toml(tmp_path / "u.toml", {"api_url": local})
        assert _load(tmp_path, url_only, env={"HLMON_NETWORK": "custom"}).api_url == local
        with pytest.raises(ConfigError, match=r"^\$HLMON_NETWORK: network \"custom\" needs"):
            _load(tmp_path, env={"HLMON_NETWORK": "custom"})

    def test_env_and_flag_errors_name_their_source(self, tmp_path: Path) -> None:
        """Bad env values name the variable; bad flag values name the flag."""
        with pytest.raises(ConfigError, match=r"^\$HLMON_NETWORK: expected one of"):
            _load(tmp_path, env={"HLMON_NETWORK": "moon"})
        with pytest.raises(ConfigError, match=r"^\$HLMON_ADDRESS: expected an address"):
            _load(tmp_path, env={"HLMON_ADDRESS": "0x12"})
        with pytest.raises(ConfigError, match=r"^--fps: expected a number 1\.\.60, got 0"):
            _load(tmp_path, overrides={"fps": 0})
        with pytest.raises(ConfigError, match=r"^--coins: expected a non-empty"):
            _load(tmp_path, overrides={"watchlist": " , "})
        with pytest.raises(ConfigError, match=r"^--api-url: expected an https:// URL"):
            _load(tmp_path, overrides={"api_url": "http://example.com"})

    def test_overrides(self, tmp_path: Path) -> None:
        """None means not given; watchlist accepts a "BTC,ETH" string; unknown names are bugs."""
        path = _write_toml(tmp_path / "c.toml", {"demo": True, "fps": 20})
        settings = _load(
            tmp_path, path, overrides={"demo": None, "fps": None, "watchlist": "kPEPE, @107"}
        )
        assert (settings.demo, settings.fps) == (True, 20.0)
        assert settings.watchlist == ("kPEPE", "@107")
        assert _load(tmp_path, overrides={"use_websocket": False}).use_websocket is False
        with pytest.raises(ValueError, match="not a top-level setting"):
            _load(tmp_path, overrides={"stale": 3})


class TestAddress:
    def test_normalised_to_lower_case(self) -> None:
        """Addresses are stored lower case, surrounding whitespace dropped."""
        assert validate_address(f"  {ADDRESS}\n", "--address") == ADDRESS.lower()

    @pytest.mark.parametrize(
        "bad", ["", "0x", "0x123", "ab" * 20, "0x" + "z" * 40, "0X" + "a" * 40]
    )
    def test_bad_shapes_name_the_source(self, bad: str) -> None:
        """Anything but 0x + 40 hex digits is refused, naming where it came from."""
        with pytest.raises(ConfigError, match=r"^\$HLMON_ADDRESS: expected an address"):
            validate_address(bad, "$HLMON_ADDRESS")

    @pytest.mark.parametrize(
        "key",
        [
            PRIVATE_KEY_DIGITS,
            "0x" + PRIVATE_KEY_DIGITS,
            "0x" + PRIVATE_KEY_DIGITS.upper(),
            f"  {PRIVATE_KEY_DIGITS}  ",
        ],
    )
    def test_private_key_refused_and_never_echoed(
        self, key: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A private key is refused with a warning; its digits appear nowhere."""
        caplog.set_level(logging.DEBUG)
        with pytest.raises(ConfigError) as info:
            validate_address(key, "--address")
        exc = info.value
        message = str(exc)
        assert message.startswith("--address: ")
        assert "PRIVATE KEY" in message and "never needs" in message
        shown = "".join(traceback.format_exception(exc)) + repr(exc) + caplog.text
        for text in (shown, shown.lower()):
            assert PRIVATE_KEY_DIGITS not in text
        assert PRIVATE_KEY_DIGITS[:16] not in shown.lower()
        assert exc.__cause__ is None and exc.__suppress_context__

    def test_private_key_in_file_env_or_other_keys(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """From a file or the environment, the refusal names the source and hides the key."""
        caplog.set_level(logging.DEBUG)
        path = _write_toml(tmp_path / "c.toml", {"address": "0x" + PRIVATE_KEY_DIGITS})
        messages = []
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, path)
        messages.append(str(info.value))
        assert str(info.value).startswith(f"{path}: key 'address': this looks like a PRIVATE KEY")
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, env={"HLMON_ADDRESS": PRIVATE_KEY_DIGITS})
        messages.append(str(info.value))
        assert str(info.value).startswith("$HLMON_ADDRESS: this looks like a PRIVATE KEY")
        # A key pasted under another setting is not echoed either.
        for data in ({"theme": PRIVATE_KEY_DIGITS}, {"watchlist": ["BTC", PRIVATE_KEY_DIGITS]}):
            try:
                settings_from_mapping(data, "c.toml")
            except ConfigError as exc:
                messages.append(str(exc))
        with pytest.raises(ConfigError) as info:
            _load(tmp_path, env={"HLMON_NETWORK": "0x" + PRIVATE_KEY_DIGITS})
        messages.append(str(info.value))
        assert PRIVATE_KEY_DIGITS not in "\n".join(messages).lower() + caplog.text.lower()

    @given(st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64), st.booleans())
    def test_any_64_hex_is_refused(self, digits: str, prefixed: bool) -> None:
        """Property: every 64-hex-digit value is refused and not echoed."""
        value = ("0x" if prefixed else "") + digits
        with pytest.raises(ConfigError) as info:
            validate_address(value, "--address")
        assert digits.lower() not in str(info.value).lower()

    @given(st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40))
    def test_any_40_hex_is_accepted(self, digits: str) -> None:
        """Property: every 0x + 40 hex digits is an address, lower-cased."""
        assert validate_address("0x" + digits, "x") == "0x" + digits.lower()


class TestWatchlist:
    def test_dedupe_keeps_order_and_case(self) -> None:
        """Coins keep their case (kPEPE, @107, PURR/USDC) and first-seen order."""
        settings = settings_from_mapping(
            {"watchlist": ["kPEPE", "BTC", "@107", "PURR/USDC", "BTC", " ETH "]}, "c.toml"
        )
        assert settings.watchlist == ("kPEPE", "BTC", "@107", "PURR/USDC", "ETH")

    def test_parse_coins(self) -> None:
        """--coins accepts commas and/or whitespace."""
        assert parse_coins(" BTC,ETH  kPEPE,,@107\t") == ["BTC", "ETH", "kPEPE", "@107"]
        assert parse_coins(" , ") == []


class TestExampleConfig:
    def test_repo_config_is_the_packaged_one(self) -> None:
        """config.toml at the repository root is exactly the one shipped in the package."""
        packaged = default_config_text()
        assert packaged.startswith("# hlmon configuration")
        assert (REPO_ROOT / "config.toml").read_text(encoding="utf-8") == packaged
        assert (REPO_ROOT / "hlmon" / "config" / "config.toml").read_text("utf-8") == packaged

    def test_example_equals_defaults(self, tmp_path: Path) -> None:
        """Both the repository's and the packaged config.toml load to exactly Settings()."""
        assert _load(tmp_path, REPO_ROOT / "config.toml") == Settings()
        data = tomllib.loads(default_config_text())
        assert settings_from_mapping(data, "config.toml") == Settings()

    def test_packaged_in_the_wheel_config(self) -> None:
        """pyproject ships config/config.toml as package data (else an installed hlmon has
        no default_config_text)."""
        with (REPO_ROOT / "pyproject.toml").open("rb") as fh:
            package_data = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["hlmon"]
        assert "config/config.toml" in package_data

    def test_example_spells_out_every_key(self) -> None:
        """Every setting appears in the example (address, api_url, labels, cache_dir as
        comments)."""
        text = default_config_text()
        data = tomllib.loads(text)
        given_keys = {k for k, v in data.items() if not isinstance(v, dict)}
        given_keys |= {
            f"{t}.{k}" for t, table in data.items() if isinstance(table, dict) for k in table
        }
        assert given_keys == _all_keys() - {
            "address",
            "api_url",
            "labels",
            "cache_dir",
            "alerts.command",
            "alerts.webhook",
        }
        assert "# address = " in text and "# api_url = " in text
        assert "# labels = " in text
        assert "# cache_dir = " in text


def test_import_has_no_side_effects() -> None:
    """Importing hlmon.config reads nothing and imports neither Textual nor platformdirs."""
    code = (
        "import sys, hlmon.config; print('textual' in sys.modules, 'platformdirs' in sys.modules)"
    )
    stdout = python_stdout(code)
    assert stdout.split() == ["False", "False"]
