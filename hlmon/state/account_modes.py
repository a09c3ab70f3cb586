"""Account-abstraction modes (2026 protocol page §4.3): which figures mean what for an account.

The exchange reports a mode per address (REST ``userAbstraction``, or
``webData3.userState.abstraction``) in five spellings; hlmon knows three modes:

- ``standard`` (``default``, ``disabled``, and the discontinued ``dexAbstraction``): each perp
  dex has its own pool in that dex's collateral token; spot is separate.
- ``unifiedAccount``: one balance per token, held in spot, backs every cross position.
- ``portfolioMargin``: one portfolio over the eligible assets, with borrowing.

A value hlmon does not know is *unknown* (None), never silently standard. Pure: no I/O.
"""

from __future__ import annotations

from enum import StrEnum

from hlmon.protocol.messages import WebData3Msg


class AccountMode(StrEnum):
    STANDARD = "standard"
    UNIFIED = "unifiedAccount"
    PORTFOLIO_MARGIN = "portfolioMargin"

    @property
    def label(self) -> str:
        """Short text for the header."""
        return _LABELS[self]


_LABELS = {
    AccountMode.STANDARD: "standard",
    AccountMode.UNIFIED: "unified",
    AccountMode.PORTFOLIO_MARGIN: "portfolio margin",
}

WIRE_MODES: dict[str, AccountMode] = {
    "default": AccountMode.STANDARD,
    "disabled": AccountMode.STANDARD,
    "dexAbstraction": AccountMode.STANDARD,
    "unifiedAccount": AccountMode.UNIFIED,
    "portfolioMargin": AccountMode.PORTFOLIO_MARGIN,
}
"""Every spelling the exchange uses, to the mode it means."""


def normalise_mode(raw: object) -> AccountMode | None:
    """The mode a ``userAbstraction`` answer or an ``abstraction`` field means; None when the
    value is missing or not one hlmon knows (log it: the exchange added a mode)."""
    if isinstance(raw, AccountMode):
        return raw
    return WIRE_MODES.get(raw) if isinstance(raw, str) else None


def mode_of_web_data3(msg: WebData3Msg) -> AccountMode | None:
    """The mode a ``webData3`` push states (modes can change: re-read it on every push)."""
    return normalise_mode(msg.abstraction)
