"""The standalone entry point and the no-Textual rule, in subprocesses."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import httpx

CODE = (
    "from hlmon.sim import run_standalone; "
    "raise SystemExit(run_standalone('127.0.0.1', 0, 7, 'standard', True))"
)


async def test_standalone_prints_address_serves_and_stops_on_sigint() -> None:
    """First line ``listening on URL``, second ``demo address 0x..``; SIGINT exits 0."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CODE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        second = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode().strip()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        assert re.fullmatch(r"demo address 0x[0-9a-f]{40}", second), second
        url = match.group(1)
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            r = await client.post("/info", json={"type": "exchangeStatus"})
            assert r.status_code == 200
            truth = (await client.get("/_sim/truth")).json()
            assert truth["address"] == second.split()[-1]
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sim_never_imports_textual() -> None:
    """Importing and running the simulator does not load Textual."""
    code = (
        "import sys, asyncio\n"
        "from hlmon.sim import SimServer, ManualClock\n"
        "async def main():\n"
        "    async with SimServer(clock=ManualClock()) as sim:\n"
        "        await sim.advance(1)\n"
        "asyncio.run(main())\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
