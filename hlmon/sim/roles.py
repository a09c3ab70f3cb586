"""Who is who in the simulator: the fixed addresses, their ``userRole`` answers and the demo
account's modes (``userAbstraction``, ``webData3.userState.abstraction``).

Client tests import these constants (``from hlmon.sim import DEMO_AGENT_ADDRESS``...).
"""

from __future__ import annotations

from typing import Any

DEMO_ADDRESS = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
"""The demo account (the only address with positions, orders and history)."""
DEMO_AGENT_ADDRESS = "0xa9e7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e01"
"""An API wallet (agent) of the demo account: ``{"role":"agent","data":{"user":DEMO}}``, an
empty account of its own, as on the exchange."""
DEMO_VAULT_ADDRESS = "0x7a0173d3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e2"
"""A vault: ``{"role":"vault"}``, empty."""
DEMO_SUB_ACCOUNT_ADDRESS = "0x5ab0acc7b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e3"
"""A sub-account of the demo account: ``{"role":"subAccount","data":{"master":DEMO}}``, empty."""
LIQUIDATOR_ADDRESS = "0x11c0a7e5b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e4"
"""The liquidator named by the demo account's ``userEvents`` liquidation."""

ACCOUNT_MODES = ("standard", "unified", "portfolio")
"""``SimServer(demo_account=...)`` / ``hlmon sim --demo-account``."""
ABSTRACTION = {"standard": "default", "unified": "unifiedAccount", "portfolio": "portfolioMargin"}
"""REST ``userAbstraction`` answer of the demo account per mode."""
WEBDATA3_ABSTRACTION = {
    "standard": "disabled",
    "unified": "unifiedAccount",
    "portfolio": "portfolioMargin",
}
"""``webData3.userState.abstraction`` per mode. A standard account says ``disabled`` here and
``default`` over REST: the exchange uses both spellings and a client must treat them alike."""
OTHER_ABSTRACTION = "default"
"""``userAbstraction`` of every address but the demo account."""


def check_mode(mode: str) -> str:
    """``mode`` if it is one of ``ACCOUNT_MODES``, else ValueError."""
    if mode not in ACCOUNT_MODES:
        raise ValueError(f"unknown demo account mode {mode!r}; choose from {list(ACCOUNT_MODES)}")
    return mode


def user_role(address: str, demo: str) -> dict[str, Any]:
    """The ``userRole`` answer for ``address`` (lower-case), given the demo account ``demo``."""
    if address == demo:
        return {"role": "user"}
    if address == DEMO_AGENT_ADDRESS:
        return {"role": "agent", "data": {"user": demo}}
    if address == DEMO_VAULT_ADDRESS:
        return {"role": "vault"}
    if address == DEMO_SUB_ACCOUNT_ADDRESS:
        return {"role": "subAccount", "data": {"master": demo}}
    return {"role": "missing"}
