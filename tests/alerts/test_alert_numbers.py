"""Alert texts print numbers by the TUI's rule: both use ``hlmon.state.decimals`` (the alerts
cannot import the UI), so a price, a size or an amount reads the same in a notification as on
screen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hlmon.state.decimals import fmt_amount, fmt_px_text, fmt_usd, shown_decimals
from hlmon.ui.fmt import fmt_money, fmt_px, fmt_size

PRICES = ["106312.5", "104412.0", "110000", "3688.25", "3688.20", "201.555", "38.412", "0.00125",
          "0.1", "100.0", "96.12", "1e30", "-0.0"]  # fmt: skip


@pytest.mark.parametrize("px", PRICES)
def test_a_price_reads_the_same_in_an_alert_and_on_screen(px: str) -> None:
    assert fmt_px_text(px) == fmt_px(px)


@pytest.mark.parametrize("sz", ["0.05", "0.4", "120.0", "1500.25", "0.00100"])
def test_a_size_reads_the_same(sz: str) -> None:
    assert fmt_amount(Decimal(sz), shown_decimals(sz)) == fmt_size(sz)


@pytest.mark.parametrize("usd", ["921.2", "-210", "1076.6", "0", "-0.004"])
def test_an_amount_reads_the_same(usd: str) -> None:
    assert fmt_usd(usd, sign=True) == fmt_money(usd, sign=True)


def test_examples() -> None:
    assert fmt_px_text("106312.5") == "106,312.5"  # not the raw 106312.5 of old alert texts
    assert fmt_px_text("104412.0") == "104,412"  # an integer tick has no '.0'
    assert fmt_usd("-210", sign=True) == "-210.00"
