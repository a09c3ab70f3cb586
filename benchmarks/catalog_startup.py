"""The market catalog at start-up, and a bad coin name over a minute, against the simulator.

Measured on loopback against ``hlmon sim``'s market (seed 0, standard profile), which drops the
whole socket 0.1 s after a subscription naming a coin it does not list, as the exchange does
since 2026:

* ``catalog``: the time from ``FeedEngine.start()`` to the catalog in force, the REST weight
  of the load (``perpDexs`` + ``allPerpMetas`` + ``spotMeta`` + ``outcomeMeta``), the load's own
  time, and the catalog's size (markets, dexes, JSON bytes as cached); median of ``repeats``.
* ``nope_run``: a headless engine watching ``BTC,NOPE`` (a config watchlist: NOPE is skipped
  with a warning) for ``seconds``: reconnects seen by hlmon and new connections counted by the
  simulator, and whether BTC stayed live.
* ``nope_forced``: the same length with NOPE sent anyway, straight to a ``WsFeed`` (what a
  catalog that lists a name the exchange does not would do): one drop, then the hold-back
  keeps it from coming back.

Run alone: ``python -m benchmarks.catalog_startup [--seconds 60] [--repeats 5]``; results go to
``benchmarks/results/catalog.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.ws_feed import WsFeed
from hlmon.protocol import subscriptions as subs
from hlmon.sim import SimServer
from hlmon.state import FeedState, Store

RESULTS = Path(__file__).parent / "results" / "catalog.json"


def _settings(sim: SimServer, watchlist: tuple[str, ...]) -> Settings:
    return Settings(network="custom", api_url=sim.url, watchlist=watchlist)


async def _wait(cond: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.002)


async def catalog_load(sim: SimServer, cache: Path) -> dict[str, Any]:
    """One engine start: time to the catalog in force, and what the load cost."""
    settings = _settings(sim, ("BTC", "ETH"))
    engine = FeedEngine(settings, Store(time.time), cache_dir=cache, rng=random.Random(1))
    t0 = time.perf_counter()
    await engine.start()
    try:
        await asyncio.wait_for(engine.catalog.ready.wait(), 30)
        ready = time.perf_counter() - t0
        load = engine.catalog.last_load
        assert load is not None
        catalog = load.catalog
        return {
            "to_catalog_ms": ready * 1000,
            "load_ms": load.seconds * 1000,
            "weight": load.weight,
            "markets": len(catalog),
            "dexes": len(catalog.dexes()),
            "cache_bytes": len(catalog.to_json()),
        }
    finally:
        await engine.stop()


async def _connections_seen(sim: SimServer, seconds: float) -> int:
    """Distinct websocket connections the simulator held during ``seconds`` (polled)."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.update(id(c) for c in sim.connections)
        await asyncio.sleep(0.02)
    return len(seen)


async def nope_run(sim: SimServer, seconds: float, cache: Path) -> dict[str, Any]:
    """A headless engine watching BTC,NOPE for ``seconds``."""
    engine = FeedEngine(
        _settings(sim, ("BTC", "NOPE")), Store(time.time), cache_dir=cache, rng=random.Random(2)
    )
    await engine.start()
    try:
        await _wait(lambda: engine.store.book("BTC") is not None, 30)
        seen = await _connections_seen(sim, seconds)
        store = engine.store
        return {
            "seconds": seconds,
            "hlmon_reconnects": store.health.connection.reconnects,
            "sim_connections_seen": seen,
            "btc_book_live": store.feed_status("book:BTC").state is FeedState.LIVE,
            "btc_ctx_live": store.feed_status("ctx:BTC").state is FeedState.LIVE,
            "nope_subscribed": any(
                sub.coin == "NOPE" for c in sim.connections for sub in c.subs.values()
            ),
            "warning": next((e.text for e in store.health.events if "NOPE" in e.text), None),
        }
    finally:
        await engine.stop()


async def nope_forced(sim: SimServer, seconds: float) -> dict[str, Any]:
    """NOPE sent anyway on a live feed: how many times the socket goes down."""
    store = Store(time.time)
    feed = WsFeed(sim.ws_url, store, Settings().websocket, rng=random.Random(3))
    feed.subscribe(subs.all_mids())
    feed.subscribe(subs.l2_book("BTC"))
    task = asyncio.create_task(feed.run())
    try:
        await _wait(lambda: store.book("BTC") is not None, 30)
        feed.subscribe(subs.l2_book("NOPE"))
        seen = await _connections_seen(sim, seconds)
        return {
            "seconds": seconds,
            "sim_connections_seen": seen,
            "connects": feed.stats.connects,
            "reconnects": store.health.connection.reconnects,
            "held_back": feed.stats.held_back,
            "btc_book_live": store.feed_status("book:BTC").state is FeedState.LIVE,
        }
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.close()


async def main(seconds: float, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        async with SimServer(seed=0, profile="standard") as sim:
            loads = [await catalog_load(sim, cache) for _ in range(repeats)]
            run = await nope_run(sim, seconds, cache)
        async with SimServer(seed=0, profile="standard") as sim:
            forced = await nope_forced(sim, seconds)
    keys = ("to_catalog_ms", "load_ms")
    summary = {k: round(statistics.median(x[k] for x in loads), 1) for k in keys}
    summary.update({k: loads[0][k] for k in ("weight", "markets", "dexes", "cache_bytes")})
    return {"catalog": summary, "nope_run": run, "nope_forced": forced}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(main(args.seconds, args.repeats))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
