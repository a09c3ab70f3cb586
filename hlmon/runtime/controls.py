"""What the UI is given: ``Backend`` (what it runs on) and ``Controls`` (what it may ask).

The TUI reads the backend's store on a timer and forwards the user's choices through
``Controls``; it never sees the feed engine or the simulator. ``hlmon.runtime.root.Runtime``
implements both protocols for real; the tests use one typed fake implementing the same ones.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from hlmon.config import Settings
from hlmon.config.saved import SavedChoices
from hlmon.state import Store


class InputRejected(ValueError):
    """The backend cannot start with what the user typed (``--coins`` naming a market the
    exchange does not list): the command exits 1 with this message."""


class Controls(Protocol):
    """The user's choices, forwarded to the running feeds. Synchronous and non-blocking: they
    change subscriptions, the I/O happens in the feeds' own tasks (``save_settings``, the one
    coroutine, does its file I/O in a thread).

    Each may raise ``ValueError`` for a refused input (a coin name the exchange cannot have, an
    address that is not watched); nothing has changed then.
    """

    def select_coin(self, coin: str) -> None:
        """Show ``coin``'s book, trades and bbo (instead of the previous coin's)."""
        ...

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        """Book of 20 levels (~5 s) or 5 levels (~0.5 s, ``fast``), optionally aggregated to
        ``n_sig_figs`` significant figures."""
        ...

    def add_coin(self, coin: str) -> None:
        """Add ``coin`` to the watchlist."""
        ...

    def remove_coin(self, coin: str) -> None:
        """Drop ``coin`` from the watchlist."""
        ...

    def select_user(self, address: str) -> None:
        """Show another watched account's detail (positions, orders, fills, fundings)."""
        ...

    def watch_instead(self, old: str, new: str) -> None:
        """Watch ``new`` in ``old``'s place (an agent wallet's master account), selecting it if
        ``old`` was selected."""
        ...

    def show_market(self, on: bool) -> None:
        """The market screen opened (``True``) or closed: the market-wide feeds (websocket
        streams, or REST in REST mode) run only while it is shown, into
        ``store.market_board``."""
        ...

    async def save_settings(self, choices: SavedChoices) -> bool:
        """Save the UI's choices (``hlmon.config.saved``) in the user's config file,
        ``settings.saved_file``, off the UI's event loop (a thread), one save at a time.

        Returns:
            True if the file was written; False if it already said the same, or this run saves
            nothing (``saved_file`` is None).

        Raises:
            ConfigError: nothing was saved and the file is as it was (the message says why).
        """
        ...


class Backend(Protocol):
    """What the UI runs on. Everything but the controls is known before it is entered, so the
    first frame never waits for the network; ``async with backend as controls`` starts it (in
    the UI's own event loop) and leaving the block stops it."""

    @property
    def settings(self) -> Settings:
        """The settings in force (display choices: watchlist, fps, theme, alerts)."""
        ...

    @property
    def store(self) -> Store:
        """The state the UI reads; the backend's feeds write it."""
        ...

    @property
    def clock(self) -> Callable[[], float]:
        """The wall clock the store runs on (seconds)."""
        ...

    @property
    def network(self) -> str:
        """What to call the network on screen (``mainnet``, ``testnet``, ``custom``, ``demo``)."""
        ...

    @property
    def address(self) -> str | None:
        """The account selected at start (``--demo``: the simulator's demo account), or None."""
        ...

    async def __aenter__(self) -> Controls:
        """Start the backend.

        Raises:
            InputRejected: what the user typed cannot be used (the app exits 1 with it).
        """
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
