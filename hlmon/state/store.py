"""The Store: hlmon's single source of truth for market data, account data and freshness.

Feeds write (``apply`` and the ``set_*`` calls); the UI reads on a timer and asks
``take_changes()`` what to redraw. The store is pure: no I/O, no asyncio, no Textual, and time
comes from the injected clock, so tests drive it deterministically.

``apply`` is the hot path (thousands of frames a second): it stores the decoded struct as is,
stamps the feed and records a change key; derived numbers are computed on read and cached. The
per-channel handlers live in ``market_ingest`` and ``account_ingest``.

Facts about the feeds themselves (connection, liveness, counters, REST usage, the event log)
are in ``store.health`` (``FeedHealth``), which the feeds push to directly; the store reads
socket liveness from it for freshness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hlmon.protocol.messages import (
    ActiveAssetData,
    Bbo,
    Candle,
    ErrorMsg,
    Fill,
    L2Book,
    Message,
    PerpAssetCtx,
    PongMsg,
    PostMsg,
    SpotAssetCtx,
    Trade,
    UnknownMsg,
)
from hlmon.round_memo import RoundMemo
from hlmon.state.settings import StaleThresholds

from .account import AccountState
from .account_ingest import AccountIngest
from .accounts import AccountBook, AccountRow, AccountTotals
from .catalog import MarketCatalog
from .catalog_state import CatalogState
from .changes import ChangeKeys, Listener
from .clock import RebasingClock
from .dex_reads import DexReads
from .dexes import collateral_lookup
from .freshness import (
    DEFAULT_EVENT_THRESHOLD,
    FIXED_THRESHOLDS,
    classify,
    feed_kind,
    is_periodic,
    next_state_change,
    sort_key,
    state_at,
)
from .health import ALIVE_WINDOW, FeedHealth
from .lag import LAG_INHERIT_FEEDS, LagMeter
from .market import COINS_CAP, MarketState, dex_of_coin
from .market_board import MarketBoard
from .market_ingest import MarketIngest
from .moment import OneMoment
from .positions import PositionViews, ViewInputs, account_summary
from .types import (
    AccountSummary,
    Clock,
    FeedState,
    FeedStatus,
    Handler,
    PositionView,
    Source,
    Stamp,
)

_DEFAULT_STALE = StaleThresholds()
REST_STALE_FACTOR = 2.5
"""A REST-fed feed turns stale this many planned poll intervals after its last answer."""
ROW_KEY_PREFIX = "account:"
"""``account:<address>``: the feed key of another watched account's summary row. (``account:``
followed by a dex name is the selected account's state on that dex: see ``row_address``.)"""


def row_address(feed_key: str) -> str | None:
    """The address of a summary-row feed key (``account:0x…``, 40 hex digits), else None:
    ``account:xyz`` is the selected account's state on dex ``xyz``, not a row."""
    if not feed_key.startswith(ROW_KEY_PREFIX):
        return None
    rest = feed_key[len(ROW_KEY_PREFIX) :]
    return rest if len(rest) == 42 and rest.startswith("0x") else None


BASE_THRESHOLDS_CAP = 1024
"""Feed keys whose configured threshold is remembered (``Store._base_thresholds``); past it
the memory starts again."""
_THRESHOLD_FIELDS = frozenset(("mids", "bbo", "trades", "ctx", "account", "orders", "fills"))
_FRESH = frozenset((FeedState.LIVE, FeedState.FALLBACK, FeedState.LAGGING, FeedState.QUIET))


