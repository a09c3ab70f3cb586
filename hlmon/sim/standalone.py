"""Running the simulator as a process (``hlmon sim``): print the address, serve until a signal."""

from __future__ import annotations

import asyncio
import sys

from hlmon.shutdown import stop_event
from hlmon.sim.server import SimServer


async def serve_standalone(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    profile: str = "standard",
    faults: bool = False,
) -> None:
    """Serve until SIGINT/SIGTERM. Prints ``listening on URL`` then ``demo address 0x...``."""
    sim = SimServer(seed=seed, profile=profile, fault_routes=faults)
    await sim.start(host=host, port=port)
    print(f"listening on {sim.url}", flush=True)
    print(f"demo address {sim.demo_address}", flush=True)
    if faults:
        print(f"fault control: POST {sim.url}/_sim/<fault>, GET {sim.url}/_sim/truth", flush=True)
    stop = stop_event()
    try:
        await stop.wait()
    finally:
        await sim.stop()


def run_standalone(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 7,
    profile: str = "standard",
    faults: bool = False,
) -> int:
    """Blocking entry point for the CLI; returns the process exit code (0 on a clean stop)."""
    try:
        asyncio.run(serve_standalone(host, port, seed, profile, faults))
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0
