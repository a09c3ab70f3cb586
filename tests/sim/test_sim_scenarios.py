"""Scenarios a client must survive, forced over the real loopback server: a Stop Limit order
that triggers and rests, TWAP slices, the watched account's own liquidation, spot fills."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import msgspec

from hlmon.protocol import messages as m
from hlmon.protocol import subscriptions as subs
from hlmon.sim import LIQUIDATOR_ADDRESS, SimServer
from hlmon.sim.account_views import ZERO_HASH
from hlmon.sim.numbers import decimal_to_ticks

from .support import WsClient

STRICT_WS = msgspec.json.Decoder(m.KnownMsg)


async def _info(sim: SimServer, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/info", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def _control(sim: SimServer, name: str, args: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post(f"/_sim/{name}", json=args)
    assert r.status_code == 200, r.text
    return r.json()["result"]


async def _subscribe(ws: WsClient, *wanted: subs.Subscription) -> None:
    for sub in wanted:
        await ws.subscribe(sub.to_wire())
    for _ in wanted:
        await ws.channel("subscriptionResponse")


def _decoded(ws: WsClient) -> list[Any]:
    """Every frame read so far, decoded strictly with hlmon's structs."""
    return [STRICT_WS.decode(raw) for raw, _ in ws.log]


def _stop_limit(orders: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in orders if o["orderType"] == "Stop Limit" and o["isTrigger"])


async def test_stop_limit_triggers_rests_then_fills(sim: SimServer, open_ws: Any) -> None:
    """trigger: orderUpdates says ``triggered``; the order stays on frontendOpenOrders and
    openOrders (REST and the pushed openOrders) as a resting limit order under the same oid;
    orderStatus says triggered; it then fills, and a new Stop Limit order is armed."""
    user = sim.demo_address
    ws: WsClient = await open_ws(sim)
    await _subscribe(ws, subs.order_updates(user), subs.open_orders(user), subs.user_fills(user))
    front = await _info(sim, {"type": "frontendOpenOrders", "user": user})
    stop = _stop_limit(front)
    assert stop["coin"] == "AVAX" and stop["triggerCondition"].startswith("Price above")
    update = await _control(sim, "trigger", {"oid": stop["oid"]})
    assert update["status"] == "triggered" and update["order"]["oid"] == stop["oid"]
    _, frame = await ws.wait_for(
        lambda f: (
            f["channel"] == "orderUpdates" and any(u["status"] == "triggered" for u in f["data"])
        )
    )
    assert frame["data"][0]["order"]["oid"] == stop["oid"]
    st = sim.market.coin("AVAX")
    assert st is not None and sim.market.mark_decimal(st) >= Decimal(stop["triggerPx"])
    await ws.wait_for(
        lambda f: (
            f["channel"] == "openOrders"
            and any(o["oid"] == stop["oid"] and not o["isTrigger"] for o in f["data"]["orders"])
        )
    )
    front = await _info(sim, {"type": "frontendOpenOrders", "user": user})
    rests = next(o for o in front if o["oid"] == stop["oid"])
    assert (rests["isTrigger"], rests["triggerCondition"], rests["orderType"]) == (
        False,
        "Triggered",
        "Stop Limit",
    )
    assert rests["triggerPx"] == stop["triggerPx"] and rests["tif"] == "Gtc"
    plain = await _info(sim, {"type": "openOrders", "user": user})
    assert stop["oid"] in {o["oid"] for o in plain}
    status = await _info(sim, {"type": "orderStatus", "user": user, "oid": stop["oid"]})
    assert status["order"]["status"] == "triggered"
    # Still resting: a later block does not fill it (its limit sits below the market).
    await sim.advance(1)
    assert stop["oid"] in {o["oid"] for o in await _info(sim, {"type": "openOrders", "user": user})}
    fill = await _control(sim, "force_fill", {"oid": stop["oid"]})
    assert fill["oid"] == stop["oid"] and fill["px"] == stop["limitPx"]
    await ws.wait_for(
        lambda f: (
            f["channel"] == "orderUpdates"
            and any(u["status"] == "filled" and u["order"]["oid"] == stop["oid"] for u in f["data"])
        )
    )
    await ws.wait_for(
        lambda f: (
            f["channel"] == "userFills" and any(x["oid"] == stop["oid"] for x in f["data"]["fills"])
        )
    )
    front = await _info(sim, {"type": "frontendOpenOrders", "user": user})
    assert stop["oid"] not in {o["oid"] for o in front}
    rearmed = _stop_limit(front)
    assert rearmed["side"] == "A" and rearmed["triggerCondition"].startswith("Price below")
    _decoded(ws)


