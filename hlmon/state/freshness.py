"""Feed freshness: which feeds are live, quiet, stale, kept by REST, or missing.

A feed key is ``kind`` or ``kind:COIN`` (``mids``, ``book:BTC``). Two kinds of feed behave
differently once their threshold has passed:

* periodic feeds (mids, book, ctx, account, orders) are pushed on a timer whether or not
  anything changed, so silence always means the data stopped: STALE. A periodic feed that stops
  while the socket is alive is exactly the failure hlmon exists to show.
* event feeds (bbo, trades, fills, fundings, ...) are pushed only when something happens, so
  silence on a socket proven alive is just a quiet market: QUIET; otherwise STALE. What they
  show also claims that nothing newer happened, and over the websocket only a socket proven
  alive vouches for that: on a socket that fell silent (half-open) or dropped, an event feed
  is STALE however recent its last event (its REST answers, within their threshold, are
  FALLBACK as for any feed).

A feed updated within its threshold whose data was late on arrival (its lag, measured from the
exchange's own timestamps, see ``state.lag``, past the lag threshold) is LAGGING: it moves,
but shows the past.
"""

from __future__ import annotations

from collections.abc import Iterable

from .types import FeedState, FeedStatus, Source, Stamp

PERIODIC_FEEDS: tuple[str, ...] = ("mids", "book", "ctx", "account", "orders", "candles")
EVENT_FEEDS: tuple[str, ...] = ("bbo", "trades", "fills", "fundings")
FEEDS: tuple[str, ...] = (
    "mids",
    "book",
    "bbo",
    "trades",
    "ctx",
    "account",
    "orders",
    "fills",
    "fundings",
)
"""Known feed kinds, in the order the status bar lists them."""

FUNDINGS_THRESHOLD = 3600.0 + 300.0
"""userFundings pushes once an hour (on the hour plus a few ms); allow five minutes of slack."""
CANDLE_THRESHOLD = 120.0
"""A candle pushes on trades; a 1m candle on a live coin changes well within two minutes."""
CANDLES_THRESHOLD = 900.0
"""``candles:COIN``: candle snapshots asked over REST on a timer (``feeds.candle_keeper``: every
5 min, the selected coin every 60 s); three missed rounds of the slow cadence is stale."""
FIXED_THRESHOLDS: dict[str, float] = {
    "fundings": FUNDINGS_THRESHOLD,
    "candle": CANDLE_THRESHOLD,
    "candles": CANDLES_THRESHOLD,
}
"""Feed kinds whose threshold is not configurable (``StaleThresholds`` has no field for them)."""
DEFAULT_EVENT_THRESHOLD = 60.0
"""Threshold for feed kinds hlmon does not know the cadence of; they are treated as event feeds."""

_PERIODIC = frozenset((*PERIODIC_FEEDS, "market"))
"""``market``: the market screen's contexts (``market_board``), pushed or polled on a timer."""
_ORDER = {kind: i for i, kind in enumerate(FEEDS)}


def feed_kind(feed_key: str) -> str:
    """``"book:BTC"`` -> ``"book"``; ``"mids"`` -> ``"mids"``.

    Only the first colon splits: HIP-3 coins contain one themselves (``book:xyz:AAPL``).
    """
    kind, _, _ = feed_key.partition(":")
    return kind


def is_periodic(kind: str) -> bool:
    """True for feeds pushed on a timer (silence = stopped)."""
    return kind in _PERIODIC


def sort_key(feed_key: str) -> tuple[int, str]:
    """Stable display order: known kinds in ``FEEDS`` order, then unknown ones; then by key."""
    return (_ORDER.get(feed_kind(feed_key), len(_ORDER)), feed_key)


