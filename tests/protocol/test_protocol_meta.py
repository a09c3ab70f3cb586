"""Market metadata answers: perpDexs, allPerpMetas, meta, spotMeta, outcomeMeta; strict and
tolerant decoding (one odd entry is left out and counted, never the whole answer)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import ProtocolError
from hlmon.protocol import info as i
from hlmon.protocol.meta import STRICT_TYPES
from tests.payloads import MISSING, payloads_present, responses

_CTX = {"funding": "0.0001", "openInterest": "1", "prevDayPx": "1", "dayNtlVlm": "1",
        "oraclePx": "1", "markPx": "1", "premium": None, "midPx": None,
        "impactPxs": None}  # fmt: skip


def _dec(req: i.InfoRequest, body: Any) -> Any:
    decoded = i.decode_response(req, json.dumps(body))
    # Tolerant results keep the wire's shape: re-encoding and decoding gives the same value.
    assert i.decode_response(req, msgspec.json.encode(decoded)) == decoded
    return decoded


def _dex(name: str) -> dict[str, Any]:
    return {"name": name, "fullName": f"{name} dex", "deployer": "0x" + "1" * 40,
            "oracleUpdater": None, "feeRecipient": None, "assetToStreamingOiCap": [["x", "1"]],
            "subDeployers": [], "deployerFeeScale": "1.0",
            "lastDeployerFeeScaleChangeTime": "1970-01-01T00:00:00",
            "assetToFundingMultiplier": [], "assetToFundingInterestRate": []}  # fmt: skip


# --------------------------------------------------------------------------- perpDexs


def test_perp_dexs_leading_null_is_the_default_dex() -> None:
    dexes = _dec(i.perp_dexs(), [None, _dex("xyz"), _dex("flx")])
    assert dexes[0] is None
    assert [d.name for d in dexes[1:]] == ["xyz", "flx"]
    assert dexes[1].fullName == "xyz dex"


def test_perp_dexs_unreadable_entry_keeps_its_slot() -> None:
    """Positions are dex indices: a bad entry becomes None in place, the rest stay aligned."""
    dexes = _dec(i.perp_dexs(), [None, {"fullName": "no name"}, _dex("flx"), {"name": ""}, 7])
    assert len(dexes) == 5
    assert dexes[1] is None and dexes[3] is None and dexes[4] is None
    assert dexes[2].name == "flx"


def test_perp_dexs_loose_detail_fields_never_cost_the_dex() -> None:
    odd = {**_dex("km"), "assetToStreamingOiCap": {"new": "shape"}, "deployerFeeScale": 1.5}
    dexes = _dec(i.perp_dexs(), [None, odd])
    assert dexes[1].name == "km"


@pytest.mark.parametrize("body", ['{"name":"xyz"}', "null", '"perpDexs"', "[", ""])
def test_perp_dexs_wrong_top_level_raises(body: str) -> None:
    with pytest.raises(ProtocolError):
        i.decode_response(i.perp_dexs(), body)


# --------------------------------------------------------------------------- meta / allPerpMetas


def test_all_perp_metas_is_a_bare_meta_list() -> None:
    metas = _dec(
        i.all_perp_metas(),
        [
            {"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}],
             "marginTables": [], "collateralToken": 0},
            {"universe": [{"name": "xyz:TSLA", "szDecimals": 3, "maxLeverage": 10,
                           "marginMode": "strictIsolated", "growthMode": "enabled"}],
             "marginTables": [], "collateralToken": 360},
        ],
    )  # fmt: skip
    assert [mt.collateralToken for mt in metas] == [0, 360]
    tsla = metas[1].universe[0]
    assert tsla.name == "xyz:TSLA" and tsla.isolated_only and tsla.growthMode == "enabled"
    assert not metas[0].universe[0].isolated_only


def test_meta_missing_max_leverage_gets_a_neutral_default() -> None:
    """2023-era metas have no maxLeverage: decoded strictly, with None, nothing dropped."""
    meta = _dec(i.meta(), {"universe": [{"name": "BTC", "szDecimals": 5}]})
    assert meta.universe[0].maxLeverage is None
    assert meta.dropped_at == [] and meta.collateralToken is None


def test_meta_bad_universe_entries_are_dropped_with_their_positions() -> None:
    universe = [
        {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
        {"name": "ETH"},  # no szDecimals: cannot size anything
        {"name": "", "szDecimals": 1},
        {"name": "SOL", "szDecimals": "2"},
        "HYPE",
        {"name": "kPEPE", "szDecimals": 0, "onlyIsolated": True},
    ]
    meta = _dec(i.meta("xyz"), {"universe": universe, "collateralToken": "zero"})
    assert [a.name for a in meta.universe] == ["BTC", "kPEPE"]
    assert meta.dropped_at == [1, 2, 3, 4]
    assert meta.asset_indices() == [0, 5]
    assert meta.universe[1].isolated_only
    assert meta.collateralToken is None  # unreadable collateral is unknown, never "USDC"


def test_all_perp_metas_one_unreadable_meta_keeps_the_others_aligned() -> None:
    good = {"universe": [{"name": "flx:CRCL", "szDecimals": 2}], "collateralToken": 360}
    metas = _dec(i.all_perp_metas(), [{"universe": []}, {"universe": "nope"}, None, good])
    assert metas[0] is not None and metas[0].universe == []
    assert metas[1] is None and metas[2] is None
    assert metas[3].universe[0].name == "flx:CRCL"


def test_meta_and_asset_ctxs_drops_a_bad_pair_together() -> None:
    """ctxs[i] belongs to universe[i]: dropping one side alone would shift every later ctx."""
    universe = [{"name": "A", "szDecimals": 1}, {"name": "B"}, {"name": "C", "szDecimals": 1},
                {"name": "D", "szDecimals": 1}]  # fmt: skip
    ctxs = [{**_CTX, "markPx": "1"}, {**_CTX, "markPx": "2"}, {"markPx": "3"},
            {**_CTX, "markPx": "4"}]  # fmt: skip
    meta, kept = _dec(i.meta_and_asset_ctxs("xyz"), [{"universe": universe}, ctxs])
    assert [a.name for a in meta.universe] == ["A", "D"]
    assert [c.markPx for c in kept] == ["1", "4"]
    assert meta.dropped_at == [1, 2] and meta.asset_indices() == [0, 3]


@pytest.mark.parametrize(
    ("req", "body"),
    [
        (i.meta(), '{"universe": 5}'),
        (i.meta(), "[]"),
        (i.meta(), '{"universe":'),
        (i.all_perp_metas(), '{"universe": []}'),
        (i.meta_and_asset_ctxs(), '[{"universe": []}]'),
        (i.meta_and_asset_ctxs(), '[{"universe": []}, {}]'),
        (i.spot_meta(), '{"universe": [], "tokens": null}'),
        (i.spot_meta_and_asset_ctxs(), '[{"universe": [], "tokens": []}, 3]'),
        (i.outcome_meta(), '{"outcomes": "x"}'),
        (i.outcome_meta(), "[]"),
        (i.all_perp_metas(), "[" * 100_000),
    ],
)
def test_wrong_top_level_shapes_still_raise(req: i.InfoRequest, body: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        i.decode_response(req, body)
    assert caught.value.snippet == body[:200]


# --------------------------------------------------------------------------- spotMeta / outcomeMeta


def test_spot_meta_bad_pairs_and_tokens_are_counted() -> None:
    body = {
        "universe": [
            {"tokens": [1, 0], "name": "PURR/USDC", "index": 0, "isCanonical": True},
            {"tokens": [150, 0], "name": "@107", "index": 107},
            {"tokens": [2, 0], "index": 3},
        ],
        "tokens": [
            {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0},
            {"name": "PURR", "szDecimals": 0, "weiDecimals": 5, "index": 1},
            {"name": "HYPE", "szDecimals": 2, "weiDecimals": 8, "index": 150,
             "evmContract": {"address": "0x" + "2" * 40, "evm_extra_wei_decimals": 10}},
            {"name": "BAD", "index": 7},
        ],
    }  # fmt: skip
    spot = _dec(i.spot_meta(), body)
    assert [p.name for p in spot.universe] == ["PURR/USDC", "@107"]
    assert [t.name for t in spot.tokens] == ["USDC", "PURR", "HYPE"]
    assert spot.dropped == 2

    both, ctxs = _dec(
        i.spot_meta_and_asset_ctxs(),
        [body, [{"prevDayPx": "1", "dayNtlVlm": "1", "markPx": "1", "coin": "@107"}, {"coin": 1}]],
    )
    assert both.dropped == 3 and [c.coin for c in ctxs] == ["@107"]


def test_outcome_meta_is_lenient() -> None:
    body = {
        "outcomes": [
            {"outcome": 1488, "name": "BTC above 100k", "description": "",
             "sideSpecs": [{"name": "Yes"}, {"name": "No", "token": 9}], "quoteToken": 0},
            {"name": "no id"},
            {"outcome": 7},
        ],
        "questions": [{"question": 1, "name": "q", "namedOutcomes": [1488],
                       "settledNamedOutcomes": []}, {"question": "x"}],
    }  # fmt: skip
    meta = _dec(i.outcome_meta(), body)
    assert [o.outcome for o in meta.outcomes] == [1488, 7]
    assert meta.outcomes[0].sideSpecs[1].token == 9 and meta.outcomes[1].sideSpecs == []
    assert len(meta.questions) == 1 and meta.dropped == 2
    assert _dec(i.outcome_meta(), {}) == i.OutcomeMeta()
    assert _dec(i.outcome_meta(), {"outcomes": None, "questions": None}) == i.OutcomeMeta()


# --------------------------------------------------------------------------- recorded samples


@pytest.mark.skipif(not payloads_present(), reason=MISSING)
def test_recorded_catalog_samples_decode_strictly() -> None:
    """The recorded perpDexs, meta and spotMeta answers need no tolerance at all."""
    (perp_dexs,) = responses("rest_perpDexs.json")
    dexes = i.decode_response(i.perp_dexs(), json.dumps(perp_dexs))
    assert dexes[0] is None and [d.name for d in dexes[1:]] == ["test", "unit", "scam"]
    for body in responses("rest_meta.json"):
        meta = i.decode_response(i.meta(), json.dumps(body))
        assert meta.dropped_at == [] and len(meta.universe) == len(body["universe"])
    delisted = [a.name for a in meta.universe if a.isDelisted]
    assert "MATIC" in delisted and meta.collateralToken == 0
    for body in responses("rest_spotMeta.json"):
        spot = i.decode_response(i.spot_meta(), json.dumps(body))
        assert spot.dropped == 0 and len(spot.tokens) == len(body["tokens"])


# --------------------------------------------------------------------------- robustness

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 400) | st.text(max_size=6),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4)
    ),
    max_leaves=25,
)
_entry = st.fixed_dictionaries(
    {},
    optional={"name": st.text(max_size=6) | st.integers(), "szDecimals": st.integers(-1, 9) | _json,
              "maxLeverage": st.integers(1, 50) | _json, "isDelisted": st.booleans() | _json},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(STRICT_TYPES)), _json)
def test_property_any_json_decodes_or_raises_protocol_error(info_type: str, value: Any) -> None:
    try:
        i.decode_response(i.from_body({"type": info_type}), json.dumps(value))
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(_entry | _json, max_size=8), st.integers(-1, 400) | _json)
def test_property_every_wellformed_universe_entry_survives(entries: list[Any], token: Any) -> None:
    """Whatever else is in the universe, each entry with a name and szDecimals is kept, in order."""
    meta = i.decode_response(i.meta(), json.dumps({"universe": entries, "collateralToken": token}))
    good = [
        pos
        for pos, e in enumerate(entries)
        if isinstance(e, dict)
        and isinstance(e.get("name"), str)
        and e["name"]
        and type(e.get("szDecimals")) is int
        and (e.get("maxLeverage") is None or type(e.get("maxLeverage")) is int)
        and type(e.get("isDelisted", False)) is bool
    ]
    assert meta.asset_indices() == good
    assert sorted(set(meta.dropped_at) | set(good)) == list(range(len(entries)))
