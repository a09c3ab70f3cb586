"""Settings that stick (#17): what the user changes in one app is there in the next one.

Each test gives the app a config file in a temporary directory as ``$HLMON_CONFIG`` (the user's
own file: ``Settings.saved_file``), drives the UI with keys, and reads the file back through
``load_settings`` into a second app, as a restart would.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from hlmon.alerts.rules import DeadMan, Liquidated, PriceCross
from hlmon.config import Settings, load_settings
from hlmon.config.saved import BEGIN
from hlmon.ui.app import THEMES, HlmonApp, build_app
from hlmon.ui.screens.alerts import AddAlertScreen
from hlmon.ui.screens.prompts import AddCoinScreen
from tests.catalogs import default_catalog
from tests.fakes import FakeRuntime

from .helpers import pilot_wait as wait_for

SIZE = (120, 40)
USER_TEXT = """\
# my own settings: this comment stays
watchlist = ["BTC", "ETH"]   # two coins to start
fps = 10.0
"""


def _settings(path: Path, tmp_path: Path, **overrides: object) -> Settings:
    """What ``hlmon`` would read at start with ``$HLMON_CONFIG=path``."""
    return load_settings(
        env={"HLMON_CONFIG": str(path)},
        cwd=tmp_path,
        user_dir=tmp_path / "no-user-dir",
        overrides=overrides or None,
    )


def _app(settings: Settings) -> tuple[HlmonApp, FakeRuntime]:
    runtime = FakeRuntime(settings, catalog=default_catalog())
    return build_app(runtime), runtime


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text(USER_TEXT)
    return path


async def test_settings_saved_then_reloaded_in_a_second_app(tmp_path: Path) -> None:
    path = _config(tmp_path)
    first = _settings(path, tmp_path)
    assert first.saved_file == str(path)
    app, runtime = _app(first)
    async with app.run_test(size=SIZE) as pilot:
        d = app.dashboard
        app.saver.delay_s = 3.0
        await wait_for(pilot, lambda: runtime.started)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddCoinScreen))
        await pilot.press(*"sol", "enter")
        await wait_for(pilot, lambda: app.screen is d)
        await pilot.press("t")
        theme = app.theme
        assert theme != first.theme
        await pilot.press("f", "g")  # fast book, aggregated to 5 significant figures
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AddAlertScreen))
        await pilot.press(*"BTC > 200000", "enter")
        await wait_for(pilot, lambda: app.screen is d)
        # Every change restarted the quiet time: the burst is one save (a long quiet time
        # here, so a loaded machine's slow key presses do not split it).
        await wait_for(pilot, lambda: app.saver.settled and app.saver.saves >= 1, limit=15)
        assert len(runtime.named("save_settings")) == 1
        assert app.saver.last_error is None
        assert any(e.text == f"settings saved to {path}" for e in app.store.health.events)

    text = path.read_text()
    assert text.startswith(USER_TEXT) and text.count(BEGIN) == 1
    saved = tomllib.loads(text)["saved"]
    assert saved["watchlist"] == ["BTC", "ETH", "SOL"]
    assert saved["theme"] == theme

    second = _settings(path, tmp_path)
    assert second.watchlist == ("BTC", "ETH", "SOL")
    assert second.theme == theme
    assert (second.book_fast, second.book_sig_figs) == (True, 5)
    price = PriceCross("BTC", "above", Decimal(200000))
    assert second.alerts.rules == (DeadMan(30.0), Liquidated(), price)
    app2, runtime2 = _app(second)
    async with app2.run_test(size=SIZE) as pilot:
        d2 = app2.dashboard
        await wait_for(pilot, lambda: runtime2.started and runtime2.named("select_coin"))
        assert app2.theme == theme
        assert d2.watchlist.coins == ["BTC", "ETH", "SOL"]
        assert (d2.book.fast, d2.book.n_sig_figs) == (True, 5)
        assert runtime2.named("set_book_mode") == [(True, 5)]
        assert [r.rule_id for r in app2.alerts.rules] == [
            "deadman 30s",
            "liquidation",
            "price BTC > 200000",
        ]
        # Removing a rule in the second app is saved too, as a change to the file's rules.
        app2.remove_alert("deadman 30s")
        await wait_for(pilot, lambda: app2.saver.settled and app2.saver.saves >= 1)
        assert app2.saver.changed == {"rules"}  # nothing else was changed in this run
    assert _settings(path, tmp_path).alerts.rules == (Liquidated(), price)
    assert path.read_text().startswith(USER_TEXT)


async def test_a_change_just_before_quitting_is_saved(tmp_path: Path) -> None:
    path = _config(tmp_path)
    app, runtime = _app(_settings(path, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        app.saver.delay_s = 60.0  # the quiet time cannot pass before leaving, however slow
        await pilot.press("t")
        theme = app.theme
    # The quiet time had not passed: leaving saved it.
    assert _settings(path, tmp_path).theme == theme


async def test_coins_flag_run_does_not_save_the_watchlist(tmp_path: Path) -> None:
    path = _config(tmp_path)
    settings = _settings(path, tmp_path, watchlist="SOL")
    settings = Settings(**{**settings.__dict__, "strict_watchlist": True})
    app, runtime = _app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        await pilot.press("d")  # remove SOL
        await pilot.press("t")
        await wait_for(pilot, lambda: app.saver.saves >= 1 and app.saver.settled)
    saved = tomllib.loads(path.read_text())["saved"]
    assert "watchlist" not in saved and saved["theme"] == app.theme
    assert _settings(path, tmp_path).watchlist == ("BTC", "ETH")


async def test_a_config_flag_run_saves_nothing_and_says_so(tmp_path: Path) -> None:
    path = _config(tmp_path)
    settings = load_settings(path, env={}, cwd=tmp_path, user_dir=tmp_path / "user")
    assert settings.saved_file is None
    app, runtime = _app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        await pilot.press("t", "t")
        await wait_for(
            pilot, lambda: any("this run only" in e.text for e in app.store.health.events)
        )
        assert sum("this run only" in e.text for e in app.store.health.events) == 1
    assert runtime.named("save_settings") == []
    assert path.read_text() == USER_TEXT
    assert not (tmp_path / "user").exists()


async def test_a_failed_save_is_shown_and_the_file_kept(tmp_path: Path) -> None:
    path = _config(tmp_path)
    app, runtime = _app(_settings(path, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runtime.started)
        broken = USER_TEXT + "fps = [\n"  # edited meanwhile into invalid TOML
        path.write_text(broken)
        await pilot.press("t")
        await wait_for(pilot, lambda: app.saver.saves >= 1 and app.saver.settled)
        assert app.saver.last_error is not None and "invalid TOML" in app.saver.last_error
        errors = [e for e in app.store.health.events if e.text.startswith("settings not saved")]
        assert errors and str(path) in errors[0].text
        assert app.is_running
    assert path.read_text() == broken


def test_themes_cycled_by_t_are_valid_config_values() -> None:
    """What ``t`` picks is saved as ``theme``: the config's check must accept all of them."""
    for theme in THEMES:
        assert Settings(theme=theme).theme == theme
