"""The state layer's parameters: when a feed counts as stale (the ``[stale]`` config table)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hlmon.settable import seconds, settable


@dataclass(frozen=True)
class StaleThresholds:
    """Seconds after the last update at which a feed counts as stale (or quiet, see state)."""

    mids: float = field(default=15.0, metadata=settable(seconds))
    """allMids pushes every ~5 s."""
    book: float = field(default=15.0, metadata=settable(seconds))
    """l2Book (20 levels) pushes every ~5 s."""
    book_fast: float = field(default=2.5, metadata=settable(seconds))
    """l2Book with fast=true pushes every ~0.5 s."""
    bbo: float = field(default=10.0, metadata=settable(seconds))
    """bbo pushes only on change; silence on a live socket is 'quiet'."""
    trades: float = field(default=30.0, metadata=settable(seconds))
    """trades push as they happen; silence on a live socket is 'quiet'."""
    ctx: float = field(default=5.0, metadata=settable(seconds))
    """activeAssetCtx pushes every ~1 s."""
    account: float = field(default=12.0, metadata=settable(seconds))
    """clearinghouseState pushes every ~4 s."""
    orders: float = field(default=12.0, metadata=settable(seconds))
    """openOrders pushes every ~4 s."""
    fills: float = field(default=60.0, metadata=settable(seconds))
    """userFills is event-driven; silence on a live socket is 'quiet'."""
    lag: float = field(default=2.0, metadata=settable(seconds))
    """Data older than this on arrival (by the exchange's own timestamps, beyond the usual
    delay) is 'lagging'; see ``state.lag``."""
