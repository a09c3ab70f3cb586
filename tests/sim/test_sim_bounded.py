"""A demo of weeks stays flat: every history the simulator keeps is capped.

``hlmon --demo`` runs the simulator in hlmon's own process, so its fills, fundings, ledger,
order statuses, TWAP history and candle prices count against hlmon's memory. Each test drives a
history well past a small cap (the module constants, patched) and checks the bound, and that
what is kept is the most recent.
"""

from __future__ import annotations

import pytest

from hlmon.sim import SimServer, account_state, candles, twap
from hlmon.sim.limits import LimitTracker, SimLimits


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_state, "MAX_FILLS", 30)
    monkeypatch.setattr(account_state, "MAX_HISTORY", 20)
    monkeypatch.setattr(account_state, "TRIM_SLACK", 5)
    monkeypatch.setattr(twap, "MAX_TWAP_HISTORY", 6)
    monkeypatch.setattr(twap, "MAX_SLICE_FILLS", 10)
    monkeypatch.setattr(twap, "TRIM_SLACK", 3)


@pytest.mark.usefixtures("small_caps")
async def test_half_a_day_of_demo_keeps_every_history_capped(sim: SimServer) -> None:
    acc = sim.account
    start = sim.now_ms()
    acc.start_twap("BTC", "B", "0.01", minutes=5)
    last = [acc.deposit("10") for _ in range(60)][-1]
    await sim.advance(12 * 3600, step_ms=60_000)  # half a day of blocks: fills, funding, TWAPs
    assert 20 <= len(acc.ledger) <= 25
    assert acc.ledger[-1] is last  # the newest kept
    assert len(acc.fundings) <= 25
    assert acc.fundings[0]["time"] > start + 2 * 3_600_000  # the oldest were dropped
    assert len(acc.fills) <= 35
    assert acc.fills[-1]["time"] > start + 11 * 3_600_000
    assert len(acc.order_status) <= 35 + len(acc.orders)
    assert len(acc.twaps.history) <= 9
    assert len(acc.twaps.slice_fills) <= 13
    assert len(acc.orders) < 100  # resting demo orders come and go


def test_candle_minutes_and_closed_candles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(candles, "MAX_MINUTES", 50)
    monkeypatch.setattr(candles, "MINUTES_SLACK", 10)
    monkeypatch.setattr(candles, "MAX_CANDLES", 40)
    book = candles.CandleBook(seed=1, start_ms=0)
    for minute in range(1, 500):
        book.record_minute(0, minute, float(minute))
    arr = book._minutes[0]
    assert len(arr) <= 60 and arr[-1] == 499.0
    assert book.px_at(0, 499 * 60_000) == 499.0  # the newest minute still answers
    book.track(0, "1m", 499 * 60_000, 2, 100)
    for minute in range(500, 800):
        book.roll(0, "1m", minute * 60_000, 100)
    assert len(book.closed[(0, "1m")]) == 40


def test_client_budgets_per_address_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A simulator reachable on a network sees many addresses; idle ones are forgotten, the
    least recently used first, and never one with a connection open."""
    from hlmon.sim import limits

    monkeypatch.setattr(limits, "MAX_CLIENTS", 8)
    tracker = LimitTracker(SimLimits())
    assert tracker.try_connect("10.0.0.1") is None  # stays connected throughout
    for i in range(100):
        tracker.client(f"10.0.1.{i}")
        tracker.client("10.0.0.2")  # used all the time: never the least recent
    assert len(tracker._clients) <= 8
    assert "10.0.0.1" in tracker._clients and "10.0.0.2" in tracker._clients
    assert tracker.client("10.0.0.1").connections == 1
