"""The alerts view (``!``): every alert rule with its state, last value and last fire, and the
keys to add, edit, switch on/off and delete rules of every kind.

A screen of its own rather than an eighth lower tab: at 80x24 the lower panel keeps 4-6 rows
while this view has the whole height for the rules, and its keys (``a`` add, ``d`` delete) can
mean what they say here without taking ``a``/``d`` (add/remove a coin) from the dashboard.

It reads ``AlertEngine.status()`` once a second and after each change; every change goes
through the :class:`RuleEditor` (the app), which logs it and is where saving hooks in.
The dashboard keeps evaluating the rules underneath while the view is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from hlmon.alerts import AlertEngine, AlertRule, RuleStatus
from hlmon.state import Store
from hlmon.ui.fmt import fmt_clock
from hlmon.ui.keymap import ScreenName, bindings
from hlmon.ui.lean_compositor import use_lean_compositor
from hlmon.ui.screens.alert_edit import AlertEditScreen
from hlmon.ui.widgets.alerts_table import ALERT_COLUMNS, alert_rows
from hlmon.ui.widgets.key_footer import KeyFooter
from hlmon.ui.widgets.lines import set_border_title
from hlmon.ui.widgets.table import TableView

CONFIRM_S = 3.0
"""A second ``d`` within this many seconds deletes the rule."""
KEYS_HINT = "a add · e edit · space on/off · d delete · esc back"
STATE_HELP = {
    "disabled": "off: kept in the list, never checked (space: on)",
    "waiting": "waiting for data: nothing to look at yet (no mid, no account, no feed)",
    "armed": "armed: fires on the next crossing",
    "fired": "fired: still past its level; re-arms once back on the safe side",
    "held": "held: past its level without firing (already past when it started), or events "
    "held back by the cooldown",
    "cooling": "cooling down: fired, then back on the safe side; silent until",
}
"""The hint line under the table: what the selected rule's state means."""


class RuleEditor(Protocol):
    """Where the view's changes go (the app): each returns whether it changed anything."""

    def add_alert_rule(self, rule: AlertRule) -> bool: ...

    def edit_alert_rule(self, rule_id: str, rule: AlertRule) -> bool: ...

    def set_alert_enabled(self, rule_id: str, enabled: bool) -> bool: ...

    def remove_alert(self, rule_id: str) -> bool: ...


