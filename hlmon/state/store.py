"""The Store: hlmon's single source of truth for market data, account data and freshness.

Feeds write (``apply`` and the ``set_*`` calls); the UI reads on a timer and asks
``take_changes()`` what to redraw. The store is pure: no I/O, no asyncio, no Textual, and time
comes from the injected clock, so tests drive it deterministically.

``apply`` is the hot path (thousands of frames a second): it stores the decoded struct as is,
stamps the feed and records a change key; derived numbers are computed on read and cached.

Facts about the feeds themselves (connection, liveness, counters, REST usage, the event log)
are in ``store.health`` (``FeedHealth``), which the feeds push to directly; the store reads
socket liveness from it for freshness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from hlmon.config import StaleThresholds
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

from .account import AccountState
from .accounts import AccountBook, AccountRow, AccountTotals, is_older
from .clock import RebasingClock
from .freshness import (
    CANDLE_THRESHOLD,
    DEFAULT_EVENT_THRESHOLD,
    FUNDINGS_THRESHOLD,
    classify,
    feed_kind,
    sort_key,
)
from .health import FeedHealth
from .market import MarketState
from .positions import account_summary, position_view
from .types import (
    AccountSummary,
    Clock,
    FeedState,
    FeedStatus,
    PositionView,
    Source,
    Stamp,
)

_DEFAULT_STALE = StaleThresholds()
_ACCOUNT_KEYS = ("account", "orders", "fills", "fundings", "ledger", "webData3")
"""Change keys (and feed keys) that belong to the watched user."""
_USERLESS_CHANNELS = ("orderUpdates", "userEvents")
"""User channels whose frames do not name their user (subscription types)."""
_Handler = Callable[[Any, Source, float], None]
_THRESHOLD_FIELDS = frozenset(("mids", "bbo", "trades", "ctx", "account", "orders", "fills"))


class Store:
    """Market + account state and freshness per feed; ``health`` holds the feeds' own facts."""

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
        # One clock for the store and its health, so one step back rebases every held time.
        rebasing = RebasingClock(clock)
        rebasing.on_step_back(self._shift_times)
        self._clock = rebasing.now
        self.health = FeedHealth(rebasing, alive_window=alive_window, log_cap=log_cap)
        """Connection, liveness, counters, REST usage and the event log, pushed by the feeds."""
        self._stale = stale
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
        self.ignored_user_msgs = 0
        """Account frames dropped because they were for another address (or none is set)."""

        self._stamps: dict[str, Stamp] = {}
        self._expected: set[str] = set()
        self._changes: set[str] = set()
        self._positions_cache: list[PositionView] | None = None
        self._positions_fresh: frozenset[str] = frozenset()
        """The mark feeds (``mids``, ``ctx:COIN``) that were fresh when the cache was built."""
        self._summary_cache: AccountSummary | None = None

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
            self.health.unknown_frames += 1
            return
        handler(msg, source, self._clock())

    def apply_fills(self, fills: Iterable[Fill], source: Source) -> int:
        """Merge fills, deduped by ``account.fill_key``; returns how many were new.

        Used for ``userFills`` (snapshot or not), ``user`` fill events and REST reconciliation
        alike, so the same fill arriving three ways is kept once.
        """
        return self._add_fills(fills, source, self._clock())

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

    def _shift_times(self, delta: float) -> None:
        """The clock stepped back by ``-delta`` s: move every held time with it (see ``clock``)."""
        self._stamps = {
            key: replace(st, received_at=st.received_at + delta) for key, st in self._stamps.items()
        }
        self._accounts.shift_times(delta)
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

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _is_account_key(key: str) -> bool:
        kind = feed_kind(key)
        return kind in _ACCOUNT_KEYS or kind in ("orderUpdates", "assetData")

    def _invalidate_account(self) -> None:
        """The account changed: derived positions and summary are rebuilt on the next read."""
        self._positions_cache = None
        self._summary_cache = None

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

    def _on_all_mids(self, msg: AllMidsMsg, source: Source, now: float) -> None:
        self._market.set_mids(msg.data.mids)
        self._stamps["mids"] = Stamp(now, None, source)
        self._changes.add("mids")
        self._positions_cache = None  # marks may come from mids

    def _on_l2_book(self, msg: L2BookMsg, source: Source, now: float) -> None:
        book = msg.data
        self._market.books[book.coin] = book
        key = "book:" + book.coin
        self._stamps[key] = Stamp(now, book.time, source)
        self._changes.add(key)

    def _on_trades(self, msg: TradesMsg, source: Source, now: float) -> None:
        trades = msg.data
        if not trades:
            return  # an empty frame names no coin
        changed = self._market.add_trades(trades)
        coins = {t.coin for t in trades} if len(trades) > 1 else {trades[0].coin}
        stamp = Stamp(now, trades[-1].time, source)
        for coin in coins:
            # Duplicates still prove the feed is flowing, so stamp every coin in the frame.
            self._stamps["trades:" + coin] = stamp
        for coin in changed:
            self._changes.add("trades:" + coin)

    def _on_bbo(self, msg: BboMsg, source: Source, now: float) -> None:
        bbo = msg.data
        self._market.bbos[bbo.coin] = bbo
        key = "bbo:" + bbo.coin
        self._stamps[key] = Stamp(now, bbo.time, source)
        self._changes.add(key)

    def _on_candle(self, msg: CandleMsg, source: Source, now: float) -> None:
        candle = msg.data
        self._market.add_candle(candle)
        key = "candle:" + candle.coin
        self._stamps[key] = Stamp(now, candle.open_time, source)
        self._changes.add(key)

    def _on_ctx(self, msg: ActiveAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        self._market.ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._stamps[key] = Stamp(now, None, source)
        self._changes.add(key)
        self._positions_cache = None  # marks come from ctx

    def _on_spot_ctx(self, msg: ActiveSpotAssetCtxMsg, source: Source, now: float) -> None:
        coin = msg.data.coin
        self._market.spot_ctxs[coin] = msg.data.ctx
        key = "ctx:" + coin
        self._stamps[key] = Stamp(now, None, source)
        self._changes.add(key)

    def _on_asset_data(self, msg: ActiveAssetDataMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._market.asset_data[data.coin] = data
        key = "assetData:" + data.coin
        self._stamps[key] = Stamp(now, None, source)
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
        self._account.clearinghouse[data.dex] = state
        self._stamps["account"] = Stamp(now, state.time, source)
        self._invalidate_account()
        self._changes.add("account")

    def _on_open_orders(self, msg: OpenOrdersMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._account.replace_orders(data.dex, data.orders)
        self._stamps["orders"] = Stamp(now, None, source)
        self._changes.add("orders")

    def _on_order_updates(self, msg: OrderUpdatesMsg, source: Source, now: float) -> None:
        if not self._have_user("orderUpdates"):
            return
        # Not an "orders" stamp: the periodic openOrders push is what proves that feed alive,
        # and incremental updates must not hide it stopping.
        self._stamps["orderUpdates"] = Stamp(now, None, source)
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
            self.health.log(f"{len(oids)} order(s) cancelled by the system", "warn")
        if ev.liquidation is not None:
            self._account.liquidations.append(ev.liquidation)
            liq = ev.liquidation
            self.health.log(
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
        self._stamps["fills"] = Stamp(now, newest.time if newest is not None else None, source)
        if new:
            self._changes.add("fills")
        return new

    def _on_user_fundings(self, msg: UserFundingsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._add_fundings(msg.data.fundings, source, now)

    def _add_fundings(self, fundings: Iterable[Funding], source: Source, now: float) -> None:
        new = self._account.fundings.add_many(fundings)
        newest = self._account.fundings.newest
        self._stamps["fundings"] = Stamp(now, newest.time if newest is not None else None, source)
        if new:
            self._changes.add("fundings")

    def _on_ledger(self, msg: UserNonFundingLedgerUpdatesMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        new = self._account.ledger.add_many(data.nonFundingLedgerUpdates)
        self._stamps["ledger"] = Stamp(now, None, source)
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
        self._stamps["webData3"] = Stamp(now, None, source)
        self._changes.add("webData3")

    def _on_notification(self, msg: NotificationMsg, source: Source, now: float) -> None:
        if self._have_user():
            self.health.log(f"notification: {msg.data.notification}")

    def _on_ack(self, msg: SubscriptionResponseMsg, source: Source, now: float) -> None:
        self.health.note_ack()
        if self._userless_closed and msg.data.method == "subscribe":
            sub = msg.data.subscription
            user = sub.get("user")
            if isinstance(user, str) and user.lower() == self._user:
                self._userless_closed.discard(str(sub.get("type")))

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
            socket_alive=self.health.socket_alive(now),
        )

    def feed_statuses(self) -> dict[str, FeedStatus]:
        """Freshness of every expected feed, in a stable display order."""
        now = self._clock()
        alive = self.health.socket_alive(now)
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
        health = self.health.take_changes()
        return changes | health if health else changes

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
        alive = self.health.socket_alive(now)
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
            socket_alive=self.health.socket_alive(now),
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
