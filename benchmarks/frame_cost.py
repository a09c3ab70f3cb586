"""Frame cost: CPU time per frame and per message of the dashboard, replaying a recorded stream
in-process, so two versions of the code can be compared on a busy machine.

Wall-clock figures (``ui_cost``) move with whatever else the machine runs; CPU time spent on a
fixed piece of work moves much less. This benchmark:

1. records ``--seconds`` of a simulator profile (``stress`` by default) with ``hlmon record``
   (the simulator in its own process), or reads ``--recording FILE``;
2. replays it into the real app (``build_app``, headless, 120x40) on a fixed clock: every
   frame is decoded and applied to the store at its recorded time, and frames run as the
   dashboard's ``FrameSchedule`` runs them (the first change after a quiet period at once,
   then at most one full frame per its interval, light frames with the selected coin's trades
   between them, plus the once-a-second age tick); each frame is painted
   at once (the screen's compositor update) and turned into the escape sequences a terminal
   would be sent (``render_segments``, as in a tmux run);
3. reports CPU milliseconds (``time.process_time``) per frame, split into the frame (what
   changed -> rows), the paint (compositor + escape sequences) and the ingest (decode + apply,
   per message), and ``cpu_pct``: all of it over the recording's duration, in % of one core.

No sockets and no terminal during the replay, so it leaves out the event loop's I/O and the
tty write; ``ui_cost`` measures those. Run: ``python -m benchmarks.frame_cost [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from benchmarks.common import REPO, print_table, rnd

if TYPE_CHECKING:
    from hlmon.config.saved import SavedChoices

SIZE = (120, 40)
YIELDS = 4
"""Event-loop turns after a frame before painting: a widget's refresh reaches the screen as a
message (widget -> screen), so a paint right after the frame would miss it."""
ADDRESS_KEYS = ("account", "orders", "fills", "fundings")


class ReplayBackend:
    """A ``Backend`` and ``Controls`` with no feeds: the replay fills the store."""

    def __init__(self, settings: Any, store: Any, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.network = "replay"
        self.address = settings.address

    async def __aenter__(self) -> ReplayBackend:
        self.store.set_user(self.address)
        self.store.set_watch(self.settings.watchlist)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def select_coin(self, coin: str) -> None:
        return None

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        return None

    def add_coin(self, coin: str) -> None:
        return None

    def remove_coin(self, coin: str) -> None:
        return None

    def select_user(self, address: str) -> None:
        return None

    def watch_instead(self, old: str, new: str) -> None:
        return None

    def show_market(self, on: bool) -> None:
        return None

    async def save_settings(self, choices: SavedChoices) -> bool:
        return False  # a benchmark saves nothing


def record(profile: str, seconds: float, out: Path) -> None:
    """``hlmon record`` against the simulator (``profile``) for ``seconds``, into ``out``."""
    from benchmarks.ui_cost import Sim

    sim = Sim(profile)
    try:
        hlmon = str(Path(sys.executable).parent / "hlmon")
        cmd = [hlmon, "record", "--api-url", sim.url, "--address", sim.address,
               "--duration", str(seconds), str(out)]  # fmt: skip
        subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, timeout=seconds + 60)
    finally:
        sim.stop()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ReplayLoop:
    """The part of an event loop ``FrameSchedule`` uses, on recorded time: the dashboard's
    own scheduling decides when frames run, as in the app."""

    class Handle:
        def __init__(self, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
            self.callback, self.args, self.cancelled = callback, args, False

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self, now: float) -> None:
        self.now = now
        self._heap: list[tuple[float, int, ReplayLoop.Handle]] = []
        self._seq = 0

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> Handle:
        handle = self.Handle(callback, args)
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, handle))
        return handle

    def call_soon_threadsafe(self, callback: Callable[..., None], *args: Any) -> Handle:
        return self.call_at(self.now, callback, *args)

    def run_one_due(self, until: float) -> bool:
        """Run the next callback due by ``until`` (time moves to it); False when none is."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        if not heap or heap[0][0] > until:
            return False
        when, _, handle = heapq.heappop(heap)
        self.now = max(self.now, when)
        handle.callback(*handle.args)
        return True


