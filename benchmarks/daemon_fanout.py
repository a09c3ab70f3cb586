"""Fan-out through ``hlmon daemon``: the simulator's ``stress`` stream to 1, 10 and 100 local
clients, and the REST weight N terminals save by sharing one daemon.

Processes: the simulator (``hlmon sim --profile stress``) and the daemon (``hlmon daemon``) run
as their own processes (the daemon's CPU is read from /proc); the clients run here, on one
event loop, over the daemon's Unix socket. A direct client on the simulator sees every frame
too: the added latency is the arrival time through the daemon minus the direct arrival time of
the same frame (matched by its bytes), measured on one daemon client.

    python -m benchmarks.daemon_fanout [--seconds 8] [--clients 1,10,100]

Prints a table and writes ``benchmarks/results/daemon_fanout.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import (
    RESULTS_DIR,
    CpuMeter,
    die_with_parent,
    machine_info,
    percentile,
    print_table,
    rnd,
    stop_process,
    wait_until,
)
from hlmon.config import Settings
from hlmon.daemon.paths import probe
from hlmon.snapshot import take_snapshot

SUBS = [
    {"type": "l2Book", "coin": "BTC"},
    {"type": "trades", "coin": "BTC"},
    {"type": "bbo", "coin": "BTC"},
    {"type": "allMids"},
    {"type": "activeAssetCtx", "coin": "ETH"},
]


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=die_with_parent,
    )


async def _client(
    url: str,
    session: aiohttp.ClientSession,
    stop: asyncio.Event,
    counts: list[int],
    arrivals: dict[bytes, float] | None,
) -> None:
    async with session.ws_connect(url, max_msg_size=16 * 2**20) as ws:
        for sub in SUBS:
            await ws.send_str(json.dumps({"method": "subscribe", "subscription": sub}))
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.receive(), 0.5)
            except TimeoutError:
                continue
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            counts[0] += 1
            if arrivals is not None:
                arrivals.setdefault(msg.data.encode(), time.monotonic())


async def fanout(
    sock: Path, sim_url: str, daemon_pid: int, n: int, seconds: float
) -> dict[str, Any]:
    stop = asyncio.Event()
    counts = [[0] for _ in range(n)]
    direct: dict[bytes, float] = {}
    via: dict[bytes, float] = {}
    unix = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock), limit=0))
    plain = aiohttp.ClientSession()
    ws_direct = sim_url.replace("http://", "ws://") + "/ws"
    tasks = [asyncio.create_task(_client(ws_direct, plain, stop, [0], direct))]
    for i in range(n):
        arrivals = via if i == 0 else None
        tasks.append(asyncio.create_task(_client("http://d/ws", unix, stop, counts[i], arrivals)))
    await asyncio.sleep(1.5)  # subscribed, snapshots replayed: measure the steady state
    start = [c[0] for c in counts]
    meter = CpuMeter(daemon_pid)
    meter.start()
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu = meter.stop()
    delivered = sum(c[0] for c in counts) - sum(start)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await unix.close()
    await plain.close()
    # Frames of streams the daemon forwards byte for byte (books and trades, not numbered).
    lat = [(via[k] - direct[k]) * 1000 for k in via if k in direct]
    return {
        "clients": n,
        "msgs_per_s_delivered": rnd(delivered / elapsed),
        "msgs_per_s_per_client": rnd(delivered / elapsed / n),
        "daemon_cpu_pct": rnd(cpu),
        "added_latency_p50_ms": rnd(percentile(lat, 50), 2),
        "added_latency_p99_ms": rnd(percentile(lat, 99), 2),
        "latency_samples": len(lat),
    }


async def rest_saving(sock: Path, sim_url: str, terminals: int) -> dict[str, Any]:
    settings = Settings(network="custom", api_url=sim_url, daemon=f"unix:{sock}",
                        address="0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0")  # fmt: skip
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as s:
        before = await (await s.get("http://d/_daemon/status")).json()
        await asyncio.gather(*(take_snapshot(settings, 15.0) for _ in range(terminals)))
        after = await (await s.get("http://d/_daemon/status")).json()

    def total(doc: dict[str, Any], key: str) -> int:
        return sum(c[key] for c in doc["clients"])

    caused = total(after, "weight_caused") - total(before, "weight_caused")
    saved = total(after, "weight_saved") - total(before, "weight_saved")
    return {
        "terminals": terminals,
        "weight_upstream": caused,
        "weight_without_daemon": caused + saved,
        "weight_saved_pct": rnd(100.0 * saved / max(1, caused + saved)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", default="1,10,100")
    parser.add_argument("--terminals", type=int, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hlbench"))
    sock = tmp / "run" / "d.sock"
    sim = _start([sys.executable, "-m", "hlmon", "sim", "--profile", "stress"])
    daemon = None
    try:
        assert sim.stdout is not None
        match = re.search(r"http://\S+", sim.stdout.readline())
        assert match, "the simulator did not say where it listens"
        sim_url = match.group(0)
        daemon = _start([sys.executable, "-m", "hlmon", "daemon", "--api-url", sim_url,
                         "--socket", str(sock)])  # fmt: skip
        assert wait_until(lambda: probe(sock), 15), "the daemon did not start"
        runs = [
            asyncio.run(fanout(sock, sim_url, daemon.pid, int(n), args.seconds))
            for n in args.clients.split(",")
        ]
        rest = asyncio.run(rest_saving(sock, sim_url, args.terminals))
    finally:
        if daemon is not None:
            stop_process(daemon)
        stop_process(sim)
    info = machine_info()
    rows: list[tuple[str, Any, str]] = []
    for r in runs:
        n = r["clients"]
        rows += [
            (f"{n} clients: msgs/s delivered", r["msgs_per_s_delivered"], "all clients together"),
            (f"{n} clients: daemon CPU", r["daemon_cpu_pct"], "% of one core"),
            (f"{n} clients: added p99", r["added_latency_p99_ms"], "ms vs a direct client"),
        ]
    rows += [
        (f"{rest['terminals']} snapshots: weight", rest["weight_upstream"], "spent upstream"),
        ("  without the daemon", rest["weight_without_daemon"], "what they would spend"),
        ("  saved", rest["weight_saved_pct"], "%"),
    ]
    print_table(f"daemon fan-out, sim stress profile ({info['cpu']}, {info['cores']} cores)", rows)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "daemon_fanout.json"
    out.write_text(json.dumps({"machine": info, "fanout": runs, "rest": rest}, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
