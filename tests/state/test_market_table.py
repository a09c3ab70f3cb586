"""The market table: rows from the catalog, fast deltas merged field by field, full contexts by
dex, sort (stable, None last) and filter, freshness, and cached views over ~1,600 names."""

from __future__ import annotations

import json
import random

import pytest
from msgspec import UNSET

from hlmon.protocol import decode
from hlmon.protocol.market_streams import FastAssetCtxs, FastCtx
from hlmon.protocol.messages import AllDexsAssetCtxsMsg, PerpAssetCtx, SpotAssetCtx
from hlmon.protocol.meta import AssetMeta, Meta
from hlmon.state.catalog import Dex, Market, MarketCatalog, MarketKind
from hlmon.state.market_query import MarketQuery, SortColumn, SortSpec
from hlmon.state.market_table import MarketRow, MarketTable
from hlmon.state.types import Source
from tests.market_fixtures import filled_table, synthetic_catalog
from tests.support import T0, FakeClock


def perp(name: str, index: int, dex: str = "", delisted: bool = False) -> Market:
    return Market(name, MarketKind.PERP, dex, 2, name, "USDC", delisted, asset_index=index)


def get(t: MarketTable, name: str) -> MarketRow:
    found = t.row(name)
    assert found is not None, name
    return found


def small_catalog() -> MarketCatalog:
    markets = [
        perp("BTC", 0),
        perp("OLD", 1, delisted=True),
        perp("ETH", 2),
        perp("xyz:NVDA", 0, "xyz"),
        perp("xyz:TSLA", 1, "xyz"),
        Market("PURR/USDC", MarketKind.SPOT, "", 0, "PURR/USDC", asset_index=0),
        Market("@107", MarketKind.SPOT, "", 2, "HYPE/USDC", asset_index=107, base="HYPE"),
        Market("#140", MarketKind.OUTCOME, "", 0, "BTC above 100k: Yes", asset_index=140),
    ]
    dexes = [Dex("", 0, "", 0, "USDC"), Dex("xyz", 1, "XYZ", 0, "USDC")]
    return MarketCatalog(markets, dexes, loaded_at=T0)


def ctx(mark: str, prev: str = "100", funding: str = "0.0001", oi: str = "10",
        vlm: str = "1000", mid: str | None = None) -> PerpAssetCtx:  # fmt: skip
    return PerpAssetCtx(funding, oi, prev, vlm, mark, mark, midPx=mid)


def fast(**prices: FastCtx) -> FastAssetCtxs:
    return FastAssetCtxs(dict(prices))


def table(clock: FakeClock | None = None) -> MarketTable:
    return MarketTable(small_catalog(), clock=clock or FakeClock())


# ------------------------------------------------------------------ rows


def test_rows_are_listed_perps_of_every_dex_and_spot_pairs() -> None:
    t = table()
    assert [r.name for r in t.rows()] == ["BTC", "ETH", "xyz:NVDA", "xyz:TSLA", "PURR/USDC", "@107"]
    assert get(t, "@107").display == "HYPE/USDC"
    assert t.row("OLD") is None and t.row("#140") is None
    assert t.universe("") == ["BTC", "OLD", "ETH"]  # delisted kept: it holds a wire position


def test_nothing_known_before_any_data() -> None:
    t = table()
    row = t.row("BTC")
    assert row is not None
    assert (row.mark, row.mid, row.funding, row.prices_at, row.ctx_at) == (None,) * 5
    assert all(row.value(c) is None for c in SortColumn)
    assert t.awaiting_snapshot and t.price_time(row) is None


def test_derived_columns() -> None:
    row = MarketRow(perp("BTC", 0), mark="110", prev_day="100", funding="0.0000125",
                    open_interest="2.5", volume="1e6")  # fmt: skip
    assert row.change_pct == pytest.approx(10.0)
    assert row.funding_apr == pytest.approx(0.0000125 * 100 * 24 * 365)
    assert row.oi_usd == pytest.approx(275.0)
    assert row.value(SortColumn.VOLUME) == 1e6
    only_mid = MarketRow(perp("BTC", 0), mid="90", prev_day="100")
    assert only_mid.change_pct == pytest.approx(-10.0)  # mid when there is no mark
    assert MarketRow(perp("BTC", 0), mark="1", prev_day="0").change_pct is None
    assert MarketRow(perp("BTC", 0), mark="nan", funding="inf").value(SortColumn.MARK) is None


# ------------------------------------------------------------------ fastAssetCtxs


