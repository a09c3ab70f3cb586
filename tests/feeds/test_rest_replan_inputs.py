"""The REST poller plans again only when what it reads changes, and then at once: the screen,
the accounts' dexes and positions (by push or by time), the feeds' freshness (by push or by
time alone), the socket. While nothing changes, a round builds no plan and judges no feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from hlmon.feeds.rest_plan import PollKey
from hlmon.feeds.rest_poller import HELD_REFRESH
from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, Source
from hlmon.state.health import ALIVE_WINDOW
from tests import hip3
from tests.support import msg

from .test_reconcile import USER
from .test_rest_poller import Rig
from .test_rest_sources import trade

OTHER = "0x" + "cd" * 20
BOOK_KEY = PollKey.of("l2Book", coin="BTC")


def book_push(rig: Rig) -> Message:
    level = {"px": "100", "sz": "1", "n": 1}
    return msg("l2Book", {"coin": "BTC", "time": int(rig.clock() * 1000),
                          "levels": [[level], [level]]})  # fmt: skip


def bbo_push(rig: Rig) -> Message:
    return msg("bbo", {"coin": "BTC", "time": int(rig.clock() * 1000), "bbo": [None, None]})


async def run_alive(rig: Rig, seconds: float, step: float = 0.25) -> None:
    """``rig.run_for``, the socket proving itself alive (pongs) every round."""
    end = rig.clock() + seconds
    while rig.clock() < end:
        rig.store.health.note_alive()
        await rig.run_for(step, step)


def live_rig(expect: set[str], wall_clock: Callable[[], float] | None = None) -> Rig:
    """A poller on a live socket whose ``expect``ed feeds have not arrived yet."""
    rig = Rig(rest_mode=False, expect=expect, wall_clock=wall_clock)
    rig.live = True
    rig.store.health.set_connection(ConnState.LIVE, url="ws://x/ws")
    return rig


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every feed the store is asked to judge (``Store.feed_status``), in order."""
    from hlmon.state.store import Store

    asked: list[str] = []
    judge = Store.feed_status

    def feed_status(self: Store, feed_key: str) -> object:
        asked.append(feed_key)
        return judge(self, feed_key)

    monkeypatch.setattr(Store, "feed_status", feed_status)
    yield asked


async def test_nothing_changes_nothing_is_planned_nor_judged(counted: list[str]) -> None:
    rig = live_rig({"book:BTC", "bbo:BTC", "mids"})
    try:
        rig.store.apply(book_push(rig), Source.WS)
        await rig.settle()
        replans, judgements = rig.poller.replans, rig.poller.judgements
        assert replans == 1 and judgements == 1 and counted
        counted.clear()
        await rig.run_for(1.0)  # the book's threshold is further away; nothing else moves
        assert (rig.poller.replans, rig.poller.judgements) == (replans, judgements)
        assert counted == []
        for _ in range(8):  # live pushes of a fresh feed change no decision either
            rig.store.apply(book_push(rig), Source.WS)
            await rig.run_for(0.25)
        assert (rig.poller.replans, rig.poller.judgements) == (replans, judgements)
        assert counted == []
        assert not rig.store.health.fallback_active
    finally:
        await rig.close()


async def test_a_new_screen_is_planned_in_the_same_round() -> None:
    rig = Rig()
    try:
        await rig.settle()
        replans = rig.poller.replans
        rig.screen = replace(rig.screen, selected_coin="ETH")
        rig.poller.step()
        assert rig.poller.replans == replans + 1
        assert PollKey.of("l2Book", coin="ETH") in rig.poller.served()
        rig.poller.step()
        assert rig.poller.replans == replans + 1
    finally:
        await rig.close()


async def test_a_dex_the_account_becomes_active_on_is_planned_at_once() -> None:
    rig = Rig()
    xyz = PollKey.of("clearinghouseState", user=USER, dex="xyz")
    try:
        await rig.settle()
        assert xyz not in rig.poller.served()
        rig.store.apply(hip3.all_dexs(USER, [("", hip3.MAIN), ("xyz", hip3.XYZ)]), Source.WS)
        rig.poller.step()
        assert rig.poller.served()[xyz] == ("account:xyz",)
    finally:
        await rig.close()


async def test_a_dex_active_by_a_recent_fill_leaves_the_plan_when_the_hour_is_over() -> None:
    rig = Rig()
    km = PollKey.of("clearinghouseState", user=USER, dex="km")
    try:
        fill = {"coin": "km:US500", "px": "100.0", "sz": "0.1", "side": "B",
                "time": int(rig.clock() * 1000), "startPosition": "0.0", "dir": "Open Long",
                "closedPnl": "0.0", "hash": "0x00", "oid": 1, "crossed": True, "fee": "0.01",
                "tid": 1, "feeToken": "USDC"}  # fmt: skip
        rig.store.apply(msg("userFills", {"user": USER, "isSnapshot": True, "fills": [fill]}))
        await rig.settle()
        assert km in rig.poller.served()
        rig.fake.status = 500  # no answer lands from here on: time alone moves the demand
        rig.clock.advance(3600.5)
        rig.poller.step()
        assert km not in rig.poller.served()
    finally:
        await rig.close()


