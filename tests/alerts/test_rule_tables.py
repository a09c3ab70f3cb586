"""Alert rules back to ``[[alerts.rules]]`` tables (``hlmon.alerts.rule_tables``): every kind
round-trips through TOML text and the config parser to an equal rule."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from hlmon.alerts.rule_tables import rule_kind, rule_table
from hlmon.alerts.rules import (
    RULE_KINDS,
    AlertRule,
    AnyFill,
    DataLag,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
)
from hlmon.alerts.settings import parse_alerts
from hlmon.config.toml_text import toml_table

SAMPLES: dict[str, list[AlertRule]] = {
    "price": [
        PriceCross("BTC", "above", Decimal("110000")),
        PriceCross("xyz:TSLA", "below", Decimal("0.000123")),
        PriceCross("PURR/USDC", "above", Decimal("12.5")),
        PriceCross("ETH", "below", Decimal("3000"), enabled=False),
    ],
    "liq_distance": [LiqDistance(Decimal("10")), LiqDistance(Decimal("2.5"), "ETH")],
    "margin_ratio": [MarginRatio(Decimal("80"))],
    "upnl": [
        UpnlBeyond(Decimal("1000"), None),
        UpnlBeyond(None, Decimal("-500.25")),
        UpnlBeyond(Decimal("10"), Decimal("-10")),
    ],
    "fill": [AnyFill(), AnyFill(enabled=False)],
    "liquidation": [Liquidated()],
    "deadman": [DeadMan(30.0), DeadMan(12.5), DeadMan(30.0, enabled=False)],
    "data_lag": [DataLag(10.0), DataLag(2.5, "book:BTC"), DataLag(5.0, "mids", enabled=False)],
}
"""At least one rule of every kind, with every optional field both given and left out."""


def test_every_kind_has_samples() -> None:
    """A kind added to RULE_KINDS fails here until it has samples (and so a round-trip)."""
    assert set(SAMPLES) == set(RULE_KINDS)
    for kind, rules in SAMPLES.items():
        assert rules and all(type(r) is RULE_KINDS[kind] for r in rules)


@pytest.mark.parametrize(
    "rule",
    [r for rules in SAMPLES.values() for r in rules],
    ids=lambda r: r.rule_id + ("" if r.enabled else " off"),
)
def test_round_trip_through_toml_and_the_parser(rule: AlertRule) -> None:
    table = rule_table(rule)
    assert table["kind"] == rule_kind(rule)
    text = toml_table("alerts", {"rules": [table]})
    parsed = parse_alerts(tomllib.loads(text)["alerts"], "saved.toml")
    assert parsed.rules == (rule,)
    assert parsed.rules[0].rule_id == rule.rule_id


def test_enabled_is_written_only_when_off() -> None:
    assert rule_table(DeadMan(30.0)) == {"kind": "deadman", "stale_for_s": 30.0}
    assert rule_table(DataLag(5.0, enabled=False)) == {
        "kind": "data_lag",
        "lag_s": 5.0,
        "enabled": False,
    }


def test_an_unknown_rule_class_is_refused() -> None:
    class Weather:
        rule_id = "weather"

    with pytest.raises(TypeError, match="not a known alert rule kind"):
        rule_table(Weather())  # type: ignore[arg-type]


def test_a_key_like_coin_is_never_serialised() -> None:
    key = "0x" + "ab" * 32
    with pytest.raises(ValueError, match="looks like a private key") as info:
        rule_table(PriceCross(key, "above", Decimal(1)))
    assert key not in str(info.value)
