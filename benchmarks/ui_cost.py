"""UI cost: CPU, frames per second and latency of the real app under simulator load.

Processes (2 cores): the simulator (``python -m benchmarks.ui_cost sim``: ``hlmon.sim``'s
``SimServer`` with the ``standard`` or ``stress`` profile, pinned to CPU 0) records the
``time.monotonic()`` at which it pushes every BTC trade; the app (``python -m benchmarks.ui_cost
app``, pinned to CPU 1) is hlmon's real app, built by ``hlmon.ui.app.build_app`` on a real
``Runtime`` (feed engine included) exactly as ``run_app`` builds it, on the event loop the
command would choose (``hlmon.event_loop``: uvloop, or asyncio's with ``HLMON_EVENT_LOOP=asyncio``
in the benchmark's environment), watching the simulator's demo account, at 120x40. It runs in
one of two modes:

- ``headless``: ``App.run_async(headless=True)``; Textual renders every widget and composes
  each update but writes nothing to a terminal.
- ``tmux``: the app in a detached ``tmux`` session of 120x40, so the cost of turning each update
  into escape sequences and writing them to the tty is counted; keys are sent with
  ``tmux send-keys`` (a real keystroke path).

Measured over a fixed window after a warm-up, inside the app process:

- CPU percent of one core: utime+stime from ``/proc/self/stat`` over the window;
- frames per second: screen updates, counted by wrapping ``App._display`` (Textual calls it
  with each compositor update; private API, there is no public paint hook), and bytes written
  to the tty (``wchar`` from ``/proc/self/io``);
- latency from the simulator's send of a trade to the paint that first shows it on the trade
  tape: after each screen update the benchmark reads the tape's rendered lines (public
  ``Widget.render_lines``) and matches (price, size) to the simulator's record (both clocks
  are ``CLOCK_MONOTONIC``). Trades pushed off the tape before any paint are not counted;
- key-press-to-screen latency: ``down``/``up`` pressed after the window, under the same load,
  until the paint whose watchlist marker ``▶`` sits on the new coin.

Run alone: ``python -m benchmarks.ui_cost [--seconds 20] [--repeats 3] [--modes headless,tmux]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO,
    Tmux,
    cpu_seconds,
    median,
    percentile,
    pinned_to,
    print_table,
    rnd,
    stop_process,
    wait_until,
)

SIM_CPU, APP_CPU = 0, 1
SIZE = (120, 40)
COIN = "BTC"
TRADE_ROW = re.compile(r"\d\d:\d\d:\d\d\s+(\d[\d,]*(?:\.\d+)?)\s+(\d[\d,]*(?:\.\d+)?)")
SELECTED_ROW = re.compile(r"▶\s*(\S+)")


def trade_key(px: str, sz: str) -> tuple[Decimal, Decimal] | None:
    try:
        return Decimal(px.replace(",", "")), Decimal(sz.replace(",", ""))
    except InvalidOperation:
        return None


def _write(path: Path, text: str) -> None:
    path.write_text(text)


async def _poll(predicate: Any, interval: float, give_up_after: float | None = None) -> None:
    """Sleep in steps of ``interval`` until ``predicate()`` is true (or time is up)."""
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    while True:
        if predicate() or (deadline is not None and time.monotonic() > deadline):
            return
        await asyncio.sleep(interval)


# ------------------------------------------------------------------ simulator (child process)


async def _serve_sim(profile: str, out: Path) -> None:
    from hlmon.sim import SimServer

    sim = SimServer(seed=11, profile=profile)
    spec = sim.market.coin(COIN)
    assert spec is not None
    index = spec.spec.index
    sent: list[tuple[str, str, float]] = []
    publish = sim.hub.publish

    def recording_publish(step: Any) -> None:
        publish(step)  # queues the frames; each connection's writer sends them right after
        batch = step.trades.get(index)
        if batch:
            now = time.monotonic()
            sent.extend((t["px"], t["sz"], now) for t in batch)

    sim.hub.publish = recording_publish  # type: ignore[method-assign]
    await sim.start("127.0.0.1", 0)
    print(json.dumps({"url": sim.url, "address": sim.demo_address}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()
    _write(out, json.dumps(sent))


class Sim:
    """The recording simulator in its own process."""

    def __init__(self, profile: str) -> None:
        self.record = Path(tempfile.mkstemp(prefix="hlbench-sim-", suffix=".json")[1])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.ui_cost", "sim", profile, str(self.record)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinned_to(SIM_CPU),
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.url: str = info["url"]
        self.address: str = info["address"]

    def stop(self) -> list[tuple[str, str, float]]:
        """Stop the simulator; returns every BTC trade it sent as (px, sz, monotonic time)."""
        stop_process(self.proc, timeout=10)
        try:
            rows = json.loads(self.record.read_text() or "[]")
            return [(str(px), str(sz), float(t)) for px, sz, t in rows]
        finally:
            self.record.unlink(missing_ok=True)


# ------------------------------------------------------------------ app (child process)


class PaintObserver:
    """Counts screen updates and reads the tape and watchlist after each one."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paints = 0
        self.measuring = False
        self.cpu = 0.0
        """This observer's own CPU seconds while measuring (not hlmon's: subtracted)."""
        self.seen: dict[tuple[Decimal, Decimal], float] = {}
        self.selections: list[tuple[str, float]] = []
        self._selected: str | None = None
        self._tape: Any = None
        self._watchlist: Any = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                t0 = time.thread_time()
                self.on_paint(time.monotonic())
                if self.measuring:
                    self.cpu += time.thread_time() - t0

        app._display = display

    def _find(self, title: str) -> Any:
        from textual.widget import Widget

        for widget in self.app.screen.query(Widget):
            visible = widget.display and widget.outer_size.area > 0
            if visible and str(widget.border_title or "").startswith(title):
                return widget
        return None

    @staticmethod
    def _text(widget: Any) -> list[str]:
        from textual.geometry import Region

        width, height = widget.outer_size
        return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]

    def on_paint(self, now: float) -> None:
        self.paints += 1
        if self._tape is None:
            self._tape = self._find("Trades")
            self._watchlist = self._find("Watchlist")
            if self._tape is None or self._watchlist is None:
                return
        if self.measuring:
            for line in self._text(self._tape):
                m = TRADE_ROW.search(line)
                key = trade_key(*m.groups()) if m else None
                if key is not None and key not in self.seen:
                    self.seen[key] = now
        for line in self._text(self._watchlist):
            m = SELECTED_ROW.search(line)
            if m:
                if m.group(1) != self._selected:
                    self._selected = m.group(1)
                    self.selections.append((self._selected, now))
                break

    def tape_rows(self) -> int:
        if self._tape is None:
            return 0
        return sum(1 for line in self._text(self._tape) if TRADE_ROW.search(line))


