"""The simulated coin universe: perps and spot pairs with realistic names, prices and decimals.

Indices are stable (perp asset id = position in ``PERPS``; spot pair ``@N`` = index ``N``), so
``meta``/``spotMeta`` and every feed agree on names. Beside the default dex the universe holds
the HIP-3 dexes and outcome markets of ``hlmon.sim.dexes``; every name is exact (a name the
universe does not hold, e.g. ``btc`` or ``TSLA``, is not a coin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hlmon.sim.dexes import COLLATERAL_TOKENS, HIP3_DEXES, OUTCOMES, DexDef, perp_dex_entry
from hlmon.sim.market_sizes import STANDARD_SIZE, MarketSize, generated_names, get_size

# name, reference price, szDecimals, maxLeverage.  The first rows are the coins the demo
# account trades; the rest fill the universe to a realistic size.
_PERP_ROWS: tuple[tuple[str, float, int, int], ...] = (
    ("BTC", 104412.0, 5, 40),
    ("ETH", 3688.2, 4, 25),
    ("SOL", 178.35, 2, 20),
    ("LTC", 96.12, 2, 10),
    ("AAVE", 291.4, 2, 10),
    ("HYPE", 38.214, 2, 10),
    ("ATOM", 4.912, 2, 5),
    ("MATIC", 0.3754, 1, 20),
    ("DYDX", 0.6542, 1, 10),
    ("AVAX", 24.87, 2, 10),
    ("BNB", 652.3, 3, 10),
    ("APE", 0.7321, 1, 5),
    ("OP", 0.8123, 1, 10),
    ("ARB", 0.4132, 1, 10),
    ("DOGE", 0.21352, 0, 10),
    ("INJ", 14.231, 1, 10),
    ("SUI", 3.4521, 1, 10),
    ("kPEPE", 0.012034, 0, 10),
    ("CRV", 0.7834, 1, 10),
    ("LDO", 1.1023, 1, 10),
    ("LINK", 17.342, 1, 10),
    ("STX", 0.8712, 1, 5),
    ("CFX", 0.1432, 0, 5),
    ("GMX", 16.52, 2, 5),
    ("SNX", 0.8123, 1, 5),
    ("XRP", 2.4312, 0, 20),
    ("BCH", 512.3, 3, 10),
    ("APT", 5.123, 2, 10),
    ("COMP", 48.12, 2, 5),
    ("MKR", 1523.4, 4, 5),
    ("WLD", 1.2341, 1, 10),
    ("FXS", 2.312, 1, 3),
    ("TIA", 2.8123, 1, 10),
    ("ORDI", 9.123, 2, 5),
    ("MEME", 0.002312, 0, 3),
    ("NEAR", 2.812, 1, 10),
    ("FET", 0.7123, 0, 5),
    ("JUP", 0.5812, 0, 10),
    ("PYTH", 0.1523, 0, 5),
    ("SEI", 0.2912, 0, 10),
    ("DOT", 4.123, 1, 10),
    ("ADA", 0.8123, 0, 10),
    ("TRX", 0.2812, 0, 10),
    ("TON", 3.1234, 1, 10),
    ("UNI", 10.234, 1, 10),
    ("FIL", 2.712, 1, 10),
    ("ETC", 21.34, 2, 10),
    ("ENA", 0.6812, 0, 10),
    ("TAO", 412.3, 3, 5),
    ("ONDO", 0.9812, 0, 10),
    ("W", 0.1123, 1, 5),
    ("STRK", 0.1812, 1, 5),
    ("ZRO", 2.4123, 1, 5),
    ("NOT", 0.002512, 0, 3),
    ("EIGEN", 1.6123, 2, 5),
    ("POPCAT", 0.4123, 0, 5),
    ("WIF", 1.0123, 0, 10),
    ("kBONK", 0.023412, 0, 10),
    ("kSHIB", 0.014123, 0, 10),
    ("FTM", 0.7123, 0, 5),
    ("RUNE", 1.6123, 1, 5),
    ("BLUR", 0.1123, 0, 5),
    ("IMX", 0.6123, 1, 5),
    ("GALA", 0.017123, 0, 5),
    ("SAND", 0.3012, 0, 5),
    ("MANA", 0.3212, 0, 5),
    ("AXS", 2.8123, 1, 5),
    ("ENS", 22.12, 2, 5),
    ("GRT", 0.1123, 0, 5),
    ("ALGO", 0.2712, 0, 5),
    ("HBAR", 0.2412, 0, 5),
    ("XLM", 0.4123, 0, 10),
    ("VET", 0.02512, 0, 5),
    ("ICP", 5.123, 2, 5),
    ("EGLD", 15.23, 2, 5),
    ("KAS", 0.08123, 0, 5),
    ("RENDER", 3.612, 1, 5),
    ("JTO", 1.812, 0, 5),
    ("PENDLE", 4.123, 0, 5),
    ("ARK", 0.4512, 0, 3),
    ("TRB", 42.12, 2, 3),
    ("BIGTIME", 0.07123, 0, 3),
    ("BLAST", 0.003812, 0, 3),
    ("MAVIA", 0.2123, 1, 3),
    ("MERL", 0.1523, 0, 3),
    ("SAGA", 0.3123, 1, 3),
    ("ETHFI", 1.1234, 1, 5),
    ("BOME", 0.002412, 0, 3),
    ("MEW", 0.003712, 0, 3),
    ("BRETT", 0.05123, 0, 3),
    ("ZK", 0.07123, 0, 5),
    ("LISTA", 0.2312, 0, 3),
    ("BANANA", 21.23, 1, 3),
    ("RSR", 0.007812, 0, 3),
    ("GOAT", 0.1123, 0, 3),
    ("MOODENG", 0.1812, 0, 3),
    ("GRASS", 1.6123, 1, 3),
    ("PNUT", 0.2312, 1, 5),
    ("CHILLGUY", 0.04123, 0, 3),
    ("VIRTUAL", 1.4123, 1, 5),
    ("PENGU", 0.03123, 0, 5),
    ("AI16Z", 0.2123, 1, 3),
    ("FARTCOIN", 1.1234, 1, 10),
    ("TRUMP", 9.123, 1, 10),
    ("MELANIA", 0.3123, 1, 3),
    ("BERA", 2.8123, 1, 5),
    ("IP", 4.123, 1, 3),
    ("KAITO", 1.4123, 0, 5),
    ("S", 0.4123, 0, 5),
    ("LAYER", 0.7123, 0, 3),
    ("PAXG", 3312.4, 3, 10),
    ("NIL", 0.3123, 0, 3),
    ("WCT", 0.3812, 0, 3),
    ("INIT", 0.6123, 0, 3),
    ("SOPH", 0.04812, 0, 3),
    ("RESOLV", 0.1812, 0, 3),
    ("SYRUP", 0.4123, 0, 3),
    ("PUMP", 0.004312, 0, 5),
    ("PROVE", 0.9123, 0, 3),
    ("XPL", 0.9812, 0, 5),
    ("WLFI", 0.2312, 0, 5),
    ("ASTER", 1.4123, 0, 5),
    ("LINEA", 0.02812, 0, 3),
    ("STBL", 0.1823, 0, 3),
    ("0G", 2.8123, 0, 3),
    ("AVNT", 1.1234, 0, 3),
    ("MON", 0.023038, 0, 3),
    ("ZEC", 412.3, 2, 5),
    ("YZY", 0.5123, 0, 3),
    ("2Z", 0.2812, 0, 3),
    ("APEX", 1.2341, 0, 3),
    ("MNT", 1.8123, 1, 5),
    ("CAKE", 2.4123, 1, 5),
    ("SKY", 0.07123, 0, 3),
    ("ALT", 0.03123, 0, 3),
    ("ZORA", 0.08123, 0, 3),
    ("HMSTR", 0.001234, 0, 3),
    ("SCR", 0.3123, 1, 3),
    ("MOVE", 0.1123, 0, 3),
    ("ME", 0.8123, 1, 3),
    ("USUAL", 0.01152, 1, 3),
    ("XAI", 0.05123, 1, 3),
    ("UMA", 1.4123, 1, 3),
    ("ACE", 0.5123, 2, 3),
    ("DYM", 0.3123, 1, 3),
    ("MANTA", 0.2812, 1, 3),
    ("ALICE", 0.4512, 1, 3),
    ("POLYX", 0.1523, 0, 3),
    ("GAS", 3.123, 1, 3),
    ("HYPER", 0.2812, 0, 3),
    ("TURBO", 0.004512, 0, 3),
    ("SUPER", 0.6812, 0, 3),
    ("IO", 0.7123, 1, 3),
    ("NEIRO", 0.0004512, 0, 3),
)

# Spot tokens beside USDC and PURR: (name, reference price, szDecimals).
_SPOT_ROWS: tuple[tuple[str, float, int], ...] = (
    ("HFUN", 3.712, 2),
    ("JEFF", 0.3123, 0),
    ("UBTC", 104390.0, 5),
    ("UETH", 3686.4, 4),
    ("USOL", 178.21, 3),
    ("HYPE", 38.209, 2),
    ("USDT0", 1.0004, 2),
    ("FEUSD", 0.99971, 2),
    ("USDE", 1.0001, 2),
    ("UFART", 1.1231, 1),
    ("UPUMP", 0.004311, 0),
    ("KHYPE", 38.512, 2),
    ("LHYPE", 38.431, 2),
    ("CATBAL", 0.8123, 0),
    ("PIP", 12.312, 1),
    ("SOLV", 0.02812, 1),
    ("LIQD", 0.4123, 0),
    ("BUDDY", 0.01812, 0),
    ("RUB", 0.5123, 0),
    ("GUESS", 0.0812, 0),
)

PERP_MAX_DECIMALS = 6
SPOT_MAX_DECIMALS = 8
N_SPOT_PAIRS = 160
"""Generated spot pairs (``PURR/USDC`` plus ``@1`` ... ``@159``) so ``allMids`` has a few hundred
keys; the collateral tokens' pairs (``USDH``) follow them."""
STABLECOINS = frozenset({"USDT0", "FEUSD", "USDE", "USDH"})
"""Spot tokens that stay within a fraction of a percent of 1 USDC."""
DELISTED = frozenset({"MATIC"})
QUOTED_PAIRS: tuple[tuple[str, float, int, str], ...] = (("FELIX", 0.4123, 1, "USDH"),)
"""Spot tokens whose only pair is quoted in another token than USDC: (name, price in the quote
token, szDecimals, quote token). Their pairs follow ``@160`` (``FELIX/USDH`` is ``@161``), and
they sit at the end of the market table so the coins before them keep their random draws."""
"""Default-dex perps that keep their ``meta`` slot with ``isDelisted: true``."""