async def test_another_account_taking_a_position_is_planned_as_at_risk() -> None:
    rig = Rig(others=(OTHER,))
    key = PollKey.of("clearinghouseState", user=OTHER, dex="")
    try:
        await rig.settle()
        plan = rig.poller.plan.entry(key)
        assert plan is not None and plan.feed.cadence == 60.0  # idle: background
        rig.store.apply(hip3.per_dex(OTHER, "", hip3.MAIN), Source.WS)
        rig.poller.step()
        plan = rig.poller.plan.entry(key)
        assert plan is not None and plan.feed.cadence == 10.0  # with positions
    finally:
        await rig.close()


async def test_a_feed_turning_stale_by_time_alone_is_polled_in_that_round(
    counted: list[str],
) -> None:
    rig = live_rig({"book:BTC", "bbo:BTC"})
    try:
        rig.store.apply(book_push(rig), Source.WS)
        rig.store.apply(bbo_push(rig), Source.WS)
        await rig.settle()
        threshold = rig.store.threshold("book:BTC")
        await run_alive(rig, threshold - 0.25)
        assert rig.store.feed_status("book:BTC").state is FeedState.LIVE
        assert BOOK_KEY not in rig.poller.polls and not rig.store.health.fallback_active
        counted.clear()
        await run_alive(rig, 0.5)  # past the threshold: no push, no new screen, only time
        assert counted  # judged again at the turn
        assert rig.store.health.fallback_active
        assert rig.poller.polls.get(BOOK_KEY) == 1
        assert rig.store.feed_status("book:BTC").state is FeedState.FALLBACK
    finally:
        await rig.close()


async def test_a_socket_gone_silent_has_its_event_feeds_polled() -> None:
    """A half-open socket delivers nothing and says nothing: once it has not been heard from
    for ``ALIVE_WINDOW``, the tape and the bbo are no longer vouched for (however recent their
    last event) and REST serves them, long before the book's own threshold or the heartbeat's
    verdict; its silence was the grace a dropped socket gets (``down_grace``), so nothing waits
    for another one. A pong hands them back."""
    rig = live_rig({"book:BTC", "bbo:BTC", "trades:BTC"})
    rig.poller.down_grace = 3.0
    trades_key = PollKey.of("recentTrades", coin="BTC")
    try:
        rig.store.health.note_alive()
        rig.store.apply(book_push(rig), Source.WS)
        rig.store.apply(bbo_push(rig), Source.WS)
        rig.store.apply(msg("trades", [trade(1, int(rig.clock() * 1000))]), Source.WS)
        await rig.settle()
        rig.heard = False
        await rig.run_for(ALIVE_WINDOW - 0.5)  # nothing arrives, not even a pong
        assert rig.store.feed_status("trades:BTC").state is FeedState.LIVE
        assert not rig.store.health.fallback_active and not rig.poller.polls
        await rig.run_for(1.0)
        assert rig.store.health.fallback_active
        assert rig.poller.polls.get(trades_key) == 1 and rig.poller.polls.get(BOOK_KEY) == 1
        assert rig.store.feed_status("trades:BTC").state is FeedState.FALLBACK
        assert rig.store.feed_status("bbo:BTC").state is FeedState.FALLBACK
        rig.store.health.note_alive()  # the probe's pong: nothing was lost after all
        rig.store.apply(book_push(rig), Source.WS)
        rig.store.apply(bbo_push(rig), Source.WS)
        await rig.settle()
        assert not rig.store.health.fallback_active
    finally:
        await rig.close()


async def test_a_websocket_push_hands_a_taken_feed_back_in_that_round() -> None:
    rig = live_rig({"book:BTC", "bbo:BTC"})
    try:
        await rig.settle()
        await rig.run_for(rig.poller.missing_grace)  # never pushed: REST takes it over
        assert rig.store.health.fallback_active and rig.poller.polls.get(BOOK_KEY) == 1
        rig.store.apply(book_push(rig), Source.WS)
        rig.store.apply(bbo_push(rig), Source.WS)
        rig.poller.step()
        assert not rig.store.health.fallback_active
    finally:
        await rig.close()


