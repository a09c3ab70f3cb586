"""Websocket protocol fidelity: acks, first/later frames, errors, ping, post."""

from __future__ import annotations

from typing import Any

import pytest

from hlmon.protocol import messages as m
from hlmon.sim import SimServer

from .support import WsClient, decode_frame

DEMO = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"

# (subscription, data channel, expected struct, has an immediate first frame)
SUBSCRIPTIONS: list[tuple[dict[str, Any], str, type, bool]] = [
    ({"type": "allMids"}, "allMids", m.AllMidsMsg, True),
    ({"type": "l2Book", "coin": "BTC"}, "l2Book", m.L2BookMsg, True),
    ({"type": "l2Book", "coin": "ETH", "fast": True}, "l2Book", m.L2BookMsg, True),
    ({"type": "trades", "coin": "BTC"}, "trades", m.TradesMsg, True),
    ({"type": "bbo", "coin": "BTC"}, "bbo", m.BboMsg, True),
    ({"type": "candle", "coin": "BTC", "interval": "1m"}, "candle", m.CandleMsg, True),
    ({"type": "activeAssetCtx", "coin": "BTC"}, "activeAssetCtx", m.ActiveAssetCtxMsg, True),
    ({"type": "activeAssetCtx", "coin": "@6"}, "activeSpotAssetCtx", m.ActiveSpotAssetCtxMsg, True),
    (
        {"type": "activeAssetData", "user": DEMO, "coin": "BTC"},
        "activeAssetData",
        m.ActiveAssetDataMsg,
        True,
    ),
    (
        {"type": "clearinghouseState", "user": DEMO},
        "clearinghouseState",
        m.ClearinghouseStateMsg,
        True,
    ),
    ({"type": "openOrders", "user": DEMO}, "openOrders", m.OpenOrdersMsg, True),
    ({"type": "webData3", "user": DEMO}, "webData3", m.WebData3Msg, True),
    ({"type": "userFills", "user": DEMO}, "userFills", m.UserFillsMsg, True),
    ({"type": "userFundings", "user": DEMO}, "userFundings", m.UserFundingsMsg, True),
    (
        {"type": "userNonFundingLedgerUpdates", "user": DEMO},
        "userNonFundingLedgerUpdates",
        m.UserNonFundingLedgerUpdatesMsg,
        True,
    ),
    ({"type": "orderUpdates", "user": DEMO}, "orderUpdates", m.OrderUpdatesMsg, False),
    ({"type": "userEvents", "user": DEMO}, "user", m.UserEventsMsg, False),
    ({"type": "notification", "user": DEMO}, "notification", m.NotificationMsg, False),
]


def _ids(item: tuple[dict[str, Any], str, type, bool]) -> str:
    sub = item[0]
    return "-".join(str(v) for k, v in sub.items() if k != "user")


@pytest.mark.parametrize("case", SUBSCRIPTIONS, ids=[_ids(c) for c in SUBSCRIPTIONS])
async def test_subscription_first_and_later_frames_decode(
    sim: SimServer, open_ws: Any, case: tuple[dict[str, Any], str, type, bool]
) -> None:
    """Ack first, then (for state feeds) a first frame; later frames decode with the protocol."""
    sub, channel, struct, immediate = case
    assert sim.demo_address == DEMO
    ws: WsClient = await open_ws(sim)
    await ws.subscribe(sub)
    _, ack = await ws.channel("subscriptionResponse")
    assert ack["data"]["method"] == "subscribe"
    if immediate:
        raw, first = await ws.wait_for(lambda f: f["channel"] != "subscriptionResponse")
        assert first["channel"] == channel
        assert isinstance(decode_frame(raw), struct)
    # Later frames: a fill, a deposit and an hour boundary give every feed something to push.
    sim.force_fill()
    sim.account.deposit("500")
    await sim.advance(6)
    if channel == "userFundings":
        await sim.advance(3600, step_ms=60_000)
    raw, later = await ws.channel(channel)
    msg = decode_frame(raw)
    assert isinstance(msg, struct)
    if channel in ("userFills", "userFundings", "userNonFundingLedgerUpdates"):
        assert "isSnapshot" not in later["data"] or not immediate
    assert ws.channels().index("subscriptionResponse") == 0


