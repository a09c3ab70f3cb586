"""Discoverable keys: one table (``hlmon.ui.keymap``) gives the bindings, the footer and ``?``;
the footer shows what fits by rank; a key that does nothing where it is pressed says why; ``y``
says honestly whether a copy can reach the clipboard under tmux."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.dom import DOMNode

from hlmon.runtime.terminal import (
    PROBE_TIMEOUT_S,
    ClipboardRoute,
    PendingClipboard,
    probe_clipboard,
    start_clipboard_probe,
)
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.keymap import KEYS, bindings, rows
from hlmon.ui.screens.alerts_view import AlertsView
from hlmon.ui.screens.dashboard import Dashboard
from hlmon.ui.screens.help import help_text
from hlmon.ui.screens.market import MarketScreen
from hlmon.ui.widgets.key_footer import Entry, KeyFooter, fit
from tests.fakes import FakeRuntime

from .helpers import USER, FakeClock, pilot_wait, populated_store, settings

OWNERS: dict[str, type[DOMNode]] = {
    "app": HlmonApp,
    "dashboard": Dashboard,
    "market": MarketScreen,
    "alerts": AlertsView,
}


def _app(clipboard: ClipboardRoute | None = None, **kw: object) -> HlmonApp:
    clock = FakeClock()
    return build_app(FakeRuntime(settings(**kw), populated_store(clock), clock), clipboard)


def _footer(app: HlmonApp) -> KeyFooter:
    return app.dashboard.query_one(KeyFooter)


def _labels(app: HlmonApp) -> list[str]:
    return [f"{e.display} {e.label}" for e in _footer(app).shown]


# ------------------------------------------------------------------ the table


def test_every_row_runs_an_action_of_its_screen() -> None:
    """A typo in a row's action would make its key silently do nothing."""
    for key in KEYS:
        if key.textual:
            continue
        owner = OWNERS[key.screen]
        name = key.action.split("(")[0]
        assert callable(getattr(owner, f"action_{name}", None)), (key.keys, key.action)


def test_bindings_come_from_the_table() -> None:
    for screen in ("dashboard", "market", "alerts"):
        own = [k.keys for k in KEYS if k.screen == screen and not k.textual]
        assert [b.key for b in OWNERS[screen].BINDINGS] == own  # type: ignore[union-attr]
    assert len(bindings("app")) == len([k for k in KEYS if k.screen == "app" and not k.textual])


def test_help_lists_every_key_and_how_to_copy_in_tmux() -> None:
    text = help_text()
    for key in rows("dashboard"):
        if key.help:
            assert key.help in text, key.keys
    for hidden_by_default in ("u  U", "y", "A", "b", "tab", "W"):  # what the footer omitted
        assert f"[b]{hidden_by_default:<12}[/b]" in text
    assert "set -g set-clipboard on" in text and "terminal-features" in text


def test_fit_takes_by_rank_and_shows_in_table_order() -> None:
    def entry(label: str, rank: int, order: int, action: str = "x") -> Entry:
        return Entry(label, label, label, action, rank, order)

    entries = [entry("aaaa", 3, 0), entry("b", 1, 1), entry("c", 2, 2), entry("?", 1, 3, "help")]
    shown, hidden = fit(entries, 100)
    assert [e.label for e in shown] == ["aaaa", "b", "c", "?"] and not hidden
    shown, hidden = fit(entries, 17)  # "? all keys" 12 first, then b 5: c is left out
    assert hidden and [e.label for e in shown] == ["b", "all keys"]


# ------------------------------------------------------------------ the footer


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_footer_fits_the_width_and_names_the_rest(size: tuple[int, int]) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        footer = _footer(app)
        await pilot_wait(pilot, lambda: len(footer.children) > 0)
        await pilot.pause()
        keys = list(footer.children)
        assert keys[-1].region.right <= size[0]  # nothing runs off the edge
        # The full style the fit measured (set without its watcher: no restyle per key).
        assert all(not k.compact and not k.has_class("-compact") for k in keys)  # type: ignore[attr-defined]
        labels = _labels(app)
        for useful in ("↑↓ coin", "1-7 tabs", "a add", "q quit"):
            assert useful in labels
        if size[0] == 80:  # compact: b swaps book and trades, so it is offered
            assert "b book/trades" in labels and "W master" not in labels
            assert "? all keys" in labels and footer.hidden
        else:
            assert "b book/trades" not in labels  # both are shown: b means nothing here
        if size[0] == 200:
            assert not footer.hidden and "? help" in labels
            for more in ("u/U account", "y copy", "A alert", "tab table", "W master"):
                assert more in labels


async def test_footer_refits_on_resize_and_follows_focus() -> None:
    app = _app()
    async with app.run_test(size=(200, 60)) as pilot:
        footer = _footer(app)
        await pilot_wait(pilot, lambda: "W master" in _labels(app))
        await pilot.resize_terminal(80, 24)
        await pilot_wait(pilot, lambda: "W master" not in _labels(app))
        assert "b book/trades" in _labels(app)
        await pilot.resize_terminal(200, 60)
        await pilot_wait(pilot, lambda: "b book/trades" not in _labels(app))
        await pilot.press("tab")  # the orders table takes ↑ ↓
        await pilot_wait(pilot, lambda: "↑↓ coin" not in _labels(app))
        assert not footer.hidden


