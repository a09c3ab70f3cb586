"""Market model and demo account: determinism, price rules, accounting, fills and funding."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx

from hlmon.sim import ManualClock, SimServer
from hlmon.sim.universe import Universe

from .support import START_MS, WsClient

PX_RE = re.compile(r"^\d+\.\d+$")
HOUR = 3_600_000


async def _frames(sim: SimServer, open_ws: Any, seconds: float) -> list[str]:
    ws: WsClient = await open_ws(sim)
    for sub in (
        {"type": "bbo", "coin": "BTC"},
        {"type": "trades", "coin": "ETH"},
        {"type": "l2Book", "coin": "SOL"},
        {"type": "allMids"},
        {"type": "userFills", "user": sim.demo_address},
        {"type": "clearinghouseState", "user": sim.demo_address},
    ):
        await ws.subscribe(sub)
        await ws.channel("subscriptionResponse")
    await sim.advance(seconds)
    sim.force_fill()
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    return [raw for raw, _ in ws.log]


async def test_same_seed_and_clock_give_same_frames(open_ws: Any) -> None:
    """Two simulators with the same seed and clock send byte-identical frames."""
    runs = []
    for seed in (11, 11, 12):
        async with SimServer(seed=seed, clock=ManualClock(START_MS)) as sim:
            runs.append(await _frames(sim, open_ws, 12))
    assert len(runs[0]) > 50
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def _check_px(px: str, max_decimals: int) -> None:
    assert PX_RE.match(px), px
    whole, frac = px.split(".")
    frac = frac.rstrip("0")
    assert len(frac) <= max_decimals, px
    if frac:  # non-integers carry at most 5 significant figures
        digits = (whole + frac).lstrip("0")
        assert len(digits) <= 5, px


async def test_prices_follow_tick_rules(sim: SimServer) -> None:
    """Book prices: <=5 significant figures (integers always ok), <= 6-szDecimals decimals."""
    universe = Universe()
    await sim.advance(3)
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        for name in ("BTC", "ETH", "SOL", "HYPE", "kPEPE", "DOGE", "PURR/USDC", "@6", "NEIRO"):
            spec = universe.get(name)
            assert spec is not None
            book = (await client.post("/info", json={"type": "l2Book", "coin": name})).json()
            for side in book["levels"]:
                for level in side:
                    _check_px(level["px"], spec.max_decimals)
                    assert PX_RE.match(level["sz"]) and level["n"] >= 1
                    assert len(level["sz"].split(".")[1].rstrip("0")) <= spec.sz_decimals
    assert sim.market.coin("BTC") is not None
    mids = sim.market.all_mids()
    assert mids["BTC"].endswith((".0", ".5")) and all(PX_RE.match(v) for v in mids.values())


def _d(value: str) -> Decimal:
    return Decimal(value)


def check_account_identities(state: dict[str, Any], marks: dict[str, Decimal]) -> None:
    """accountValue = rawUsd + sum(szi*mark); margins, uPnL and ROE consistent with marks."""
    tol = Decimal("0.0001")
    cross_signed = iso_signed = iso_raw = iso_margin = cross_ntl = Decimal(0)
    for item in state["assetPositions"]:
        p = item["position"]
        szi, mark, entry = _d(p["szi"]), marks[p["coin"]], _d(p["entryPx"])
        lev = p["leverage"]
        assert abs(_d(p["positionValue"]) - abs(szi) * mark) < tol
        upnl = _d(p["unrealizedPnl"])
        assert abs(upnl - szi * (mark - entry)) <= abs(szi) * Decimal("0.1") + tol
        roe = upnl / (abs(szi) * entry / lev["value"])
        assert abs(_d(p["returnOnEquity"]) - roe) < Decimal("0.001")
        if lev["type"] == "cross":
            cross_signed += szi * mark
            cross_ntl += abs(szi) * mark
            assert abs(_d(p["marginUsed"]) - abs(szi) * mark / lev["value"]) < tol
        else:
            iso_signed += szi * mark
            iso_raw += _d(lev["rawUsd"])
            margin = _d(lev["rawUsd"]) + szi * mark
            iso_margin += margin
            assert abs(_d(p["marginUsed"]) - margin) < tol
        liq = p["liquidationPx"]
        if liq is not None:  # liquidation is on the losing side of the mark
            assert (_d(liq) < mark) if szi > 0 else (_d(liq) > mark)
    cross = state["crossMarginSummary"]
    total = state["marginSummary"]
    assert abs(_d(cross["accountValue"]) - (_d(cross["totalRawUsd"]) + cross_signed)) < tol
    assert abs(_d(cross["totalNtlPos"]) - cross_ntl) < tol
    assert abs(_d(total["totalRawUsd"]) - (_d(cross["totalRawUsd"]) + iso_raw)) < tol
    assert (
        abs(_d(total["accountValue"]) - (_d(total["totalRawUsd"]) + cross_signed + iso_signed))
        < tol
    )
    assert abs(_d(total["totalMarginUsed"]) - (_d(cross["totalMarginUsed"]) + iso_margin)) < tol


async def test_account_is_internally_consistent_as_marks_move(sim: SimServer) -> None:
    """The identities hold at start and after minutes of market moves and fills."""
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        for _ in range(3):
            state = (
                await client.post(
                    "/info", json={"type": "clearinghouseState", "user": sim.demo_address}
                )
            ).json()
            meta, ctxs = (await client.post("/info", json={"type": "metaAndAssetCtxs"})).json()
            marks = {
                u["name"]: _d(c["markPx"]) for u, c in zip(meta["universe"], ctxs, strict=True)
            }
            check_account_identities(state, marks)
            await sim.advance(90)
    kinds = {
        (p["position"]["coin"], p["position"]["leverage"]["type"])
        for p in sim.truth.clearinghouse_state["assetPositions"]
    }
    assert {("BTC", "cross"), ("ETH", "cross"), ("SOL", "isolated"), ("HYPE", "isolated")} <= kinds


async def test_forced_fill_crosses_an_order(sim: SimServer, open_ws: Any) -> None:
    """A fill removes the order, moves the position, hits the tape with the same tid."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "trades", "coin": "BTC"})
    await ws.channel("trades")
    before = sim.truth
    btc_before = next(
        Decimal(p["position"]["szi"])
        for p in before.clearinghouse_state["assetPositions"]
        if p["position"]["coin"] == "BTC"
    )
    fill = sim.force_fill("BTC")
    assert fill is not None
    after = sim.truth
    assert fill["oid"] not in {o["oid"] for o in after.open_orders}
    assert fill["oid"] in {o["oid"] for o in before.open_orders}
    btc_after = next(
        Decimal(p["position"]["szi"])
        for p in after.clearinghouse_state["assetPositions"]
        if p["position"]["coin"] == "BTC"
    )
    delta = Decimal(fill["sz"]) * (1 if fill["side"] == "B" else -1)
    assert btc_after - btc_before == delta
    assert Decimal(fill["startPosition"]) == btc_before
    assert after.fills[-1] == fill
    book = sim.market.book(sim.market.coin("BTC"))  # type: ignore[arg-type]
    bid, ask = (Decimal(side[0]["px"]) for side in book["levels"])
    fill_px = Decimal(fill["px"])
    assert (ask <= fill_px) if fill["side"] == "B" else (bid >= fill_px)  # book traded through
    assert len(after.open_orders) == len(before.open_orders)  # a fresh order replaced it
    _, tape = await ws.wait_for(
        lambda m: m["channel"] == "trades" and any(t["tid"] == fill["tid"] for t in m["data"])
    )
    trade = next(t for t in tape["data"] if t["tid"] == fill["tid"])
    assert sim.demo_address in trade["users"] and trade["px"] == fill["px"]


