"""The dashboard screen: layout, keys, and the frame timer that pulls changes from the store.

Frames are painted on change (``FrameSchedule``): the store calls back on the first change
after each frame, the first change after a quiet period is painted at once, and changes within
1.5 / fps of a full frame are coalesced into the next one; the selected coin's trades come
within 20 ms, in a light frame (the tapes alone) when a full one ran less than that ago;
nothing changed, no frame. A frame asks the store which keys changed
(``take_changes``) and rebuilds only the panes those keys feed; each pane repaints only its
lines that differ. Ages (status bar, header clock, panel titles) tick once a second, and at
once when a feed changes state: the frame wakes at the moment the store says the next feed goes
stale (``next_state_change``), so live -> stale is never late.

Layout, maximised panels and the mouse: ``screens.workspace``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from hlmon.alerts import AlertEngine, PriceCross
from hlmon.round_memo import RoundMemo
from hlmon.state import Store
from hlmon.ui.frame_repaints import repaints_at_frame_end
from hlmon.ui.frame_schedule import FrameSchedule
from hlmon.ui.keymap import bindings
from hlmon.ui.lean_compositor import use_lean_compositor
from hlmon.ui.screens import dashboard_messages
from hlmon.ui.screens.extras import EXTRAS_CHANGES, ExtrasPanes
from hlmon.ui.screens.paint_on_change import HeldBack, PaintOnChange
from hlmon.ui.screens.pane_marks import (
    badness,
    dex_subtitle,
    freshness_marks,
    is_stale,
    mark_pane,
)
from hlmon.ui.screens.tab_rows import TAB_KEYS, TabRows
from hlmon.ui.screens.workspace import MIN_HEIGHT, MIN_WIDTH, WIDE_HEIGHT, WIDE_WIDTH, Workspace
from hlmon.ui.widgets.account import POSITION_COLUMNS, PositionRowMemo, position_rows
from hlmon.ui.widgets.bars import HeaderBar, StatusBar
from hlmon.ui.widgets.blank import BlankHorizontal, BlankVertical
from hlmon.ui.widgets.book import AGGREGATIONS, BookView
from hlmon.ui.widgets.candles import CandleChart
from hlmon.ui.widgets.key_footer import KeyFooter
from hlmon.ui.widgets.lines import set_border_subtitle
from hlmon.ui.widgets.table import TableView
from hlmon.ui.widgets.tabs import COUNTED, TABS, LowerTabs
from hlmon.ui.widgets.tape import TapeView
from hlmon.ui.widgets.watchlist import Watchlist

COUNTED_KEYS = (
    frozenset().union(*(TAB_KEYS[tab] for tab in COUNTED if tab in TAB_KEYS)) | EXTRAS_CHANGES
)
"""Change keys of the counted tabs' rows: their names carry the counts (``update_tab_names``).
Not ``accounts`` (the watched rows, which every push of the selected account changes too:
that tab has no count) nor the log."""
HEADER_KEYS = frozenset(("account", "spot", "role", "mode", "equityHistory", "catalog"))
"""Change keys the header shows at once: account numbers and mode, spot, role, equity history,
collateral tokens (the catalog). The account feed's freshness moves with its state (``moved``)
and its age with the tick; the connection is the status line's (``status``). Moved prices
(``mids``, the positions' marks) and account pushes that only re-mark reach it with the
positions, at most every ``FOLLOW_S``. Not the watched accounts' rows (``accounts``, with every
push of the selected one too): the header shows the selected account only, its label set on a
switch."""
FOLLOW_S = 0.25
"""What moves with every price but is read, not watched tick by tick, follows at most 4 times
a second: the positions' uPnL, ROE and distances, the header's totals, the watchlist's
context columns. The book, the trades and the mids come at the frame rate."""
TAB_FEEDS = {"orders": "orders", "fills": "fills", "spot": "spot", "twap": "twaps",
             "funding": "fundings"}  # fmt: skip
"""Feed whose freshness each lower tab shows (the log has none; account rows carry their own
ages)."""


class Dashboard(Screen[None]):
    """The main screen."""

    AUTO_FOCUS = ""
    """Nothing is focused at start, so the arrow keys move the coin selection."""

    BLANK = True
    """The screen draws nothing of its own where the panes leave it (``widgets.blank``)."""

    BINDINGS = bindings("dashboard")
    """From ``hlmon.ui.keymap`` (a new key: a row there; its docstring says how)."""

    # The messages it posts to the app (``dashboard_messages``).
    BookModeChanged: TypeAlias = dashboard_messages.BookModeChanged
    CoinAdded: TypeAlias = dashboard_messages.CoinAdded
    AlertsFired: TypeAlias = dashboard_messages.AlertsFired
    AlertAdded: TypeAlias = dashboard_messages.AlertAdded
    AccountSelected: TypeAlias = dashboard_messages.AccountSelected
    WatchInstead: TypeAlias = dashboard_messages.WatchInstead
    CopyRequested: TypeAlias = dashboard_messages.CopyRequested
    CoinRemoved: TypeAlias = dashboard_messages.CoinRemoved

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        *,
        network: str,
        address: str | None,
        coins: Sequence[str],
        fps: float,
        alerts: AlertEngine | None = None,
    ) -> None:
        super().__init__()
        use_lean_compositor(self)
        self.store = store
        self.alerts = alerts
        """Alert rules evaluated every frame with the frame's changes (None: no alerts)."""
        """The store every pane reads."""
        self.clock = clock
        """Clock for ages and the header's time."""
        self.fps = max(1.0, min(fps, 60.0))
        """At most this many change-driven frames a second."""
        self.paint = PaintOnChange(store, clock)
        """When frames run: on store changes, once a second, when a feed changes state."""
        self._header_due = False
        """The positions were rebuilt: the header's totals follow on this frame."""
        self.address = address
        """The watched address (None: market data only)."""
        self.header = HeaderBar(store, clock, network, address, id="header")
        self.watchlist = Watchlist(store, coins, id="watchlist")
        self.positions = TableView(
            POSITION_COLUMNS,
            empty="no open positions",
            waiting="waiting for account…",
            noun="positions",
            detail_column="tpsl",
            id="positions",
        )
        self._stale_ctx: frozenset[str] = frozenset()
        """The watchlist's stale contexts when its cells were last marked."""
        self._positions_version = -1
        """``store.positions_version`` the positions pane was last built from."""
        self._prices = HeldBack(FOLLOW_S, lambda: self.paint.monotonic())
        """Moved marks and mids: the positions and the header's totals follow at most every
        ``FOLLOW_S`` (they move with every price; rebuilt on every frame they were a third
        of its cost under a flood), at once after a quiet spell. So do account pushes that
        only re-mark the positions (``store.position_shape_version`` unmoved: new uPnL, margin,
        liquidation prices). A position opened, closed or resized, an orders push, and a mark
        feed going stale or fresh are never held back."""
        self._positions_frame = -1
        """``frames`` when the positions pane was last built."""
        self._shape_version = -1
        """``store.position_shape_version`` the positions pane was last built from."""
        self._contexts = HeldBack(FOLLOW_S, lambda: self.paint.monotonic())
        """Contexts and candles that moved without the mids: the watchlist's funding, OI,
        24 h and sparkline columns follow at most every ``FOLLOW_S`` (a mids change rebuilds
        every row at once, slow columns included)."""
        self._position_mark_feeds: list[str] = []
        """The feeds (``ctx:COIN``, ``mids``) the shown positions took their marks from."""
        self._position_cells: PositionRowMemo = RoundMemo()  # a row's cells while its view stays
        self.lower = LowerTabs(id="lower")
        self.book = BookView(store, id="book")
        self.tape = TapeView(store, id="tape")
        self.tape_alt = TapeView(store, id="tape-alt")
        """The trades in the book's place, for the compact layout (``b``)."""
        self.tapes = (self.tape, self.tape_alt)
        self.status = StatusBar(store, clock, id="status")
        self.chart = CandleChart(store, id="chart")
        """The selected coin's candles (tall terminals)."""
        self.workspace = Workspace(self)
        """Layout for the size, the maximised panel, clicks on titles."""
        self.extras = ExtrasPanes(self)
        """The Spot and TWAP tabs, the Fills tab's fees, the agent-wallet offer."""
        self.tab_rows = TabRows(store, self.lower, clock, lambda: self.address, self.extras.facts)
        """The lower tabs' rows: the visible tab's on change, a hidden one's when shown."""
        self.frames = 0
        """Frames processed (for tests and benchmarks)."""
        self.light_frames = 0
        """Of ``frames``, the light ones (the tapes alone)."""
        self.age_ticks = 0
        """Frames that refreshed the ages (once a second while the clock moves)."""
        self._resumed = False
        """Whether the screen has been resumed (shown) once: ``_on_screen_resume``."""

    def compose(self) -> ComposeResult:
        """Header, the two columns, the status line and the footer."""
        yield self.header
        with BlankVertical(id="main"):
            with BlankHorizontal(id="row1"):
                with BlankVertical(id="market"):
                    yield self.watchlist
                    yield self.chart
                yield self.book
                yield self.tape_alt
            with BlankHorizontal(id="row2"):
                yield self.positions
                yield self.tape
            yield self.lower
        yield Static(f"window too small\nhlmon needs {MIN_WIDTH}x{MIN_HEIGHT}", id="too-small")
        yield self.status
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show the first coin, fill every pane, and paint from now on when the store changes."""
        self.positions.set_caption("Positions")
        coin = self.watchlist.selected
        self.book.show(coin)
        self.chart.show(coin)
        for tape in self.tapes:
            tape.show(coin)
        self.refresh_all()
        self.paint.start(self._post_frame, self.fps, coin)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """The first resume (the push at start) keeps the styles the widgets got when they
        were mounted, a moment before: Textual's resume would restyle every node of the
        freshly mounted screen again, ~20 ms of CPU on the 2-core Xeon before the first data
        (issue #16). Any later resume (a modal closed) restyles as usual.

        Runs before ``Screen._on_screen_resume`` (Textual calls each class's handler, the
        subclass's first), which reads ``refresh_styles``."""
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        self.paint.set_behind_modal(False)

    def on_screen_suspend(self) -> None:
        """A modal over the dashboard: its panes at most once a second meanwhile."""
        self.paint.set_behind_modal(isinstance(self.app.screen, ModalScreen))

    def on_unmount(self) -> None:
        """Stop listening to the store and cancel the scheduled frames."""
        self.paint.stop()

    def _post_frame(self) -> None:
        """Run a frame in this screen's message queue, like any other event.

        Posted as a ``Callback`` of a plain method rather than with ``call_later``: that wraps
        the callback in a new ``partial`` each time, and Textual then reads the wrapped
        method's signature (``inspect.signature``) on every frame; a method's parameter count
        it keeps."""
        self.post_message(events.Callback(callback=self._run_scheduled_frame))

    def _run_scheduled_frame(self) -> None:
        self.paint.run_frame(self._scheduled_frame)

    def _scheduled_frame(self) -> None:
        with repaints_at_frame_end(self):
            self.refresh_frame(light_ok=True)

    @property
    def schedule(self) -> FrameSchedule | None:
        """When the next frame runs (None before mount)."""
        return self.paint.schedule

    # ------------------------------------------------------------------ layout

    def on_resize(self, event: events.Resize) -> None:
        """Pick the layout for the terminal size (``workspace``)."""
        self.workspace.resized(*event.size)
        for footer in self.query(KeyFooter):
            footer.refit()  # keys of one layout (b) come and go

    def on_click(self, event: events.Click) -> None:
        """A click makes its panel current; on a title it maximises it, or picks a tab."""
        tab = self.workspace.clicked(event)
        if tab is not None:
            self.action_tab(tab)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The focused table's panel is the current one (``z`` maximises it)."""
        self.workspace.set_current(event.widget)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``escape`` restores only while a panel is maximised (else it is not shown)."""
        return action != "restore" or self.workspace.zoomed is not None

    # ------------------------------------------------------------------ frames

    def refresh_frame(self, light_ok: bool = False) -> None:
        """One frame: rebuild the panes whose data changed; the ages, titles and bars when a
        second has passed or a feed changed state; then plan the next wake-up. With
        ``light_ok`` (a scheduled frame) it may be light: the tapes alone, the other changes
        left to the next full frame (``PaintOnChange.frame_started``)."""
        self.frames += 1
        held_due = self._prices.due or self._contexts.due
        tick, moved, full, changes = self.paint.frame_started(light_ok and not held_due)
        if self.alerts is not None and (changes or tick):
            fired = self.alerts.evaluate(self.store, changes)
            if fired:
                self.post_message(self.AlertsFired(fired))
        if self.paint.keep_hidden(changes):
            return  # covered (``hlmon.ui.covering``): painted when it shows again
        if "account" in changes and self.store.position_shape_version == self._shape_version:
            # Re-marked only (~5 pushes a second under stress): it follows with the prices,
            # the header and the dex line with it (``_prices``).
            changes = changes - {"account"}
        if changes:
            self.apply_changes(changes)
        if not full:
            self.light_frames += 1
            return  # nothing else changed on screen; the wake-up planned stays
        if self._positions_frame == self.frames:
            pass  # rebuilt on this frame already (an account or orders push)
        elif moved and self.store.positions_version != self._positions_version:
            # A mark feed went stale or fresh, or changed source: the rows say so at once.
            self._update_positions()
        elif "mids" in changes or self.store.positions_version != self._positions_version:
            if self._prices.ask():  # (mids move the header's spot and totals too)
                self._update_positions()
        elif self._prices.due:
            self._update_positions()
        if self._contexts.due:
            self._rebuild_watchlist()
        if tick or moved:
            self.update_freshness()
        elif not COUNTED_KEYS.isdisjoint(changes):
            self.update_tab_names()  # they count rows
        if tick or moved or "status" in changes:
            self.status.rebuild()
        if tick or moved or self._header_due or not HEADER_KEYS.isdisjoint(changes):
            self._header_due = False
            self.header.rebuild()
        if tick:
            self.age_ticks += 1
            # Rows that carry ages or time left: refreshed once a second while shown.
            if self.lower.active == "accounts":
                self.tab_rows.fill("accounts")
            elif self.lower.active == "twap":
                self.extras.update_twaps()
        held = [d for d in (self._prices.due_in(), self._contexts.due_in()) if d is not None]
        self.paint.plan_wake(min(held, default=None))

    def apply_changes(self, changes: set[str]) -> None:
        """Rebuild only the panes fed by the changed keys (hidden tabs when they are shown)."""
        coin = self.watchlist.selected
        mids = "mids" in changes
        if "watchlist" in changes:
            # The feeds resolved the names against the catalog (``eth`` -> ``ETH``, unknown
            # ones skipped): show what is really watched.
            self.watchlist.set_coins(self.store.watchlist)
        if "catalog" in changes:
            self._catalog_changed()
        ctx = any(f"ctx:{c}" in changes or f"candles:{c}" in changes for c in self.watchlist.coins)
        if mids or "catalog" in changes or (ctx and self._contexts.ask()):
            self._rebuild_watchlist()
        if coin is not None:
            if f"book:{coin}" in changes:  # the ladder reads the book only (not the bbo)
                self.book.rebuild()
            if f"candles:{coin}" in changes:
                self.chart.rebuild()
            if f"trades:{coin}" in changes:
                for tape in self.tapes:
                    tape.rebuild()
        if "account" in changes or "orders" in changes:
            self._update_positions()  # (moved marks: ``refresh_frame``, at most 4 a second)
        self.tab_rows.changed(changes)
        self.extras.apply_changes(changes)

    def refresh_all(self, held: set[str] | None = None) -> None:
        """Every pane (at mount, and back from behind a full screen with what it held)."""
        self.apply_changes(
            {"mids", "account", "orders", *EXTRAS_CHANGES, *(held or ())}
            | {f"{kind}:{c}" for c in self.watchlist.coins for kind in ("book", "trades")}
        )
        self.book.rebuild()
        for tape in self.tapes:
            tape.rebuild()
        self.update_freshness()
        self.header.rebuild()
        self.status.rebuild()

    def _catalog_changed(self) -> None:
        """A catalog arrived (or the wait for one began): hold the alert rules to it."""
        self.book.rebuild()
        catalog = self.store.catalog
        if catalog is None or self.alerts is None:
            return
        for note in self.alerts.check_coins(catalog):
            self.store.health.log(note, "warn")

    def _loaded(self, feed: str) -> bool:
        """Whether ``feed`` has delivered its first data (without an address there is none
        to wait for)."""
        return self.address is None or self.store.stamp(feed) is not None

    def _rebuild_watchlist(self) -> None:
        self._contexts.done()
        self.watchlist.rebuild()

    def _update_positions(self) -> None:
        self._positions_version = self.store.positions_version
        self._shape_version = self.store.position_shape_version
        self._positions_frame = self.frames
        self._prices.done()
        views = self.store.positions()
        self._position_mark_feeds = sorted({p.mark_feed for p in views if p.mark_feed})
        self._header_due = True  # its totals are these rows' (built on the same frame)
        self.positions.set_data(
            *position_rows(views, self.store.open_orders(), self._position_cells),
            loaded=self._loaded("account"),
        )
        self._draw_dex_line()  # each dex's equity at these rows' marks

    def _draw_dex_line(self) -> None:
        """Under the positions: each dex's equity (at the rows' marks) and a stale dex's age."""
        if self.address is not None:
            set_border_subtitle(self.positions, dex_subtitle(self.store))

    def update_freshness(self) -> None:
        """Stale panes are dimmed and carry the age in their title; lagging ones say LAG and
        by how much; REST-fed ones say REST. The watchlist is stale only when its mids are:
        stale contexts alone are named in its title (``ctx STALE 32s``) and their cells
        marked, while the mids beside them are fresh."""
        store = self.store
        coin = self.watchlist.selected
        coins = self.watchlist.coins
        # The mids of every dex on the list (``mids``, ``mids:xyz``): each has its own clock.
        mids = sorted({store.mids_feed(c) for c in coins} | {"mids"})
        stale_ctx = mark_pane(store, self.watchlist, mids, ("ctx", [f"ctx:{c}" for c in coins]))
        stale_ctx |= {f for c in coins if is_stale(store, f := f"candles:{c}")}
        if stale_ctx != self._stale_ctx:
            # Contexts or candles went stale (or fresh again) without a push: re-mark cells.
            self._stale_ctx = stale_ctx
            self.watchlist.rebuild()
        if coin is not None:
            mark_pane(store, self.book, [f"book:{coin}"])
            mark_pane(store, self.chart, [f"candles:{coin}"])
            for tape in self.tapes:
                mark_pane(store, tape, [f"trades:{coin}"])
        if self.address is not None:
            # The rows are as fresh as every active dex's state and the marks they used.
            mark_pane(store, self.positions, [*store.account_feeds(), *self._position_mark_feeds])
        self._draw_dex_line()  # a stale dex's age
        self.update_tab_names()

    def update_tab_names(self) -> None:
        """The lower tabs' names (row counts, the shown table's freshness): on every push to
        a counted tab. The panes' marks change only with a feed's state or source, or their
        ages once a second (``update_freshness``)."""
        store = self.store
        feed = TAB_FEEDS.get(self.lower.active)
        if feed is not None and self.address is not None:
            # Orders: the worst of the active dexes' order lists.
            feeds = store.order_feeds() if feed == "orders" else [feed]
            worst = max((store.feed_status(f) for f in feeds), key=badness)
            stale, rest = freshness_marks(worst.state, worst.age_s)
            self.lower.set_freshness(stale_age=stale, rest=rest)
        else:
            self.lower.set_freshness(stale_age=None, rest=False)

    # ------------------------------------------------------------------ events

    def on_watchlist_coin_selected(self, event: Watchlist.CoinSelected) -> None:
        """Book and trades follow the selection (the app forwards it to the engine), once
        the moved selection is on screen: a key is answered by a one-line paint, and the
        panes of the new coin come in the next one."""
        self.call_after_refresh(self._follow_selection, event.coin)

    def _follow_selection(self, coin: str) -> None:
        if coin != self.watchlist.selected:
            return  # another key moved on already: that one's call follows
        self.book.show(coin)
        self.chart.show(coin)
        for tape in self.tapes:
            tape.show(coin)
        self.update_freshness()
        self.paint.follow(coin)

    def set_address(self, address: str | None) -> None:
        """The watched address became known (demo mode learns it from the simulator)."""
        self.address = address
        self.header.address = address
        wanted = address.lower() if address else None
        rows = self.store.accounts()
        self.header.label = next((r.label for r in rows if r.address == wanted), None)
        self.header.rebuild()
        # The account tables wait for this address's data now (not "empty").
        self.apply_changes({"account", "accounts", "orders", "fills", "fundings", *EXTRAS_CHANGES})

    # ------------------------------------------------------------------ actions

    def action_next_account(self, delta: int) -> None:
        """Show the next (``u``) or previous (``U``) watched account in detail."""
        users = self.store.watched_users
        if len(users) < 2:
            self.notify("only one account is watched (see addresses in the config)", timeout=3)
            return
        current = self.address.lower() if self.address else None
        i = users.index(current) if current in users else -1
        new = users[(i + delta) % len(users)]
        self.set_address(new)
        label = next((r.label for r in self.store.accounts() if r.address == new), None)
        self.notify(f"account: {label or new}", timeout=2)
        self.post_message(self.AccountSelected(new))

    def action_move(self, delta: int) -> None:
        """Select the previous/next coin."""
        self.watchlist.move(delta)

    def action_add_coin(self) -> None:
        """Ask for a coin and add it."""
        from hlmon.ui.screens.prompts import AddCoinScreen  # on the key (not at start-up)

        def added(coin: str | None) -> None:
            if coin and self.watchlist.add_coin(coin):
                self.post_message(self.CoinAdded(coin, self.watchlist.coins))

        self.app.push_screen(AddCoinScreen(self.store), added)

    def action_add_alert(self) -> None:
        """Ask for a price alert (``BTC > 110000``) and add it to the alert rules."""
        from hlmon.ui.screens.alerts import AddAlertScreen  # on the key (not at start-up)

        if self.alerts is None:
            self.notify("alerts are off in this run", timeout=3)
            return
        coin = self.watchlist.selected or "BTC"
        mid = self.store.mid(coin)
        example = f"{coin} > {mid}" if mid is not None else f"{coin} > 110000"
        alerts = self.alerts

        def added(rule: PriceCross | None) -> None:
            if rule is not None:
                self.post_message(self.AlertAdded(alerts.add(rule)))

        self.app.push_screen(AddAlertScreen(example, self.store), added)

    def action_remove_coin(self) -> None:
        """Remove the selected coin."""
        coin = self.watchlist.remove_selected()
        if coin is None:
            self.notify("the watchlist is empty: nothing to remove (a adds a coin)", timeout=3)
        else:
            self.post_message(self.CoinRemoved(coin, self.watchlist.coins))
            if not self.watchlist.coins:
                self.book.show(None)
                for tape in self.tapes:
                    tape.show(None)

    def action_toggle_fast(self) -> None:
        """Fast (5 levels, 0.5 s) or full (20 levels) book."""
        self.book.set_mode(not self.book.fast, self.book.n_sig_figs)
        self.post_message(self.BookModeChanged(self.book.fast, self.book.n_sig_figs))

    def action_cycle_aggregation(self) -> None:
        """Next price aggregation: none, 5, 4, 3, 2 significant figures."""
        i = AGGREGATIONS.index(self.book.n_sig_figs) if self.book.n_sig_figs in AGGREGATIONS else 0
        self.book.set_mode(self.book.fast, AGGREGATIONS[(i + 1) % len(AGGREGATIONS)])
        self.post_message(self.BookModeChanged(self.book.fast, self.book.n_sig_figs))

    def action_zoom(self) -> None:
        """Maximise the current panel, or restore (``z``, as tmux's zoom)."""
        self.workspace.toggle()

    def action_restore(self) -> None:
        """Put the maximised panel back (``escape``)."""
        self.workspace.restore()

    def action_toggle_tape(self) -> None:
        """Compact layout: show the trades instead of the book, or back."""
        if not self.has_class("-compact"):
            self.notify(f"b: book and trades are both shown at this size (b swaps them below "
                        f"{WIDE_WIDTH}x{WIDE_HEIGHT})", timeout=3)  # fmt: skip
            return
        self.toggle_class("-show-tape")

    def action_tab(self, tab: str) -> None:
        """Show a lower tab (with its rows, if they changed while it was hidden)."""
        self.lower.show(tab)
        self.tab_rows.shown(tab)
        self.extras.shown(tab)
        self.update_freshness()

    def action_watch_master(self) -> None:
        """Watch the master account of the selected agent wallet in its place."""
        offer = self.extras.master_offer()
        if offer is None:
            self.notify("the selected address is not an agent wallet", timeout=3)
            return
        agent, master = offer
        self.set_address(master)
        self.post_message(self.WatchInstead(agent, master))

    def action_copy(self) -> None:
        """Copy the focused order's id, else the address (the app sends it: OSC 52)."""
        orders = self.lower.tables["orders"]
        if orders.has_focus and orders.selected_key is not None:
            self.post_message(self.CopyRequested(str(orders.selected_key), "order id"))
        elif self.address:
            self.post_message(self.CopyRequested(self.address, "address"))
        else:
            self.notify("nothing to copy: no address", severity="warning")

    @property
    def tab_ids(self) -> tuple[str, ...]:
        """Ids of the lower tabs in key order."""
        return tuple(t for t, _ in TABS)
