"""Ingest throughput: messages per second a client takes from ``blast_server`` over loopback.

Clients, each run in its own process pinned to one CPU while the server is pinned to the other:

- ``raw``: a ``websockets`` receive loop that only receives frames (the ceiling of the stack);
- ``json``: the same loop plus ``json.loads`` of every frame;
- ``decode``: the same loop plus ``hlmon.protocol.decode`` (typed msgspec decode);
- ``aiohttp``: an ``aiohttp`` websocket receive loop (C frame reader), for reference: another
  stack hlmon already depends on;
- ``hlmon``: hlmon's real feed path: ``hlmon.feeds.ws_feed.WsFeed`` (its aiohttp receive,
  decode, ack matching, batched ``note_alive``/``note_frames``) into a real ``Store`` (``apply``,
  freshness stamps, change keys) watching the demo user, subscribed as ``FeedEngine.start``
  subscribes;
- ``sdk``: the official ``hyperliquid-python-sdk`` (``Info(...).subscribe`` with a callback per
  subscription), in its own venv ``benchmarks/.sdk-venv`` (see ``sdk_client.py``).

Each run is one connection: subscribe, receive the fixed stream, stop at the server's close
frame. Rate = stream frames / seconds from connection live to close received (the SDK, whose
connection is internal, is timed from its first callback). Runs are interleaved and repeated;
the median is reported. Each client also reports the CPU time it used over the same span
(``time.process_time``, all threads), and so msgs per CPU-second: on a quiet machine the two
agree (the client is the bottleneck, pinned to its core); on a shared, busy machine wall-clock
rates swing while the CPU-normalised ones stay put, so both are kept.

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
    run_pinned_client,
    stop_process,
)

SDK_VERSION = "0.24.0"
SDK_VENV = BENCH_DIR / ".sdk-venv"
PROFILE_DIR = BENCH_DIR / "results" / "profiles"
SERVER_CPU, CLIENT_CPU = 0, 1
CLIENTS = ("raw", "json", "decode", "aiohttp", "hlmon", "sdk")
MAX_FRAME = 16 * 2**20


# ------------------------------------------------------------------ clients (child process)


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _span(start: tuple[float, float], end: tuple[float, float]) -> dict[str, float]:
    return {"seconds": end[0] - start[0], "cpu_seconds": end[1] - start[1]}


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
        start = _now()
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
            end = _now()
    return {**_span(start, end), "received": received}


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
        start = _now()
        while (await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            received += 1
        end = _now()
    return {**_span(start, end), "received": received}


async def _hlmon_client(url: str, address: str, frames: int) -> dict[str, Any]:
    from benchmarks.blast_server import subscriptions
    from hlmon.config import DEFAULT_WATCHLIST, WebsocketSettings
    from hlmon.feeds.ws_feed import WsFeed
    from hlmon.state import Store

    store = Store(time.time)
    store.set_user(address)
    store.set_watch(DEFAULT_WATCHLIST)
    marks: dict[str, tuple[float, float]] = {}
    closed = asyncio.Event()

    def on_live(_outage: float | None) -> None:
        marks.setdefault("start", _now())

    def on_down() -> None:
        marks.setdefault("end", _now())
        closed.set()

    feed = WsFeed(
        url,
        store,
        WebsocketSettings(),
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
        **_span(marks["start"], marks["end"]),
        "received": store.health.frames_total,
        "rejected": store.health.frames_rejected,
        "acks": store.health.acks,
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
    result["msgs_per_cpu_s"] = frames / result["cpu_seconds"]
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
    return run_pinned_client(cmd, CLIENT_CPU, kind)


def _subscriptions(address: str) -> list[Any]:
    from benchmarks.blast_server import subscriptions

    return subscriptions(address)


def _ratio(runs: dict[str, list[dict[str, Any]]], a: str, b: str) -> float | None:
    ra = median(r["msgs_per_s"] for r in runs.get(a, []))
    rb = median(r["msgs_per_s"] for r in runs.get(b, []))
    return ra / rb if ra and rb else None


def paired_ratio(runs: dict[str, list[dict[str, Any]]], a: str, b: str) -> float | None:
    """The median of ``a / b`` within each repeat (the clients of one repeat run back to back).
    On a host whose speed swings by 2x within a run (this VM class), the ratio of the two
    columns' medians can pair a fast ``b`` with a slow ``a``; within a repeat the swing mostly
    cancels. Reported beside ``hlmon_over_raw``, which keeps its definition."""
    pairs = [
        x["msgs_per_s"] / y["msgs_per_s"]
        for x, y in zip(runs.get(a, []), runs.get(b, []), strict=False)
        if x.get("msgs_per_s") and y.get("msgs_per_s")
    ]
    return median(pairs) if pairs else None


def profile_summary(path: Path, top: int = 14) -> list[dict[str, Any]]:
    """The functions with the most self time in a cProfile stats file."""
    import pstats

    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    out = []
    for (file, line, func), (_cc, calls, self_t, cum_t, _callers) in entries[:top]:
        where = file.split("site-packages/")[-1].replace(str(REPO) + "/", "")
        out.append(
            {
                "function": f"{where}:{line}({func})",
                "calls": calls,
                "self_pct": round(100 * self_t / total, 1),
                "cum_pct": round(100 * cum_t / total, 1),
            }
        )
    return out


def hot_path_us(rounds: int = 5) -> dict[str, float]:
    """In-process cost per frame (µs, best of ``rounds``) of each step hlmon's receive loop
    takes after ``recv``, on the same corpus (no socket, no profiler overhead)."""
    import timeit

    from benchmarks.blast_server import build_corpus
    from hlmon.config import DEFAULT_WATCHLIST
    from hlmon.feeds import ws_feed
    from hlmon.protocol import decode
    from hlmon.state import Store

    corpus = build_corpus()
    frames = corpus.frames
    msgs = [decode(f) for f in frames]
    store = Store(time.time)
    store.set_user(corpus.address)
    store.set_watch(DEFAULT_WATCHLIST)
    loop = asyncio.new_event_loop()

    # The steps that return nothing run as plain loops (a list of Nones would be a wasted value).
    def apply_all() -> None:
        for m in msgs:
            store.apply(m)

    def note_frames() -> None:
        for _ in msgs:
            store.health.note_frame("bbo", 100)

    def note_alive() -> None:
        for _ in msgs:
            store.health.note_alive()

    try:
        steps: dict[str, Any] = {
            "decode": lambda: [decode(f) for f in frames],
            "Store.apply": apply_all,
            "Store.note_frame": note_frames,
            "Store.note_alive": note_alive,
            "channel_of": lambda: [ws_feed._channel_of(m) for m in msgs],
            "WsFeed._now": lambda: loop.run_until_complete(_loop_time_calls(len(msgs))),
            "empty loop": lambda: [None for _ in msgs],
        }
        return {
            name: round(min(timeit.repeat(fn, number=3, repeat=rounds)) / 3 / len(frames) * 1e6, 3)
            for name, fn in steps.items()
        }
    finally:
        loop.close()


async def _loop_time_calls(n: int) -> None:
    from hlmon.feeds.ws_feed import WsFeed

    for _ in range(n):
        WsFeed._now()


LAYERS = (
    ("websockets/", "websockets lib (frames, recv)"),
    ("aiohttp/", "aiohttp lib (frames, receive)"),
    ("asyncio/", "asyncio loop, sockets"),
    ("msgspec", "msgspec typed decode"),
    ("hlmon/protocol/", "msgspec typed decode"),
    ("hlmon/state/", "Store (apply, note_*, stamps)"),
    ("hlmon/feeds/", "WsFeed loop (self, _now, ...)"),
)


def profile_layers(path: Path) -> dict[str, float]:
    """Percent of self time per layer of the stack (builtins counted under "other")."""
    import pstats

    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    layers: dict[str, float] = {}
    for (file, _line, func), (_cc, _calls, self_t, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = file if file != "~" else func
        name = next((label for key, label in LAYERS if key in where), "other (builtins)")
        layers[name] = layers.get(name, 0.0) + self_t
    return {k: round(100 * v / total, 1) for k, v in sorted(layers.items(), key=lambda kv: -kv[1])}


def _round_to_cycle(n: int, cycle: int) -> int:
    return max(cycle, round(n / cycle) * cycle)


def measure(
    repeats: int = 3,
    frames: int = 200_000,
    sdk_frames: int = 40_000,
    sdk: bool = True,
    profile: bool | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Run every client ``repeats`` times, interleaved; returns the ``ingest`` JSON section.

    ``profile``: also run hlmon's client once under cProfile (None: only if hlmon/raw misses
    its target); the top functions land in ``profile_top``, the stats file in
    ``benchmarks/results/profiles/``.
    """
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
        hl_raw = _ratio(runs, "hlmon", "raw")
        profile_top = None
        if profile or (profile is None and hl_raw is not None and hl_raw < 0.6):
            PROFILE_DIR.mkdir(parents=True, exist_ok=True)
            path = PROFILE_DIR / "hlmon_ingest.prof"
            log("  profiling one hlmon run (cProfile)")
            run_client(server, "hlmon", frames, None, str(path))
            profile_top = {
                "layers": profile_layers(path),
                "functions": profile_summary(path),
                "hot_path_us_per_frame": hot_path_us(),
            }
    finally:
        server.stop()
    rates = {k: median(r["msgs_per_s"] for r in v) for k, v in runs.items()}
    cpu_rates = {k: median(r["msgs_per_cpu_s"] for r in v) for k, v in runs.items()}
    hl, raw, sdk_rate = rates.get("hlmon"), rates.get("raw"), rates.get("sdk")
    hl_c, raw_c, sdk_c = cpu_rates.get("hlmon"), cpu_rates.get("raw"), cpu_rates.get("sdk")
    return {
        "hlmon_msgs_per_s": rnd(hl, 0),
        "sdk_msgs_per_s": rnd(sdk_rate, 0),
        "raw_msgs_per_s": rnd(raw, 0),
        "raw_json_msgs_per_s": rnd(rates.get("json"), 0),
        "raw_decode_msgs_per_s": rnd(rates.get("decode"), 0),
        "aiohttp_raw_msgs_per_s": rnd(rates.get("aiohttp"), 0),
        "hlmon_over_raw": rnd(hl / raw, 3) if hl and raw else None,
        "hlmon_over_raw_paired": rnd(paired_ratio(runs, "hlmon", "raw"), 3),
        "hlmon_over_sdk": rnd(hl / sdk_rate, 2) if hl and sdk_rate else None,
        "per_cpu_second": {k: rnd(v, 0) for k, v in cpu_rates.items()},
        "hlmon_over_raw_cpu": rnd(hl_c / raw_c, 3) if hl_c and raw_c else None,
        "hlmon_over_sdk_cpu": rnd(hl_c / sdk_c, 2) if hl_c and sdk_c else None,
        "targets": {"hlmon_over_raw_min": 0.6, "hlmon_over_sdk_min": 6.0},
        "frames_per_run": frames,
        "sdk_frames_per_run": sdk_frames if sdk_python is not None else None,
        "sdk_version": SDK_VERSION if sdk_python is not None else None,
        "sdk_error": sdk_error,
        "repeats": repeats,
        "corpus": server.corpus,
        "runs": {k: [rnd(r["msgs_per_s"], 0) for r in v] for k, v in runs.items()},
        "best": {k: rnd(max(r["msgs_per_s"] for r in v), 0) for k, v in runs.items()},
        "profile_top": profile_top,
        "checks": {
            k: {x: y for x, y in v[-1].items() if "seconds" not in x and "msgs_per" not in x}
            for k, v in runs.items()
        },
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    cpu = res["per_cpu_second"]

    def rate(label: str, key: str, kind: str, what: str) -> tuple[str, Any, str]:
        per_cpu = cpu.get(kind)
        extra = f"{per_cpu:>11,.0f}/CPU-s  " if per_cpu else " " * 18
        return (label, res[key], f"msg/s {extra}{what}")

    def ratio(label: str, key: str, target: float) -> tuple[str, Any, str]:
        wall, per_cpu = res[key], res[key + "_cpu"]
        missed = [n for n, v in (("wall", wall), ("cpu", per_cpu)) if v is not None and v < target]
        verdict = f"  MISSED ({', '.join(missed)})" if missed else ""
        return (
            label,
            wall,
            f"      {fmt_ratio(per_cpu):>11} per CPU-s  target >= {target}{verdict}",
        )

    sdk_what = res["sdk_error"] or f"hyperliquid-python-sdk {res['sdk_version']} Info.subscribe"
    return [
        rate("raw websockets recv", "raw_msgs_per_s", "raw", "ceiling of this stack"),
        rate("raw + json.loads", "raw_json_msgs_per_s", "json", ""),
        rate("raw + hlmon decode", "raw_decode_msgs_per_s", "decode", "typed msgspec decode"),
        rate("aiohttp ws recv", "aiohttp_raw_msgs_per_s", "aiohttp", "reference: other stack"),
        rate("hlmon feed path", "hlmon_msgs_per_s", "hlmon", "WsFeed+decode+Store.apply"),
        rate("official SDK", "sdk_msgs_per_s", "sdk", sdk_what),
        ratio("hlmon / raw", "hlmon_over_raw", 0.6),
        (
            "hlmon / raw, per repeat",
            res.get("hlmon_over_raw_paired"),
            "median of each repeat's ratio (a host's drift within the run cancels)",
        ),
        ratio("hlmon / sdk", "hlmon_over_sdk", 6.0),
        *(
            (f"  profile: {layer}", pct, "% of the hlmon client's self time (cProfile)")
            for layer, pct in ((res.get("profile_top") or {}).get("layers") or {}).items()
        ),
        *(
            (f"  per frame: {name}", rnd(1e6 / cpu[kind], 3) if cpu.get(kind) else None, what)
            for name, kind, what in (
                ("hlmon feed path, total", "hlmon", "µs per frame (1 / msgs per CPU-s)"),
                ("websockets recv alone", "raw", "µs per frame (1 / msgs per CPU-s)"),
            )
            if res.get("profile_top")
        ),
        *(
            (f"  per frame: {step}", us, "µs in-process (best of 5)")
            for step, us in (
                (res.get("profile_top") or {}).get("hot_path_us_per_frame") or {}
            ).items()
        ),
    ]


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


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
    res = measure(args.repeats, args.frames, args.sdk_frames, not args.no_sdk, args.profile or None)
    print_table("Ingest (median msg/s)", table_rows(res))
    print(json.dumps(res["checks"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
