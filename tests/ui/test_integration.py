"""The UI against the real simulator and feed engine on loopback: every panel fills, and a
dropped connection shows as reconnecting and stale, then live again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from hlmon.config import Settings, StaleThresholds, WebsocketSettings
from hlmon.feeds.rest_poller import RestPoller
from hlmon.runtime.root import Runtime
from hlmon.sim.server import SimServer
from hlmon.ui.app import HlmonApp, build_app

from .helpers import pilot_wait

pytestmark = pytest.mark.slow


async def wait_for(pilot: Pilot[int], cond: Callable[[], bool], limit: float = 15.0) -> None:
    await pilot_wait(pilot, cond, limit, interval=0.05)


def status(app: HlmonApp) -> str:
    return app.dashboard.status.text_lines[0] if app.dashboard.status.text_lines else ""


async def test_demo_fills_every_panel_and_survives_drop_all() -> None:
    settings = Settings(
        watchlist=("BTC", "ETH", "SOL"),
        fps=20.0,
        # short thresholds so a few seconds without data count as stale
        stale=dataclasses.replace(
            StaleThresholds(), mids=1.5, book=1.5, ctx=1.5, account=1.5, orders=1.5
        ),
        websocket=dataclasses.replace(WebsocketSettings(), backoff_initial=0.2, backoff_max=1.0),
    )
    settings = dataclasses.replace(settings, demo=True)
    runtime = Runtime(settings)
    sim = runtime.sim
    assert sim is not None
    app = build_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        d = app.dashboard
        assert d.address == sim.demo_address and d.header.network == "demo"
        await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
        assert runtime.settings.api_url == sim.url
        await wait_for(pilot, lambda: "spread" in "\n".join(d.book.text_lines))
        await wait_for(pilot, lambda: d.positions.row_count > 0)
        await wait_for(pilot, lambda: d.tape.text_lines[1:2] != [] and ":" in d.tape.text_lines[1])
        await wait_for(pilot, lambda: d.lower.tables["orders"].row_count > 0)
        # The 24 h change is a context column: it follows at most every FOLLOW_S (HeldBack).
        await wait_for(
            pilot, lambda: any("BTC" in ln and "%" in ln for ln in d.watchlist.text_lines)
        )
        assert "equity" in d.header.text_lines[0]

        # Kill every socket and refuse new ones for a while.
        sim.faults.refuse_connections(3.0)
        sim.faults.drop_all()
        await wait_for(pilot, lambda: "RECONNECTING" in status(app))
        await wait_for(pilot, lambda: d.watchlist.is_stale or "REST" in str(d.book.border_title))
        assert "STALE" in status(app) or "REST" in status(app)

        await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"), limit=20.0)
        await wait_for(pilot, lambda: not d.book.is_stale and not d.watchlist.is_stale)
        assert "reconn 1" in status(app)
        events = "\n".join(e.text for e in app.store.health.events)
        assert "connection lost" in events and "reconnected" in events
    # leaving the app stopped the engine and the simulator
    assert sim.connections == set()


async def test_runtime_builds_the_engine_in_the_app_loop() -> None:
    """The CLI path: the app enters its ``Runtime`` on mount, which builds a FeedEngine for the
    settings' URL in the app's own loop, and leaves it on exit."""
    sim = SimServer(seed=5, profile="standard")
    await sim.start(host="127.0.0.1", port=0)
    try:
        settings = Settings(
            network="custom", api_url=sim.url, address=sim.demo_address, watchlist=("ETH",)
        )
        runtime = Runtime(settings)
        app = build_app(runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
            await wait_for(pilot, lambda: "bps" in "\n".join(app.dashboard.book.text_lines))
            assert runtime.engine.selected_coin == "ETH"
        assert not sim.connections
    finally:
        await sim.stop()


async def test_status_bar_shows_a_crashed_task_down_then_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug inside the REST poller's round (injected into the real engine of a ``--demo``
    runtime) kills that task: the status bar says DOWN while it keeps failing, the log says
    why, and once its supervised restart succeeds the bar says LIVE again."""
    broken = False
    step = RestPoller.step

    # In the poller's own round: a fault in FeedEngine._ws_live, which the dex sweep and the
    # candle keeper call too, crashed whichever ran first, and the status bar named that one.
    def faulty_step(poller: RestPoller) -> None:
        if broken:
            raise RuntimeError("injected fault in the poller")
        step(poller)

    monkeypatch.setattr(RestPoller, "step", faulty_step)
    settings = Settings(
        demo=True,
        watchlist=("BTC",),
        fps=20.0,
        websocket=dataclasses.replace(WebsocketSettings(), backoff_initial=0.2, backoff_max=0.5),
    )
    runtime = Runtime(settings)
    app = build_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
        broken = True
        await wait_for(pilot, lambda: status(app).startswith(" ✖ DOWN"))
        error = app.store.health.connection.last_error or ""
        expected = "internal error in rest-poller: RuntimeError('injected fault in the poller')"
        assert expected in error
        assert any(
            "injected fault" in e.text and e.level == "error" for e in app.store.health.events
        )
        broken = False
        await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
        assert runtime.engine.supervisor.restarts["rest-poller"] >= 1


async def test_market_screen_against_the_demo_simulator() -> None:
    """``--demo``: ``m`` subscribes the market-wide streams on the simulator and fills the
    screen (every listed perp and spot pair, prices over WS); ``escape`` unsubscribes them."""
    settings = dataclasses.replace(Settings(watchlist=("BTC",), fps=20.0), demo=True)
    runtime = Runtime(settings)
    sim = runtime.sim
    assert sim is not None
    app = build_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
        await wait_for(pilot, lambda: app.store.catalog is not None)
        assert sim.hub.subscribers("fastAssetCtxs") == 0
        await pilot.press("m")
        await wait_for(pilot, lambda: sim.hub.subscribers("fastAssetCtxs") == 1)
        await wait_for(pilot, lambda: sim.hub.subscribers("allDexsAssetCtxs") == 1)
        screen = app.screen
        table = app.store.market_board.table
        await wait_for(pilot, lambda: all(r.mark is not None for r in table.rows()))
        await wait_for(
            pilot, lambda: "WS  prices" in str(screen.query_one("#market-table").border_subtitle)
        )
        listed = {c.name for c in sim.universe.all if not c.delisted and not c.name.startswith("#")}
        assert {r.name for r in table.rows()} == listed
        await pilot.press("escape")
        await wait_for(pilot, lambda: sim.hub.subscribers("fastAssetCtxs") == 0)
        await wait_for(pilot, lambda: sim.hub.subscribers("allDexsAssetCtxs") == 0)
        assert app.screen is app.dashboard
