"""``hlmon snapshot --coins`` as a user runs it, against the simulator: HIP-3 and spot names
are resolved and the document is keyed by the exchange's exact names; an unlisted name is an
error (exit 1) naming the closest listed ones, with no document."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hlmon.sim import SimServer
from tests.support import running_sim

pytestmark = pytest.mark.slow


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with running_sim() as server:
        yield server


async def snapshot(sim: SimServer, coins: str, cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HLMON_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hlmon", "snapshot", "--wait", "15", "--api-url", sim.url,
        "--coins", coins,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=env, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_hip3_and_spot_names_resolved_and_keyed_exactly(
    sim: SimServer, tmp_path: Path
) -> None:
    code, out, err = await snapshot(sim, "btc,xyz:tsla,hype/usdc", tmp_path)
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["mids"]) == {"BTC", "xyz:TSLA", "@6"}  # @6 is HYPE/USDC on the simulator
    assert set(doc["books"]) == {"BTC", "xyz:TSLA", "@6"}
    status = doc["status"]
    assert status["catalog"]["source"] == "exchange"
    assert {"mids", "mids:xyz", "ctx:xyz:TSLA", "ctx:@6"} <= set(status["feeds"])
    assert status["reconnects"] == 0


async def test_an_unlisted_name_is_an_error_with_the_closest_names(
    sim: SimServer, tmp_path: Path
) -> None:
    code, out, err = await snapshot(sim, "BTC,NOPE", tmp_path)
    assert code == 1 and out == ""
    assert "hlmon snapshot: --coins: unknown market 'NOPE'; closest listed: OP" in err
    assert "Traceback" not in err
