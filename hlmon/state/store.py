"""The Store: hlmon's single source of truth for market data, account data and feed health.

Feeds write (``apply`` and the ``set_*``/``note_*`` calls); the UI reads on a timer and asks
``take_changes()`` what to redraw. The store is pure: no I/O, no asyncio, no Textual, and time
comes from the injected clock, so tests drive it deterministically.

``apply`` is the hot path (thousands of frames a second): it stores the decoded struct as is,
stamps the feed and records a change key; derived numbers are computed on read and cached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from hlmon.protocol.messages import (
    ActiveAssetCtxMsg,
    ActiveAssetData,
    ActiveAssetDataMsg,
    ActiveSpotAssetCtxMsg,
    AllMidsMsg,
    Bbo,
    BboMsg,
    Candle,
    CandleMsg,
    ClearinghouseStateMsg,
    ErrorMsg,
    Fill,
    FrontendOrder,
    Funding,
    L2Book,
    L2BookMsg,
    LedgerUpdate,
    Liquidation,
    Message,
    NotificationMsg,
    OpenOrdersMsg,
    OrderUpdatesMsg,
    PerpAssetCtx,
    PongMsg,
    PostMsg,
    SpotAssetCtx,
    SubscriptionResponseMsg,
    Trade,
    TradesMsg,
    UnknownMsg,
    UserEventsMsg,
    UserFillsMsg,
    UserFundingsMsg,
    UserNonFundingLedgerUpdatesMsg,
    WebData3Msg,
)
from hlmon.state.settings import StaleThresholds

from .account import AccountState
from .accounts import AccountBook, AccountRow, AccountTotals, is_older
from .freshness import (
    CANDLE_THRESHOLD,
    DEFAULT_EVENT_THRESHOLD,
    FUNDINGS_THRESHOLD,
    classify,
    feed_kind,
    sort_key,
)
from .market import MarketState
from .positions import account_summary, position_view
from .telemetry import FrameCounter
from .types import (
    AccountSummary,
    Clock,
    ConnectionInfo,
    ConnState,
    FeedState,
    FeedStatus,
    LogEvent,
    PositionView,
    Source,
    Stamp,
)

_DEFAULT_STALE = StaleThresholds()
CLOCK_STEP_TOLERANCE = 2.0
"""Steps back of the clock up to this many seconds are not rebased (ages clamp at 0)."""
_LEVELS = {"info": "info", "warn": "warn", "warning": "warn", "error": "error"}
_ACCOUNT_KEYS = ("account", "orders", "fills", "fundings", "ledger", "webData3")
"""Change keys (and feed keys) that belong to the watched user."""
_REJECT_LOG_INTERVAL = 1.0
"""Log at most one rejected-frame line per second; a garbage flood must not evict the log."""
_MAX_UNKNOWN_LOGGED = 64
_THRESHOLD_FIELDS = frozenset(("mids", "bbo", "trades", "ctx", "account", "orders", "fills"))
_USERLESS_CHANNELS = ("orderUpdates", "userEvents")
"""User channels whose frames do not name their user (subscription types)."""

_Handler = Callable[[Any, Source, float], None]


class Store:
    """Market + account state, freshness per feed, connection facts and the event log."""

    def __init__(
        self,
        clock: Clock,
        stale: StaleThresholds = _DEFAULT_STALE,
        *,
        alive_window: float = 20.0,
        trades_cap: int = 200,
        fills_cap: int = 2000,
        history_cap: int = 120,
        log_cap: int = 500,
        candles_cap: int = 500,
        fundings_cap: int = 1000,
        ledger_cap: int = 500,
    ) -> None:
        """
        Args:
            clock: seconds since the epoch (``time.time`` in the app, a fake in tests).
            stale: per-feed thresholds.
            alive_window: a socket counts as alive if a frame/pong arrived this recently.
            trades_cap: trades kept per coin.
            fills_cap: fills kept (deduped by ``account.fill_key``).
            history_cap: mid samples kept per tracked coin (sparklines).
            log_cap: log lines kept.
            candles_cap: candles kept per (coin, interval).
            fundings_cap: funding payments kept.
            ledger_cap: non-funding ledger updates kept.
        """
        self._wall = clock
        self._last_now: float | None = None
        self._clock = self._read_clock
        self._stale = stale
        self._alive_window = alive_window
        self._book_fast = False

        self._market = MarketState(
            trades_cap=trades_cap, history_cap=history_cap, candles_cap=candles_cap
        )
        self._account = AccountState(
            fills_cap=fills_cap, fundings_cap=fundings_cap, ledger_cap=ledger_cap
        )
        self._web_data: dict[str, Any] | None = None
        self._user: str | None = None
        self._accounts = AccountBook()
        self._userless_closed: set[str] = set()
        """User-less channels not accepted yet after a switch of user (see ``set_user``)."""
        self._watch: frozenset[str] = frozenset()
        self._tracked: set[str] = set()

        self._stamps: dict[str, Stamp] = {}
        self._expected: set[str] = set()
        self._changes: set[str] = set()
        self._positions_cache: list[PositionView] | None = None
        self._positions_fresh: frozenset[str] = frozenset()
        """The mark feeds (``mids``, ``ctx:COIN``) that were fresh when the cache was built."""
        self._summary_cache: AccountSummary | None = None

        # connection facts pushed by the feed engine
        self._conn_state = ConnState.CONNECTING
        self._attempt = 0
        self._next_retry_at: float | None = None
        self._reconnects = 0
        self._ever_live = False
        self._url = ""
        self._last_alive: float | None = None
        self.ws_rtt_ms: float | None = None
        """Round trip of the latest application ping, in ms (None until the first pong)."""
        self._last_error: str | None = None
        self._connected_since: float | None = None

        # counters
        self._frames = FrameCounter()
        self._frame_flushers: list[Callable[[], None]] = []
        self.frames_rejected = 0
        self.server_errors = 0
        self.unknown_frames = 0
        self.ignored_user_msgs = 0
        """Account frames dropped because they were for another address (or none is set)."""
        self.acks = 0
        self._unknown_logged: set[str] = set()
        self._last_reject_log: float | None = None
        self._rejects_suppressed = 0
        self.rest_weight_used = 0
        self.rest_budget = 0
        self.fallback_active = False

        self._log: deque[LogEvent] = deque(maxlen=log_cap)

        # type -> handler: one dict lookup per frame instead of an isinstance chain
        self._handlers: dict[type, _Handler] = {
            AllMidsMsg: self._on_all_mids,
            L2BookMsg: self._on_l2_book,
            TradesMsg: self._on_trades,
            BboMsg: self._on_bbo,
            CandleMsg: self._on_candle,
            ActiveAssetCtxMsg: self._on_ctx,
            ActiveSpotAssetCtxMsg: self._on_spot_ctx,
            ActiveAssetDataMsg: self._on_asset_data,
            ClearinghouseStateMsg: self._on_clearinghouse,
            OpenOrdersMsg: self._on_open_orders,
            OrderUpdatesMsg: self._on_order_updates,
            UserEventsMsg: self._on_user_event,
            UserFillsMsg: self._on_user_fills,
            UserFundingsMsg: self._on_user_fundings,
            UserNonFundingLedgerUpdatesMsg: self._on_ledger,
            WebData3Msg: self._on_web_data,
            NotificationMsg: self._on_notification,
            SubscriptionResponseMsg: self._on_ack,
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
            self.unknown_frames += 1
            return
        handler(msg, source, self._clock())

    def apply_fills(self, fills: Iterable[Fill], source: Source) -> int:
        """Merge fills, deduped by ``account.fill_key``; returns how many were new.

        Used for ``userFills`` (snapshot or not), ``user`` fill events and REST reconciliation
        alike, so the same fill arriving three ways is kept once.
        """
        return self._add_fills(fills, source, self._clock())

    def set_user(self, address: str | None) -> None:
        """Watch this address (case-insensitive). Changing it forgets all account state."""
        new = address.lower() if address else None
        if new == self._user:
            return
        # orderUpdates and user events carry no user: after a switch, frames of the old user's
        # subscriptions may still be in flight. The feed unsubscribes the old user before it
        # subscribes the new one on the same socket, so once the server acks the new user's
        # subscription, later frames are the new user's; until then they are dropped.
        switched = self._user is not None and new is not None
        self._userless_closed = set(_USERLESS_CHANNELS) if switched else set()
        self._user = new
        self._account.clear()
        self._market.asset_data.clear()
        self._web_data = None
        for key in [k for k in self._stamps if self._is_account_key(k)]:
            del self._stamps[key]
        held = self._accounts.state_of(new) if new is not None else None
        if held is not None:
            # A watched account's last state shows at once, with its own age and source.
            self._account.clearinghouse[""], self._stamps["account"] = held
        self._invalidate_account()
        self._changes.update(_ACCOUNT_KEYS)
        self._changes.add("accounts")

    def set_watched_users(
        self, addresses: Iterable[str], labels: Mapping[str, str] | None = None
    ) -> None:
        """Keep a summary row (``accounts()``) for each of these addresses, in this order.

        Only the selected user (``set_user``) gets full detail; the others' clearinghouse
        states feed their rows. ``labels`` maps addresses to display names.
        """
        if self._accounts.set_watched(addresses, labels):
            self._changes.add("accounts")

    def set_book_fast(self, fast: bool) -> None:
        """Book freshness uses ``stale.book_fast`` while the fast (0.5 s) book is subscribed."""
        if fast != self._book_fast:
            self._book_fast = fast
            self._changes.add("status")

    def set_watch(self, coins: Iterable[str]) -> None:
        """The watchlist: keep mid history (sparklines) for these coins (and tracked ones)."""
        self._watch = frozenset(coins)
        self._market.track(self._watch)
        self._market.untrack_except(self._watch | self._tracked)

    def track_history(self, coin: str) -> None:
        """Keep mid history for one more coin (in addition to the watch set)."""
        self._tracked.add(coin)
        self._market.track((coin,))

    def untrack_history(self, coin: str) -> None:
        """Stop keeping history for a coin added with ``track_history`` (unless watched)."""
        self._tracked.discard(coin)
        self._market.untrack_except(self._watch | self._tracked)

    def _read_clock(self) -> float:
        """The injected clock, with steps back (NTP, VM resume) rebased away.

        Ages are ``now - received_at``: a clock that stepped back an hour would make hour-old
        data look brand new. Every time the store holds is moved back by the step instead, so
        ages stay true (steps forward cannot be told from time passing: data just looks old).
        Steps within ``CLOCK_STEP_TOLERANCE`` only clamp ages at 0.
        """
        now = self._wall()
        last, self._last_now = self._last_now, now
        if last is not None and now < last - CLOCK_STEP_TOLERANCE:
            self._shift_times(now - last)
        return now

    def _shift_times(self, delta: float) -> None:
        self._stamps = {
            key: replace(st, received_at=st.received_at + delta) for key, st in self._stamps.items()
        }
        self._accounts.shift_times(delta)
        if self._last_alive is not None:
            self._last_alive += delta
        if self._connected_since is not None:
            self._connected_since += delta
        if self._next_retry_at is not None:
            self._next_retry_at += delta
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
        if feed_key not in self._expected:
            self._expected.add(feed_key)
            self._changes.add("status")

    def unexpect(self, feed_key: str) -> None:
        """The engine unsubscribed; the feed's last data stays readable."""
        if feed_key in self._expected:
            self._expected.discard(feed_key)
            self._changes.add("status")

    def note_alive(self) -> None:
        """A pong or any frame proved the socket alive now."""
        self._last_alive = self._clock()

    def note_rtt(self, ms: float) -> None:
        """Round trip of the latest ping/pong, in milliseconds."""
        self.ws_rtt_ms = ms
        self._changes.add("status")

    def note_frame(self, channel: str, nbytes: int) -> None:
        """Count one received frame (for msg/s and per-channel totals)."""
        self._frames.add(self._clock(), channel, nbytes)

    def add_frame_flusher(self, flush: Callable[[], None]) -> None:
        """Register a feed that counts frames in batches: ``flush`` must hand over what it holds
        (``note_alive`` + ``note_frames``). Every read of the frame counters or of liveness calls
        it first, so reads stay exact however the feed batches."""
        self._frame_flushers.append(flush)

    def _flush_frames(self) -> None:
        for flush in self._frame_flushers:
            flush()

    def note_frames(
        self, n: int, nbytes: int, by_channel: dict[str, int], at: float | None = None
    ) -> None:
        """Count ``n`` received frames at once (``nbytes`` in all, ``by_channel`` per channel),
        the last received at ``at`` (store clock; default now). For feeds that batch their
        counting; the totals and msg/s are the same as ``n`` calls of ``note_frame``."""
        self._frames.add_many(self._clock() if at is None else at, n, nbytes, by_channel)

    def note_rejected(self, reason: str, snippet: str) -> None:
        """A malformed frame: counted and logged (rate-limited). Never raises."""
        self.frames_rejected += 1
        now = self._clock()
        last = self._last_reject_log
        # 0 <= ...: after the clock steps back, log again at once instead of staying silent
        # until it has caught up with the last logged time.
        if last is not None and 0 <= now - last < _REJECT_LOG_INTERVAL:
            self._rejects_suppressed += 1
            return
        more = f" (+{self._rejects_suppressed} more)" if self._rejects_suppressed else ""
        self._rejects_suppressed = 0
        self._last_reject_log = now
        self.log(f"rejected frame: {reason}: {snippet[:120]!r}{more}", "warn")

    def set_connection(
        self,
        state: ConnState,
        *,
        attempt: int = 0,
        next_retry_in: float | None = None,
        url: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the websocket state; logs transitions and counts reconnects."""
        now = self._clock()
        prev_state, prev_attempt, prev_url = self._conn_state, self._attempt, self._url
        if url is not None:
            self._url = url
        if error is not None:
            self._last_error = error
        self._attempt = attempt
        self._next_retry_at = now + next_retry_in if next_retry_in is not None else None
        self._conn_state = state
        if state is ConnState.LIVE:
            if prev_state is not ConnState.LIVE:
                if self._ever_live:
                    self._reconnects += 1
                self._ever_live = True
                self._connected_since = now
                self._last_alive = now  # the handshake itself proves the socket alive
        else:
            self._connected_since = None
        self._changes.add("status")
        if (
            state is prev_state
            and attempt == prev_attempt
            and error is None
            and self._url == prev_url
        ):
            return  # nothing new to tell the user (e.g. a repeated LIVE)
        self._log_connection(state, attempt, next_retry_in, error)

    def _log_connection(
        self, state: ConnState, attempt: int, next_retry_in: float | None, error: str | None
    ) -> None:
        why = f": {error}" if error else ""
        if state is ConnState.LIVE:
            if self._reconnects:
                self.log(f"reconnected to {self._url} (reconnect {self._reconnects})")
            else:
                self.log(f"connected to {self._url}")
        elif state is ConnState.CONNECTING and not attempt:
            self.log(f"connecting to {self._url}{why}")
        elif state in (ConnState.CONNECTING, ConnState.RECONNECTING):
            # CONNECTING with an attempt: the first connection has not succeeded yet.
            what = "connect failed" if state is ConnState.CONNECTING else "connection lost"
            retry = f", retry {attempt}" if attempt else ""
            when = f" in {next_retry_in:.1f} s" if next_retry_in is not None else ""
            self.log(f"{what}{why}{retry}{when}", "warn")
        else:
            self.log(f"websocket down{why}", "error")

    def set_rest_usage(self, weight_last_minute: int, budget: int) -> None:
        """REST weight spent in the last minute, and the budget it is held to."""
        if (weight_last_minute, budget) != (self.rest_weight_used, self.rest_budget):
            self.rest_weight_used = weight_last_minute
            self.rest_budget = budget
            self._changes.add("status")

    def set_fallback_active(self, active: bool) -> None:
        """The REST fallback poller started or stopped."""
        if active == self.fallback_active:
            return
        self.fallback_active = active
        # No log line here: the poller logs the switch itself, with the feeds involved.
        self._changes.add("status")

    def log(self, text: str, level: str = "info") -> None:
        """Append a line to the event log (``info``, ``warn`` or ``error``)."""
        self._log.append(LogEvent(self._clock(), _LEVELS.get(level, level), text))
        self._changes.add("log")

    # ------------------------------------------------------------------ handlers

    def _touch(self, key: str, source: Source, now: float, exchange_time: int | None) -> None:
        self._stamps[key] = Stamp(now, exchange_time, source)

    def _is_me(self, user: str) -> bool:
        if self._user is not None and user.lower() == self._user:
            return True
        self.ignored_user_msgs += 1
        return False

    def _have_user(self, channel: str | None = None) -> bool:
        """For user channels without a ``user`` field (orderUpdates, user events)."""
        if self._user is not None and channel not in self._userless_closed:
            return True
        self.ignored_user_msgs += 1
        return False

    @staticmethod
    def _is_account_key(key: str) -> bool:
        kind = feed_kind(key)
        return kind in _ACCOUNT_KEYS or kind in ("orderUpdates", "assetData")

    def _invalidate_account(self) -> None:
        self._positions_cache = None
        self._summary_cache = None

    def _on_all_mids(self, msg: AllMidsMsg, source: Source, now: float) -> None:
        self._market.set_mids(msg.data.mids)
        self._touch("mids", source, now, None)
        self._changes.add("mids")
        self._positions_cache = None  # marks may come from mids

    def _on_l2_book(self, msg: L2BookMsg, source: Source, now: float) -> None:
        book = msg.data
        self._market.books[book.coin] = book
        key = "book:" + book.coin
        self._touch(key, source, now, book.time)
        self._changes.add(key)

    def _on_trades(self, msg: TradesMsg, source: Source, now: float) -> None:
        trades = msg.data
        if not trades:
            return  # an empty frame names no coin
        changed = self._market.add_trades(trades)
        coins = {t.coin for t in trades} if len(trades) > 1 else {trades[0].coin}
        for coin in coins:
            # Duplicates still prove the feed is flowing, so stamp every coin in the frame.
            self._touch("trades:" + coin, source, now, trades[-1].time)
        for coin in changed:
            self._changes.add("trades:" + coin)

    def _on_bbo(self, msg: BboMsg, source: Source, now: float) -> None:
        bbo = msg.data
        self._market.bbos[bbo.coin] = bbo
        key = "bbo:" + bbo.coin
        self._touch(key, source, now, bbo.time)
        self._changes.add(key)

    def _on_candle(self, msg: CandleMsg, source: Source, now: float) -> None:
        candle = msg.data
        self._market.add_candle(candle)
        key = "candle:" + candle.coin
        self._touch(key, source, now, candle.open_time)
        self._changes.add(key)

    def _on_ctx(self, msg: ActiveAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        self._market.ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._touch(key, source, now, None)
        self._changes.add(key)
        self._positions_cache = None  # marks come from ctx

    def _on_spot_ctx(self, msg: ActiveSpotAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        self._market.spot_ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._touch(key, source, now, None)
        self._changes.add(key)

    def _on_asset_data(self, msg: ActiveAssetDataMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._market.asset_data[data.coin] = data
        key = "assetData:" + data.coin
        self._touch(key, source, now, None)
        self._changes.add(key)

    def _on_clearinghouse(self, msg: ClearinghouseStateMsg, source: Source, now: float) -> None:
        data = msg.data
        state = data.clearinghouseState
        mine = self._user is not None and data.user.lower() == self._user
        held = self._account.clearinghouse.get(data.dex) if mine else None
        if is_older(state, held):
            return  # an older answer (a slow REST reply) must not replace a newer push
        if self._accounts.apply(data.user, state, source, now, dex=data.dex, also=self._user):
            self._changes.add("accounts")
            if data.user.lower() != self._user:
                return  # another watched account: its row is all that is kept
        elif not self._is_me(data.user):
            return
        self._account.clearinghouse[data.dex] = data.clearinghouseState
        self._touch("account", source, now, data.clearinghouseState.time)
        self._invalidate_account()
        self._changes.add("account")

    def _on_open_orders(self, msg: OpenOrdersMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._account.replace_orders(data.dex, data.orders)
        self._touch("orders", source, now, None)
        self._changes.add("orders")

    def _on_order_updates(self, msg: OrderUpdatesMsg, source: Source, now: float) -> None:
        if not self._have_user("orderUpdates"):
            return
        # Not an "orders" stamp: the periodic openOrders push is what proves that feed alive,
        # and incremental updates must not hide it stopping.
        self._touch("orderUpdates", source, now, None)
        if self._account.apply_order_updates(msg.data):
            self._changes.add("orders")

    def _on_user_event(self, msg: UserEventsMsg, source: Source, now: float) -> None:
        if not self._have_user("userEvents"):
            return
        ev = msg.data
        if ev.fills is not None:
            self._add_fills(ev.fills, source, now)
        if ev.funding is not None:
            self._add_fundings((ev.funding,), source, now)
        if ev.nonUserCancel is not None:
            oids = [c.oid for c in ev.nonUserCancel]
            if self._account.cancel_oids(oids):
                self._changes.add("orders")
            self.log(f"{len(oids)} order(s) cancelled by the system", "warn")
        if ev.liquidation is not None:
            self._account.liquidations.append(ev.liquidation)
            liq = ev.liquidation
            self.log(
                f"liquidation {liq.lid}: notional {liq.liquidated_ntl_pos}, "
                f"account value {liq.liquidated_account_value}",
                "error",
            )

    def _on_user_fills(self, msg: UserFillsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._add_fills(msg.data.fills, source, now)

    def _add_fills(self, fills: Iterable[Fill], source: Source, now: float) -> int:
        new = self._account.fills.add_many(fills)
        newest = self._account.fills.newest
        self._touch("fills", source, now, newest.time if newest is not None else None)
        if new:
            self._changes.add("fills")
        return new

    def _on_user_fundings(self, msg: UserFundingsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._add_fundings(msg.data.fundings, source, now)

    def _add_fundings(self, fundings: Iterable[Funding], source: Source, now: float) -> None:
        new = self._account.fundings.add_many(fundings)
        newest = self._account.fundings.newest
        self._touch("fundings", source, now, newest.time if newest is not None else None)
        if new:
            self._changes.add("fundings")

    def _on_ledger(self, msg: UserNonFundingLedgerUpdatesMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        new = self._account.ledger.add_many(data.nonFundingLedgerUpdates)
        self._touch("ledger", source, now, None)
        if new:
            self._changes.add("ledger")

    def _on_web_data(self, msg: WebData3Msg, source: Source, now: float) -> None:
        state = msg.data.get("userState")
        user = state.get("user") if isinstance(state, dict) else None
        # The payload names its user under userState; fall back to "any user set".
        accepted = self._is_me(user) if isinstance(user, str) else self._have_user()
        if not accepted:
            return
        self._web_data = msg.data
        self._touch("webData3", source, now, None)
        self._changes.add("webData3")

    def _on_notification(self, msg: NotificationMsg, source: Source, now: float) -> None:
        if self._have_user():
            self.log(f"notification: {msg.data.notification}")

    def _on_ack(self, msg: SubscriptionResponseMsg, source: Source, now: float) -> None:
        self.acks += 1
        if self._userless_closed and msg.data.method == "subscribe":
            sub = msg.data.subscription
            user = sub.get("user")
            if isinstance(user, str) and user.lower() == self._user:
                self._userless_closed.discard(str(sub.get("type")))

    def _on_ignored(self, msg: PongMsg | PostMsg, source: Source, now: float) -> None:
        # Liveness is the feed's job (it calls note_alive); post replies go to their caller.
        return

    def _on_error(self, msg: ErrorMsg, source: Source, now: float) -> None:
        self.server_errors += 1
        self.log(f"server error: {msg.data}", "error")

    def _on_unknown(self, msg: UnknownMsg, source: Source, now: float) -> None:
        self.unknown_frames += 1
        ch = msg.channel
        if ch not in self._unknown_logged and len(self._unknown_logged) < _MAX_UNKNOWN_LOGGED:
            self._unknown_logged.add(ch)
            self.log(f"ignoring frames on unknown channel {ch!r}", "warn")

    # ================================================================== reads: status

    @property
    def connection(self) -> ConnectionInfo:
        """The websocket connection facts as last reported by the feed engine."""
        self._flush_frames()
        return ConnectionInfo(
            state=self._conn_state,
            attempt=self._attempt,
            next_retry_at=self._next_retry_at,
            reconnects=self._reconnects,
            url=self._url,
            last_alive=self._last_alive,
            last_error=self._last_error,
            connected_since=self._connected_since,
        )

    @property
    def events(self) -> list[LogEvent]:
        """The event log, newest last."""
        return list(self._log)

    @property
    def frames_total(self) -> int:
        self._flush_frames()
        return self._frames.total

    @property
    def bytes_total(self) -> int:
        self._flush_frames()
        return self._frames.bytes_total

    @property
    def frames_by_channel(self) -> Mapping[str, int]:
        self._flush_frames()
        return self._frames.by_channel

    def msgs_per_s(self) -> float:
        """Frames per second over the last ~5 s."""
        self._flush_frames()
        return self._frames.rate(self._clock())

    @property
    def user(self) -> str | None:
        """The watched address, lower-cased, or None."""
        return self._user

    @property
    def book_fast(self) -> bool:
        return self._book_fast

    def socket_alive(self) -> bool:
        """The socket is LIVE and a frame/pong arrived within ``alive_window``."""
        return self._socket_alive(self._clock())

    def _socket_alive(self, now: float) -> bool:
        self._flush_frames()
        return (
            self._conn_state is ConnState.LIVE
            and self._last_alive is not None
            and now - self._last_alive <= self._alive_window
        )

    def threshold(self, feed_key: str) -> float:
        """Seconds after which ``feed_key`` is no longer fresh."""
        kind = feed_kind(feed_key)
        s = self._stale
        if kind == "book":
            return s.book_fast if self._book_fast else s.book
        if kind == "fundings":
            return FUNDINGS_THRESHOLD
        if kind == "candle":
            return CANDLE_THRESHOLD
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
        """Freshness of one feed (works for any key, expected or not)."""
        now = self._clock()
        return classify(
            feed_key,
            self._stamps.get(feed_key),
            now,
            self.threshold(feed_key),
            socket_alive=self._socket_alive(now),
        )

    def feed_statuses(self) -> dict[str, FeedStatus]:
        """Freshness of every expected feed, in a stable display order."""
        now = self._clock()
        alive = self._socket_alive(now)
        return {
            key: classify(key, self._stamps.get(key), now, self.threshold(key), socket_alive=alive)
            for key in sorted(self._expected, key=sort_key)
        }

    def stale_feeds(self) -> list[str]:
        """Expected feeds that are STALE or MISSING right now (what the fallback should poll)."""
        bad = (FeedState.STALE, FeedState.MISSING)
        return [k for k, st in self.feed_statuses().items() if st.state in bad]

    @property
    def expected(self) -> frozenset[str]:
        return frozenset(self._expected)

    def take_changes(self) -> set[str]:
        """Keys changed since the last call (and reset)."""
        changes = self._changes
        self._changes = set()
        return changes

    # ================================================================== reads: market

    @property
    def mids(self) -> Mapping[str, str]:
        """The last allMids map as received. Read-only: do not mutate."""
        return self._market.mids

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

    def mid_history(self, coin: str) -> list[float]:
        """One mid sample per allMids push for watched/tracked coins, oldest first."""
        return self._market.mid_history(coin)

    def candles(self, coin: str, interval: str | None = None) -> list[Candle]:
        """Candles oldest first, for ``interval`` or the interval last pushed for ``coin``."""
        return self._market.candle_list(coin, interval)

    # ================================================================== reads: account

    def account_summary(self) -> AccountSummary | None:
        """Summary of the default dex's clearinghouse state; None before the first push."""
        if self._summary_cache is None:
            ch = self._account.clearinghouse.get("")
            st = self._stamps.get("account")
            if ch is None or st is None:
                return None
            self._summary_cache = account_summary(ch, st.source, st.received_at)
        return self._summary_cache

    def positions(self) -> list[PositionView]:
        """Open positions (default dex first) with hlmon's derived numbers.

        Marks come only from fresh feeds (``ctx:COIN``, else ``mids``, see ``mark_price``);
        the cache is rebuilt when which of them are fresh changes, not only on pushes.
        """
        now = self._clock()
        alive = self._socket_alive(now)
        coins = [
            ap.position.coin
            for ch in self._account.clearinghouse.values()
            for ap in ch.assetPositions
        ]
        fresh = frozenset(
            key
            for key in ("mids", *("ctx:" + coin for coin in coins))
            if self._is_fresh(key, now, alive)
        )
        if self._positions_cache is None or fresh != self._positions_fresh:
            ctxs = self._market.ctxs
            mids = self._market.mids if "mids" in fresh else {}
            views: list[PositionView] = []
            for dex in sorted(self._account.clearinghouse):
                for ap in self._account.clearinghouse[dex].assetPositions:
                    coin = ap.position.coin
                    ctx = ctxs.get(coin) if "ctx:" + coin in fresh else None
                    views.append(
                        position_view(
                            ap.position, ctx.markPx if ctx is not None else None, mids.get(coin)
                        )
                    )
            self._positions_cache = views
            self._positions_fresh = fresh
        return list(self._positions_cache)

    def _is_fresh(self, feed_key: str, now: float, socket_alive: bool) -> bool:
        """``feed_key`` is LIVE, FALLBACK (fresh over REST) or QUIET (an event feed, alive)."""
        status = classify(
            feed_key,
            self._stamps.get(feed_key),
            now,
            self.threshold(feed_key),
            socket_alive=socket_alive,
        )
        return status.state in (FeedState.LIVE, FeedState.FALLBACK, FeedState.QUIET)

    @property
    def watched_users(self) -> tuple[str, ...]:
        """Addresses with a summary row (``set_watched_users``), lower-case, in order."""
        return self._accounts.watched

    def accounts(self) -> list[AccountRow]:
        """One summary row per watched address (just the selected user's when none are set),
        with freshness; change key ``accounts``."""
        now = self._clock()
        addresses = self._accounts.watched or ((self._user,) if self._user else ())
        return self._accounts.rows(
            now,
            self.threshold("account"),
            selected=self._user,
            socket_alive=self._socket_alive(now),
            addresses=addresses,
        )

    def accounts_total(self, rows: list[AccountRow] | None = None) -> AccountTotals:
        """Totals over ``rows`` (default: ``accounts()``)."""
        return self._accounts.totals(self.accounts() if rows is None else rows)

    def account_stamp(self, address: str) -> Stamp | None:
        """When and from where ``address``'s row was last updated (None: never)."""
        return self._accounts.stamp(address)

    def open_orders(self) -> list[FrontendOrder]:
        """Open orders, newest first."""
        return self._account.open_orders()

    def fills(self) -> list[Fill]:
        """Fills, newest first, deduped by ``account.fill_key`` ((tid, oid) when tid is set)."""
        return self._account.fills.newest_first()

    def fundings(self) -> list[Funding]:
        """Funding payments, newest first, deduped by (time, coin)."""
        return self._account.fundings.newest_first()

    def ledger(self) -> list[LedgerUpdate]:
        """Non-funding ledger updates (deposits, withdrawals...), newest first."""
        return self._account.ledger.newest_first()

    def liquidations(self) -> list[Liquidation]:
        """Liquidation events seen on the ``user`` channel, oldest first."""
        return list(self._account.liquidations)

    def web_data(self) -> dict[str, Any] | None:
        """The last webData3 payload (raw), if subscribed."""
        return self._web_data

    def newest_fill_time(self) -> int | None:
        """Exchange time (ms) of the newest fill kept; reconciliation asks REST from there."""
        newest = self._account.fills.newest
        return newest.time if newest is not None else None
