"""Deterministic data for the UI tests: a hand-driven clock and a store filled with
hand-made exchange messages (decoded exactly as the websocket feed would decode them), and a
condition wait that lets a running app work."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from hlmon.config import Settings
from hlmon.protocol.messages import Candle, Message
from hlmon.state import ConnState, Source, Store
from tests.support import T0, FakeClock, msg

if TYPE_CHECKING:
    from textual.pilot import Pilot

USER = "0x8a31c0ffee00000000000000000000000000f02c"
T0_MS = int(T0 * 1000)
COINS = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE")


def settings(**kw: Any) -> Settings:
    """Settings for tests: the demo address, the default watchlist."""
    base: dict[str, Any] = {"address": USER, "watchlist": COINS, "fps": 10.0}
    base.update(kw)
    return Settings(**base)


MID_PATHS: dict[str, list[str]] = {
    "BTC": ["104100.0", "104180.5", "104230.0", "104305.0", "104390.5", "104412.5"],
    "ETH": ["3712.4", "3705.1", "3701.0", "3696.35", "3690.2", "3688.25"],
    "SOL": ["200.61", "200.88", "201.02", "201.31", "201.42", "201.555"],
    "LTC": ["96.05", "96.08", "96.1", "96.11", "96.1", "96.12"],
    "AAVE": ["290.1", "289.7", "289.2", "288.6", "288.3", "287.9"],
    "HYPE": ["37.12", "37.41", "37.77", "38.05", "38.3", "38.412"],
}

CTX: dict[str, dict[str, str]] = {
    "BTC": {"funding": "0.0000125", "openInterest": "29120.5", "prevDayPx": "102870.0",
            "markPx": "104413.0"},
    "ETH": {"funding": "-0.0000031", "openInterest": "550210.2", "prevDayPx": "3787.0",
            "markPx": "3688.2"},
    "SOL": {"funding": "0.00001", "openInterest": "2044210.0", "prevDayPx": "200.71",
            "markPx": "201.55"},
    "LTC": {"funding": "0.000008", "openInterest": "917652.0", "prevDayPx": "96.02",
            "markPx": "96.12"},
    "AAVE": {"funding": "0.000011", "openInterest": "418230.1", "prevDayPx": "290.37",
             "markPx": "287.9"},
    "HYPE": {"funding": "0.000021", "openInterest": "31502210.0", "prevDayPx": "37.22",
             "markPx": "38.41"},
}  # fmt: skip


def ctx_msg(coin: str) -> Message:
    c = CTX[coin]
    return msg(
        "activeAssetCtx",
        {
            "coin": coin,
            "ctx": {**c, "dayNtlVlm": "1000000.0", "oraclePx": c["markPx"], "premium": "0.0001"},
        },
    )


def book_msg(coin: str = "BTC", mid: float = 104412.5, tick: float = 1.0, levels: int = 20,
             t_ms: int = T0_MS - 200) -> Message:  # fmt: skip
    bids, asks = [], []
    for i in range(levels):
        sz_b = f"{0.25 + ((i * 7919) % 13) * 0.31711:.5f}"
        sz_a = f"{0.12 + ((i * 104729) % 11) * 0.41237:.5f}"
        bids.append({"px": f"{mid - tick / 2 - i * tick:.1f}", "sz": sz_b, "n": 1 + i % 4})
        asks.append({"px": f"{mid + tick / 2 + i * tick:.1f}", "sz": sz_a, "n": 1 + i % 3})
    return msg("l2Book", {"coin": coin, "time": t_ms, "levels": [bids, asks]})


def trades_msg(coin: str = "BTC", n: int = 30, t_ms: int = T0_MS - 100) -> Message:
    data = []
    for i in range(n):
        side = "B" if (i * 37) % 5 < 3 else "A"
        px = 104412.0 + ((i * 13) % 7) - 3
        data.append(
            {"coin": coin, "side": side, "px": f"{px:.1f}", "sz": f"{0.001 + (i % 9) * 0.0137:.5f}",
             "time": t_ms - (n - i) * 1700, "tid": 1000 + i, "hash": "0x00"}
        )  # fmt: skip
    return msg("trades", data)


def clearinghouse_msg(user: str = USER, t_ms: int = T0_MS - 2100, btc_szi: str = "0.4") -> Message:
    """The user's default-dex state at ``t_ms``; another ``btc_szi`` resizes the BTC position
    (a fill), where another ``t_ms`` alone is a re-push that only re-marks."""

    def pos(coin: str, szi: str, entry: str, value: str, upnl: str, roe: str, liq: str,
            lev_type: str, lev: int, margin: str) -> dict[str, Any]:  # fmt: skip
        return {
            "type": "oneWay",
            "position": {
                "coin": coin, "szi": szi, "leverage": {"type": lev_type, "value": lev},
                "entryPx": entry, "positionValue": value, "unrealizedPnl": upnl,
                "returnOnEquity": roe, "liquidationPx": liq, "marginUsed": margin,
            },
        }  # fmt: skip

    summary = {"accountValue": "18204.77", "totalNtlPos": "49342.6", "totalRawUsd": "-31137.8",
               "totalMarginUsed": "2202.78"}  # fmt: skip
    return msg(
        "clearinghouseState",
        {
            "user": user,
            "clearinghouseState": {
                "marginSummary": summary,
                "crossMarginSummary": summary,
                "crossMaintenanceMarginUsed": "581.3",
                "withdrawable": "14870.02",
                "assetPositions": [
                    pos("BTC", btc_szi, "102110.0", "41765.2", "921.2", "0.451", "81020.5",
                        "cross", 20, "2088.26"),
                    pos("ETH", "-2.0", "3735.3", "7376.4", "94.2", "0.252", "3950.0",
                        "isolated", 10, "737.64"),
                    pos("HYPE", "120.0", "37.9", "4609.2", "61.44", "0.27", "37.1",
                        "cross", 5, "921.84"),
                ],
                "time": t_ms,
            },
        },
    )  # fmt: skip


def orders_msg(user: str = USER, btc_sz: str = "0.05") -> Message:
    """The user's open orders; another ``btc_sz`` (the BTC bid partly filled) makes a list
    that differs from the one held (a re-push of the same list is no change)."""

    def order(oid: int, coin: str, side: str, px: str, sz: str, orig: str, ro: bool = False,
              kind: str = "Limit") -> dict[str, Any]:  # fmt: skip
        return {"coin": coin, "side": side, "limitPx": px, "sz": sz, "oid": oid,
                "timestamp": T0_MS - (oid % 1000) * 1000, "origSz": orig, "orderType": kind,
                "reduceOnly": ro, "tif": "Gtc"}  # fmt: skip

    return msg(
        "openOrders",
        {
            "user": user,
            "orders": [
                order(88123401, "BTC", "B", "103000.0", btc_sz, "0.05"),
                order(88123455, "ETH", "A", "3800.0", "1.0", "1.5", ro=True),
                order(88123502, "SOL", "B", "195.5", "10.0", "10.0"),
            ],
        },
    )


def fills_msg(user: str = USER) -> Message:
    def fill(tid: int, coin: str, side: str, px: str, sz: str, d: str, pnl: str, ago: int
             ) -> dict[str, Any]:  # fmt: skip
        return {"coin": coin, "px": px, "sz": sz, "side": side, "time": T0_MS - ago * 1000,
                "startPosition": "0.0", "dir": d, "closedPnl": pnl, "hash": "0x00",
                "oid": 88000000 + tid, "crossed": True, "fee": "0.0412", "tid": tid}  # fmt: skip

    return msg(
        "userFills",
        {
            "user": user,
            "isSnapshot": True,
            "fills": [
                fill(1, "BTC", "B", "102110.0", "0.4", "Open Long", "0.0", 3600),
                fill(2, "ETH", "A", "3735.3", "2.0", "Open Short", "0.0", 1800),
                fill(3, "SOL", "A", "201.2", "5.0", "Close Long", "12.35", 60),
            ],
        },
    )


def fundings_msg(user: str = USER) -> Message:
    return msg(
        "userFundings",
        {
            "user": user,
            "isSnapshot": True,
            "fundings": [
                {"time": T0_MS - 3600_000, "coin": "BTC", "usdc": "-0.5221", "szi": "0.4",
                 "fundingRate": "0.0000125"},
                {"time": T0_MS - 3600_000, "coin": "ETH", "usdc": "0.0229", "szi": "-2.0",
                 "fundingRate": "-0.0000031"},
            ],
        },
    )  # fmt: skip


def frontend_order(
    oid: int, coin: str, side: str, limit: str, sz: str, *, kind: str = "Limit",
    trigger: str | None = None, condition: str = "N/A", ro: bool = False,
    position_tpsl: bool = False, children: list[dict[str, Any]] | None = None,
    orig: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One order in the frontend shape (``openOrders`` / ``frontendOpenOrders``)."""
    return {"coin": coin, "side": side, "limitPx": limit, "sz": sz, "oid": oid,
            "timestamp": T0_MS - (oid % 1000) * 1000, "origSz": orig or sz, "orderType": kind,
            "isTrigger": trigger is not None, "triggerPx": trigger or "0.0",
            "triggerCondition": condition, "reduceOnly": ro, "isPositionTpsl": position_tpsl,
            "tif": None if trigger is not None else "Gtc", "children": children or []}  # fmt: skip


