"""HIP-3 builder dexes and HIP-4 outcome markets of the simulated exchange.

The dexes mirror mainnet in late 2026 (``perpDexs`` order ``xyz, flx, hyna``): ``xyz`` settles
in USDC, ``flx`` in USDH and ``hyna`` in USDE, so a client meets a non-USDC collateral token.
Coin names carry the lower-case dex prefix (``xyz:TSLA``), exactly as in each dex's ``meta``.
``xyz:TSLA`` and ``flx:TSLA`` share a ticker so a bare ``TSLA`` is ambiguous; ``xyz:TSLL``
is a near miss of ``TSLA``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DexRow:
    """One perp of a HIP-3 dex (name without the prefix)."""

    name: str
    ref_px: float
    sz_decimals: int
    max_leverage: int
    activity: float = 0.2
    strict_isolated: bool = False
    """``onlyIsolated: true, marginMode: "strictIsolated"`` in ``meta``."""
    growth_mode: bool = False
    """``growthMode: "enabled"`` in ``meta``."""


@dataclass(frozen=True, slots=True)
class DexDef:
    """One HIP-3 perp dex as ``perpDexs`` and its ``meta`` describe it."""

    name: str
    full_name: str
    collateral: str
    """Name of the spot token that is this dex's ``collateralToken``."""
    deployer: str
    fee_recipient: str | None
    rows: tuple[DexRow, ...]
    oracle_updater: str | None = None
    sub_deployers: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    oi_cap: str = "100000000.0"


HIP3_DEXES: tuple[DexDef, ...] = (
    DexDef(
        "xyz",
        "XYZ",
        "USDC",
        "0x88806a71d74ad0a510b350545c9ae490912f0888",
        "0x97f46f90c04efb91d0d740bd263e76683ca6f904",
        (
            DexRow("XYZ100", 25312.0, 4, 20, 0.45),
            DexRow("TSLA", 432.15, 3, 10, 0.4),
            DexRow("NVDA", 186.42, 3, 10, 0.4),
            DexRow("TSLL", 18.426, 2, 5, 0.12, strict_isolated=True),
            DexRow("AAPL", 256.31, 3, 10, 0.2),
            DexRow("GOLD", 4012.5, 4, 20, 0.25),
            DexRow("SILVER", 48.125, 2, 10, 0.15),
        ),
        sub_deployers=(("setOracle", ("0x1234567890545d1df9ee64b35fdd16966e08acec",)),),
    ),
    DexDef(
        "flx",
        "Felix Exchange",
        "USDH",
        "0x2fab552502a6d45920d5741a2f3ebf4c35536352",
        "0x5f7a7e0b8fb2b3bd6c8b3c2a7e3f4b1c8d9e0a13",
        (
            DexRow("CRCL", 132.41, 2, 5, 0.2, growth_mode=True),
            DexRow("TSLA", 432.31, 3, 10, 0.2),
            DexRow("GOLD", 4013.1, 4, 10, 0.1),
        ),
        oi_cap="25000000.0",
    ),
    DexDef(
        "hyna",
        "Hyena",
        "USDE",
        "0x5a8b3c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7",
        None,
        (
            DexRow("BTC", 104380.0, 5, 20, 0.3),
            DexRow("ETH", 3685.4, 4, 20, 0.25),
            DexRow("HYPE", 38.221, 2, 10, 0.2),
        ),
        oi_cap="50000000.0",
    ),
)
"""HIP-3 dexes in ``perpDexs`` order (index 1, 2, ...; index 0 is the default dex)."""

COLLATERAL_TOKENS: tuple[tuple[str, float, int], ...] = (("USDH", 0.99984, 2),)
"""Spot tokens added only because a dex settles in them: (name, USDC price, szDecimals)."""

OUTCOMES: tuple[tuple[int, str, str, tuple[str, str], float], ...] = (
    (9, "BTC above 120k on Dec 31", "Settles Yes if BTC marks above 120,000.", ("Yes", "No"), 0.36),
)
"""HIP-4 outcomes: (outcome id, name, description, side names, price of side 0). Side ``s``
trades as ``#<10*outcome + s>``."""


def dex_of(coin: str) -> str:
    """The perp dex of a coin name: the part before ``:`` (``""`` for the default dex)."""
    head, sep, _ = coin.partition(":")
    return head if sep else ""


def perp_dex_entry(dex: DexDef, coins: list[str] | None = None) -> dict[str, object]:
    """One non-null element of ``perpDexs`` (``coins``: every perp of the dex, default its
    ``rows``; a large universe lists more)."""
    if coins is None:
        coins = [f"{dex.name}:{r.name}" for r in dex.rows]
    return {
        "name": dex.name,
        "fullName": dex.full_name,
        "deployer": dex.deployer,
        "oracleUpdater": dex.oracle_updater,
        "feeRecipient": dex.fee_recipient,
        "assetToStreamingOiCap": [[c, dex.oi_cap] for c in coins],
        "subDeployers": [[fn, list(addrs)] for fn, addrs in dex.sub_deployers],
        "deployerFeeScale": "1.0",
        "lastDeployerFeeScaleChangeTime": "1970-01-01T00:00:00",
        "assetToFundingMultiplier": [[c, "1.0"] for c in coins],
        "assetToFundingInterestRate": [[c, "0.0"] for c in coins],
    }


def outcome_meta() -> dict[str, object]:
    """The ``outcomeMeta`` body: the outcomes above and one question over them."""
    outcomes = [
        {
            "outcome": oid,
            "name": name,
            "description": text,
            "sideSpecs": [{"name": side} for side in sides],
            "quoteToken": 0,
        }
        for oid, name, text, sides, _ in OUTCOMES
    ]
    questions = [
        {
            "question": 1,
            "name": "BTC at year end",
            "description": "Where BTC marks on Dec 31.",
            "fallbackOutcome": OUTCOMES[0][0],
            "namedOutcomes": [o[0] for o in OUTCOMES],
            "settledNamedOutcomes": [],
        }
    ]
    return {"outcomes": outcomes, "questions": questions}
