"""The [alerts] table: every rule kind parses, and every error names the file and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hlmon.alerts import (
    AlertSettings,
    AnyFill,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
)
from hlmon.config import ConfigError, Settings, load_settings, settings_from_mapping

FULL = """\
[alerts]
bell = false
desktop_osc = [777]
cooldown_s = 0
hysteresis_pct = 0.5
command = ["notify-send", "{title}", "{body}"]
webhook = "https://hooks.example.com/T000/secret"
timeout_s = 2.5

[[alerts.rules]]
kind = "price"
coin = "BTC"
above = 110000

[[alerts.rules]]
kind = "price"
coin = "kPEPE"
below = 0.0125

[[alerts.rules]]
kind = "liq_distance"
below_pct = 10

[[alerts.rules]]
kind = "liq_distance"
below_pct = 7.5
coin = "ETH"

[[alerts.rules]]
kind = "margin_ratio"
above_pct = 80

[[alerts.rules]]
kind = "upnl"
below = -500

[[alerts.rules]]
kind = "upnl"
above = 1000.5
below = -250

[[alerts.rules]]
kind = "fill"

[[alerts.rules]]
kind = "deadman"
"""


def test_every_kind_from_a_real_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL, encoding="utf-8")
    settings = load_settings(path, env={}, cwd=tmp_path, user_dir=tmp_path / "user")
    assert settings.alerts == AlertSettings(
        bell=False,
        desktop=True,
        desktop_osc=(777,),
        cooldown_s=0.0,
        hysteresis_pct=0.5,
        command=("notify-send", "{title}", "{body}"),
        webhook="https://hooks.example.com/T000/secret",
        timeout_s=2.5,
        rules=(
            PriceCross("BTC", "above", Decimal(110000)),
            PriceCross("kPEPE", "below", Decimal("0.0125")),
            LiqDistance(Decimal(10)),
            LiqDistance(Decimal("7.5"), coin="ETH"),
            MarginRatio(Decimal(80)),
            UpnlBeyond(below=Decimal(-500)),
            UpnlBeyond(above=Decimal("1000.5"), below=Decimal(-250)),
            AnyFill(),
            DeadMan(30.0),
        ),
    )


def test_defaults_keep_the_deadman_switch_and_the_liquidation_alert() -> None:
    assert Settings().alerts.rules == (DeadMan(30.0), Liquidated())
    assert settings_from_mapping({"alerts": {"bell": False}}, "c.toml").alerts.rules == (
        DeadMan(30.0),
        Liquidated(),
    )
    # Rules given: they replace the default list (the example config says so).
    given = settings_from_mapping({"alerts": {"rules": [{"kind": "fill"}]}}, "c.toml")
    assert given.alerts.rules == (AnyFill(),)
    assert settings_from_mapping({"alerts": {"rules": []}}, "c.toml").alerts.rules == ()


def _rules(*rules: Any) -> dict[str, Any]:
    return {"alerts": {"rules": list(rules)}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _rules({"kind": "fill"}, {"kind": "liq_distance", "below_pct": "10"}),
            "c.toml: key 'alerts.rules[2].below_pct': expected a percent > 0 and <= 100, "
            'got "10"',
        ),
        (
            _rules({"kind": "liquidations"}),
            'c.toml: key \'alerts.rules[1].kind\': expected one of "price", "liq_distance", '
            '"margin_ratio", "upnl", "fill", "liquidation", "deadman", "data_lag", '
            'got "liquidations"',
        ),
        (
            _rules({"coin": "BTC", "above": 1}),
            'c.toml: key \'alerts.rules[1].kind\': missing (one of "price", "liq_distance", '
            '"margin_ratio", "upnl", "fill", "liquidation", "deadman", "data_lag")',
        ),
        (
            _rules({"kind": "price", "coin": "BTC", "abve": 1}),
            "c.toml: key 'alerts.rules[1].abve': unknown key (known for kind \"price\": kind, "
            "coin, above, below, enabled)",
        ),
        (
            _rules({"kind": "price", "coin": "BTC", "above": 1, "below": 2}),
            "c.toml: key 'alerts.rules[1]': a price rule needs exactly one of above or below",
        ),
        (
            _rules({"kind": "price", "above": 1}),
            "c.toml: key 'alerts.rules[1].coin': missing (the coin to watch)",
        ),
        (
            _rules({"kind": "price", "coin": "BTC ETH", "above": 1}),
            "c.toml: key 'alerts.rules[1].coin': expected a coin name (a string without "
            'spaces), got "BTC ETH"',
        ),
        (
            _rules({"kind": "price", "coin": "BTC", "above": -1}),
            "c.toml: key 'alerts.rules[1].above': expected a price > 0, got -1",
        ),
        (
            _rules({"kind": "upnl"}),
            "c.toml: key 'alerts.rules[1]': an upnl rule needs above, below or both",
        ),
        (
            _rules({"kind": "upnl", "above": -10, "below": 0}),
            "c.toml: key 'alerts.rules[1]': below (0) must be less than above (-10)",
        ),
        (
            _rules({"kind": "margin_ratio"}),
            "c.toml: key 'alerts.rules[1].above_pct': missing (alert when the margin ratio is "
            "above this percent)",
        ),
        (
            _rules({"kind": "deadman", "stale_for_s": 0}),
            "c.toml: key 'alerts.rules[1].stale_for_s': expected a number of seconds > 0, got 0",
        ),
        (
            _rules({"kind": "fill", "coin": "BTC"}),
            "c.toml: key 'alerts.rules[1].coin': unknown key "
            '(known for kind "fill": kind, enabled)',
        ),
        (
            _rules("fill"),
            "c.toml: key 'alerts.rules[1]': expected a table like {kind = \"price\", "
            'coin = "BTC", above = 110000}, got "fill"',
        ),
        (
            {"alerts": {"rules": {"kind": "fill"}}},
            "c.toml: key 'alerts.rules': expected an array of tables ([[alerts.rules]]), "
            "got a table",
        ),
        (
            {"alerts": {"sound": True}},
            "c.toml: key 'alerts.sound': unknown key (known in [alerts]: bell, desktop, "
            "desktop_osc, cooldown_s, hysteresis_pct, command, webhook, timeout_s, rules)",
        ),
        ({"alerts": 1}, "c.toml: key 'alerts': expected a table [alerts], got 1"),
    ],
)
def test_errors_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(data, "c.toml")
    assert str(info.value) == message


def test_webhook_url_is_never_echoed() -> None:
    """Webhook URLs carry tokens: a refused one is not repeated in the message."""
    with pytest.raises(ConfigError) as info:
        settings_from_mapping({"alerts": {"webhook": "http://hooks.example.com/T0/s3cr3t"}}, "c")
    assert str(info.value) == (
        "c: key 'alerts.webhook': expected an https:// URL (http:// only for 127.0.0.1, "
        "localhost or ::1) (the value is not shown)"
    )


def test_unknown_top_level_key_lists_alerts() -> None:
    with pytest.raises(ConfigError, match=r"\[alerts\]"):
        settings_from_mapping({"alert": {}}, "c.toml")


def test_a_private_key_as_coin_is_refused_and_not_echoed() -> None:
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(_rules({"kind": "price", "coin": key, "above": 1}), "c.toml")
    message = str(info.value)
    assert message.startswith("c.toml: key 'alerts.rules[1].coin': expected a coin name, not a")
    assert key not in message
