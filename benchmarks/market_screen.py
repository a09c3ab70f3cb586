"""Cost of the whole-market path: the market-wide streams decoded and merged into a
``MarketTable`` of ~1,600 names, and the ``MarketScreen`` repainting it once a second; then
(``section``, the ``market`` part of ``make bench``) the real app with the market screen open
under the ``stress`` profile against the simulator with ~1,600 markets
(``benchmarks.market_app``): CPU percent of one core of the TUI, target <= 5 %.

Frames are built here (shaped like mainnet's in 2026-09: a 1,592-coin ``fastAssetCtxs``
snapshot, deltas of ~150 coins a second, ``allDexsAssetCtxs`` over five dexes). The screen runs
headless at 120x40, sorted by 24 h change so every delta re-sorts it (the worst case).

Run from the repo root: ``.venv/bin/python -m benchmarks.market_screen [--frames 30]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import statistics
import time
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from textual.app import App

from benchmarks import market_app
from hlmon.protocol import decode
from hlmon.protocol.market_streams import FastAssetCtxs, decode_fast_asset_ctxs
from hlmon.protocol.messages import AllDexsAssetCtxsMsg, FastAssetCtxsMsg
from hlmon.state.catalog import Dex, Market, MarketCatalog, MarketKind
from hlmon.state.market_query import SortColumn, SortSpec
from hlmon.state.market_table import MarketTable
from hlmon.ui.screens.market import MarketScreen

DEXES = ("", "xyz", "flx", "km", "hyna")
PERPS_PER_DEX = (230, 60, 60, 60, 60)
SPOT = 1122


def _px(value: float) -> str:
    return f"{Decimal(f'{value:.5g}'):f}"


def build_catalog() -> MarketCatalog:
    markets: list[Market] = []
    for dex, count in zip(DEXES, PERPS_PER_DEX, strict=True):
        for i in range(count):
            name = f"{dex}:C{i}" if dex else f"COIN{i}"
            markets.append(Market(name, MarketKind.PERP, dex, 2, name, asset_index=i))
    for i in range(1, SPOT + 1):
        markets.append(Market(f"@{i}", MarketKind.SPOT, "", 2, f"T{i}/USDC", asset_index=i))
    dexes = [Dex(name, i) for i, name in enumerate(DEXES)]
    return MarketCatalog(markets, dexes, loaded_at=time.time())


def fast_frame(prices: dict[str, float], rng: random.Random, share: float) -> bytes:
    """A ``fastAssetCtxs`` frame for a random ``share`` of the coins (1.0: the snapshot)."""
    data: dict[str, dict[str, str]] = {}
    for coin, price in prices.items():
        if share >= 1.0 or rng.random() < share:
            price *= 1 + rng.uniform(-0.002, 0.002)
            prices[coin] = price
            data[coin] = {"markPx": _px(price), "midPx": _px(price * 1.0001)}
    packer = zlib.compressobj(wbits=-15)
    raw = packer.compress(json.dumps(data).encode()) + packer.flush()
    frame = {"channel": "fastAssetCtxs", "data": base64.b64encode(raw).decode()}
    return json.dumps(frame).encode()


def all_dexs_frame(prices: dict[str, float], rng: random.Random) -> bytes:
    entries: list[Any] = []
    for dex, count in zip(DEXES, PERPS_PER_DEX, strict=True):
        ctxs = []
        for i in range(count):
            px = prices[f"{dex}:C{i}" if dex else f"COIN{i}"]
            ctxs.append({"funding": f"{rng.uniform(-2e-4, 4e-4):.8f}", "openInterest": "1234.5",
                         "prevDayPx": _px(px * 0.97), "dayNtlVlm": f"{rng.uniform(0, 2e9):.1f}",
                         "premium": "0.0001", "oraclePx": _px(px), "markPx": _px(px),
                         "midPx": _px(px), "impactPxs": [_px(px), _px(px)],
                         "dayBaseVlm": "100.0"})  # fmt: skip
        entries.append([dex, ctxs])
    return json.dumps({"channel": "allDexsAssetCtxs", "data": {"ctxs": entries}}).encode()


def read_fast(frame: bytes) -> FastAssetCtxs:
    """The feed's path for one ``fastAssetCtxs`` frame: decode, then inflate and read."""
    msg = decode(frame)
    assert isinstance(msg, FastAssetCtxsMsg)
    return decode_fast_asset_ctxs(msg.data)


