"""The catalog a replay answers with decodes through hlmon's own protocol layer and lists
exactly the recorded coins, HIP-3, spot and outcome names included."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from hlmon.protocol import info
from hlmon.replay.catalog import catalog_answers, recorded_coins
from hlmon.replay.recording import Frame, Recording, classify
from hlmon.state.catalog import MarketCatalog, MarketKind, build_catalog

COINS = ["BTC", "kPEPE", "xyz:TSLA", "xyz:NVDA", "flx:CRCL", "@107", "PURR/USDC", "#90", "#91"]


def _catalog_of(coins: Iterable[str]) -> tuple[dict[str, Any], MarketCatalog]:
    """The made-up answers for ``coins``, and the catalog hlmon builds from them."""
    answers = catalog_answers(coins)

    def decoded(req: info.InfoRequest) -> object:
        return info.decode_response(req, msgspec.json.encode(answers[req.type]))

    catalog = build_catalog(
        decoded(info.perp_dexs()),  # type: ignore[arg-type]
        decoded(info.all_perp_metas()),  # type: ignore[arg-type]
        decoded(info.spot_meta()),  # type: ignore[arg-type]
        decoded(info.outcome_meta()),  # type: ignore[arg-type]
        loaded_at=0.0,
    )
    return answers, catalog


def test_recorded_coins_make_a_catalog_that_lists_them() -> None:
    answers, catalog = _catalog_of(COINS)
    assert not catalog.warnings
    assert {m.name for m in catalog.markets()} == set(COINS)
    assert [d.name for d in catalog.dexes()] == ["", "flx", "xyz"]
    assert catalog.dex_of("xyz:TSLA") == "xyz"
    assert catalog.market("@107") is not None and catalog.display("@107") == "@107"
    assert catalog.market("#91") is not None
    assert catalog.market("#91").kind is MarketKind.OUTCOME  # type: ignore[union-attr]
    assert catalog.resolve("xyz:tsla").name == "xyz:TSLA"
    assert answers["meta"]["xyz"]["universe"][0]["name"] == "xyz:NVDA"


def _frame(t: float, payload: dict[str, object]) -> Frame:
    text = json.dumps(payload)
    route, key, channel = classify(text)
    return Frame(t, text, route, key, channel)


def _position(coin: str) -> dict[str, object]:
    position = {
        "coin": coin, "szi": "1.0", "leverage": {"type": "cross", "value": 5}, "entryPx": "10.0",
        "positionValue": "10.0", "unrealizedPnl": "0.0", "returnOnEquity": "0.0",
        "marginUsed": "2.0",
    }  # fmt: skip
    return {"type": "oneWay", "position": position}


def _state(*coins: str) -> dict[str, object]:
    """A clearinghouse state holding a position in each of ``coins``."""
    margin = {"accountValue": "100.0", "totalNtlPos": "0.0", "totalRawUsd": "100.0",
              "totalMarginUsed": "0.0"}  # fmt: skip
    return {
        "marginSummary": margin,
        "crossMarginSummary": margin,
        "withdrawable": "100.0",
        "assetPositions": [_position(c) for c in coins],
    }


def _dex_state(user: str, dex: str, *coins: str) -> dict[str, object]:
    """A ``clearinghouseState`` frame of ``dex``."""
    data = {"dex": dex, "user": user, "clearinghouseState": _state(*coins)}
    return {"channel": "clearinghouseState", "data": data}


def test_a_recording_without_answers_lists_the_dexes_its_account_trades_on() -> None:
    """A format-1 recording: a HIP-3 dex no market frame names, but where the account holds a
    position, an order or a fill, is listed (so its state is followed), with its collateral
    token unknown rather than guessed; the default dex's is USDC."""
    user = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
    both = [["", _state("BTC")], ["km", _state("km:GOLD")]]
    frames = [
        _frame(0.1, {"channel": "allMids", "data": {"mids": {"BTC": "1"}}}),
        _frame(0.2, _dex_state(user, "xyz", "xyz:TSLA")),
        _frame(0.3, {"channel": "allDexsClearinghouseState",
                     "data": {"user": user, "clearinghouseStates": both}}),
        _frame(0.4, {"channel": "openOrders",
                     "data": {"dex": "flx", "user": user, "orders": [{"coin": "flx:CRCL"}]}}),
        _frame(0.5, {"channel": "userFills",
                     "data": {"user": user, "fills": [{"coin": "hyna:SOL"}]}}),
        # A position opened while recording shows in the stream's last frame.
        _frame(9.0, _dex_state(user, "xyz", "xyz:TSLA", "xyz:NVDA")),
    ]  # fmt: skip
    header = {"hlmon_recording": 1, "start": 1.0, "coins": ["ETH"]}
    recording = Recording(Path("old.jsonl.gz"), header, frames)
    coins = recorded_coins(recording)
    assert coins == {"BTC", "ETH", "xyz:TSLA", "xyz:NVDA", "km:GOLD", "flx:CRCL", "hyna:SOL"}
    _, catalog = _catalog_of(coins)
    assert not catalog.warnings
    assert [(d.name, d.collateral) for d in catalog.dexes()] == [
        ("", "USDC"), ("flx", None), ("hyna", None), ("km", None), ("xyz", None),
    ]  # fmt: skip
