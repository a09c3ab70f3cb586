"""Recording files (bounded buffer, truncation, corruption) and the record/replay commands."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from hlmon.cli import main
from hlmon.feeds.recorder import FrameRecorder, make_header
from hlmon.replay import RecordingError, load_recording
from tests.replay.conftest import Recorded

HEADER = make_header(network="custom", api_url="http://127.0.0.1:1", address=None, coins=["BTC"])
BOOK = '{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[],[]]}}'


async def test_recorder_buffer_is_bounded_and_counts_drops(tmp_path: Path) -> None:
    """Past max_pending_bytes frames are dropped and counted, never buffered without limit."""
    path = tmp_path / "r.jsonl.gz"
    rec = FrameRecorder(path, HEADER, max_pending_bytes=3 * len(BOOK))
    rec.start()
    for i in range(5):
        rec.write(BOOK.encode(), 1e9 + i)
    assert (rec.frames, rec.dropped) == (3, 2)
    await rec.flush()  # the buffer empties: recording goes on
    rec.write(BOOK.encode(), 1e9 + 9)
    await rec.close()
    await rec.close()  # twice is fine
    loaded = load_recording(path)
    assert len(loaded.frames) == 4 and loaded.trailer is not None
    assert loaded.trailer["dropped"] == 2 and loaded.trailer["frames"] == 4


async def test_close_during_a_flush_loses_no_frame(tmp_path: Path) -> None:
    """``close`` while the periodic flush is writing a batch in its worker thread: the batch
    lands before the trailer, and the trailer's count is what the file holds."""
    import threading

    path = tmp_path / "r.jsonl.gz"
    rec = FrameRecorder(path, HEADER, flush_interval=0.01)
    writing, release = threading.Event(), threading.Event()
    plain = rec._write_batch

    def slow(
        times: list[float], raws: list[bytes], answers: list[bytes], trailer: bytes = b""
    ) -> int:
        if not trailer:  # the periodic flush's batch: hold it in the thread
            writing.set()
            release.wait(5)
        return plain(times, raws, answers, trailer)

    rec._write_batch = slow  # type: ignore[method-assign]
    rec.start()
    for i in range(10):
        rec.write(BOOK.encode(), 1e9 + i)
    # The flush task took the batch and is writing it in its thread.
    assert await asyncio.to_thread(writing.wait, 5)
    rec.write(BOOK.encode(), 1e9 + 10)
    closing = asyncio.create_task(rec.close())
    # close must wait for that batch: it does not finish while the batch is held (had it
    # cancelled the flush under the thread, it would close the file now, and the batch would
    # be lost when the thread goes on).
    done, _ = await asyncio.wait({closing}, timeout=0.3)
    assert not done
    release.set()
    await closing
    loaded = load_recording(path)
    assert loaded.trailer is not None and loaded.trailer["frames"] == 11
    assert len(loaded.frames) == 11


def test_killed_recording_loads_up_to_the_last_flush(recorded: Recorded, tmp_path: Path) -> None:
    """Each flush is a complete gzip member: a file cut short still replays what it holds."""
    data = recorded.path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) - 200])
    loaded = load_recording(cut)
    assert loaded.truncated and 0 < len(loaded.frames) < recorded.frames


async def test_recorder_keeps_the_answers_a_replay_needs_once_each(tmp_path: Path) -> None:
    """/info answers: only the types a replay cannot make up, each written again only when it
    changed; a replay then answers with the one in force at its position."""
    path = tmp_path / "r.jsonl.gz"
    rec = FrameRecorder(path, HEADER)
    rec.start()
    start = HEADER["start"]
    dexes_v1 = b'[null,{"name":"xyz","fullName":"XYZ"}]'
    dexes_v2 = b'[null,\n {"name":"xyz","fullName":"XYZ"},\n {"name":"flx","fullName":"Felix"}]'
    rec.info_answer({"type": "perpDexs"}, dexes_v1, start + 1)
    rec.info_answer({"type": "perpDexs"}, dexes_v1, start + 2)  # unchanged: not kept again
    rec.info_answer({"type": "l2Book", "coin": "BTC"}, b"{}", start + 2)  # the frames have it
    rec.info_answer({"type": "userRole", "user": "0xAB"}, b'{"role":"user"}', start + 3)
    rec.info_answer({"type": "perpDexs"}, dexes_v2, start + 10)  # a new listing
    rec.write(BOOK.encode(), start + 11)
    assert rec.answers == 3
    await rec.close()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 1 + 3 + 1 + 1  # header, answers, the frame, trailer: one line each
    loaded = load_recording(path)
    assert len(loaded.frames) == 1
    v1, v2 = json.loads(dexes_v1), json.loads(dexes_v2)
    assert loaded.answer({"type": "perpDexs"}, 0.0) == (True, v1)  # before the first: the first
    assert loaded.answer({"type": "perpDexs"}, 5.0) == (True, v1)
    assert loaded.answer({"type": "perpDexs"}, 10.0) == (True, v2)
    # The same question asked another way: address case, the default dex spelled out.
    assert loaded.answer({"user": "0xab", "type": "userRole"}, 4.0) == (True, {"role": "user"})
    assert loaded.answer({"type": "userRole", "user": "0xcd"}, 4.0) == (False, None)
    assert loaded.answer({"type": "l2Book", "coin": "BTC"}, 4.0) == (False, None)