class AlertsView(Screen[None]):
    """Every alert rule, its state, and the keys to change them."""

    DEFAULT_CSS = """
    AlertsView { layout: vertical; }
    AlertsView #rules {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
    }
    AlertsView #rules:focus { border: round $accent; }
    AlertsView #alert-hint { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    AlertsView #alert-hint.-confirm { color: $error; text-style: bold; }
    """

    KEYMAP: ClassVar[ScreenName] = "alerts"
    """Its rows of ``hlmon.ui.keymap``: its bindings, its footer and its ``?``."""
    BINDINGS = bindings(KEYMAP)

    def __init__(
        self,
        engine: AlertEngine,
        editor: RuleEditor,
        store: Store,
        clock: Callable[[], float],
        coin: Callable[[], str | None] = lambda: None,
    ) -> None:
        """
        Args:
            engine: the rules and their states (read only here).
            editor: applies the changes (the app).
            store: where a new rule's coin is checked (its market catalog).
            clock: for the cooldowns left.
            coin: the dashboard's selected coin, offered for a new price rule.
        """
        super().__init__()
        use_lean_compositor(self)
        self.engine = engine
        self.editor = editor
        self.store = store
        self.clock = clock
        self._coin = coin
        self.table = TableView(
            ALERT_COLUMNS,
            empty="no alert rules: a adds one",
            noun="rules",
            cursor=True,
            id="rules",
        )
        self._statuses: dict[str, RuleStatus] = {}
        self._confirm: tuple[str, float] | None = None
        """(rule id, when) of a first ``d``: a second one deletes."""

    def compose(self) -> ComposeResult:
        """The rules table, a hint line, the footer."""
        yield self.table
        yield Static(KEYS_HINT, id="alert-hint", markup=False)
        yield KeyFooter(self.KEYMAP)  # fitted by rank, like the dashboard's

    def on_mount(self) -> None:
        """Fill the table, keep it current once a second, and give it the keys."""
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)
        self.table.focus()

    def refresh_rows(self) -> None:
        """Read the rules' states again."""
        statuses = self.engine.status()
        rows, keys = alert_rows(statuses, self.clock())
        self.table.set_data(rows, keys)
        fired = sum(1 for s in statuses if s.state == "fired")
        off = sum(1 for s in statuses if s.state == "disabled")
        title = f"Alerts · {len(statuses)} rule{'s' if len(statuses) != 1 else ''}"
        if fired:
            title += f" · [b]{fired} fired[/]"
        if off:
            title += f" · {off} off"
        set_border_title(self.table, title)
        self._statuses = {st.rule_id: st for st in statuses}
        if self._confirm is not None and self.clock() - self._confirm[1] > CONFIRM_S:
            self._end_confirm()
        elif self._confirm is None:
            self._explain()

    def on_table_view_row_highlighted(self, event: TableView.RowHighlighted) -> None:
        """The hint line follows the cursor."""
        if self._confirm is None:
            self._explain()

    def _explain(self) -> None:
        """Say what the selected rule's state means (the keys, with no rule)."""
        st = self._statuses.get(str(self.table.selected_key))
        text = KEYS_HINT
        if st is not None:
            text = STATE_HELP[st.state]
            if st.state == "cooling" and st.cooling_until is not None:
                text += " " + fmt_clock(st.cooling_until)
        self.query_one("#alert-hint", Static).update(text)

    @property
    def selected(self) -> AlertRule | None:
        """The rule under the cursor."""
        key = self.table.selected_key
        return next((r for r in self.engine.rules if r.rule_id == key), None)

    def _taken(self, but: str | None = None) -> frozenset[str]:
        return frozenset(r.rule_id for r in self.engine.rules if r.rule_id != but)

    # ------------------------------------------------------------------ actions

    def action_add(self) -> None:
        """The form for a new rule (a price rule on the selected coin to start with)."""

        def added(rule: AlertRule | None) -> None:
            if rule is not None and self.editor.add_alert_rule(rule):
                self.refresh_rows()
                self._select(rule.rule_id)

        form = AlertEditScreen(self.store, taken=self._taken(), coin=self._coin())
        self.app.push_screen(form, added)

    def action_edit(self) -> None:
        """The form for the selected rule."""
        rule = self.selected
        if rule is None:
            self.action_add()
            return
        old = rule.rule_id

        def edited(new: AlertRule | None) -> None:
            if new is not None and self.editor.edit_alert_rule(old, new):
                self.refresh_rows()
                self._select(new.rule_id)

        self.app.push_screen(AlertEditScreen(self.store, rule, taken=self._taken(old)), edited)

    def action_switch(self) -> None:
        """Switch the selected rule off, or on again."""
        rule = self.selected
        if rule is not None and self.editor.set_alert_enabled(rule.rule_id, not rule.enabled):
            self.refresh_rows()

    def action_delete(self) -> None:
        """Delete the selected rule: the first ``d`` asks, a second one deletes."""
        rule = self.selected
        if rule is None:
            return
        rid = rule.rule_id
        now = self.clock()
        confirm = self._confirm
        if confirm is None or confirm[0] != rid or not 0 <= now - confirm[1] <= CONFIRM_S:
            self._confirm = (rid, now)
            hint = self.query_one("#alert-hint", Static)
            hint.update(f"d again to delete {rid} (any other key: keep it)")
            hint.add_class("-confirm")
            return
        self._end_confirm()
        if self.editor.remove_alert(rid):
            self.refresh_rows()

    def on_key(self, key: object) -> None:
        """Any key but ``d`` cancels a pending delete."""
        name = getattr(key, "key", "")
        if self._confirm is not None and name not in ("d", "delete"):
            self._end_confirm()

    def _end_confirm(self) -> None:
        self._confirm = None
        self.query_one("#alert-hint", Static).remove_class("-confirm")
        self._explain()

    def _select(self, rule_id: str) -> None:
        self.table.select_key(rule_id)

    def action_close(self) -> None:
        """Back to the dashboard (dismissed, so whoever opened it hears it closed)."""
        self.dismiss()
