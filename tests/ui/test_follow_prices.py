"""What follows prices at most 4 times a second (``FOLLOW_S``): the positions and the
header's totals, the watchlist's context columns, and account pushes that only re-mark the
positions; at once after a quiet spell, by a deadline of their own otherwise, and never held
back for a position that changes, an orders change or a feed's state."""

from __future__ import annotations

import asyncio
import time

import pytest

from hlmon.state import Store
from hlmon.ui.app import HlmonApp
from hlmon.ui.screens.dashboard import Dashboard

from .helpers import T0_MS, FakeClock, clearinghouse_msg, ctx_msg, msg, note_calls, orders_msg

SIZE = (120, 40)


def quiet_clock(d: Dashboard) -> FakeClock:
    """A hand-moved clock for the dashboard's pacing, a second after its last build: the
    next change is the first after a quiet spell."""
    mono = FakeClock(time.monotonic() + 1.0)
    d.paint.monotonic = mono
    return mono


def positions_built_on_a_price(d: Dashboard, store: Store) -> tuple[FakeClock, list[float]]:
    """A price move after a quiet spell: the positions are built at once. Returns the clock
    and the times of every build from then on."""
    mono = quiet_clock(d)
    built: list[float] = []
    note_calls(d.positions, "set_data", lambda: built.append(mono()))
    store.apply(msg("allMids", {"mids": {"BTC": "104600.5"}}))
    d.refresh_frame()
    assert built == [mono()]
    return mono, built


class TestHeldBack:
    async def test_positions_follow_prices_at_most_4_times_a_second(
        self, app: HlmonApp, store: Store
    ) -> None:
        """A price that moves rebuilds the positions (and the header's totals) at once after
        a quiet spell; the next move within 0.25 s is held back, and its frame comes by the
        deadline with nothing else arriving. An orders change is never held back."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            mono, built = positions_built_on_a_price(d, store)
            start = built[0]
            mono.advance(0.05)
            store.apply(msg("allMids", {"mids": {"BTC": "104700.5"}}))
            d.refresh_frame()
            assert len(built) == 1  # held back: 0.2 s left
            schedule = d.schedule
            assert schedule is not None and schedule.deadline is not None
            wake_in = schedule.deadline - asyncio.get_running_loop().time()
            assert 0.15 < wake_in <= 0.21
            mono.advance(0.2)
            d.refresh_frame()  # the deadline's frame, with no change of its own
            assert built[1:] == pytest.approx([start + 0.25])
            assert d.schedule is not None and d.schedule.deadline is not None
            mono.advance(0.01)
            store.apply(orders_msg(btc_sz="0.02"))
            d.refresh_frame()
            assert built[2:] == pytest.approx([start + 0.26])  # an orders change: at once

    async def test_an_account_push_that_only_re_marks_follows_with_the_prices(
        self, app: HlmonApp, store: Store
    ) -> None:
        """The exchange re-pushes each dex's state every few seconds with new uPnL, margin and
        liquidation prices: such a push follows at most 4 times a second, the header and the
        dex line with the positions. A push that resizes a position (a fill) is built at once."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            mono, built = positions_built_on_a_price(d, store)
            start = built[0]
            headers: list[float] = []
            note_calls(d.header, "rebuild", lambda: headers.append(mono()))
            mono.advance(0.05)
            before = len(headers)
            store.apply(clearinghouse_msg(t_ms=T0_MS + 1000))  # re-marked only
            d.refresh_frame()
            assert built == [start] and len(headers) == before  # held back: 0.2 s left
            mono.advance(0.2)
            d.refresh_frame()  # the deadline's frame
            assert built[1:] == pytest.approx([start + 0.25]) and len(headers) == before + 1
            mono.advance(0.01)
            store.apply(clearinghouse_msg(t_ms=T0_MS + 2000, btc_szi="0.5"))  # BTC resized
            d.refresh_frame()
            assert built[2:] == pytest.approx([start + 0.26])  # at once
            assert any("0.5" in line for line in d.positions.text_lines)

    async def test_watchlist_contexts_follow_at_most_4_times_a_second(
        self, app: HlmonApp, store: Store
    ) -> None:
        """A context push alone rebuilds the watchlist at once after a quiet spell, the next
        within 0.25 s by its deadline; a mids push rebuilds every row at once."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            mono = quiet_clock(d)
            start = mono()
            built: list[float] = []
            note_calls(d.watchlist, "rebuild", lambda: built.append(mono()))
            store.apply(ctx_msg("ETH"))
            d.refresh_frame()
            assert built == [start]
            mono.advance(0.1)
            store.apply(ctx_msg("SOL"))
            d.refresh_frame()
            assert len(built) == 1  # held back
            mono.advance(0.01)
            store.apply(msg("allMids", {"mids": {"BTC": "104600.5"}}))
            d.refresh_frame()
            assert built[1:] == pytest.approx([start + 0.11])  # mids: at once, SOL's too
            mono.advance(0.3)
            d.refresh_frame()
            assert len(built) == 2  # nothing was held back any more
            store.apply(ctx_msg("ETH"))
            d.refresh_frame()
            mono.advance(0.05)
            store.apply(ctx_msg("ETH"))
            d.refresh_frame()
            mono.advance(0.2)
            d.refresh_frame()  # the deadline's frame
            assert built[2:] == pytest.approx([start + 0.41, start + 0.66])

    async def test_a_frame_that_rebuilt_the_positions_holds_nothing_back(
        self, app: HlmonApp, store: Store
    ) -> None:
        """Orders and prices moving in one frame: the rows are built once, with the new
        prices, and nothing is left to do later (a held-back rebuild there would wake the
        screen 4 times a second for ever, also under the market screen)."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            mono = FakeClock(time.monotonic() + 1.0)
            d.paint.monotonic = mono
            for _ in range(3):
                mono.advance(0.3)
                store.apply(orders_msg())
                store.apply(msg("allMids", {"mids": {"BTC": "104600.5"}}))
                d.refresh_frame()
                schedule = d.schedule
                assert schedule is not None and schedule.deadline is not None
                wake_in = schedule.deadline - asyncio.get_running_loop().time()
                assert not 0.2 < wake_in < 0.26, wake_in  # no held-back rebuild
