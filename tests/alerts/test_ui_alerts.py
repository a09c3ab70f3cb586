"""The alerts hookup in the TUI: the frame timer evaluates the rules with the frame's changes;
an alert becomes a toast, a Log line and raw terminal output (bell + OSC); shift+a adds a
price alert. The store is driven by hand, like the other pilot tests."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hlmon.alerts import AlertSettings, PriceCross
from hlmon.config import Settings
from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.screens.alerts import AddAlertScreen
from tests.fakes import FakeRuntime

from .conftest import FakeClock, mids, wait_for

SIZE = (120, 40)


def make_app(clock: FakeClock, **alert_changes: object) -> tuple[HlmonApp, list[str]]:
    alerts = dataclasses.replace(
        AlertSettings(rules=(PriceCross("BTC", "above", Decimal(100)),), cooldown_s=0.0),
        **alert_changes,  # type: ignore[arg-type]
    )
    settings = Settings(watchlist=("BTC", "ETH"), alerts=alerts)
    app = build_app(FakeRuntime(settings, Store(clock), clock))
    written: list[str] = []
    # Headless apps write nothing to a terminal: record what would have been written.
    app.alert_outputs.terminal.tmux = False

    def record(text: str) -> None:
        written.append(text)

    app.write_to_terminal = record  # type: ignore[method-assign]
    return app, written


async def test_crossing_notifies_logs_and_writes_osc() -> None:
    clock = FakeClock()
    app, written = make_app(clock)
    async with app.run_test(size=SIZE):
        app.store.apply(mids(BTC="99", ETH="10"))
        await wait_for(lambda: app.dashboard.frames > 2, 5)
        assert written == []
        app.store.apply(mids(BTC="100.5", ETH="10"))
        await wait_for(lambda: written, 5)
        assert written == [
            "\x07"
            "\x1b]9;BTC above 100: BTC mid 100.50 crossed above 100\x07"
            "\x1b]777;notify;BTC above 100;BTC mid 100.50 crossed above 100\x07"
        ]
        lines = [(e.level, e.text) for e in app.store.health.events if e.text.startswith("alert")]
        assert lines == [("warn", "alert: BTC above 100: BTC mid 100.50 crossed above 100")]
        toasts = [(n.title, n.message, n.severity) for n in app._notifications]
        assert ("BTC above 100", "BTC mid 100.50 crossed above 100", "warning") in toasts
        # Still above on later frames: no second alert.
        app.store.apply(mids(BTC="101", ETH="10"))
        frames = app.dashboard.frames
        await wait_for(lambda: app.dashboard.frames > frames + 2, 5)
        assert len(written) == 1


async def test_bell_and_desktop_off_write_nothing() -> None:
    clock = FakeClock()
    app, written = make_app(clock, bell=False, desktop=False)
    async with app.run_test(size=SIZE):
        app.store.apply(mids(BTC="99"))
        await wait_for(lambda: app.dashboard.frames > 2, 5)
        app.store.apply(mids(BTC="100.5"))
        await wait_for(lambda: any(e.text.startswith("alert:") for e in app.store.health.events), 5)
        assert "".join(written) == ""


async def test_shift_a_adds_a_price_alert() -> None:
    clock = FakeClock()
    app, written = make_app(clock, rules=())
    async with app.run_test(size=SIZE) as pilot:
        app.store.apply(mids(BTC="99", ETH="10"))
        await pilot.press("A")
        await pilot.press(*"BTC < 95")
        await pilot.press("enter")
        await wait_for(lambda: app.alerts.rules, 5)
        assert [r.rule_id for r in app.alerts.rules] == ["price BTC < 95"]
        assert any(e.text == "alert added: price BTC < 95" for e in app.store.health.events)
        app.store.apply(mids(BTC="94", ETH="10"))
        await wait_for(lambda: written, 5)
        assert "BTC below 95" in written[0]


async def test_bad_alert_text_keeps_the_prompt_open() -> None:
    clock = FakeClock()
    app, _ = make_app(clock, rules=())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("A")
        await pilot.press(*"BTC = 5", "enter")
        assert isinstance(app.screen, AddAlertScreen)
        assert app.alerts.rules == []
        await pilot.press("escape")
        assert app.alerts.rules == []
