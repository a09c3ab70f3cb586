"""Spot balances named and valued in USD, and each account mode's equity and ratio (#14)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.protocol import info
from hlmon.protocol.account_types import ClearinghouseState, SpotClearinghouseState
from hlmon.state.account_modes import AccountMode
from hlmon.state.catalog import MarketCatalog, build_catalog
from hlmon.state.equity import RatioKind, TokenAmount, account_equity
from hlmon.state.spot import SpotRowKind, UsdPricer, outcome_code, value_spot

from .catalog_fixtures import ALL_PERP_METAS, OUTCOME_META, PERP_DEXS, SPOT_META

# Dexes of the fixtures: "" and xyz settle in USDC (0), flx and km in USDH (360), hyna in USDE
# (235, which has no USDC pair: its collateral cannot be priced).
MIDS = {"@107": "40.0", "@166": "1.001", "@230": "0.999", "@300": "39.9", "PURR/USDC": "0.2",
        "#14880": "0.6", "#14881": "0.4"}  # fmt: skip
DEXES = ["", "xyz", "flx", "km", "hyna"]


def _catalog(outcome_quote: int | None = 360) -> MarketCatalog:
    outcomes = copy.deepcopy(OUTCOME_META)
    if outcome_quote is not None:
        outcomes["outcomes"][0]["quoteToken"] = outcome_quote
    return build_catalog(
        info.decode_response(info.perp_dexs(), json.dumps(PERP_DEXS)),
        info.decode_response(info.all_perp_metas(), json.dumps(ALL_PERP_METAS)),
        info.decode_response(info.spot_meta(), json.dumps(SPOT_META)),
        info.decode_response(info.outcome_meta(), json.dumps(outcomes)),
        loaded_at=1.0,
    )


CAT = _catalog()


def _row(coin: str, total: str, token: int | None, hold: str = "0.0", entry: str = "0.0",
         **extra: str) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"coin": coin, "total": total, "hold": hold, "entryNtl": entry, **extra}
    if token is not None:
        out["token"] = token
    return out


def _spot(*rows: dict[str, Any], **extra: Any) -> SpotClearinghouseState:
    body = json.dumps({"balances": list(rows), **extra})
    state = info.decode_response(info.spot_clearinghouse_state("0x" + "1" * 40), body)
    assert isinstance(state, SpotClearinghouseState)
    return state


def _position(coin: str, upnl: str, *, margin: str = "100.0", kind: str = "cross") -> Any:
    return {"type": "oneWay", "position": {
        "coin": coin, "szi": "1.0", "leverage": {"type": kind, "value": 10}, "entryPx": "1",
        "positionValue": "1000", "unrealizedPnl": upnl, "returnOnEquity": "0",
        "marginUsed": margin, "liquidationPx": None}}  # fmt: skip


def _state(value: str = "0.0", maint: str = "0.0", positions: list[Any] | None = None,
           cross_value: str | None = None) -> ClearinghouseState:  # fmt: skip
    def summary(v: str) -> dict[str, str]:
        return {"accountValue": v, "totalNtlPos": "0", "totalRawUsd": "0", "totalMarginUsed": "0"}

    body = {"marginSummary": summary(value), "crossMarginSummary": summary(cross_value or value),
            "withdrawable": "0.0", "crossMaintenanceMarginUsed": maint,
            "assetPositions": positions or []}  # fmt: skip
    state = info.decode_response(info.clearinghouse_state("0x" + "1" * 40), json.dumps(body))
    assert isinstance(state, ClearinghouseState)
    return state


# --------------------------------------------------------------------------- pricing


def test_usd_price_through_the_pair_and_through_a_non_usdc_quote() -> None:
    pricer = UsdPricer(CAT, MIDS)
    usdc = pricer.token(0)
    assert usdc is not None and usdc.usd == 1 and usdc.via == "USDC"
    hype = pricer.token(150)
    assert hype is not None and (hype.usd, hype.via) == (Decimal("40.0"), "HYPE/USDC")
    # Without a HYPE/USDC mid, HYPE/USDT0 times USDT0/USDC.
    only_usdt = {k: v for k, v in MIDS.items() if k != "@107"}
    hype = UsdPricer(CAT, only_usdt).token(150)
    assert hype is not None and hype.usd == Decimal("39.9") * Decimal("1.001")
    assert hype.via == "HYPE/USDT0 via USDT0/USDC"  # named as a trader reads them, not @300
    # Without the quote's own USDC mid there is no price at all: unknown, never a guess.
    assert UsdPricer(CAT, {"@300": "39.9"}).token(150) is None
    assert pricer.token(235) is None and pricer.token(4242) is None
    assert UsdPricer(CAT, {**MIDS, "@107": "0"}).token(150) is not None  # falls to @300
    purr = pricer.token(1)
    assert purr is not None and purr.via == "PURR/USDC"


def test_outcome_price_is_in_its_quote_token() -> None:
    side = UsdPricer(CAT, MIDS).outcome(14880)
    assert side is not None and side.usd == Decimal("0.6") * Decimal("0.999")
    # From the side's own book (never the wire's #14880), and the quote's conversion.
    assert side.via == "outcome mid via USDH/USDC"
    in_usdc = UsdPricer(_catalog(outcome_quote=0), MIDS).outcome(14880)
    assert in_usdc is not None and in_usdc.via == "outcome mid"  # no "via USDC"
    assert UsdPricer(_catalog(outcome_quote=None), MIDS).outcome(14880) is None
    assert UsdPricer(CAT, MIDS).outcome(99990) is None
    assert outcome_code("+14880") == outcome_code("o14880") == 14880
    assert outcome_code("HYPE") is None and outcome_code("+x") is None


# --------------------------------------------------------------------------- spot valuation


def test_spot_rows_are_named_valued_and_priced() -> None:
    state = _spot(
        _row("USDC", "1200.5", 0, hold="100.0"),
        _row("HYPE", "10.0", 150, entry="300.0"),
        _row("UBTC", "0.00959057", 1, entry="0.001"),  # the coin as sent; spotMeta says PURR
        _row("+14880", "25.0", None, entry="12.5"),
        _row("o1488", "3.0", None),
        _row("USDE", "0.0", 235),
    )
    valued = value_spot(state, CAT, {**MIDS, "PURR/USDC": "34.895"})
    usdc, hype, purr, side, settled, usde = valued.rows
    assert (usdc.name, usdc.value_usd, usdc.free, usdc.upnl_usd) == ("USDC", "1200.5", "1100.5",
                                                                      None)  # fmt: skip
    assert (hype.value_usd, hype.upnl_usd, hype.price_via) == ("400", "100", "HYPE/USDC")
    assert hype.total == "10.0" and hype.entry_ntl == "300.0"  # the exchange's strings
    assert purr.name == "PURR" and purr.coin == "UBTC" and purr.value_usd == "0.33466294015"
    assert (side.kind, side.name) == (SpotRowKind.OUTCOME, "BTC above 150k: Yes")
    assert side.value_usd == "14.985" and side.upnl_usd == "2.485"
    assert (settled.kind, settled.name, settled.value_usd) == (SpotRowKind.SETTLED, "o1488", None)
    assert usde.value_usd == "0" and usde.price_usd is None  # nothing held: worth nothing
    assert valued.unpriced == ("o1488",)
    assert valued.value_usd is None  # a held balance has no price: the total is unknown
    assert valued.known_usd == "1615.81966294015"
    assert valued.row(150) is hype and valued.row(9) is None


def test_spot_total_is_known_when_every_held_row_is_priced() -> None:
    valued = value_spot(_spot(_row("USDC", "5", 0), _row("HYPE", "0.5", 150)), CAT, MIDS)
    assert valued.value_usd == valued.known_usd == "25" and valued.unpriced == ()


def test_spot_without_mids_is_unknown_not_zero() -> None:
    valued = value_spot(_spot(_row("USDC", "5", 0), _row("HYPE", "0.5", 150)), CAT, {})
    assert valued.value_usd is None and valued.known_usd == "5"
    assert valued.rows[1].value_usd is None and valued.unpriced == ("HYPE",)


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False),
    st.decimals(min_value=Decimal("0.000001"), max_value=10**6, places=6, allow_nan=False),
    st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False),
)
def test_property_value_and_upnl_are_exact(total: Decimal, mid: Decimal, entry: Decimal) -> None:
    valued = value_spot(_spot(_row("HYPE", str(total), 150, entry=str(entry))), CAT,
                        {"@107": str(mid)})  # fmt: skip
    row = valued.rows[0]
    with localcontext() as exact:  # the default 28 digits would round the expected side
        exact.prec = 80
        assert Decimal(row.value_usd or "nan") == total * mid
        if total:
            assert Decimal(row.upnl_usd or "nan") == total * mid - entry


# --------------------------------------------------------------------------- standard


def test_standard_equity_sums_each_dex_in_its_token_plus_spot() -> None:
    states = {"": _state("1000.0", "50.0"), "xyz": _state("200.0", "100.0"),
              "flx": _state("50.0"), "km": _state("0.0"), "hyna": _state("0.0")}  # fmt: skip
    spot = _spot(_row("USDC", "100.0", 0), _row("HYPE", "1.0", 150))
    eq = account_equity(AccountMode.STANDARD, CAT, dex_states=states, spot=spot, mids=MIDS)
    assert eq.complete and eq.missing == ()
    assert eq.equity_usd == eq.known_usd == "1389.95"  # 1000 + 200 + 50 * 0.999 + 140
    assert eq.per_token == (TokenAmount("USDC", "1200", None), TokenAmount("USDH", "50", None),
                            TokenAmount("USDE", "0", None))  # fmt: skip
    assert eq.ratio_kind == RatioKind.CROSS_MAINTENANCE and eq.ratio == "0.5"  # xyz: 100 / 200
    by_dex = {d.dex: d for d in eq.per_dex}
    assert by_dex[""].ratio == "0.05" and by_dex["flx"].value_usd == "49.95"
    assert by_dex["flx"].collateral == "USDH" and by_dex["hyna"].collateral == "USDE"
    assert eq.spot is not None and eq.spot.value_usd == "140"
    assert eq.liquidatable is None and eq.liquidation_ratio is None


def test_standard_equity_names_what_is_missing() -> None:
    states = {"": _state("1000.0"), "hyna": _state("10.0")}  # USDE cannot be priced
    eq = account_equity(AccountMode.STANDARD, CAT, dex_states=states, spot=None, mids=MIDS)
    assert eq.equity_usd is None and eq.ratio is None and not eq.complete
    assert eq.known_usd == "1000"
    assert set(eq.missing) == {"state of dex xyz", "state of dex flx", "state of dex km",
                               "USD price of USDE", "spot balances"}  # fmt: skip
    only_default = account_equity(AccountMode.STANDARD, CAT, dex_states={"": _state("7")},
                                  spot=_spot(), mids=MIDS, expected_dexes=[""])  # fmt: skip
    assert only_default.equity_usd == "7" and only_default.ratio == "0"


def test_standard_dex_ratio_without_account_value() -> None:
    states = {"": _state("0.0", "5.0")}  # margin in use but no value: unknown, not infinite
    eq = account_equity(AccountMode.STANDARD, CAT, dex_states=states, spot=_spot(), mids=MIDS,
                        expected_dexes=[""])  # fmt: skip
    assert eq.ratio is None and eq.per_dex[0].ratio is None


# --------------------------------------------------------------------------- unified


def _unified_states(account_value: str = "0.0") -> dict[str, ClearinghouseState]:
    default = _state(
        account_value,
        "30.0",
        [_position("BTC", "-50.0"), _position("ETH", "20.0", margin="100.0", kind="isolated")],
    )
    return {"": default, "xyz": _state(), "km": _state(), "hyna": _state(),
            "flx": _state(account_value, "10.0", [_position("flx:TSLA", "5.0")])}  # fmt: skip


def test_unified_equity_is_spot_plus_upnl_and_the_ratio_is_per_collateral_token() -> None:
    spot = _spot(_row("USDC", "1000.0", 0), _row("USDH", "100.0", 360),
                 _row("HYPE", "2.0", 150))  # fmt: skip
    eq = account_equity(AccountMode.UNIFIED, CAT, dex_states=_unified_states(), spot=spot,
                        mids=MIDS)  # fmt: skip
    assert eq.complete
    # accountValue reads 0 on every dex: it is not a balance here. 1179.9 spot - 30 + 4.995
    assert eq.equity_usd == "1154.895"
    # USDC: 30 / (1000 - 100 isolated) = 0.0333..; USDH: 10 / 100 = 0.1 -> the worst, 0.1
    assert eq.ratio == "0.1" and eq.ratio_kind == RatioKind.UNIFIED
    assert eq.ratio_name == "unified account ratio"
    assert [t.token for t in eq.per_token] == ["USDC", "USDH", "HYPE"]
    assert eq.per_token[2].value_usd == "80"
    flx = next(d for d in eq.per_dex if d.dex == "flx")
    assert flx.unrealized_pnl == "5" and flx.value_usd == "4.995" and flx.ratio is None


def test_unified_ratio_is_zero_without_cross_margin_and_unknown_without_spot() -> None:
    states = {name: _state() for name in DEXES}
    eq = account_equity(AccountMode.UNIFIED, CAT, dex_states=states,
                        spot=_spot(_row("USDC", "10", 0)), mids=MIDS)  # fmt: skip
    assert eq.ratio == "0" and eq.equity_usd == "10"
    none = account_equity(AccountMode.UNIFIED, CAT, dex_states=states, spot=None, mids=MIDS)
    assert none.equity_usd is None and none.ratio is None and "spot balances" in none.missing
    gap = {k: v for k, v in _unified_states().items() if k != "flx"}
    partial = account_equity(AccountMode.UNIFIED, CAT, dex_states=gap,
                             spot=_spot(_row("USDC", "1000.0", 0)), mids=MIDS)  # fmt: skip
    assert partial.ratio is None and partial.missing == ("state of dex flx",)


def test_unreadable_positions_make_the_figures_incomplete() -> None:
    body = {"marginSummary": {"accountValue": "0"}, "crossMarginSummary": {"accountValue": "0"},
            "withdrawable": "0", "assetPositions": [{"position": {"coin": "BTC"}}]}  # fmt: skip
    state = info.decode_response(info.clearinghouse_state("0x" + "1" * 40), json.dumps(body))
    assert state.dropped == 1
    spot = _spot(_row("USDC", "5", 0))
    eq = account_equity(AccountMode.UNIFIED, CAT, dex_states={"": state}, spot=spot, mids=MIDS,
                        expected_dexes=[""])  # fmt: skip
    assert eq.equity_usd is None and eq.known_usd == "5"
    assert eq.missing == ("1 unreadable position(s) on the default dex",)


# --------------------------------------------------------------------------- portfolio margin


@pytest.mark.parametrize(("ratio", "liquidatable"), [("0.97", True), ("0.95", False),
                                                       ("0.2", False)])  # fmt: skip
def test_portfolio_margin_ratio_is_the_servers(ratio: str, liquidatable: bool) -> None:
    spot = _spot(_row("USDC", "500.0", 0), _row("HYPE", "10.0", 150, borrowed="0.0",
                 supplied="4.0", ltv="0.65"), portfolioMarginRatio=ratio)  # fmt: skip
    eq = account_equity(AccountMode.PORTFOLIO_MARGIN, CAT, dex_states=_unified_states(),
                        spot=spot, mids=MIDS)  # fmt: skip
    assert eq.ratio == ratio
    assert eq.ratio_kind == RatioKind.PORTFOLIO_MARGIN and eq.liquidation_ratio == "0.95"
    assert eq.liquidatable is liquidatable
    assert eq.equity_usd == "874.995"  # 500 + 400 - 30 + 4.995
    hype = eq.per_token[1]
    assert (hype.token, hype.supplied, hype.borrowed) == ("HYPE", "4.0", "0.0")


def test_portfolio_margin_without_its_ratio_says_so() -> None:
    eq = account_equity(AccountMode.PORTFOLIO_MARGIN, CAT, dex_states=_unified_states(),
                        spot=_spot(_row("USDC", "1", 0)), mids=MIDS)  # fmt: skip
    assert eq.ratio is None and eq.liquidatable is None and eq.missing == ("portfolioMarginRatio",)
    assert eq.equity_usd is None and eq.known_usd == "-24.005"


def test_unknown_mode_computes_nothing() -> None:
    eq = account_equity(None, CAT, dex_states={"": _state("5")}, spot=_spot(), mids=MIDS)
    assert eq.equity_usd is None and eq.ratio is None and eq.missing == ("account mode",)
    assert eq.ratio_name == "unknown"


def test_hostile_numbers_give_unknown_not_an_exception() -> None:
    states = {"": _state("1e999999", "1e999999", cross_value="1e-999999")}
    spot = _spot(_row("HYPE", "1e999999", 150))
    for mode in AccountMode:
        eq = account_equity(mode, CAT, dex_states=states, spot=spot,
                            mids={"@107": "1e999999"}, expected_dexes=[""])  # fmt: skip
        assert eq.equity_usd is None or Decimal(eq.equity_usd).is_finite()
