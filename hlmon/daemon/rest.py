"""``InfoProxy``: ``POST /info`` for every client of the host, inside one weight budget.

Answers come from a shared cache while they are fresh for their type (an ``l2Book`` for
0.5 s, a ``clearinghouseState`` for 2 s, the catalog types for a minute; fills and order
history never), and identical requests in flight at once are sent upstream once. What does go
upstream reserves its worst-case weight in the host's one ``WeightBudget`` first and settles to
its true weight after (as ``feeds.info_client`` does for one process); a request that would
have to wait longer than ``max_wait`` is answered 429 at once, as the exchange would, and a
429 from upstream pauses everyone. Each client's share is counted: weight it caused (cache
misses) and weight the cache saved it.

Bodies are passed through as bytes: the daemon never re-encodes an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from hlmon.daemon.sessions import ClientSession
from hlmon.feeds.weight_budget import WeightBudget
from hlmon.keyguard import looks_like_key
from hlmon.protocol.info import base_weight, extra_weight

FRESH_FOR: Mapping[str, float] = {
    "l2Book": 0.5,
    "allMids": 1.0,
    "clearinghouseState": 2.0,
    "spotClearinghouseState": 2.0,
    "openOrders": 2.0,
    "frontendOpenOrders": 2.0,
    "metaAndAssetCtxs": 2.0,
    "spotMetaAndAssetCtxs": 2.0,
    "exchangeStatus": 5.0,
    "candleSnapshot": 5.0,
    "meta": 60.0,
    "spotMeta": 60.0,
    "perpDexs": 60.0,
    "allPerpMetas": 60.0,
    "outcomeMeta": 60.0,
    "userRole": 300.0,
}
"""Seconds an answer of each type is served from the cache; types not listed (fills, order
history, funding history...) are never cached: they must be exactly as new as asked."""

MAX_ITEMS = 2000
"""Largest list an answer holds; sizes a request's worst-case extra weight."""
UNPROCESSABLE = b"Failed to deserialize the JSON body into the target type"
_TOO_MANY = b"Too Many Requests"


@dataclass(frozen=True, slots=True)
class InfoAnswer:
    """What to send the client: status, body and content type."""

    status: int
    body: bytes
    content_type: str = "application/json"
    cached: bool = False


@dataclass(slots=True)
class _Entry:
    answer: InfoAnswer
    at: float