def trigger_orders_msg(user: str = USER) -> Message:
    """Open orders with triggers, as a trader protecting the fixture's positions has them:
    position TP/SL on the ETH short, a triggered stop limit on the BTC long, a SOL entry with
    its TP/SL legs (nested and listed), and the three plain orders."""
    eth_sl = frontend_order(4000001007, "ETH", "B", "4190.3", "2.0", kind="Stop Market",
                            trigger="3809.4", condition="Price above 3809.4", ro=True,
                            position_tpsl=True)  # fmt: skip
    eth_tp = frontend_order(4000000957, "ETH", "B", "3946.1", "2.0", kind="Take Profit Market",
                            trigger="3587.4", condition="Price below 3587.4", ro=True,
                            position_tpsl=True)  # fmt: skip
    btc_sl = frontend_order(4000000911, "BTC", "A", "101850.0", "0.1", kind="Stop Limit",
                            trigger="101900.0", condition="Triggered", ro=True)  # fmt: skip
    sol_tp = frontend_order(4000000861, "SOL", "A", "209.5", "10.0", kind="Take Profit Limit",
                            trigger="210.0", condition="Price above 210.0", ro=True)  # fmt: skip
    sol_sl = frontend_order(4000000862, "SOL", "A", "166.5", "10.0", kind="Stop Market",
                            trigger="185.0", condition="Price below 185.0", ro=True)  # fmt: skip
    sol = frontend_order(4000000860, "SOL", "B", "195.5", "10.0", children=[sol_tp, sol_sl])
    plain = orders_msg(user).data.orders  # type: ignore[union-attr]
    orders = [eth_sl, eth_tp, btc_sl, sol, sol_tp, sol_sl]
    orders += [msgspec.to_builtins(o) for o in plain]
    return msg("openOrders", {"user": user, "orders": orders})


