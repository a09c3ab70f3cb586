"""Value types the store hands out: enums, frozen records and the injected clock type.

Everything here is immutable so the UI can keep a reference across frames without the store
changing it underneath.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

Clock = Callable[[], float]
"""Seconds since the epoch, like ``time.time``; tests pass a fake they advance by hand."""


class Source(StrEnum):
    """Where a value came from."""

    WS = "ws"
    REST = "rest"


Handler = Callable[[Any, Source, float], None]
"""One ``Store.apply`` handler: (message, source, local receive time)."""


class FeedState(StrEnum):
    """How much a feed can be trusted right now (see ``freshness.classify``)."""

    LIVE = "live"
    """Updated within its threshold over the websocket."""
    QUIET = "quiet"
    """An event feed with nothing new, on a socket proven alive: not a fault."""
    STALE = "stale"
    """Past its threshold and nothing proves the data is still current."""
    FALLBACK = "fallback"
    """Kept fresh by the REST poller."""
    LAGGING = "lagging"
    """Updated within its threshold, but the data was already late on arrival: the exchange's
    own timestamp says it is older than the lag threshold (beyond the usual delay, see
    ``state.lag``)."""
    MISSING = "missing"
    """Never received."""


class MarkSource(StrEnum):
    """Where a position's mark came from (``PositionView.mark_source``)."""

    MARK = "markPx"
    """The exchange's mark price (asset context ``markPx``, fresh)."""
    MID = "mid"
    """The mid (``allMids``, fresh): used while the asset context is not fresh."""
    ACCOUNT = "account"
    """positionValue / |size| from the last clearinghouse state: the exchange's mark as of
    that push, used when neither the context nor the mids are fresh."""


class ConnState(StrEnum):
    """The websocket's state as the feed engine reports it."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    DOWN = "down"
    REST = "rest"
    """The websocket is off by choice (``use_websocket = false``): REST serves every feed."""


class Stamp(msgspec.Struct, frozen=True, gc=False):
    """When and how a feed (or an entry) was last updated.

    A frozen msgspec struct rather than a frozen dataclass: one is built per applied frame,
    and a frozen dataclass's ``__init__`` (an ``object.__setattr__`` per field) cost ~0.5 µs
    of the ~5 µs a frame takes on the feed path; this costs ~0.05 µs. (``gc=False``: it holds
    only numbers, None and an enum, so it can be in no reference cycle.)
    """

    received_at: float
    """Local clock at ``apply``."""
    exchange_time: int | None
    """Exchange time in ms where the message carries one."""
    source: Source
    lag: float | None = None
    """Seconds the data was late on arrival, measured from ``exchange_time`` against the
    usual delay (``state.lag.LagMeter``); None where the feed's time says nothing about lag."""

    def shifted(self, delta: float) -> Stamp:
        """This stamp with ``received_at`` moved by ``delta`` s (the clock stepped back)."""
        return Stamp(self.received_at + delta, self.exchange_time, self.source, self.lag)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """Freshness of one feed key (``mids``, ``book:BTC``, ...)."""

    feed: str
    state: FeedState
    age_s: float | None
    """Seconds since the last update; None when never updated."""
    source: Source | None
    """Source of the last update; None when never updated."""
    lag_s: float | None = None
    """Seconds the last update was late on arrival (None: not measured); LAGGING when it is
    past the lag threshold."""


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """Snapshot of the websocket connection facts pushed by the feed engine."""

    state: ConnState
    attempt: int
    """Attempt number since the connection was lost (or since start-up, before the first
    connection): 1 for the first retry; 0 when not retrying."""
    next_retry_at: float | None
    """Clock time of the next attempt, when one is scheduled."""
    reconnects: int
    """Transitions into LIVE after the first one."""
    url: str
    last_alive: float | None
    """Clock time of the last frame/pong that proved the socket alive."""
    last_error: str | None
    connected_since: float | None
    """Clock time of the last transition into LIVE; None while not LIVE."""
    reason: str | None = None
    """Why the socket is not LIVE, in a few words (``cannot connect: host:port refused``,
    ``TLS error``, ``HTTP 503``...; see ``state.reasons``); None while LIVE. The full text is
    ``last_error`` and the log."""
    via: str | None = None
    """``daemon`` when connected through an ``hlmon daemon`` (the state is then the worse of
    the local link and the daemon's own link to the exchange), ``direct (daemon down)`` after
    falling back from one; None for a plain direct connection."""


