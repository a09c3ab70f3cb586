"""Recording overhead: frames/s through hlmon's feed path with and without ``--record``.

The client is the real feed path (``WsFeed`` -> decode -> ``Store.apply``, subscribed as the
engine subscribes), once without a recorder and once with a ``FrameRecorder`` writing gzip JSON
lines to a temporary file (buffered in memory, encoded and compressed in a worker thread every
0.5 s). The server is ``benchmarks.blast_server`` (the simulator's frames, pre-encoded, sent as
fast as the client reads them), via ``benchmarks.ingest.Server``: server pinned to one CPU,
each client run in its own process pinned to the other, so the recorder's thread competes with
the receive loop for the same CPU (the worst case). Runs alternate; medians are reported.

Also reported: the cost of ``FrameRecorder.write`` alone (ns per call, the only work added on
the receive path), the time ``close()`` takes to flush the tail, and recording size.

Run: ``python -m benchmarks.record_overhead [--repeats 5] [--frames 100000]``; prints a table
and writes ``benchmarks/results/record.json``.
Internal: ``python -m benchmarks.record_overhead client MODE URL ADDRESS FRAMES`` (one JSON line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BENCH_DIR,
    REPO,
    machine_info,
    median,
    print_table,
    rnd,
    run_pinned_client,
)
from benchmarks.ingest import CLIENT_CPU, Server, _round_to_cycle

MODES = ("plain", "record")
RESULT = BENCH_DIR / "results" / "record.json"


async def _client(mode: str, url: str, address: str, frames: int) -> dict[str, Any]:
    from benchmarks.blast_server import subscriptions
    from hlmon.config import DEFAULT_WATCHLIST, WebsocketSettings
    from hlmon.feeds.recorder import FrameRecorder, make_header
    from hlmon.feeds.ws_feed import WsFeed
    from hlmon.state import Store

    store = Store(time.time)
    store.set_user(address)
    store.set_watch(DEFAULT_WATCHLIST)
    marks: dict[str, float] = {}
    closed = asyncio.Event()

    def on_live(_outage: float | None) -> None:
        marks.setdefault("start", time.perf_counter())

    def on_down() -> None:
        marks.setdefault("end", time.perf_counter())
        closed.set()

    with tempfile.TemporaryDirectory() as tmp:
        recorder = None
        if mode == "record":
            header = make_header(
                network="bench", api_url=url, address=address, coins=DEFAULT_WATCHLIST
            )
            recorder = FrameRecorder(Path(tmp) / "bench.jsonl.gz", header)
            recorder.start()
        feed = WsFeed(
            url,
            store,
            WebsocketSettings(),
            on_live=on_live,
            on_down=on_down,
            recorder=recorder,
        )
        for sub in subscriptions(address):
            feed.subscribe(sub)
        task = asyncio.create_task(feed.run())
        cpu0 = time.process_time()
        try:
            await asyncio.wait_for(closed.wait(), timeout=300)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await feed.close()
        cpu = time.process_time() - cpu0
        result: dict[str, Any] = {
            "seconds": marks["end"] - marks["start"],
            "received": store.health.frames_total,
            "cpu_s": cpu,
        }
        if recorder is not None:
            t0 = time.perf_counter()
            await recorder.close()
            result["close_s"] = time.perf_counter() - t0
            result["recorded"] = recorder.frames
            result["dropped"] = recorder.dropped
            result["file_bytes"] = recorder.bytes_written
    result["frames_per_s"] = frames / result["seconds"]
    return result


def write_cost_ns(n: int = 200_000) -> float:
    """Nanoseconds per ``FrameRecorder.write`` call (in memory: what the receive loop pays)."""
    from hlmon.feeds.recorder import FrameRecorder

    rec = FrameRecorder("/dev/null", {}, max_pending_bytes=2**40)
    frame = b'{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[null,null]}}'
    t = time.time()
    start = time.perf_counter_ns()
    for _ in range(n):
        rec.write(frame, t)
    return (time.perf_counter_ns() - start) / n


def run_client(server: Server, mode: str, frames: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.record_overhead",
        "client",
        mode,
        server.url(frames),
        server.address,
        str(frames),
    ]
    return run_pinned_client(cmd, CLIENT_CPU, mode)


def measure(repeats: int = 5, frames: int = 100_000, log: Any = print) -> dict[str, Any]:
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    server = Server()
    try:
        frames = _round_to_cycle(frames, server.corpus["frames_per_cycle"])
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
        for i in range(repeats):
            order = MODES if i % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                result = run_client(server, mode, frames)
                runs[mode].append(result)
                log(f"  run {i + 1}/{repeats} {mode:<6} {result['frames_per_s']:>10,.0f} frames/s")
    finally:
        server.stop()
    plain = median(r["frames_per_s"] for r in runs["plain"])
    rec = median(r["frames_per_s"] for r in runs["record"])
    cpu_plain = median(r["cpu_s"] / r["received"] * 1e6 for r in runs["plain"])
    cpu_rec = median(r["cpu_s"] / r["received"] * 1e6 for r in runs["record"])
    last = runs["record"][-1]
    return {
        "plain_frames_per_s": rnd(plain, 0),
        "record_frames_per_s": rnd(rec, 0),
        "throughput_overhead_pct": rnd((1 - rec / plain) * 100, 1) if plain and rec else None,
        "cpu_us_per_frame_plain": rnd(cpu_plain, 2),
        "cpu_us_per_frame_record": rnd(cpu_rec, 2),
        "added_cpu_us_per_frame": rnd(cpu_rec - cpu_plain, 2) if cpu_rec and cpu_plain else None,
        "added_core_pct_at_1000_fps": (
            rnd((cpu_rec - cpu_plain) * 1000 / 1e6 * 100, 2) if cpu_rec and cpu_plain else None
        ),
        "write_call_ns": rnd(write_cost_ns(), 0),
        "close_flush_s": rnd(median(r["close_s"] for r in runs["record"]), 3),
        "recorded_bytes_per_frame": rnd(last["file_bytes"] / max(1, last["recorded"]), 1),
        "dropped": sum(r["dropped"] for r in runs["record"]),
        "frames_per_run": frames,
        "repeats": repeats,
        "runs": {m: [rnd(r["frames_per_s"], 0) for r in v] for m, v in runs.items()},
        "corpus": server.corpus,
        "machine": machine_info(),
        "loadavg_before": load_before,
        "note": "client and recorder thread share one pinned CPU; server on the other",
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [
        ("feed path, no recorder", res["plain_frames_per_s"], "frames/s (median)"),
        ("feed path + recorder", res["record_frames_per_s"], "frames/s (median)"),
        ("throughput overhead", res["throughput_overhead_pct"], "% (at saturation)"),
        ("CPU per frame, plain", res["cpu_us_per_frame_plain"], "us"),
        ("CPU per frame, recording", res["cpu_us_per_frame_record"], "us (incl. gzip thread)"),
        ("added CPU at 1,000 frames/s", res["added_core_pct_at_1000_fps"], "% of one core"),
        ("FrameRecorder.write", res["write_call_ns"], "ns per call (receive-loop cost)"),
        ("close() tail flush", res["close_flush_s"], "s"),
        ("recording size", res["recorded_bytes_per_frame"], "bytes per frame (gzip)"),
        ("frames dropped", res["dropped"], "(bounded buffer)"),
    ]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("mode", choices=MODES)
        p.add_argument("url")
        p.add_argument("address")
        p.add_argument("frames", type=int)
        a = p.parse_args()
        print(json.dumps(asyncio.run(_client(a.mode, a.url, a.address, a.frames))), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=100_000)
    args = parser.parse_args()
    res = measure(args.repeats, args.frames)
    print_table("Recording overhead", table_rows(res))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
