"""``Store.apply_candles``: a snapshot reaching further back than the candles held replaces
them (the keeper's chart span after a sparkline's); a shorter one updates in place."""

from __future__ import annotations

from hlmon.protocol.messages import Candle
from hlmon.state import Source, Store

HOUR = 3_600_000
NOW_HOUR = 1_796_000_000_000 // HOUR * HOUR


def _hours(n: int, close: str = "1.0") -> list[Candle]:
    """The last ``n`` 1 h candles of BTC, oldest first, the open one last."""
    start = NOW_HOUR - (n - 1) * HOUR
    return [
        Candle(t, t + HOUR - 1, "BTC", "1h", "1.0", close, "2.0", "0.5", "10", 3)
        for t in range(start, NOW_HOUR + 1, HOUR)
    ]


def test_a_longer_snapshot_replaces_a_shorter_one() -> None:
    store = Store(lambda: 0.0)
    assert store.apply_candles("BTC", "1h", _hours(25), Source.REST) == 25
    assert store.apply_candles("BTC", "1h", _hours(120, "1.5"), Source.REST) == 120
    candles = store.candles("BTC", "1h")
    assert [c.open_time for c in candles] == [c.open_time for c in _hours(120)]
    assert {c.close for c in candles} == {"1.5"}


def test_a_shorter_snapshot_updates_the_newest_in_place() -> None:
    store = Store(lambda: 0.0)
    store.apply_candles("BTC", "1h", _hours(120), Source.REST)
    store.apply_candles("BTC", "1h", _hours(25, "1.7"), Source.REST)
    candles = store.candles("BTC", "1h")
    assert len(candles) == 120
    assert [c.close for c in candles[-25:]] == ["1.7"] * 25
    assert candles[0].close == "1.0"
