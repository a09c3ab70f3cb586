"""The official hyperliquid-python-sdk's websocket path, timed (runs in ``benchmarks/.sdk-venv``).

Usage: ``.sdk-venv/bin/python sdk_client.py BASE_URL SUBSCRIPTIONS_JSON FRAMES``; prints one
JSON line. Uses only the SDK's public API: ``Info(base_url, skip_ws=False, meta=...,
spot_meta=...)`` (metadata passed in so no REST call is made) and ``Info.subscribe(sub,
callback)`` for each subscription; the SDK's ``WebsocketManager`` thread (websocket-client)
receives, ``json.loads`` and routes each frame by channel + coin/user to the callbacks.
Channels the SDK does not route (``clearinghouseState``, ``openOrders``, the acks) are still
received and parsed, then dropped by the SDK. The run ends when the server's close frame stops
the SDK's thread. Nothing here imports hlmon: this venv does not have it.
"""

from __future__ import annotations

import json
import sys
import time

from hyperliquid.info import Info


def main() -> int:
    base_url, subs_json, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
    subs = json.loads(subs_json)
    coins = sorted({s["coin"] for s in subs if "coin" in s})
    meta = {"universe": [{"name": c, "szDecimals": 5} for c in coins]}
    spot_meta: dict[str, list[object]] = {"universe": [], "tokens": []}
    calls = 0
    first: tuple[float, float] | None = None

    def callback(_msg: object) -> None:
        nonlocal calls, first
        if first is None:
            first = time.perf_counter(), time.process_time()
        calls += 1

    info = Info(base_url, skip_ws=False, meta=meta, spot_meta=spot_meta)
    for sub in subs:
        info.subscribe(sub, callback)
    manager = info.ws_manager
    assert manager is not None
    manager.join(timeout=600)  # returns when the server's close frame ends run_forever
    end = time.perf_counter(), time.process_time()
    manager.stop()  # let the SDK's ping thread exit
    if first is None:
        print(json.dumps({"error": "no callback fired"}))
        return 1
    seconds, cpu_seconds = end[0] - first[0], end[1] - first[1]
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "callbacks": calls,
        "msgs_per_s": frames / seconds,
        "msgs_per_cpu_s": frames / cpu_seconds,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