async def test_fills_keep_coming(sim: SimServer) -> None:
    """In the standard profile the demo account fills every 10-30 s on its own."""
    n0 = len(sim.truth.fills)
    await sim.advance(120)
    assert len(sim.truth.fills) - n0 >= 4


async def test_fills_while_disconnected_are_in_rest(sim: SimServer, open_ws: Any) -> None:
    """Fills made while a client is away come back from userFillsByTime (dedupe by tid)."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "userFills", "user": sim.demo_address})
    _, snap = await ws.channel("userFills")
    last_seen = max(f["time"] for f in snap["data"]["fills"])
    await ws.ws.close()
    await sim.advance(100)
    missed = [f for f in sim.truth.fills if f["time"] > last_seen]
    assert len(missed) >= 3
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        got = (
            await client.post(
                "/info",
                json={
                    "type": "userFillsByTime",
                    "user": sim.demo_address,
                    "startTime": last_seen + 1,
                },
            )
        ).json()
    assert [f["tid"] for f in got] == [f["tid"] for f in missed]
    ws2 = await open_ws(sim)
    await ws2.subscribe({"type": "userFills", "user": sim.demo_address})
    _, snap2 = await ws2.channel("userFills")
    assert snap2["data"]["isSnapshot"] is True
    assert {f["tid"] for f in missed} <= {f["tid"] for f in snap2["data"]["fills"]}


async def test_hourly_funding(sim: SimServer, open_ws: Any) -> None:
    """On the hour every position pays or receives funding on userFundings and user."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "userFundings", "user": sim.demo_address})
    await ws.subscribe({"type": "userEvents", "user": sim.demo_address})
    _, snap = await ws.channel("userFundings")
    assert snap["data"]["isSnapshot"] is True and len(snap["data"]["fundings"]) >= 24
    n0 = len(sim.truth.fundings)
    to_next_hour = (HOUR - START_MS % HOUR) / 1000 + 1
    await sim.advance(to_next_hour, step_ms=10_000)
    _, live = await ws.wait_for(
        lambda m: m["channel"] == "userFundings" and "isSnapshot" not in m["data"]
    )
    positions = len(sim.truth.clearinghouse_state["assetPositions"])
    assert len(live["data"]["fundings"]) == len(sim.truth.fundings) - n0 >= positions - 1
    f = live["data"]["fundings"][0]
    assert f["time"] % HOUR == 37 and Decimal(f["szi"]) != 0
    _, event = await ws.wait_for(lambda m: m["channel"] == "user" and "funding" in m["data"])
    assert event["data"]["funding"] == f
    assert all(x["time"] < START_MS for x in snap["data"]["fundings"])


async def test_unchanged_book_carries_the_time_it_is_sent(sim: SimServer) -> None:
    """A book that did not change since it was last built is served with the current time,
    not the time it was built (the exchange resends unchanged books with a new time)."""
    quiet = min(sim.universe.spots, key=lambda c: c.activity).name
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        first = (await client.post("/info", json={"type": "l2Book", "coin": quiet})).json()
        ver = sim.market.coin(quiet).ver  # type: ignore[union-attr]
        await sim.advance(0.3)
        assert sim.market.coin(quiet).ver == ver  # type: ignore[union-attr]
        second = (await client.post("/info", json={"type": "l2Book", "coin": quiet})).json()
    assert second["levels"] == first["levels"]
    assert first["time"] == START_MS and second["time"] == sim.market.now > START_MS
