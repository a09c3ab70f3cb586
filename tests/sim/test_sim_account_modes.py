"""The demo account read as a standard, unified and portfolio-margin account: the same money,
shown where each mode keeps it (per-dex pools, or the spot rows of each collateral token)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from hlmon.protocol import info as api
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.account_types import ClearinghouseState, SpotClearinghouseState
from hlmon.sim import SimServer

from .support import WsClient, make_sim

DEXES = ("", "xyz", "flx", "hyna")
COLLATERAL = {"": "USDC", "xyz": "USDC", "flx": "USDH", "hyna": "USDE"}
CENT = Decimal("0.01")


class Account:
    """One mode's REST answers, decoded with hlmon's structs."""

    def __init__(self, states: dict[str, ClearinghouseState], spot: SpotClearinghouseState):
        self.states = states
        self.spot = spot
        self.rows = {b.coin: b for b in spot.balances}

    def upnl(self, dexes: tuple[str, ...] = DEXES, *, cross_only: bool = False) -> Decimal:
        return sum(
            (
                Decimal(p.position.unrealizedPnl)
                for d in dexes
                for p in self.states[d].assetPositions
                if not cross_only or p.position.leverage.type == "cross"
            ),
            Decimal(0),
        )

    def settled(self, dex: str) -> Decimal:
        """A standard pool's realised money: account value less unrealised PnL."""
        return Decimal(self.states[dex].marginSummary.accountValue) - self.upnl((dex,))


async def _read(sim: SimServer) -> Account:
    user = sim.demo_address
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        states = {}
        for dex in DEXES:
            req = api.clearinghouse_state(user, dex)
            states[dex] = api.decode_response(
                req, (await client.post("/info", json=req.body)).content
            )
        req = api.spot_clearinghouse_state(user)
        spot = api.decode_response(req, (await client.post("/info", json=req.body)).content)
    return Account(states, spot)


def _positions(acc: Account) -> list[tuple[Any, ...]]:
    return [
        (p.position.coin, p.position.szi, p.position.marginUsed, p.position.liquidationPx)
        for d in DEXES
        for p in acc.states[d].assetPositions
    ]


@pytest.mark.parametrize("mode", ["unified", "portfolio"])
async def test_collateral_lives_in_spot(mode: str) -> None:
    """Same seed and clock: the unified (portfolio) account's perp states read only the
    margin held (accountValue = margin used + cross PnL, withdrawable 0, 0 on an empty
    dex) while positions, margins, maintenance margin and liquidation prices are unchanged;
    each collateral token's spot row holds the standard pools' realised money (total) and
    their margin (hold); the equity is the same in both readings."""
    async with make_sim() as std_sim, make_sim(demo_account=mode) as sim:
        std, uni = await _read(std_sim), await _read(sim)
    assert _positions(uni) == _positions(std)
    for dex in DEXES:
        s, u = std.states[dex], uni.states[dex]
        assert u.withdrawable == "0.0"
        assert u.crossMaintenanceMarginUsed == s.crossMaintenanceMarginUsed
        assert u.marginSummary.totalMarginUsed == s.marginSummary.totalMarginUsed
        # (an isolated position's margin already holds its PnL)
        margin = Decimal(u.marginSummary.totalMarginUsed)
        cross_pnl = uni.upnl((dex,), cross_only=True)
        assert abs(Decimal(u.marginSummary.accountValue) - margin - cross_pnl) < CENT
        if not u.assetPositions:
            assert u.marginSummary.accountValue == "0.0"
    # The default dex of the standard account holds ~80 000 USDC; unified reads its margin.
    assert Decimal(std.states[""].marginSummary.accountValue) > 50_000
    assert Decimal(uni.states[""].marginSummary.accountValue) < 25_000
    for token in ("USDC", "USDH"):
        dexes = [d for d in DEXES if COLLATERAL[d] == token]
        settled = sum((std.settled(d) for d in dexes), Decimal(0))
        margin = sum(
            (Decimal(std.states[d].marginSummary.totalMarginUsed) for d in dexes), Decimal(0)
        )
        spot_total, spot_hold = Decimal(std.rows[token].total), Decimal(std.rows[token].hold)
        assert abs(Decimal(uni.rows[token].total) - spot_total - settled) < CENT, token
        assert abs(Decimal(uni.rows[token].hold) - spot_hold - margin) < CENT, token
    assert "USDE" not in uni.rows  # hyna was never funded
    # Equity: standard = pools + spot; unified = spot + unrealised PnL (USDC and USDH rows,
    # the only ones that differ; USDH valued 1:1 here as both readings use the same price).
    std_equity = sum(
        (Decimal(std.states[d].marginSummary.accountValue) for d in DEXES), Decimal(0)
    ) + sum((Decimal(std.rows[t].total) for t in ("USDC", "USDH")), Decimal(0))
    uni_equity = uni.upnl() + sum(
        (Decimal(uni.rows[t].total) for t in ("USDC", "USDH")), Decimal(0)
    )
    assert abs(std_equity - uni_equity) < CENT


async def test_portfolio_margin_extras(open_ws: Any) -> None:
    """Portfolio margin: the state says so, carries a ratio below the 0.95 liquidation
    level, and the eligible rows carry ltv/supplied/borrowed/spotHold; a spotState
    subscription with ignorePortfolioMargin leaves all of that out; webData3 names the mode."""
    async with make_sim(demo_account="portfolio") as sim:
        acc = await _read(sim)
        spot = acc.spot
        assert spot.portfolioMarginEnabled is True
        assert spot.portfolioMarginRatio is not None
        assert Decimal(0) < Decimal(spot.portfolioMarginRatio) < Decimal("0.95")
        for coin in ("USDC", "HYPE", "UBTC"):
            row = acc.rows[coin]
            assert row.ltv is not None and row.borrowed == "0.0"
            assert row.supplied == row.total and row.spotHold is not None
        assert acc.rows["HYPE"].ltv == "0.65" and acc.rows["HYPE"].spotHold == "4.0"
        assert acc.rows["FELIX"].ltv is None and acc.rows["+90"].token is None
        ws: WsClient = await open_ws(sim)
        await ws.subscribe(subs.web_data3(sim.demo_address).to_wire())
        await ws.channel("subscriptionResponse")
        _, web = await ws.channel("webData3")
        assert web["data"]["userState"]["abstraction"] == "portfolioMargin"
        for flag in (False, True):
            await ws.subscribe(subs.spot_state(sim.demo_address, flag).to_wire())
            _, ack = await ws.channel("subscriptionResponse")
            assert ack["data"]["subscription"]["ignorePortfolioMargin"] is flag
            _, frame = await ws.channel("spotState")
            state = frame["data"]["spotState"]
            assert ("portfolioMarginRatio" in state) is not flag
            assert ("ltv" in state["balances"][0]) is not flag


async def test_standard_account_has_no_portfolio_fields() -> None:
    """A standard account's spot state is the spot side alone, without portfolio fields."""
    async with make_sim() as sim:
        acc = await _read(sim)
    assert acc.spot.portfolioMarginEnabled is None and acc.spot.portfolioMarginRatio is None
    assert acc.rows["USDC"].total == "250.0" and acc.rows["USDC"].ltv is None
    assert Decimal(acc.states[""].withdrawable) > 0
