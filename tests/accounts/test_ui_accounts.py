"""The UI's account switching: ``u``/``U`` cycle the selected account, the header names it,
the engine moves the detail feeds, and through the real simulator the panels follow."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from hlmon.config import Settings
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer
from hlmon.state import Store
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime
from tests.support import FAST_PROFILE
from tests.ui.helpers import pilot_wait

from .helpers import A, B, FakeClock, clearinghouse, position

SIZE = (120, 40)


async def wait_for(pilot: Pilot[int], cond: Callable[[], object], limit: float = 10.0) -> None:
    await pilot_wait(pilot, cond, limit, interval=0.05)


def header(app: HlmonApp) -> str:
    return app.dashboard.header.text_lines[0] if app.dashboard.header.text_lines else ""


async def test_u_cycles_the_selected_account() -> None:
    """``u`` selects the next watched account, ``U`` the previous; the header names it."""
    clock = FakeClock()
    store = Store(clock)
    settings = Settings(address=A, addresses=(A, B), labels=((B, "hedge"),), fps=10.0)
    runtime = FakeRuntime(settings, store, clock)
    store.apply(clearinghouse(A, "1000.0"))
    app = build_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: store.watched_users == (A, B))
        store.apply(clearinghouse(A, "1000.0"))
        store.apply(clearinghouse(B, "250.0", positions=[position("ETH", "-2", "-1.5")]))
        await pilot.press("u")
        assert runtime.named("select_user") == [(B,)]
        assert (store.user, app.dashboard.address) == (B, B)
        await wait_for(pilot, lambda: "hedge" in header(app))
        await pilot.press("7")
        await wait_for(pilot, lambda: app.dashboard.lower.tables["accounts"].row_count == 3)
        await wait_for(pilot, lambda: app.dashboard.positions.row_count == 1)  # B's position
        await pilot.press("U")
        assert runtime.named("select_user")[-1] == (A,)
        assert store.user == A
        await wait_for(pilot, lambda: "hedge" not in header(app))


async def test_u_with_one_account_only_says_so() -> None:
    clock = FakeClock()
    store = Store(clock)
    runtime = FakeRuntime(Settings(address=A), store, clock)
    app = build_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: store.user == A)
        await pilot.press("u")
        assert runtime.named("select_user") == [] and store.user == A


async def test_switch_through_the_simulator() -> None:
    """Real engine and simulator: ``u`` moves to the empty account, and back to the demo
    one, whose orders return (reconciled over REST)."""
    sim = SimServer(seed=5, profile=FAST_PROFILE)
    await sim.start(host="127.0.0.1", port=0)
    try:
        demo = sim.demo_address
        settings = Settings(
            network="custom",
            api_url=sim.url,
            address=demo,
            addresses=(demo, B),
            watchlist=("BTC",),
            fps=20.0,
        )
        runtime = Runtime(settings)
        app = build_app(runtime)
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            engine = runtime.engine
            await wait_for(pilot, lambda: d.lower.tables["orders"].row_count > 0)
            # The startup reconciliation (per active dex) done, so the count below is exact:
            # a switch cancels one still running.
            await wait_for(pilot, lambda: engine.reconcile_count >= 1)
            await pilot.press("u")
            assert engine.user == B
            await wait_for(pilot, lambda: d.lower.tables["orders"].row_count == 0)
            await wait_for(pilot, lambda: d.positions.row_count == 0)
            await pilot.press("u")
            assert engine.user == demo
            await wait_for(pilot, lambda: d.lower.tables["orders"].row_count > 0)
            await wait_for(pilot, lambda: engine.reconcile_count >= 3)
    finally:
        await sim.stop()
