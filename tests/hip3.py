"""HIP-3 account builders shared by the state, UI and snapshot tests: a market catalog with
HIP-3 dexes in several collateral tokens, and ``allDexsClearinghouseState`` / per-dex frames as
the protocol decodes them."""

from __future__ import annotations

import json
from typing import Any

from hlmon.protocol import info
from hlmon.protocol.messages import Message
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog, build_catalog
from tests.state.catalog_fixtures import ALL_PERP_METAS, PERP_DEXS, SPOT_META
from tests.support import T0, msg

T_MS = int(T0 * 1000)
"""The FakeClock's start, in exchange milliseconds."""


def catalog() -> MarketCatalog:
    """xyz (USDC), flx and km (USDH), hyna (USDE), as on mainnet."""

    def dec(req: info.InfoRequest, body: Any) -> Any:
        return info.decode_response(req, json.dumps(body))

    return build_catalog(
        dec(info.perp_dexs(), PERP_DEXS),
        dec(info.all_perp_metas(), ALL_PERP_METAS),
        dec(info.spot_meta(), SPOT_META),
        None,
        loaded_at=T0,
    )


def position(
    coin: str,
    szi: str,
    entry: str | None,
    *,
    value: str = "0.0",
    upnl: str = "0.0",
    liq: str | None = None,
    lev: int = 10,
    lev_type: str = "cross",
    margin: str = "100.0",
) -> dict[str, Any]:
    return {
        "type": "oneWay",
        "position": {
            "coin": coin, "szi": szi, "leverage": {"type": lev_type, "value": lev},
            "entryPx": entry, "positionValue": value, "unrealizedPnl": upnl,
            "returnOnEquity": "0.0", "liquidationPx": liq, "marginUsed": margin,
        },
    }  # fmt: skip


def state(
    value: str = "0.0",
    *,
    positions: list[dict[str, Any]] | None = None,
    margin: str = "0.0",
    maint: str = "0.0",
    withdrawable: str | None = None,
    time: int = T_MS,
) -> dict[str, Any]:
    """A clearinghouse state (the REST object, and each ``allDexs`` entry's second element)."""
    summary = {"accountValue": value, "totalNtlPos": "0.0", "totalRawUsd": value,
               "totalMarginUsed": margin}  # fmt: skip
    return {
        "marginSummary": summary,
        "crossMarginSummary": summary,
        "crossMaintenanceMarginUsed": maint,
        "withdrawable": value if withdrawable is None else withdrawable,
        "assetPositions": positions or [],
        "time": time,
    }


def all_dexs(user: str, entries: list[tuple[str, dict[str, Any]]]) -> Message:
    """An ``allDexsClearinghouseState`` frame: ``[dex, state]`` tuples, in this order."""
    return msg(
        "allDexsClearinghouseState",
        {"user": user, "clearinghouseStates": [[dex, st] for dex, st in entries]},
    )


def per_dex(user: str, dex: str, st: dict[str, Any]) -> Message:
    """A per-dex ``clearinghouseState`` frame."""
    return msg("clearinghouseState", {"dex": dex, "user": user, "clearinghouseState": st})


def open_orders(user: str, dex: str, orders: list[dict[str, Any]]) -> Message:
    return msg("openOrders", {"dex": dex, "user": user, "orders": orders})


def order(oid: int, coin: str, *, side: str = "B", px: str = "100.0", sz: str = "1.0",
          ts: int = T_MS) -> dict[str, Any]:  # fmt: skip
    return {"coin": coin, "side": side, "limitPx": px, "sz": sz, "oid": oid, "timestamp": ts,
            "origSz": sz, "orderType": "Limit", "tif": "Gtc", "reduceOnly": False}  # fmt: skip


MAIN = state("18204.77", positions=[position("BTC", "0.4", "102110.0", value="41765.2",
             upnl="921.2")], margin="2202.78", maint="1101.39",
             withdrawable="14870.02")  # fmt: skip
XYZ = state("2110.40", positions=[position("xyz:NVDA", "-30", "188.2", value="5442.0",
            upnl="204.0", liq="236.9", lev=5, lev_type="isolated")], margin="1129.2",
            maint="300.0")  # fmt: skip
FLX = state("6500.0", positions=[position("flx:CRCL", "10", "80.0", value="812.0",
            upnl="12.0")], margin="266.0", maint="100.0")  # fmt: skip
HYNA = state()
"""Empty: listed by ``allDexsClearinghouseState``, but no activity."""


def use_catalog(store: Store, cat: MarketCatalog | None = None) -> MarketCatalog:
    """Put a catalog in force in ``store`` (as the feeds do once it loads); returns it."""
    cat = cat or catalog()
    store.set_catalog(cat)
    return cat
