"""Frame instructions: machine instructions the dashboard spends on a recorded stream, counted
by valgrind, so two versions of the code can be compared to a tenth of a percent on any host.

CPU time moves with the machine: on a small shared VM two runs of the same code differ by
10 % and more (``frame_cost``, ``ui_cost``), more than most single changes save. An instruction
count does not: this replays a recording (``frame_cost.replay``) under ``valgrind --tool=
callgrind`` and counts only inside the work the replay times (each frame, each paint, each
message's decode and apply), in a second replay after a first one warmed the caches. What
Textual's timers do meanwhile (they run on the wall clock, which valgrind slows ~50x) is not
counted, so the count repeats: two runs of one version differed by 0.04 % (an EPYC VM).

Instructions are not time (a cache miss costs more than an add), but for Python code the two
move together; use it to compare versions, and ``ui_cost`` for the figure a user sees.

Needs valgrind (Debian's package, with ``valgrind/callgrind.h``) and a C compiler: the
collection is switched on and off by a ten-line extension built in a temporary folder.
Not part of ``make bench`` (one run takes ~3 minutes). Run:
``python -m benchmarks.frame_instructions [--recording FILE] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, machine_info, print_table

CALLGRIND_H = Path("/usr/include/valgrind/callgrind.h")
TOGGLE_C = """\
#include <Python.h>
#include <valgrind/callgrind.h>
static PyObject *toggle(PyObject *self, PyObject *args) {
    CALLGRIND_TOGGLE_COLLECT;
    Py_RETURN_NONE;
}
static PyMethodDef methods[] = {{"toggle", toggle, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cg_toggle", NULL, -1, methods};
PyMODINIT_FUNC PyInit_cg_toggle(void) { return PyModule_Create(&module); }
"""
"""Outside valgrind the client request is a no-op: the child runs the same either way."""


def build_toggle(folder: Path) -> None:
    """Compile the ``cg_toggle`` extension into ``folder``."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    source = folder / "cg_toggle.c"
    source.write_text(TOGGLE_C)
    include = sysconfig.get_paths()["include"]
    cmd = ["gcc", "-O2", "-shared", "-fPIC", f"-I{include}", str(source), "-o",
           str(folder / f"cg_toggle{suffix}")]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def counted(run: Callable[..., Any], toggle: Callable[[], None], on: list[bool]) -> Any:
    """``run``, with collection switched on around it while ``on[0]`` (not nested)."""
    depth = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not on[0]:
            return run(*args, **kwargs)
        depth[0] += 1
        if depth[0] == 1:
            toggle()
        try:
            return run(*args, **kwargs)
        finally:
            if depth[0] == 1:
                toggle()
            depth[0] -= 1

    return wrapper


def child(recording: Path, toggle_dir: Path) -> None:
    """Under valgrind: replay twice, counting the frames, paints and ingest of the second."""
    import importlib

    sys.path.insert(0, str(toggle_dir))
    cg_toggle = importlib.import_module("cg_toggle")
    from textual.screen import Screen

    from benchmarks import frame_cost
    from hlmon.state import Store
    from hlmon.ui.screens.dashboard import Dashboard

    decode_module = sys.modules["hlmon.protocol.decode"]  # the package re-exports the function
    on = [False]
    toggle = cg_toggle.toggle
    Dashboard._scheduled_frame = counted(Dashboard._scheduled_frame, toggle, on)  # type: ignore[method-assign]
    Screen._on_timer_update = counted(Screen._on_timer_update, toggle, on)  # type: ignore[method-assign]
    Store.apply = counted(Store.apply, toggle, on)  # type: ignore[method-assign]
    decode_module.decode = counted(decode_module.decode, toggle, on)  # type: ignore[attr-defined]
    asyncio.run(frame_cost.replay(recording))  # warm-up: first-use caches, deferred imports
    on[0] = True
    res = asyncio.run(frame_cost.replay(recording))
    print(json.dumps({"frames": res["frames"], "light_frames": res["light_frames"],
                      "messages": res["messages"]}))  # fmt: skip


def measure(recording: Path) -> dict[str, Any]:
    """Instructions of one warm replay of ``recording``, with its frame counts."""
    valgrind = shutil.which("valgrind")
    if valgrind is None or not CALLGRIND_H.exists():
        raise SystemExit("needs valgrind and valgrind/callgrind.h (Debian: apt install valgrind)")
    with tempfile.TemporaryDirectory(prefix="hlbench-cg-") as tmp:
        folder = Path(tmp)
        build_toggle(folder)
        cmd = [valgrind, "--tool=callgrind", "--collect-atstart=no",
               f"--callgrind-out-file={folder / 'callgrind.out'}", sys.executable, "-m",
               "benchmarks.frame_instructions", "--child", str(recording), str(folder)]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # set orders: the same work each run
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"the replay under valgrind failed:\n{proc.stderr[-2000:]}")
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    instructions = int(found.group(1))
    return {
        "recording": str(recording),
        "instructions": instructions,
        "per_frame": round(instructions / max(counts["frames"], 1)),
        **counts,
        "machine": machine_info(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, help="replay this file (else record one)")
    parser.add_argument("--profile", default="stress")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, help="write the JSON result here too")
    parser.add_argument("--child", nargs=2, metavar=("RECORDING", "TOGGLE_DIR"), help="internal")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return 0
    from benchmarks.frame_cost import record

    with tempfile.TemporaryDirectory(prefix="hlbench-cg-rec-") as tmp:
        recording = args.recording
        if recording is None:
            recording = Path(tmp) / f"{args.profile}.jsonl.gz"
            record(args.profile, args.seconds, recording)
        res = measure(recording)
    print_table(
        "Frame instructions (callgrind, one warm replay)",
        [
            ("instructions", res["instructions"], "frames + paints + ingest"),
            (
                "per frame",
                res["per_frame"],
                f"{res['frames']} frames ({res['light_frames']} light)",
            ),
        ],
    )
    text = json.dumps(res)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