@dataclass(frozen=True, slots=True)
class RestPlanView:
    """The REST poll plan as the screen shows it (pushed by the feeds' REST poller).

    ``cadences`` maps a feed key (``ctx:BTC``, ``account``, ``account:0x…`` for another
    account's row) to the planned seconds between the polls that serve it; a feed the plan does
    not serve has no entry. Read-only: do not mutate.
    """

    cadences: Mapping[str, float]
    weight_per_min: float
    """Planned weight per minute over every served poll."""
    budget: int
    """The weight budget per minute the plan was made for."""
    stretched: tuple[str, ...]
    """Labels of the polls planned less often than wanted (``ctx``, ``trades BTC``)."""
    not_served: tuple[str, ...]
    """Labels of the polls the budget cannot serve at all."""
    summary: str
    """One line naming every group's cadence (what the Log shows on each re-plan)."""

    @property
    def degraded(self) -> bool:
        """Some poll is stretched or not served."""
        return bool(self.stretched or self.not_served)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One line of the in-app log."""

    time: float
    level: str
    """``info``, ``warn`` or ``error``."""
    text: str


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Account-level numbers from the (default dex) clearinghouse state.

    Exchange strings are passed through unchanged; derived ones are decimal strings. The two
    totals that move with the marks (``account_value``, ``total_upnl``) are hlmon's, computed
    with the same marks as ``Store.positions()``, so the header never disagrees with the rows;
    the exchange's own figures (as of its last push) are kept next to them.
    """

    account_value: str
    """Equity at the rows' marks: the exchange's ``accountValue`` + (``total_upnl`` -
    ``exchange_upnl``). The exchange's figure is collateral + uPnL at its marks of the push;
    only the uPnL part moves with the marks, so this is what it will report at these marks."""
    total_margin_used: str
    total_ntl_pos: str
    withdrawable: str
    cross_maintenance_margin_used: str
    margin_ratio_pct: str | None
    """crossMaintenanceMarginUsed / crossMarginSummary.accountValue * 100, 2 dp; None if 0."""
    total_upnl: str
    """Sum of the rows' ``live_upnl`` (``Store.positions()``, same marks, same frame)."""
    source: Source
    received_at: float
    exchange_account_value: str = ""
    """``marginSummary.accountValue`` as the exchange pushed it."""
    exchange_upnl: str = ""
    """Sum of the positions' exchange ``unrealizedPnl`` (at the marks of the push)."""


@dataclass(frozen=True, slots=True)
class PositionView:
    """One position with hlmon's derived numbers next to the exchange's own."""

    coin: str
    side: str
    """``LONG`` or ``SHORT``."""
    szi: str
    """Signed size, exchange string."""
    size: str
    """Absolute size, exchange formatting."""
    entry_px: str | None
    mark_px: str | None
    """ctx markPx while ``ctx:COIN`` is fresh, else the mid while ``mids`` is fresh, else
    positionValue/|szi| (the clearinghouse's own mark, as fresh as ``account``)."""
    position_value: str
    unrealized_pnl: str
    """Exchange string, unchanged (as of the last clearinghouse push)."""
    return_on_equity: str
    """Exchange string, unchanged (a fraction, not a percent)."""
    liquidation_px: str | None
    liq_distance_pct: str | None
    """(mark - liq) / mark * 100 for a long, (liq - mark) / mark * 100 for a short, 2 dp:
    negative once the mark is past the liquidation price."""
    margin_used: str
    leverage_type: str
    leverage_value: int
    live_upnl: str
    """szi * (mark - entry) with the latest mark; the exchange's ``unrealizedPnl`` when the
    mark is the push's own (``MarkSource.ACCOUNT``)."""
    live_roe_pct: str | None
    """live_upnl / (|szi| * entry / leverage) * 100, 2 dp (the exchange's ROE definition)."""
    mark_feed: str | None = None
    """The feed ``mark_px`` came from (``ctx:COIN`` or ``mids``); None: the clearinghouse."""
    mark_source: MarkSource | None = None
    """What ``mark_px`` is: the exchange's mark price, a mid, or derived from the account."""
    dex: str = ""
    """The perp dex the position is on (``""``: the default dex)."""
    collateral: str | None = None
    """That dex's collateral token (the unit of uPnL and margin); None when unknown."""