def test_a_format_1_recording_still_loads(tmp_path: Path) -> None:
    """Recordings made before the answers were kept: read as before, with no answers."""
    header = {**HEADER, "hlmon_recording": 1}
    path = _gz(tmp_path / "old.jsonl.gz", json.dumps(header) + "\n" + json.dumps(
        {"t": header["start"] + 1, "f": BOOK}) + "\n")  # fmt: skip
    loaded = load_recording(path)
    assert len(loaded.frames) == 1 and loaded.answers == {}
    assert loaded.answer({"type": "perpDexs"}, 1.0) == (False, None)


def _gz(path: Path, text: str) -> Path:
    path.write_bytes(gzip.compress(text.encode()))
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"plain text, not gzip\n", "not a gzip file"),
        (b"", "empty file"),
        ('{"hello": 1}\n', "not an hlmon recording"),
        ('{"hlmon_recording": 99, "start": 1}\n', "format 99 is not supported"),
        (json.dumps(HEADER) + "\nnot json\n", "line 2: not a JSON line"),
        (json.dumps(HEADER) + '\n{"t": "x", "f": 1}\n', "line 2: expected"),
        (json.dumps(HEADER) + '\n{"t": 1, "info": {"type": 5}, "a": 1}\n', "line 2: expected"),
        (json.dumps(HEADER) + '\n{"t": 1, "info": {"type": "meta"}}\n', "line 2: expected"),
    ],
)
def test_bad_files_give_a_clear_error(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "bad.jsonl.gz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        _gz(path, content)
    with pytest.raises(RecordingError, match=message):
        load_recording(path)
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code == 1
    assert "hlmon replay: error:" in result.output and message.split(":")[-1] in result.output
    assert "Traceback" not in result.output


def test_corrupt_replay_file_in_a_real_process(tmp_path: Path) -> None:
    """The installed command: exit 1, one line on stderr, no traceback."""
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    proc = subprocess.run(
        [sys.executable, "-m", "hlmon", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("hlmon replay: error:") and "Traceback" not in proc.stderr


def test_record_options_are_checked_before_anything_starts(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = tmp_path / "nope" / "r.gz"
    for args in (["--record", str(missing), "--demo"], ["record", str(missing), "--demo"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(main, ["record", str(tmp_path / "r.gz"), "--duration", "0"])
    assert result.exit_code == 1 and "--duration" in result.output
    result = runner.invoke(main, ["record", str(tmp_path / "r.gz"), "--demo", "--no-ws"])
    assert result.exit_code == 1 and "--no-ws" in result.output
    result = runner.invoke(main, ["--record", str(tmp_path / "r.gz"), "sim"])
    assert result.exit_code == 1 and "hlmon record FILE" in result.output


async def test_record_and_replay_commands(tmp_path: Path) -> None:
    """`hlmon record --demo --duration` writes a recording that `hlmon replay` serves."""
    path = tmp_path / "demo.jsonl.gz"
    rec_args = ["record", str(path), "--demo", "--duration", "1"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hlmon", *rec_args, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert b"recorded " in err and b"Traceback" not in err
    loaded = load_recording(path)
    assert loaded.header["network"] == "demo" and len(loaded.frames) > 5

    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hlmon",
        *["replay", str(path), "--speed", "10", "--paused"],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        first = (await asyncio.wait_for(server.stdout.readline(), 30)).decode().strip()
        assert first.startswith("listening on http://127.0.0.1:")
        url = first.removeprefix("listening on ")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/_replay/status") as resp:
                status = await resp.json()
            assert status["state"] == "paused" and status["frames"] == len(loaded.frames)
            async with http.post(f"{url}/_replay/resume") as resp:
                assert (await resp.json())["state"] == "playing"
    finally:
        server.terminate()
        assert await asyncio.wait_for(server.wait(), 10) == 0


def test_tui_record_option_reaches_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`hlmon --record FILE` hands run_app Settings with record_path: the engine it builds
    records (the Runtime builds the recorder from settings.record_path)."""
    import hlmon.ui.app

    seen: list[object] = []

    def fake_run_app(settings: object, **_: object) -> int:  # (clipboard=...)
        seen.append(settings)
        return 0

    monkeypatch.setattr(hlmon.ui.app, "run_app", fake_run_app)
    target = tmp_path / "tui.jsonl.gz"
    result = CliRunner().invoke(main, ["--demo", "--record", str(target)])
    assert result.exit_code == 0, result.output
    assert [getattr(s, "record_path", None) for s in seen] == [str(target)]
