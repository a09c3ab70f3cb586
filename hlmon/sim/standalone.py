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
    demo_account: str = "standard",
    markets: str = "standard",
) -> None:
    """Serve until SIGINT/SIGTERM. Prints ``listening on URL`` then ``demo address 0x...``
    (then ``demo account MODE`` when the mode is not standard)."""
    sim = SimServer(
        seed=seed,
        profile=profile,
        fault_routes=faults,
        demo_account=demo_account,
        markets=markets,
    )
    await sim.start(host=host, port=port)
    print(f"listening on {sim.url}", flush=True)
    print(f"demo address {sim.demo_address}", flush=True)
    if demo_account != "standard":
        print(f"demo account {demo_account}", flush=True)
    if markets != "standard":
        print(f"markets {markets}: {len(sim.universe.all)} coins", flush=True)
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
    demo_account: str = "standard",
    markets: str = "standard",
) -> int:
    """Blocking entry point for the CLI; returns the process exit code (0 on a clean stop)."""
    try:
        asyncio.run(serve_standalone(host, port, seed, profile, faults, demo_account, markets))
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    return 0