def _record_receive_times(store: Any) -> dict[tuple[Decimal, Decimal], float]:
    """When each COIN trade reached the store (the feed binds ``store.apply`` when it starts,
    so this wraps it before): send -> received -> painted splits the latency."""
    from hlmon.protocol.messages import TradesMsg

    received: dict[tuple[Decimal, Decimal], float] = {}
    apply = store.apply

    def recording_apply(msg: Any, *args: Any) -> None:
        if type(msg) is TradesMsg:
            now = time.monotonic()
            for t in msg.data:
                key = trade_key(t.px, t.sz) if t.coin == COIN else None
                if key is not None:
                    received.setdefault(key, now)
        apply(msg, *args)

    store.apply = recording_apply
    return received


def _settings(url: str, address: str) -> Any:
    from hlmon.config import load_settings

    empty = Path(tempfile.mkdtemp(prefix="hlbench-cfg-"))
    overrides: dict[str, Any] = {"api_url": url, "address": address}
    if os.environ.get("UI_BENCH_FPS"):  # to weigh frame rate against CPU and latency
        overrides["fps"] = float(os.environ["UI_BENCH_FPS"])
    # $HLMON_EVENT_LOOP as the command reads it (auto: uvloop when installed), nothing else.
    env = {"HLMON_EVENT_LOOP": os.environ.get("HLMON_EVENT_LOOP", "")}
    return load_settings(overrides=overrides, env=env, cwd=empty, user_dir=empty)