def hip3_messages(user: str = USER) -> list[Message]:
    """A HIP-3 dex ``xyz`` with two names that differ in their last letter (``xyz:TSLA``
    long, ``xyz:TSLL`` short) and an order on each."""

    def pos(coin: str, szi: str, entry: str, value: str, upnl: str, liq: str,
            lev: int) -> dict[str, Any]:  # fmt: skip
        return {"type": "oneWay", "position": {
            "coin": coin, "szi": szi, "leverage": {"type": "isolated", "value": lev},
            "entryPx": entry, "positionValue": value, "unrealizedPnl": upnl,
            "returnOnEquity": "0.1", "liquidationPx": liq, "marginUsed": "100.0"}}  # fmt: skip

    summary = {"accountValue": "2110.4", "totalNtlPos": "12540.0", "totalRawUsd": "-10429.6",
               "totalMarginUsed": "940.2"}  # fmt: skip
    state = msg(
        "clearinghouseState",
        {"user": user, "dex": "xyz", "clearinghouseState": {
            "marginSummary": summary, "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": "0.0", "withdrawable": "1170.2",
            "assetPositions": [
                pos("xyz:TSLA", "30.0", "188.2", "5442.0", "-204.0", "151.37", 5),
                pos("xyz:TSLL", "-500.0", "14.12", "7098.0", "-39.0", "41.37", 3),
            ],
            "time": T0_MS}},  # pushed when the tests apply it (at T0): not late
    )  # fmt: skip
    orders = msg(
        "openOrders",
        {"user": user, "dex": "xyz", "orders": [
            frontend_order(4100000101, "xyz:TSLA", "A", "153.0", "30.0", kind="Stop Market",
                           trigger="170.0", condition="Price below 170.0", ro=True,
                           position_tpsl=True),
            frontend_order(4100000102, "xyz:TSLL", "B", "13.5", "100.0"),
        ]},
    )  # fmt: skip
    return [state, orders]


def far_liquidation_msg(user: str = USER, t_ms: int = T0_MS) -> Message:
    """The fixture's account with liquidation prices far away: long texts in ``liq`` and
    ``dist`` (a short liquidated at 118,634 while ETH trades at 3,688), pushed at ``t_ms``
    (by default at ``T0``, when the tests apply it: not late)."""
    frame = msgspec.to_builtins(clearinghouse_msg(user, t_ms=t_ms))
    positions = frame["data"]["clearinghouseState"]["assetPositions"]
    positions[0]["position"]["liquidationPx"] = "9.5"
    positions[1]["position"]["liquidationPx"] = "118634.2"
    return msg("clearinghouseState", frame["data"])