def _median_us(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


class _Host(App[None]):
    def __init__(self, screen: MarketScreen) -> None:
        super().__init__()
        self.market = screen

    def on_mount(self) -> None:
        self.push_screen(self.market)


async def _screen_cost(table: MarketTable, deltas: list[bytes], clock: list[float]) -> float:
    """CPU ms per frame: apply one delta, then the screen's frame (rebuild + paint)."""
    screen = MarketScreen(table, clock=lambda: clock[0], sort=SortSpec(SortColumn.CHANGE, True))
    app = _Host(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        cpu: list[float] = []
        for frame in deltas:
            t0 = time.process_time()
            clock[0] += 1.0
            table.apply_fast(read_fast(frame))
            screen.refresh_frame()
            await pilot.pause()
            cpu.append(time.process_time() - t0)
    return statistics.median(cpu) * 1e3


def measure(frames: int = 30, repeats: int = 20, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    catalog = build_catalog()
    prices = {mk.name: 10 ** rng.uniform(-4, 4) for mk in catalog.markets()}
    snapshot = fast_frame(prices, rng, 1.0)
    delta = fast_frame(prices, rng, 150 / len(prices))
    ctxs = all_dexs_frame(prices, rng)
    clock = [time.time()]
    table = MarketTable(catalog, clock=lambda: clock[0])

    def apply_snapshot() -> None:
        table.reset_prices()
        table.apply_fast(read_fast(snapshot))

    def apply_ctxs() -> None:
        msg = decode(ctxs)
        assert isinstance(msg, AllDexsAssetCtxsMsg)
        table.apply_all_dexs(msg.data)

    results: dict[str, Any] = {
        "names": len(table),
        "snapshot_bytes": len(snapshot),
        "delta_bytes": len(delta),
        "all_dexs_bytes": len(ctxs),
        "snapshot_decode_apply_us": _median_us(apply_snapshot, repeats),
        "delta_decode_apply_us": _median_us(lambda: table.apply_fast(read_fast(delta)), repeats),
        "all_dexs_decode_join_apply_us": _median_us(apply_ctxs, repeats),
    }
    deltas = [fast_frame(prices, rng, 150 / len(prices)) for _ in range(frames)]
    results["screen_frame_cpu_ms"] = asyncio.run(_screen_cost(table, deltas, clock))
    return results


def section(log: Any = print, seconds: float = 15.0) -> dict[str, Any]:
    """The ``market`` section of ``make bench``: this module's measurement as it stands alone,
    plus what it means for a core at one screen frame and one delta a second (the screen
    repaints once a second; mainnet sends about one ``fastAssetCtxs`` delta a second); then the
    real app with the market screen open under ``stress`` (``market_app``)."""
    res = measure()
    per_second_ms = res["screen_frame_cpu_ms"] + res["delta_decode_apply_us"] / 1000
    res["cpu_pct_at_1hz"] = round(per_second_ms / 10, 2)  # ms per 1000 ms, in %
    res["target_cpu_pct"] = market_app.TARGET_CPU_PCT
    log(f"  market: {res['names']} names, frame {res['screen_frame_cpu_ms']:.1f} ms CPU")
    app = market_app.measure(seconds=seconds)
    res["app_cpu_pct"] = app["market_cpu_pct"]
    res["app_dashboard_cpu_pct"] = app["dashboard_cpu_pct"]
    res["app_names"] = app["names"]
    res["app_fast_frames_per_s"] = app["fast_frames_per_s"]
    res["app_mode"] = app["mode"]
    res["app_profile"] = app["profile"]
    res["app_loadavg_1m"] = app["loadavg_1m"]
    log(
        f"  market screen open ({app['profile']}, {app['names']} names, {app['mode']}): "
        f"{app['market_cpu_pct']:.1f} % of a core (dashboard alone "
        f"{app['dashboard_cpu_pct']:.1f} %); load average {app['loadavg_1m']:.2f}"
    )
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()}


def table_rows(res: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [
        ("names", res["names"], "markets in the table"),
        ("screen frame", res["screen_frame_cpu_ms"], "CPU ms (apply one delta, rebuild, paint)"),
        ("delta decode+apply", res["delta_decode_apply_us"], f"us ({res['delta_bytes']} bytes)"),
        ("snapshot decode+apply", res["snapshot_decode_apply_us"], "us"),
        ("allDexsAssetCtxs", res["all_dexs_decode_join_apply_us"], "us decode, join, apply"),
        ("cpu at 1 frame/s", res["cpu_pct_at_1hz"], "% of one core (built frames, headless)"),
        (
            "app, market open",
            res.get("app_cpu_pct"),
            f"% of one core, {res.get('app_profile')}, {res.get('app_names')} names, "
            f"{res.get('app_mode')} (target <= {res['target_cpu_pct']})",
        ),
        ("app, dashboard", res.get("app_dashboard_cpu_pct"), "% of one core, same run, before m"),
        ("load average", res.get("app_loadavg_1m"), "1 min, when the app run started"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    for key, value in measure(frames=args.frames).items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:32} {shown:>12}")


if __name__ == "__main__":
    main()
