"""Ingest throughput: messages per second a client takes from ``blast_server`` over loopback.

Clients, each run in its own process pinned to one CPU while the server is pinned to the other:

- ``raw``: a ``websockets`` receive loop that only receives frames (the ceiling of the stack);
- ``json``: the same loop plus ``json.loads`` of every frame;
- ``decode``: the same loop plus ``hlmon.protocol.decode`` (typed msgspec decode);
- ``aiohttp``: an ``aiohttp`` websocket receive loop (C frame reader), for reference: another
  stack hlmon already depends on;
- ``hlmon``: hlmon's real feed path: ``hlmon.feeds.ws_feed.WsFeed`` (receive, ``note_alive``,
  decode, ``note_frame``, ack matching) into a real ``Store`` (``apply``, freshness stamps,
  change keys) watching the demo user, subscribed as ``FeedEngine.start`` subscribes;
- ``sdk``: the official ``hyperliquid-python-sdk`` (``Info(...).subscribe`` with a callback per
  subscription), in its own venv ``benchmarks/.sdk-venv`` (see ``sdk_client.py``).

Each run is one connection: subscribe, receive the fixed stream, stop at the server's close
frame. Rate = stream frames / seconds from connection live to close received (the SDK, whose
connection is internal, is timed from its first callback). Runs are interleaved and repeated;
the median is reported.

Run alone: ``python -m benchmarks.ingest [--repeats 3] [--frames 200000] [--no-sdk] [--profile]``.
Internal: ``python -m benchmarks.ingest client KIND URL ADDRESS FRAMES`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BENCH_DIR,
    REPO,
    median,
    pinned_to,
    print_table,
    rnd,
    stop_process,
)

SDK_VERSION = "0.24.0"
SDK_VENV = BENCH_DIR / ".sdk-venv"
SERVER_CPU, CLIENT_CPU = 0, 1
CLIENTS = ("raw", "json", "decode", "aiohttp", "hlmon", "sdk")
MAX_FRAME = 16 * 2**20


# ------------------------------------------------------------------ clients (child process)


async def _raw_client(kind: str, url: str, address: str, frames: int) -> dict[str, Any]:
    import websockets
    from websockets.asyncio.client import connect

    from benchmarks.blast_server import subscriptions
    from hlmon.protocol import decode
    from hlmon.protocol.subscriptions import subscribe_frame

    handle = {"raw": None, "json": json.loads, "decode": decode}[kind]
    received = 0
    # The same connect options as WsFeed: no library pings, same max frame size.
    async with connect(url, ping_interval=None, max_size=MAX_FRAME) as ws:
        for sub in subscriptions(address):
            await ws.send(subscribe_frame(sub))
        start = time.perf_counter()
        try:
            if handle is None:
                while True:
                    await ws.recv(decode=False)
                    received += 1
            else:
                while True:
                    handle(await ws.recv(decode=False))
                    received += 1
        except websockets.ConnectionClosed:
            end = time.perf_counter()
    return {"seconds": end - start, "received": received}


async def _aiohttp_client(url: str, address: str, frames: int) -> dict[str, Any]:
    import aiohttp

    from benchmarks.blast_server import subscriptions
    from hlmon.protocol.subscriptions import subscribe_frame

    received = 0
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, autoping=False, max_msg_size=MAX_FRAME) as ws,
    ):
        for sub in subscriptions(address):
            await ws.send_str(subscribe_frame(sub))
        start = time.perf_counter()
        while (await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            received += 1
        end = time.perf_counter()
    return {"seconds": end - start, "received": received}


async def _hlmon_client(url: str, address: str, frames: int) -> dict[str, Any]:
    from benchmarks.blast_server import SELECTED, subscriptions
    from hlmon.config import DEFAULT_WATCHLIST, WebsocketSettings
    from hlmon.feeds.ws_feed import FeedTimings, WsFeed
    from hlmon.state import Store

    store = Store(time.time)
    store.set_user(address)
    store.set_watch(DEFAULT_WATCHLIST)
    store.track_history(SELECTED)
    marks: dict[str, float] = {}
    closed = asyncio.Event()

    def on_live(_outage: float | None) -> None:
        marks.setdefault("start", time.perf_counter())

    def on_down() -> None:
        marks.setdefault("end", time.perf_counter())
        closed.set()

    feed = WsFeed(
        url,
        store,
        FeedTimings.from_settings(WebsocketSettings()),
        on_live=on_live,
        on_down=on_down,
    )
    for sub in subscriptions(address):
        feed.subscribe(sub)
    task = asyncio.create_task(feed.run())
    try:
        await asyncio.wait_for(closed.wait(), timeout=300)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.close()
    return {
        "seconds": marks["end"] - marks["start"],
        "received": store.frames_total,
        "rejected": store.frames_rejected,
        "acks": store.acks,
        "ignored_user_msgs": store.ignored_user_msgs,
        "pending_acks": len(feed.pending_acks),
    }


def client_main(kind: str, url: str, address: str, frames: int, profile: str | None) -> int:
    """Child process: run one client once and print its result as JSON."""
    if kind == "hlmon":
        coro = _hlmon_client(url, address, frames)
    elif kind == "aiohttp":
        coro = _aiohttp_client(url, address, frames)
    else:
        coro = _raw_client(kind, url, address, frames)
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        result = asyncio.run(coro)
        prof.disable()
        prof.dump_stats(profile)
    else:
        result = asyncio.run(coro)
    result["msgs_per_s"] = frames / result["seconds"]
    print(json.dumps(result), flush=True)
    return 0


# ------------------------------------------------------------------ SDK venv


def ensure_sdk_venv() -> tuple[Path | None, str | None]:
    """Create ``benchmarks/.sdk-venv`` with the pinned SDK once; returns (python, error)."""
    python = SDK_VENV / "bin" / "python"
    stamp = SDK_VENV / f".installed-{SDK_VERSION}"
    if stamp.exists():
        return python, None
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(SDK_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"hyperliquid-python-sdk=={SDK_VERSION}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        return None, f"could not install hyperliquid-python-sdk=={SDK_VERSION}: {detail[-500:]}"
    stamp.touch()
    return python, None


# ------------------------------------------------------------------ orchestration


class Server:
    """The blast server in its own process, pinned to ``SERVER_CPU``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.blast_server"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinned_to(SERVER_CPU),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("blast server did not start")
        info = json.loads(line)
        self.port: int = info["port"]
        self.address: str = info["address"]
        self.corpus: dict[str, Any] = info["corpus"]

    def url(self, frames: int) -> str:
        return f"ws://127.0.0.1:{self.port}/{frames}/ws"

    def stop(self) -> None:
        stop_process(self.proc)


