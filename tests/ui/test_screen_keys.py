"""The market screen and the alerts view have keys of their own in the key table: ``?`` on
either lists every one of them (then the keys that work everywhere), and at 80x24 their footer
keeps the ones that matter most."""

from __future__ import annotations

from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from hlmon.ui.app import HlmonApp
from hlmon.ui.keymap import KEYS, ScreenName, by_binding, help_rows
from hlmon.ui.screens.help import HelpScreen
from hlmon.ui.screens.market import SPECS
from hlmon.ui.widgets.key_footer import KeyFooter

from . import test_alerts_view, test_market_in_app
from .helpers import pilot_wait

MARKET_AT_80 = ("↑↓ market", "⏎ add to watchlist", "/ filter", "s sort", "esc back",
                "? all keys", "q quit")  # fmt: skip
ALERTS_AT_80 = ("a add", "⏎ edit", "space on/off", "d delete", "esc back", "? all keys")


async def _market(pilot: Pilot[Any]) -> None:
    await test_market_in_app.opened(pilot)


async def _alerts(pilot: Pilot[Any]) -> None:
    await test_alerts_view.open_view(pilot)


def _app(screen: ScreenName) -> HlmonApp:
    if screen == "market":
        return test_market_in_app.make_app()[0]
    return test_alerts_view.make_app(test_alerts_view.BTC_UP)


async def _open(screen: ScreenName, pilot: Pilot[Any]) -> None:
    await (_market if screen == "market" else _alerts)(pilot)


def _help_shown(app: HlmonApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen), screen
    return str(screen.query_one("#help-text", Static).render())


@pytest.mark.parametrize("screen", ["market", "alerts"])
async def test_question_mark_lists_every_key_of_the_screen(screen: ScreenName) -> None:
    app = _app(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(screen, pilot)
        opened = app.screen
        # Every binding the screen has is a row of its table (so ``?`` can describe it);
        # those of every Textual screen (tab moves the focus) aside.
        rows = by_binding(screen)
        textual = {(b.key, b.action) for b in Binding.make_bindings(Screen.BINDINGS)}
        for binding in opened._bindings.key_to_bindings.values():
            for one in binding:
                if (one.key, one.action) not in textual:
                    assert (one.key, one.action) in rows, (one.key, one.action)
        await pilot.press("question_mark")
        await pilot_wait(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = _help_shown(app)
        for keys, what in help_rows(screen):
            assert keys in text and what in text, keys
        own = [k for k in KEYS if k.screen == screen]
        assert all(k.help or KEYS[KEYS.index(k) - 1].screen == screen for k in own)
        assert text.index(own[0].help) < text.index("Everywhere") < text.index("quit")
        assert "alerts view" not in text and "markets: every perp" not in text  # not here
        assert "Copy (y) under tmux" not in text  # the dashboard's
        await pilot.press("escape")
        await pilot_wait(pilot, lambda: app.screen is opened)


async def test_market_help_names_every_sort_column() -> None:
    app = _app("market")
    async with app.run_test(size=(120, 40)) as pilot:
        await _market(pilot)
        await pilot.press("question_mark")
        await pilot_wait(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = _help_shown(app)
        assert all(spec.label in text for spec in SPECS)
        assert "1 - 8" in text and len([k for k in KEYS if k.action.startswith("sort_by")]) == 8


@pytest.mark.parametrize(("screen", "want"), [("market", MARKET_AT_80), ("alerts", ALERTS_AT_80)])
async def test_footer_at_80x24_keeps_the_key_ones(screen: ScreenName, want: tuple[str]) -> None:
    app = _app(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(screen, pilot)
        footer = app.screen.query_one(KeyFooter)
        await pilot_wait(pilot, lambda: len(footer.children) > 0)
        await pilot.pause()
        labels = [f"{e.display} {e.label}" for e in footer.shown]
        for useful in want:
            assert useful in labels, labels
        assert list(footer.children)[-1].region.right <= 80
        assert not any(label.startswith(("! ", "m ")) for label in labels)  # no-ops here
