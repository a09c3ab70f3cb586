"""Settings: typed, validated, loaded from TOML files, the environment and CLI flags.

Resolution order (later wins): built-in defaults, then the first config file found among
``--config PATH``, ``$HLMON_CONFIG``, ``./config.toml``, the user config dir; then the
``HLMON_ADDRESS`` / ``HLMON_NETWORK`` environment overrides; then CLI flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NETWORK_URLS: dict[str, str] = {
    "mainnet": "https://api.hyperliquid.xyz",
    "testnet": "https://api.hyperliquid-testnet.xyz",
}
DEFAULT_WATCHLIST: tuple[str, ...] = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE")


@dataclass(frozen=True)
class StaleThresholds:
    """Seconds after the last update at which a feed counts as stale (or quiet, see state)."""

    mids: float = 15.0
    """allMids pushes every ~5 s."""
    book: float = 15.0
    """l2Book (20 levels) pushes every ~5 s."""
    book_fast: float = 2.5
    """l2Book with fast=true pushes every ~0.5 s."""
    bbo: float = 10.0
    """bbo pushes only on change; silence on a live socket is 'quiet'."""
    trades: float = 30.0
    """trades push as they happen; silence on a live socket is 'quiet'."""
    ctx: float = 5.0
    """activeAssetCtx pushes every ~1 s."""
    account: float = 12.0
    """clearinghouseState pushes every ~4 s."""
    orders: float = 12.0
    """openOrders pushes every ~4 s."""
    fills: float = 60.0
    """userFills is event-driven; silence on a live socket is 'quiet'."""


@dataclass(frozen=True)
class WebsocketSettings:
    """Heartbeat and reconnect tuning for the websocket feed."""

    ping_interval: float = 15.0
    """Seconds between application pings; well inside the server's 60 s idle close."""
    pong_timeout: float = 10.0
    """No pong within this many seconds of a ping: the socket is dead (half-open)."""
    silence_timeout: float = 30.0
    """No frame at all for this many seconds: the socket is dead."""
    backoff_initial: float = 0.5
    """First reconnect delay bound, doubled each failed attempt (full jitter)."""
    backoff_max: float = 30.0
    """Cap on the reconnect delay bound."""
    max_new_per_minute: int = 30
    """Never open more new connections than this per minute (the exchange's limit)."""


@dataclass(frozen=True)
class Settings:
    """Everything hlmon can be told. Frozen: derive a changed copy with dataclasses.replace."""

    network: str = "mainnet"
    """``mainnet``, ``testnet`` or ``custom`` (then ``api_url`` is required)."""
    api_url: str = NETWORK_URLS["mainnet"]
    """REST base URL; the websocket URL is derived from it (http->ws, + /ws)."""
    address: str | None = None
    """Public 0x address to watch; without it only market panels show."""
    watchlist: tuple[str, ...] = DEFAULT_WATCHLIST
    """Coins in the watchlist, in display order."""
    use_websocket: bool = True
    """Use the websocket feed (the normal path)."""
    rest_fallback: bool = True
    """Poll /info for stale feeds while the websocket is down or a feed is stale."""
    rest_weight_budget: int = 600
    """REST weight hlmon may spend per minute (the exchange allows 1200 per IP)."""
    fps: float = 10.0
    """UI refresh rate: widgets read the store this many times a second."""
    theme: str = "textual-dark"
    """Textual theme name."""
    stale: StaleThresholds = field(default_factory=StaleThresholds)
    websocket: WebsocketSettings = field(default_factory=WebsocketSettings)
    demo: bool = False
    """Run against the built-in simulator."""

    @property
    def ws_url(self) -> str:
        """The websocket URL derived from ``api_url``."""
        base = self.api_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[len("https://") :] + "/ws"
        if base.startswith("http://"):
            return "ws://" + base[len("http://") :] + "/ws"
        return base + "/ws"
