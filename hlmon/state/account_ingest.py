"""The account half of ``Store.apply``: one handler per user channel, the user filter, and the
choice of user (``set_user``, ``set_watched_users``).

Account frames reach ``AccountState`` only when they are for the watched address (``set_user``);
frames for another address (or when none is set) are counted in ``ignored_user_msgs`` and
dropped. Clearinghouse states are kept per dex NAME, from ``allDexsClearinghouseState`` and
per-dex ``clearinghouseState`` frames alike (feed keys ``account`` for the default dex,
``account:<dex>`` for the others); a dex missing from a push is unknown and keeps its last
state, and an older state (exchange ``time``) never replaces a newer one of the same dex.
Channels whose frames name no user (orderUpdates, user events) are accepted once the server has
acknowledged the current user's subscription (see ``set_user``). A watched account other than
the selected one only feeds its summary row (``AccountBook``).

A base class of ``Store`` for the same reason as ``MarketIngest``: bound methods sharing the
store's stamps, change keys and caches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hlmon.protocol.messages import (
    ActiveAssetDataMsg,
    AllDexsClearinghouseStateMsg,
    ClearinghouseState,
    ClearinghouseStateMsg,
    Fill,
    FrontendOrder,
    Funding,
    LedgerUpdate,
    Liquidation,
    NotificationMsg,
    OpenOrdersMsg,
    OrderUpdatesMsg,
    SubscriptionResponseMsg,
    UserEventsMsg,
    UserFillsMsg,
    UserFundingsMsg,
    UserNonFundingLedgerUpdatesMsg,
    WebData3Msg,
)

from .account import AccountState
from .accounts import AccountBook, is_older
from .catalog_state import CatalogState
from .dexes import FUNDING_ACTIVITY_MS, account_feed, orders_feed
from .extras_ingest import TWAP_SLICES_FEED, ExtrasIngest
from .freshness import feed_kind
from .health import FeedHealth
from .lag import LagStamps
from .market import MarketState
from .twap import SLICES_ANSWERED, TwapProgress, derived_twaps
from .types import AccountSummary, Handler, PositionView, Source, Stamp

_ACCOUNT_KEYS = ("account", "orders", "fills", "fundings", "ledger", "webData3")
"""Change keys (and feed keys) that belong to the watched user."""
_USERLESS_CHANNELS = ("orderUpdates", "userEvents")
"""User channels whose frames do not name their user (subscription types)."""


def _shape(state: ClearinghouseState) -> list[tuple[object, ...]]:
    """What a re-mark leaves as it is: each position's coin, size, entry and leverage."""
    return [
        (p.position.coin, p.position.szi, p.position.entryPx, p.position.leverage)
        for p in state.assetPositions
    ]


