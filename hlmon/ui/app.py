"""The Textual app: ``build_app`` (one factory for the CLI and the tests) and ``run_app``.

The app runs on a ``Backend`` (``hlmon.runtime.controls``): the store it reads, what it
watches, and the ``Controls`` it forwards the user's choices to (coin, book mode, watchlist,
account). For the CLI that is ``hlmon.runtime.root.Runtime`` (store, feed engine and, for
``--demo``, the simulator); the tests give a fake. The backend is entered in a worker on mount,
so the first frame never waits for the network, in the app's own event loop, and left on
unmount. The UI never does network I/O itself; it reads the store on a timer (see
``screens.dashboard``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from hlmon import codegen_cache, event_loop, gc_pause
from hlmon.alerts import Alert, AlertEngine, AlertRule
from hlmon.alerts.delivery import AlertOutputs
from hlmon.config import Settings
from hlmon.config.saved import SavedChoices
from hlmon.runtime.controls import Backend, Controls, InputRejected
from hlmon.runtime.started import StartedBackend
from hlmon.runtime.terminal import Clipboard, ClipboardRoute
from hlmon.ui.covering import cover, uncover
from hlmon.ui.keymap import bindings
from hlmon.ui.one_write import display_in_one_write
from hlmon.ui.saving import ChoiceSaver
from hlmon.ui.screens.dashboard import Dashboard
from hlmon.ui.widgets.tabs import TABS
from hlmon.ui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from rich.console import RenderableType

    from hlmon.runtime.root import Runtime
    from hlmon.ui.screens.market import MarketScreen

# The screens a key opens (alerts view, help, market screen) are imported when it is first
# pressed: nothing of them is on screen before the first data (tests/test_startup_imports.py).

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

STOP_WAIT_S = 15.0
"""Leaving waits at most this long for the backend to stop (its tasks, sockets, simulator): a
stop that hangs is logged and the terminal is given back, never held."""

ControlCall = Callable[[Controls], None]
"""One forwarded choice, e.g. ``lambda c: c.select_coin("ETH")``."""


class HlmonApp(App[int]):
    """hlmon's terminal UI."""

    CSS_PATH = "hlmon.tcss"
    TITLE = "hlmon"
    BINDINGS = bindings("app")
    """From ``hlmon.ui.keymap``, like the dashboard's."""

    def __init__(self, backend: Backend, clipboard: Clipboard | None = None) -> None:
        super().__init__()
        self.backend = backend
        """What the app runs on (entered on mount, left on unmount)."""
        self.clipboard_route = clipboard or ClipboardRoute()
        """How a copy (OSC 52) reaches the clipboard, as probed at start (tmux or not; tmux's
        answer read when a copy first needs it)."""
        settings = backend.settings
        self.settings: Settings = settings
        """Display settings (watchlist, fps, theme, alerts)."""
        self.store = backend.store
        """The store every pane reads."""
        self.clock = backend.clock
        """Wall clock for ages and the header (the store's)."""
        self.controls: Controls | None = None
        """Where the user's choices go, once the backend has started."""
        self._pending: list[tuple[str, ControlCall]] = []
        """Choices made before the backend started, replayed in order when it has."""
        self._backend_exit = contextlib.AsyncExitStack()
        self._backend_worker: Worker[None] | None = None
        self.rejected_input: str | None = None
        """Why the backend refused to start with what the user typed (``--coins`` naming an
        unlisted market): the app exits 1 and ``run_app`` prints it."""
        alert_settings = settings.alerts
        self.alerts = AlertEngine(
            alert_settings.rules,
            clock=self.clock,
            cooldown_s=alert_settings.cooldown_s,
            hysteresis_pct=alert_settings.hysteresis_pct,
        )
        """Alert rules, evaluated by the dashboard's frame timer."""
        self.alert_outputs = AlertOutputs.from_settings(alert_settings)
        """Bell, desktop notifications (OSC 9/777), command and webhook."""
        self.dashboard = Dashboard(
            self.store,
            self.clock,
            network=backend.network,
            address=backend.address,
            coins=settings.watchlist,
            fps=settings.fps,
            alerts=self.alerts,
        )
        """The main screen."""
        self.saver = ChoiceSaver(
            self,
            collect=self._choices,
            controls=lambda: self.controls,
            log=self.store.health.log,
            saved_file=settings.saved_file,
        )
        """Saves the watchlist, theme, book mode and alert rules changed in the UI."""
        self._start_theme = settings.theme

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Textual's own, with the update's writes joined into one (``ui.one_write``)."""
        display_in_one_write(super()._display, self, screen, renderable)

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        """Apply the theme, show the dashboard, start the backend in the background (its
        network waits overlap the first paint), and once the screen is up end start-up's
        pauses."""
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self._start_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.push_screen(self.dashboard)
        self._apply_book_mode()
        self._backend_worker = self.run_worker(
            self._start_backend(), name="backend", exit_on_error=False
        )
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        """Start-up's pauses end: the collector runs again, the table of generated code is
        saved if it grew and let go (``gc_pause``, ``codegen_cache``)."""
        gc_pause.resume()
        codegen_cache.release()

    async def _start_backend(self) -> None:
        """Enter the backend (left in ``on_unmount``), then forward what the user chose since."""
        controls = await self._backend_exit.enter_async_context(self.backend)
        self.controls = controls
        pending, self._pending = self._pending, []
        for what, call in pending:
            self._control(what, call)
        selected = self.dashboard.watchlist.selected
        if selected is not None:
            self._control(f"select_coin({selected!r})", lambda c: c.select_coin(selected))

    async def on_unmount(self) -> None:
        """Save what waits to be saved, stop the backend (the engine, then the simulator)."""
        await self.saver.finish()
        try:
            async with asyncio.timeout(STOP_WAIT_S):
                await self._stop_backend()
        except TimeoutError:
            self.log.error(f"backend not stopped within {STOP_WAIT_S:g} s; leaving anyway")

    async def _stop_backend(self) -> None:
        await self.alert_outputs.aclose()
        worker = self._backend_worker
        if worker is not None and not worker.is_finished:
            # Quitting while it starts: Textual has cancelled the worker; wait until the
            # backend has stopped what it had started.
            with contextlib.suppress(Exception):
                await worker.wait()
        try:
            await self._backend_exit.aclose()
        except Exception as exc:  # shutting down: report, never hang the exit
            self.log.error(f"backend stop failed: {exc!r}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background task failed: say so on screen and in the log, never swallow it."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, InputRejected):
                self.rejected_input = str(error)
                self.exit(1)
                return
            text = f"{event.worker.name} failed: {error!r}"
            self.store.health.log(text, "error")
            self.notify(text, title="error", severity="error", timeout=15)

    # ------------------------------------------------------------------ controls

    def _control(self, what: str, call: ControlCall) -> None:
        """Forward one choice; a refusal (bad coin name...) is shown, not raised."""
        if self.controls is None:
            self._pending.append((what, call))
            return
        try:
            call(self.controls)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            self.store.health.log(f"{what}: {exc}", "error")

    forward = _control
    """Forward one choice to the backend (queued until it has started)."""

    def on_watchlist_coin_selected(self, event: Watchlist.CoinSelected) -> None:
        """Subscribe the selected coin's book, trades and bbo."""
        coin = event.coin
        self._control(f"select_coin({coin!r})", lambda c: c.select_coin(coin))

    def on_dashboard_book_mode_changed(self, event: Dashboard.BookModeChanged) -> None:
        """Switch the book subscription (fast/full, aggregation)."""
        fast, n_sig_figs = event.fast, event.n_sig_figs
        self._control(
            f"set_book_mode({fast}, {n_sig_figs})", lambda c: c.set_book_mode(fast, n_sig_figs)
        )
        self.saver.changed_now("book")

    def on_dashboard_coin_added(self, event: Dashboard.CoinAdded) -> None:
        """Subscribe a new watchlist coin."""
        coin = event.coin
        self._control(f"add_coin({coin!r})", lambda c: c.add_coin(coin))
        self._save_watchlist()

    def on_dashboard_coin_removed(self, event: Dashboard.CoinRemoved) -> None:
        """Unsubscribe a removed watchlist coin."""
        coin = event.coin
        self._control(f"remove_coin({coin!r})", lambda c: c.remove_coin(coin))
        self._save_watchlist()

    def on_dashboard_watch_instead(self, event: Dashboard.WatchInstead) -> None:
        """Watch an agent wallet's master account in its place."""
        old, new = event.old, event.new
        self._control(f"watch_instead({old!r}, {new!r})", lambda c: c.watch_instead(old, new))

    def on_dashboard_copy_requested(self, event: Dashboard.CopyRequested) -> None:
        """Send the text via OSC 52 and say honestly whether it can have arrived (tmux drops
        it unless its set-clipboard is on)."""
        self.copy_to_clipboard(event.text)
        note, ok = self.clipboard_route.copied(event.what, event.text)
        self.notify(note, severity="information" if ok else "warning", timeout=3 if ok else 10)

    def on_dashboard_account_selected(self, event: Dashboard.AccountSelected) -> None:
        """Move the detail feeds (orders, fills, fundings) to another watched account."""
        address = event.address
        self._control(f"select_user({address!r})", lambda c: c.select_user(address))

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
        """A price rule added from the ``A`` prompt (already in the engine)."""
        self._alert_rules_changed(f"alert added: {event.rule_id}")

    def _alert_rules_changed(self, what: str) -> None:
        """Every change to the alert rules made in the UI ends here (added, edited, switched
        on or off, removed; the engine already holds the new list): said in the Log and a
        toast, and saved with the settings."""
        self.store.health.log(what)
        self.notify(what, timeout=3)
        self._save_alert_rules()

    def add_alert_rule(self, rule: AlertRule) -> bool:
        """Add a rule (the alerts view); False if the same rule exists."""
        if any(r.rule_id == rule.rule_id for r in self.alerts.rules):
            self.notify(f"the same rule already exists: {rule.rule_id}", severity="warning")
            return False
        self._alert_rules_changed(f"alert added: {self.alerts.add(rule)}")
        return True

    def edit_alert_rule(self, rule_id: str, rule: AlertRule) -> bool:
        """Put ``rule`` in the place of ``rule_id`` (the alerts view's edit)."""
        try:
            new_id = self.alerts.replace(rule_id, rule)
        except (KeyError, ValueError) as exc:
            self.notify(str(exc), severity="error")
            return False
        what = (
            f"alert {rule_id} is now {new_id}" if new_id != rule_id else f"alert edited: {new_id}"
        )
        self._alert_rules_changed(what)
        return True

    def set_alert_enabled(self, rule_id: str, enabled: bool) -> bool:
        """Switch a rule on or off (the alerts view)."""
        if not self.alerts.set_enabled(rule_id, enabled):
            return False
        self._alert_rules_changed(f"alert {'on' if enabled else 'off'}: {rule_id}")
        return True

    def write_to_terminal(self, text: str) -> None:
        """Write raw escape sequences (bell, OSC notifications) to the terminal.

        Textual has no public API for this; ``App.bell`` and ``copy_to_clipboard`` write to the
        driver the same way. Headless (tests) and web drivers get nothing.
        """
        driver = self._driver
        if text and not self.is_headless and driver is not None:
            driver.write(text)

    def remove_alert(self, rule_id: str) -> bool:
        """Remove an alert rule (the alerts view, the command palette)."""
        if not self.alerts.remove(rule_id):
            return False
        self._alert_rules_changed(f"alert removed: {rule_id}")
        return True

    # ------------------------------------------------------------------ saved choices

    def _save_alert_rules(self) -> None:
        """The alert rules changed (added, removed, edited): save them with the settings."""
        self.saver.changed_now("rules")

    def _save_watchlist(self) -> None:
        if self.settings.strict_watchlist:
            return  # --coins: that list is for this run; the saved one stays as it was
        self.saver.changed_now("watchlist")

    def _theme_changed(self, theme: Any) -> None:
        # Applying the start theme on mount publishes too: only a change counts.
        if "theme" in self.saver.changed or self.theme != self._start_theme:
            self.saver.changed_now("theme")

    def _apply_book_mode(self) -> None:
        """Start with the configured (or saved) book mode, on screen and in the feeds."""
        fast = self.settings.book_fast
        n_sig_figs = self.settings.book_sig_figs or None
        if (fast, n_sig_figs) == (self.dashboard.book.fast, self.dashboard.book.n_sig_figs):
            return
        self.dashboard.book.set_mode(fast, n_sig_figs)
        self._control(
            f"set_book_mode({fast}, {n_sig_figs})", lambda c: c.set_book_mode(fast, n_sig_figs)
        )

    def _choices(self, changed: frozenset[str]) -> SavedChoices:
        """The current value of each kind of choice changed in this run."""
        book = self.dashboard.book
        return SavedChoices(
            watchlist=tuple(self.dashboard.watchlist.coins) if "watchlist" in changed else None,
            theme=self.theme if "theme" in changed else None,
            book_fast=book.fast if "book" in changed else None,
            book_sig_figs=(book.n_sig_figs or 0) if "book" in changed else None,
            rules=tuple(self.alerts.rules) if "rules" in changed else None,
        )

    # ------------------------------------------------------------------ actions

    def action_alerts(self) -> None:
        """Show the alerts view (``!``), or go back from it."""
        from hlmon.ui.screens.alerts_view import AlertsView

        if isinstance(self.screen, AlertsView):
            self.screen.dismiss()
        elif self.screen is self.dashboard:
            coin = self.dashboard.watchlist
            cover(self.dashboard)  # hidden: paints nothing (its alert rules still run)
            self.push_screen(
                AlertsView(self.alerts, self, self.store, self.clock, lambda: coin.selected),
                callback=lambda _: uncover(self.dashboard),
            )

    def action_help(self) -> None:
        """Show the keys of the screen ``?`` was pressed on."""
        from hlmon.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(getattr(self.screen, "KEYMAP", "dashboard")))

    def action_market(self) -> None:
        """Show every market (``hlmon.ui.market_host``)."""
        from hlmon.ui.market_host import open_market

        open_market(self)

    def on_market_screen_coin_chosen(self, event: MarketScreen.CoinChosen) -> None:
        """``enter`` on the market screen: add the coin to the watchlist."""
        from hlmon.ui.market_host import add_chosen

        add_chosen(self, event.coin)

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
        for n, (tab, label) in enumerate(TABS, start=1):
            yield SystemCommand(
                f"Tab {n}: {label}", f"Show the {label} tab", lambda t=tab: d.action_tab(t)
            )
        offer = d.extras.master_offer()
        if offer is not None:
            yield SystemCommand(
                "Watch master account",
                f"{offer[0]} is an agent wallet: watch {offer[1]} instead (shift+w)",
                d.action_watch_master,
            )
        yield SystemCommand(
            "Next account", "Show the next watched account", lambda: d.action_next_account(1)
        )
        yield SystemCommand("Copy address", "Copy the watched address (OSC 52)", d.action_copy)
        yield SystemCommand(
            "Add price alert", "Alert when a mid crosses a level (shift+a)", d.action_add_alert
        )
        yield SystemCommand(
            "Alerts",
            "Every alert rule: state, last value; add, edit, on/off (!)",
            self.action_alerts,
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


def build_app(backend: Backend, clipboard: Clipboard | None = None) -> HlmonApp:
    """Build the app on ``backend``; the one factory used by the CLI and the tests.

    Args:
        backend: what the app runs on (entered when it mounts).
        clipboard: how a copy reaches the clipboard (``hlmon.runtime.terminal``; default:
            a terminal without tmux).

    Returns:
        The app, not yet running.
    """
    return HlmonApp(backend, clipboard)


def run_app(settings: Settings, clipboard: Clipboard | None = None) -> int:
    """Run the TUI until the user quits; the CLI's entry point.

    The app runs on a ``Runtime`` (``hlmon.runtime.root``) for ``settings``: with
    ``settings.demo`` that starts the in-process simulator and watches its demo account. With
    ``settings.strict_watchlist`` (``--coins``) the runtime is started first, so a name the
    exchange does not list ends the run (exit 1, the message on stderr) before anything is
    drawn; otherwise the app draws at once and starts the runtime behind its first frame.

    Returns:
        The process exit code.
    """
    from hlmon.runtime.root import Runtime  # loads the feeds; importing the app does not

    runtime = Runtime(settings)
    try:
        if settings.strict_watchlist:
            return _run_checked(runtime, clipboard)
        app = build_app(runtime, clipboard)
        # Textual's app.run() is asyncio.run(app.run_async()); this picks the loop too.
        code = event_loop.run(app.run_async(), settings.event_loop)
    finally:
        gc_pause.resume()  # the first paint never came (an error, a quit before it)
    return _exit_code(app, code)


def _exit_code(app: HlmonApp, code: int | None) -> int:
    if app.rejected_input is not None:
        print(f"hlmon: error: {app.rejected_input}", file=sys.stderr)
        return 1
    if app.return_code:
        return app.return_code
    return code or 0


CHECK_NOTE_AFTER_S = 0.5
"""Say on stderr what the wait is for when the ``--coins`` check takes longer than this."""


def _run_checked(runtime: Runtime, clipboard: Clipboard | None) -> int:
    """Start ``runtime`` (checking ``--coins``), then run the app on it; stop it after."""

    async def main() -> int:
        async with contextlib.AsyncExitStack() as stack:
            entering = asyncio.ensure_future(stack.enter_async_context(runtime))
            done, _ = await asyncio.wait({entering}, timeout=CHECK_NOTE_AFTER_S)
            if not done:
                print("hlmon: checking --coins against the exchange's markets…", file=sys.stderr)
            try:
                controls = await entering
            except InputRejected as exc:
                print(f"hlmon: error: {exc}", file=sys.stderr)
                return 1
            app = build_app(StartedBackend(runtime, controls), clipboard)
            code = await app.run_async()
            return _exit_code(app, code)
        raise AssertionError("unreachable")  # (mypy: the exit stack swallows nothing)

    try:
        return event_loop.run(main(), runtime.settings.event_loop)
    except KeyboardInterrupt:
        return 130
