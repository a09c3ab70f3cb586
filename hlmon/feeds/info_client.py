"""``InfoClient``: the one REST client for ``POST /info``, inside a weight budget.

One ``httpx.AsyncClient`` lives as long as the app (connection reuse, explicit timeouts, TLS
verification on). Every request reserves its worst-case weight in a rolling 60 s
``WeightBudget`` before it is sent and settles to the true weight (base + per-item extra)
after the answer, so hlmon never spends more than its budget in any window.

Failures are typed (all ``InfoError``): 429 honours ``Retry-After`` (and pauses every other
request too), 5xx/timeouts/connection errors are retried with full-jitter backoff, and what is
still failing after the retries surfaces as ``RateLimited``, ``ServerError``, ``InfoTimeout``
or ``InfoUnavailable``. A pooled keep-alive connection found dead is retried once at once,
outside the retry count (the request is idempotent). A non-urgent caller (the REST poller)
gets ``BudgetExhausted`` instead of waiting when the budget is spent.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.request import getproxies

import httpx

from hlmon.feeds.asyncio_http import AsyncioTransport
from hlmon.feeds.backoff import FullJitterBackoff
from hlmon.feeds.weight_budget import WeightBudget
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.info import InfoRequest, decode_response, extra_weight

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=8.0, write=5.0, pool=5.0)
DEFAULT_TOTAL_TIMEOUT = 10.0
"""Deadline for one whole attempt: httpx's read timeout is per read, so a server dripping one
byte every few seconds would otherwise hold a request open indefinitely."""
"""Explicit per-phase timeouts: a hung /info must not hold the fallback forever."""

STALE_CONNECTION_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""What a dead pooled keep-alive connection raises (the server closed it while idle: no
response, a reset, a broken pipe). Retried once at once, outside the retry count."""

MAX_ITEMS_PER_RESPONSE = 2000
"""Largest list /info returns (``userFills``/``userFillsByTime``); sizes the worst-case extra."""
MAX_ITEMS_BY_TYPE: dict[str, int] = {"userFunding": 500, "fundingHistory": 500, "recentTrades": 100}
"""Smaller caps where the exchange has them: fundings come 500 per answer at most, and the
recent-trades tape holds the last few trades (10 to 30 seen; 100 leaves room)."""


def environment_proxies() -> bool:
    """Whether the environment names a proxy httpx would mount (``http``, ``https`` or
    ``all``, as ``httpx._utils.get_environment_proxies`` reads ``getproxies``)."""
    found = getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


class InfoError(Exception):
    """Base of every error ``InfoClient.info`` raises."""


class BudgetExhausted(InfoError):
    """The weight budget has no room now (non-urgent request) or can never fit it."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in
        """Seconds until the request would fit (``inf`` if it never can)."""


class RateLimited(InfoError):
    """HTTP 429 persisted through every retry."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds the server asked to wait (``Retry-After``), None when it did not say."""


