"""The composition root (``hlmon.runtime.root.Runtime``): what ``--demo`` resolves to, what is
known before entry, the recorder it builds, its controls, and that a failed or finished run
stops everything it started. Real simulator, real engine, loopback only."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from pathlib import Path

import httpx
import pytest

from hlmon.c_heap import HeapTrimmer
from hlmon.config import Settings, load_settings, saved
from hlmon.config.saved import SavedChoices
from hlmon.runtime import root
from hlmon.runtime.root import DEMO_NETWORK, DEMO_PROFILE, DEMO_SEED, Runtime
from hlmon.sim import SimServer
from hlmon.state import ConnState
from tests.support import wait_for

OTHER = "0x31ca8395cf837de08b24da3f660e77761dfb974b"


async def refuses(url: str) -> bool:
    """True when nothing answers at ``url`` any more."""
    async with httpx.AsyncClient() as client:
        try:
            await client.post(f"{url}/info", json={"type": "allMids"}, timeout=1.0)
        except httpx.ConnectError:
            return True
    return False


async def test_demo_is_resolved_once_before_and_on_entry() -> None:
    """Before entry: the store, the label and the demo account (the UI's first frame needs
    them). On entry: the simulator on a loopback port with the one demo seed and profile, the
    settings pointed at it. On exit: the engine, then the simulator, stopped."""
    runtime = Runtime(Settings(demo=True, watchlist=("BTC",)))
    sim = runtime.sim
    assert isinstance(sim, SimServer)
    assert (sim.seed, sim.profile.name) == (DEMO_SEED, DEMO_PROFILE)
    assert runtime.network == DEMO_NETWORK == "demo"
    assert runtime.address == sim.demo_address
    assert runtime.store.health.connection.state is ConnState.CONNECTING and not sim.url
    async with runtime as rt:
        assert rt is runtime
        settings = runtime.settings
        assert settings.api_url == sim.url and sim.url.startswith("http://127.0.0.1:")
        assert (settings.network, settings.address) == ("custom", sim.demo_address)
        await wait_for(lambda: runtime.store.health.connection.state is ConnState.LIVE, 10)
        assert runtime.engine.user == sim.demo_address
        assert any("demo: simulator listening on" in e.text for e in runtime.store.health.events)
        url = sim.url
    assert await refuses(url)
    assert not sim.connections


async def test_demo_keeps_a_given_address() -> None:
    runtime = Runtime(Settings(demo=True, address=OTHER, watchlist=("BTC",)))
    assert runtime.address == OTHER
    async with runtime:
        assert runtime.settings.address == OTHER and runtime.engine.user == OTHER


async def test_a_demo_neither_reads_nor_writes_the_catalog_cache(tmp_path: Path) -> None:
    """The simulator's catalog is always there, and the cache file is the fallback of every
    real network: a demo must never put its markets there."""
    cache = tmp_path / "cache"
    runtime = Runtime(Settings(demo=True, watchlist=("BTC",), cache_dir=str(cache)))
    async with runtime:
        keeper = runtime.engine.catalog
        await asyncio.wait_for(keeper.ready.wait(), 10)
        assert keeper.loads == 1 and keeper.cache_dir is None
    assert not cache.exists()


async def test_controls_reach_the_engine_and_refusals_raise() -> None:
    runtime = Runtime(Settings(demo=True, watchlist=("BTC", "ETH")))
    with pytest.raises(RuntimeError, match="not running"):
        runtime.select_coin("ETH")
    async with runtime:
        engine = runtime.engine
        await asyncio.wait_for(engine.catalog.ready.wait(), 10)  # coins go through it
        runtime.select_coin("ETH")
        runtime.add_coin("SOL")
        runtime.remove_coin("BTC")
        runtime.set_book_mode(True, 4)
        assert engine.selected_coin == "ETH" and engine.watchlist == ("ETH", "SOL")
        with pytest.raises(ValueError, match="unknown market 'NOPE'"):
            runtime.add_coin("NOPE")
        with pytest.raises(ValueError, match="spelled DOGE"):
            runtime.select_coin("doge")
        with pytest.raises(ValueError, match="not a watched address"):
            runtime.select_user(OTHER)
        with pytest.raises(ValueError, match="n_sig_figs"):
            runtime.set_book_mode(False, 9)
    with pytest.raises(RuntimeError, match="runs once"):
        await runtime.__aenter__()


async def test_record_path_builds_the_recorder_with_the_demo_label(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    runtime = Runtime(Settings(demo=True, watchlist=("BTC",), record_path=str(path)))
    async with runtime:
        recorder = runtime.recorder
        assert recorder is not None
        await wait_for(lambda: recorder.frames > 5, 10)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header = json.loads(lines[0])
    assert header["network"] == "demo" and header["address"] == runtime.address
    assert header["api_url"] == runtime.settings.api_url
    assert json.loads(lines[-1])["frames"] == recorder.frames  # closed cleanly


async def test_a_failed_start_stops_what_had_started(tmp_path: Path) -> None:
    """The recording cannot be created (the path is a directory): the error comes out, and
    the simulator that had already started is stopped."""
    runtime = Runtime(Settings(demo=True, watchlist=("BTC",), record_path=str(tmp_path)))
    with pytest.raises(IsADirectoryError):
        async with runtime:
            pytest.fail("entered although the recording could not be created")
    assert runtime.sim is not None and runtime.sim.url
    assert await refuses(runtime.sim.url)


async def test_save_settings_writes_the_saved_file_off_the_loop(tmp_path: Path) -> None:
    """The UI's choices go to ``settings.saved_file`` (here a real demo run's runtime), written
    in a worker thread; a run without a saved file writes nothing."""
    path = tmp_path / "cfg" / "config.toml"
    runtime = Runtime(Settings(demo=True, watchlist=("BTC",), saved_file=str(path)))
    threads: list[str] = []
    loop_thread = threading.current_thread().name
    real = saved.save_choices

    def spy(target: Path, choices: SavedChoices) -> bool:
        threads.append(threading.current_thread().name)
        return real(target, choices)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(saved, "save_choices", spy)
        async with runtime:
            assert await runtime.save_settings(SavedChoices(theme="nord", book_fast=True))
    assert threads and loop_thread not in threads
    env = {"HLMON_CONFIG": str(path)}
    assert load_settings(env=env, cwd=tmp_path, user_dir=tmp_path / "u").theme == "nord"
    nowhere = Runtime(Settings(saved_file=None))
    assert await nowhere.save_settings(SavedChoices(theme="nord")) is False


async def test_the_c_heap_is_trimmed_while_the_runtime_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runtime runs the heap trimmer (``hlmon.c_heap``) from entry to exit, and its task
    is gone after the exit."""
    trims: list[int] = []
    monkeypatch.setattr(
        root, "HeapTrimmer", lambda: HeapTrimmer(lambda: trims.append(1), every_s=0.01)
    )
    async with Runtime(Settings(demo=True, watchlist=("BTC",))):
        await wait_for(lambda: len(trims) >= 3, 10)
        assert [t for t in asyncio.all_tasks() if t.get_name() == "heap-trim"]
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "heap-trim"]
