"""The market screen in the real app: CPU of the TUI with it open, ~1,600 markets, ``stress``.

Processes (2 cores): the simulator (``python -m benchmarks.market_app sim``: ``SimServer`` with
``markets="large"``, about 1,600 listed markets, and the ``stress`` profile: ``fastAssetCtxs``
every 0.5 s, ``allDexsAssetCtxs`` every 2 s, books and trades 10x mainnet; pinned to CPU 0) and
the app (``python -m benchmarks.market_app app``, pinned to CPU 1): hlmon's real app built by
``build_app`` on a real ``Runtime`` watching the simulator's demo account, in a 120x40 ``tmux``
session (so writing to the terminal is counted; ``--mode headless`` without tmux).

Inside the app, after a warm-up: the CPU percent of one core (utime+stime of the process) over
a window with the dashboard alone, then ``m`` is pressed (the real key path) and, once the
market table has its snapshot and a warm-up passed, over the same window with the market
screen open (its streams subscribed, the dashboard's feeds still running behind it). The load
average is printed with the result: on a shared machine other work inflates these figures.

Run alone: ``python -m benchmarks.market_app [--seconds 15] [--warmup 5] [--mode tmux]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, Tmux, cpu_seconds, pinned_to, stop_process, wait_until

SIM_CPU, APP_CPU = 0, 1
SIZE = (120, 40)
PROFILE = "stress"
TARGET_CPU_PCT = 5.0


async def _serve_sim(profile: str) -> None:
    from hlmon.sim import SimServer

    sim = SimServer(seed=11, profile=profile, markets="large")
    await sim.start("127.0.0.1", 0)
    print(json.dumps({"url": sim.url, "address": sim.demo_address}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()


def _write(path: Path, text: str) -> None:
    path.write_text(text)


async def _poll(predicate: Any, give_up_after: float) -> None:
    deadline = time.monotonic() + give_up_after
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not met within {give_up_after} s: {predicate}")
        await asyncio.sleep(0.05)


async def _window(seconds: float) -> float:
    """CPU percent of one core of this process over ``seconds``."""
    cpu0, t0 = cpu_seconds(os.getpid()), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(os.getpid()) - cpu0) / (time.monotonic() - t0)


async def _run_app(args: argparse.Namespace) -> None:
    from hlmon.config import load_settings
    from hlmon.runtime.root import Runtime
    from hlmon.ui.app import build_app
    from hlmon.ui.screens.market import MarketScreen

    empty = Path(tempfile.mkdtemp(prefix="hlbench-cfg-"))
    settings = load_settings(
        overrides={"api_url": args.url, "address": args.address},
        env={},
        cwd=empty,
        user_dir=empty,
    )
    runtime = Runtime(settings)
    store = runtime.store
    app = build_app(runtime)
    result: dict[str, Any] = {}

    async def harness() -> None:
        try:
            await _poll(lambda: app.is_running and store.catalog is not None, 30)
            await _poll(lambda: store.health.frames_total > 0, 30)
            await asyncio.sleep(args.warmup)
            result["dashboard_cpu_pct"] = await _window(args.seconds)
            app.simulate_key("m")
            table = store.market_board.table
            await _poll(lambda: isinstance(app.screen, MarketScreen), 10)
            await _poll(lambda: table.fast_at is not None and table.ctx_at is not None, 30)
            await asyncio.sleep(args.warmup)
            frames0 = table.fast_frames
            result["market_cpu_pct"] = await _window(args.seconds)
            result["fast_frames_per_s"] = (table.fast_frames - frames0) / args.seconds
            result["names"] = len(table)
            result["priced"] = sum(1 for r in table.rows() if r.mark is not None)
        except Exception as exc:
            result["error"] = repr(exc)
        finally:
            _write(Path(args.out), json.dumps(result))
            app.exit()

    async def start_harness() -> None:
        await _poll(lambda: app.is_running, 30)
        await harness()

    task = asyncio.create_task(start_harness())
    await app.run_async(headless=args.mode == "headless", size=SIZE)
    await asyncio.gather(task, return_exceptions=True)


class Sim:
    """The large ``stress`` simulator in its own process."""

    def __init__(self, profile: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.market_app", "sim", "--profile", profile],
            cwd=REPO, stdout=subprocess.PIPE, text=True, preexec_fn=pinned_to(SIM_CPU),
        )  # fmt: skip
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.url: str = info["url"]
        self.address: str = info["address"]

    def stop(self) -> None:
        stop_process(self.proc, timeout=10)


def measure(seconds: float = 15.0, warmup: float = 5.0, mode: str = "tmux") -> dict[str, Any]:
    """One run; returns the app's figures (``mode`` falls back to headless without tmux)."""
    if mode == "tmux" and shutil.which("tmux") is None:
        mode = "headless"
    out = Path(tempfile.mkstemp(prefix="hlbench-market-", suffix=".json")[1])
    out.unlink()
    sim = Sim(PROFILE)
    load = os.getloadavg()[0]
    cmd = [
        sys.executable, "-m", "benchmarks.market_app", "app", sim.url, sim.address, str(out),
        "--seconds", str(seconds), "--warmup", str(warmup), "--mode", mode,
    ]  # fmt: skip
    timeout = 2 * (seconds + warmup) + 90
    try:
        if mode == "headless":
            subprocess.run(
                cmd, cwd=REPO, timeout=timeout, preexec_fn=pinned_to(APP_CPU), check=False,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        else:
            tmux = Tmux("market", *SIZE)
            try:
                cpu = f"taskset -c {APP_CPU} " if (os.cpu_count() or 1) > 1 else ""
                tmux.start(cpu + " ".join(cmd), env={"TERM": "xterm-256color"})
                wait_until(out.exists, timeout)
                wait_until(tmux.pane_dead, 10)
            finally:
                tmux.close()
    finally:
        sim.stop()
    if not out.exists():
        raise RuntimeError(f"market_app ({mode}) wrote no result")
    res: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    if "error" in res:
        raise RuntimeError(f"market_app ({mode}): {res['error']}")
    res.update(mode=mode, profile=PROFILE, loadavg_1m=round(load, 2), seconds=seconds)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd")
    s = sub.add_parser("sim")
    s.add_argument("--profile", default=PROFILE)
    a = sub.add_parser("app")
    a.add_argument("url")
    a.add_argument("address")
    a.add_argument("out")
    for p in (parser, a):
        p.add_argument("--seconds", type=float, default=15.0)
        p.add_argument("--warmup", type=float, default=5.0)
        p.add_argument("--mode", choices=("tmux", "headless"), default="tmux")
    args = parser.parse_args()
    if args.cmd == "sim":
        asyncio.run(_serve_sim(args.profile))
    elif args.cmd == "app":
        from hlmon import gc_pause

        gc_pause.pause()  # as the ``hlmon`` command starts the TUI (the app resumes it)
        asyncio.run(_run_app(args))
    else:
        res = measure(args.seconds, args.warmup, args.mode)
        print(json.dumps(res, indent=2))
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
