"""The Textual app: ``build_app`` (one factory for the CLI and the tests) and ``run_app``.

The app owns the store, the (optional) simulator and the feed engine, all in its own event
loop: the simulator and engine are started in a worker on mount and stopped on unmount. The
UI never does network I/O itself; it reads the store on a timer (see ``screens.dashboard``)
and forwards the user's choices (coin, book mode, watchlist) to the engine.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from hlmon.alerts import Alert, AlertEngine
from hlmon.alerts.delivery import AlertOutputs
from hlmon.config import Settings
from hlmon.state import Store
from hlmon.ui.screens.dashboard import Dashboard
from hlmon.ui.screens.help import HelpScreen
from hlmon.ui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from hlmon.feeds.engine import FeedEngine
    from hlmon.sim.server import SimServer

THEMES: tuple[str, ...] = (
    "textual-dark",
    "nord",
    "gruvbox",
    "tokyo-night",
    "dracula",
    "monokai",
    "textual-light",
    "solarized-light",
    "textual-ansi",
)
"""Themes ``t`` cycles through (those the installed Textual knows)."""


class HlmonApp(App[int]):
    """hlmon's terminal UI."""

    CSS_PATH = "hlmon.tcss"
    TITLE = "hlmon"
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("t", "cycle_theme", "theme"),
        Binding("question_mark", "help", "help", key_display="?"),
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], float],
        *,
        engine: FeedEngine | None = None,
        sim: SimServer | None = None,
        connect: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings
        """Settings in force (``api_url``/``address`` are updated when a simulator starts)."""
        self.store = store
        """The store every pane reads."""
        self.clock = clock
        """Wall clock for ages and the header (injected in tests)."""
        self.engine = engine
        """The feed engine, or None (tests drive the store directly)."""
        self.sim = sim
        """An in-process simulator to start before the engine (``--demo``)."""
        self.connect = connect or sim is not None
        """Build a ``FeedEngine`` in the app's loop when none was given."""
        alert_settings = settings.alerts
        self.alerts = AlertEngine(
            alert_settings.rules,
            clock=clock,
            cooldown_s=alert_settings.cooldown_s,
            hysteresis_pct=alert_settings.hysteresis_pct,
        )
        """Alert rules, evaluated by the dashboard's frame timer."""
        self.alert_outputs = AlertOutputs.from_settings(alert_settings)
        """Bell, desktop notifications (OSC 9/777), command and webhook."""
        self.dashboard = Dashboard(
            store,
            clock,
            network="demo" if sim is not None else settings.network,
            address=settings.address,
            coins=settings.watchlist,
            fps=settings.fps,
            alerts=self.alerts,
        )
        """The main screen."""

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        """Apply the theme, show the dashboard, start the simulator and the engine."""
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.push_screen(self.dashboard)
        if self.engine is None and not self.connect:
            self.store.set_watch(self.settings.watchlist)
        else:
            self.run_worker(self._start_backend(), name="backend", exit_on_error=False)

    async def _start_backend(self) -> None:
        """Start the simulator (if any), build the engine if needed, and start it."""
        if self.sim is not None:
            url = await self.sim.start(host="127.0.0.1", port=0)
            address = self.settings.address or self.sim.demo_address
            self.settings = dataclasses.replace(
                self.settings, api_url=url, address=address, network="custom"
            )
            self.dashboard.set_address(address)
            self.store.health.log(f"demo: simulator listening on {url}, account {address}")
        if self.engine is None and self.connect:
            from hlmon.feeds.engine import FeedEngine

            self.engine = FeedEngine(self.settings, self.store)
        if self.engine is not None:
            await self.engine.start()
            selected = self.dashboard.watchlist.selected
            if selected is not None:
                self._engine_call("select_coin", selected)

    async def on_unmount(self) -> None:
        """Stop the engine, then the simulator."""
        await self.alert_outputs.aclose()
        if self.engine is not None:
            try:
                await self.engine.stop()
            except Exception as exc:  # shutting down: report, never hang the exit
                self.log.error(f"engine stop failed: {exc!r}")
        if self.sim is not None:
            try:
                await self.sim.stop()
            except Exception as exc:
                self.log.error(f"simulator stop failed: {exc!r}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background task failed: say so on screen and in the log, never swallow it."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = f"{event.worker.name} failed: {error!r}"
            self.store.health.log(text, "error")
            self.notify(text, title="error", severity="error", timeout=15)

    # ------------------------------------------------------------------ engine forwarding

    def _engine_call(self, method: str, *args: Any) -> None:
        """Call an engine selector; a refusal (bad coin name...) is shown, not raised."""
        if self.engine is None:
            return
        try:
            getattr(self.engine, method)(*args)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            self.store.health.log(f"{method}{args}: {exc}", "error")

    def on_watchlist_coin_selected(self, event: Watchlist.CoinSelected) -> None:
        """Subscribe the selected coin's book, trades and bbo."""
        self._engine_call("select_coin", event.coin)
        if self.engine is None:
            self.store.track_history(event.coin)

    def on_dashboard_book_mode_changed(self, event: Dashboard.BookModeChanged) -> None:
        """Switch the book subscription (fast/full, aggregation)."""
        self._engine_call("set_book_mode", event.fast, event.n_sig_figs)
        if self.engine is None:
            self.store.set_book_fast(event.fast)

    def on_dashboard_coin_added(self, event: Dashboard.CoinAdded) -> None:
        """Subscribe a new watchlist coin."""
        self._engine_call("add_coin", event.coin)
        if self.engine is None:
            self.store.set_watch(event.coins)

    def on_dashboard_coin_removed(self, event: Dashboard.CoinRemoved) -> None:
        """Unsubscribe a removed watchlist coin."""
        self._engine_call("remove_coin", event.coin)
        if self.engine is None:
            self.store.set_watch(event.coins)

    # ------------------------------------------------------------------ alerts

    def on_dashboard_alerts_fired(self, event: Dashboard.AlertsFired) -> None:
        """Deliver alerts: toast, log line, bell + desktop notification, command/webhook."""
        for alert in event.alerts:
            self.store.health.log(f"alert: {alert.title}: {alert.body}", alert.level)
            severity: SeverityLevel = "error" if alert.level == "error" else "warning"
            self.notify(alert.body, title=alert.title, severity=severity, timeout=10)
            self.write_to_terminal(self.alert_outputs.terminal_text(alert))
            if self.alert_outputs.has_external:
                self.run_worker(self._send_external(alert), group="alerts", exit_on_error=False)

    async def _send_external(self, alert: Alert) -> None:
        for error in await self.alert_outputs.send_external(alert):
            self.store.health.log(error, "warn")

    def on_dashboard_alert_added(self, event: Dashboard.AlertAdded) -> None:
        """Confirm a rule added from the prompt."""
        self.store.health.log(f"alert added: {event.rule_id}")
        self.notify(f"alert added: {event.rule_id}", timeout=3)

    def write_to_terminal(self, text: str) -> None:
        """Write raw escape sequences (bell, OSC notifications) to the terminal.

        Textual has no public API for this; ``App.bell`` and ``copy_to_clipboard`` write to the
        driver the same way. Headless (tests) and web drivers get nothing.
        """
        driver = self._driver
        if text and not self.is_headless and driver is not None:
            driver.write(text)

    def remove_alert(self, rule_id: str) -> None:
        """Remove an alert rule (command palette)."""
        if self.alerts.remove(rule_id):
            self.store.health.log(f"alert removed: {rule_id}")
            self.notify(f"alert removed: {rule_id}", timeout=3)

    def on_dashboard_account_selected(self, event: Dashboard.AccountSelected) -> None:
        """Move the detail feeds (orders, fills, fundings) to another watched account."""
        self._engine_call("select_user", event.address)
        if self.engine is None:
            self.store.set_user(event.address)

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        """Show the key help."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_cycle_theme(self) -> None:
        """Switch to the next theme."""
        themes = [t for t in THEMES if t in self.available_themes]
        if not themes:
            return
        i = themes.index(self.theme) if self.theme in themes else -1
        self.theme = themes[(i + 1) % len(themes)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists hlmon's main actions next to Textual's own."""
        d = self.dashboard
        yield SystemCommand("Add coin", "Add a coin to the watchlist", d.action_add_coin)
        yield SystemCommand("Remove coin", "Remove the selected coin", d.action_remove_coin)
        yield SystemCommand("Next coin", "Select the next coin", lambda: d.action_move(1))
        yield SystemCommand("Previous coin", "Select the previous coin", lambda: d.action_move(-1))
        yield SystemCommand(
            "Fast/full book", "Toggle 5 levels/0.5 s or 20 levels", d.action_toggle_fast
        )
        yield SystemCommand("Aggregate book", "Cycle price aggregation", d.action_cycle_aggregation)
        yield SystemCommand("Book/trades", "Swap book and trades (compact)", d.action_toggle_tape)
        for n, (tab, label) in enumerate(
            (
                ("orders", "Orders"),
                ("fills", "Fills"),
                ("funding", "Funding"),
                ("log", "Log"),
                ("accounts", "Accounts"),
            ),
            start=1,
        ):
            yield SystemCommand(
                f"Tab {n}: {label}", f"Show the {label.lower()} tab", lambda t=tab: d.action_tab(t)
            )
        yield SystemCommand(
            "Next account", "Show the next watched account", lambda: d.action_next_account(1)
        )
        yield SystemCommand("Copy address", "Copy the watched address (OSC 52)", d.action_copy)
        yield SystemCommand(
            "Add price alert", "Alert when a mid crosses a level (shift+a)", d.action_add_alert
        )
        for rule in self.alerts.rules:
            yield SystemCommand(
                f"Remove alert: {rule.rule_id}",
                "Stop this alert rule",
                lambda rid=rule.rule_id: self.remove_alert(rid),
            )
        yield SystemCommand("Next theme", "Cycle the colour theme", self.action_cycle_theme)
        yield SystemCommand("Help", "Show the keys", self.action_help)
        yield from super().get_system_commands(screen)


def build_app(
    settings: Settings,
    *,
    store: Store | None = None,
    engine: FeedEngine | None = None,
    clock: Callable[[], float] | None = None,
    sim: SimServer | None = None,
    connect: bool = False,
) -> HlmonApp:
    """Build the app; the one factory used by the CLI and the tests.

    Args:
        settings: What to show and connect to.
        store: The store to read (default: a new one on ``clock``).
        engine: A feed engine feeding ``store``, started on mount and stopped on exit.
        clock: Wall clock in seconds (default ``time.time``); tests pin it.
        sim: A simulator to start in the app's loop; the app then builds an engine pointed
            at it (unless one is given) and watches its demo account by default.
        connect: Without ``engine``: build a ``FeedEngine`` for ``settings`` inside the app's
            event loop (the CLI path). With neither ``engine``, ``sim`` nor ``connect`` the
            app only reads the store, which tests populate by hand.

    Returns:
        The app, not yet running.
    """
    clock = clock or time.time
    if store is None:
        store = Store(clock, settings.stale)
    return HlmonApp(settings, store, clock, engine=engine, sim=sim, connect=connect)


def run_app(settings: Settings) -> int:
    """Run the TUI until the user quits; the CLI's entry point.

    With ``settings.demo`` a simulator is started in-process on a free loopback port and the
    app watches its demo account.

    Returns:
        The process exit code.
    """
    sim: SimServer | None = None
    if settings.demo:
        from hlmon.sim.server import SimServer

        sim = SimServer(seed=int(time.time()) % 100_000, profile="standard")
    app = build_app(settings, sim=sim, connect=True)
    code = app.run()
    if app.return_code:
        return app.return_code
    return code or 0