class Store(MarketIngest, AccountIngest, DexReads, OneMoment, ChangeKeys):
    """Market + account state and freshness per feed; ``health`` holds the feeds' own facts."""

    def __init__(
        self,
        clock: Clock,
        stale: StaleThresholds = _DEFAULT_STALE,
        *,
        alive_window: float = ALIVE_WINDOW,
        trades_cap: int = 200,
        fills_cap: int = 2000,
        log_cap: int = 500,
        candles_cap: int = 500,
        fundings_cap: int = 1000,
        ledger_cap: int = 500,
        coins_cap: int = COINS_CAP,
        lag_clock: Clock | None = None,
    ) -> None:
        """
        Args:
            clock: seconds since the epoch (``time.time`` in the app, a fake in tests).
            stale: per-feed thresholds.
            alive_window: a socket counts as alive if a frame/pong arrived this recently.
            trades_cap: trades kept per coin.
            fills_cap: fills kept (deduped by ``account.fill_key``).
            log_cap: log lines kept.
            candles_cap: candles kept per (coin, interval).
            fundings_cap: funding payments kept.
            ledger_cap: non-funding ledger updates kept.
            coins_cap: coins kept per market table once their feeds stop (``market``).
            lag_clock: the clock delays are measured on (``state.lag``); the app passes
                ``time.monotonic``, which a step of the wall clock (NTP) does not move, so a
                step forward is not taken for lag. Default: ``clock``.
        """
        # One clock for the store and its health, so one step back rebases every held time.
        rebasing = RebasingClock(clock)
        rebasing.on_step_back(self._shift_times)
        self._clock = rebasing.now
        self.health = FeedHealth(rebasing, alive_window=alive_window, log_cap=log_cap)
        """Connection, liveness, counters, REST usage and the event log, pushed by the feeds."""
        self.catalog_state = CatalogState(self._clock, lambda: self._changes.add("catalog"))
        """The market catalog in force (pushed by the feeds) and where it came from."""
        self._health_keys = self.health
        self._key_sources = (self.health.take_changes, self.catalog_state.take_changes)
        self._stale = stale
        self._book_fast = False

        self._market = MarketState(
            trades_cap=trades_cap, candles_cap=candles_cap,
            coins_cap=coins_cap, protected=self._subscribed_coins, on_evict=self._forget_stamp,
        )  # fmt: skip
        self._account = AccountState(
            fills_cap=fills_cap, fundings_cap=fundings_cap, ledger_cap=ledger_cap
        )
        self.market_board = MarketBoard(lambda: self.catalog_state.catalog,
                                        lambda: self.health.live_epoch, self._clock)  # fmt: skip
        """The whole market for the market screen (fed only while the screen is shown)."""
        self._init_extras()
        self._web_data: dict[str, Any] | None = None
        self._user: str | None = None
        self._accounts = AccountBook()
        self._userless_closed: set[str] = set()
        """User-less channels not accepted yet after a switch of user (see ``set_user``)."""
        self._watchlist: tuple[str, ...] | None = None
        """None until the feeds first set it: that first call is always a change."""
        self.ignored_user_msgs = 0
        """Account frames dropped because they were for another address (or none is set)."""

        self._stamps: dict[str, Stamp] = {}
        self._lag = LagMeter()
        self._lag_clock = lag_clock
        self._socket_lag: float | None = None
        self._socket_lag_at: float | None = None
        self._trades_epoch: dict[str, int] = {}
        self._expected: set[str] = set()
        self._expected_order: list[str] | None = None
        """``_expected`` in display order, until it changes (``feed_statuses`` runs each frame)."""
        self._dex_rounds = RoundMemo()
        self._base_thresholds: dict[str, float] = {}
        """feed key -> its configured threshold, until ``book_fast`` changes (bounded below)."""
        self._changes: set[str] = set()
        self._listener: Listener | None = None
        self._urgent: frozenset[str] = frozenset()
        self._quiet: tuple[str, ...] = ()
        self._positions_cache: list[PositionView] | None = None
        self._positions_version = 0
        self._shape_version = 0
        self._positions_fresh: frozenset[str] = frozenset()
        """The mark feeds (``mids``, ``ctx:COIN``) that were fresh when the cache was built."""
        self._positions_catalog: MarketCatalog | None = None
        """The catalog the cached rows took their collateral tokens from."""
        self._views = PositionViews()  # an unchanged position's view is reused
        self._summary_cache: AccountSummary | None = None
        self._summary_rows: list[PositionView] | None = None
        """The ``positions()`` rows the cached summary was built from."""

        # type -> handler: one dict lookup per frame instead of an isinstance chain
        self._handlers: dict[type, Handler] = {
            **self._market_handlers(),
            **self._account_handlers(),
            PongMsg: self._on_ignored,
            PostMsg: self._on_ignored,
            ErrorMsg: self._on_error,
            UnknownMsg: self._on_unknown,
        }

    # ================================================================== writes

    def apply(self, msg: Message, source: Source = Source.WS) -> None:
        """Apply one decoded message. Never raises for a well-typed message."""
        handler = self._handlers.get(type(msg))
        if handler is None:  # a Message subclass we do not know: count it like an unknown channel
            self.health.unknown_frames += 1
            return
        handler(msg, source, self._clock())

    def apply_fills(self, fills: Iterable[Fill], source: Source) -> int:
        """Merge fills, deduped by ``account.fill_key``; returns how many were new.

        Used for ``userFills`` (snapshot or not), ``user`` fill events and REST reconciliation
        alike, so the same fill arriving three ways is kept once.
        """
        return self._add_fills(fills, source, self._clock())

    def set_catalog(self, catalog: MarketCatalog | None) -> None:
        """Put ``catalog`` in force as if fresh from the exchange (tests and tools; the feeds
        use ``catalog_state`` directly, saying where it came from). None: no catalog."""
        if catalog is None:
            self.catalog_state.clear()
        elif catalog is not self.catalog_state.catalog:
            self.catalog_state.use(catalog, from_cache=False)

    def set_book_fast(self, fast: bool) -> None:
        """Book freshness uses ``stale.book_fast`` while the fast (0.5 s) book is subscribed."""
        if fast != self._book_fast:
            self._book_fast = fast
            self._base_thresholds.clear()
            self._changes.add("status")

    def set_watch(self, coins: Iterable[str]) -> None:
        """The watchlist, in display order. Change key ``watchlist`` when it changed (the feeds
        resolve names against the catalog, so the screen follows what is really watched)."""
        ordered = tuple(dict.fromkeys(coins))
        if ordered != self._watchlist:
            self._watchlist = ordered
            self._changes.add("watchlist")

    def _shift_times(self, delta: float) -> None:
        """The clock stepped back by ``-delta`` s: move every held time with it (see ``clock``)."""
        self._stamps = {key: st.shifted(delta) for key, st in self._stamps.items()}
        self._accounts.shift_times(delta)
        self._facts.shift_times(delta)
        if self._lag_clock is None:
            self._lag.shift(delta)  # delays were measured on the clock that stepped
        if self._socket_lag_at is not None:
            self._socket_lag_at += delta
        self._summary_cache = None

    def forget_ctx(self, coin: str) -> None:
        """Drop ``coin``'s asset context (unsubscribed): its markPx would only get older."""
        self._market.ctxs.pop(coin, None)
        self._market.spot_ctxs.pop(coin, None)
        if self._stamps.pop("ctx:" + coin, None) is not None:
            self._changes.add("ctx:" + coin)
        self._positions_cache = None

    def expect(self, feed_key: str) -> None:
        """The engine subscribed to this feed: list it in ``feed_statuses``."""
        # A new subscription's first trades frame replays the tape: not a lag sample.
        self._trades_epoch.pop(feed_key, None)
        if feed_key not in self._expected:
            self._expected.add(feed_key)
            self._expected_order = None
            self._changes.add("status")

    def unexpect(self, feed_key: str) -> None:
        """The engine unsubscribed; the feed's last data stays readable."""
        # Its replay marker goes too: kept, one key per coin ever viewed would pile up.
        self._trades_epoch.pop(feed_key, None)
        if feed_key in self._expected:
            self._expected.discard(feed_key)
            self._expected_order = None
            self._changes.add("status")

    # ------------------------------------------------------------------ stream handlers
    # (market channels: ``MarketIngest``; user channels and acks: ``AccountIngest``)

    def _on_ignored(self, msg: PongMsg | PostMsg, source: Source, now: float) -> None:
        # Liveness is the feed's job (it pushes health.note_alive); post replies go to their caller.
        return

    def _on_error(self, msg: ErrorMsg, source: Source, now: float) -> None:
        self.health.note_server_error(msg.data)

    def _on_unknown(self, msg: UnknownMsg, source: Source, now: float) -> None:
        self.health.note_unknown(msg.channel)

    # ================================================================== reads: status

    @property
    def user(self) -> str | None:
        """The watched address, lower-cased, or None."""
        return self._user

    @property
    def book_fast(self) -> bool:
        return self._book_fast

    def now(self) -> float:
        """The clock ages are measured on (``stamp.received_at``, ``next_state_change``)."""
        return self._clock()

    def threshold(self, feed_key: str) -> float:
        """Seconds after which ``feed_key`` is no longer fresh.

        Data that came over REST is judged by the cadence it is polled at: a feed polled every
        15 s is not stale at 6 s. It turns stale ``REST_STALE_FACTOR`` planned intervals after
        its last answer (never sooner than the configured threshold), so refused or failed
        polls show as a growing age and then STALE, never as fresh data.
        """
        base = self._base_threshold(feed_key)
        cadence = self.health.rest_cadence(feed_key)
        if cadence is not None and self._source_for_threshold(feed_key) is Source.REST:
            return max(base, REST_STALE_FACTOR * cadence)
        return base

    def _source_for_threshold(self, feed_key: str) -> Source | None:
        stamp = self._stamps.get(feed_key)
        address = row_address(feed_key) if stamp is None else None
        if address is not None:
            stamp = self._accounts.stamp(address)
        return None if stamp is None else stamp.source

    def _base_threshold(self, feed_key: str) -> float:
        known = self._base_thresholds.get(feed_key)
        if known is not None:
            return known
        if len(self._base_thresholds) >= BASE_THRESHOLDS_CAP:  # any key may be asked about
            self._base_thresholds.clear()
        value = self._base_thresholds[feed_key] = self._configured_threshold(feed_key)
        return value

    def _configured_threshold(self, feed_key: str) -> float:
        kind = feed_kind(feed_key)
        s = self._stale
        if kind == "book":
            return s.book_fast if self._book_fast else s.book
        if kind in FIXED_THRESHOLDS:
            return FIXED_THRESHOLDS[kind]
        # mids, bbo, trades, ctx, account, orders, fills: StaleThresholds has a field per kind.
        value = getattr(s, kind, None) if kind in _THRESHOLD_FIELDS else None
        return float(value) if isinstance(value, int | float) else DEFAULT_EVENT_THRESHOLD

    def stamp(self, feed_key: str) -> Stamp | None:
        """When, from where, and with which exchange time ``feed_key`` was last updated."""
        return self._stamps.get(feed_key)

    def source_of(self, feed_key: str) -> Source | None:
        """Source of the last update of ``feed_key``; None if never updated."""
        st = self._stamps.get(feed_key)
        return st.source if st is not None else None

    def feed_status(self, feed_key: str) -> FeedStatus:
        """Freshness of one feed (works for any key, expected or not); judged once per
        ``one_moment``."""
        return self._judge(feed_key)

    def feed_statuses(self) -> dict[str, FeedStatus]:
        """Freshness of every expected feed, in a stable display order (as ``feed_status``)."""
        order = self._feed_order()
        held = self._moment_statuses
        if held is not None:
            return self._judge_all(order, held)
        now = self._clock()
        alive = self.health.socket_alive(now)
        return {key: self._classify(key, now, alive) for key in order}

    def feed_states(self) -> dict[str, tuple[FeedState, Source | None]]:
        """Each expected feed's (state, source), as ``feed_statuses`` judges them (inside a
        moment, on its clock), without building the statuses: what a frame compares at its
        start to know whether a feed moved, every frame, the light ones included."""
        if self._moment_statuses is not None:
            now, alive = self._judged_at()
        else:
            now = self._clock()
            alive = self.health.socket_alive(now)
        stamps = self._stamps
        out: dict[str, tuple[FeedState, Source | None]] = {}
        for key in self._feed_order():
            stamp = stamps.get(key)
            if stamp is None:
                out[key] = (FeedState.MISSING, None)
            else:
                out[key] = (self._state_of(key, stamp, now, alive), stamp.source)
        return out

    def _state_of(self, feed_key: str, stamp: Stamp, now: float, socket_alive: bool) -> FeedState:
        """The state ``_classify`` gives ``feed_key``, last updated by ``stamp``, without its
        status (for the readers that ask the state alone)."""
        kind = feed_kind(feed_key)
        lag = self._lag_of(kind, stamp, now)
        lagging = lag is not None and lag > self._stale.lag
        age = max(0.0, now - stamp.received_at)
        return state_at(
            stamp, age, self.threshold(feed_key), is_periodic(kind), socket_alive, lagging
        )

    def _feed_order(self) -> list[str]:
        order = self._expected_order
        if order is None:
            order = self._expected_order = sorted(self._expected, key=sort_key)
        return order

    def _lag_of(self, kind: str, stamp: Stamp, now: float) -> float | None:
        """The lag a feed of ``kind`` last updated by ``stamp`` is judged by: its own, or over
        the websocket for a kind without a time of its own, the socket's (None: unmeasured)."""
        if stamp.lag is None and stamp.source is Source.WS and kind in LAG_INHERIT_FEEDS:
            return self.socket_lag(now)
        return stamp.lag

    def _classify(self, feed_key: str, now: float, socket_alive: bool) -> FeedStatus:
        stamp = self._stamps.get(feed_key)
        return classify(
            feed_key,
            stamp,
            now,
            self.threshold(feed_key),
            socket_alive=socket_alive,
            lag=None if stamp is None else self._lag_of(feed_kind(feed_key), stamp, now),
            lag_threshold=self._stale.lag,
        )

    @property
    def lag_floor(self) -> float | None:
        """The usual delay of timed data (seconds, clock difference included; ``state.lag``)."""
        return self._lag.floor

    @property
    def lag_settled(self) -> bool:
        """The usual delay is known from more than one moment (``LagMeter.settled``)."""
        return self._lag.settled

    def stale_feeds(self) -> list[str]:
        """Expected feeds that are STALE or MISSING right now (what the fallback should poll)."""
        bad = (FeedState.STALE, FeedState.MISSING)
        return [k for k, st in self.feed_statuses().items() if st.state in bad]

    @property
    def expected(self) -> frozenset[str]:
        return frozenset(self._expected)

    def next_state_change(self) -> float | None:
        """The earliest clock time after now at which an expected feed changes state by time
        alone (``freshness.next_state_change``), or None. A reader that wakes then shows
        live -> stale on time without polling."""
        stamps = self._stamps
        return next_state_change(
            ((k, stamps.get(k), self.threshold(k)) for k in self._expected),
            self._clock(),
            self.health.alive_until(),
        )

    # ================================================================== reads: market

    @property
    def catalog(self) -> MarketCatalog | None:
        """The market catalog in force (``catalog_state`` says where it came from)."""
        return self.catalog_state.catalog

    def display_name(self, coin: str) -> str:
        """How ``coin`` is shown: the catalog's name (``HYPE/USDC`` for the exchange's
        ``@107``), or as the exchange lists it while no catalog is in force."""
        catalog = self.catalog_state.catalog
        return coin if catalog is None else catalog.display(coin)

    @property
    def watchlist(self) -> tuple[str, ...]:
        """The watched coins in display order, as the feeds last set them (``set_watch``)."""
        return self._watchlist or ()

    @property
    def mids(self) -> Mapping[str, str]:
        """Every dex's last allMids map seen as one (routed by the coin's dex prefix).
        Read-only: do not mutate."""
        return self._market.mids

    @staticmethod
    def mids_feed(coin: str) -> str:
        """The freshness key of the mids that price ``coin``: ``mids`` (default dex, spot,
        outcomes) or ``mids:<dex>`` (``mids:xyz`` for ``xyz:TSLA``)."""
        dex = dex_of_coin(coin)
        return "mids:" + dex if dex else "mids"

    def mid(self, coin: str) -> str | None:
        return self._market.mids.get(coin)

    def book(self, coin: str) -> L2Book | None:
        return self._market.books.get(coin)

    def bbo(self, coin: str) -> Bbo | None:
        return self._market.bbos.get(coin)

    def trades(self, coin: str) -> list[Trade]:
        """Recent trades of ``coin``, newest last."""
        return self._market.trades(coin)

    def ctx(self, coin: str) -> PerpAssetCtx | None:
        return self._market.ctxs.get(coin)

    def spot_ctx(self, coin: str) -> SpotAssetCtx | None:
        return self._market.spot_ctxs.get(coin)

    def asset_data(self, coin: str) -> ActiveAssetData | None:
        return self._market.asset_data.get(coin)

    def candles(self, coin: str, interval: str | None = None) -> list[Candle]:
        """Candles oldest first, for ``interval`` or the interval last pushed for ``coin``."""
        return self._market.candle_list(coin, interval)

    # ================================================================== reads: account

    def account_summary(self) -> AccountSummary | None:
        """Summary of the default dex's clearinghouse state; None before the first push.

        Its uPnL is the sum of that dex's rows of ``positions()`` and its equity moves with
        them (``AccountSummary``): built from the very rows ``positions()`` returns now, so a
        header and the rows read in one frame agree to the cent.
        """
        rows = self._position_views()
        if self._summary_cache is None or self._summary_rows is not rows:
            ch = self._account.clearinghouse.get("")
            st = self._stamps.get("account")
            if ch is None or st is None:
                return None
            mine = [p for p in rows if p.dex == ""]
            self._summary_cache = account_summary(ch, st.source, st.received_at, mine)
            self._summary_rows = rows
        return self._summary_cache

    def positions(self) -> list[PositionView]:
        """Open positions of every dex (default dex first), each with its dex and collateral,
        with hlmon's derived numbers.

        One mark per coin: ``ctx:COIN`` markPx while fresh, else the mid while ``mids`` is
        fresh, else the clearinghouse's own (``mark_price``; ``PositionView.mark_source`` says
        which). The cache is rebuilt when which of them are fresh changes, not only on pushes.
        """
        return list(self._position_views())

    def _position_views(self) -> list[PositionView]:
        if self._moment_views is not None and self._moment_views is self._positions_cache:
            return self._moment_views  # judged once in this moment (``one_moment``)
        now = self._clock()
        alive = self.health.socket_alive(now)
        coins = [
            ap.position.coin
            for ch in self._account.clearinghouse.values()
            for ap in ch.assetPositions
        ]
        mids_feeds = {self.mids_feed(coin) for coin in coins}
        fresh = frozenset(
            key
            for key in (*mids_feeds, *("ctx:" + coin for coin in coins))
            if self._is_fresh(key, now, alive)
        )
        catalog = self.catalog  # positions carry their dex's collateral token
        if (
            self._positions_cache is None
            or fresh != self._positions_fresh
            or catalog is not self._positions_catalog
        ):
            collateral_of = collateral_lookup(catalog)
            ctxs = self._market.ctxs
            mids = self._market.mids
            inputs: list[ViewInputs] = []
            for dex in sorted(self._account.clearinghouse):
                for ap in self._account.clearinghouse[dex].assetPositions:
                    coin = ap.position.coin
                    ctx = ctxs.get(coin) if "ctx:" + coin in fresh else None
                    mid_feed = self.mids_feed(coin)
                    mid = mids.get(coin) if mid_feed in fresh else None
                    mark = ctx.markPx if ctx is not None else None
                    inputs.append((ap.position, mark, mid, dex, collateral_of(dex), mid_feed))
            self._positions_cache = self._views.build(inputs)
            self._positions_fresh = fresh
            self._positions_catalog = catalog
            self._positions_version += 1
        if self._in_moment:
            self._moment_views = self._positions_cache
        return self._positions_cache

    @property
    def positions_version(self) -> int:
        """Changes whenever ``positions()`` would return other rows: a push, a new mark, or
        a mark feed turning stale or fresh (which no change key announces). A reader that
        redraws rows only on change keys checks this once a frame, so the rows and totals
        built from ``positions()`` on that frame agree."""
        self._position_views()
        return self._positions_version

    def _is_fresh(self, feed_key: str, now: float, socket_alive: bool) -> bool:
        """``feed_key`` is LIVE, FALLBACK (fresh over REST), LAGGING (moving, if late) or
        QUIET (an event feed, alive)."""
        stamp = self._stamps.get(feed_key)
        return stamp is not None and self._state_of(feed_key, stamp, now, socket_alive) in _FRESH

    @property
    def watched_users(self) -> tuple[str, ...]:
        """Addresses with a summary row (``set_watched_users``), lower-case, in order."""
        return self._accounts.watched

    def accounts(self) -> list[AccountRow]:
        """One summary row per watched address (just the selected user's when none are set),
        with freshness; change key ``accounts``."""
        now = self._clock()
        addresses = self._accounts.watched or ((self._user,) if self._user else ())
        # Another account's row polled over REST is judged by its own planned cadence.
        rows = {a: self.threshold(ROW_KEY_PREFIX + a) for a in addresses if a != self._user}
        return self._accounts.rows(
            now,
            self.threshold("account"),
            thresholds=rows,
            selected=self._user,
            socket_alive=self.health.socket_alive(now),
            addresses=addresses,
            collateral_of=collateral_lookup(self.catalog),
        )

    def accounts_total(self, rows: list[AccountRow] | None = None) -> AccountTotals:
        """Totals over ``rows`` (default: ``accounts()``)."""
        return self._accounts.totals(self.accounts() if rows is None else rows)
