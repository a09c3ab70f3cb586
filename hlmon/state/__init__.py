"""hlmon.state: the store of truth (market + account state, freshness, derived numbers) and
the feeds' health (connection, liveness, counters, event log).

Pure: no I/O, no asyncio, no Textual; time comes from an injected clock.
"""

from .accounts import AccountBook, AccountRow, AccountTotals
from .decimals import fmt_dec, fmt_price, pct, to_dec, try_dec
from .freshness import EVENT_FEEDS, FEEDS, PERIODIC_FEEDS, feed_kind
from .health import FeedHealth
from .store import Store
from .types import (
    AccountSummary,
    Clock,
    ConnectionInfo,
    ConnState,
    FeedState,
    FeedStatus,
    LogEvent,
    MarkSource,
    PositionView,
    RestPlanView,
    Source,
    Stamp,
)

__all__ = [
    "EVENT_FEEDS",
    "FEEDS",
    "PERIODIC_FEEDS",
    "AccountBook",
    "AccountRow",
    "AccountSummary",
    "AccountTotals",
    "Clock",
    "ConnState",
    "ConnectionInfo",
    "FeedHealth",
    "FeedState",
    "FeedStatus",
    "LogEvent",
    "MarkSource",
    "PositionView",
    "RestPlanView",
    "Source",
    "Stamp",
    "Store",
    "feed_kind",
    "fmt_dec",
    "fmt_price",
    "pct",
    "to_dec",
    "try_dec",
]
