"""Order statuses as an open set (2026 protocol page §6.3).

The exchange documents about 30 statuses and adds more over time, so statuses are classified,
never enumerated: ``open`` and ``triggered`` (the trigger fired and the order now rests on the
book) keep an order on the list; ``filled`` and every cancel or reject remove it; anything else
is ``unknown``: keep the order, flag it, log it once, and let the next ``openOrders`` snapshot
(the authority) or an ``orderStatus`` query settle it. Pure: no I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum


class OrderClass(StrEnum):
    LIVE = "live"
    """``open``, ``triggered``: the order is working; keep or show it."""
    FILLED = "filled"
    """Remove it; the fills arrive separately."""
    ENDED = "ended"
    """Cancelled or rejected: remove it and show the reason."""
    UNKNOWN = "unknown"
    """A status hlmon does not know: keep it, flag it, settle it with the next snapshot."""


LIVE_STATUSES: frozenset[str] = frozenset(("open", "triggered"))
ENDED_STATUSES: frozenset[str] = frozenset(("canceled", "scheduledCancel", "internalCancel"))
"""Ended statuses that do not end in ``Canceled``/``Rejected`` (those are ended by suffix)."""
_ENDED_SUFFIXES = ("canceled", "rejected")  # compared case-folded: also "rejected" itself


def classify_status(status: str) -> OrderClass:
    """The class of an ``orderUpdates`` / ``orderStatus`` / ``historicalOrders`` status."""
    if status in LIVE_STATUSES:
        return OrderClass.LIVE
    if status == "filled":
        return OrderClass.FILLED
    if status in ENDED_STATUSES or status.casefold().endswith(_ENDED_SUFFIXES):
        return OrderClass.ENDED
    return OrderClass.UNKNOWN


def keeps_order(status: str) -> bool:
    """True when the order stays on the open list (live, or unknown until the snapshot says)."""
    return classify_status(status) in (OrderClass.LIVE, OrderClass.UNKNOWN)


def is_triggered(status: str) -> bool:
    """The trigger of a stop / take-profit order fired: it is live and now rests on the book."""
    return status == "triggered"


_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def status_text(status: str) -> str:
    """A status in words, for the log and the reason column: ``marginCanceled`` ->
    ``margin canceled``, ``badAloPxRejected`` -> ``bad alo px rejected``."""
    return _WORD_START.sub(" ", status).lower()