class AccountIngest(ExtrasIngest, LagStamps):
    """Handlers for the watched user's channels and subscription acks; which user is watched.

    The whole-account extras (spot, TWAP, modes, liquidations) are ``ExtrasIngest``'s."""

    # Set by Store.__init__.
    health: FeedHealth
    ignored_user_msgs: int
    _market: MarketState
    catalog_state: CatalogState
    _account: AccountState
    _accounts: AccountBook
    _user: str | None
    _userless_closed: set[str]
    _web_data: dict[str, Any] | None
    _stamps: dict[str, Stamp]
    _changes: set[str]
    _positions_cache: list[PositionView] | None
    _summary_cache: AccountSummary | None
    _shape_version: int
    """Moves when a position of the selected account opens, closes, changes size, side, entry
    or leverage, or the account is switched (``position_shape_version``)."""

    @property
    def position_shape_version(self) -> int:
        """Moves when the selected account's positions change in shape (see ``_shape_version``),
        not when a push only re-marks them: the exchange re-pushes each dex's state every few
        seconds with new uPnL, margin and liquidation prices as the marks move. A reader that
        follows prices at its own pace can tell the two apart (``screens.dashboard``)."""
        return self._shape_version

    def _account_handlers(self) -> dict[type, Handler]:
        """Message type -> handler, for ``Store.apply``'s dispatch table (each counting what
        the tolerant decoder did to its message first)."""
        handlers: dict[type, Handler] = {
            ActiveAssetDataMsg: self._on_asset_data,
            ClearinghouseStateMsg: self._on_clearinghouse,
            AllDexsClearinghouseStateMsg: self._on_all_dexs,
            OpenOrdersMsg: self._on_open_orders,
            OrderUpdatesMsg: self._on_order_updates,
            UserEventsMsg: self._on_user_event,
            UserFillsMsg: self._on_user_fills,
            UserFundingsMsg: self._on_user_fundings,
            UserNonFundingLedgerUpdatesMsg: self._on_ledger,
            WebData3Msg: self._on_web_data,
            NotificationMsg: self._on_notification,
            SubscriptionResponseMsg: self._on_ack,
            **self._extras_handlers(),
        }
        return {tp: self._tolerant(h) for tp, h in handlers.items()}

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
        self._reset_extras(new)
        self._market.asset_data.clear()
        self._web_data = None
        for key in [k for k in self._stamps if self._is_account_key(k)]:
            del self._stamps[key]
        held = self._accounts.states_of(new) if new is not None else {}
        for dex, (state, stamp) in held.items():
            # A watched account's last states show at once, with their own ages and sources.
            self._account.clearinghouse[dex] = state
            self._stamps[account_feed(dex)] = stamp
        self._invalidate_account()
        self._shape_version += 1
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
            selected = () if self._user is None else (self._user,)
            self._facts.keep_only((*self._accounts.watched, *selected))

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

    def _on_asset_data(self, msg: ActiveAssetDataMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        table = self._market.asset_data
        if data.coin not in table:
            self._market.make_room(table, "assetData")
        table[data.coin] = data
        key = "assetData:" + data.coin
        self._stamps[key] = Stamp(now, None, source)
        self._changes.add(key)

    def _on_clearinghouse(self, msg: ClearinghouseStateMsg, source: Source, now: float) -> None:
        data = msg.data
        self._apply_dex_states(data.user, ((data.dex, data.clearinghouseState),), source, now)

    def _on_all_dexs(self, msg: AllDexsClearinghouseStateMsg, source: Source, now: float) -> None:
        data = msg.data
        if data.dropped:
            # The decoder kept the readable dexes; the others keep their last state (unknown).
            self.health.note_rejected(
                f"allDexsClearinghouseState: {data.dropped} unreadable dex entries", data.user
            )
        self._apply_dex_states(data.user, data.clearinghouseStates, source, now)
        if self._user is not None and data.user.lower() == self._user:
            self._account.dexes_listed = True

    def _apply_dex_states(
        self,
        user: str,
        states: Iterable[tuple[str, ClearinghouseState]],
        source: Source,
        now: float,
    ) -> None:
        """Land ``user``'s per-dex states: in its summary row (any watched user) and, for the
        selected user, in the detail. Joined by dex name; dexes not listed are left alone."""
        address = user.lower()
        mine = self._user is not None and address == self._user
        if not mine and not self._accounts.accepts(address):
            self.ignored_user_msgs += 1
            return
        row_changed = changed = False
        lags: dict[int, float | None] = {}  # one lag sample per exchange time, not per dex
        for dex, state in states:
            if self._accounts.apply(address, state, source, now, dex=dex, also=self._user):
                row_changed = True
            held = self._account.clearinghouse.get(dex)
            if not mine or is_older(state, held):
                continue  # an older answer (a slow REST reply) must not replace a newer push
            if held is None or _shape(held) != _shape(state):
                self._shape_version += 1
            self._account.clearinghouse[dex] = state
            lag = None
            if state.time:
                if state.time not in lags:
                    lags[state.time] = self._measure_lag(state.time, source, now)
                lag = lags[state.time]
            self._stamps[account_feed(dex)] = Stamp(now, state.time, source, lag)
            changed = True
        if row_changed:
            self._changes.add("accounts")
        if changed:
            self._invalidate_account()
            self._changes.add("account")

    def _on_open_orders(self, msg: OpenOrdersMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        changed = self._account.replace_orders(data.dex, data.orders)
        self._stamps[orders_feed(data.dex)] = Stamp(now, None, source)
        if changed:  # a re-push of the same list rebuilds nothing (its age is in the stamp)
            self._changes.add("orders")

    def _on_order_updates(self, msg: OrderUpdatesMsg, source: Source, now: float) -> None:
        if not self._have_user("orderUpdates"):
            return
        # Not an "orders" stamp: the periodic openOrders push is what proves that feed alive,
        # and incremental updates must not hide it stopping.
        self._stamps["orderUpdates"] = Stamp(now, None, source)
        self._note_order_updates(msg.data)
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
        self._note_user_event(msg, source, now)

    def _on_user_fills(self, msg: UserFillsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._add_fills(msg.data.fills, source, now)

    def _add_fills(self, fills: Iterable[Fill], source: Source, now: float) -> int:
        fills = list(fills)
        self._note_fills_seen(fills)
        for f in fills:
            self._account.note_activity(f.coin, f.time)
        new = self._account.fills.add_many(fills)
        newest = self._account.fills.newest
        if not self._confirms_socket("fills", new, source, now):
            self._stamps["fills"] = Stamp(now, newest.time if newest is not None else None, source)
        if new:
            self._changes.add("fills")
            # A fill in a market listed since the catalog loaded makes the feeds reload it.
            self.catalog_state.note_names({f.coin for f in fills})
        return new

    def _confirms_socket(self, feed: str, new: int, source: Source, now: float) -> bool:
        """Whether a REST answer that added nothing to a history the live websocket already
        delivered leaves its stamp as it is. The start-up load often lands just after the
        websocket's snapshot; stamped, it would show ``fills REST`` until the next fill (an
        event feed can stay quiet for hours) while the socket carries the feed. With the
        socket down, a REST answer is the feed: it is stamped, new rows or not."""
        if new or source is not Source.REST:
            return False
        stamp = self._stamps.get(feed)
        return stamp is not None and stamp.source is Source.WS and self.health.socket_alive(now)

    def _on_user_fundings(self, msg: UserFundingsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._add_fundings(msg.data.fundings, source, now)

    def _add_fundings(self, fundings: Iterable[Funding], source: Source, now: float) -> None:
        fundings = list(fundings)
        for f in fundings:  # an hourly payment names the dex of a position held there
            self._account.note_activity(f.coin, f.time, FUNDING_ACTIVITY_MS)
        new = self._account.fundings.add_many(fundings)
        newest = self._account.fundings.newest
        if not self._confirms_socket("fundings", new, source, now):
            self._stamps["fundings"] = Stamp(
                now, newest.time if newest is not None else None, source
            )
        if new:
            self._changes.add("fundings")

    def _on_ledger(self, msg: UserNonFundingLedgerUpdatesMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._note_ledger(data.nonFundingLedgerUpdates)
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
        self._note_web_data(msg)
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

    # ------------------------------------------------------------------ account reads

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

    def twaps(self) -> list[TwapProgress]:
        """Active TWAPs of the selected account, oldest first: from ``twapStates`` once the
        websocket has sent them, else rebuilt from the TWAP history and the slice fills held
        (REST mode: ``state.twap.derived_twaps``)."""
        if self.twaps_streamed():
            return super().twaps()
        ring = self._account.fills
        held = ring.newest_first()
        slices = [f for f in held if f.twapId is not None]
        # Slices older than the oldest held may be missing: the ring dropped them, or the
        # exchange's answer (the last SLICES_ANSWERED) did not reach back that far.
        since = None
        if len(ring) >= ring.cap:
            since = held[-1].time
        elif len(slices) >= SLICES_ANSWERED:
            since = slices[-1].time
        now_ms = int(self._clock() * 1000)
        loaded = TWAP_SLICES_FEED in self._stamps
        return derived_twaps(self.twap_history(), slices, now_ms, since, loaded)

    def newest_fill_time(self, *, twap: bool | None = None) -> int | None:
        """Exchange time (ms) of the newest fill kept; reconciliation asks REST from there.
        ``twap`` True: of TWAP slice fills only, False: of the others only. REST serves the
        two by separate calls, each with its own cursor: a slice polled first must not move
        the fills' cursor past a plain fill not polled yet."""
        if twap is None:
            newest = self._account.fills.newest
            return newest.time if newest is not None else None
        for fill in self._account.fills.newest_first():
            if (fill.twapId is not None) is twap:
                return fill.time
        return None
