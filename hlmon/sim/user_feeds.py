"""Frames of the user-scoped feeds: states, snapshots and the events of one block.

The demo account's feeds carry its data; every other address gets the shapes of an empty
account. ``Hub`` decides when to push; this module decides what.
"""

from __future__ import annotations

from typing import Any

from hlmon.sim.account import DemoAccount
from hlmon.sim.dexes import dex_of
from hlmon.sim.margin import empty_clearinghouse_state
from hlmon.sim.market import Market
from hlmon.sim.orders import AccountEvents
from hlmon.sim.subscriptions import Subscription

EVENT_ONLY = frozenset({"orderUpdates", "userEvents", "notification"})
"""Feeds with no snapshot: only events after the subscription."""


def _empty_web_data3(market: Market, user: str | None) -> dict[str, Any]:
    return {
        "userState": {
            "agentAddress": None,
            "agentValidUntil": None,
            "cumLedger": "0.0",
            "serverTime": market.now,
            "isVault": False,
            "user": user,
        },
        "perpDexStates": [
            {"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": []}
            for _ in market.universe.dex_names
        ],
    }


def state_payload(account: DemoAccount, market: Market, sub: Subscription) -> Any:
    """Current full data of a user state feed (None if ``sub`` is not one)."""
    kind = sub.type
    demo = sub.user == account.address
    user = sub.user
    st = market.coin(sub.coin) if sub.coin is not None else None
    if kind == "activeAssetData" and st is not None:
        if demo:
            return account.active_asset_data(st.spec.name)
        return {
            "user": user,
            "coin": st.spec.name,
            "leverage": {"type": "cross", "value": min(10, st.spec.max_leverage)},
            "maxTradeSzs": ["0.0", "0.0"],
            "availableToTrade": ["0.0", "0.0"],
            "markPx": market.mid_str(st),
        }
    if kind == "clearinghouseState":
        state = (
            account.clearinghouse_state(sub.dex) if demo else empty_clearinghouse_state(market.now)
        )
        return {"dex": sub.dex, "user": user, "clearinghouseState": state}
    if kind == "allDexsClearinghouseState":
        if demo:
            states = account.all_dexs_states()
        else:
            states = [[d, empty_clearinghouse_state(market.now)] for d in market.universe.dex_names]
        return {"user": user, "clearinghouseStates": states}
    if kind == "openOrders":
        orders = account.frontend_open_orders(sub.dex) if demo else []
        return {"dex": sub.dex, "user": user, "orders": orders}
    if kind == "webData3":
        return account.web_data3() if demo else _empty_web_data3(market, user)
    if kind == "spotState":
        ignore_pm = sub.interval == "ignorePortfolioMargin"
        spot = account.spot_clearinghouse_state(ignore_pm) if demo else {"balances": []}
        return {"user": user, "spotState": spot}
    if kind == "twapStates":
        states = account.twap_states(sub.dex) if demo else []
        return {"dex": sub.dex, "user": user, "states": states}
    return None


def snapshot_frame(account: DemoAccount, sub: Subscription) -> tuple[str, dict[str, Any]] | None:
    """(channel, data) of the ``isSnapshot`` frame a history feed starts with, else None."""
    demo = sub.user == account.address
    user = sub.user
    kind = sub.type
    if kind == "userFills":
        return "userFills", {
            "isSnapshot": True,
            "user": user,
            "fills": account.fills[-2000:] if demo else [],
        }
    if kind == "userFundings":
        return "userFundings", {
            "isSnapshot": True,
            "user": user,
            "fundings": account.fundings[-2000:] if demo else [],
        }
    if kind == "userNonFundingLedgerUpdates":
        return "userNonFundingLedgerUpdates", {
            "isSnapshot": True,
            "user": user,
            "nonFundingLedgerUpdates": account.ledger if demo else [],
        }
    if kind == "userTwapSliceFills":
        return "userTwapSliceFills", {
            "isSnapshot": True,
            "user": user,
            "twapSliceFills": account.twaps.slice_fills[-2000:] if demo else [],
        }
    if kind == "userTwapHistory":
        return "userTwapHistory", {
            "isSnapshot": True,
            "user": user,
            "history": account.twaps.history if demo else [],
        }
    return None


def event_frames(sub: Subscription, ev: AccountEvents) -> list[tuple[str, Any]] | None:
    """(channel, data) frames an event feed of the demo account gets for ``ev``; None when
    ``sub`` is a state feed (re-pushed whole instead, see ``state_touched``)."""
    kind = sub.type
    user = sub.user
    if kind == "orderUpdates":
        return [("orderUpdates", ev.order_updates)] if ev.order_updates else []
    if kind == "userEvents":
        out: list[tuple[str, Any]] = []
        if ev.fills:
            out.append(("user", {"fills": ev.fills}))
        out.extend(("user", {"funding": f}) for f in ev.fundings)
        out.extend(("user", {"liquidation": liq}) for liq in ev.liquidations)
        if ev.twap_fills:
            out.append(("user", {"twapSliceFills": ev.twap_fills}))
        if ev.twap_history:
            out.append(("user", {"twapHistory": ev.twap_history}))
        return out
    if kind == "userFills":
        return [("userFills", {"user": user, "fills": ev.fills})] if ev.fills else []
    if kind == "userFundings":
        return [("userFundings", {"user": user, "fundings": ev.fundings})] if ev.fundings else []
    if kind == "userNonFundingLedgerUpdates":
        if not ev.ledger:
            return []
        return [
            (
                "userNonFundingLedgerUpdates",
                {"user": user, "nonFundingLedgerUpdates": ev.ledger},
            )
        ]
    if kind == "userTwapSliceFills":
        if not ev.twap_fills:
            return []
        return [("userTwapSliceFills", {"user": user, "twapSliceFills": ev.twap_fills})]
    if kind == "userTwapHistory":
        if not ev.twap_history:
            return []
        return [("userTwapHistory", {"user": user, "history": ev.twap_history})]
    if kind == "notification":
        return [("notification", {"notification": n}) for n in ev.notifications]
    return None


def state_touched(sub: Subscription, ev: AccountEvents, collateral_in_spot: bool) -> bool:
    """True if a state feed should be re-pushed at once after ``ev``: per-dex feeds only
    when the event touched their dex (a deposit touches the default dex); ``spotState`` on a
    spot trade, or on any account change when the collateral lives in spot."""
    kind = sub.type
    if kind in ("clearinghouseState", "openOrders"):
        return sub.dex in touched_dexes(ev)
    if kind == "allDexsClearinghouseState":
        return bool(ev)
    if kind == "activeAssetData":
        return any(f["coin"] == sub.coin for f in ev.fills)
    if kind == "spotState":
        return ev.spot_changed or (collateral_in_spot and bool(ev))
    if kind == "twapStates":
        return sub.dex in ev.twap_dexes
    return False


def touched_dexes(ev: AccountEvents) -> set[str]:
    """The perp dexes whose state ``ev`` changed."""
    coins = [f["coin"] for f in ev.fills] + [f["coin"] for f in ev.fundings]
    coins += [u["order"]["coin"] for u in ev.order_updates]
    coins += [t["fill"]["coin"] for t in ev.twap_fills]
    dexes = {dex_of(c) for c in coins}
    if ev.ledger:
        dexes.add("")
    return dexes