@dataclass(frozen=True, slots=True)
class CoinSpec:
    """Static description of one tradable coin (perp, spot pair or outcome side)."""

    index: int
    """Position in the combined market table (default perps, spot pairs, outcomes, HIP-3)."""
    name: str
    """Coin string used on the wire (``BTC``, ``PURR/USDC``, ``@12``, ``#90``, ``xyz:TSLA``)."""
    ref_px: float
    sz_decimals: int
    max_leverage: int
    is_spot: bool
    asset_index: int
    """Index in its dex's ``meta.universe`` for perps, pair index for spot."""
    base_token: int = 0
    activity: float = 0.1
    """Chance that the coin's book changes in one 100 ms block."""
    daily_vol: float = 0.05
    dex: str = ""
    """Perp dex (``""`` = default dex; also ``""`` for spot and outcomes)."""
    delisted: bool = False
    strict_isolated: bool = False
    growth_mode: bool = False
    quote_token: int = 0
    """Spot pairs: the token the price is quoted in (index in ``spotMeta.tokens``)."""

    @property
    def max_decimals(self) -> int:
        base = SPOT_MAX_DECIMALS if self.is_spot else PERP_MAX_DECIMALS
        return max(base - self.sz_decimals, 0)


@dataclass(frozen=True, slots=True)
class SpotToken:
    """One token of ``spotMeta.tokens``."""

    index: int
    name: str
    sz_decimals: int
    wei_decimals: int
    token_id: str