def test_fast_deltas_merge_field_by_field() -> None:
    clock = FakeClock()
    t = table(clock)
    t.apply_fast(fast(BTC=FastCtx("100.0", "100.5"), ETH=FastCtx("3.0", "3.1")))
    assert not t.awaiting_snapshot
    clock.advance(1)
    assert t.apply_fast(fast(BTC=FastCtx(midPx="101.0"))) == 1
    btc, eth = t.row("BTC"), t.row("ETH")
    assert btc is not None and eth is not None
    assert (btc.mark, btc.mid) == ("100.0", "101.0")  # the left-out mark is unchanged
    assert btc.prices_at == T0 + 1 and eth.prices_at == T0
    # A coin left out of a delta did not change: the frame confirms it.
    assert t.price_time(eth) == T0 + 1
    t.apply_fast(fast(BTC=FastCtx(midPx=None)))
    assert get(t, "BTC").mid is None and get(t, "BTC").mark == "100.0"


def test_the_snapshot_after_a_reset_replaces_and_unconfirms() -> None:
    clock = FakeClock()
    t = table(clock)
    t.apply_fast(fast(BTC=FastCtx("100.0", "100.5"), ETH=FastCtx("3.0", "3.1")))
    clock.advance(5)
    t.reset_prices()
    assert t.awaiting_snapshot and get(t, "ETH").mark == "3.0"
    assert t.price_time(get(t, "ETH")) == T0  # shown, not confirmed
    clock.advance(1)
    t.apply_fast(fast(BTC=FastCtx("102.0")))  # the new snapshot: BTC has no mid field
    btc, eth = t.row("BTC"), t.row("ETH")
    assert btc is not None and eth is not None
    assert (btc.mark, btc.mid) == ("102.0", None)  # a snapshot never keeps an old field
    assert t.price_time(btc) == T0 + 6
    assert t.price_time(eth) == T0  # not in the snapshot: its age keeps growing
    clock.advance(1)
    t.apply_fast(fast())
    assert t.price_time(btc) == T0 + 7 and t.price_time(eth) == T0


def test_fast_frame_counts_and_unknown_names() -> None:
    t = table()
    t.apply_fast(FastAssetCtxs({"BTC": FastCtx("1"), "#140": FastCtx("0.5"), "NEW": FastCtx("2")},
                               dropped=2))  # fmt: skip
    assert t.fast_frames == 1 and t.dropped == 2
    assert t.unknown_names == {"NEW"}  # outcomes are known, just not rows
    assert t.catalog_reload_wanted and "NEW" in (t.reload_reason or "")
    t.set_catalog(small_catalog())
    assert not t.catalog_reload_wanted and not t.unknown_names
    assert get(t, "BTC").mark == "1"  # values survive a new catalog


def test_without_a_catalog_nothing_is_shown_or_blamed() -> None:
    t = MarketTable(clock=FakeClock())
    t.apply_fast(fast(BTC=FastCtx("1")))
    assert len(t) == 0 and not t.catalog_reload_wanted
    assert t.view() == []


# ------------------------------------------------------------------ full contexts


def test_all_dexs_frame_named_by_the_catalog_universe() -> None:
    t = table()
    frame = {"ctxs": [["", [_wire(ctx("100")), _wire(ctx("0.1")), _wire(ctx("3"))]],
                      ["xyz", [_wire(ctx("145.2")), {"bad": 1}]]]}  # fmt: skip
    msg = decode(json.dumps({"channel": "allDexsAssetCtxs", "data": frame}))
    assert isinstance(msg, AllDexsAssetCtxsMsg)
    t.apply_all_dexs(msg.data)
    assert get(t, "ETH").mark == "3"  # after the delisted slot
    assert get(t, "xyz:NVDA").mark == "145.2"
    assert get(t, "xyz:TSLA").mark is None
    assert t.dropped == 1 and not t.catalog_reload_wanted
    assert get(t, "BTC").source is Source.WS
    longer = {"ctxs": [["xyz", [_wire(ctx("1")), _wire(ctx("2")), _wire(ctx("3"))]]]}
    msg = decode(json.dumps({"channel": "allDexsAssetCtxs", "data": longer}))
    assert isinstance(msg, AllDexsAssetCtxsMsg)
    t.apply_all_dexs(msg.data)
    assert get(t, "xyz:TSLA").mark == "2"
    assert t.catalog_reload_wanted and "xyz" in (t.reload_reason or "")


def _wire(c: PerpAssetCtx) -> dict[str, object]:
    return {f: getattr(c, f) for f in c.__struct_fields__}


