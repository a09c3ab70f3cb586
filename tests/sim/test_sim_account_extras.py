"""The whole-account answers of the simulator (spot, modes, roles, TWAP, portfolio) read by
hlmon's own protocol structs, strictly (no tolerant repair), over a real loopback server;
their weights; and the fixed addresses' ``userRole`` answers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from hlmon.protocol import info as api
from hlmon.protocol import messages as m
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.account_types import UserRole
from hlmon.protocol.info import extra_weight
from hlmon.sim import (
    ACCOUNT_MODES,
    DEMO_AGENT_ADDRESS,
    DEMO_SUB_ACCOUNT_ADDRESS,
    DEMO_VAULT_ADDRESS,
    SimLimits,
    SimServer,
)
from hlmon.sim.limits import users_refusal
from hlmon.sim.roles import ABSTRACTION, WEBDATA3_ABSTRACTION

from .support import WsClient, make_sim

STRICT_WS = msgspec.json.Decoder(m.KnownMsg)
UNKNOWN = "0x00000000000000000000000000000000000000aa"


def strict(req: api.InfoRequest, body: bytes) -> Any:
    """Decode a REST answer with hlmon's struct for its type, without the tolerant pass."""
    return msgspec.json.decode(body, type=api.RESPONSE_TYPES[req.type])


def extras(user: str) -> list[api.InfoRequest]:
    return [
        api.spot_clearinghouse_state(user),
        api.user_abstraction(user),
        api.user_role(user),
        api.portfolio(user),
        api.user_twap_slice_fills(user),
        api.twap_history(user),
    ]


async def _post(sim: SimServer, req: api.InfoRequest) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/info", json=req.body)
    assert r.status_code == 200, (req.body, r.text)
    return r


@pytest.mark.parametrize("mode", ACCOUNT_MODES)
async def test_answers_decode_strictly_in_every_mode(mode: str) -> None:
    """Every new REST answer decodes with the protocol structs as they are, for the demo
    account in each mode (after TWAP slices ran) and for an unknown address."""
    async with make_sim(demo_account=mode) as sim:
        await sim.advance(95)
        for user in (sim.demo_address, UNKNOWN):
            for req in extras(user):
                r = await _post(sim, req)
                value = strict(req, r.content)
                assert api.decode_response(req, r.content) == value
        spot = strict(
            api.spot_clearinghouse_state(sim.demo_address),
            (await _post(sim, api.spot_clearinghouse_state(sim.demo_address))).content,
        )
        assert (spot.portfolioMarginEnabled is True) == (mode == "portfolio")
        mode_req = api.user_abstraction(sim.demo_address)
        assert strict(mode_req, (await _post(sim, mode_req)).content) == ABSTRACTION[mode]


async def test_weights_are_charged(sim: SimServer) -> None:
    """spotClearinghouseState 2, userRole 60, userAbstraction and portfolio 20, the TWAP
    histories 20 plus one per started 20 items (as the client counts)."""
    budget = sim.tracker.client("127.0.0.1").rest_weight
    user = sim.demo_address
    for req, base in (
        (api.spot_clearinghouse_state(user), 2),
        (api.user_role(user), 60),
        (api.user_abstraction(user), 20),
        (api.portfolio(user), 20),
        (api.user_twap_slice_fills(user), 20),
        (api.twap_history(user), 20),
    ):
        before = budget.used()
        r = await _post(sim, req)
        items = r.json()
        extra = extra_weight(req.type, len(items))
        assert budget.used() - before == base + extra, req.type


async def test_user_role_of_the_fixed_addresses(sim: SimServer) -> None:
    """The demo account is a user; its agent names it as master, so does its sub-account;
    the vault is a vault; anything else is missing. Agents and sub-accounts are empty."""
    demo = sim.demo_address
    expected = {
        demo: ("user", None),
        DEMO_AGENT_ADDRESS: ("agent", demo),
        DEMO_SUB_ACCOUNT_ADDRESS: ("subAccount", demo),
        DEMO_VAULT_ADDRESS: ("vault", None),
        UNKNOWN: ("missing", None),
    }
    for address, (role, master) in expected.items():
        req = api.user_role(address)
        answer: UserRole = strict(req, (await _post(sim, req)).content)
        assert (answer.role, answer.master) == (role, master), address
    agent_state = (await _post(sim, api.clearinghouse_state(DEMO_AGENT_ADDRESS))).json()
    assert agent_state["assetPositions"] == []
    mixed = await _post(sim, api.user_role(DEMO_AGENT_ADDRESS.upper().replace("0X", "0x")))
    assert mixed.json() == {"role": "agent", "data": {"user": demo}}


