"""hlmon.alerts: alert rules, the engine that fires them once per crossing, and delivery.

Pure core, no Textual: ``rules`` (what to watch), ``engine`` (:class:`AlertEngine`:
arming, hysteresis, cooldown), ``settings`` (the ``[alerts]`` config table) and ``delivery``
(terminal bell + OSC 9/777 desktop notifications, tmux passthrough, a command, a webhook).
``delivery`` is not imported here: :mod:`hlmon.config` imports this package and must stay light.
"""

from hlmon.alerts.engine import Alert, AlertEngine, RuleState, RuleStatus
from hlmon.alerts.rules import (
    RULE_KINDS,
    AlertRule,
    AnyFill,
    Check,
    DataLag,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
    parse_price_rule,
)
from hlmon.alerts.settings import AlertConfigError, AlertSettings, parse_alerts

__all__ = [
    "RULE_KINDS",
    "Alert",
    "AlertConfigError",
    "AlertEngine",
    "AlertRule",
    "AlertSettings",
    "AnyFill",
    "Check",
    "DataLag",
    "DeadMan",
    "LiqDistance",
    "Liquidated",
    "MarginRatio",
    "PriceCross",
    "RuleState",
    "RuleStatus",
    "UpnlBeyond",
    "parse_alerts",
    "parse_price_rule",
]