async def replay(path: Path, fps: float = 12.0) -> dict[str, Any]:
    """Replay the recording once; CPU seconds per phase."""
    from hlmon.config import Settings
    from hlmon.protocol.decode import decode
    from hlmon.replay.recording import load_recording
    from hlmon.state import ConnState, Store
    from hlmon.ui.app import build_app

    rec = load_recording(path)
    coins = tuple(rec.header.get("coins") or ("BTC",))
    clock = Clock(rec.start)
    settings = Settings(address=rec.header.get("address"), watchlist=coins, fps=fps)
    store = Store(clock, settings.stale)
    health = store.health
    health.set_connection(ConnState.LIVE, url=rec.header.get("api_url", ""))
    for key in ("mids", *ADDRESS_KEYS, *(f"{k}:{coins[0]}" for k in ("book", "trades", "bbo")),
                *(f"ctx:{c}" for c in coins)):  # fmt: skip
        store.expect(key)  # what the engine subscribes for this watchlist
    app = build_app(ReplayBackend(settings, store, clock))

    def display(screen: Any, update: Any) -> None:  # the tty's share: escape sequences
        if update is not None:
            update.render_segments(app.console)

    app._display = display  # type: ignore[method-assign,assignment]
    ingest = frame = paint = 0.0
    frames = 0
    loop = ReplayLoop(rec.start)
    posted: list[bool] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dash = app.dashboard
        for timer in list(dash._timers):  # older versions: a fixed frame timer (simulated)
            timer.stop()
        painter = getattr(dash, "paint", None)
        if painter is not None:
            from hlmon.ui.frame_schedule import FrameSchedule

            interval = painter.schedule.interval  # the dashboard's own (full frames)
            painter.stop()
            # The follows held back to their pace (positions and header with the prices, the
            # watchlist with the contexts) on recorded time too: on the wall clock a replay
            # running ~20x faster than recorded ran them ~20x less often than the app does.
            painter.monotonic = loop.time
            painter.schedule = FrameSchedule(lambda: posted.append(True), interval, loop)  # type: ignore[arg-type]
            painter.follow(dash.watchlist.selected)
            painter.plan_wake()
        else:

            def tick() -> None:
                posted.append(True)
                loop.call_at(loop.now + 1.0 / fps, tick)

            tick()
        screen = app.screen
        store.take_changes()
        # As the schedule runs them (older versions: every frame full), on one moment of the
        # store as the screen's posted frame runs (``PaintOnChange.run_frame``).
        frame_of = getattr(dash, "_scheduled_frame", dash.refresh_frame)
        run_frame = getattr(getattr(dash, "paint", None), "run_frame", None)

        def scheduled_frame() -> None:
            if run_frame is None:
                frame_of()
            else:
                run_frame(frame_of)

        process_time = time.process_time
        total0 = process_time()
        # The paint is timed wherever it runs: a frame paints when it ends (newer versions,
        # ``frame_repaints``), or the screen's update timer paints after it (older ones).
        painting = 0.0
        screen_update = screen._on_timer_update

        def timed_screen_update() -> None:
            nonlocal painting
            t = process_time()
            screen_update()
            painting += process_time() - t

        screen._on_timer_update = timed_screen_update  # type: ignore[method-assign]

        async def run_frames() -> None:
            nonlocal frame, paint, frames, painting
            while posted:
                posted.pop()
                clock.now = loop.now
                painting = 0.0
                t0 = process_time()
                scheduled_frame()
                t1 = process_time()
                in_frame = painting  # what the frame's end painted
                for _ in range(YIELDS):  # the widgets tell the screen what they refreshed
                    await asyncio.sleep(0)
                screen._on_timer_update()  # paint now, as the screen's update timer would
                t2 = process_time()
                frame += t1 - t0 - in_frame
                paint += in_frame + t2 - t1
                frames += 1

        for item in rec.frames:
            at = rec.start + item.t
            while loop.run_one_due(at):  # frames due before this message, in time order
                await run_frames()
            loop.now = clock.now = at
            t0 = process_time()
            health.note_frames(1, len(item.text), {item.channel: 1})
            health.note_alive()
            store.apply(decode(item.text.encode()))
            ingest += process_time() - t0
            if posted:  # a frame due runs on the first change after its time (``changed``)
                await run_frames()
        while loop.run_one_due(at + 0.5):
            await run_frames()
        total = process_time() - total0
    return {
        "messages": len(rec.frames),
        "seconds": rec.duration,
        "frames": frames,
        "light_frames": getattr(dash, "light_frames", 0),
        "frame_ms": 1000 * frame / max(frames, 1),
        "paint_ms": 1000 * paint / max(frames, 1),
        "ingest_us_per_msg": 1e6 * ingest / max(len(rec.frames), 1),
        "cpu_pct": 100 * total / max(rec.duration, 1e-9),
    }