def _proc_io_wchar() -> int:
    with open("/proc/self/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


async def _run_app(args: argparse.Namespace, settings: Any) -> None:
    from hlmon.runtime.root import Runtime
    from hlmon.ui.app import build_app

    runtime = Runtime(settings)
    store = runtime.store
    received = _record_receive_times(store)
    app = build_app(runtime)
    observer = PaintObserver(app)
    result: dict[str, Any] = {}

    async def harness() -> None:
        try:
            await _poll(lambda: observer.tape_rows() > 0, 0.05, give_up_after=30)
            await asyncio.sleep(args.warmup)
            observer.measuring = True
            paints0, wchar0 = observer.paints, _proc_io_wchar()
            msgs0 = store.health.frames_total
            cpu0, t0 = cpu_seconds(os.getpid()), time.monotonic()
            await asyncio.sleep(args.seconds)
            cpu1, t1 = cpu_seconds(os.getpid()), time.monotonic()
            observer.measuring = False
            span = t1 - t0
            paints, msgs = observer.paints - paints0, store.health.frames_total - msgs0
            hlmon_cpu = cpu1 - cpu0 - observer.cpu  # the benchmark's own reading left out
            result.update(
                start=t0,
                end=t1,
                cpu_pct=100 * hlmon_cpu / span,
                observer_cpu_pct=100 * observer.cpu / span,
                cpu_ms_per_frame=1000 * hlmon_cpu / max(paints, 1),
                cpu_us_per_msg=1e6 * hlmon_cpu / max(msgs, 1),
                fps=paints / span,
                tty_kb_per_s=(_proc_io_wchar() - wchar0) / span / 1000,
                seen=[[str(k[0]), str(k[1]), t] for k, t in observer.seen.items()],
                received=[[str(k[0]), str(k[1]), t] for k, t in received.items()],
                msgs_per_s=msgs / span,
            )
            keys: list[tuple[str, float]] = []
            for i in range(args.keys):  # headless: no terminal, so keys are simulated
                keys.append(("down" if i % 2 == 0 else "up", time.monotonic()))
                app.simulate_key(keys[-1][0])
                await asyncio.sleep(args.key_gap)
            if args.wait_file:  # tmux: the parent presses real keys, then creates this file
                _write(Path(args.out + ".window"), "")
                await _poll(Path(args.wait_file).exists, 0.1)
            result.update(keys=keys, selections=observer.selections)
        except Exception as exc:
            result["error"] = repr(exc)
        finally:
            _write(Path(args.out), json.dumps(result))
            app.exit()

    async def start_harness() -> None:
        await _poll(lambda: app.is_running, 0.01)
        await harness()

    task = asyncio.create_task(start_harness())
    await app.run_async(headless=args.headless, size=SIZE if args.headless else None)
    await asyncio.gather(task, return_exceptions=True)


# ------------------------------------------------------------------ orchestration


def _receive_latencies(app: dict[str, Any]) -> list[float]:
    """ms from the store receiving a trade to the first paint showing it (hlmon's own share)."""
    received = {trade_key(px, sz): t for px, sz, t in app.get("received", [])}
    out = []
    for px, sz, t_seen in app["seen"]:
        t_recv = received.get(trade_key(px, sz))
        if t_recv is not None and t_recv >= app["start"] and t_seen >= t_recv:
            out.append(1000 * (t_seen - t_recv))
    return out


def _latencies(sent: list[tuple[str, str, float]], app: dict[str, Any]) -> list[float]:
    """ms from send to first paint for trades sent in the window and seen on the tape."""
    first: dict[tuple[Decimal, Decimal], float] = {}
    dupes: set[tuple[Decimal, Decimal]] = set()
    for px, sz, t in sent:
        key = trade_key(px, sz)
        if key is None:
            continue
        if key in first:
            dupes.add(key)
        else:
            first[key] = t
    out = []
    for px, sz, t_seen in app["seen"]:
        key = trade_key(px, sz)
        if key is None or key in dupes or key not in first:
            continue
        t_sent = first[key]
        if t_sent >= app["start"] and t_seen >= t_sent:
            out.append(1000 * (t_seen - t_sent))
    return out


def _key_latencies(app: dict[str, Any], coins: tuple[str, ...]) -> list[float]:
    """ms from each key press to the first paint with the selection on the expected coin."""
    out = []
    selected = COIN
    for key, t_key in app.get("keys", []):
        i = coins.index(selected)
        selected = coins[min(i + 1, len(coins) - 1)] if key == "down" else coins[max(i - 1, 0)]
        hit = next((t for coin, t in app["selections"] if coin == selected and t >= t_key), None)
        if hit is not None:
            out.append(1000 * (hit - t_key))
    return out


def _app_cmd(sim: Sim, out: Path, args: argparse.Namespace, headless: bool) -> list[str]:
    cmd = [
        sys.executable, "-m", "benchmarks.ui_cost", "app", sim.url, sim.address, str(out),
        "--seconds", str(args.seconds), "--warmup", str(args.warmup),
    ]  # fmt: skip
    if headless:
        cmd += ["--headless", "--keys", str(args.keys)]
    else:
        cmd += ["--keys", "0", "--wait-file", str(out) + ".keys-done"]
    return cmd


def one_run(profile: str, mode: str, args: argparse.Namespace, index: int) -> dict[str, Any]:
    from hlmon.config import DEFAULT_WATCHLIST

    sim = Sim(profile)
    out = Path(tempfile.mkstemp(prefix="hlbench-ui-", suffix=".json")[1])
    out.unlink()
    cmd = _app_cmd(sim, out, args, headless=(mode == "headless"))
    timeout = args.warmup + args.seconds + 60
    keys: list[tuple[str, float]] = []
    try:
        if mode == "headless":
            subprocess.run(
                cmd, cwd=REPO, timeout=timeout, preexec_fn=pinned_to(APP_CPU), check=False,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        else:
            tmux = Tmux(f"ui{index}", *SIZE)
            try:
                cpu = f"taskset -c {APP_CPU} " if (os.cpu_count() or 1) > 1 else ""
                tmux.start(cpu + " ".join(cmd), env={"TERM": "xterm-256color"})
                window_done = Path(str(out) + ".window")
                wait_until(lambda: window_done.exists() or out.exists(), timeout)
                for i in range(args.keys):
                    key = "Down" if i % 2 == 0 else "Up"
                    keys.append((key.lower(), time.monotonic()))
                    tmux.send_keys(key)
                    time.sleep(args.key_gap)
                Path(str(out) + ".keys-done").touch()
                wait_until(out.exists, timeout)
                wait_until(tmux.pane_dead, 10)
            finally:
                tmux.close()
                for suffix in (".keys-done", ".window"):
                    Path(str(out) + suffix).unlink(missing_ok=True)
    finally:
        sent = sim.stop()
    if not out.exists():
        raise RuntimeError(f"ui_cost app ({mode}, {profile}) wrote no result")
    app = json.loads(out.read_text())
    out.unlink()
    if "error" in app:
        raise RuntimeError(f"ui_cost app ({mode}, {profile}): {app['error']}")
    if mode == "tmux":
        app["keys"] = keys
    lat = _latencies(sent, app)
    key_lat = _key_latencies(app, tuple(DEFAULT_WATCHLIST))
    return {
        "cpu_pct": app["cpu_pct"],
        "observer_cpu_pct": app["observer_cpu_pct"],
        "cpu_ms_per_frame": app["cpu_ms_per_frame"],
        "cpu_us_per_msg": app["cpu_us_per_msg"],
        "recv_latencies_ms": _receive_latencies(app),
        "fps": app["fps"],
        "tty_kb_per_s": app["tty_kb_per_s"],
        "msgs_per_s": app["msgs_per_s"],
        "latencies_ms": lat,
        "trades_sent": sum(1 for _, _, t in sent if app["start"] <= t <= app["end"]),
        "key_latencies_ms": key_lat,
        "keys_pressed": len(app.get("keys", [])),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    lat = [x for r in runs for x in r["latencies_ms"]]
    recv = [x for r in runs for x in r["recv_latencies_ms"]]
    keys = [x for r in runs for x in r["key_latencies_ms"]]
    return {
        "cpu_pct": rnd(median(r["cpu_pct"] for r in runs)),
        "observer_cpu_pct": rnd(median(r["observer_cpu_pct"] for r in runs), 2),
        "cpu_ms_per_frame": rnd(median(r["cpu_ms_per_frame"] for r in runs), 2),
        "cpu_us_per_msg": rnd(median(r["cpu_us_per_msg"] for r in runs)),
        "fps": rnd(median(r["fps"] for r in runs)),
        "tty_kb_per_s": rnd(median(r["tty_kb_per_s"] for r in runs)),
        "feed_msgs_per_s": rnd(median(r["msgs_per_s"] for r in runs)),
        "latency_ms_p50": rnd(percentile(lat, 50)),
        "latency_ms_p99": rnd(percentile(lat, 99)),
        "latency_ms_max": rnd(max(lat) if lat else None),
        "latency_samples": len(lat),
        "recv_latency_ms_p50": rnd(percentile(recv, 50)),
        "recv_latency_ms_p99": rnd(percentile(recv, 99)),
        "trades_sent_in_window": sum(r["trades_sent"] for r in runs),
        "key_latency_ms_p50": rnd(percentile(keys, 50)),
        "key_latency_ms_p99": rnd(percentile(keys, 99)),
        "key_latency_ms_max": rnd(max(keys) if keys else None),
        "key_samples": len(keys),
        "keys_pressed": sum(r["keys_pressed"] for r in runs),
        "runs_cpu_pct": [rnd(r["cpu_pct"]) for r in runs],
    }


def measure(
    seconds: float = 15,
    repeats: int = 3,
    modes: tuple[str, ...] = ("headless", "tmux"),
    profiles: tuple[str, ...] = ("standard", "stress"),
    log: Any = print,
) -> dict[str, Any]:
    """Returns the ``ui`` JSON section: ``ui[profile]`` is the tmux figure when tmux ran
    (terminal output counted), ``ui[profile + "_headless"]`` the headless one."""
    args = argparse.Namespace(seconds=seconds, warmup=3.0, keys=20, key_gap=0.4)
    res: dict[str, Any] = {
        "seconds": seconds,
        "warmup_s": args.warmup,
        "repeats": repeats,
        "size": f"{SIZE[0]}x{SIZE[1]}",
    }
    for profile in profiles:
        for mode in modes:
            runs = []
            for i in range(repeats):
                r = one_run(profile, mode, args, i)
                runs.append(r)
                log(
                    f"  ui {profile:<8} {mode:<8} run {i + 1}/{repeats}: cpu {r['cpu_pct']:.1f}% "
                    f"fps {r['fps']:.1f} latency samples {len(r['latencies_ms'])}"
                )
            name = profile if mode == "tmux" or "tmux" not in modes else f"{profile}_headless"
            res[name] = {"mode": mode, "label": f"{profile} {mode}", **summarize(runs)}
    return res


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    rows: list[tuple[str, Any, str]] = []
    for r in res.values():
        # Only the per-profile runs carry a label (the section also holds its machine line).
        if not isinstance(r, dict) or "label" not in r:
            continue
        tag = r["label"]
        rows += [
            (
                f"{tag} cpu",
                r["cpu_pct"],
                f"% of one core ({r['cpu_ms_per_frame']} ms/frame, {r['cpu_us_per_msg']} us/msg;"
                f" the benchmark's own reading, {r['observer_cpu_pct']}%, left out)",
            ),
            (f"{tag} fps", r["fps"], f"screen updates/s; tty {r['tty_kb_per_s']} kB/s"),
            (
                f"{tag} latency p50",
                r["latency_ms_p50"],
                f"ms send->painted (p99 {r['latency_ms_p99']}, max {r['latency_ms_max']}, "
                f"n={r['latency_samples']}; received->painted p50 {r['recv_latency_ms_p50']}, "
                f"p99 {r['recv_latency_ms_p99']})",
            ),
            (
                f"{tag} key p50",
                r["key_latency_ms_p50"],
                f"ms key->painted (p99 {r['key_latency_ms_p99']}, max {r['key_latency_ms_max']}, "
                f"n={r['key_samples']}/{r['keys_pressed']})",
            ),
        ]
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "sim":
        asyncio.run(_serve_sim(sys.argv[2], Path(sys.argv[3])))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "app":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("url")
        p.add_argument("address")
        p.add_argument("out")
        p.add_argument("--seconds", type=float, default=20)
        p.add_argument("--warmup", type=float, default=3)
        p.add_argument("--headless", action="store_true")
        p.add_argument("--keys", type=int, default=0)
        p.add_argument("--key-gap", type=float, default=0.4)
        p.add_argument("--wait-file")
        # As the ``hlmon`` command starts the TUI: the collector paused until the first paint,
        # then what exists frozen (``hlmon.gc_pause``; the app resumes it); the loop its
        # settings choose (``hlmon.event_loop``: uvloop unless $HLMON_EVENT_LOOP says asyncio).
        from hlmon import event_loop, gc_pause

        gc_pause.pause()
        args = p.parse_args()
        settings = _settings(args.url, args.address)
        event_loop.run(_run_app(args, settings), settings.event_loop)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="headless,tmux")
    parser.add_argument("--profiles", default="standard,stress")
    a = parser.parse_args()
    res = measure(a.seconds, a.repeats, tuple(a.modes.split(",")), tuple(a.profiles.split(",")))
    print_table("UI cost (median CPU/fps; latency percentiles over all runs)", table_rows(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
