"""hlmon.feeds: all network I/O (asyncio only, never Textual).

- ``engine.FeedEngine``: ties everything below to a Store (the runtime builds and runs it).
- ``supervisor.Supervisor``: runs the engine's long-lived tasks, restarts any that crashes.
- ``ws_feed.WsFeed``: one websocket, heartbeat, full-jitter reconnects, resubscribe-all.
- ``info_client.InfoClient``: budgeted, retrying ``POST /info`` client and its typed errors.
- ``fallback.FallbackPoller``: REST polling for feeds the websocket is not keeping fresh.
- ``accounts_poller.AccountsPoller``: REST upkeep of the other watched accounts' rows.
- ``keyed_poller.KeyedPoller``: the per-key poll bookkeeping both pollers share.
- ``reconcile.Reconciler``: account/orders/fills over REST after every reconnect.
- ``backoff`` / ``weight_budget``: the pure pacing rules (unit-tested without sockets).
"""

from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.info_client import (
    BadResponse,
    BudgetExhausted,
    InfoClient,
    InfoError,
    InfoTimeout,
    InfoUnavailable,
    RateLimited,
    ServerError,
)

__all__ = [
    "BadResponse",
    "BudgetExhausted",
    "FeedEngine",
    "InfoClient",
    "InfoError",
    "InfoTimeout",
    "InfoUnavailable",
    "RateLimited",
    "ServerError",
]