_BUSY = {"BTC": 0.9, "ETH": 0.85, "SOL": 0.7, "HYPE": 0.7, "XRP": 0.5, "DOGE": 0.45}


def _unit(seed_text: str) -> float:
    """A stable pseudo-random number in [0, 1) from text (no process hash randomisation)."""
    acc = 2166136261
    for ch in seed_text.encode():
        acc = ((acc ^ ch) * 16777619) & 0xFFFFFFFF
    return acc / 2**32


def _token_id(i: int) -> str:
    return "0x" + f"{(i * 0x9E3779B97F4A7C15 + 0x6D1E7CDE) & (2**128 - 1):032x}"


class Universe:
    """All coins known to the simulator, with lookup by exact name.

    ``size`` (``hlmon.sim.market_sizes``): ``standard``, or ``large`` for about 1,600 listed
    markets (generated ones appended after the standard ones, whose indices do not move).
    """

    def __init__(self, size: str | MarketSize = STANDARD_SIZE) -> None:
        self.size = get_size(size)
        coins: list[CoinSpec] = []
        for i, (name, px, szd, lev) in enumerate(_PERP_ROWS):
            activity = _BUSY.get(name, 0.04 + 0.2 * _unit(name) ** 2)
            vol = 0.03 + 0.08 * _unit(name + "vol")
            delisted = name in DELISTED
            coins.append(
                CoinSpec(i, name, px, szd, lev, False, i, 0, activity, vol, delisted=delisted)
            )
        self.perps: tuple[CoinSpec, ...] = tuple(coins)
        tokens = [
            SpotToken(0, "USDC", 8, 8, "0x6d1e7cde53ba9467b783cb7c530ce054"),
            SpotToken(1, "PURR", 0, 5, "0xc1fb593aeffbeb02f85e0308e9956a90"),
        ]
        spot: list[CoinSpec] = []
        base = len(coins)
        spot.append(CoinSpec(base, "PURR/USDC", 0.22695, 0, 1, True, 0, 1, 0.2, 0.08))
        rows = list(_SPOT_ROWS)
        rows += [(f"TKN{p}", 0.0, 0) for p in range(len(rows) + 1, N_SPOT_PAIRS)]
        rows += list(COLLATERAL_TOKENS)
        for pair, (tname, px, szd) in enumerate(rows, start=1):
            if tname.startswith("TKN"):
                px = round(0.001 + 50 * _unit(tname) ** 3, 6)
                szd = 0 if px < 1 else 1
            token = len(tokens)
            tokens.append(SpotToken(token, tname, szd, szd + 5, _token_id(token)))
            activity = 0.5 if tname in ("HYPE", "UBTC", "UETH") else 0.02 + 0.1 * _unit(tname)
            vol = 0.002 if tname in STABLECOINS else 0.08
            spot.append(
                CoinSpec(base + pair, f"@{pair}", px, szd, 1, True, pair, token, activity, vol)
            )
        self.outcomes = self._outcome_specs(len(coins) + len(spot))
        self.dexes: tuple[DexDef, ...] = HIP3_DEXES
        self.dex_names: tuple[str, ...] = ("", *(d.name for d in HIP3_DEXES))
        """Perp dexes in ``perpDexs`` order, ``""`` (the default dex) first."""
        self.dex_perps: dict[str, tuple[CoinSpec, ...]] = {"": self.perps}
        start = len(coins) + len(spot) + len(self.outcomes)
        for dex in HIP3_DEXES:
            specs = self._dex_specs(dex, start)
            self.dex_perps[dex.name] = specs
            start += len(specs)
        hip3 = tuple(c for d in HIP3_DEXES for c in self.dex_perps[d.name])
        quoted = self._quoted_specs(tokens, start, len(spot))
        self.spots: tuple[CoinSpec, ...] = (*spot, *quoted)
        self.all: tuple[CoinSpec, ...] = (
            self.perps + self.spots[: len(spot)] + self.outcomes + hip3 + quoted
        )
        if self.size != STANDARD_SIZE:
            self._add_generated(tokens)
        self.tokens: tuple[SpotToken, ...] = tuple(tokens)
        self.by_name: dict[str, CoinSpec] = {c.name: c for c in self.all}
        token_index = {t.name: t.index for t in self.tokens}
        self.collateral: dict[str, int] = {"": 0}
        """Dex name -> index of its collateral token in ``spotMeta.tokens``."""
        for dex in HIP3_DEXES:
            self.collateral[dex.name] = token_index[dex.collateral]
        self.token_index: dict[str, int] = token_index
        """Spot token name -> index in ``spotMeta.tokens``."""
        self.pair_of_token: dict[int, CoinSpec] = {}
        """Token index -> its spot pair (the USDC pair when it has one, as a client picks)."""
        for c in sorted(self.spots, key=lambda c: c.quote_token != 0):
            self.pair_of_token.setdefault(c.base_token, c)

    def _add_generated(self, tokens: list[SpotToken]) -> None:
        """Append ``self.size``'s generated perps and spot pairs after every standard coin."""
        size, added = self.size, list[CoinSpec]()
        taken = {c.name for c in self.all}
        start = len(self.all)

        def perp(name: str, dex: str, asset: int) -> CoinSpec:
            u = _unit(name)
            px = round(10 ** (4 * _unit(name + "px") - 1.5), 6)
            lev = (3, 5, 10, 20)[int(u * 4)]
            szd = max(0, min(5, 3 - math.floor(math.log10(px))))
            vol = 0.03 + 0.06 * _unit(name + "vol")
            index = start + len(added)
            return CoinSpec(index, name, px, szd, lev, False, asset, 0, 0.02 + 0.15 * u**2, vol,
                            dex=dex)  # fmt: skip

        for dex, count in (("", size.default_perps), *size.dex_perps):
            prefix = f"{dex}:" if dex else ""
            perps = list(self.dex_perps[dex])
            for name in generated_names(prefix, count, taken):
                spec = perp(name, dex, len(perps))
                perps.append(spec)
                added.append(spec)
            self.dex_perps[dex] = tuple(perps)
        self.perps = self.dex_perps[""]
        token_names = {t.name for t in tokens}
        pair = max(c.asset_index for c in self.spots) + 1
        spots = list(self.spots)
        for tname in generated_names("", size.spot_pairs, token_names):
            token = len(tokens)
            px = round(0.001 + 50 * _unit(tname + "spot") ** 3, 6)
            szd = 0 if px < 1 else 1
            tokens.append(SpotToken(token, tname, szd, szd + 5, _token_id(token)))
            spec = CoinSpec(start + len(added), f"@{pair}", px, szd, 1, True, pair, token,
                            0.01 + 0.08 * _unit(tname), 0.08)  # fmt: skip
            spots.append(spec)
            added.append(spec)
            pair += 1
        self.spots = tuple(spots)
        self.all = (*self.all, *added)

    @staticmethod
    def _quoted_specs(tokens: list[SpotToken], start: int, pair: int) -> tuple[CoinSpec, ...]:
        """The ``QUOTED_PAIRS`` pairs (adds their base tokens to ``tokens``)."""
        by_name = {t.name: t.index for t in tokens}
        specs: list[CoinSpec] = []
        for name, px, szd, quote in QUOTED_PAIRS:
            token = len(tokens)
            tokens.append(SpotToken(token, name, szd, szd + 5, _token_id(token)))
            spec = CoinSpec(
                start + len(specs),
                f"@{pair + len(specs)}",
                px,
                szd,
                1,
                True,
                pair + len(specs),
                token,
                activity=0.15,
                daily_vol=0.08,
                quote_token=by_name[quote],
            )
            specs.append(spec)
        return tuple(specs)

    @staticmethod
    def _outcome_specs(start: int) -> tuple[CoinSpec, ...]:
        specs: list[CoinSpec] = []
        for oid, _, _, sides, px in OUTCOMES:
            for side in range(len(sides)):
                side_px = px if side == 0 else 1 - px
                encoding = 10 * oid + side
                name = f"#{encoding}"
                specs.append(
                    CoinSpec(start + len(specs), name, side_px, 0, 1, True, encoding, 0, 0.05, 0.1)
                )
        return tuple(specs)

    @staticmethod
    def _dex_specs(dex: DexDef, start: int) -> tuple[CoinSpec, ...]:
        specs: list[CoinSpec] = []
        for i, row in enumerate(dex.rows):
            name = f"{dex.name}:{row.name}"
            vol = 0.02 + 0.04 * _unit(name + "vol")
            specs.append(
                CoinSpec(
                    start + i,
                    name,
                    row.ref_px,
                    row.sz_decimals,
                    row.max_leverage,
                    False,
                    i,
                    0,
                    row.activity,
                    vol,
                    dex=dex.name,
                    strict_isolated=row.strict_isolated,
                    growth_mode=row.growth_mode,
                )
            )
        return tuple(specs)

    def get(self, name: str) -> CoinSpec | None:
        """The coin named exactly ``name`` on the wire, or None (no case folding)."""
        return self.by_name.get(name)

    def has_dex(self, dex: str) -> bool:
        """True for ``""`` and every listed HIP-3 dex name (exact, lower-case)."""
        return dex in self.dex_perps

    def collateral_name(self, dex: str) -> str:
        """Name of the token ``dex`` settles in (``USDC`` for the default dex)."""
        return self.tokens[self.collateral[dex]].name

    def meta(self, dex: str = "") -> dict[str, object]:
        """The REST ``meta`` body of ``dex`` (a listed dex name; ``""`` = default)."""
        perps = self.dex_perps[dex]
        universe = []
        for c in perps:
            entry: dict[str, object] = {
                "szDecimals": c.sz_decimals,
                "name": c.name,
                "maxLeverage": c.max_leverage,
                "marginTableId": c.max_leverage,
            }
            if c.delisted:
                entry["isDelisted"] = True
            if c.strict_isolated:
                entry["onlyIsolated"] = True
                entry["marginMode"] = "strictIsolated"
            if c.growth_mode:
                entry["growthMode"] = "enabled"
                entry["lastGrowthModeChangeTime"] = "2026-05-14T12:00:00.000"
            universe.append(entry)
        tables = sorted({c.max_leverage for c in perps})
        margin_tables = [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in tables
        ]
        return {
            "universe": universe,
            "marginTables": margin_tables,
            "collateralToken": self.collateral[dex],
        }

    def all_perp_metas(self) -> list[dict[str, object]]:
        """The REST ``allPerpMetas`` body: one bare ``meta`` per dex, in ``perpDexs`` order."""
        return [self.meta(dex) for dex in self.dex_names]

    def perp_dexs(self) -> list[dict[str, object] | None]:
        """The REST ``perpDexs`` body: ``null`` for the default dex, then one entry per dex."""
        return [
            None,
            *(perp_dex_entry(d, [c.name for c in self.dex_perps[d.name]]) for d in self.dexes),
        ]

    def spot_meta(self) -> dict[str, object]:
        """The REST ``spotMeta`` body."""
        universe = [
            {
                "tokens": [c.base_token, c.quote_token],
                "name": c.name,
                "index": c.asset_index,
                "isCanonical": c.asset_index == 0,
            }
            for c in self.spots
        ]
        tokens = [
            {
                "name": t.name,
                "szDecimals": t.sz_decimals,
                "weiDecimals": t.wei_decimals,
                "index": t.index,
                "tokenId": t.token_id,
                "isCanonical": t.index < 2,
                "evmContract": None,
                "fullName": None,
            }
            for t in self.tokens
        ]
        return {"universe": universe, "tokens": tokens}


def sig_exponent(px: float) -> int:
    """Decimal exponent of the leading digit of ``px``."""
    return math.floor(math.log10(px)) if px > 0 else 0