async def test_ack_echo_is_normalised(sim: SimServer, open_ws: Any) -> None:
    """l2Book gains nSigFigs/mantissa/fast, userFills gains aggregateByTime, candle reorders."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "l2Book", "coin": "BTC"})
    _, ack = await ws.channel("subscriptionResponse")
    assert ack["data"]["subscription"] == {
        "type": "l2Book",
        "coin": "BTC",
        "nSigFigs": None,
        "mantissa": None,
        "fast": False,
    }
    await ws.subscribe({"type": "userFills", "user": DEMO})
    _, ack = await ws.channel("subscriptionResponse")
    assert ack["data"]["subscription"] == {
        "type": "userFills",
        "user": DEMO,
        "aggregateByTime": False,
    }
    await ws.send(
        '{"method":"subscribe","subscription":{"type":"candle","coin":"HYPE","interval":"1d"}}'
    )
    raw, ack = await ws.channel("subscriptionResponse")
    assert '"subscription":{"type":"candle","interval":"1d","coin":"HYPE"}' in raw
    await ws.unsubscribe({"type": "l2Book", "coin": "BTC", "nSigFigs": None})
    _, ack = await ws.channel("subscriptionResponse")
    assert ack["data"]["method"] == "unsubscribe"
    assert ack["data"]["subscription"]["coin"] == "BTC"


async def test_error_texts(sim: SimServer, open_ws: Any) -> None:
    """Duplicate, unknown unsubscribe and unparseable requests give exact texts (an unknown coin
    drops the socket: ``test_sim_names``)."""
    ws = await open_ws(sim)
    await ws.send('{"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}}')
    await ws.channel("subscriptionResponse")
    await ws.send('{"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}}')
    _, err = await ws.channel("error")
    assert err["data"] == 'Already subscribed: {"type":"trades","coin":"ETH"}'
    await ws.send('{"method":"unsubscribe","subscription":{"type":"trades","coin":"SOL"}}')
    _, err = await ws.channel("error")
    assert err["data"] == 'Already unsubscribed: {"type":"trades","coin":"SOL"}'
    bad = [
        '{"method":"subscribe","xsubscription":{"type":"bbo","coin":"SOL"}}',
        '{"method":"subscribe","subscription":{"type":"noSuchFeed"}}',
        '{"method":"subscribe","subscription":{"type":"webData2","user":"' + DEMO + '"}}',
        '{"method":"subscribe","subscription":{"type":"candle","coin":"BTC","interval":"7m"}}',
        "not json at all",
    ]
    for text in bad:
        await ws.send(text)
        raw, err = await ws.channel("error")
        assert err["data"] == "Error parsing JSON into valid websocket request: " + text
        assert isinstance(decode_frame(raw), m.ErrorMsg)


async def test_ping_pong(sim: SimServer, open_ws: Any) -> None:
    """``{"method":"ping"}`` is answered by ``{"channel":"pong"}`` with no data member."""
    ws = await open_ws(sim)
    await ws.send({"method": "ping"})
    raw, _ = await ws.channel("pong")
    assert raw == '{"channel":"pong"}'
    assert isinstance(decode_frame(raw), m.PongMsg)


async def test_snapshot_flags_and_no_snapshot_feeds(sim: SimServer, open_ws: Any) -> None:
    """isSnapshot:true only on the first userFills frame; orderUpdates/user send nothing first."""
    ws = await open_ws(sim)
    for sub in (
        {"type": "orderUpdates", "user": DEMO},
        {"type": "userEvents", "user": DEMO},
        {"type": "userFills", "user": DEMO},
    ):
        await ws.subscribe(sub)
    _, snap = await ws.channel("userFills")
    assert snap["data"]["isSnapshot"] is True
    assert len(snap["data"]["fills"]) >= 30
    assert ws.channels().count("subscriptionResponse") == 3
    assert "orderUpdates" not in ws.channels() and "user" not in ws.channels()
    fill = sim.force_fill("BTC")
    assert fill is not None
    _, live = await ws.channel("userFills")
    assert "isSnapshot" not in live["data"]
    assert live["data"]["fills"][0]["tid"] == fill["tid"]
    _, upd = await ws.channel("orderUpdates")
    assert upd["data"][0]["status"] == "filled" and upd["data"][0]["order"]["oid"] == fill["oid"]
    _, user = await ws.channel("user")
    assert user["data"]["fills"][0]["tid"] == fill["tid"]


async def test_trades_backfill_batch(sim: SimServer, open_ws: Any) -> None:
    """A trades subscription starts with a batch of 30 recent trades."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "trades", "coin": "AAVE"})
    _, first = await ws.channel("trades")
    assert len(first["data"]) == 30
    trade = first["data"][0]
    assert trade["side"] in ("A", "B") and isinstance(trade["tid"], int)
    assert len(trade["users"]) == 2 and trade["hash"].startswith("0x")