def measure(
    profile: str = "stress",
    seconds: float = 20.0,
    repeats: int = 5,
    recording: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Record once (unless given), replay ``repeats`` times; medians."""
    tmp: Path | None = None
    if recording is None:
        tmp = Path(tempfile.mkdtemp(prefix="hlbench-frames-")) / f"{profile}.jsonl.gz"
        log(f"  recording {seconds:g} s of the {profile} profile...")
        record(profile, seconds, tmp)
        recording = tmp
    try:
        runs = []
        for i in range(repeats):
            r = asyncio.run(replay(recording))
            runs.append(r)
            log(f"  replay {i + 1}/{repeats}: frame {r['frame_ms']:.2f} ms, paint "
                f"{r['paint_ms']:.2f} ms, ingest {r['ingest_us_per_msg']:.1f} us/msg, "
                f"cpu {r['cpu_pct']:.2f}%")  # fmt: skip
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
            tmp.parent.rmdir()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    return {
        "profile": profile if tmp is not None else str(recording),
        "messages": runs[0]["messages"],
        "seconds": rnd(runs[0]["seconds"]),
        "frames": runs[0]["frames"],
        "light_frames": runs[0]["light_frames"],
        "frame_ms": rnd(med("frame_ms"), 3),
        "paint_ms": rnd(med("paint_ms"), 3),
        "ingest_us_per_msg": rnd(med("ingest_us_per_msg"), 2),
        "cpu_pct": rnd(med("cpu_pct"), 2),
        "repeats": repeats,
        "runs_cpu_pct": [rnd(r["cpu_pct"], 2) for r in runs],
    }


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    what = (f"{res['messages']} msgs, {res['frames']} frames ({res['light_frames']} light) "
            f"in {res['seconds']} s")  # fmt: skip
    return [
        ("frame", res["frame_ms"], "CPU ms per frame (changes -> rows)"),
        ("paint", res["paint_ms"], "CPU ms per frame (compositor + escape sequences)"),
        ("ingest", res["ingest_us_per_msg"], "CPU us per message (decode + apply)"),
        ("replay cpu", res["cpu_pct"], f"% of one core ({res['profile']}: {what})"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="stress")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--recording", type=Path, help="replay this file instead of recording")
    parser.add_argument("--keep", type=Path, help="record to this file and keep it")
    args = parser.parse_args()
    recording = args.recording
    if args.keep is not None:
        record(args.profile, args.seconds, args.keep)
        recording = args.keep
    res = measure(args.profile, args.seconds, args.repeats, recording)
    print_table("Frame cost (median of the replays)", table_rows(res))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