async def test_footer_keeps_its_keys_when_the_fit_is_unchanged() -> None:
    """A bindings update that changes nothing (one comes at every focus change and screen
    layout) does not remount the keys; a new width does."""
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        footer = _footer(app)
        await pilot_wait(pilot, lambda: len(footer.children) > 0)
        await pilot.pause()
        keys = list(footer.children)
        await footer.recompose()
        assert list(footer.children) == keys
        await pilot.resize_terminal(80, 24)
        await pilot_wait(pilot, lambda: "b book/trades" in _labels(app))
        assert not set(footer.children) & set(keys)


# ------------------------------------------------------------------ keys that do nothing


def _notes(app: HlmonApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_b_at_full_size_says_why_it_does_nothing() -> None:
    app = _app()
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await pilot.press("b")
        await pilot_wait(pilot, lambda: any("both shown" in m for m in _notes(app)))
        assert not app.dashboard.has_class("-show-tape")
        await pilot.resize_terminal(80, 24)
        await pilot_wait(pilot, lambda: app.dashboard.has_class("-compact"))
        await pilot.press("b")
        await pilot_wait(pilot, lambda: app.dashboard.has_class("-show-tape"))


async def test_d_on_an_empty_watchlist_says_so() -> None:
    app = _app(watchlist=("BTC",))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("d")
        await pilot_wait(pilot, lambda: not app.dashboard.watchlist.coins)
        await pilot.press("d")
        await pilot_wait(pilot, lambda: any("nothing to remove" in m for m in _notes(app)))


# ------------------------------------------------------------------ copy under tmux


@pytest.mark.parametrize(
    ("route", "said", "severity"),
    [
        (ClipboardRoute(), f"copied address {USER} (OSC 52)", "information"),
        (ClipboardRoute(True, "on"), "(OSC 52 through tmux)", "information"),
        (ClipboardRoute(True, "external"), "set -g set-clipboard on", "warning"),
        (ClipboardRoute(True, None), "arrives only with `set -g set-clipboard on`", "information"),
    ],
)
async def test_copy_says_what_happened(route: ClipboardRoute, said: str, severity: str) -> None:
    app = _app(route)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("y")
        await pilot_wait(pilot, lambda: app._notifications)
        note = list(app._notifications)[-1]
        assert said in note.message and note.severity == severity
        assert app.clipboard == USER  # sent either way (OSC 52 cannot be taken back)
        if route.tmux_set_clipboard == "external":
            assert note.message.startswith("not copied: tmux's set-clipboard is external")


def test_probe_runs_nothing_outside_tmux() -> None:
    def run(argv: list[str]) -> str | None:
        raise AssertionError(f"ran {argv}")

    assert probe_clipboard({}, run) == ClipboardRoute()
    assert probe_clipboard({"TMUX": "/tmp/x,1,0"}, lambda argv: None) == ClipboardRoute(True)


@pytest.fixture
def tmux_server(tmp_path: Path) -> Iterator[Path]:
    """A private tmux server (its own socket, no config); killed after the test."""
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux")
    sock = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(sock), "-f", os.devnull, "new-session", "-d", "cat"],
                   check=True, timeout=10)  # fmt: skip
    try:
        yield sock
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], check=False, timeout=10)


def test_probe_asks_the_real_tmux(tmux_server: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$TMUX names the server the probe asks: its default is external, then on once set."""
    env = {"TMUX": f"{tmux_server},0,0"}
    monkeypatch.setenv("TMUX", env["TMUX"])
    assert probe_clipboard(env) == ClipboardRoute(True, "external")
    subprocess.run(["tmux", "-S", str(tmux_server), "set", "-g", "set-clipboard", "on"],
                   check=True, timeout=10)  # fmt: skip
    assert probe_clipboard(env) == ClipboardRoute(True, "on")


def test_the_started_probe_is_read_when_a_copy_needs_it(
    tmux_server: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI's start launches the probe without waiting; its answer, once tmux gave it, is
    the one ``probe_clipboard`` gets."""
    assert start_clipboard_probe({}) == ClipboardRoute()
    env = {"TMUX": f"{tmux_server},0,0"}
    monkeypatch.setenv("TMUX", env["TMUX"])
    pending = start_clipboard_probe(env)
    assert isinstance(pending, PendingClipboard)
    pending._process.wait(timeout=10)  # tmux has answered (as it has long before any copy)
    assert pending.route() == ClipboardRoute(True, "external") == probe_clipboard(env)
    note, ok = pending.copied("address", USER)
    assert not ok and note.startswith("not copied: tmux's set-clipboard is external")
    pending.close()
    assert pending.route() == ClipboardRoute(True, "external")


def test_a_probe_not_answered_yet_says_not_known_then_gives_up() -> None:
    """A tmux that has not answered: "not known" (a copy says it arrives only with the option
    on), asked again next time; after ``PROBE_TIMEOUT_S`` the process is killed."""
    clock = FakeClock(0.0)
    mute = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pending = PendingClipboard(mute, clock)
    assert pending.route() == ClipboardRoute(True)
    assert "arrives only with `set -g set-clipboard on`" in pending.copied("address", USER)[0]
    assert mute.poll() is None
    clock.advance(PROBE_TIMEOUT_S)
    assert pending.route() == ClipboardRoute(True)
    assert mute.poll() is not None  # killed and reaped
    assert mute.stdin is not None
    mute.stdin.close()
