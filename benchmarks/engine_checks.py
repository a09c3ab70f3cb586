"""Conditions the chaos and soak runs wait on, shared so both judge "live again" the same way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hlmon.feeds.engine import FeedEngine
from hlmon.state import ConnState, FeedState, Store
from hlmon.state.freshness import feed_kind, is_periodic


def engine_live(engine: FeedEngine, store: Store) -> bool:
    """Socket live (it has spoken), connection LIVE, and every periodic feed live or quiet."""
    if engine.ws is None or not engine.ws.live.is_set():
        return False
    if store.health.connection.state is not ConnState.LIVE:
        return False
    return all(
        st.state in (FeedState.LIVE, FeedState.QUIET)
        for key, st in store.feed_statuses().items()
        if is_periodic(feed_kind(key))
    )


async def seconds_until(
    cond: Callable[[], bool], within: float, interval: float = 0.01
) -> float | None:
    """Seconds until ``cond`` held, or None if ``within`` passed first."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > within:
            return None
        await asyncio.sleep(interval)
    return time.monotonic() - start