def test_rest_contexts_per_dex_and_spot() -> None:
    clock = FakeClock()
    t = table(clock)
    meta = Meta(universe=[AssetMeta("xyz:NVDA", 2), AssetMeta("xyz:TSLA", 2)])
    assert t.apply_meta_and_ctxs(meta, [ctx("145", oi="4"), ctx("250", funding="-0.00002")]) == 2
    nvda = t.row("xyz:NVDA")
    assert nvda is not None and nvda.source is Source.REST and nvda.ctx_at == T0
    assert nvda.oi_usd == pytest.approx(580.0)
    assert get(t, "xyz:TSLA").funding == "-0.00002"
    spot = SpotAssetCtx(prevDayPx="40", dayNtlVlm="5e6", markPx="38.4", midPx="38.41", coin="@107")
    assert t.apply_spot_contexts([spot, SpotAssetCtx("1", "1", "1", coin="@99999")]) == 1
    hype = t.row("@107")
    assert hype is not None and hype.mid == "38.41" and hype.change_pct == pytest.approx(-4.0)
    assert hype.funding is None and hype.oi_usd is None  # spot has neither
    assert t.unknown_names == {"@99999"}


def test_a_context_sets_prices_too_and_a_later_tick_overrides_them() -> None:
    clock = FakeClock()
    t = table(clock)
    t.apply_fast(fast(BTC=FastCtx("100.0", "100.5")))
    clock.advance(2)
    t.apply_perp_contexts({"BTC": ctx("99.0", mid="99.5")})
    assert get(t, "BTC").mark == "99.0" and t.ctx_at == T0 + 2
    t.apply_fast(fast(BTC=FastCtx("98.0")))
    row = t.row("BTC")
    assert row is not None and (row.mark, row.mid, row.funding) == ("98.0", "99.5", "0.0001")


# ------------------------------------------------------------------ sort and filter


def loaded() -> MarketTable:
    t = table()
    t.apply_perp_contexts(
        {
            "BTC": ctx("110", funding="0.0001", oi="1", vlm="500"),
            "ETH": ctx("90", funding="0.0003", oi="100", vlm="500"),
            "xyz:NVDA": ctx("100", funding="-0.0001", oi="10", vlm="900"),
        }
    )
    spot = SpotAssetCtx("10", "700", "12", coin="@107")
    t.apply_spot_contexts([spot])
    return t


def names(rows: list[MarketRow]) -> list[str]:
    return [r.name for r in rows]


@pytest.mark.parametrize(
    ("column", "descending", "expected"),
    [
        (SortColumn.NAME, False, ["BTC", "ETH", "@107", "PURR/USDC", "xyz:NVDA", "xyz:TSLA"]),
        (SortColumn.NAME, True, ["xyz:TSLA", "xyz:NVDA", "PURR/USDC", "@107", "ETH", "BTC"]),
        (SortColumn.MARK, True, ["BTC", "xyz:NVDA", "ETH", "@107", "xyz:TSLA", "PURR/USDC"]),
        (SortColumn.MARK, False, ["@107", "ETH", "xyz:NVDA", "BTC", "xyz:TSLA", "PURR/USDC"]),
        (SortColumn.CHANGE, True, ["@107", "BTC", "xyz:NVDA", "ETH", "xyz:TSLA", "PURR/USDC"]),
        (SortColumn.FUNDING, False, ["xyz:NVDA", "BTC", "ETH", "xyz:TSLA", "PURR/USDC", "@107"]),
        (SortColumn.FUNDING_APR, True, ["ETH", "BTC", "xyz:NVDA", "xyz:TSLA", "PURR/USDC", "@107"]),
        (
            SortColumn.OPEN_INTEREST,
            True,
            ["ETH", "xyz:NVDA", "BTC", "xyz:TSLA", "PURR/USDC", "@107"],
        ),
        # Equal volumes keep catalog order in both directions; unknown ones come last.
        (SortColumn.VOLUME, True, ["xyz:NVDA", "@107", "BTC", "ETH", "xyz:TSLA", "PURR/USDC"]),
        (SortColumn.VOLUME, False, ["BTC", "ETH", "@107", "xyz:NVDA", "xyz:TSLA", "PURR/USDC"]),
    ],
)
def test_sort_by_any_column(column: SortColumn, descending: bool, expected: list[str]) -> None:
    assert names(loaded().view(MarketQuery(), SortSpec(column, descending))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["BTC", "ETH", "xyz:NVDA", "xyz:TSLA", "PURR/USDC", "@107"]),
        ("hype", ["@107"]),  # the display name of @107
        ("@10", ["@107"]),
        ("T", ["BTC", "ETH", "xyz:TSLA"]),  # case-insensitive substring
        ("dex:xyz", ["xyz:NVDA", "xyz:TSLA"]),
        ("dex:", ["BTC", "ETH"]),  # the default dex
        ("dex:nope", []),
        ("spot", ["PURR/USDC", "@107"]),
        ("PERP usdc", []),
        ("perp t", ["BTC", "ETH", "xyz:TSLA"]),
        ("xyz: nv", ["xyz:NVDA"]),
        ("usdc spot", ["PURR/USDC", "@107"]),
    ],
)
def test_filter(text: str, expected: list[str]) -> None:
    by_name = SortSpec(SortColumn.NAME, descending=False)
    assert names(loaded().view(MarketQuery.parse(text), by_name)) == sorted(
        expected,
        key=lambda n: get(loaded(), n).display.casefold(),
    )