async def test_a_held_feed_is_refreshed_before_its_threshold_by_time_alone() -> None:
    rig = live_rig({"mids"})
    try:
        await rig.settle()
        await rig.run_for(rig.poller.missing_grace)  # taken over: polled over REST
        polled = rig.poller.polls.get(PollKey.of("allMids", dex=""), 0)
        assert polled >= 1 and rig.store.health.fallback_active
        stamp = rig.store.stamp("mids")
        assert stamp is not None and stamp.source is Source.REST
        refresh_at = stamp.received_at + HELD_REFRESH * rig.store.threshold("mids")
        rig.fake.status = 500  # the refresh is asked for, and fails: the count says asked
        asked = len(rig.fake.asked)
        while rig.clock() + 0.25 < refresh_at:
            await rig.run_for(0.25)
        assert len(rig.fake.asked) == asked  # held: the websocket gets its cadence
        await rig.run_for(0.5)
        assert rig.fake.kinds()[asked:] == ["allMids"]
    finally:
        await rig.close()


async def test_the_socket_dropping_hands_every_feed_to_rest_in_that_round() -> None:
    rig = live_rig({"book:BTC", "bbo:BTC", "mids"})
    try:
        for m in (book_push(rig), msg("allMids", {"mids": {"BTC": "100"}})):
            rig.store.apply(m, Source.WS)
        await rig.settle()
        assert not rig.store.health.fallback_active
        rig.live = False  # down_grace is 0 in the rig
        await rig.settle()
        assert rig.store.health.fallback_active
        assert {"l2Book", "allMids"} <= set(rig.fake.kinds())
    finally:
        await rig.close()


async def test_a_quiet_event_feed_is_polled_once_the_socket_stops_counting_as_alive() -> None:
    """Trades may be silent for hours on a live socket (quiet, not stale); once the socket has
    proved nothing for its alive window they are stale, and REST serves them that round."""
    rig = live_rig({"trades:BTC"})
    trades = PollKey.of("recentTrades", coin="BTC")
    try:
        trade = {"coin": "BTC", "side": "B", "px": "100", "sz": "1", "time": 1, "hash": "0x0",
                 "tid": 1, "users": ["0x1", "0x2"]}  # fmt: skip
        rig.store.apply(msg("trades", [trade]), Source.WS)
        await rig.settle()
        health = rig.store.health
        end = rig.clock() + rig.store.threshold("trades:BTC") + 0.5
        while rig.clock() < end:  # pongs keep the socket alive past the trades' threshold
            health.note_alive()
            await rig.run_for(0.25)
        assert rig.store.feed_status("trades:BTC").state is FeedState.QUIET
        assert trades not in rig.poller.polls
        until = health.alive_until()
        assert until is not None
        rig.heard = False
        await rig.run_for(until - rig.clock() + 0.25)  # nothing proves the socket alive
        assert rig.poller.polls.get(trades) == 1  # stale, so taken over at once
        assert rig.store.feed_status("trades:BTC").state is FeedState.FALLBACK
    finally:
        await rig.close()


STEP = 0.35


async def test_a_held_feed_refreshed_over_rest_is_held_again_not_polled_on_the_plan() -> None:
    rig = live_rig({"book:BTC", "bbo:BTC"})
    # Rounds off the thresholds' grid: the refresh is seen a little after its time, as a busy
    # event loop would see it.
    try:
        await rig.settle()
        await run_alive(rig, rig.poller.missing_grace, STEP)  # taken over, then held
        stamp = rig.store.stamp("book:BTC")
        assert stamp is not None and stamp.source is Source.REST
        threshold = rig.store.threshold("book:BTC")
        every = rig.poller.plan.entry(BOOK_KEY)
        assert every is not None and every.interval is not None
        # A poll at the plan's interval would come before the old answer turned stale.
        assert every.interval + 0.5 < (1 - HELD_REFRESH) * threshold
        refresh_at = stamp.received_at + HELD_REFRESH * threshold
        await run_alive(rig, refresh_at - rig.clock() + STEP, STEP)
        polled = rig.poller.polls[BOOK_KEY]
        assert polled == 2  # the take-over, and the refresh before the threshold
        # Refreshed: held again, left to the websocket until its next refresh; not polled at
        # the plan's interval as if the fallback served it.
        await run_alive(rig, (1 - HELD_REFRESH) * threshold + STEP, STEP)
        assert rig.poller.polls[BOOK_KEY] == polled
        assert rig.store.health.fallback_active
    finally:
        await rig.close()


async def test_the_turns_in_time_are_read_on_the_stores_clock() -> None:
    """The feeds' ages run on the store's clock: a poller whose own wall clock says otherwise
    (another clock injected, or one that stepped) still sees a feed turn stale on time."""
    rig = live_rig({"book:BTC", "bbo:BTC"}, wall_clock=lambda: 0.0)
    try:
        rig.store.apply(book_push(rig), Source.WS)
        rig.store.apply(bbo_push(rig), Source.WS)
        await run_alive(rig, 0.25)
        assert not rig.store.health.fallback_active
        await run_alive(rig, rig.store.threshold("book:BTC") + 0.25)
        assert rig.poller.polls.get(BOOK_KEY, 0) >= 1
    finally:
        await rig.close()
