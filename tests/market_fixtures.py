"""A synthetic whole market for the market-table and market-screen tests: ~1,600 names over the
default dex, four HIP-3 dexes and spot (mainnet had 1,592 in 2026-09), with deterministic values.
"""

from __future__ import annotations

import random
from decimal import Decimal

from hlmon.protocol.market_streams import FastAssetCtxs, FastCtx
from hlmon.protocol.messages import PerpAssetCtx, SpotAssetCtx
from hlmon.state.catalog import Dex, Market, MarketCatalog, MarketKind
from hlmon.state.market_table import MarketTable
from hlmon.state.types import Clock
from tests.support import T0

HIP3_DEXES = ("xyz", "flx", "km", "hyna")
MAJORS = ("BTC", "ETH", "SOL", "HYPE", "kPEPE", "LTC", "AAVE", "DOGE")
EQUITIES = ("NVDA", "TSLA", "AAPL", "GOLD", "SILVER", "MSFT", "AMZN", "META", "GOOGL", "SPX")


def _ticker(i: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    a, b = divmod(i, len(letters))
    c, a = divmod(a, len(letters))
    return f"{letters[c % len(letters)]}{letters[a]}{letters[b]}X"


def synthetic_catalog(n_main: int = 230, n_per_dex: int = 60, n_spot: int = 1139) -> MarketCatalog:
    """Default-dex perps (one delisted every 25), HIP-3 perps, spot pairs (``PURR/USDC`` then
    ``@N`` shown as ``BASE/USDC``) and two outcome markets. Default sizes give 1,600 rows."""
    markets: list[Market] = []
    for i in range(n_main):
        name = MAJORS[i] if i < len(MAJORS) else _ticker(i)
        markets.append(
            Market(name, MarketKind.PERP, "", 2, name, "USDC", delisted=i % 25 == 24,
                   asset_index=i, max_leverage=20)
        )  # fmt: skip
    for d, dex in enumerate(HIP3_DEXES):
        for i in range(n_per_dex):
            ticker = EQUITIES[i] if i < len(EQUITIES) else _ticker(1000 + 100 * d + i)
            name = f"{dex}:{ticker}"
            markets.append(Market(name, MarketKind.PERP, dex, 3, name, "USDC", asset_index=i))
    for i in range(n_spot):
        if i == 0:
            name, display, base = "PURR/USDC", "PURR/USDC", "PURR"
        else:
            base = "HYPE" if i == 107 else f"T{_ticker(2000 + i)}"
            name, display = f"@{i}", f"{base}/USDC"
        markets.append(
            Market(name, MarketKind.SPOT, "", 2, display, asset_index=i, base=base, quote="USDC")
        )
    markets.append(
        Market("#140", MarketKind.OUTCOME, "", 0, "BTC above 100k: Yes", asset_index=140)
    )
    markets.append(Market("#141", MarketKind.OUTCOME, "", 0, "BTC above 100k: No", asset_index=141))
    dexes = [Dex("", 0, "", 0, "USDC")] + [
        Dex(name, i + 1, name.upper(), 0, "USDC") for i, name in enumerate(HIP3_DEXES)
    ]
    return MarketCatalog(markets, dexes, loaded_at=T0)


def px(value: float) -> str:
    """Five significant figures in plain notation, as the exchange writes prices."""
    return f"{Decimal(f'{value:.5g}'):f}"


def perp_ctx(rng: random.Random, price: float) -> PerpAssetCtx:
    prev = price * (1 + rng.uniform(-0.12, 0.12))
    return PerpAssetCtx(
        funding=f"{rng.uniform(-0.0002, 0.0004):.8f}",
        openInterest=f"{rng.uniform(10, 5_000_000):.2f}",
        prevDayPx=px(prev),
        dayNtlVlm=f"{rng.uniform(0, 2e9):.1f}",
        oraclePx=px(price),
        markPx=px(price),
        midPx=px(price),
    )


def filled_table(clock: Clock | None = None, seed: int = 7) -> MarketTable:
    """A table over ``synthetic_catalog`` with contexts for nearly every market and a fast
    snapshot; a few markets keep no context (their columns are unknown)."""
    table = MarketTable(synthetic_catalog(), clock=clock or (lambda: T0))
    fill(table, seed)
    return table


def fill(table: MarketTable, seed: int = 7) -> None:
    """Contexts for nearly every row of ``table`` and a fast snapshot (``filled_table``)."""
    rng = random.Random(seed)
    perps: dict[str, PerpAssetCtx] = {}
    spots: list[SpotAssetCtx] = []
    prices: dict[str, FastCtx] = {}
    for row in table.rows():
        price = 104_412.5 if row.name == "BTC" else 10 ** rng.uniform(-4, 4)
        if rng.random() < 0.97:
            if row.kind is MarketKind.PERP:
                perps[row.name] = perp_ctx(rng, price)
            else:
                c = perp_ctx(rng, price)
                spots.append(
                    SpotAssetCtx(c.prevDayPx, c.dayNtlVlm, c.markPx, c.midPx, coin=row.name)
                )
        prices[row.name] = FastCtx(markPx=px(price), midPx=px(price * 1.0001))
    table.apply_perp_contexts(perps)
    table.apply_spot_contexts(spots)
    table.apply_fast(FastAssetCtxs(prices))