async def test_l2book_fast_and_bucketing(sim: SimServer, open_ws: Any) -> None:
    """fast:true gives 5 levels; nSigFigs buckets prices to that many significant figures."""
    ws = await open_ws(sim)
    await ws.subscribe({"type": "l2Book", "coin": "BTC", "fast": True})
    _, fast = await ws.channel("l2Book")
    assert [len(side) for side in fast["data"]["levels"]] == [5, 5]
    await ws.subscribe({"type": "l2Book", "coin": "BTC", "nSigFigs": 3})
    _, coarse = await ws.wait_for(lambda f: f["channel"] == "l2Book" and "fast" not in f["data"])
    bids, asks = coarse["data"]["levels"]
    assert len(bids) == 20 and len(asks) == 20
    for level in bids + asks:
        digits = level["px"].replace(".", "").strip("0")
        assert len(digits) <= 3, level
    assert float(bids[0]["px"]) < float(asks[0]["px"])
    await ws.subscribe({"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 5})
    _, ack = await ws.wait_for(
        lambda f: f["channel"] == "subscriptionResponse" and f["data"]["subscription"]["mantissa"]
    )
    assert ack["data"]["subscription"]["nSigFigs"] == 5


async def test_post_info_and_errors(sim: SimServer, open_ws: Any) -> None:
    """post info requests are answered on channel post; unparseable ones only by an error."""
    ws = await open_ws(sim)
    await ws.send(
        {
            "method": "post",
            "id": 7,
            "request": {
                "type": "info",
                "payload": {"type": "l2Book", "coin": "ETH", "nSigFigs": 5, "mantissa": None},
            },
        }
    )
    raw, reply = await ws.channel("post")
    assert reply["data"]["id"] == 7
    payload = reply["data"]["response"]["payload"]
    assert reply["data"]["response"]["type"] == "info"
    assert payload["type"] == "l2Book" and payload["data"]["coin"] == "ETH"
    assert isinstance(decode_frame(raw), m.PostMsg)
    bad = '{"method":"post","id":8,"request":{"type":"info","payload":{"type":"noSuchInfo"}}}'
    await ws.send(bad)
    _, err = await ws.channel("error")
    assert err["data"] == "Error parsing JSON into valid websocket request: " + bad
    await ws.send({"method": "ping"})
    await ws.channel("pong")
    assert not any(f["channel"] == "post" and f["data"]["id"] == 8 for _, f in ws.log)
    await ws.send({"method": "post", "id": 9, "request": {"type": "action", "payload": {}}})
    _, reply = await ws.channel("post")
    assert reply["data"]["response"]["payload"]["status"] == "err"


async def test_other_users_get_empty_state(sim: SimServer, open_ws: Any) -> None:
    """Any valid address works: an empty account, empty snapshots."""
    other = "0x" + "ab" * 20
    ws = await open_ws(sim)
    await ws.subscribe({"type": "clearinghouseState", "user": other})
    raw, frame = await ws.channel("clearinghouseState")
    assert frame["data"]["clearinghouseState"]["assetPositions"] == []
    assert isinstance(decode_frame(raw), m.ClearinghouseStateMsg)
    await ws.subscribe({"type": "userFills", "user": other})
    _, fills = await ws.channel("userFills")
    assert fills["data"] == {"isSnapshot": True, "user": other, "fills": []}
