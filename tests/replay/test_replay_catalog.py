"""The catalog a replay answers with decodes through hlmon's own protocol layer and lists
exactly the recorded coins, HIP-3, spot and outcome names included."""

from __future__ import annotations

import msgspec

from hlmon.protocol import info
from hlmon.replay.catalog import catalog_answers
from hlmon.state.catalog import MarketKind, build_catalog

COINS = ["BTC", "kPEPE", "xyz:TSLA", "xyz:NVDA", "flx:CRCL", "@107", "PURR/USDC", "#90", "#91"]


def test_recorded_coins_make_a_catalog_that_lists_them() -> None:
    answers = catalog_answers(COINS)

    def decoded(req: info.InfoRequest) -> object:
        return info.decode_response(req, msgspec.json.encode(answers[req.type]))

    catalog = build_catalog(
        decoded(info.perp_dexs()),  # type: ignore[arg-type]
        decoded(info.all_perp_metas()),  # type: ignore[arg-type]
        decoded(info.spot_meta()),  # type: ignore[arg-type]
        decoded(info.outcome_meta()),  # type: ignore[arg-type]
        loaded_at=0.0,
    )
    assert not catalog.warnings
    assert {m.name for m in catalog.markets()} == set(COINS)
    assert [d.name for d in catalog.dexes()] == ["", "flx", "xyz"]
    assert catalog.dex_of("xyz:TSLA") == "xyz"
    assert catalog.market("@107") is not None and catalog.display("@107") == "@107"
    assert catalog.market("#91") is not None
    assert catalog.market("#91").kind is MarketKind.OUTCOME  # type: ignore[union-attr]
    assert catalog.resolve("xyz:tsla").name == "xyz:TSLA"
    assert answers["meta"]["xyz"]["universe"][0]["name"] == "xyz:NVDA"