def classify(
    feed_key: str,
    stamp: Stamp | None,
    now: float,
    threshold: float,
    *,
    socket_alive: bool,
    lag: float | None = None,
    lag_threshold: float = float("inf"),
) -> FeedStatus:
    """Freshness of one feed given its last update.

    Args:
        feed_key: the key, reported back in the status.
        stamp: the last update, or None if there never was one.
        now: current clock.
        threshold: seconds after which the feed is no longer fresh.
        socket_alive: the websocket is LIVE and proved alive recently.
        lag: seconds the last update was late on arrival (default: ``stamp.lag``).
        lag_threshold: a fresh feed whose ``lag`` is past this is LAGGING.
    """
    if stamp is None:
        return FeedStatus(feed_key, FeedState.MISSING, None, None)
    if lag is None:
        lag = stamp.lag
    # A clock that steps back (NTP) must not produce negative ages.
    age = max(0.0, now - stamp.received_at)
    lagging = lag is not None and lag > lag_threshold
    state = state_at(stamp, age, threshold, is_periodic(feed_kind(feed_key)), socket_alive, lagging)
    return FeedStatus(feed_key, state, age, stamp.source, lag)


def state_at(
    stamp: Stamp, age: float, threshold: float, periodic: bool, socket_alive: bool, lagging: bool
) -> FeedState:
    """The state ``classify`` gives a feed last updated by ``stamp``, ``age`` seconds ago
    (``lagging``: its lag is past the lag threshold)."""
    if age <= threshold:
        if not periodic and not socket_alive and stamp.source is Source.WS:
            # An event feed's rows also say "nothing newer happened", which only a socket
            # heard from lately can vouch for (a half-open one delivers nothing, silently).
            return FeedState.STALE
        if lagging:
            return FeedState.LAGGING
        return FeedState.FALLBACK if stamp.source is Source.REST else FeedState.LIVE
    if not periodic and socket_alive:
        return FeedState.QUIET
    return FeedState.STALE


def stale_age(status: FeedStatus, silent: float | None) -> float | None:
    """How old a feed's data counts as: its age, but for an event feed gone STALE with the
    socket no more than the exchange's silence (``silent``: ``FeedHealth.silent_for``; nothing
    was missed before it went quiet). The hourly funding feed is then two seconds stale in a
    two-second reconnect, not three quarters of an hour."""
    age = status.age_s
    if (
        age is None
        or silent is None
        or status.state is not FeedState.STALE
        or is_periodic(feed_kind(status.feed))
    ):
        return age
    return min(age, silent)


def stale_for(status: FeedStatus, threshold: float, silent: float | None) -> float | None:
    """Seconds a STALE feed has been stale (None: it is not, or never arrived).

    A periodic feed turned stale at its threshold. An event feed turned stale when the socket
    stopped vouching for it (``silent``: ``FeedHealth.silent_for``): one stamped over the
    websocket then, however old its last event; one stamped over REST at its threshold or
    then, whichever came later. Measured by its age instead, a fill an hour old would make an
    hour-stale feed of a one-second reconnect."""
    if status.state is not FeedState.STALE or status.age_s is None:
        return None
    past = status.age_s - threshold
    if is_periodic(feed_kind(status.feed)) or silent is None:
        return past
    return silent if status.source is Source.WS else min(past, silent)


def next_state_change(
    feeds: Iterable[tuple[str, Stamp | None, float]], now: float, alive_until: float | None
) -> float | None:
    """The earliest time after ``now`` at which one of ``feeds`` ((key, stamp, threshold))
    changes state by time alone: a fresh feed passes its threshold, or an event feed (quiet,
    or fresh from the websocket) turns stale when the socket stops counting as alive
    (``alive_until``); None if none will.
    """
    soonest: float | None = None
    # An event feed whose state holds only while the socket counts as alive: quiet, or fresh
    # from the websocket.
    on_the_socket = False
    for key, stamp, threshold in feeds:
        if stamp is None:
            continue  # MISSING stays MISSING until data arrives
        at = stamp.received_at + threshold
        if at > now:
            soonest = at if soonest is None or at < soonest else soonest
            if stamp.source is Source.WS and not is_periodic(feed_kind(key)):
                on_the_socket = True
        elif not is_periodic(feed_kind(key)):
            on_the_socket = True
    if on_the_socket and alive_until is not None and alive_until > now:
        soonest = alive_until if soonest is None else min(soonest, alive_until)
    return soonest
