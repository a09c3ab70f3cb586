"""Shared helpers for the benchmarks: /proc readers (CPU, RSS), medians, machine facts, tables.

Only the standard library: ``benchmarks/sdk_client.py`` runs in another venv and the UI
benchmark reads other processes, so nothing here imports hlmon or psutil.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_PR_SET_PDEATHSIG = 1


# ------------------------------------------------------------------ /proc readers


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (threads included), from ``/proc/PID/stat``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        stat = f.read()
    # The command name (field 2) may contain spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (10^6 bytes), from ``/proc/PID/statm``."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * PAGE_SIZE / 1e6


SMAPS_FIELDS = ("Rss", "Pss_Anon", "Pss_File", "Private_Dirty", "Anonymous")


def smaps_rollup_mb(pid: int) -> dict[str, float]:
    """Where the resident memory is (``/proc/PID/smaps_rollup``, in MB): anonymous (heap,
    arenas) or file-backed (code, shared libraries); {} where the file does not exist."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in SMAPS_FIELDS:
            out[key] = round(int(rest.split()[0]) * 1024 / 1e6, 2)  # the file says kB
    return out


def thread_count(pid: int) -> int:
    """Threads of ``pid`` now (each may own a glibc malloc arena)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


class CpuMeter:
    """CPU percent of one core used by a process between ``start()`` and ``stop()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu0 = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        self._cpu0 = cpu_seconds(self.pid)
        self._t0 = time.monotonic()

    def stop(self) -> float:
        """Percent of one core since ``start()``."""
        cpu = cpu_seconds(self.pid) - self._cpu0
        return 100.0 * cpu / max(time.monotonic() - self._t0, 1e-9)


# ------------------------------------------------------------------ processes


def pinned_to(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child to one CPU (None: no pinning, or only one CPU) and
    has it die with the bench (``die_with_parent``)."""
    if cpu is None or (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return die_with_parent
    pinned = cpu

    def setup() -> None:
        os.sched_setaffinity(0, {pinned})
        die_with_parent()

    return setup


def _find_prctl() -> Callable[..., int] | None:
    # Looked up here, in the parent: a forked child may not safely dlopen before its exec.
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _find_prctl()


def die_with_parent() -> None:
    """A ``preexec_fn``: on Linux the child gets SIGTERM when the bench that started it exits
    (``PR_SET_PDEATHSIG``), elsewhere nothing. A bench interrupted by a timeout once left its
    simulator flooding loopback for most of an hour, skewing every measurement made after."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def run_pinned_client(cmd: Sequence[str], cpu: int | None, what: str) -> dict[str, Any]:
    """Run a benchmark client ``cmd`` from the repo root pinned to ``cpu`` and return the JSON
    object it prints on its last stdout line; ``RuntimeError`` (naming ``what``, with the tail
    of its stderr) when it exits non-zero."""
    out = subprocess.run(
        list(cmd),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=pinned_to(cpu),
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{what} client failed ({out.returncode}): {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Terminate a child we started, then kill it if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


# ------------------------------------------------------------------ statistics


def median(values: Iterable[float | None]) -> float | None:
    """Median of the non-None values, or None if there are none."""
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of ``(seconds, value)`` samples, per minute."""
    if len(samples) < 2:
        return None
    xs = [t for t, _ in samples]
    ys = [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def rnd(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------ tracemalloc


def short_path(path: str) -> str:
    """A path from the repository, site-packages or the standard library, not the machine's."""
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", path)


def heap_snapshot() -> tracemalloc.Snapshot | None:
    """A snapshot of the traced heap without tracemalloc's own allocations (None: not tracing)."""
    if not tracemalloc.is_tracing():
        return None
    return tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__),)
    )


def growth_sites(
    before: tracemalloc.Snapshot | None, after: tracemalloc.Snapshot | None, top: int = 10
) -> list[dict[str, Any]]:
    """The allocation sites (by traceback) that grew most from ``before`` to ``after``."""
    if before is None or after is None:
        return []
    out = []
    for st in [st for st in after.compare_to(before, "traceback") if st.size_diff > 0][:top]:
        # Oldest frame first in a tracemalloc traceback: the allocation itself is last.
        frames = [f"{short_path(f.filename)}:{f.lineno}" for f in reversed(st.traceback)]
        out.append(
            {
                "kb": round(st.size_diff / 1e3, 1),
                "blocks": st.count_diff,
                "site": frames[0] if frames else "?",
                "traceback": frames,
            }
        )
    return out


# ------------------------------------------------------------------ machine facts


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Cores, CPU, OS, Python and the versions of the libraries on the measured paths."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "versions": {
            name: _version(name)
            for name in ("hlmon", "textual", "rich", "websockets", "msgspec", "aiohttp")
        },
    }


# ------------------------------------------------------------------ output


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, rows: Sequence[tuple[str, Any, str]]) -> None:
    """Print ``(name, value, note)`` rows under a title."""
    print(f"\n{title}")
    width = max((len(name) for name, _, _ in rows), default=10) + 2
    print("-" * (width + 14 + 40))
    for name, value, note in rows:
        print(f"{name:<{width}}{fmt(value):>14}  {note}")


# ------------------------------------------------------------------ tmux


class Tmux:
    """One program in a detached tmux session on a private tmux server (``-L``).

    The private socket keeps the benchmark away from anyone else's tmux sessions; ``close``
    kills only that server.
    """

    def __init__(self, name: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"hlbench-{os.getpid()}-{name}"
        self.session = name
        self.width, self.height = width, height

    def _tmux(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def start(self, command: str, env: dict[str, str] | None = None) -> int:
        """Run ``command`` (exec'd, so the pane's pid is the program's); returns that pid."""
        env_args = [arg for k, v in (env or {}).items() for arg in ("-e", f"{k}={v}")]
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.session,
            "-x", str(self.width), "-y", str(self.height), *env_args,
            f"cd {REPO} && exec {command}",
        )  # fmt: skip
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")
        return int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}"))

    def capture(self) -> str:
        """The visible screen as text."""
        return self._tmux("capture-pane", "-p", "-t", self.session, check=False)

    def send_keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys, check=False)

    def pane_dead(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.session, "#{pane_dead}",
                          check=False).strip() in ("1", "")  # fmt: skip

    def close(self) -> None:
        self._tmux("kill-server", check=False)
        # tmux leaves its socket file behind; it is ours, remove it.
        tmpdir = os.environ.get("TMUX_TMPDIR", "/tmp")
        Path(tmpdir, f"tmux-{os.getuid()}", self.socket).unlink(missing_ok=True)
