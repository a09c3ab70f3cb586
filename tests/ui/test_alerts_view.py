"""The alerts view (``!``): every rule with its state, last value and last fire; add, edit,
switch on/off and delete rules of every kind by keypresses; the coin checked against the
catalog; a snapshot with one fired and one armed rule. The store is driven by hand (the
populated store of the other UI tests: BTC mid 104,412.5, ETH 3,688.25)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from hlmon.alerts import (
    AlertRule,
    AlertSettings,
    AnyFill,
    DataLag,
    DeadMan,
    LiqDistance,
    Liquidated,
    MarginRatio,
    PriceCross,
    UpnlBeyond,
)
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.screens.alert_edit import FIELDS, AlertEditScreen
from hlmon.ui.screens.alerts_view import AlertsView
from tests.catalogs import default_catalog
from tests.fakes import FakeRuntime

from .helpers import FakeClock, pilot_wait, populated_store, settings
from .test_settings_stick import _app, _config, _settings

BTC_UP = PriceCross("BTC", "above", Decimal(104500))
ETH_DOWN = PriceCross("ETH", "below", Decimal(3000))


def make_app(*rules: AlertRule, clock: FakeClock | None = None) -> HlmonApp:
    clock = clock or FakeClock()
    alerts = AlertSettings(rules=rules, cooldown_s=60.0)
    runtime = FakeRuntime(
        settings(alerts=alerts), populated_store(clock), clock, catalog=default_catalog()
    )
    return build_app(runtime)


def mids_msg(**mids: str) -> Any:
    from tests.support import msg

    return msg("allMids", {"mids": mids})


async def open_view(pilot: Pilot[Any]) -> AlertsView:
    app = pilot.app
    assert isinstance(app, HlmonApp)
    await pilot_wait(pilot, lambda: app.controls is not None and app.store.catalog is not None)
    await pilot.press("exclamation_mark")
    await pilot_wait(pilot, lambda: isinstance(app.screen, AlertsView))
    view = app.screen
    assert isinstance(view, AlertsView)
    return view


def rows(view: AlertsView) -> list[str]:
    return [" ".join(line.replace("▶", " ").split()) for line in view.table.text_lines]


async def fire_btc(pilot: Pilot[Any], app: HlmonApp) -> None:
    """BTC crosses 104,500: the first rule fires on the next frame."""
    app.dashboard.refresh_frame()  # the rules see the mids below the level first
    app.store.apply(mids_msg(BTC="104612.5", ETH="3688.25"))
    app.dashboard.refresh_frame()
    await pilot.pause()


async def type_into(pilot: Pilot[Any], widget_id: str, text: str) -> None:
    screen = pilot.app.screen
    field = screen.query_one(f"#{widget_id}", Input)
    field.focus()
    await pilot.pause()
    await pilot.press(*text)


class TestView:
    async def test_lists_states_values_and_fires(self) -> None:
        app = make_app(BTC_UP, ETH_DOWN, DataLag(10, "mids"), Liquidated())
        async with app.run_test(size=(120, 40)) as pilot:
            await fire_btc(pilot, app)
            view = await open_view(pilot)
            view.refresh_rows()
            lines = rows(view)
            assert lines[0].split() == [
                "kind", "target", "condition", "state", "last", "value", "last", "fired", "×"
            ]  # fmt: skip
            assert lines[1].startswith("● price BTC mid > 104,500 fired mid 104,612.5 ")
            assert lines[1].endswith(" 1")
            assert lines[2].startswith("● price ETH mid < 3,000 armed mid 3,688.25 –")
            assert lines[3].startswith("● data_lag mids behind > 10 s armed mids ")
            assert lines[4].startswith("● liquidation account liquidated armed – –")
            assert "1 fired" in str(view.table.border_title)
            # esc goes back to the dashboard; ! too.
            await pilot.press("escape")
            assert app.screen is app.dashboard

    async def test_follows_the_rules_while_shown(self) -> None:
        """The dashboard underneath keeps evaluating: a crossing while the view is shown
        turns the row to fired within a second, and the hint says what that means."""
        app = make_app(BTC_UP)
        async with app.run_test(size=(120, 40)) as pilot:
            view = await open_view(pilot)
            await pilot_wait(pilot, lambda: "armed" in rows(view)[1])
            app.store.apply(mids_msg(BTC="104612.5", ETH="3688.25"))
            await pilot_wait(pilot, lambda: "fired" in rows(view)[1], limit=5)
            hint = str(view.query_one("#alert-hint").render())
            assert hint.startswith("fired: still past its level")

    async def test_the_hidden_dashboard_stops_repainting_until_the_view_closes(self) -> None:
        """Under the view the dashboard stops following the store (its once-a-second frame
        still evaluates the rules); closing the view, by escape or by !, makes it follow the
        store again."""
        app = make_app(BTC_UP)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: app.store._listener is not None)
            for close in ("escape", "exclamation_mark"):
                await open_view(pilot)
                assert app.store._listener is None
                await pilot.press(close)
                await pilot_wait(pilot, lambda: app.screen is app.dashboard)
                assert app.store._listener is not None

    async def test_the_hidden_dashboard_paints_nothing_and_catches_up_on_return(self) -> None:
        """A frame under the view takes the store's changes (for the rules) but repaints no
        pane; back on the dashboard, the change it held is on screen at once."""
        app = make_app(BTC_UP)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_view(pilot)
            watchlist = app.dashboard.watchlist
            assert any("104,412.5" in line for line in watchlist.text_lines)
            app.store.apply(mids_msg(BTC="104612.5", ETH="3688.25"))
            await pilot_wait(pilot, lambda: "mids" in (app.dashboard.paint.hidden or ()), limit=5)
            assert any("104,412.5" in line for line in watchlist.text_lines)
            await pilot.press("escape")
            await pilot_wait(pilot, lambda: app.screen is app.dashboard)
            assert app.dashboard.paint.hidden is None
            assert any("104,612.5" in line for line in watchlist.text_lines)

    async def test_readable_at_80x24(self) -> None:
        """The narrow view keeps kind, target, condition, state and value whole."""
        app = make_app(BTC_UP, ETH_DOWN, DeadMan(30), UpnlBeyond(Decimal(1000), Decimal(-500)))
        async with app.run_test(size=(80, 24)) as pilot:
            await fire_btc(pilot, app)
            view = await open_view(pilot)
            view.refresh_rows()
            lines = rows(view)
            assert "price BTC mid > 104,500 fired mid 104,612.5" in lines[1]
            assert "deadman every feed stale > 30 s armed fresh · 3 open" in lines[3]
            assert "upnl account > 1,000 or < -500 fired +1,076.60" in lines[4]
            assert all(len(line) <= 78 for line in view.table.text_lines)


class TestChanges:
    async def test_add_edit_toggle_delete_by_keys(self) -> None:
        app = make_app(ETH_DOWN)
        async with app.run_test(size=(120, 40)) as pilot:
            view = await open_view(pilot)
            # a: the form, a price rule on the selected coin (BTC) to start with.
            await pilot.press("a")
            await pilot_wait(pilot, lambda: isinstance(app.screen, AlertEditScreen))
            assert app.screen.query_one("#price--coin", Input).value == "BTC"
            await type_into(pilot, "price--above", "110,000")
            await pilot.press("enter")
            await pilot_wait(pilot, lambda: app.screen is view)
            assert app.alerts.rules == [ETH_DOWN, PriceCross("BTC", "above", Decimal(110000))]
            assert view.table.selected_key == "price BTC > 110000"
            # e: edit the selected rule in place (the level), keeps its place.
            await pilot.press("e")
            await pilot_wait(pilot, lambda: isinstance(app.screen, AlertEditScreen))
            field = app.screen.query_one("#price--above", Input)
            assert field.value == "110000"
            field.value = ""
            await type_into(pilot, "price--above", "111000")
            await pilot.press("enter")
            await pilot_wait(pilot, lambda: app.screen is view)
            assert [r.rule_id for r in app.alerts.rules] == [
                "price ETH < 3000",
                "price BTC > 111000",
            ]
            # space: off, and on again.
            await pilot.press("space")
            assert app.alerts.rules[1].enabled is False
            assert "disabled" in rows(view)[2]
            await pilot.press("space")
            assert app.alerts.rules[1].enabled is True
            # d asks, d again deletes; another key in between keeps the rule.
            await pilot.press("d", "down", "d")
            assert len(app.alerts.rules) == 2
            assert "d again to delete price BTC > 111000" in str(
                view.query_one("#alert-hint").render()
            )
            await pilot.press("d")
            assert [r.rule_id for r in app.alerts.rules] == ["price ETH < 3000"]
            # Every change went through the app's one funnel: the Log says each.
            said = [e.text for e in app.store.health.events if e.text.startswith("alert")]
            assert said == [
                "alert added: price BTC > 110000",
                "alert price BTC > 110000 is now price BTC > 111000",
                "alert off: price BTC > 111000",
                "alert on: price BTC > 111000",
                "alert removed: price BTC > 111000",
            ]

    @pytest.mark.parametrize(
        ("kind", "fields", "rule"),
        [
            ("liq_distance", {"below_pct": "10", "coin": "eth"}, LiqDistance(Decimal(10), "ETH")),
            ("margin_ratio", {"above_pct": "80"}, MarginRatio(Decimal(80))),
            ("upnl", {"below": "-500"}, UpnlBeyond(None, Decimal(-500))),
            ("fill", {}, AnyFill()),
            ("liquidation", {}, Liquidated()),
            ("deadman", {"stale_for_s": "45"}, DeadMan(45.0)),
            ("data_lag", {"lag_s": "5", "feed": "book:BTC"}, DataLag(5.0, "book:BTC")),
        ],
    )
    async def test_every_kind_can_be_added(
        self, kind: str, fields: dict[str, str], rule: AlertRule
    ) -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await open_view(pilot)
            await pilot.press("a")
            await pilot_wait(pilot, lambda: isinstance(app.screen, AlertEditScreen))
            form = app.screen
            assert isinstance(form, AlertEditScreen)
            # Choose the kind with the keyboard: open the list, move down to it, enter.
            form.query_one("#kind", Select).focus()
            await pilot.press("enter")
            await pilot.pause()
            for _ in range(list(FIELDS).index(kind)):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot_wait(pilot, lambda: form.kind == kind)
            for key, text in fields.items():
                await type_into(pilot, f"{kind}--{key}", text)
            await pilot.press("ctrl+s")
            await pilot_wait(pilot, lambda: not isinstance(app.screen, AlertEditScreen))
            assert app.alerts.rules == [rule]

    async def test_bad_input_stays_open_and_says_why(self) -> None:
        app = make_app(ETH_DOWN)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_view(pilot)
            await pilot.press("a")
            await pilot_wait(pilot, lambda: isinstance(app.screen, AlertEditScreen))
            form = app.screen
            hint = form.query_one("#hint")
            form.query_one("#price--coin", Input).value = "NOPECOIN"
            await type_into(pilot, "price--above", "100")
            await pilot.press("enter")
            assert isinstance(app.screen, AlertEditScreen)
            assert "NOPECOIN" in str(hint.render()) and hint.has_class("error")
            # Both levels: the config's own words.
            form.query_one("#price--coin", Input).value = "ETH"
            await type_into(pilot, "price--below", "3000")
            await pilot.press("enter")
            assert "exactly one of above or below" in str(hint.render())
            # The same rule twice is refused.
            form.query_one("#price--above", Input).value = ""
            await pilot.press("enter")
            assert "the same rule already exists: price ETH < 3000" in str(hint.render())
            # A private key pasted anywhere is taken out at once, never shown.
            key = "0x" + "4c0883a69102937d6231471b5dbb6204fe512961708279f3a3e7f1b0c1e0d5e2"[:64]
            form.query_one("#price--coin", Input).value = key
            await pilot.pause()
            assert form.query_one("#price--coin", Input).value == ""
            assert "private key" in str(hint.render()) and key not in str(hint.render())
            await pilot.press("escape")
            assert app.alerts.rules == [ETH_DOWN]
            assert not any(key in e.text for e in app.store.health.events)


class TestSnapshot:
    def test_alerts_view_120x40(self, snap_compare: Any) -> None:
        """One fired rule (BTC crossed 104,500), one armed (ETH below 3,000), one data-lag
        rule armed on the mids, one switched off."""
        app = make_app(BTC_UP, ETH_DOWN, DataLag(10, "mids"), DeadMan(30))

        async def run_before(pilot: Pilot[Any]) -> None:
            await fire_btc(pilot, app)
            app.alerts.set_enabled("deadman 30s", False)
            app.clear_notifications()
            await open_view(pilot)
            await pilot.pause()

        assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)

    def test_alerts_view_80x24(self, snap_compare: Any) -> None:
        app = make_app(BTC_UP, ETH_DOWN, DataLag(10, "mids"), DeadMan(30))

        async def run_before(pilot: Pilot[Any]) -> None:
            await fire_btc(pilot, app)
            app.clear_notifications()
            await open_view(pilot)
            await pilot.pause()

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestSaved:
    async def test_changes_in_the_view_are_saved_and_reloaded(self, tmp_path: Path) -> None:
        """Switched off and added in the view, in one app; the same in the next one."""
        path = _config(tmp_path)
        app, runtime = _app(_settings(path, tmp_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: runtime.started and app.store.catalog is not None)
            view = await open_view(pilot)
            await pilot.press("space")  # the dead-man's switch (first row): off
            await pilot.press("a")
            await pilot_wait(pilot, lambda: isinstance(app.screen, AlertEditScreen))
            form = app.screen
            assert isinstance(form, AlertEditScreen)
            form.query_one("#kind", Select).value = "data_lag"
            await pilot_wait(pilot, lambda: form.kind == "data_lag")
            await type_into(pilot, "data_lag--lag_s", "7")
            await pilot.press("enter")
            await pilot_wait(pilot, lambda: app.screen is view)
        rules = (DeadMan(30.0, enabled=False), Liquidated(), DataLag(7.0))
        assert _settings(path, tmp_path).alerts.rules == rules
        app2, runtime2 = _app(_settings(path, tmp_path))
        async with app2.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: runtime2.started)
            assert tuple(app2.alerts.rules) == rules
            assert app2.alerts.status()[0].state == "disabled"
