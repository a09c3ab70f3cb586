"""Catalog answers shaped like the 2026 mainnet ones (abridged), as wire JSON.

Shared by the catalog tests (state) and the catalog loader tests (feeds, served through
``httpx.MockTransport``).
"""

from __future__ import annotations

from typing import Any


def dex(name: str, full_name: str = "") -> dict[str, Any]:
    return {
        "name": name, "fullName": full_name or f"{name} dex", "deployer": "0x" + "1" * 40,
        "oracleUpdater": None, "feeRecipient": None, "assetToStreamingOiCap": [],
        "subDeployers": [], "deployerFeeScale": "1.0",
        "lastDeployerFeeScaleChangeTime": "1970-01-01T00:00:00", "assetToFundingMultiplier": [],
    }  # fmt: skip


def asset(name: str, sz: int = 2, lev: int | None = 10, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "szDecimals": sz, **extra}
    if lev is not None:
        out["maxLeverage"] = lev
    return out


def meta(names: list[dict[str, Any]], collateral: int | None = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"universe": names, "marginTables": []}
    if collateral is not None:
        out["collateralToken"] = collateral
    return out


def token(name: str, index: int, sz: int = 2) -> dict[str, Any]:
    return {"name": name, "szDecimals": sz, "weiDecimals": 8, "index": index,
            "tokenId": f"0x{index:032x}", "isCanonical": False, "evmContract": None,
            "fullName": None}  # fmt: skip


def pair(name: str, index: int, base: int, quote: int = 0) -> dict[str, Any]:
    return {"tokens": [base, quote], "name": name, "index": index, "isCanonical": index == 0}


PERP_DEXS: list[Any] = [None, dex("xyz", "XYZ"), dex("flx", "Felix"), dex("km"), dex("hyna")]

ALL_PERP_METAS: list[Any] = [
    meta(
        [
            asset("BTC", 5, 40),
            asset("ETH", 4, 25),
            asset("kPEPE", 0, 10),
            asset("MATIC", 1, 20, isDelisted=True),
            asset("UNIBOT", 2, 2, onlyIsolated=True, marginMode="strictIsolated"),
            asset("HYPE", 2, 10),
        ]
    ),
    meta(
        [
            asset("xyz:TSLA", 3),
            asset("xyz:SP500", 3),
            asset("xyz:XYZ100", 4),
            asset("xyz:OLD", 1, isDelisted=True),
        ]
    ),
    meta([asset("flx:TSLA", 2), asset("flx:CRCL", 2, marginMode="noCross")], collateral=360),
    meta([asset("km:US500", 2)], collateral=360),
    meta([asset("hyna:BTC", 4)], collateral=235),
]

SPOT_META: dict[str, Any] = {
    "universe": [
        pair("PURR/USDC", 0, 1),
        pair("@107", 107, 150),
        pair("@166", 166, 268),
        pair("@230", 230, 360),
        pair("@300", 300, 150, 268),  # HYPE/USDT: a non-USDC quote
        pair("@999", 999, 4242),  # base token missing from the answer
    ],
    "tokens": [
        token("USDC", 0, 8),
        token("PURR", 1, 0),
        token("HYPE", 150, 2),
        token("USDT0", 268, 2),
        token("USDH", 360, 2),
        token("USDE", 235, 2),
    ],
}

OUTCOME_META: dict[str, Any] = {
    "outcomes": [
        {"outcome": 1488, "name": "BTC above 150k", "description": "",
         "sideSpecs": [{"name": "Yes"}, {"name": "No"}]},
    ],
    "questions": [],
}  # fmt: skip
