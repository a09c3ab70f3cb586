"""Unit tests for the UI's text formatting and column layout (no app needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hlmon.protocol.account_types import Funding
from hlmon.state import FeedState, FeedStatus, Source
from hlmon.state.decimals import try_dec
from hlmon.ui.fmt import (
    bar,
    fmt_age,
    fmt_compact,
    fmt_money,
    fmt_num,
    fmt_payment,
    fmt_pct,
    fmt_px,
    fmt_when,
    short_address,
    sparkline,
    to_decimal,
)
from hlmon.ui.screens.prompts import NOT_LOADED, resolve_coin
from hlmon.ui.widgets.account import funding_rows, liq_style
from hlmon.ui.widgets.bars import fit_parts, names_within, stale_no_longer_than_silence
from hlmon.ui.widgets.lines import Column, fit_columns, layout_row
from tests.catalogs import default_catalog
from tests.state.test_decimals import PARSE_CASES

from .helpers import T0, T0_MS


class TestNumbers:
    @pytest.mark.parametrize("text", PARSE_CASES)
    def test_a_string_parses_as_the_state_parses_it(self, text: str) -> None:
        """``to_decimal``'s shorter path for strings: None for garbage and non-finite, else
        the exact number, as ``try_dec`` (and as a float or Decimal input would give)."""
        got, expected = to_decimal(text), try_dec(text)
        assert got == expected and str(got) == str(expected)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("0.004099", "+0.0041"),  # received: a plus, never a bare 0.00
            ("-0.014482", "-0.01"),
            ("-0.000123", "-0.00012"),
            ("0.0000001", "0.000000"),  # past USDC's 6 places: what is left is nothing
            ("0", "0.00"),
            ("-0.561738", "-0.56"),
            ("1234.5", "+1,234.50"),
            (None, "–"),
        ],
    )
    def test_payments_under_a_cent_keep_two_significant_figures(
        self, value: str | None, expected: str
    ) -> None:
        assert fmt_payment(value, sign=True) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("104412.5", "104,412.5"),
            ("104412", "104,412"),  # integer prices from 100,000 up: no ".0"
            ("104412.0", "104,412"),
            ("99012.0", "99,012"),  # 5 significant figures
            ("3688.20", "3,688.2"),  # a trailing zero is not a decimal
            ("3688.2", "3,688.2"),
            ("201.555", "201.555"),
            ("0.001604", "0.001604"),
            ("0.1", "0.10000"),
            (None, "–"),
            ("garbage", "–"),
        ],
    )
    def test_prices_keep_exchange_precision(self, value: str | None, expected: str) -> None:
        assert fmt_px(value) == expected

    def test_no_float_artefacts_or_negative_zero(self) -> None:
        assert fmt_num(0.1 + 0.2, 2) == "0.30"
        assert fmt_num("-0.001", 2) == "0.00"
        assert fmt_money("-2202.785", sign=True) == "-2,202.79"
        assert fmt_money("1015.4", sign=True) == "+1,015.40"
        assert fmt_pct(-0.0) == "0.00%"
        assert fmt_pct(1.5) == "+1.50%"
        assert fmt_num(Decimal("1E+2"), 1) == "100.0"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (3.04e9, "3.04B"),
            (412.1e6, "412.1M"),
            (88_200_000, "88.2M"),
            (12_500, "12.5K"),
            (950, "950"),
            (2.5e12, "2.50T"),
        ],
    )
    def test_compact_dollars(self, value: float, expected: str) -> None:
        assert fmt_compact(value) == expected

    def test_ages(self) -> None:
        assert [fmt_age(x) for x in (0.43, 9.96, 18.7, 125, 3 * 3600 + 120, None)] == [
            "0.4s", "10.0s", "18s", "2m05s", "3h02m", "–",
        ]  # fmt: skip

    def test_times_today_and_older(self) -> None:
        # local time is pinned to UTC by the conftest
        assert fmt_when(T0_MS - 60_000, T0) == "14:12:20"
        assert fmt_when(T0_MS - 3 * 86_400_000, T0) == "09-18 14:13"

    def test_address_and_coin_names(self) -> None:
        assert short_address("0x8a31c0ffee00000000000000000000000000f02c") == "0x8a31…f02c"
        assert short_address(None) == "–"

    def test_typed_coins_resolve_through_the_catalog(self) -> None:
        """What ``a`` accepts: the exchange's exact names, whatever the case; nothing else."""
        catalog = default_catalog()
        assert resolve_coin(catalog, " doge ") == ("DOGE", "")
        assert resolve_coin(catalog, "kpepe") == ("kPEPE", "")
        assert resolve_coin(catalog, "XYZ:tsla") == ("xyz:TSLA", "")
        assert resolve_coin(catalog, "hype/usdc") == ("@107", "")
        name, why = resolve_coin(catalog, "TSLA")  # a bare HIP-3 ticker: never guessed
        assert name is None and "xyz:TSLA" in why and "flx:TSLA" in why
        name, why = resolve_coin(catalog, "btcx")
        assert name is None and "unknown market 'btcx'" in why and "BTC" in why
        name, why = resolve_coin(catalog, "matic")
        assert name is None and "delisted" in why
        assert resolve_coin(None, "BTC") == (None, NOT_LOADED)