def test_query_parse_and_describe() -> None:
    q = MarketQuery.parse("  Eth  dex:xyz PERP ")
    assert (q.terms, q.dex, q.kind, q.text) == (
        ("eth",),
        "xyz",
        MarketKind.PERP,
        "Eth  dex:xyz PERP",
    )
    assert q.describe() == 'dex xyz, perp, "eth"'
    assert MarketQuery.parse("").is_empty and MarketQuery.parse("dex:").dex == ""
    assert SortColumn.VOLUME.next() is SortColumn.NAME
    assert SortSpec().by(SortColumn.NAME) == SortSpec(SortColumn.NAME, False)
    assert SortSpec(SortColumn.MARK, True).flipped() == SortSpec(SortColumn.MARK, False)


# ------------------------------------------------------------------ 1,600 names and caching


def test_1600_names_sorted_and_filtered_like_a_brute_force() -> None:
    t = filled_table()
    assert len(t) == 1600
    rng = random.Random(3)
    for column in SortColumn:
        for descending in (False, True):
            for text in ("", "dex:xyz", "spot", "x perp", "usdc"):
                query, sort = MarketQuery.parse(text), SortSpec(column, descending)
                got = names(t.view(query, sort))
                kept = [r for r in t.rows() if query.matches(r.market)]
                if column is SortColumn.NAME:
                    want = sorted(kept, key=lambda r: r.display.casefold(), reverse=descending)
                else:
                    known = [r for r in kept if r.value(column) is not None]
                    known.sort(key=lambda r: r.value(column) or 0.0, reverse=descending)
                    want = known + [r for r in kept if r.value(column) is None]
                assert got == names(want), (column, descending, text)
    row = rng.choice(t.rows())
    assert row.name in names(t.view(MarketQuery.parse(row.display.lower())))


def test_views_are_cached_until_the_sorted_values_change() -> None:
    t = filled_table()
    q = MarketQuery.parse("perp")
    by_funding = t.view_names(q, SortSpec(SortColumn.FUNDING))
    by_mark = t.view_names(q, SortSpec(SortColumn.MARK))
    assert t.view_names(q, SortSpec(SortColumn.FUNDING)) is by_funding
    t.apply_fast(fast(BTC=FastCtx("1.0")))  # a price tick
    assert t.view_names(q, SortSpec(SortColumn.FUNDING)) is by_funding  # no re-sort
    resorted = t.view_names(q, SortSpec(SortColumn.MARK))
    assert resorted is not by_mark and resorted.index("BTC") > by_mark.index("BTC") == 0
    assert t.view(q, SortSpec(SortColumn.FUNDING))[by_funding.index("BTC")].mark == "1.0"
    t.apply_perp_contexts({"BTC": ctx("1.0", funding="0.5")})
    assert t.view_names(q, SortSpec(SortColumn.FUNDING))[0] == "BTC"


def test_a_new_catalog_refilters() -> None:
    t = filled_table()
    before = t.view_names(MarketQuery.parse("dex:xyz"), SortSpec(SortColumn.NAME, False))
    t.set_catalog(synthetic_catalog(n_per_dex=5))
    after = t.view_names(MarketQuery.parse("dex:xyz"), SortSpec(SortColumn.NAME, False))
    assert len(before) == 60 and len(after) == 5
    assert get(t, "xyz:NVDA").mark is not None


def test_fast_entry_that_is_unset_everywhere_changes_nothing() -> None:
    t = table()
    t.apply_fast(fast(BTC=FastCtx("1")))
    version = t.version
    assert t.apply_fast(fast(BTC=FastCtx(UNSET, UNSET))) == 0
    assert t.version == version
