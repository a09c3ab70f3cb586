"""Load profiles: block interval, feed cadences and market/account activity.

``standard`` mirrors the cadences measured on mainnet in 2026. ``stress`` multiplies every rate
by 10 or more and adds bursts, for benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hlmon.sim.account import AccountParams
from hlmon.sim.market import MarketParams


@dataclass(frozen=True, slots=True)
class Profile:
    """Cadences (simulated ms) and activity of one simulator profile."""

    name: str
    tick_ms: int = 100
    """One block: the market moves, bbo/trades/candles are pushed."""
    l2book_ms: int = 5000
    l2book_fast_ms: int = 500
    all_mids_ms: int = 5000
    ctx_ms: int = 1000
    user_ms: int = 4000
    """clearinghouseState / openOrders / webData3 / activeAssetData re-push period."""
    all_dexs_ms: int = 5000
    """allDexsClearinghouseState push period (about 5 s even for an idle account)."""
    fast_ctxs_ms: int = 1000
    """fastAssetCtxs push period (about 1 s on mainnet, 2026-09)."""
    all_dexs_ctxs_ms: int = 13_600
    """allDexsAssetCtxs push period (mean 13.6 s on mainnet, 2026-09)."""
    market: MarketParams = field(default_factory=MarketParams)
    account: AccountParams = field(default_factory=AccountParams)

    def with_changes(self, **changes: object) -> Profile:
        """A copy with some fields replaced (tests use short cadences)."""
        return replace(self, **changes)  # type: ignore[arg-type]


STANDARD = Profile("standard")
STRESS = Profile(
    "stress",
    tick_ms=20,
    l2book_ms=250,
    l2book_fast_ms=50,
    all_mids_ms=250,
    ctx_ms=100,
    user_ms=400,
    all_dexs_ms=500,
    fast_ctxs_ms=500,
    all_dexs_ctxs_ms=2000,
    market=MarketParams(activity_mult=20.0, trade_mult=3.0, burst_every_ms=2000, burst_trades=5),
    account=AccountParams(fill_every_min_s=1.0, fill_every_max_s=3.0),
)
PROFILES = {"standard": STANDARD, "stress": STRESS}


def get_profile(profile: str | Profile) -> Profile:
    """Resolve a profile name (``standard``/``stress``) or pass a Profile through."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}") from None