def run_client(
    server: Server, kind: str, frames: int, sdk_python: Path | None, profile: str | None = None
) -> dict[str, Any]:
    """Run one client in a pinned subprocess; returns its JSON result."""
    if kind == "sdk":
        assert sdk_python is not None
        subs = json.dumps([s.to_wire() for s in _subscriptions(server.address)])
        cmd = [
            str(sdk_python),
            str(BENCH_DIR / "sdk_client.py"),
            f"http://127.0.0.1:{server.port}/{frames}",
            subs,
            str(frames),
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.ingest",
            "client",
            kind,
            server.url(frames),
            server.address,
            str(frames),
        ]
        if profile:
            cmd += ["--profile-out", profile]
    out = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=pinned_to(CLIENT_CPU),
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} client failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _subscriptions(address: str) -> list[Any]:
    from benchmarks.blast_server import subscriptions

    return subscriptions(address)


def _round_to_cycle(n: int, cycle: int) -> int:
    return max(cycle, round(n / cycle) * cycle)


def measure(
    repeats: int = 3,
    frames: int = 200_000,
    sdk_frames: int = 40_000,
    sdk: bool = True,
    profile_dir: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Run every client ``repeats`` times, interleaved; returns the ``ingest`` JSON section."""
    sdk_python, sdk_error = ensure_sdk_venv() if sdk else (None, "skipped (--no-sdk)")
    server = Server()
    try:
        cycle = server.corpus["frames_per_cycle"]
        frames = _round_to_cycle(frames, cycle)
        sdk_frames = _round_to_cycle(sdk_frames, cycle)
        kinds = [k for k in CLIENTS if k != "sdk" or sdk_python is not None]
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for i in range(repeats):
            for kind in kinds:
                n = sdk_frames if kind == "sdk" else frames
                result = run_client(server, kind, n, sdk_python)
                runs[kind].append(result)
                log(
                    f"  ingest run {i + 1}/{repeats} {kind:<7} {result['msgs_per_s']:>10,.0f} msg/s"
                )
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
            run_client(server, "hlmon", frames, None, str(profile_dir / "hlmon_ingest.prof"))
    finally:
        server.stop()
    rates = {k: median(r["msgs_per_s"] for r in v) for k, v in runs.items()}
    hl, raw, sdk_rate = rates.get("hlmon"), rates.get("raw"), rates.get("sdk")
    return {
        "hlmon_msgs_per_s": rnd(hl, 0),
        "sdk_msgs_per_s": rnd(sdk_rate, 0),
        "raw_msgs_per_s": rnd(raw, 0),
        "raw_json_msgs_per_s": rnd(rates.get("json"), 0),
        "raw_decode_msgs_per_s": rnd(rates.get("decode"), 0),
        "aiohttp_raw_msgs_per_s": rnd(rates.get("aiohttp"), 0),
        "hlmon_over_raw": rnd(hl / raw, 3) if hl and raw else None,
        "hlmon_over_sdk": rnd(hl / sdk_rate, 2) if hl and sdk_rate else None,
        "targets": {"hlmon_over_raw_min": 0.6, "hlmon_over_sdk_min": 6.0},
        "frames_per_run": frames,
        "sdk_frames_per_run": sdk_frames if sdk_python is not None else None,
        "sdk_version": SDK_VERSION if sdk_python is not None else None,
        "sdk_error": sdk_error,
        "repeats": repeats,
        "corpus": server.corpus,
        "runs": {k: [rnd(r["msgs_per_s"], 0) for r in v] for k, v in runs.items()},
        "best": {k: rnd(max(r["msgs_per_s"] for r in v), 0) for k, v in runs.items()},
        "checks": {
            k: {x: y for x, y in v[-1].items() if x not in ("msgs_per_s", "seconds")}
            for k, v in runs.items()
        },
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    hl_raw, hl_sdk = res["hlmon_over_raw"], res["hlmon_over_sdk"]
    return [
        ("raw websockets recv", res["raw_msgs_per_s"], "msg/s (ceiling)"),
        ("raw + json.loads", res["raw_json_msgs_per_s"], "msg/s"),
        ("raw + hlmon decode", res["raw_decode_msgs_per_s"], "msg/s"),
        ("aiohttp ws recv", res["aiohttp_raw_msgs_per_s"], "msg/s (reference: other stack)"),
        ("hlmon feed path", res["hlmon_msgs_per_s"], "msg/s (WsFeed+decode+Store.apply)"),
        (
            "hyperliquid-python-sdk",
            res["sdk_msgs_per_s"],
            f"msg/s ({res['sdk_error'] or 'Info.subscribe'})",
        ),
        (
            "hlmon / raw",
            hl_raw,
            "target >= 0.6" + ("" if hl_raw is None or hl_raw >= 0.6 else "  MISSED"),
        ),
        (
            "hlmon / sdk",
            hl_sdk,
            "target >= 6" + ("" if hl_sdk is None or hl_sdk >= 6 else "  MISSED"),
        ),
    ]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("kind", choices=[k for k in CLIENTS if k != "sdk"])
        p.add_argument("url")
        p.add_argument("address")
        p.add_argument("frames", type=int)
        p.add_argument("--profile-out")
        a = p.parse_args()
        return client_main(a.kind, a.url, a.address, a.frames, a.profile_out)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--sdk-frames", type=int, default=40_000)
    parser.add_argument("--no-sdk", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also cProfile one hlmon run")
    args = parser.parse_args()
    prof_dir = BENCH_DIR / "results" / "profiles" if args.profile else None
    res = measure(args.repeats, args.frames, args.sdk_frames, not args.no_sdk, prof_dir)
    print_table("Ingest (median msg/s)", table_rows(res))
    print(json.dumps(res["checks"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
