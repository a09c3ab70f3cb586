"""REST weight per minute of a HIP-3 account served by the fallback (websocket refused).

The simulator's demo account holds positions and orders on the default dex, ``xyz`` (USDC)
and ``flx`` (USDH), and nothing on ``hyna``: active on 3 dexes. The engine runs against the
simulator (standard cadences) with every websocket upgrade refused and the market catalog in
force, as a user on a network that blocks websockets would run it: the REST poller serves the
screen by plan. After a warm-up (startup reconciliation, the first discovery sweep), every
``/info`` request is tallied for one minute by type and dex, with its true weight (base +
per-item extra for fills), as the exchange would charge it.

Run: ``python -m benchmarks.hip3_rest_weight [--budget 600] [--warmup 30] [--window 60]``;
prints a table and writes ``benchmarks/results/hip3_rest_weight.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

from benchmarks.common import RESULTS_DIR, machine_info, print_table

RESULT = RESULTS_DIR / "hip3_rest_weight.json"


async def measure(budget: int, warmup: float, window: float) -> dict[str, Any]:
    import httpx

    from hlmon.config import Settings
    from hlmon.feeds.catalog_loader import load_catalog
    from hlmon.feeds.engine import FeedEngine
    from hlmon.protocol import info
    from hlmon.sim import SimServer
    from hlmon.state import Store

    weight: Counter[tuple[str, str]] = Counter()
    count: Counter[tuple[str, str]] = Counter()
    t_start = time.monotonic()
    counting = [False]

    async def on_response(response: httpx.Response) -> None:
        if not counting[0] or response.status_code != 200:
            return
        body = json.loads(response.request.content)
        kind, dex = body["type"], body.get("dex", "")
        await response.aread()
        answer = response.json()
        items = len(answer) if isinstance(answer, list) else 0
        weight[(kind, dex)] += info.base_weight(kind) + info.extra_weight(kind, items)
        count[(kind, dex)] += 1

    sim = SimServer(seed=11)
    await sim.start(host="127.0.0.1", port=0)
    sim.faults.refuse_connections(warmup + window + 60)
    http = httpx.AsyncClient(event_hooks={"response": [on_response]})
    settings = Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC", "ETH"),
        rest_weight_budget=budget,
    )
    store = Store(time.time, settings.stale)
    engine = FeedEngine(settings, store, http_client=http)
    try:
        await engine.start()
        store.set_catalog((await load_catalog(engine.info)).catalog)
        await asyncio.sleep(warmup)
        counting[0] = True
        t0 = time.monotonic()
        await asyncio.sleep(window)
        counting[0] = False
        elapsed = time.monotonic() - t0
        active = store.active_dexes()
        positions = sorted({p.dex for p in store.positions()})
        swept = engine.sweeps.swept(sim.demo_address)
    finally:
        await engine.stop()
        await http.aclose()
        await sim.stop()
    per_min = 60.0 / elapsed
    rows = [
        {
            "type": kind,
            "dex": dex or "(default)",
            "requests": count[(kind, dex)],
            "weight_per_min": round(w * per_min, 1),
        }
        for (kind, dex), w in sorted(weight.items())
    ]
    return {
        "budget": budget,
        "planned_weight_per_min": round(engine.rest.plan.weight_per_min, 1),
        "plan": engine.rest.plan.summary(),
        "active_dexes": list(active),
        "position_dexes": positions,
        "swept": swept,
        "warmup_s": warmup,
        "window_s": round(elapsed, 1),
        "weight_per_min": round(sum(weight.values()) * per_min, 1),
        "by_request": rows,
        "ran_s": round(time.monotonic() - t_start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, nargs="+", default=[600, 1200])
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    results = [asyncio.run(measure(b, args.warmup, args.window)) for b in args.budget]
    for r in results:
        title = (
            f"budget {r['budget']} w/min (planned {r['planned_weight_per_min']}), active dexes "
            f"{r['active_dexes']}: {r['weight_per_min']} weight/min measured"
        )
        rows = [
            (f"{x['type']} {x['dex']}", x["weight_per_min"], f"{x['requests']} requests")
            for x in r["by_request"]
        ]
        print_table(title, [*rows, ("total", r["weight_per_min"], "weight per minute")])
    RESULT.write_text(json.dumps({"machine": machine_info(), "runs": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