class InfoProxy:
    """The host's ``/info``: shared cache, single flight, one budget."""

    def __init__(
        self,
        api_url: str,
        budget: WeightBudget,
        *,
        max_wait: float = 5.0,
        timeout: float = 10.0,
        max_entries: int = 4096,
    ) -> None:
        self.url = api_url.rstrip("/") + "/info"
        self.budget = budget
        self.max_wait = max_wait
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=3.0)
        self._cache: dict[bytes, _Entry] = {}
        self._max_entries = max_entries
        self._inflight: dict[bytes, asyncio.Future[InfoAnswer]] = {}
        self._http: aiohttp.ClientSession | None = None
        self.upstream_requests = 0
        self.cache_hits = 0
        self.coalesced = 0
        self.refused_429 = 0
        self.upstream_429 = 0

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        for fut in self._inflight.values():
            fut.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def info(self, raw: bytes, client: ClientSession | None) -> InfoAnswer:
        """Answer one ``/info`` body for ``client`` (None: not attributed)."""
        if looks_like_key(raw.decode("utf-8", "replace")):
            # Never forwarded, cached or echoed: hlmon never needs a key.
            return InfoAnswer(422, UNPROCESSABLE, "text/plain")
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return InfoAnswer(422, UNPROCESSABLE, "text/plain")
        kind = body.get("type") if isinstance(body, dict) else None
        if not isinstance(kind, str) or not kind:
            return InfoAnswer(422, UNPROCESSABLE, "text/plain")
        if client is not None:
            client.info_requests += 1
        key = _cache_key(body)
        now = time.monotonic()
        fresh = FRESH_FOR.get(kind, 0.0)
        entry = self._cache.get(key)
        if entry is not None and now - entry.at < fresh:
            self.cache_hits += 1
            self._saved(client, kind)
            return InfoAnswer(entry.answer.status, entry.answer.body, cached=True)
        pending = self._inflight.get(key)
        if pending is not None:
            self.coalesced += 1
            self._saved(client, kind)
            return await asyncio.shield(pending)
        fut: asyncio.Future[InfoAnswer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            answer = await self._fetch(kind, raw, client)
            fut.set_result(answer)
        except BaseException as exc:
            fut.set_exception(exc) if not isinstance(exc, asyncio.CancelledError) else fut.cancel()
            raise
        finally:
            del self._inflight[key]
            with contextlib.suppress(BaseException):
                fut.exception()  # retrieved: no "never retrieved" warning when nobody waited
        if answer.status == 200 and fresh > 0:
            self._store(key, answer)
        return answer

    def _saved(self, client: ClientSession | None, kind: str) -> None:
        if client is not None:
            client.weight_saved += base_weight(kind)

    def _store(self, key: bytes, answer: InfoAnswer) -> None:
        if len(self._cache) >= self._max_entries:
            # Drop the oldest half: simple, and the cache refills within seconds anyway.
            by_age = sorted(self._cache, key=lambda k: self._cache[k].at)
            for old in by_age[: len(by_age) // 2]:
                del self._cache[old]
        self._cache[key] = _Entry(answer, time.monotonic())

    async def _fetch(self, kind: str, raw: bytes, client: ClientSession | None) -> InfoAnswer:
        worst = base_weight(kind) + extra_weight(kind, MAX_ITEMS)
        wait = self.budget.wait_time(worst)
        if wait > self.max_wait:
            self.refused_429 += 1
            return InfoAnswer(429, _TOO_MANY, "text/plain")
        if wait > 0:
            await asyncio.sleep(wait)
            if self.budget.wait_time(worst) > 0:
                self.refused_429 += 1
                return InfoAnswer(429, _TOO_MANY, "text/plain")
        reservation = self.budget.reserve(worst)
        assert self._http is not None, "InfoProxy.start() first"
        try:
            async with self._http.post(
                self.url, data=raw, headers={"Content-Type": "application/json"}
            ) as resp:
                body = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                content_type = resp.content_type or "application/json"
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Sent but unanswered may still have been counted upstream: keep the base weight.
            self.budget.settle(reservation, base_weight(kind))
            text = f"hlmon daemon: upstream /info failed: {type(exc).__name__}"
            return InfoAnswer(502, text.encode(), "text/plain")
        self.upstream_requests += 1
        weight = base_weight(kind)
        if status == 200:
            weight += extra_weight(kind, _items(body, kind))
        elif status == 429:
            self.upstream_429 += 1
            delay = _retry_after(retry_after)
            self.budget.pause_until(time.monotonic() + (delay if delay is not None else 5.0))
        self.budget.settle(reservation, weight)
        if client is not None:
            client.weight_caused += weight
        return InfoAnswer(status, body, content_type)

    def status(self) -> dict[str, Any]:
        return {
            "budget": self.budget.budget,
            "used": self.budget.used(),
            "peak": self.budget.peak,
            "upstream_requests": self.upstream_requests,
            "cache_hits": self.cache_hits,
            "coalesced": self.coalesced,
            "refused_429": self.refused_429,
            "upstream_429": self.upstream_429,
            "cached_entries": len(self._cache),
        }


def _cache_key(body: dict[str, Any]) -> bytes:
    """Requests that mean the same are one key: keys sorted, addresses lower-cased."""
    norm = {k: (v.lower() if k == "user" and isinstance(v, str) else v) for k, v in body.items()}
    return msgspec.json.encode(dict(sorted(norm.items())))


def _items(body: bytes, kind: str) -> int:
    """Items in a list answer, only where the weight depends on it."""
    if extra_weight(kind, MAX_ITEMS) == 0:
        return 0
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return 0
    return len(value) if isinstance(value, list) else 0


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
