"""What REST mode spends: the weight per minute ``--no-ws`` costs with the default watchlist and
one account, counted by the simulator (the exchange's side of the meter), and each feed's
planned cadence next to the interval it was actually polled at.

The simulator runs in-process on loopback (the ``--demo`` market and account); the engine is
the real one with ``use_websocket = false``. After ``--warmup`` seconds (the first sweep, the
reconciliation and the 60 s windows filling), the simulator's 60 s REST window is read once a
second for ``--seconds``; the report gives its mean and peak (hlmon's budget is the ceiling),
and how often the plan changed meanwhile (the demo account trades on HIP-3 dexes now and then,
and a dex with a fill in the last hour is an active dex: orders there cost 20 a poll).

The warm-up is watched too, every half second from the engine's start (``start``): how long
any feed on screen was STALE, the simulator's window at its peak, and how far and how long
the plan was cut for the start-up loads (``RestPoller._fit_window``). Before the cut, the
first minute held ~40 s of STALE feeds: the plan's polls filled the window by t=31 s and
waited for the start-up burst to slide out.

Run from the repo root: ``.venv/bin/python -m benchmarks.rest_mode_weight [--seconds 60]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.rest_plan import format_interval
from hlmon.runtime.root import DEMO_PROFILE, DEMO_SEED
from hlmon.sim import SimServer
from hlmon.state import FeedState, Store

SIM_IP = "127.0.0.1"


async def measure(seconds: float, warmup: float) -> dict[str, Any]:
    """Run REST mode against the simulator; return the weight and cadence report."""
    sim = SimServer(seed=DEMO_SEED, profile=DEMO_PROFILE)
    await sim.start(host=SIM_IP, port=0)
    settings = Settings(
        network="custom", api_url=sim.url, address=sim.demo_address, use_websocket=False
    )
    engine = FeedEngine(settings, Store(time.time, settings.stale))
    try:
        await engine.start()
        start = await _watch_start(engine, sim, warmup)
        polls0 = dict(engine.rest.polls)
        plans0 = _plans_logged(engine)
        samples: list[int] = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            await asyncio.sleep(1.0)
            samples.append(sim.tracker.client(SIM_IP).rest_weight.used())
        elapsed = time.monotonic() - t0
        polls = {k: n - polls0.get(k, 0) for k, n in engine.rest.polls.items()}
        plan = engine.rest.plan
        feeds = []
        for entry in plan.entries:
            done = polls.get(entry.key, 0)
            feeds.append(
                {
                    "poll": str(entry.key),
                    "serves": list(engine.rest.served().get(entry.key, ())),
                    "planned": None if entry.interval is None else format_interval(entry.interval),
                    "state": entry.state.value,
                    "observed_every_s": round(elapsed / done, 2) if done else None,
                }
            )
        return {
            "watchlist": list(settings.watchlist),
            "budget_w_per_min": settings.rest_weight_budget,
            "planned_w_per_min": round(plan.weight_per_min, 1),
            "sim_w_per_min_mean": round(statistics.mean(samples), 1),
            "sim_w_per_min_peak": max(samples),
            "sim_429": engine.info.rate_limited,
            "client_peak_window": engine.info.budget.peak,
            "seconds": round(elapsed, 1),
            "replans_during": _plans_logged(engine) - plans0,
            "start": start,
            "plan": plan.summary(),
            "feeds": feeds,
        }
    finally:
        await engine.stop()
        await sim.stop()


async def _watch_start(engine: FeedEngine, sim: SimServer, seconds: float) -> dict[str, Any]:
    """Sample the first ``seconds`` after start every half second (see the module doc)."""
    step = 0.5
    t0 = time.monotonic()
    stale_samples = 0
    stale_feeds: set[str] = set()
    peak = cut_max = 0
    cut_last = None
    account_every: list[float] = []
    while (now := time.monotonic() - t0) < seconds:
        await asyncio.sleep(step)
        stale = {k for k, st in engine.store.feed_statuses().items() if st.state is FeedState.STALE}
        stale_samples += bool(stale)
        stale_feeds |= stale
        peak = max(peak, sim.tracker.client(SIM_IP).rest_weight.used())
        cut = engine.rest.cut
        cut_max = max(cut_max, cut)
        if cut:
            cut_last = now
        plan = engine.store.health.rest_plan
        if plan is not None and "account" in plan.cadences:
            account_every.append(plan.cadences["account"])
    return {
        "seconds": seconds,
        "stale_s": stale_samples * step,
        "stale_feeds": sorted(stale_feeds),
        "sim_peak_window": peak,
        "cut_max_w_per_min": cut_max,
        "cut_until_s": None if cut_last is None else round(cut_last, 1),
        "account_every_s_max": round(max(account_every), 1) if account_every else None,
        "account_every_s_end": round(account_every[-1], 1) if account_every else None,
    }


def _plans_logged(engine: FeedEngine) -> int:
    """Re-plans so far (each is logged once; the selected account's active dexes move them)."""
    return sum(e.text.startswith("REST plan:") for e in engine.store.health.events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=65.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.seconds, args.warmup)), indent=2))


if __name__ == "__main__":
    main()