async def test_portfolio_is_sparse_and_ends_at_the_equity(sim: SimServer) -> None:
    """Eight periods in the exchange's order; sparse samples, oldest first, the last one at
    now holding the account's equity (pools at their token's price plus spot)."""
    req = api.portfolio(sim.demo_address)
    periods = strict(req, (await _post(sim, req)).content)
    assert [name for name, _ in periods] == [
        "day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime",
    ]  # fmt: skip
    total, perp = sim.account.equity_usd()
    for name, period in periods:
        times = [t for t, _ in period.accountValueHistory]
        assert times == sorted(times) and times[-1] == sim.market.now
        assert 2 <= len(times) <= 76 and len(period.pnlHistory) == len(times)
        assert Decimal(period.accountValueHistory[0][1]) > 0
        want = perp if name.startswith("perp") else total
        assert abs(Decimal(period.accountValueHistory[-1][1]) - want) < Decimal("0.001")
        assert period.pnlHistory[0][1] == "0.0" and Decimal(period.vlm or "0") >= 0
    day = dict(periods)["day"]
    assert len(day.accountValueHistory) == 13
    assert sim.market.now - day.accountValueHistory[0][0] <= 86_400_000
    empty = strict(req, (await _post(sim, api.portfolio(UNKNOWN))).content)
    assert [p.accountValueHistory for _, p in empty] == [[]] * 8


async def test_ws_account_feeds_decode_strictly(sim: SimServer, open_ws: Any) -> None:
    """spotState (echoing ignorePortfolioMargin), twapStates per dex, userTwapSliceFills,
    userTwapHistory and webData3's abstraction: snapshot and pushes decode with KnownMsg."""
    ws: WsClient = await open_ws(sim)
    user = sim.demo_address
    wanted = [
        subs.spot_state(user),
        subs.twap_states(user),
        subs.twap_states(user, "xyz"),
        subs.user_twap_slice_fills(user),
        subs.user_twap_history(user),
        subs.web_data3(user),
        subs.user_events(user),
    ]
    for sub in wanted:
        await ws.subscribe(sub.to_wire())
    acks = [(await ws.channel("subscriptionResponse"))[1] for _ in wanted]
    spot_ack = acks[0]["data"]["subscription"]
    assert spot_ack == {"type": "spotState", "user": user, "ignorePortfolioMargin": False}
    assert {subs.canonical_key(a["data"]["subscription"]) for a in acks} == {s.key for s in wanted}
    await sim.advance(35)
    await ws.drain()
    seen: dict[str, list[Any]] = {}
    for raw, frame in ws.log:
        msg = STRICT_WS.decode(raw)
        seen.setdefault(frame["channel"], []).append(msg)
    spot = seen["spotState"][0]
    assert isinstance(spot, m.SpotStateMsg) and spot.data.user == user
    assert {b.coin for b in spot.data.spotState.balances} >= {"USDC", "HYPE", "USDH", "FELIX"}
    outcome = next(b for b in spot.data.spotState.balances if b.coin == "+90")
    assert outcome.token is None and outcome.is_outcome
    states = {msg.data.dex: msg.data for msg in seen["twapStates"]}
    assert {s.coin for _, s in states[""].states} == {"ETH"}
    assert {s.coin for _, s in states["xyz"].states} == {"xyz:TSLA"}
    assert all(s.user == user and s.trigger is None for _, s in states[""].states)
    slices = seen["userTwapSliceFills"]
    assert slices[0].data.isSnapshot and len(slices[0].data.twapSliceFills) == 10  # DOGE
    assert any(not s.data.isSnapshot and s.data.twapSliceFills for s in slices[1:])
    history = seen["userTwapHistory"][0].data
    assert history.isSnapshot and [h.status.status for h in history.history][:2] == [
        "activated",
        "finished",
    ]
    web = seen["webData3"][0]
    assert isinstance(web, m.WebData3Msg) and web.abstraction == WEBDATA3_ABSTRACTION["standard"]
    events = [e.data for e in seen["user"]]
    assert any(e.twapSliceFills for e in events) and not any(e.is_empty for e in events)


async def test_spot_state_counts_as_a_user_and_checks_its_flag(open_ws: Any) -> None:
    """A spotState subscription takes a user slot; a non-boolean ignorePortfolioMargin does
    not parse."""
    limits = SimLimits(max_users=1)
    async with make_sim(limits=limits) as sim:
        ws: WsClient = await open_ws(sim)
        await ws.subscribe(subs.spot_state(sim.demo_address).to_wire())
        await ws.channel("subscriptionResponse")
        await ws.subscribe(subs.spot_state(DEMO_VAULT_ADDRESS).to_wire())
        _, err = await ws.channel("error")
        assert err["data"] == users_refusal(limits)
        bad = {"type": "spotState", "user": sim.demo_address, "ignorePortfolioMargin": "yes"}
        await ws.subscribe(bad)
        _, err = await ws.channel("error")
        assert re.match(r"Error parsing JSON into valid websocket request", err["data"])
