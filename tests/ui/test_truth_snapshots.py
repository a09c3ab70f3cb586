"""Snapshot tests for issue #13 ("truth on screen"): what a trader reads must be what is true.

Each case at 120x40 and 80x24, from a store filled with hand-made messages and a fixed clock:
stop and take-profit orders with their triggers (and the TP/SL under the position they
protect), the account not loaded yet, liquidation prices far away (long texts), HIP-3 names
that differ in their last letter, and NO_COLOR.

Update with ``pytest tests/ui --snapshot-update`` and look at the result before committing.
"""

from __future__ import annotations

from typing import Any

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime

from .helpers import (
    COINS,
    FakeClock,
    far_liquidation_msg,
    hip3_messages,
    populated_store,
    settings,
    trigger_orders_msg,
)
from .test_snapshots import settle

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


def app_on(store: Store, clock: FakeClock, **kw: Any) -> HlmonApp:
    return build_app(FakeRuntime(settings(**kw), store, clock))


def triggers_app() -> HlmonApp:
    clock = FakeClock()
    store = populated_store(clock)
    store.apply(trigger_orders_msg())
    return app_on(store, clock)


@pytest.mark.parametrize("size", SIZES)
def test_stop_orders_show_trigger_and_position_tpsl(snap_compare: Any, size: Any) -> None:
    """Orders: ``above 3,809.4`` beside the limit 4,190.3, the whole ``Take Profit Market``,
    TP/SL and reduce-only marks, the SOL entry's legs under it, a ``triggered`` stop limit.
    Positions: ``└ TP 3,587.4 / SL 3,809.4`` under the ETH short (marks at 80x24)."""
    assert snap_compare(triggers_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_waiting_for_account(snap_compare: Any, size: Any) -> None:
    """The market is live, the account has not answered: every account panel says it waits,
    none says ``no open positions``."""
    clock = FakeClock()
    store = populated_store(clock, account=False)
    assert snap_compare(app_on(store, clock), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_long_liquidation_distance(snap_compare: Any, size: Any) -> None:
    """``118,634`` and ``3,116.6%`` are shown whole, never ``18,63…``."""
    clock = FakeClock()
    store = populated_store(clock)
    store.apply(far_liquidation_msg())
    assert snap_compare(app_on(store, clock), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_hip3_names_are_never_cut(snap_compare: Any, size: Any) -> None:
    """``xyz:TSLA`` and ``xyz:TSLL`` stay distinct in positions, orders and the watchlist
    (where ``xyz:TSLA`` has no data yet: waiting marks, not values)."""
    clock = FakeClock()
    store = populated_store(clock)
    for message in hip3_messages():
        store.apply(message)
    app = app_on(store, clock, watchlist=("xyz:TSLA", *COINS[:4]))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_no_color(snap_compare: Any, size: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR (read by Textual when the app is built): signs, ▲▼, B/S and ``!`` carry the
    meaning; values stay in the text colour, not in a dark grey made from red."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = triggers_app()
    assert app.no_color
    assert snap_compare(app, terminal_size=size, run_before=settle)
