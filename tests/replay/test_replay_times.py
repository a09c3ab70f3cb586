"""A replay moves the exchange's timestamps to the present: a recording made a day ago, played
at half speed through the real engine, shows no lag and books stamped now."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

import pytest

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.replay import ReplayServer, load_recording
from hlmon.replay.recording import Recording
from hlmon.replay.times import ReplayClockMap, present_data, present_text
from hlmon.state import FeedState, Store
from hlmon.state.clock import SteadyClock
from tests.replay.conftest import COINS, Recorded, wait_until

DAY_MS = 86_400_000
_TIME = re.compile(r'"time":(\d{10,16})')


def day_old(rec: Recording) -> Recording:
    """The same recording as if it had been made 24 hours earlier."""
    frames = [
        dataclasses.replace(f, text=_TIME.sub(lambda m: f'"time":{int(m[1]) - DAY_MS}', f.text))
        for f in rec.frames
    ]
    header = {**rec.header, "start": rec.start - DAY_MS / 1000}
    return dataclasses.replace(rec, header=header, frames=frames)


START = 1_790_000_000.0
"""When the (pretend) recording started; times below are ms after it."""


class TestClockMap:
    def test_times_follow_the_replay_clock(self) -> None:
        clock = ReplayClockMap(START, pos_base=0.0, epoch_at_base=START + 86_400, speed=2)
        t10 = int((START + 10) * 1000)  # 10 s into the recording, at 2x: 5 s after the base
        assert clock.ms(t10) == int((START + 86_400 + 5) * 1000)
        assert clock.ms(t10) < clock.ms(t10 + 2)  # order kept

    def test_only_timed_channels_are_rewritten(self) -> None:
        clock = ReplayClockMap(START, 0.0, START + 3600, 1.0)
        t = int(START * 1000)
        trades = (
            f'{{"channel":"trades","data":[{{"time":{t + 500},"tid":1}},'
            f'{{"time":{t + 1000},"tid":2}}]}}'
        )
        h = 3_600_000
        assert present_text(trades, "trades", clock) == (
            f'{{"channel":"trades","data":[{{"time":{t + h + 500},"tid":1}},'
            f'{{"time":{t + h + 1000},"tid":2}}]}}'
        )
        fills = f'{{"channel":"userFills","data":{{"fills":[{{"time":{t}}}]}}}}'
        assert present_text(fills, "userFills", clock) == fills  # past events keep their dates
        assert present_data({"coin": "BTC", "time": t + 2000}, clock) == {
            "coin": "BTC",
            "time": t + h + 2000,
        }


@pytest.mark.parametrize("speed", [0.5, 4.0])
async def test_a_day_old_recording_is_not_lagging(recorded: Recorded, speed: float) -> None:
    rec = day_old(load_recording(recorded.path))
    async with ReplayServer(rec, speed=speed, paused=True) as server:
        settings = Settings(
            network="custom", api_url=server.url, address=recorded.address, watchlist=COINS
        )
        store = Store(time.time, settings.stale, lag_clock=SteadyClock(time.time, time.monotonic))
        engine = FeedEngine(settings, store)
        await engine.start()
        try:
            assert engine.ws is not None
            # Coins are subscribed once the catalog (made from the recording) is loaded.
            await asyncio.wait_for(engine.catalog.ready.wait(), 10)
            await wait_until(lambda: set(engine.watchlist) == set(COINS), what="the coins")
            n_subs = len(engine.ws.subscriptions)
            await wait_until(
                lambda: sum(len(c.keys) for c in server.clients) == n_subs,
                what="every subscription to reach the replay server",
            )
            server.resume()
            seen: set[FeedState] = set()

            def played() -> bool:
                seen.update(store.feed_status(k).state for k in ("book:BTC", "bbo:BTC"))
                return server.finished.is_set()

            await wait_until(played, 30, what="end of the replay")
            assert FeedState.LAGGING not in seen
            book = store.book("BTC")
            assert book is not None and abs(time.time() * 1000 - book.time) < 10_000
            account = store.stamp("account")
            assert account is not None and account.exchange_time is not None
            assert abs(time.time() * 1000 - account.exchange_time) < 10_000
        finally:
            await engine.stop()
