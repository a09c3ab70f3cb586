"""``Runtime``: the composition root. Every command that watches the exchange runs on one.

::

    async with Runtime(settings) as rt:      # starts the simulator (--demo), the engine
        rt.store, rt.engine, rt.settings     # settings resolved: the simulator's URL...
        rt.recorder                          # with settings.record_path: the recording
        rt.select_coin("ETH")                # the UI's Controls, forwarded to the engine
    # leaving the block stopped the engine (closing the recording), then the simulator

What the constructor settles (synchronously, so the TUI can draw its first frame at once):
the store, the network label, the selected address. What ``__aenter__`` does (in the caller's
event loop; the TUI enters from a worker on mount): start the simulator for ``--demo``, find a
running ``hlmon daemon`` to go through (``discovery``; otherwise direct connections), build
the recorder when ``settings.record_path`` is set, build and start the ``FeedEngine`` (which
loads the market catalog before it subscribes any coin). With ``settings.strict_watchlist``
(the watchlist came from ``--coins``) it waits for the catalog's first load and raises
``CoinsRejected`` (an ``InputRejected``: exit 1) naming every coin the exchange does not list,
with the closest listed names; without a catalog at all it cannot check, says so in the log and
goes on. If any step fails or is cancelled, what already started is stopped before the error
propagates.

``--demo`` means the same in the TUI, ``hlmon snapshot`` and ``hlmon record``: an in-process
simulator on a free loopback port with ``DEMO_SEED`` and ``DEMO_PROFILE`` (the market ``hlmon
sim`` serves with its defaults, so a demo run can be reproduced against a standalone
simulator) and its demo account in the mode ``settings.demo_account`` (``--demo-account``),
the settings pointed at it (``network="custom"``, its ``api_url``), its demo account selected
unless an address was given, and ``demo`` as the network label on screen, in the
snapshot document and in a recording's header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from hlmon.c_heap import HeapTrimmer
from hlmon.cancelling import cancel_and_wait
from hlmon.config import Settings
from hlmon.config.saved import SavedChoices, save_in_thread
from hlmon.event_loop import running_loop_name
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.recorder import FrameRecorder, make_header
from hlmon.runtime.controls import InputRejected
from hlmon.runtime.discovery import resolve_daemon
from hlmon.state import Store
from hlmon.state.clock import SteadyClock

if TYPE_CHECKING:
    from hlmon.sim import SimServer

DEMO_SEED = 0
"""The simulator's market seed for ``--demo`` (``hlmon sim``'s default too)."""
DEMO_PROFILE = "standard"
"""The simulator's traffic profile for ``--demo`` (``hlmon sim``'s default too). Its markets are
the standard ~330 as well: the large universe (``hlmon sim --markets large``, ~1,600 markets
for the market screen) makes every catalog answer and ``allMids`` frame several times larger
(2026-12, 2-core Xeon: ``spotMeta`` 272 KB instead of 37 KB, the catalog loaded in ~65 ms
instead of ~27, the simulator started in ~35 ms instead of ~5), which a demo's first data on
screen (issue #16: within 0.5 s) should not pay for."""
DEMO_NETWORK = "demo"
"""The network label of a ``--demo`` run."""
DEMO_HOST = "127.0.0.1"
"""The demo simulator listens on loopback only, on a free port."""


class CoinsRejected(InputRejected):
    """``--coins`` named markets the exchange does not list (unknown, ambiguous, delisted)."""


class Runtime:
    """Store, feed engine, recorder and (``--demo``) simulator for one run.

    Implements ``hlmon.runtime.controls.Backend`` and ``Controls``; single use.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] | None = None,
        candles: bool = True,
    ) -> None:
        """
        Args:
            settings: what to connect to and watch (``demo``: the built-in simulator).
            clock: wall-clock seconds for the store (default ``time.time``).
            candles: keep the watched coins' candles (the TUI's sparklines and chart); the
                snapshot and the recording have no use for them, and would spend REST
                weight on them.
        """
        self._candles = candles
        self.clock: Callable[[], float] = clock or time.time
        """The store's wall clock."""
        self.settings = settings
        """The settings in force; for ``--demo`` resolved on entry (the simulator's URL)."""
        self.sim: SimServer | None = None
        """The in-process simulator of a ``--demo`` run (started on entry), else None."""
        self.network = settings.network
        """The network label (``demo`` for ``--demo``)."""
        self.address = settings.address
        """The account selected at start."""
        if settings.demo:
            from hlmon.sim import SimServer  # the simulator is loaded only for --demo

            self.sim = SimServer(
                seed=DEMO_SEED, profile=DEMO_PROFILE, demo_account=settings.demo_account
            )
            self.network = DEMO_NETWORK
            self.address = settings.address or self.sim.demo_address
        # Delays (lag) are measured on a clock that a wall-clock step (NTP) does not move.
        self.store = Store(
            self.clock, settings.stale, lag_clock=SteadyClock(self.clock, time.monotonic)
        )
        """The state every reader shares; the engine writes it."""
        self._engine: FeedEngine | None = None
        self.recorder: FrameRecorder | None = None
        """Records every received frame when ``settings.record_path`` is set (built on entry)."""
        self._entered = False
        self._heap_trim: asyncio.Task[None] | None = None
        """Hands the C heap's free pages back once a minute (``c_heap``): RSS stays flat."""
        self._save_lock = threading.Lock()
        """One save at a time, even when an awaiting caller was cancelled mid-save."""

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Runtime:
        if self._entered:
            raise RuntimeError("a Runtime runs once; build a new one")
        self._entered = True
        try:
            await self._start()
        except BaseException:
            # Failed or cancelled half way: stop what already runs, then let the error out.
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _start(self) -> None:
        # In the Log tab: which loop runs this (uvloop or asyncio, ``hlmon.event_loop``).
        self.store.health.log(f"event loop: {running_loop_name()}")
        self._heap_trim = asyncio.create_task(HeapTrimmer().run(), name="heap-trim")
        if self.sim is not None:
            url = await self.sim.start(host=DEMO_HOST, port=0)
            self.settings = dataclasses.replace(
                self.settings, network="custom", api_url=url, address=self.address
            )
            self.store.health.log(f"demo: simulator listening on {url}, account {self.address}")
        self.settings, note = resolve_daemon(self.settings)
        if note is not None:
            self.store.health.log(note)
        settings = self.settings
        if settings.record_path:
            self.recorder = FrameRecorder(
                settings.record_path,
                make_header(
                    network=self.network,
                    api_url=settings.api_url,
                    address=self.address.lower() if self.address else None,
                    coins=settings.watchlist,
                ),
            )
        # No catalog cache for the demo: its simulator is always there to answer, and it
        # listens on a new port each run (a cache per endpoint that nothing would ever read).
        self._engine = FeedEngine(
            settings,
            self.store,
            recorder=self.recorder,
            candles=self._candles,
            catalog_cache=self.sim is None,
        )
        await self._engine.start()
        if settings.strict_watchlist:
            await self._check_coins(self._engine)

    async def _check_coins(self, engine: FeedEngine) -> None:
        """``--coins``: every name must be one the exchange lists (checked on the catalog)."""
        await engine.catalog.attempted.wait()
        if engine.catalog.catalog is None:
            self.store.health.log(
                "--coins not checked: no market catalog yet; unknown names will be skipped",
                "warn",
            )
            return
        rejected = engine.markets.rejected
        if rejected:
            raise CoinsRejected("--coins: " + "; ".join(r.message for r in rejected))

    async def _stop(self) -> None:
        """Engine first (it closes the recording), then the simulator it talks to."""
        if self._heap_trim is not None:
            await cancel_and_wait([self._heap_trim], what="heap trim")
        try:
            if self._engine is not None:
                await self._engine.stop()
        finally:
            if self.sim is not None:
                await self.sim.stop()

    @property
    def engine(self) -> FeedEngine:
        """The feed engine (built on entry).

        Raises:
            RuntimeError: the runtime has not been entered yet.
        """
        if self._engine is None:
            raise RuntimeError("the runtime is not running (use it as `async with`)")
        return self._engine

    # ------------------------------------------------------------------ Controls

    def select_coin(self, coin: str) -> None:
        """Show ``coin``'s book, trades and bbo (``FeedEngine.select_coin``)."""
        self.engine.select_coin(coin)

    def set_book_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        """Switch the selected coin's book (``FeedEngine.set_book_mode``)."""
        self.engine.set_book_mode(fast, n_sig_figs)

    def add_coin(self, coin: str) -> None:
        """Add ``coin`` to the watchlist (``FeedEngine.add_coin``)."""
        self.engine.add_coin(coin)

    def remove_coin(self, coin: str) -> None:
        """Drop ``coin`` from the watchlist (``FeedEngine.remove_coin``)."""
        self.engine.remove_coin(coin)

    def select_user(self, address: str) -> None:
        """Show another watched account's detail (``FeedEngine.select_user``)."""
        self.engine.select_user(address)

    def watch_instead(self, old: str, new: str) -> None:
        """Watch ``new`` in ``old``'s place (``FeedEngine.watch_instead``)."""
        self.engine.watch_instead(old, new)

    def show_market(self, on: bool) -> None:
        """Feed the market screen's table while it is shown (``FeedEngine.show_market``)."""
        self.engine.show_market(on)

    async def save_settings(self, choices: SavedChoices) -> bool:
        """Save the UI's choices in ``settings.saved_file`` (``hlmon.config.saved``)."""
        return await save_in_thread(self.settings.saved_file, choices, self._save_lock)
