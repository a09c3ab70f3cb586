"""Market catalogs for tests that run without the simulator (the loopback tests load the real
one from the simulator over REST, as the app does).

``default_catalog()`` lists what the unit and UI tests name: the default dex's usual perps (and a
delisted ``MATIC``), HIP-3 dexes ``xyz`` (USDC), ``flx`` (USDH) and ``hyna`` (USDE) with a
ticker on two dexes (``TSLA``), spot ``PURR/USDC`` and ``@107`` (= ``HYPE/USDC``).
"""

from __future__ import annotations

from collections.abc import Iterable

from hlmon.state.catalog import Dex, Market, MarketCatalog, MarketKind
from tests.support import T0

DEFAULT_PERPS = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE", "DOGE", "kPEPE", "ARB", "AVAX")
HIP3 = {
    "xyz": ("XYZ100", "TSLA", "NVDA", "TSLL", "AAPL", "GOLD"),
    "flx": ("CRCL", "TSLA", "GOLD"),
    "hyna": ("BTC", "ETH", "HYPE"),
}
COLLATERAL = {"": "USDC", "xyz": "USDC", "flx": "USDH", "hyna": "USDE"}


def catalog_of(
    perps: Iterable[str] = DEFAULT_PERPS,
    *,
    hip3: dict[str, tuple[str, ...]] | None = None,
    delisted: Iterable[str] = ("MATIC",),
    spot: dict[str, str] | None = None,
    loaded_at: float = T0,
) -> MarketCatalog:
    """A catalog of these markets (``spot``: wire name -> display name)."""
    hip3 = HIP3 if hip3 is None else hip3
    spot = {"PURR/USDC": "PURR/USDC", "@107": "HYPE/USDC"} if spot is None else spot
    dexes = [Dex("", 0, "", 0, "USDC")]
    markets: list[Market] = []
    for i, name in enumerate((*perps, *delisted)):
        markets.append(
            Market(name, MarketKind.PERP, "", 4, name, "USDC", delisted=name in set(delisted),
                   asset_index=i)
        )  # fmt: skip
    for d, (dex, tickers) in enumerate(hip3.items(), start=1):
        collateral = COLLATERAL.get(dex, "USDC")
        dexes.append(Dex(dex, d, dex.upper(), 0, collateral))
        for i, ticker in enumerate(tickers):
            name = f"{dex}:{ticker}"
            markets.append(
                Market(name, MarketKind.PERP, dex, 3, name, collateral,
                       asset_index=100_000 + d * 10_000 + i)
            )  # fmt: skip
    for i, (name, display) in enumerate(spot.items()):
        base, _, quote = display.partition("/")
        markets.append(Market(name, MarketKind.SPOT, "", 2, display, asset_index=i,
                              base=base, quote=quote))  # fmt: skip
    return MarketCatalog(markets, dexes, loaded_at=loaded_at)


def default_catalog() -> MarketCatalog:
    """The default test catalog (see the module docstring)."""
    return catalog_of()
