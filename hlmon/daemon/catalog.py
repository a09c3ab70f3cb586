"""``DaemonCatalog``: the market catalog, loaded through the daemon's own ``/info`` proxy.

NATS clients name coins in requests the daemon turns into upstream subscriptions, and a name
the exchange does not list makes it drop the whole socket (2026 protocol page §1.1): so those
names are checked against the catalog first. It is loaded with ``feeds.catalog_loader``
through ``rest.InfoProxy`` in-process (its weight counted in the host's one budget), again
every ``refresh`` seconds, and at most once a minute sooner when a request names a coin it
does not know (a new listing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from hlmon.cancelling import cancel_and_wait
from hlmon.daemon.rest import InfoProxy
from hlmon.feeds.catalog_loader import load_catalog
from hlmon.feeds.info_client import InfoClient, InfoError
from hlmon.state.catalog import MarketCatalog

logger = logging.getLogger("hlmon.daemon.catalog")

IN_PROCESS_URL = "http://hlmon-daemon"
"""Base URL of the in-process transport (it never reaches a socket)."""
EARLY_REFRESH_AFTER = 60.0
"""A catalog at least this old is reloaded when a request names a coin it lacks."""


class _ProxyTransport(httpx.AsyncBaseTransport):
    """``InfoClient`` requests answered by the daemon's ``InfoProxy``, in-process."""

    def __init__(self, proxy: InfoProxy) -> None:
        self._proxy = proxy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._proxy.info(await request.aread(), None)
        return httpx.Response(
            answer.status, content=answer.body, headers={"Content-Type": answer.content_type}
        )


class DaemonCatalog:
    """The catalog the daemon checks NATS clients' coin names against."""

    def __init__(self, proxy: InfoProxy, *, refresh: float = 600.0) -> None:
        self.refresh = refresh
        self.catalog: MarketCatalog | None = None
        self.problem: str | None = None
        """Why the last load failed, if it did."""
        self.loads = 0
        self._http = httpx.AsyncClient(transport=_ProxyTransport(proxy))
        self._client = InfoClient(
            IN_PROCESS_URL,
            budget=1200,  # the proxy's host-wide budget is the one that binds
            http_client=self._http,
            max_retries=1,
        )
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loaded = asyncio.Event()
        self._last_try = 0.0

    async def start(self, wait: float = 15.0) -> None:
        """Load once (waiting at most ``wait`` s), then keep it fresh in the background."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="daemon-catalog")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):  # (not wait_for: it can lose a cancel on 3.11)
                await self._loaded.wait()

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], what="daemon catalog")
            self._task = None
        await self._client.aclose()
        await self._http.aclose()

    def knows_coin(self, name: str) -> bool:
        """The exchange lists (or listed) exactly this name; a miss may reload it soon."""
        catalog = self.catalog
        if catalog is not None and name in catalog:
            return True
        self._maybe_reload()
        return False

    def knows_dex(self, name: str) -> bool:
        catalog = self.catalog
        if catalog is not None and (name == "" or catalog.dex(name) is not None):
            return True
        self._maybe_reload()
        return False

    def _maybe_reload(self) -> None:
        if time.monotonic() - self._last_try >= EARLY_REFRESH_AFTER:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            self._last_try = time.monotonic()
            try:
                load = await load_catalog(self._client, outcomes=True)
            except InfoError as exc:
                self.problem = f"market catalog not loaded: {exc}"
                logger.warning("%s", self.problem)
                delay = 30.0 if self.catalog is None else self.refresh
            else:
                self.catalog = load.catalog
                self.problem = None
                self.loads += 1
                self._loaded.set()
                delay = self.refresh
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that lands
            # in the turn the wake-up comes, and this loop would then outlive stop().
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    def status(self) -> dict[str, object]:
        catalog = self.catalog
        return {
            "markets": None if catalog is None else len(catalog),
            "age_s": None if catalog is None else round(catalog.age(time.time()), 1),
            "loads": self.loads,
            "problem": self.problem,
        }
