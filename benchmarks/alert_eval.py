"""Alert evaluation cost: CPU microseconds per frame of ``AlertEngine.evaluate`` with the default
rules (the dead-man's switch and the liquidation alert) plus a data-lag rule, on a store that
watches 40 coins (160 expected feeds, most never arriving: a degraded session where the
dead-man's switch has fired) with 3 open positions, each frame bringing an ``allMids`` push.

The evaluation runs on every frame the dashboard paints; the feed rules used to walk every
feed's freshness on each of them (issue #16). Reported: the frame with the rules, the same
frame without them (the push and ``take_changes`` alone), and the difference, the rules' own
cost. CPU time (``time.process_time``), median of ``--repeats`` runs of ``--frames`` frames.
Run: ``python -m benchmarks.alert_eval``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from hlmon.alerts import AlertEngine, AlertRule, DataLag, DeadMan, Liquidated
from hlmon.protocol.messages import KnownMsg, Message
from hlmon.state import Store

USER = "0x61fb9e7583dc92cc76eb52f93d88addaa0f02265"
COINS = [f"C{i}" for i in range(40)]


def _msg(channel: str, data: Any) -> Message:
    return msgspec.json.decode(
        msgspec.json.encode({"channel": channel, "data": data}), type=KnownMsg
    )


def _position(coin: str) -> dict[str, Any]:
    return {
        "type": "oneWay",
        "position": {
            "coin": coin, "szi": "1.0", "leverage": {"type": "cross", "value": 10},
            "entryPx": "100.0", "positionValue": "100.0", "unrealizedPnl": "0.0",
            "returnOnEquity": "0.0", "liquidationPx": None, "marginUsed": "10.0",
        },
    }  # fmt: skip


def _account() -> Message:
    summary = {"accountValue": "10000.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0",
               "totalMarginUsed": "0.0"}  # fmt: skip
    state = {
        "marginSummary": summary, "crossMarginSummary": summary,
        "crossMaintenanceMarginUsed": "10.0", "withdrawable": "0.0",
        "assetPositions": [_position(c) for c in ("BTC", "ETH", "SOL")],
        "time": 1_790_000_000_000,
    }  # fmt: skip
    return _msg("clearinghouseState", {"dex": "", "user": USER, "clearinghouseState": state})


def per_frame_us(rules: list[AlertRule], frames: int, repeats: int) -> float:
    """Median CPU microseconds per frame (push, take_changes, evaluate)."""
    now = [1_790_000_000.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    store = Store(clock)
    store.set_user(USER)
    store.expect("mids")
    store.expect("account")
    for coin in COINS:
        for kind in ("book", "trades", "bbo", "ctx"):
            store.expect(f"{kind}:{coin}")
    mids = _msg("allMids", {"mids": {c: "100" for c in [*COINS, "BTC", "ETH", "SOL"]}})
    store.apply(mids)
    store.apply(_account())
    engine = AlertEngine(rules, clock=clock)
    engine.evaluate(store, store.take_changes())
    runs = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(frames):
            now[0] += 0.05
            store.apply(mids)
            engine.evaluate(store, store.take_changes())
        runs.append((time.process_time() - start) / frames * 1e6)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rules: list[AlertRule] = [DeadMan(30.0), Liquidated(), DataLag(10.0)]
    with_rules = per_frame_us(rules, args.frames, args.repeats)
    without = per_frame_us([], args.frames, args.repeats)
    print(f"frame with the rules:    {with_rules:7.1f} us CPU")
    print(f"frame without any rule:  {without:7.1f} us CPU")
    print(f"the rules' own cost:     {with_rules - without:7.1f} us CPU per frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
