"""Snapshot tests: the dashboard as SVG, from a store filled with hand-made messages and a
fixed clock (no live simulator), at explicit terminal sizes.

Update with ``pytest tests/ui --snapshot-update`` and look at the result before committing.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from hlmon.state import ConnState, Source
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime

from .helpers import FakeClock, book_msg, clearinghouse_msg, populated_store, settings


def make_app() -> tuple[HlmonApp, FakeClock]:
    clock = FakeClock()
    store = populated_store(clock)
    return build_app(FakeRuntime(settings(), store, clock)), clock


async def settle(pilot: Pilot[Any]) -> None:
    """Process one frame explicitly and let the screen repaint."""
    app = pilot.app
    assert isinstance(app, HlmonApp)
    await pilot.pause()
    app.dashboard.refresh_frame()
    await pilot.pause()


class TestDashboardSnapshots:
    def test_dashboard_120x40(self, snap_compare: Any) -> None:
        """The full layout with every panel populated and all feeds live."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(120, 40), run_before=settle)

    def test_dashboard_80x24(self, snap_compare: Any) -> None:
        """The compact layout: book beside the watchlist, positions full width."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(80, 24), run_before=settle)

    def test_dashboard_80x24_trades(self, snap_compare: Any) -> None:
        """Compact layout after ``b``: the trades take the book's place."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(80, 24), press=["b"], run_before=settle)

    def test_dashboard_200x60(self, snap_compare: Any) -> None:
        """A big terminal: the rows grow, the trades stand beside the book, the selected
        coin's candle chart under the watchlist (#17)."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(200, 60), run_before=settle)

    def test_book_maximised_120x40(self, snap_compare: Any) -> None:
        """``z`` after a click on the book: the book fills the body, double accent border,
        ``esc restore`` in the footer (#17)."""
        app, _ = make_app()

        async def zoomed(pilot: Pilot[Any]) -> None:
            await pilot.click("#book", offset=(6, 3))
            await pilot.press("z")
            await settle(pilot)

        assert snap_compare(app, terminal_size=(120, 40), run_before=zoomed)

    def test_too_small(self, snap_compare: Any) -> None:
        """Below 60x20: only the status line and a note."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(50, 16), run_before=settle)

    def test_help_screen(self, snap_compare: Any) -> None:
        """``?`` shows the keys and the freshness legend."""
        app, _ = make_app()
        assert snap_compare(app, terminal_size=(120, 40), press=["question_mark"])


class TestTroubleSnapshots:
    def test_reconnecting_and_stale(self, snap_compare: Any) -> None:
        """18 s without data while reconnecting: stale panels dimmed, ages in titles."""
        app, clock = make_app()

        async def trouble(pilot: Pilot[Any]) -> None:
            clock.advance(18.0)
            app.store.health.set_connection(ConnState.RECONNECTING, attempt=3, next_retry_in=4.2)
            await settle(pilot)

        assert snap_compare(app, terminal_size=(120, 40), run_before=trouble)

    def test_rest_fallback(self, snap_compare: Any) -> None:
        """The fallback keeps book and account fresh over REST; the rest is stale."""
        app, clock = make_app()

        async def fallback(pilot: Pilot[Any]) -> None:
            clock.advance(20.0)
            store = app.store
            store.health.set_connection(ConnState.RECONNECTING, attempt=5, next_retry_in=12.5)
            store.health.set_fallback_active(True)
            store.health.set_rest_usage(212, 600)
            store.apply(book_msg(t_ms=int(clock.now * 1000) - 300), Source.REST)
            store.apply(clearinghouse_msg(t_ms=int(clock.now * 1000)), Source.REST)
            clock.advance(1.5)
            await settle(pilot)

        assert snap_compare(app, terminal_size=(120, 40), run_before=fallback)

    def test_reconnecting_80x24(self, snap_compare: Any) -> None:
        """The compact status line under trouble."""
        app, clock = make_app()

        async def trouble(pilot: Pilot[Any]) -> None:
            clock.advance(18.0)
            app.store.health.set_connection(ConnState.RECONNECTING, attempt=3, next_retry_in=4.2)
            await settle(pilot)

        assert snap_compare(app, terminal_size=(80, 24), run_before=trouble)
