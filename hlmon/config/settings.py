"""``Settings``: everything hlmon can be told, composed of the layers' own settings.

The shape is declared once, here and in the layers' types: a field marked
:func:`~hlmon.settable.settable` is a config key with its check, one marked
:func:`~hlmon.settable.settable_table` a table (``[stale]`` is
:class:`~hlmon.state.settings.StaleThresholds`, ``[websocket]``
:class:`~hlmon.feeds.settings.WebsocketSettings`, ``[alerts]``
:class:`~hlmon.alerts.settings.AlertSettings`); unmarked fields (``record_path``) are not config
keys. :mod:`hlmon.config.layers` derives its schema from these marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hlmon.alerts.settings import AlertSettings, parse_alerts
from hlmon.config.validators import (
    NETWORK_URLS,
    check_address,
    check_addresses,
    check_api_url,
    check_book_sig_figs,
    check_cache_dir,
    check_daemon,
    check_demo_account,
    check_event_loop,
    check_labels,
    check_network,
    check_theme,
    check_watchlist,
)
from hlmon.feeds.settings import WebsocketSettings
from hlmon.settable import boolean, int_range, number_range, settable, settable_table
from hlmon.state.settings import StaleThresholds

DEFAULT_WATCHLIST: tuple[str, ...] = ("BTC", "ETH", "SOL", "LTC", "AAVE", "HYPE")


@dataclass(frozen=True)
class Settings:
    """Everything hlmon can be told. Frozen: derive a changed copy with dataclasses.replace."""

    network: str = field(default="mainnet", metadata=settable(check_network))
    """``mainnet``, ``testnet`` or ``custom`` (then ``api_url`` is required)."""
    api_url: str = field(default=NETWORK_URLS["mainnet"], metadata=settable(check_api_url))
    """REST base URL; the websocket URL is derived from it (http->ws, + /ws)."""
    address: str | None = field(default=None, metadata=settable(check_address))
    """Public 0x address to watch; without it only market panels show. With ``addresses``,
    the selected one (default: the first of ``addresses``)."""
    addresses: tuple[str, ...] = field(default=(), metadata=settable(check_addresses))
    """More public addresses to watch, one account row each; ``address`` is always watched
    too, and at most ``max_users`` distinct addresses in all (the exchange's unique-user
    limit)."""
    labels: tuple[tuple[str, str], ...] = field(default=(), metadata=settable(check_labels))
    """Display names for watched addresses, ``(address, label)`` pairs (the ``labels`` table)."""
    watchlist: tuple[str, ...] = field(
        default=DEFAULT_WATCHLIST, metadata=settable(check_watchlist)
    )
    """Coins in the watchlist, in display order."""
    use_websocket: bool = field(default=True, metadata=settable(boolean))
    """Use the websocket feed (the normal path)."""
    rest_fallback: bool = field(default=True, metadata=settable(boolean))
    """Poll /info for stale feeds while the websocket is down or a feed is stale."""
    rest_weight_budget: int = field(default=600, metadata=settable(int_range(1, 1200)))
    """REST weight hlmon may spend per minute (the exchange allows 1200 per IP)."""
    max_users: int = field(
        default=10,
        metadata=settable(int_range(1, 15, " (the exchange tracks at most 15 users per IP)")),
    )
    """Distinct addresses watched, and subscribed on the websocket, at most. The documented
    limit is 10 per IP; the exchange of 2026 says 15 (and refuses the 15th). When it refuses a
    user earlier, the limit it allowed is used for the rest of the run."""
    cache_dir: str | None = field(default=None, metadata=settable(check_cache_dir))
    """Where the last good market catalog is kept; default ``$HLMON_CACHE_DIR``, else the
    user cache dir (``~/.cache/hlmon`` on Linux)."""
    fps: float = field(default=12.0, metadata=settable(number_range(1, 60)))
    """UI refresh rate: widgets read the store this many times a second."""
    theme: str = field(default="textual-dark", metadata=settable(check_theme))
    """Textual theme name."""
    book_fast: bool = field(default=False, metadata=settable(boolean))
    """Start with the fast book (5 levels, ~0.5 s) instead of the full one (20 levels, ~5 s)."""
    book_sig_figs: int = field(default=0, metadata=settable(check_book_sig_figs))
    """Start with the book aggregated to this many significant figures, 2..5 (0: exact
    prices, the default)."""
    stale: StaleThresholds = field(default_factory=StaleThresholds, metadata=settable_table())
    """Per-feed staleness thresholds (the ``[stale]`` table)."""
    websocket: WebsocketSettings = field(
        default_factory=WebsocketSettings, metadata=settable_table()
    )
    """Heartbeat and reconnect tuning (the ``[websocket]`` table)."""
    alerts: AlertSettings = field(
        default_factory=AlertSettings, metadata=settable_table(parse_alerts)
    )
    """Alert rules and delivery (the ``[alerts]`` table, ``hlmon.alerts.settings``)."""
    demo: bool = field(default=False, metadata=settable(boolean))
    """Run against the built-in simulator."""
    demo_account: str = field(default="standard", metadata=settable(check_demo_account))
    """The mode of the simulator's demo account for ``demo``: ``standard``, ``unified`` or
    ``portfolio`` (unified and portfolio keep the collateral in spot)."""
    daemon: str = field(default="auto", metadata=settable(check_daemon))
    """``auto``: connect through a running ``hlmon daemon`` for this network, else directly;
    ``off``: always directly (``--direct``); or a daemon's socket path / URL (``--via``)."""
    event_loop: str = field(default="auto", metadata=settable(check_event_loop))
    """The event loop the commands run on (``hlmon.event_loop``): ``auto`` (uvloop when it is
    installed, else asyncio's own), ``uvloop`` or ``asyncio``."""
    daemon_endpoint: str | None = None
    """The daemon actually used (``unix:/path`` or a URL), resolved by the runtime at start;
    None: direct connections. Not a config key."""
    daemon_token: str | None = None
    """The token of a daemon's TCP listener ($HLMON_DAEMON_TOKEN); not a config key."""
    record_path: str | None = None
    """Record every websocket frame received to this gzip JSON-lines file (``--record``); a
    command-line option only, not a config-file key."""
    strict_watchlist: bool = False
    """The watchlist was typed on the command line (``--coins``): a name the exchange does not
    list is an error (exit 1), not a warning. Not a config-file key."""
    saved_file: str | None = field(default=None, compare=False)
    """Where the UI's choices (watchlist, theme, book mode, alert rules) are saved, in hlmon's
    own ``[saved]`` section (``hlmon.config.saved``); None: they last for this run only (a
    config named with ``--config`` or ``./config.toml``). Set by ``load_settings``; not a
    config-file key (nor compared: it says where, not what)."""

    @property
    def ws_url(self) -> str:
        """The websocket URL derived from ``api_url``."""
        base = self.api_url.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[len("https://") :] + "/ws"
        if base.startswith("http://"):
            return "ws://" + base[len("http://") :] + "/ws"
        return base + "/ws"

    @property
    def watched_addresses(self) -> tuple[str, ...]:
        """Every watched address, lower-case, each once: ``addresses`` in order, with
        ``address`` first when it is not among them."""
        out = [a.lower() for a in self.addresses]
        if self.address is not None and self.address.lower() not in out:
            out.insert(0, self.address.lower())
        return tuple(dict.fromkeys(out))

    def label_for(self, address: str) -> str | None:
        """The configured label of ``address`` (any case), or None."""
        wanted = address.lower()
        return next((label for addr, label in self.labels if addr == wanted), None)
