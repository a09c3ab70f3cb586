"""MarketCatalog: built from the catalog answers, resolves what users type, round-trips JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import info
from hlmon.state.catalog import (
    CACHE_VERSION,
    MarketCatalog,
    MarketKind,
    ResolveError,
    build_catalog,
)

from .catalog_fixtures import ALL_PERP_METAS, OUTCOME_META, PERP_DEXS, SPOT_META, asset, meta

T_LOADED = 1_790_000_000.0


def _decode(req: info.InfoRequest, body: Any) -> Any:
    return info.decode_response(req, json.dumps(body))


def make(
    perp_dexs: Any = PERP_DEXS,
    metas: Any = ALL_PERP_METAS,
    spot: Any = SPOT_META,
    outcomes: Any = OUTCOME_META,
    **kw: Any,
) -> MarketCatalog:
    """A catalog built exactly as the loader does: from decoded wire answers."""
    return build_catalog(
        _decode(info.perp_dexs(), perp_dexs),
        _decode(info.all_perp_metas(), metas),
        _decode(info.spot_meta(), spot),
        _decode(info.outcome_meta(), outcomes) if outcomes is not None else None,
        loaded_at=T_LOADED,
        **kw,
    )


@pytest.fixture(scope="module")
def cat() -> MarketCatalog:
    return make()


# --------------------------------------------------------------------------- contents


def test_every_kind_of_name_is_listed(cat: MarketCatalog) -> None:
    perps = [mk.name for mk in cat.markets(MarketKind.PERP)]
    assert perps[:3] == ["BTC", "ETH", "kPEPE"]
    assert "xyz:TSLA" in perps and "flx:CRCL" in perps and "km:US500" in perps
    assert "MATIC" not in perps and "MATIC" in cat  # delisted: known, not listed
    assert [mk.name for mk in cat.markets(MarketKind.SPOT)][:2] == ["PURR/USDC", "@107"]
    assert [mk.name for mk in cat.markets(MarketKind.OUTCOME)] == ["#14880", "#14881"]
    assert [mk.name for mk in cat.markets(dex="xyz")] == ["xyz:TSLA", "xyz:SP500", "xyz:XYZ100"]
    assert len(cat.markets(dex="xyz", listed_only=False)) == 4


def test_market_fields(cat: MarketCatalog) -> None:
    btc = cat.market("BTC")
    assert btc is not None
    assert (btc.kind, btc.dex, btc.sz_decimals, btc.collateral, btc.max_leverage) == (
        MarketKind.PERP, "", 5, "USDC", 40)  # fmt: skip
    crcl = cat.market("flx:CRCL")
    assert crcl is not None and crcl.dex == "flx" and crcl.collateral == "USDH"
    assert crcl.isolated_only and crcl.asset_index == 1
    unibot = cat.market("UNIBOT")
    assert unibot is not None and unibot.isolated_only and not unibot.delisted
    hype = cat.market("@107")
    assert hype is not None and (hype.base, hype.quote, hype.display) == ("HYPE", "USDC",
                                                                         "HYPE/USDC")  # fmt: skip
    yes = cat.market("#14880")
    assert yes is not None and yes.display == "BTC above 150k: Yes" and yes.asset_index == 14880


def test_dexes_and_their_collateral_by_name(cat: MarketCatalog) -> None:
    assert [(d.name, d.index, d.collateral) for d in cat.dexes()] == [
        ("", 0, "USDC"), ("xyz", 1, "USDC"), ("flx", 2, "USDH"), ("km", 3, "USDH"),
        ("hyna", 4, "USDE")]  # fmt: skip
    assert cat.dex("flx") is not None and cat.dex("flx").full_name == "Felix"  # type: ignore[union-attr]
    assert cat.dex("nope") is None


def test_collateral_is_never_assumed_to_be_usdc() -> None:
    metas = copy.deepcopy(ALL_PERP_METAS)
    metas[2]["collateralToken"] = 4242  # a token spotMeta does not list
    del metas[3]["collateralToken"]  # a HIP-3 meta that does not say
    cat = make(metas=metas)
    assert cat.dex("flx").collateral is None  # type: ignore[union-attr]
    assert cat.dex("km").collateral is None  # type: ignore[union-attr]
    assert cat.collateral_of("flx:TSLA") is None
    # The default dex is documented as USDC (token 0): an old meta without the field says so.
    del metas[0]["collateralToken"]
    assert make(metas=metas).dex("").collateral == "USDC"  # type: ignore[union-attr]


def test_helpers(cat: MarketCatalog) -> None:
    assert cat.dex_of("xyz:TSLA") == "xyz" and cat.dex_of("BTC") == "" and cat.dex_of("X") is None
    assert cat.dex_of("@107") == ""
    assert cat.is_listed("BTC") and cat.is_listed("xyz:TSLA") and cat.is_listed("@107")
    assert not cat.is_listed("MATIC") and not cat.is_listed("btc") and not cat.is_listed("NOPE")
    assert cat.display("@107") == "HYPE/USDC" and cat.display("PURR/USDC") == "PURR/USDC"
    assert cat.display("@300") == "HYPE/USDT0" and cat.display("@999") == "@999"
    assert cat.display("NOPE") == "NOPE" and cat.display("xyz:TSLA") == "xyz:TSLA"
    assert cat.sz_decimals("kPEPE") == 0 and cat.sz_decimals("@999") is None
    assert cat.sz_decimals("nope") is None
    assert cat.age(T_LOADED + 90) == 90 and cat.age(T_LOADED - 5) == 0


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize(
    ("typed", "exact"),
    [
        ("BTC", "BTC"),
        ("btc", "BTC"),
        ("  eth\t", "ETH"),
        ("KPEPE", "kPEPE"),
        ("kpepe", "kPEPE"),
        ("XYZ:tsla", "xyz:TSLA"),
        ("xyz:TSLA", "xyz:TSLA"),
        ("FLX:crcl", "flx:CRCL"),
        ("hype/usdc", "@107"),
        ("HYPE/USDC", "@107"),
        ("@107", "@107"),
        ("purr/usdc", "PURR/USDC"),
        ("hype/usdt0", "@300"),
        ("#14881", "#14881"),
        ("hype", "HYPE"),  # the default-dex perp, not the spot token
    ],
)
def test_resolve_to_the_exact_wire_name(cat: MarketCatalog, typed: str, exact: str) -> None:
    res = cat.resolve(typed)
    assert res.ok and res.name == exact and res.error is None


def test_bare_hip3_ticker_on_several_dexes_is_ambiguous(cat: MarketCatalog) -> None:
    res = cat.resolve("tsla")
    assert not res.ok and res.error == ResolveError.AMBIGUOUS
    assert res.candidates == ("xyz:TSLA", "flx:TSLA")
    assert "'tsla'" in res.message and "xyz:TSLA" in res.message and "flx:TSLA" in res.message


def test_bare_hip3_ticker_on_one_dex_is_never_guessed(cat: MarketCatalog) -> None:
    res = cat.resolve("SP500")
    assert not res.ok and res.error == ResolveError.AMBIGUOUS
    assert res.candidates == ("xyz:SP500",) and "did you mean xyz:SP500" in res.message


def test_bare_ticker_that_is_a_default_dex_name_resolves_there(cat: MarketCatalog) -> None:
    assert cat.resolve("btc").name == "BTC"  # hyna:BTC exists too; the default dex wins


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("btcx", "BTC"), ("ETHH", "ETH"), ("abc:TSLA", "xyz:TSLA"), ("xyz:TSL", "xyz:TSLA"),
     ("hype/usd", "HYPE/USDC")],
)  # fmt: skip
def test_unknown_names_the_input_and_the_closest_names(
    cat: MarketCatalog, typed: str, expected: str
) -> None:
    res = cat.resolve(typed)
    assert not res.ok and res.error == ResolveError.UNKNOWN
    assert expected in res.candidates
    assert res.message.startswith(f"unknown market {typed!r}; closest listed: ")
    assert expected in res.message


def test_unknown_without_anything_close(cat: MarketCatalog) -> None:
    res = cat.resolve("ZZZZQQQQ")
    assert res.error == ResolveError.UNKNOWN and res.candidates == ()
    assert res.message == "unknown market 'ZZZZQQQQ'"


def test_delisted_is_refused_with_that_reason(cat: MarketCatalog) -> None:
    res = cat.resolve("matic")
    assert not res.ok and res.error == ResolveError.DELISTED
    assert res.message == "'matic' (MATIC) is delisted"
    assert cat.resolve("MATIC").message == "MATIC is delisted"
    assert cat.resolve("matic", allow_delisted=True).name == "MATIC"  # naming an old fill
    assert cat.resolve("OLD").error == ResolveError.UNKNOWN  # delisted HIP-3: no bare match
    assert "MATIC" not in cat.suggest("MATIX")  # suggestions are listed names only


@pytest.mark.parametrize("typed", ["", "   ", "\n"])
def test_empty_input(cat: MarketCatalog, typed: str) -> None:
    res = cat.resolve(typed)
    assert res.error == ResolveError.EMPTY and not res.ok


def test_names_that_fold_alike_need_the_exact_spelling() -> None:
    metas = copy.deepcopy(ALL_PERP_METAS)
    metas[0]["universe"] += [asset("ABC"), asset("abc")]
    cat = make(metas=metas)
    assert cat.resolve("ABC").name == "ABC" and cat.resolve("abc").name == "abc"
    res = cat.resolve("Abc")
    assert res.error == ResolveError.AMBIGUOUS and res.candidates == ("ABC", "abc")


def test_exact_names_win_over_spot_aliases_and_alias_clashes_are_ambiguous() -> None:
    spot = copy.deepcopy(SPOT_META)
    spot["universe"] += [
        {"tokens": [1, 0], "name": "@5", "index": 5},  # also PURR/USDC by its tokens
        {"tokens": [150, 0], "name": "@108", "index": 108},  # a second HYPE/USDC
    ]
    cat = make(spot=spot)
    assert cat.resolve("purr/usdc").name == "PURR/USDC"
    res = cat.resolve("HYPE/USDC")
    assert res.error == ResolveError.AMBIGUOUS and res.candidates == ("@107", "@108")


def test_resolve_all_keeps_order_and_collects_failures(cat: MarketCatalog) -> None:
    names, failures = cat.resolve_all(["btc", "NOPE", "BTC", "xyz:tsla", "tsla", "hype/usdc"])
    assert names == ["BTC", "xyz:TSLA", "@107"]
    assert [(f.query, f.error) for f in failures] == [
        ("NOPE", ResolveError.UNKNOWN), ("tsla", ResolveError.AMBIGUOUS)]  # fmt: skip


# --------------------------------------------------------------------------- odd answers


def test_hip3_meta_without_its_prefix_is_not_trusted() -> None:
    """allPerpMetas out of step with perpDexs: flx's slot holds km's meta."""
    metas = copy.deepcopy(ALL_PERP_METAS)
    metas[2] = meta([asset("km:US500")], collateral=360)
    cat = make(metas=metas)
    assert "flx" in cat.misaligned_dexes
    assert cat.market("flx:TSLA") is None and cat.resolve("flx:crcl").error == ResolveError.UNKNOWN
    assert any("lack its prefix" in w for w in cat.warnings)
    # The loader then fetches flx's own meta; passed in, it replaces the allPerpMetas entry.
    fixed = make(metas=metas, dex_metas={"flx": _decode(info.meta("flx"), ALL_PERP_METAS[2])})
    assert fixed.misaligned_dexes == () and fixed.resolve("flx:crcl").name == "flx:CRCL"


def test_default_meta_with_prefixed_names_is_not_trusted() -> None:
    metas = copy.deepcopy(ALL_PERP_METAS)
    metas[0]["universe"].append(asset("xyz:TSLA"))
    cat = make(metas=metas)
    assert "" in cat.misaligned_dexes
    assert cat.dex_of("xyz:TSLA") == "xyz"  # still known from xyz's own meta, once


def test_fewer_metas_than_dexes_and_unreadable_dexes() -> None:
    dexes = [*PERP_DEXS[:2], {"fullName": "no name"}, *PERP_DEXS[3:]]
    cat = make(perp_dexs=dexes, metas=ALL_PERP_METAS[:4])
    assert [d.name for d in cat.dexes()] == ["", "xyz", "km", "hyna"]
    assert cat.market("flx:TSLA") is None  # its dex entry could not be read
    assert cat.misaligned_dexes == ("hyna",)  # no meta at all: fetch its own
    assert cat.dex("hyna").collateral is None  # type: ignore[union-attr]
    assert cat.resolve("hyna:btc").error == ResolveError.UNKNOWN
    assert cat.dropped >= 1 and any("#2 could not be read" in w for w in cat.warnings)


def test_one_bad_universe_entry_costs_only_that_entry() -> None:
    metas = copy.deepcopy(ALL_PERP_METAS)
    metas[1]["universe"].insert(1, {"name": "xyz:BROKEN"})  # no szDecimals
    metas[1]["universe"][0].pop("maxLeverage")  # non-essential: defaulted
    cat = make(metas=metas)
    assert cat.resolve("xyz:tsla").name == "xyz:TSLA"
    assert cat.market("xyz:TSLA").max_leverage is None  # type: ignore[union-attr]
    sp500 = cat.market("xyz:SP500")
    assert sp500 is not None and sp500.asset_index == 2  # the wire position, gap included
    assert cat.market("xyz:BROKEN") is None and cat.dropped == 1


def test_spot_and_outcomes_are_optional() -> None:
    cat = build_catalog(
        _decode(info.perp_dexs(), PERP_DEXS),
        _decode(info.all_perp_metas(), ALL_PERP_METAS),
        None,
        loaded_at=T_LOADED,
    )
    assert cat.resolve("btc").name == "BTC" and cat.markets(MarketKind.SPOT) == []
    assert cat.dex("").collateral is None  # type: ignore[union-attr]  # no token names known


def test_empty_answers_make_an_empty_catalog() -> None:
    cat = build_catalog([], [], None, loaded_at=T_LOADED)
    assert len(cat) == 0 and cat.resolve("BTC").error == ResolveError.UNKNOWN
    assert [d.name for d in cat.dexes()] == [""]


# --------------------------------------------------------------------------- spot tokens


def test_tokens_are_named_from_spot_meta(cat: MarketCatalog) -> None:
    assert [t.name for t in cat.tokens()] == ["USDC", "PURR", "HYPE", "USDT0", "USDH", "USDE"]
    assert cat.token_name(150) == "HYPE" and cat.token_name(4242) is None
    assert cat.token_name(None) is None
    hype = cat.token(150)
    assert hype is not None and hype.sz_decimals == 2 and hype.index == 150


def test_spot_pairs_of_a_token_put_the_usdc_pair_first(cat: MarketCatalog) -> None:
    # HYPE trades against USDC (@107) and USDT0 (@300): the USDC pair comes first.
    assert [mk.name for mk in cat.spot_pairs_of(150)] == ["@107", "@300"]
    assert [mk.name for mk in cat.spot_pairs_of(1)] == ["PURR/USDC"]
    assert cat.spot_pairs_of(0) == [] and cat.spot_pairs_of(99) == []
    usdt = cat.usdc_pair(268)
    assert usdt is not None and usdt.name == "@166"
    assert (usdt.base_token, usdt.quote_token) == (268, 0)
    assert cat.usdc_pair(235) is None  # USDE has no USDC pair in these answers
    hype_usdt = cat.market("@300")
    assert hype_usdt is not None and (hype_usdt.base_token, hype_usdt.quote_token) == (150, 268)


def test_usdc_pair_is_preferred_whatever_the_listing_order() -> None:
    spot = copy.deepcopy(SPOT_META)
    spot["universe"].reverse()  # @300 (USDT0 quote) is now listed before @107
    cat = make(spot=spot)
    assert [mk.name for mk in cat.spot_pairs_of(150)] == ["@107", "@300"]


def test_outcome_markets_keep_their_quote_token() -> None:
    outcomes = copy.deepcopy(OUTCOME_META)
    outcomes["outcomes"][0]["quoteToken"] = 360
    cat = make(outcomes=outcomes)
    side = cat.market("#14880")
    assert side is not None and side.quote_token == 360
    plain = make().market("#14881")
    assert plain is not None and plain.quote_token is None  # not said: unknown


# --------------------------------------------------------------------------- JSON cache


def test_json_round_trip(cat: MarketCatalog) -> None:
    again = MarketCatalog.from_json(cat.to_json())
    assert again.loaded_at == T_LOADED
    assert again.dexes() == cat.dexes()
    assert again.markets(listed_only=False) == cat.markets(listed_only=False)
    assert again.warnings == cat.warnings and again.dropped == cat.dropped
    assert again.tokens() == cat.tokens() and again.spot_pairs_of(150) == cat.spot_pairs_of(150)
    for typed in ("btc", "XYZ:tsla", "hype/usdc", "tsla", "btcx", "matic"):
        assert again.resolve(typed) == cat.resolve(typed)
    assert json.loads(cat.to_json())["version"] == CACHE_VERSION


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        b'{"version": 1}',
        json.dumps({"version": CACHE_VERSION + 1, "loaded_at": 1.0, "dexes": [], "markets": []}),
        json.dumps({"version": CACHE_VERSION, "loaded_at": 1.0, "dexes": [],
                    "markets": [{"name": "BTC", "kind": "future"}]}),
        json.dumps({"version": CACHE_VERSION, "loaded_at": "yesterday", "dexes": [],
                    "markets": []}),
    ],
)  # fmt: skip
def test_bad_cache_json_raises_value_error(data: bytes | str) -> None:
    with pytest.raises(ValueError):
        MarketCatalog.from_json(data)


# --------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=24))
def test_property_resolve_never_raises_and_only_returns_listed_names(typed: str) -> None:
    cat = _CAT
    res = cat.resolve(typed)
    assert res.ok != (res.error is not None)
    if res.ok:
        assert res.name is not None and cat.is_listed(res.name)
        mk = cat.market(res.name)
        assert mk is not None
        assert typed.strip().casefold() in (mk.name.casefold(), mk.display.casefold())
    else:
        assert res.message
        assert all(c.casefold() in _ALL_SPELLINGS for c in res.candidates)


_CAT = make()
_ALL_SPELLINGS = {
    s.casefold() for mk in _CAT.markets(listed_only=False) for s in (mk.name, mk.display)
}
