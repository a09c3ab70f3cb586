"""The market screen inside the app: ``m`` opens it over the dashboard, ``escape`` closes it.

While it is shown the backend feeds the store's market table (``Controls.show_market``: the
market-wide websocket streams, or REST in REST mode); closing it stops them. ``enter`` on a
market adds it to the dashboard's watchlist the way ``a`` does (the same message, so whatever
follows a watchlist change follows this one too) and selects it.

Behind the market screen the dashboard paints nothing; its alert rules run once a second
(``hlmon.ui.covering``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from textual.app import App

from hlmon.runtime.controls import Controls
from hlmon.state import Store
from hlmon.state.market_board import MARKET_SPOT
from hlmon.ui.covering import cover, uncover
from hlmon.ui.screens.dashboard import Dashboard
from hlmon.ui.screens.market import CTX_STALE_AFTER, MarketScreen


class MarketHost(Protocol):
    """What of the app this module uses (``HlmonApp``; a protocol, not an import of it)."""

    store: Store
    clock: Callable[[], float]
    dashboard: Dashboard

    def forward(self, what: str, call: Callable[[Controls], None]) -> None: ...


MARKET_FPS = 1.0
"""Frames a second of the market screen: prices move about once a second on mainnet (twice in
``stress``), and a key repaints at once; 2 fps cost ~0.7 % of a core more under ``stress``."""


def open_market(app: App[Any]) -> None:
    """Show the market screen (once: ``m`` on it does nothing) and start its feeds."""
    if any(isinstance(s, MarketScreen) for s in app.screen_stack):
        return
    host = cast(MarketHost, app)
    store = host.store
    table = store.market_board.synced()
    screen = MarketScreen(
        table,
        clock=host.clock,
        fps=MARKET_FPS,
        ctx_stale_after=lambda: max(CTX_STALE_AFTER, store.threshold(MARKET_SPOT)),
    )
    host.forward("show_market(True)", lambda c: c.show_market(True))
    cover(host.dashboard)
    app.push_screen(screen, callback=lambda _: _closed(host))


def _closed(host: MarketHost) -> None:
    host.forward("show_market(False)", lambda c: c.show_market(False))
    uncover(host.dashboard)


def add_chosen(app: App[Any], coin: str) -> None:
    """``enter`` on the market screen: add ``coin`` to the watchlist and select it."""
    dashboard = cast(MarketHost, app).dashboard
    watchlist = dashboard.watchlist
    if watchlist.add_coin(coin):
        dashboard.post_message(Dashboard.CoinAdded(coin, watchlist.coins))
        app.notify(f"{coin} added to the watchlist", timeout=3)
    else:
        app.notify(f"{coin} is already in the watchlist (selected)", timeout=3)
