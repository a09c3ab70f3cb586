"""Throughput of ``hlmon.protocol.decode`` on synthetic frames shaped like real traffic.

Prints a table (frames/s, MB/s, µs per frame; as references ``json.loads`` and an untyped
msgspec decode into plain dicts, i.e. the cost of parsing alone) and writes
``benchmarks/results/decode.json``. Frames are built here, not recorded.

Run from the repo root: ``.venv/bin/python -m benchmarks.decode_bench [--seconds 1.0]``
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from hlmon.protocol import decode

RESULTS = Path(__file__).resolve().parent / "results" / "decode.json"


def _level(rng: random.Random, px: float) -> dict[str, Any]:
    return {"px": f"{px:.1f}", "sz": f"{rng.uniform(0.001, 50):.5f}", "n": rng.randint(1, 40)}


def l2book_frame(rng: random.Random, levels: int = 20) -> bytes:
    bids = [_level(rng, 111065.0 - i) for i in range(levels)]
    asks = [_level(rng, 111066.0 + i) for i in range(levels)]
    data = {"coin": "BTC", "time": 1757130041083, "levels": [bids, asks]}
    return json.dumps({"channel": "l2Book", "data": data}, separators=(",", ":")).encode()


def all_mids_frame(rng: random.Random, keys: int = 700) -> bytes:
    mids: dict[str, str] = {}
    for i in range(keys):
        # Mix of perp names, spot "@N" pairs and outcome "#N" coins, as on mainnet.
        name = (f"COIN{i}", f"@{i}", f"#{i}")[i % 3]
        mids[name] = f"{rng.uniform(0.0001, 100000):.6g}"
    return json.dumps(
        {"channel": "allMids", "data": {"mids": mids}}, separators=(",", ":")
    ).encode()


def bbo_frame(rng: random.Random) -> bytes:
    data = {
        "coin": "BTC",
        "time": 1788490065008,
        "bbo": [_level(rng, 80639.0), _level(rng, 80640.0)],
    }
    return json.dumps({"channel": "bbo", "data": data}, separators=(",", ":")).encode()


def trades_frame(rng: random.Random, count: int = 5) -> bytes:
    trades = [
        {
            "coin": "SOL",
            "side": rng.choice("AB"),
            "px": f"{128 + rng.random():.2f}",
            "sz": f"{rng.uniform(0.01, 10):.2f}",
            "time": 1765887848009,
            "hash": f"0x{rng.getrandbits(256):064x}",
            "tid": rng.getrandbits(50),
            "users": [f"0x{rng.getrandbits(160):040x}", f"0x{rng.getrandbits(160):040x}"],
        }
        for _ in range(count)
    ]
    return json.dumps({"channel": "trades", "data": trades}, separators=(",", ":")).encode()


def user_fills_frame(rng: random.Random, count: int = 50, without_fee: int = 0) -> bytes:
    """A ``userFills`` push; ``without_fee`` fills lack ``fee`` (old history), which sends the
    frame down the tolerant item-by-item path."""
    fills = []
    for i in range(count):
        fill = {
            "coin": rng.choice(("BTC", "ETH", "xyz:TSLA", "@107")),
            "px": f"{rng.uniform(10, 100000):.1f}",
            "sz": f"{rng.uniform(0.001, 5):.4f}",
            "side": rng.choice("AB"),
            "time": 1770524192528 + i,
            "startPosition": "0.01",
            "dir": "Close Long",
            "closedPnl": "-0.13",
            "hash": f"0x{rng.getrandbits(256):064x}",
            "oid": rng.getrandbits(40),
            "crossed": True,
            "fee": "0.00893",
            "tid": rng.getrandbits(50),
            "feeToken": "USDC",
            "twapId": None,
        }
        if i < without_fee:
            del fill["fee"]
        fills.append(fill)
    data = {"user": "0x" + "ab" * 20, "fills": fills}
    return json.dumps({"channel": "userFills", "data": data}, separators=(",", ":")).encode()


def rate(fn: Callable[[bytes], object], frame: bytes, seconds: float) -> float:
    """Frames per second: best of 5 timed rounds of roughly ``seconds / 5`` each."""
    n = 1
    while True:  # calibrate a batch that takes ~10 ms
        t0 = time.perf_counter()
        for _ in range(n):
            fn(frame)
        if time.perf_counter() - t0 > 0.01:
            break
        n *= 2
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        done = 0
        while time.perf_counter() - t0 < seconds / 5:
            for _ in range(n):
                fn(frame)
            done += n
        best = max(best, done / (time.perf_counter() - t0))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    rng = random.Random(42)
    frames = {
        "l2Book 20 levels": l2book_frame(rng),
        "allMids 700 keys": all_mids_frame(rng),
        "bbo": bbo_frame(rng),
        "trades x5": trades_frame(rng),
        "userFills x50": user_fills_frame(rng),
        "userFills 1 no fee": user_fills_frame(rng, without_fee=1),
    }
    generic = msgspec.json.Decoder().decode
    rows = []
    for name, frame in frames.items():
        type(decode(frame))  # warm up and prove it decodes
        fps = rate(decode, frame, args.seconds)
        ref = rate(json.loads, frame, args.seconds)
        rows.append(
            {
                "frame": name,
                "bytes": len(frame),
                "frames_per_s": round(fps),
                "mb_per_s": round(fps * len(frame) / 1e6, 1),
                "us_per_frame": round(1e6 / fps, 2),
                "json_loads_frames_per_s": round(ref),
                "msgspec_untyped_frames_per_s": round(rate(generic, frame, args.seconds)),
            }
        )
    header = (
        f"{'frame':<20}{'bytes':>8}{'frames/s':>12}{'MB/s':>8}{'µs/frame':>10}"
        f"{'json.loads/s':>14}{'untyped/s':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['frame']:<20}{r['bytes']:>8}{r['frames_per_s']:>12,}{r['mb_per_s']:>8}"
            f"{r['us_per_frame']:>10}{r['json_loads_frames_per_s']:>14,}"
            f"{r['msgspec_untyped_frames_per_s']:>12,}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": sys.version.split()[0],
        "msgspec": msgspec.__version__,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "seconds_per_measurement": args.seconds,
    }
    RESULTS.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n", "utf-8")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
