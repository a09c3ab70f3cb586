"""A recording of the real simulator, made once per session through the real runtime (the
recorder it builds from ``record_path``, fed by the real FeedEngine)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hlmon.config import Settings
from hlmon.protocol.messages import L2Book
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer

COINS = ("BTC", "ETH")


async def wait_until(cond: Callable[[], object], within: float = 10.0, what: str = "") -> None:
    """Poll ``cond`` until true; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or cond}")
        await asyncio.sleep(0.01)


@dataclass
class Recorded:
    path: Path
    address: str
    mids: dict[str, str]
    """The recording engine's store at the end."""
    book: L2Book | None
    frames: int
    api_url: str
    dexes: list[tuple[str, str | None]]
    """The recording engine's catalog: each perp dex and its collateral token."""
    mode: Any
    """The account's mode (``userAbstraction``) as the recording engine read it."""
    role: Any
    """The account's ``userRole`` answer."""


async def _record(path: Path) -> Recorded:
    async with SimServer(seed=11) as sim:
        settings = Settings(
            network="custom",
            api_url=sim.url,
            address=sim.demo_address,
            watchlist=COINS,
            record_path=str(path),
        )
        async with Runtime(settings) as runtime:
            store, rec = runtime.store, runtime.recorder
            assert rec is not None
            # A couple of seconds of traffic: every stream of the selected coin has spoken, the
            # account snapshots are in, and enough bbo/ctx frames for pacing checks.
            await wait_until(
                lambda: (
                    store.mids
                    and store.book("BTC") is not None
                    and store.bbo("BTC") is not None
                    and rec.frames >= 60
                    and store.account_mode() is not None
                    and store.user_role() is not None
                ),
                what="a couple of seconds of traffic",
            )
        return Recorded(
            path=path,
            address=sim.demo_address,
            mids=dict(store.mids),
            book=store.book("BTC"),
            frames=rec.frames,
            api_url=sim.url,
            dexes=_dexes(runtime),
            mode=store.account_mode(),
            role=store.user_role(),
        )


def _dexes(runtime: Runtime) -> list[tuple[str, str | None]]:
    catalog = runtime.engine.catalog.catalog
    assert catalog is not None
    return [(d.name, d.collateral) for d in catalog.dexes()]


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One recording for the whole session (~2 s of the simulator)."""
    path = tmp_path_factory.mktemp("rec") / "sim.jsonl.gz"
    return asyncio.run(_record(path))


def frames_of(recording: Any, keys: set[str]) -> list[str]:
    """Texts of the recorded data frames that belong to ``keys`` (stream keys), in order."""
    from hlmon.replay.recording import ROUTE_KEY

    return [f.text for f in recording.frames if f.route == ROUTE_KEY and f.key in keys]