async def test_the_mark_crossing_a_trigger_fires_it_and_cancel_ends_it(sim: SimServer) -> None:
    """Without the helper: once the mark crosses the trigger, the next block triggers the
    order; cancel_order then ends it with ``canceled``."""
    front = await _info(sim, {"type": "frontendOpenOrders", "user": sim.demo_address})
    stop = _stop_limit(front)
    st = sim.market.coin("AVAX")
    assert st is not None
    above = Decimal(stop["triggerPx"]) * Decimal("1.01")
    sim.market.cross_to(st.spec.index, decimal_to_ticks(above, st.exp), False)
    await sim.advance(0.2)
    order = sim.account.orders[stop["oid"]]
    assert order.triggered and not order.is_trigger
    update = sim.cancel_order(stop["oid"])
    assert update is not None and update["status"] == "canceled"
    assert stop["oid"] not in sim.account.orders
    assert sim.cancel_order(stop["oid"]) is None and sim.force_trigger(stop["oid"]) is None


async def test_twap_slices_advance_and_never_reach_user_fills(sim: SimServer, open_ws: Any) -> None:
    """Each 30 s slice raises executedSz on twapStates, arrives on userTwapSliceFills and as
    the user channel's twapSliceFills (zero hash, twapId set), never on userFills; a short
    TWAP finishes into the history (time in seconds)."""
    user = sim.demo_address
    ws: WsClient = await open_ws(sim)
    await _subscribe(
        ws,
        subs.twap_states(user),
        subs.user_twap_slice_fills(user),
        subs.user_twap_history(user),
        subs.user_fills(user),
        subs.user_events(user),
    )
    _, first = await ws.channel("twapStates")
    [[twap_id, state]] = first["data"]["states"]
    assert state["coin"] == "ETH" and state["executedSz"] == "0.0"
    await sim.advance(61)
    await ws.drain()
    frames = [f for _, f in ws.log]
    executed = [
        Decimal(s["executedSz"])
        for f in frames
        if f["channel"] == "twapStates"
        for tid, s in f["data"]["states"]
        if tid == twap_id
    ]
    assert executed[-1] == Decimal("0.06") and executed == sorted(executed)
    slices = [
        item
        for f in frames
        if f["channel"] == "userTwapSliceFills" and not f["data"].get("isSnapshot")
        for item in f["data"]["twapSliceFills"]
    ]
    mine = [s for s in slices if s["twapId"] == twap_id]
    assert len(mine) == 2
    for s in slices:
        assert s["fill"]["hash"] == ZERO_HASH and s["fill"]["twapId"] == s["twapId"]
        assert s["fill"]["feeToken"] in ("USDC", "USDH")
    on_user = [
        item
        for f in frames
        if f["channel"] == "user"
        for item in f["data"].get("twapSliceFills", [])
    ]
    assert on_user == slices
    listed = [x for f in frames if f["channel"] == "userFills" for x in f["data"]["fills"]]
    slice_tids = {s["fill"]["tid"] for s in slices}
    assert not any(x["twapId"] is not None or x["tid"] in slice_tids for x in listed)
    rest_fills = await _info(sim, {"type": "userFills", "user": user})
    assert not slice_tids & {x["tid"] for x in rest_fills}
    rest_slices = await _info(sim, {"type": "userTwapSliceFills", "user": user})
    assert slice_tids <= {s["fill"]["tid"] for s in rest_slices}
    assert rest_slices[0]["fill"]["time"] >= rest_slices[-1]["fill"]["time"]  # newest first
    # By time (the REST poll's cursor): the window's slices only, oldest first.
    since = min(s["fill"]["time"] for s in mine)
    windowed = await _info(
        sim, {"type": "userTwapSliceFillsByTime", "user": user, "startTime": since}
    )
    in_window = {s["fill"]["tid"] for s in rest_slices if s["fill"]["time"] >= since}
    assert {s["fill"]["tid"] for s in windowed} == in_window
    assert {s["fill"]["tid"] for s in mine} <= in_window
    times = [s["fill"]["time"] for s in windowed]
    assert times == sorted(times) and min(times) >= since
    before = await _info(
        sim,
        {"type": "userTwapSliceFillsByTime", "user": user, "startTime": 0, "endTime": since - 1},
    )
    assert before and all(s["fill"]["time"] < since for s in before)
    other = await _info(sim, {"type": "userTwapSliceFillsByTime", "user": "0x" + "1" * 40,
                              "startTime": 0})  # fmt: skip
    assert other == []
    # A one-minute TWAP: two slices, then "finished" in the history.
    started = await _control(sim, "twap", {"coin": "SOL", "side": "B", "sz": "0.5", "minutes": 1})
    short_id = started["twapId"]
    await sim.advance(61)
    history = await _info(sim, {"type": "twapHistory", "user": user})
    mine_h = [h for h in history if h["twapId"] == short_id]
    assert [h["status"]["status"] for h in mine_h] == ["activated", "finished"]
    assert mine_h[-1]["state"]["executedSz"] == "0.5"
    assert 0 < sim.market.now // 1000 - mine_h[-1]["time"] < 60  # seconds, not ms
    await ws.wait_for(
        lambda f: (
            f["channel"] == "userTwapHistory"
            and any(h["twapId"] == short_id for h in f["data"]["history"])
        )
    )
    _decoded(ws)