class TestGlyphs:
    def test_sparkline_scales_to_its_range(self) -> None:
        assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
        assert sparkline([5, 5, 5], 6) == "▄▄▄"  # flat is a line, not a crash
        assert sparkline([1, 2, 3, 4], 2) == "▁█"  # the newest values
        assert sparkline([], 5) == ""

    def test_bar_eighths(self) -> None:
        assert bar(1.0, 4) == "████"
        assert bar(0.5, 4) == "██  "
        assert bar(0.0001, 4) == "▏   "  # a non-empty level never vanishes
        assert bar(0.0, 3) == "   "


class TestLayout:
    COLS = (
        Column("a", "A", 5, "left", priority=100),
        Column("b", "B", 5, "right", priority=10),
        Column("c", "C", 5, "right", priority=50),
        Column("d", "", 0, priority=0, flex=True),
    )

    def test_narrow_drops_lowest_priority_first(self) -> None:
        assert [c.key for c in fit_columns(self.COLS, 30)] == ["a", "b", "c", "d"]
        # the zero-width spacer still costs a gap, so it goes first
        assert [c.key for c in fit_columns(self.COLS, 17)] == ["a", "b", "c"]
        assert [c.key for c in fit_columns(self.COLS, 11)] == ["a", "c"]
        assert [c.key for c in fit_columns(self.COLS, 3)] == ["a"]

    def test_rows_are_exactly_the_width(self) -> None:
        cols = fit_columns(self.COLS, 24)
        row = layout_row(cols, {"a": ("BTC", "x"), "b": ("123456789", ""), "c": ("1", "")}, 24)
        text = "".join(t for t, _ in row)
        assert len(text) == 24
        assert text.startswith("BTC   1234…     1")

    def test_status_parts_drop_by_priority(self) -> None:
        parts: list[tuple[int, tuple[tuple[str, str], ...]]] = [
            (100, (("● LIVE", ""),)),
            (10, (("quiet thing", ""),)),
            (90, (("book 18s STALE", ""),)),
        ]
        row = fit_parts(parts, 30)
        text = "".join(t for t, _ in row)
        assert text.rstrip() == " ● LIVE │ book 18s STALE"
        assert len(text) == 30

    def test_an_event_feed_is_stale_as_long_as_the_socket_is_silent(self) -> None:
        """During a 2 s reconnect the hourly funding feed is 2 s stale, not 45 min; a periodic
        feed keeps its age, and so does everything when the socket was never heard."""
        kinds = {
            "funding": FeedStatus("fundings", FeedState.STALE, 2700.0, Source.WS),
            "trades": FeedStatus("trades:BTC", FeedState.STALE, 1.0, Source.WS),
            "mids": FeedStatus("mids", FeedState.STALE, 20.0, Source.WS),
            "bbo": FeedStatus("bbo:BTC", FeedState.QUIET, 90.0, Source.WS),
        }
        ages = {k: st.age_s for k, st in stale_no_longer_than_silence(kinds, 2.0).items()}
        assert ages == {"funding": 2.0, "trades": 1.0, "mids": 20.0, "bbo": 90.0}
        assert stale_no_longer_than_silence(kinds, None) == kinds

    def test_a_long_group_of_feeds_is_shortened_never_dropped(self) -> None:
        """Nine stale feeds on an 80-column bar: the first names, then how many more."""
        labels = ["mids", "book", "bbo", "trades", "ctx", "acct", "orders", "fills", "funding"]
        assert names_within(labels, 61) == " ".join(labels)  # fits: all of them
        assert names_within(labels, 29) == "mids book bbo trades ctx +4"
        assert names_within(labels, 3) == "+9"
        assert names_within(["mids"], 5) == "mids"  # " mids": its leading space counts
        assert names_within(["mids"], 4) == "+1"


def test_control_characters_never_reach_the_terminal() -> None:
    """An ESC or BEL inside an exchange string is drawn as a visible mark, same width."""
    from hlmon.ui.widgets.pane_render import visible

    hostile = "BTC\x1b[31m\x07\x9b"
    shown = visible(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert len(shown) == len(hostile) and shown.startswith("BTC")


def test_liq_distance_past_liquidation_is_red() -> None:
    """L1: a negative distance (mark past the liquidation price) is the worst case."""
    assert liq_style("-1.12") == "pane--bad"
    assert liq_style("4.99") == "pane--bad" and liq_style("10") == "pane--warn"


def test_a_funding_payment_under_a_cent_is_shown_with_its_sign() -> None:
    """The simulator's xyz:NVDA short received 0.004099 USDC in an hour: the Funding tab read
    ``0.00`` unstyled, as if nothing had been paid."""
    paid = [
        Funding(time=T0_MS, coin="xyz:NVDA", usdc="0.004099", szi="-25.0", fundingRate="8e-7"),
        Funding(time=T0_MS, coin="SOL", usdc="-0.561738", szi="120.0", fundingRate="2.6e-5"),
    ]
    rows, _ = funding_rows(paid, T0)
    assert [r["usdc"] for r in rows] == [("+0.0041", "pane--up"), ("-0.56", "pane--down")]