class ServerError(InfoError):
    """HTTP 5xx persisted through every retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class InfoTimeout(InfoError):
    """The request timed out on every attempt."""


class InfoUnavailable(InfoError):
    """The server could not be reached (connection refused, DNS, TLS...)."""


class BadResponse(InfoError):
    """A 4xx other than 429, or a body that does not decode: retrying would not help."""


class UsageSink(Protocol):
    """Where the client reports its weight usage (``store.health``)."""

    def set_rest_usage(self, weight_last_minute: int, budget: int) -> None: ...


class InfoClient:
    """Budgeted, retrying client for the exchange's ``/info`` endpoint."""

    def __init__(
        self,
        api_url: str,
        *,
        budget: int | WeightBudget,
        usage: UsageSink | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_retries: int = 3,
        backoff_initial: float = 0.25,
        backoff_cap: float = 5.0,
        max_budget_wait: float = 65.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = api_url.rstrip("/") + "/info"
        self.budget = (
            budget if isinstance(budget, WeightBudget) else WeightBudget(budget, clock=clock)
        )
        self._usage = usage
        self._owns_client = http_client is None
        # Certificates and host names verified for https (the transport builds its context on
        # the first TLS connection: a plain-http URL, the simulator or a local daemon, never
        # loads the CA bundle, 17 ms of CPU on a small Xeon). The transport is httpx's HTTP/1.1
        # without httpcore and anyio (~25 ms of imports before the first data; asyncio_http).
        # httpx ignores the environment's proxies (HTTPS_PROXY...) for a client given its own
        # transport: with one set, the client is built as before, on httpx's transport.
        tls = api_url.lower().startswith("https:")
        transport = None if environment_proxies() else AsyncioTransport(verify=True)
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, verify=tls, transport=transport
        )
        self._timeout = timeout
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self._backoff = FullJitterBackoff(backoff_initial, backoff_cap, rng or random.Random())
        self.max_budget_wait = max_budget_wait
        self._clock = clock
        self._sleep = sleep
        self.requests_sent = 0
        """Attempts that went out on the wire (tests and the status bar read it)."""
        self.rate_limited = 0
        """How many 429 answers were seen."""
        self.on_answer: Callable[[Mapping[str, Any], bytes], None] | None = None
        """Told each answer that decoded (the request's body, the answer's bytes): a
        recording keeps the ones a replay needs (``FrameRecorder.info_answer``)."""

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._http.aclose()

    # ------------------------------------------------------------------ budget

    def _worst_case(self, req: InfoRequest) -> int:
        cap = MAX_ITEMS_BY_TYPE.get(req.type, MAX_ITEMS_PER_RESPONSE)
        return req.weight + extra_weight(req.type, cap)

    def worst_case(self, req: InfoRequest) -> int:
        """The weight ``req`` reserves until its answer settles it to the true cost."""
        return self._worst_case(req)

    def room_in(self, req: InfoRequest, pending: int = 0) -> float:
        """Seconds until ``req`` (its worst-case weight) fits the budget next to ``pending``
        weight about to be reserved: 0 now, ``inf`` never.

        A scheduler asks this before sending so a cheap poll does not overtake a costlier,
        more important one waiting for room (and a 429 pause holds every poll)."""
        return self.budget.wait_time(self._worst_case(req) + pending)

    async def _wait_for_budget(self, weight: int, urgent: bool) -> None:
        waited = 0.0
        while True:
            wait = self.budget.wait_time(weight)
            if wait <= 0:
                return
            if wait == float("inf"):
                raise BudgetExhausted(
                    f"request weight {weight} exceeds the whole budget {self.budget.budget}",
                    wait,
                )
            if not urgent:
                raise BudgetExhausted(
                    f"REST budget spent ({self.budget.used()}/{self.budget.budget}); "
                    f"room in {wait:.1f} s",
                    wait,
                )
            if waited + wait > self.max_budget_wait:
                raise BudgetExhausted(f"REST budget has no room within {wait:.1f} s", wait)
            await self._sleep(wait)
            waited += wait

    def report_usage(self) -> None:
        """Push the current window's usage to the health (the window slides without requests,
        so a poller calls this on its tick to keep the status bar honest)."""
        self._report()

    def _report(self) -> None:
        if self._usage is not None:
            self._usage.set_rest_usage(self.budget.used(), self.budget.budget)

    # ------------------------------------------------------------------ requests

    async def info(
        self, req: InfoRequest, *, urgent: bool = True, retries: int | None = None, tag: str = ""
    ) -> Any:
        """Send ``req`` and return ``decode_response(req, body)``.

        Args:
            req: the request (its ``body`` is posted as JSON).
            urgent: wait for budget room (reconciliation); if False raise ``BudgetExhausted``
                instead of waiting (the REST poller, which will simply try later).
            retries: retries after a 429/5xx/timeout/connection error (default
                ``max_retries``); a poller whose next round is its retry passes 0.
            tag: who spends the weight (``WeightBudget.used`` can leave one spender out).

        Raises:
            InfoError: one of its subclasses, never a raw httpx exception.
        """
        worst = self._worst_case(req)
        max_retries = self.max_retries if retries is None else retries
        attempt = 0
        stale_retried = False
        while True:
            await self._wait_for_budget(worst, urgent)
            reservation = self.budget.reserve(worst, tag)
            self._report()
            try:
                async with asyncio.timeout(self.total_timeout):
                    response = await self._http.post(self.url, json=req.body, timeout=self._timeout)
            except (httpx.TimeoutException, TimeoutError) as exc:
                # A timed-out request may have been served: keep its base weight counted.
                self.budget.settle(reservation, req.weight)
                self._report()
                failure: InfoError = InfoTimeout(f"{req.type}: timed out ({exc!r})")
            except httpx.TransportError as exc:
                # Never reached the server (refused, reset before reply): costs nothing.
                self.budget.settle(reservation, 0)
                self._report()
                if not stale_retried and isinstance(exc, STALE_CONNECTION_ERRORS):
                    # A pooled keep-alive connection the server had already closed: /info is
                    # idempotent, so ask once more, at once, on a fresh connection.
                    stale_retried = True
                    continue
                failure = InfoUnavailable(f"{req.type}: {exc!r}")
            else:
                self.requests_sent += 1
                status = response.status_code
                if status == 200:
                    return self._decode(req, response.content, reservation)
                self.budget.settle(reservation, req.weight)
                self._report()
                if status == 429:
                    self.rate_limited += 1
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                    delay = retry_after if retry_after is not None else self._backoff.delay(attempt)
                    # Everyone waits, not only this caller: the server said "slow down".
                    self.budget.pause_until(self._clock() + delay)
                    failure = RateLimited(
                        f"{req.type}: HTTP 429 (retry after {delay:.1f} s)", retry_after
                    )
                    if attempt >= max_retries:
                        raise failure
                    attempt += 1
                    if not urgent:
                        raise failure
                    continue  # _wait_for_budget sleeps until the pause ends
                if status >= 500:
                    failure = ServerError(f"{req.type}: HTTP {status}", status)
                else:
                    snippet = response.text[:200]
                    raise BadResponse(f"{req.type}: HTTP {status}: {snippet}")
            if attempt >= max_retries:
                raise failure
            await self._sleep(self._backoff.delay(attempt))
            attempt += 1

    def _decode(self, req: InfoRequest, body: bytes, reservation: Any) -> Any:
        try:
            decoded = decode_response(req, body)
        except ProtocolError as exc:
            self.budget.settle(reservation, req.weight)
            self._report()
            raise BadResponse(f"{req.type}: {exc}") from exc
        items = len(decoded) if isinstance(decoded, list | tuple) else 0
        self.budget.settle(reservation, req.weight + extra_weight(req.type, items))
        self._report()
        if self.on_answer is not None:
            self.on_answer(req.body, body)
        return decoded


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
