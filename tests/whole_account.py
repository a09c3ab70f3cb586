"""Shared fixtures of the whole account (#14) for tests without the simulator: a catalog with
spot tokens (one of them quoted only in USDH) and an outcome market, mids for them, and a spot
state that holds a bit of everything: USDC, a priced token, a token priced through a non-USDC
quote, a token with no pair at all, an outcome side and a settled outcome.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hlmon.protocol import info
from hlmon.protocol.messages import Message
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog, build_catalog
from tests.state.catalog_fixtures import ALL_PERP_METAS, OUTCOME_META, PERP_DEXS, SPOT_META
from tests.support import msg


def spot_catalog() -> MarketCatalog:
    """The state tests' catalog plus FELIX (token 500), whose only pair ``@161`` is quoted in
    USDH; the outcome market ``#14880`` is quoted in USDH too."""
    spot = copy.deepcopy(SPOT_META)
    spot["universe"].append({"tokens": [500, 360], "name": "@161", "index": 161,
                             "isCanonical": False})  # fmt: skip
    spot["tokens"].append({"name": "FELIX", "szDecimals": 1, "weiDecimals": 8, "index": 500,
                           "tokenId": "0x" + "5" * 32, "isCanonical": False,
                           "evmContract": None, "fullName": None})  # fmt: skip
    outcomes = copy.deepcopy(OUTCOME_META)
    outcomes["outcomes"][0]["quoteToken"] = 360
    return build_catalog(
        info.decode_response(info.perp_dexs(), json.dumps(PERP_DEXS)),
        info.decode_response(info.all_perp_metas(), json.dumps(ALL_PERP_METAS)),
        info.decode_response(info.spot_meta(), json.dumps(spot)),
        info.decode_response(info.outcome_meta(), json.dumps(outcomes)),
        loaded_at=1.0,
    )


SPOT_MIDS = {"@107": "40.0", "@230": "0.999", "@166": "1.001", "PURR/USDC": "0.2",
             "@161": "0.05", "#14880": "0.6", "#14881": "0.4"}  # fmt: skip
"""HYPE 40 USDC; USDH 0.999; USDT0 1.001; PURR 0.2; FELIX 0.05 USDH; outcome sides."""


def balance(coin: str, total: str, token: int | None, hold: str = "0.0",
            entry: str = "0.0") -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {"coin": coin, "total": total, "hold": hold, "entryNtl": entry}
    if token is not None:
        row["token"] = token
    return row


SPOT_BALANCES: list[dict[str, Any]] = [
    balance("USDC", "1250.5", 0, hold="200.0"),
    balance("HYPE", "12.5", 150, entry="400.0"),
    balance("FELIX", "20000.0", 500, entry="800.0"),
    balance("USDH", "500.0", 360, hold="100.0", entry="500.0"),
    balance("PURR", "10000.0", 1, entry="1500.0"),
    balance("+14880", "20.0", None, entry="10.0"),
    balance("o14881", "5.0", None),
]


def spot_msg(user: str, balances: list[dict[str, Any]] | None = None, **extra: Any) -> Message:
    rows = SPOT_BALANCES if balances is None else balances
    return msg("spotState", {"user": user, "spotState": {"balances": rows, **extra}})


def use_catalog(store: Store, catalog: MarketCatalog) -> None:
    """Put ``catalog`` in force in ``store``, as the feeds do when it has loaded."""
    store.set_catalog(catalog)
