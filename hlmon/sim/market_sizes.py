"""How many markets the simulator lists: ``standard`` (~340 names) or ``large`` (~1,600).

``large`` is mainnet's size in 2026-09 (``fastAssetCtxs`` named 1,592 coins): it adds generated
perps to the default dex and to each HIP-3 dex, and generated spot pairs, *after* everything the
standard universe holds. Every standard name, asset index and pair index stays what it was
(``@160`` is still USDH/USDC, ``@161`` FELIX/USDH), so the demo account and its orders are the
same in both sizes; only the market table grows. ``perpDexs``, ``allPerpMetas``, ``meta``,
``spotMeta`` and both ``*AndAssetCtxs`` answers are built from the same lists, so a catalog
loaded from the simulator names every coin its streams carry.
"""

from __future__ import annotations

from dataclasses import dataclass

_SYLLABLES = ("BA", "KO", "ZI", "MU", "RE", "TA", "LO", "NI", "XU", "VE", "DA", "SO", "PY", "QI")


@dataclass(frozen=True, slots=True)
class MarketSize:
    """Generated markets added to the standard universe.

    Attributes:
        name: ``standard`` or ``large``.
        default_perps: perps appended to the default dex's ``meta.universe``.
        dex_perps: (HIP-3 dex name, perps appended to its ``meta.universe``).
        spot_pairs: USDC spot pairs appended to ``spotMeta.universe`` (one new token each).
    """

    name: str
    default_perps: int = 0
    dex_perps: tuple[tuple[str, int], ...] = ()
    spot_pairs: int = 0


STANDARD_SIZE = MarketSize("standard")
LARGE_SIZE = MarketSize(
    "large", default_perps=70, dex_perps=(("xyz", 90), ("flx", 37), ("hyna", 37)), spot_pairs=1030
)
"""About 1,600 listed perps and spot pairs (the market screen's worst case)."""
SIZES = {s.name: s for s in (STANDARD_SIZE, LARGE_SIZE)}


def get_size(size: str | MarketSize) -> MarketSize:
    """Resolve a size name (``standard``/``large``) or pass a MarketSize through."""
    if isinstance(size, MarketSize):
        return size
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown market size {size!r}; choose from {sorted(SIZES)}") from None


def generated_names(prefix: str, count: int, taken: set[str]) -> list[str]:
    """``count`` ticker-like names (``KOZI``, ``MURETA``...) not in ``taken`` (which grows), the
    same on every run: the n-th name depends on n only."""
    out: list[str] = []
    n = 0
    while len(out) < count:
        digits, k = [], n
        while True:
            digits.append(_SYLLABLES[k % len(_SYLLABLES)])
            k //= len(_SYLLABLES)
            if k == 0:
                break
        n += 1
        word = prefix + "".join(digits[::-1])
        if len(word) - len(prefix) < 4 or word in taken:
            continue  # two-letter tickers collide with real ones too easily
        taken.add(word)
        out.append(word)
    return out
