"""The feeds layer's parameters: websocket timings, and what the engine reads of the settings.

:class:`WebsocketSettings` is the one type for the feed's heartbeat, reconnect and handshake
timings. Its first six fields are the ``[websocket]`` config table; the rest are tuned in code
(tests and benchmarks shorten them) and are not config keys.

:class:`EngineSettings` lists exactly what :class:`~hlmon.feeds.engine.FeedEngine` reads, so the
engine never imports :mod:`hlmon.config` (which sits above feeds); ``config.Settings`` satisfies
it structurally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hlmon.settable import Invalid, int_range, seconds, settable


def _ping_interval(value: Any) -> float:
    # The server closes a socket it has not heard from for 60 s, so pings must come sooner.
    expected = "a number of seconds > 0 and < 60 (the server closes idle sockets after 60 s)"
    try:
        interval: float = seconds(value)
    except Invalid:
        raise Invalid(expected) from None
    if interval >= 60:
        raise Invalid(expected)
    return interval


@dataclass(frozen=True)
class WebsocketSettings:
    """Heartbeat, reconnect and handshake timings of the websocket feed."""

    ping_interval: float = field(default=15.0, metadata=settable(_ping_interval))
    """Seconds between application pings; well inside the server's 60 s idle close."""
    pong_timeout: float = field(default=10.0, metadata=settable(seconds))
    """No pong within this many seconds of a ping: the socket is dead (half-open)."""
    silence_timeout: float = field(default=30.0, metadata=settable(seconds))
    """No frame at all for this many seconds: the socket is dead."""
    backoff_initial: float = field(default=0.5, metadata=settable(seconds))
    """First reconnect delay bound, doubled each failed attempt (full jitter)."""
    backoff_max: float = field(default=30.0, metadata=settable(seconds))
    """Cap on the reconnect delay bound."""
    max_new_per_minute: int = field(
        default=30, metadata=settable(int_range(1, 30, " (the exchange allows 30 per minute)"))
    )
    """Never open more new connections than this per minute (the exchange's limit)."""
    open_timeout: float = 10.0
    """Give up a TCP/TLS/HTTP-upgrade attempt after this long."""
    ack_timeout: float = 5.0
    """A subscribe not acked within this long is logged (once)."""
    probe_after: float = 5.0
    """After this long without any frame, ping at once instead of waiting for the next
    scheduled ping: a stalled (half-open) socket is then found within probe_after +
    pong_timeout, not ping_interval + pong_timeout."""
    stable_after: float = 10.0
    """A connection that lived this long resets the backoff attempt counter; one that died
    sooner keeps counting up, so a server that accepts then drops is not hammered."""


class EngineSettings(Protocol):
    """What the feed engine reads of the settings (``hlmon.config.Settings`` has it all)."""

    @property
    def network(self) -> str:
        """``mainnet``, ``testnet`` or ``custom`` (written into a recording's header)."""
        ...

    @property
    def api_url(self) -> str:
        """REST base URL."""
        ...

    @property
    def ws_url(self) -> str:
        """The websocket URL."""
        ...

    @property
    def address(self) -> str | None:
        """The selected account, or None for market data only."""
        ...

    @property
    def watched_addresses(self) -> tuple[str, ...]:
        """Every watched address, lower-case, each once."""
        ...

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        """Display names of watched addresses, ``(address, label)`` pairs."""
        ...

    @property
    def watchlist(self) -> tuple[str, ...]:
        """Coins whose asset contexts are subscribed, in display order."""
        ...

    @property
    def use_websocket(self) -> bool:
        """Run the websocket feed (else REST polling only)."""
        ...

    @property
    def rest_fallback(self) -> bool:
        """Poll /info for feeds the websocket is not keeping fresh."""
        ...

    @property
    def rest_weight_budget(self) -> int:
        """REST weight to spend per minute."""
        ...

    @property
    def max_users(self) -> int:
        """Users subscribed on the websocket at most (lowered if the exchange refuses one)."""
        ...

    @property
    def cache_dir(self) -> str | None:
        """Where the last good market catalog is kept (None: ``$HLMON_CACHE_DIR``, else the
        user cache dir)."""
        ...

    @property
    def websocket(self) -> WebsocketSettings:
        """The websocket feed's timings."""
        ...

    @property
    def daemon_endpoint(self) -> str | None:
        """Connect through the ``hlmon daemon`` listening here (``unix:/path`` or an http URL),
        or None for direct connections (resolved by the runtime)."""
        ...

    @property
    def daemon_token(self) -> str | None:
        """The token of a daemon's TCP listener, or None."""
        ...

    @property
    def record_path(self) -> str | None:
        """Record every received frame to this file, or None."""
        ...

    def label_for(self, address: str) -> str | None:
        """The label of ``address``, or None."""
        ...