def hourly_candles(coin: str, last: str, n: int = 96, end_ms: int = T0_MS) -> list[Candle]:
    """``n`` deterministic 1 h candles of ``coin`` ending in the hour of ``end_ms``, the last
    one closing at ``last`` (what ``candleSnapshot`` answers, oldest first)."""
    places = len(last.partition(".")[2])
    close = float(last)
    phase = sum(map(ord, coin)) % 17
    drift = 0.03 if close >= float(CTX.get(coin, {}).get("prevDayPx", close)) else -0.03
    path = [close * (1 + 0.02 * math.sin((i + phase) / 5) + 0.008 * math.sin(i * 1.3)
                     + drift * (i - n) / 24) for i in range(n + 1)]  # fmt: skip
    scale = close / path[-1]
    path = [p * scale for p in path]
    start = end_ms // 3_600_000 * 3_600_000 - (n - 1) * 3_600_000
    out = []
    for i in range(n):
        o, c = path[i], path[i + 1]
        wick = abs(c - o) * 0.6 + close * 0.002
        out.append(Candle(
            open_time=start + i * 3_600_000, close_time=start + (i + 1) * 3_600_000 - 1,
            coin=coin, interval="1h", open=f"{o:.{places}f}", close=f"{c:.{places}f}",
            high=f"{max(o, c) + wick:.{places}f}", low=f"{min(o, c) - wick:.{places}f}",
            volume="12.5", trades=40,
        ))  # fmt: skip
    return out


def populated_store(
    clock: FakeClock | None = None, *, coins: tuple[str, ...] = COINS, account: bool = True
) -> Store:
    """A store as the engine would leave it after a few seconds on a healthy connection.

    Ages are deterministic: the clock is moved between messages so each feed has its own
    age at ``T0``, like the mockup's status bar. ``account=False``: the market has arrived,
    the account's first data has not (the API is slow or unreachable).
    """
    clock = clock or FakeClock()
    end = clock.now
    clock.now = end - 30.0
    store = Store(clock)
    store.set_user(USER)
    store.set_watch(coins)
    store.health.set_connection(ConnState.CONNECTING, url="wss://api.hyperliquid.xyz/ws")
    store.health.set_connection(ConnState.LIVE, url="wss://api.hyperliquid.xyz/ws")
    for key in ("mids", "account", "orders", "fills", "fundings", "book:BTC", "trades:BTC",
                "bbo:BTC", *(f"ctx:{c}" for c in coins)):  # fmt: skip
        store.expect(key)
    store.health.log("reconciled at startup: 3 fills, 3 open orders")
    store.health.set_rest_usage(12, 600)
    clock.now = end - 5.0
    if account:
        store.apply(fills_msg())
        store.apply(fundings_msg())
    for i in range(len(MID_PATHS["BTC"])):
        clock.now = end - 5.0 + i * 0.9
        store.apply(msg("allMids", {"mids": {c: MID_PATHS[c][i] for c in coins}}))
        store.health.note_frame("allMids", 300)
    clock.now = end - 2.1
    if account:
        store.apply(clearinghouse_msg())
        store.apply(orders_msg())
        # Its dexes listed (only the default one holds anything), as every account's
        # allDexsClearinghouseState push lists them.
        default = msgspec.to_builtins(clearinghouse_msg())["data"]["clearinghouseState"]
        store.apply(msg("allDexsClearinghouseState",
                        {"user": USER, "clearinghouseStates": [["", default]]}))  # fmt: skip
        # A standard account (its perp pool is its equity) without spot balances.
        store.set_account_mode(USER, "default")
        store.apply(msg("spotState", {"user": USER, "spotState": {"balances": []}}))
    clock.now = end - 1.2
    for c in coins:  # what the candle keeper asked over REST (the sparklines, the chart)
        store.apply_candles(c, "1h", hourly_candles(c, MID_PATHS[c][-1]), Source.REST)
    store.apply(book_msg())
    for c in coins:
        store.apply(ctx_msg(c))
        store.health.note_frame("activeAssetCtx", 200)
    clock.now = end - 0.4
    store.apply(trades_msg())
    store.apply(
        msg("bbo", {"coin": "BTC", "time": T0_MS - 100,
                    "bbo": [{"px": "104412.0", "sz": "0.8", "n": 2},
                            {"px": "104413.0", "sz": "0.12", "n": 1}]})
    )  # fmt: skip
    for _ in range(40):
        store.health.note_frame("bbo", 120)
    clock.now = end
    store.health.note_alive()
    return store


async def pilot_wait(
    pilot: Pilot[int], cond: Callable[[], object], limit: float = 5.0, interval: float = 0.02
) -> None:
    """Let the app run (``pilot.pause``) until ``cond()`` holds; ``AssertionError`` after
    ``limit`` seconds (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(interval)


def apply_rest(store: Store, message: Message) -> None:
    """Apply a message as the REST fallback would."""
    store.apply(message, Source.REST)


def note_calls(obj: object, name: str, note: Callable[[], object]) -> None:
    """Wrap ``obj.name`` so that every call runs ``note()`` first, then the method itself
    (which pane was rebuilt, and when)."""
    method = getattr(obj, name)

    def noted(*args: Any, **kwargs: Any) -> Any:
        note()
        return method(*args, **kwargs)

    setattr(obj, name, noted)
