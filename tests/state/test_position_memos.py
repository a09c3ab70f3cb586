"""The reads a UI frame repeats (positions, their totals per dex and per token) reuse what did
not change: after every kind of change a store read all along answers as one read only once,
at the end, and a position whose inputs did not move keeps its very view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hlmon.protocol.messages import Message
from hlmon.state import ConnState, Store
from tests.hip3 import FLX, MAIN, XYZ, per_dex, position, state, use_catalog
from tests.support import FakeClock, msg

from .conftest import USER


def reads(store: Store) -> tuple[Any, ...]:
    """What a frame reads, twice (the second read is the memo's)."""
    first = (store.positions(), store.dex_summaries(), store.token_totals(),
             store.account_summary())  # fmt: skip
    again = (store.positions(), store.dex_summaries(), store.token_totals(),
             store.account_summary())  # fmt: skip
    assert again == first
    return first


def fresh_store(clock: FakeClock) -> Store:
    s = Store(clock)
    s.set_user(USER)
    s.health.set_connection(ConnState.LIVE, url="wss://example/ws")
    return s


def mids(**prices: str) -> Message:
    return msg("allMids", {"mids": prices})


def ctx(coin: str, mark: str) -> Message:
    return msg("activeAssetCtx", {"coin": coin, "ctx": {
        "funding": "0.0", "openInterest": "1.0", "prevDayPx": "1.0", "dayNtlVlm": "1.0",
        "oraclePx": mark, "markPx": mark}})  # fmt: skip


BTC_ETH = state("18204.77", positions=[
    position("BTC", "0.4", "102110.0", value="41765.2", upnl="921.2"),
    position("ETH", "-2.0", "3735.3", value="7376.4", upnl="94.0", liq="4190.0")],
    margin="2202.78", maint="1101.39")  # fmt: skip

Step = Callable[[Store, FakeClock], object]
STEPS: list[tuple[str, Step]] = [
    ("a push", lambda s, c: s.apply(per_dex(USER, "", BTC_ETH))),
    ("a mark moving", lambda s, c: s.apply(mids(BTC="104000.0", ETH="3700.0"))),
    ("one mark moving", lambda s, c: s.apply(mids(BTC="104500.0", ETH="3700.0"))),
    ("a ctx mark", lambda s, c: s.apply(ctx("BTC", "104413.0"))),
    ("the ctx going stale by time alone", lambda s, c: c.advance(6.0)),
    ("a catalog", lambda s, c: use_catalog(s)),
    ("a dex appearing", lambda s, c: s.apply(per_dex(USER, "xyz", XYZ))),
    ("a dex in another token", lambda s, c: s.apply(per_dex(USER, "flx", FLX))),
    ("the default dex replaced", lambda s, c: s.apply(per_dex(USER, "", MAIN))),
    ("the mids going stale by time alone", lambda s, c: c.advance(20.0)),
]


@pytest.mark.parametrize("upto", range(1, len(STEPS) + 1), ids=[name for name, _ in STEPS])
def test_read_all_along_equals_read_once(upto: int) -> None:
    warm_clock, cold_clock = FakeClock(), FakeClock()
    warm, cold = fresh_store(warm_clock), fresh_store(cold_clock)
    for _, step in STEPS[:upto]:
        step(warm, warm_clock)
        reads(warm)
        with warm.one_moment():
            reads(warm)
        step(cold, cold_clock)
    assert reads(warm) == reads(cold)


def test_a_position_whose_mark_did_not_move_keeps_its_view(store: Store) -> None:
    store.apply(per_dex(USER, "", BTC_ETH))
    store.apply(mids(BTC="104000.0", ETH="3700.0"))
    btc, eth = store.positions()
    version = store.positions_version
    store.apply(mids(BTC="104500.0", ETH="3700.0"))  # BTC moves, ETH does not
    btc2, eth2 = store.positions()
    assert store.positions_version != version
    assert eth2 is eth and btc2 is not btc
    assert btc2.mark_px == "104500.0" and btc2.live_upnl == "956"  # 0.4 * (104500 - 102110)


def test_token_totals_are_summed_again_only_when_the_summaries_change(store: Store) -> None:
    use_catalog(store)
    store.apply(per_dex(USER, "", MAIN))
    store.apply(per_dex(USER, "flx", FLX))
    first = store.token_totals()
    assert store.token_totals() is first
    assert [t.token for t in first] == ["USDC", "USDH"]
    store.apply(per_dex(USER, "flx", state("7000.0", positions=FLX["assetPositions"])))
    second = store.token_totals()
    assert second is not first and second[1].account_value == "7000"


def test_a_dex_whose_rows_did_not_move_keeps_its_summary(store: Store) -> None:
    use_catalog(store)
    store.apply(per_dex(USER, "", BTC_ETH))
    store.apply(per_dex(USER, "xyz", XYZ))
    store.apply(mids(BTC="104000.0", ETH="3700.0"))
    main, xyz = store.dex_summaries()
    store.apply(mids(BTC="104500.0", ETH="3700.0"))  # a default dex mark moves, not xyz's
    main2, xyz2 = store.dex_summaries()
    assert xyz2 is xyz
    assert main2 is not main and main2.equity != main.equity
    store.apply(per_dex(USER, "xyz", XYZ))  # a state of its own: built again
    assert store.dex_summaries()[1] is not xyz
