"""``FeedEngine``: ties the websocket feed, the /info client, the REST poller and
reconciliation to one ``Store``.

The UI (or the headless snapshot) builds one engine, ``await start()``s it and calls the
synchronous selectors (``select_coin``, ``set_book_mode``, ``add_coin``, ``remove_coin``) when
the user acts; those only change subscriptions and expectations, the I/O happens in the
engine's tasks. ``await stop()`` cancels every task, closes the socket and the HTTP client.

Coins: nothing that takes a coin is subscribed before the market catalog is in force
(``CatalogKeeper`` loads it at start, from the exchange or the disk cache, and keeps it
current), and then only the catalog's exact listed names (``MarketSubscriptions``): since 2026
one unlisted name drops the whole socket. ``select_coin`` / ``add_coin`` refuse any other name
with ``ValueError``. Feeds that take no coin (the accounts', the default dex's mids) start at
once.

Several accounts (``settings.watched_addresses``, at most ``settings.max_users``: the
exchange's unique-user limit; a new user's subscriptions go one at a time, each acknowledged
before the next, see ``ws_limits``): each gets an ``allDexsClearinghouseState`` subscription
(every dex, one user slot) and the default dex's ``clearinghouseState`` (same user slot: it
keeps the default dex known when an ``allDexsClearinghouseState`` push leaves its ``""`` entry
out, a known exchange bug) for its
summary row (``Store.accounts()``); only the selected one (``user``) also gets openOrders,
orderUpdates, userEvents, userFills and userFundings. Open orders are per dex: the default
dex's from the start, and those of each dex the account turns out to be active on
(``Store.active_dexes``, checked every ``dex_tick`` s, 0.25 by default, and whenever the REST
poller's demand changed) as soon as it is; the active dexes'
feed keys (``account:<dex>``, ``orders:<dex>``) are then expected, so REST serves exactly
those. ``select_user(address)`` moves the detail feeds to another watched address and
reconciles it over REST when a websocket is in use (in REST mode the poller's next round loads it).

``RestPoller`` (``hlmon.feeds.rest_poller``) serves every feed on screen over ``/info`` by plan:
as the fallback when the websocket is down or a feed is stale, and always in REST mode
(``use_websocket = false``), where the connection shows ``REST``, not ``DOWN``. In REST mode the
poller's first polls are the account's load: there is no socket to reconcile with, and a
reconciliation would fetch the same states, orders, spot and fills again (about 90 weight of
a 600 budget, in the minute that is shortest of it). While REST
serves the accounts, a discovery sweep (``dex_fetch.sweep``: the state of every other catalog
dex, every ``SWEEP_INTERVAL``) finds HIP-3 activity that no websocket push reports.

``CandleKeeper`` (``hlmon.feeds.candle_keeper``) keeps 1 h candles of the watched coins over
``/info`` (the watchlist's 24 h sparklines, the selected coin's chart), in both modes.

With a ``recorder`` (built by the composition root, ``hlmon.runtime``), every frame the
websocket receives is recorded (``hlmon.feeds.recorder``); ``stop()`` flushes and closes it.

Every long-lived task (websocket feed, REST poller, catalog keeper, reconciliation) runs under a
``Supervisor`` (``hlmon.feeds.supervisor``): one that dies unexpectedly is logged, shows the
connection DOWN with the reason, and is restarted with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from hlmon.cache_dir import resolve_cache_dir
from hlmon.feeds.account_checks import AccountChecks
from hlmon.feeds.account_subs import AccountSubscriptions
from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.feeds.candle_keeper import CandleKeeper
from hlmon.feeds.catalog_keeper import CatalogKeeper, network_cache_dir
from hlmon.feeds.dex_fetch import SweepClock, sendable_dex, sweep, sweep_dexes
from hlmon.feeds.info_client import DEFAULT_TIMEOUT, InfoClient, InfoError
from hlmon.feeds.market_subs import MarketSubscriptions
from hlmon.feeds.market_wide import MarketWide
from hlmon.feeds.reconcile import Mark, Reconciler, ReconcileResult
from hlmon.feeds.recorder import FrameRecorder
from hlmon.feeds.rest_poller import RestPoller
from hlmon.feeds.rest_sources import ScreenState
from hlmon.feeds.routes import open_route
from hlmon.feeds.settings import EngineSettings, WebsocketSettings
from hlmon.feeds.supervisor import Supervisor
from hlmon.feeds.ticks import sleep_on_grid
from hlmon.feeds.via import ViaRoute
from hlmon.feeds.ws_feed import WsFeed
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import ConnState, Store
from hlmon.state.catalog import MarketCatalog
from hlmon.state.dexes import account_feed, orders_feed

CATALOG_FIRST = 5.0
"""Seconds the start-up reconciliation waits for the catalog's first load (see
``_reconcile_until_done``)."""


class FeedEngine(AccountSubscriptions):
    """Owns every network task that feeds the store."""

    def __init__(
        self,
        settings: EngineSettings,
        store: Store,
        *,
        http_client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
        timings: WebsocketSettings | None = None,
        fallback_down_grace: float = 3.0,
        reconcile_retry_cap: float = 30.0,
        recorder: FrameRecorder | None = None,
        dex_tick: float = 0.25,
        catalog: MarketCatalog | None = None,
        cache_dir: Path | None = None,
        catalog_cache: bool = True,
        candles: bool = True,
    ) -> None:
        """
        Args:
            settings: what to connect to and watch.
            store: where everything lands.
            http_client: an ``httpx.AsyncClient`` to use (the engine then does not close it).
            rng: random source for every backoff (tests pin it).
            clock: wall-clock seconds (``time.time``) for fill-time arithmetic.
            timings: websocket timings; default from ``settings.websocket``.
            fallback_down_grace: seconds the websocket may be down before REST takes over.
            reconcile_retry_cap: cap on the delay between failed reconciliation attempts.
            recorder: where to record received frames (started and closed by the engine), or
                None.
            dex_tick: seconds between two checks of the selected account's active dexes
                (~70 us a check on a small Xeon): a dex found active mid-run gets its
                ``openOrders`` within a quarter second, also while the REST poller's calm
                rounds are a second apart.
            catalog: a market catalog to start with (the first reload comes 10 min later);
                None: load it at start.
            cache_dir: where the last good catalog is kept; default from the settings
                (``cache_dir``, ``$HLMON_CACHE_DIR``, the user cache dir), one directory per
                exchange endpoint (``network_cache_dir``).
            catalog_cache: False: no disk cache at all (the ``--demo`` simulator's catalog).
            candles: run the ``CandleKeeper`` (False: no candles are asked).
        """
        self.settings = settings
        self.store = store
        self._rng = rng or random.Random()
        self._clock = clock or time.time
        self.user = settings.address.lower() if settings.address else None
        self.users: tuple[str, ...] = settings.watched_addresses
        """Every watched address (lower-case, display order); ``user`` is the selected one."""
        self.via: ViaRoute | None = None
        """The route through an ``hlmon daemon`` (``settings.daemon_endpoint``), or None."""
        if settings.daemon_endpoint:
            self.via = open_route(
                settings.daemon_endpoint,
                settings.daemon_token,
                direct_api_url=settings.api_url,
                direct_ws_url=settings.ws_url,
                health=store.health,
            )
            http_client = self.via.http_client(DEFAULT_TIMEOUT)
        self._upstream_down_at: float | None = None
        self.info = InfoClient(
            self.via.api_url if self.via is not None else settings.api_url,
            budget=settings.rest_weight_budget,
            usage=store.health,
            http_client=http_client,
            rng=self._rng,
        )
        self.recorder = recorder
        """Records every received websocket frame (and the /info answers a replay needs), or
        None."""
        if recorder is not None:
            self.info.on_answer = recorder.info_answer
        timings = timings or settings.websocket
        self.supervisor = Supervisor(
            store.health,
            FullJitterBackoff(timings.backoff_initial, timings.backoff_max, self._rng),
            on_restart=self._restarted,
            stable_after=timings.stable_after,
        )
        """Runs every long-lived task below and restarts any that crashes."""
        self.markets = MarketSubscriptions(
            store,
            settings.watchlist,
            add=self._add,
            remove=self._remove,
            on_unlisted=lambda why: self.catalog.request_reload(why),
        )
        """Every subscription that takes a coin: catalog names only."""
        self.market_wide = MarketWide(store, add=self._add, remove=self._remove)
        """The market screen's streams and REST feeds, only while it is shown."""
        self.ws: WsFeed | None = None
        if settings.use_websocket:
            self.ws = WsFeed(
                settings.ws_url,
                store,
                timings,
                rng=self._rng,
                on_live=self._on_live,
                on_down=self._on_down,
                recorder=recorder,
                route=self.via,
                on_daemon=self._on_daemon if self.via is not None else None,
                max_users=settings.max_users,
                on_held_back=self.markets.hold_back,
            )
        self.rest = RestPoller(
            self.info,
            store,
            screen=self._screen,
            ws_live=self._ws_live,
            rest_mode=self.ws is None,
            down_grace=fallback_down_grace,
            wall_clock=self._clock,
            follow_demand=self.sync_dexes,
        )
        """Serves the screen over /info by plan: the fallback, or the transport in REST mode
        (made before the catalog keeper, whose initial catalog pokes it)."""
        if catalog_cache and cache_dir is None:
            cache_dir = network_cache_dir(resolve_cache_dir(settings.cache_dir), settings.api_url)
        self.catalog = CatalogKeeper(
            self.info,
            store,
            cache_dir if catalog_cache else None,
            on_catalog=self._on_catalog,
            initial=catalog,
            rng=self._rng,
        )
        """Loads the market catalog at start and keeps it current."""
        self.reconciler = (
            Reconciler(self.info, store, self.user, clock=self._clock) if self.user else None
        )
        self.checks = AccountChecks(
            self.info,
            store,
            users=lambda: self.users,
            selected=lambda: self.user,
            ready=lambda: self.reconciler is None or self.ws is None or self.reconciled.is_set(),
        )
        """userRole and userAbstraction once per address, the selected one's equity history."""
        self.candles = CandleKeeper(
            self.info,
            store,
            coins=lambda: self.markets.watchlist,
            selected=lambda: self.markets.selected,
            burst=self._ws_live,
        )
        """1 h candles of the watched coins (sparklines) and the selected one (its chart)."""
        self._keep_candles = candles
        self.dex_tick = dex_tick
        self._order_dexes: set[str] = set()
        """HIP-3 dexes whose open orders (and state keys) are followed for ``user``."""
        self._refused_dexes: set[str] = set()
        self.sweeps = SweepClock()
        """When each watched account's dexes were last swept over REST."""
        self._mark: Mark | None = None
        """Store contents when the socket was lost; consumed by the next reconciliation."""
        self._pending_mark: Mark | None = None
        """Mark of the reconciliation in progress (kept if a newer outage replaces it)."""
        self._reconcile_task: asyncio.Task[None] | None = None
        self._reconcile_backoff = FullJitterBackoff(1.0, reconcile_retry_cap, self._rng)
        self._started = False
        self.reconciled = asyncio.Event()
        """Set after the first successful reconciliation (startup bootstrap or reconnect)."""
        self.last_reconcile: ReconcileResult | None = None
        self.reconcile_count = 0

    # ------------------------------------------------------------------ properties

    @property
    def selected_coin(self) -> str | None:
        """The coin whose book, trades and bbo are subscribed."""
        return self.markets.selected

    @property
    def watchlist(self) -> tuple[str, ...]:
        """Coins with an asset-context subscription (exact catalog names), in display order;
        empty until the market catalog is in force."""
        return tuple(self.markets.watchlist)

    def _ws_live(self) -> bool:
        # Through a daemon, its own link to the exchange must be live too.
        return self.ws is not None and self.ws.live.is_set() and self.store.health.upstream_live

    def _other_users(self) -> list[str]:
        return [u for u in self.users if u != self.user]

    def _screen(self) -> ScreenState:
        """What the screen shows, for the REST poller's plan (catalog names only: nothing
        that takes a coin before the catalog is in force)."""
        return ScreenState(
            selected_coin=self.markets.selected,
            n_sig_figs=self.markets.n_sig_figs,
            watchlist=tuple(self.markets.watchlist),
            user=self.user,
            others=tuple(self._other_users()),
            market_dexes=self.market_wide.dexes(),
            market_spot=self.market_wide.spot,
        )

    def _on_catalog(self, catalog: MarketCatalog, from_cache: bool) -> None:
        self.markets.use_catalog(catalog)
        self.market_wide.sync()
        self.rest.poke()  # the watchlist's names are in force: the plan follows at once

    def show_market(self, on: bool) -> None:
        """The market screen opened or closed: its feeds run only while it is shown."""
        self.market_wide.show(on)
        self.rest.poke()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Subscribe, connect, load the market catalog (coins are subscribed once it is in
        force), start the REST poller and (with an address) bootstrap the account."""
        if self._started:
            return
        self._started = True
        if self.recorder is not None:
            self.recorder.start()  # creates the file: an unwritable path fails here, at once
        store = self.store
        store.set_watched_users(self.users, dict(self.settings.labels))
        store.set_user(self.user)
        if self.user is not None:
            self._add_account_subs(self.user, "account")
            for sub, key in self._detail_subs(self.user):
                self._add(sub, key)
        for other in self._other_users():
            # Cheap subscriptions (one user slot) per other account: its summary row.
            self._add_account_subs(other, None)
        self.markets.start()  # coins only once the catalog is in force
        self.supervisor.spawn("catalog", self.catalog.run)
        if self.user is not None:
            self.sync_dexes()
            self.supervisor.spawn("dexes", self._follow_dexes)
        if self.users and (self.settings.rest_fallback or self.ws is None):
            self.supervisor.spawn("dex-sweep", self._sweep_dexes)
        if self.ws is not None:
            self.supervisor.spawn("ws-feed", self.ws.run)
        else:
            self._report_ws_disabled()
        if self.settings.rest_fallback or self.ws is None:
            self.supervisor.spawn("rest-poller", self.rest.run)
        if self.users:
            self.supervisor.spawn("account-checks", self.checks.run)
        if self._keep_candles:
            self.supervisor.spawn("candles", self.candles.run)
        if self.reconciler is not None and self.ws is not None:
            # orderUpdates has no snapshot: the open orders (and recent fills) come from REST.
            self._schedule_reconcile(None, None)

    async def stop(self) -> None:
        """Cancel every task, close the socket and the HTTP client. Safe to call twice."""
        await self.supervisor.stop()
        self._reconcile_task = None
        if self.ws is not None:
            await self.ws.close()
        if self.recorder is not None:
            await self.recorder.close()
        await self.info.aclose()
        if self.via is not None:
            await self.via.aclose()

    def _report_ws_disabled(self) -> None:
        # A choice, not an outage: REST mode, said once in the Log as information.
        self.store.health.set_connection(ConnState.REST, url=self.settings.ws_url)

    def _restarted(self, name: str) -> None:
        """A crashed task runs again: put back the connection state its crash replaced.

        A restarted websocket feed reports its own state (connecting, then live: a new
        socket, so a reconnect). After any other task the socket was never lost: if it is
        still live the state goes back to LIVE as a recovery, not a reconnect.
        """
        if self.ws is None:
            self._report_ws_disabled()
        elif name != "ws-feed":
            self.store.health.recover(name, socket_live=self._ws_live())

    # ------------------------------------------------------------------ subscriptions

    def _add(self, sub: Subscription, feed_key: str | None) -> None:
        if self.ws is not None:
            self.ws.subscribe(sub)
        if feed_key is not None:
            self.store.expect(feed_key)

    def _remove(self, sub: Subscription, feed_key: str | None) -> None:
        if self.ws is not None:
            self.ws.unsubscribe(sub)
        if feed_key is not None:
            self.store.unexpect(feed_key)

    async def _follow_dexes(self) -> None:
        while True:
            await sleep_on_grid(self.dex_tick)  # with the other periodic loops (``ticks``)
            self.sync_dexes()

    async def _sweep_dexes(self) -> None:
        """While REST serves the accounts (no live websocket, so no ``allDexsClearinghouseState``
        push), sweep each watched account's other catalog dexes every ``SWEEP_INTERVAL``: the
        only way REST learns of a position on a dex no fill, funding or order named."""
        while True:
            if not self._ws_live():
                for user in (self.user, *self._other_users()):
                    now = time.monotonic()
                    if user is None or not self.sweeps.due(user, now):
                        continue
                    if sweep_dexes(self.store, user):
                        self.sweeps.note(user, now)
                        await sweep(self.info, self.store, user)
                self.sync_dexes()
            await sleep_on_grid(self.dex_tick)

    def dexes_known(self) -> bool:
        """The selected account's active dexes are known, not just the default one: an
        ``allDexsClearinghouseState`` push listed them, or a REST sweep of the catalog's dexes
        did; without a live websocket and without a catalog there is nothing more to learn."""
        if self.user is None or self.store.dexes_listed() or self.sweeps.swept(self.user):
            return True
        return not self._ws_live() and self.store.catalog is None

    def sync_dexes(self) -> None:
        """Follow the open orders of every dex the selected account is active on.

        A newly active HIP-3 dex gets its ``openOrders`` subscription and its feed keys
        (``account:<dex>``, ``orders:<dex>``) become expected, which the REST fallback serves
        when the websocket cannot. A dex stays followed until the account changes (an account
        closing and reopening positions must not churn subscriptions). Only names the catalog
        lists are sent.
        """
        user = self.user
        if user is None:
            return
        for dex in self.store.active_dexes():
            if not dex or dex in self._order_dexes or dex in self._refused_dexes:
                continue
            if not sendable_dex(self.store, dex):
                self._refused_dexes.add(dex)
                self.store.health.log(f"dex {dex!r} is not in the market catalog: not followed")
                continue
            self._order_dexes.add(dex)
            self.store.expect(account_feed(dex))
            self._add(subs.open_orders(user, dex), orders_feed(dex))
            self._add(subs.twap_states(user, dex), None)  # its TWAPs (#14)

    def _drop_dexes(self, user: str) -> None:
        """Stop following ``user``'s HIP-3 dexes (the selected account changes)."""
        for dex in sorted(self._order_dexes):
            self.store.unexpect(account_feed(dex))
            self._remove(subs.open_orders(user, dex), orders_feed(dex))
            self._remove(subs.twap_states(user, dex), None)
        self._order_dexes.clear()
        self._refused_dexes.clear()

    def select_user(self, address: str) -> None:
        """Show ``address``'s detail (positions, orders, fills, fundings) instead.

        Unsubscribes the previous account's detail feeds, points the store and reconciliation
        at the new one (the REST poller's plan follows on its next round), subscribes its
        detail feeds and reconciles it over REST (``orderUpdates`` has no snapshot). Every
        watched account keeps its clearinghouseState subscription, so the new one's positions
        show at once from its summary row.

        Raises:
            ValueError: ``address`` is not one of the watched addresses.
        """
        new = address.strip().lower()
        if new not in self.users:
            raise ValueError(f"not a watched address: {address!r}")
        if new == self.user:
            return
        old, self.user = self.user, new
        if self._started and old is not None:
            # Unsubscribe first: the socket's single writer keeps this before the new
            # subscribes, which is what lets the store tell the two users' frames apart.
            for sub, key in self._detail_subs(old):
                self._remove(sub, key)
            self._drop_dexes(old)
        # A reconciliation in flight (or retrying) is the old user's: its REST answers must
        # not land on the new one. Cancelled before any await can resume it.
        if self._reconcile_task is not None:
            self._reconcile_task.cancel()
            self._reconcile_task = None
        self._mark = self._pending_mark = None
        self.store.set_user(new)
        self.reconciler = Reconciler(self.info, self.store, new, clock=self._clock)
        self.rest.poke()
        if not self._started:
            return  # start() subscribes the selected user
        self._add_account_subs(new, "account")  # already subscribed: expects only
        for sub, key in self._detail_subs(new):
            self._add(sub, key)
        self.sync_dexes()
        label = self.settings.label_for(new)
        self.store.health.log(f"account {label or new} selected")
        if self.ws is not None:  # in REST mode the poller's next round loads it
            self._schedule_reconcile(None, None)

    def select_coin(self, coin: str) -> None:
        """Show ``coin``'s book, trades and bbo (unsubscribing the previous coin's).

        Raises:
            ValueError: ``coin`` is not an exact name the market catalog lists (before the
                catalog is in force the choice is kept and resolved when it arrives).
        """
        self.markets.select_coin(coin)
        self.rest.poke()

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        """Switch the selected coin's book between 20 levels/~5 s and 5 levels/~0.5 s
        (``fast``), optionally bucketed to ``n_sig_figs`` significant figures."""
        self.markets.set_book_mode(fast, n_sig_figs)
        self.rest.poke()

    def add_coin(self, coin: str) -> None:
        """Add ``coin`` to the watchlist (subscribes its asset context, and its dex's mids).

        Raises:
            ValueError: ``coin`` is not an exact name the market catalog lists.
        """
        self.markets.add_coin(coin)
        self.rest.poke()

    def remove_coin(self, coin: str) -> None:
        """Drop ``coin`` from the watchlist (the selected coin's book stays if selected)."""
        self.markets.remove_coin(coin)
        self.rest.poke()

    # ------------------------------------------------------------------ reconnects

    def _on_down(self) -> None:
        self.rest.poke()  # the fallback's grace starts now, not at its next calm round
        # Keep the oldest mark until a reconciliation consumed it: after two quick drops the
        # outage to recover is the union of both.
        if self.reconciler is not None and self._mark is None:
            self._mark = self.reconciler.mark()
        elif self.reconciler is None and self._mark is None:
            self._mark = Mark(self._clock(), None, frozenset(), frozenset())

    def _on_daemon(self, data: object) -> None:
        """A ``_daemon`` frame: the daemon's link to the exchange. Its outages are ours too
        (``orderUpdates`` sent meanwhile are lost upstream): reconcile after one."""
        if not isinstance(data, dict):
            return
        try:
            state = ConnState(str(data.get("state")))
        except ValueError:
            return
        retry = data.get("nextRetryIn")
        error = data.get("error")
        self.store.health.set_upstream(
            state,
            attempt=int(data.get("attempt") or 0),
            next_retry_in=float(retry) if isinstance(retry, int | float) else None,
            error=error if isinstance(error, str) else None,
            reconnects=int(data.get("reconnects") or 0),
        )
        if state is not ConnState.LIVE and self._upstream_down_at is None:
            self._upstream_down_at = time.monotonic()
            self._on_down()
        elif state is ConnState.LIVE and self._upstream_down_at is not None:
            outage = time.monotonic() - self._upstream_down_at
            self._upstream_down_at = None
            self._on_live(outage)

    def _on_live(self, outage: float | None) -> None:
        self.rest.poke()
        if outage is None:
            return
        mark, self._mark = self._mark, None
        if self.reconciler is None:
            self.store.health.log(f"reconnected after {outage:.0f} s")
            return
        self._schedule_reconcile(mark, outage)

    def _schedule_reconcile(self, mark: Mark | None, outage: float | None) -> None:
        previous = self._reconcile_task
        if previous is not None and not previous.done():
            # A reconciliation still running (or retrying) covers an older outage: replace
            # it with one that covers both, from the older mark.
            previous.cancel()
            older = self._pending_mark
            if older is not None and (mark is None or older.at < mark.at):
                mark = older
        self._pending_mark = mark
        self._reconcile_task = self.supervisor.spawn(
            "reconcile", lambda: self._reconcile_until_done(mark, outage), forever=False
        )

    async def _reconcile_until_done(self, mark: Mark | None, outage: float | None) -> None:
        assert self.reconciler is not None
        if not self.catalog.attempted.is_set():
            # The REST budget goes to the catalog first (every coin waits on it); the start-up
            # bootstrap follows it, or CATALOG_FIRST seconds at most.
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that lands
            # in the turn the catalog comes, and the retrying loop below would outlive stop().
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CATALOG_FIRST):
                    await self.catalog.attempted.wait()
        attempt = 0
        while True:
            try:
                result = await self.reconciler.reconcile(mark)
            except InfoError as exc:
                delay = self._reconcile_backoff.delay(attempt)
                attempt += 1
                self.store.health.log(
                    f"reconciliation failed ({exc}); retrying in {delay:.1f} s", "warn"
                )
                await asyncio.sleep(delay)
                continue
            break
        self._pending_mark = None
        self.last_reconcile = result
        self.reconcile_count += 1
        self.store.health.log(Reconciler.describe(result, outage))
        self.reconciled.set()