async def test_liquidation_gives_three_signals(sim: SimServer, open_ws: Any) -> None:
    """liquidate: the account's own fill says ``Liquidated Isolated Short`` with no
    liquidation object, userEvents carries the liquidation naming the account, the ledger a
    ``liquidation`` delta, and the position leaves the state."""
    user = sim.demo_address
    ws: WsClient = await open_ws(sim)
    await _subscribe(
        ws,
        subs.user_events(user),
        subs.user_fills(user),
        subs.user_non_funding_ledger_updates(user),
        subs.clearinghouse_state(user),
        subs.order_updates(user),
    )
    liq = await _control(sim, "liquidate", {"coin": "HYPE"})
    assert liq["liquidated_user"] == user and liq["liquidator"] == LIQUIDATOR_ADDRESS
    _, event = await ws.wait_for(lambda f: f["channel"] == "user" and "liquidation" in f["data"])
    decoded = STRICT_WS.decode(msgspec.json.encode(event))
    assert isinstance(decoded, m.UserEventsMsg) and decoded.data.liquidation is not None
    assert decoded.data.liquidation.liquidated_user == user
    assert Decimal(decoded.data.liquidation.liquidated_ntl_pos) > 0
    _, fills = await ws.wait_for(
        lambda f: f["channel"] == "userFills" and not f["data"].get("isSnapshot")
    )
    [fill] = fills["data"]["fills"]
    assert fill["coin"] == "HYPE" and fill["dir"] == "Liquidated Isolated Short"
    assert "liquidation" not in fill and fill["side"] == "B" and fill["feeToken"] == "USDC"
    _, ledger = await ws.wait_for(
        lambda f: f["channel"] == "userNonFundingLedgerUpdates" and not f["data"].get("isSnapshot")
    )
    delta = ledger["data"]["nonFundingLedgerUpdates"][0]["delta"]
    assert delta["type"] == "liquidation" and delta["leverageType"] == "Isolated"
    assert delta["liquidatedPositions"] == [{"coin": "HYPE", "szi": "-400.0"}]
    await ws.wait_for(
        lambda f: (
            f["channel"] == "clearinghouseState"
            and not any(
                p["position"]["coin"] == "HYPE"
                for p in f["data"]["clearinghouseState"]["assetPositions"]
            )
        )
    )
    _, canceled = await ws.wait_for(lambda f: f["channel"] == "orderUpdates")
    assert {u["status"] for u in canceled["data"]} == {"liquidatedCanceled"}
    state = await _info(sim, {"type": "clearinghouseState", "user": user})
    assert "HYPE" not in {p["position"]["coin"] for p in state["assetPositions"]}
    cross = sim.liquidate("BTC")
    assert cross is not None and cross["lid"] == liq["lid"] + 1
    assert sim.truth.fills[-1]["dir"] == "Liquidated Cross Long"
    assert sim.liquidate("BTC") is None  # gone
    _decoded(ws)


async def test_spot_fills_move_the_wallet_and_pay_fees_in_the_received_token(
    sim: SimServer, open_ws: Any
) -> None:
    """A spot sell of HYPE pays its fee in USDC, a spot buy of FELIX (quoted in USDH) in
    FELIX; spotState pushes the new balances; every fill names its fee token."""
    user = sim.demo_address
    ws: WsClient = await open_ws(sim)
    await _subscribe(ws, subs.spot_state(user))
    _, before = await ws.channel("spotState")
    rows = {b["coin"]: b for b in before["data"]["spotState"]["balances"]}
    sell = sim.force_fill("@6")
    buy = sim.force_fill("@161")
    assert sell is not None and buy is not None
    assert (sell["dir"], sell["feeToken"], sell["startPosition"]) == ("Sell", "USDC", "85.5")
    assert (buy["dir"], buy["feeToken"]) == ("Buy", "FELIX")
    _, after = await ws.wait_for(
        lambda f: (
            f["channel"] == "spotState"
            and {b["coin"]: b for b in f["data"]["spotState"]["balances"]}["FELIX"]["total"]
            != rows["FELIX"]["total"]
        )
    )
    new = {b["coin"]: b for b in after["data"]["spotState"]["balances"]}
    assert Decimal(new["HYPE"]["total"]) == Decimal("81.5")
    assert Decimal(new["USDC"]["total"]) > Decimal(rows["USDC"]["total"])
    assert Decimal(new["USDH"]["total"]) < Decimal(rows["USDH"]["total"])
    felix = Decimal(buy["sz"]) - Decimal(buy["fee"])
    assert Decimal(new["FELIX"]["total"]) == Decimal(rows["FELIX"]["total"]) + felix
    await sim.advance(120)
    fills = await _info(sim, {"type": "userFills", "user": user})
    slices = await _info(sim, {"type": "userTwapSliceFills", "user": user})
    every = fills + [s["fill"] for s in slices]
    assert all(f["feeToken"] for f in every) and {"USDC", "USDH", "FELIX"} <= {
        f["feeToken"] for f in every
    }
