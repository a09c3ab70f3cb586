"""Keeps the ingest benchmark harness from rotting: a tiny stream through every local client.

Not a timed assertion: it only checks that each client receives the whole stream and that
hlmon's feed path applies it without rejecting a frame. The SDK client is not run here (it
needs its own venv, built by ``make bench``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import ingest
from benchmarks.blast_server import start, subscriptions
from hlmon.feeds.recorder import FrameRecorder, make_header

FRAMES = 600


@pytest.fixture
async def blast():
    srv, corpus = await start(0, seconds=10)
    port = srv.sockets[0].getsockname()[1]
    yield f"ws://127.0.0.1:{port}/{FRAMES}/ws", corpus
    srv.close()
    await srv.wait_closed()


@pytest.mark.parametrize("kind", ["raw", "json", "decode"])
async def test_websockets_loops_receive_the_whole_stream(blast, kind):
    url, corpus = blast
    result = await ingest._raw_client(kind, url, corpus.address, FRAMES)
    acks = len(subscriptions(corpus.address))
    assert result["received"] == FRAMES + acks
    assert result["seconds"] > 0


async def test_aiohttp_loop_receives_the_whole_stream(blast):
    url, corpus = blast
    result = await ingest._aiohttp_client(url, corpus.address, FRAMES)
    assert result["received"] == FRAMES + len(subscriptions(corpus.address))


async def test_hlmon_feed_path_applies_every_frame(blast):
    url, corpus = blast
    result = await ingest._hlmon_client(url, corpus.address, FRAMES)
    subs = len(subscriptions(corpus.address))
    assert result["received"] == FRAMES + subs
    assert result["rejected"] == 0
    assert result["acks"] == subs
    assert result["pending_acks"] == 0
    assert result["ignored_user_msgs"] == 0


def test_corpus_mixes_market_and_account_channels():
    from benchmarks.blast_server import build_corpus

    mix = build_corpus(10).mix()
    for channel in ("bbo", "trades", "l2Book", "allMids", "activeAssetCtx"):
        assert mix.get(channel), channel
    for channel in ("clearinghouseState", "openOrders", "userFills"):
        assert mix.get(channel), channel


def test_report_prints_every_section_beside_its_machine_line(capsys) -> None:
    """``run_sections`` adds a ``machine`` dict to each section: the tables must skip it (a
    ``make bench`` once measured everything, then died printing the UI table)."""
    from benchmarks import run, ui_cost

    one = {
        "cpu_pct": 3.0,
        "observer_cpu_pct": 0.5,
        "cpu_ms_per_frame": 2.0,
        "cpu_us_per_msg": 40.0,
        "fps": 6.0,
        "tty_kb_per_s": 1.5,
        "msgs_per_s": 20.0,
        "latencies_ms": [10.0, 20.0],
        "recv_latencies_ms": [1.0, 2.0],
        "key_latencies_ms": [15.0],
        "trades_sent": 5,
        "keys_pressed": 1,
    }
    machine = {"cpu": "test cpu", "cores": 2, "date": "2026-12-01T00:00:00+00:00"}
    ui = {
        "seconds": 15,
        "standard": {"mode": "tmux", "label": "standard tmux", **ui_cost.summarize([one])},
        "machine": machine,
    }
    run.print_report({"ui": ui})
    out = capsys.readouterr().out
    assert "standard tmux cpu" in out


def test_each_section_records_the_host_speed_beside_its_machine(monkeypatch) -> None:
    """Two VMs with one processor name ran the same code a factor of two apart: a section's
    figures must carry the host-speed reading taken just before them."""
    from benchmarks import frame_cost, run

    monkeypatch.setattr(frame_cost, "measure", lambda **_: {"frame_ms": 1.0})
    results = run.run_sections(("frames",))
    machine = results["frames"]["machine"]
    assert machine["cpu"] and machine["cores"]
    assert 0 < machine["speed_ms"]["best_ms"] <= machine["speed_ms"]["median_ms"]


def test_the_paired_ratio_pairs_each_repeat():
    """The ingest section of 2026-12-03 15:27 (a host swinging within the run): hlmon / raw
    per repeat read 0.83, 1.31, 0.71, 1.03, 0.50 (median 0.83), while the ratio of the two
    columns' medians read 0.707."""
    hlmon = [125039.0, 116980.0, 98908.0, 88614.0, 79902.0]
    raw = [151435.0, 89194.0, 139946.0, 85809.0, 158353.0]
    runs = {
        "hlmon": [{"msgs_per_s": v} for v in hlmon],
        "raw": [{"msgs_per_s": v} for v in raw],
    }
    assert ingest.rnd(ingest._ratio(runs, "hlmon", "raw"), 3) == 0.707
    assert ingest.rnd(ingest.paired_ratio(runs, "hlmon", "raw"), 3) == 0.826
    assert ingest.paired_ratio({"hlmon": [], "raw": []}, "hlmon", "raw") is None


async def _mids_and_trades_recording(path: Path, seconds: float) -> None:
    """BTC's mids every 10 ms (plain changes: the full frames' pace) and a trade every
    100 ms (urgent: light frames), written by hlmon's own recorder."""
    start = 1_796_341_679.0
    header = make_header(network="custom", api_url="http://127.0.0.1:1", address=None,
                         coins=["BTC"], start=start)  # fmt: skip
    recorder = FrameRecorder(path, header)
    recorder.open()
    for i in range(int(seconds * 100)):
        t = start + i / 100
        frames: list[dict[str, object]] = [
            {"channel": "allMids", "data": {"mids": {"BTC": str(100_000 + i)}}}
        ]
        if i % 10 == 0:
            trade = {"coin": "BTC", "side": "B", "px": str(100_000 + i), "sz": "0.1",
                     "time": int(t * 1000), "hash": "0x" + "0" * 64, "tid": i + 1,
                     "users": ["0x" + "1" * 40, "0x" + "2" * 40]}  # fmt: skip
            frames.append({"channel": "trades", "data": [trade]})
        for frame in frames:
            recorder.write(json.dumps(frame), t)
    await recorder.close()


async def test_the_frame_replay_runs_frames_at_the_apps_pace(tmp_path: Path) -> None:
    """A frame due runs on the first change after its time, posted from inside
    ``store.apply``: the replay must run it then, as the app's loop does, or the schedule
    waits for a frame that never starts (5 frames in 3 s instead of ~40)."""
    from benchmarks import frame_cost
    from hlmon.ui.screens.paint_on_change import FULL_FRAME_SPACING

    path = tmp_path / "mids.jsonl.gz"
    seconds = 3.0
    await _mids_and_trades_recording(path, seconds)
    result = await frame_cost.replay(path, fps=12.0)
    full = result["frames"] - result["light_frames"]
    assert full >= 0.8 * seconds / (FULL_FRAME_SPACING / 12.0)
    assert result["light_frames"] >= 0.5 * seconds * 10  # most trades: a light frame
