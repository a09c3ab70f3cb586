"""Unit tests for the weight budget and the /info client (httpx.MockTransport, fake clock)."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest

from hlmon.feeds.asyncio_http import AsyncioTransport
from hlmon.feeds.info_client import (
    BadResponse,
    BudgetExhausted,
    InfoClient,
    InfoTimeout,
    InfoUnavailable,
    RateLimited,
    ServerError,
)
from hlmon.feeds.weight_budget import WeightBudget
from hlmon.protocol import info


class FakeTime:
    """A clock plus an async sleep that advances it: waits cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Usage:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def set_rest_usage(self, weight_last_minute: int, budget: int) -> None:
        self.reports.append((weight_last_minute, budget))


FILL = {
    "coin": "BTC", "px": "1.0", "sz": "1.0", "side": "B", "time": 1, "startPosition": "0.0",
    "dir": "Open Long", "closedPnl": "0.0", "hash": "0x0", "oid": 1, "crossed": True,
    "fee": "0.0", "tid": 1,
}  # fmt: skip


def make_client(
    handler: object, ft: FakeTime, budget: int = 600, **kw: object
) -> tuple[InfoClient, Usage]:
    usage = Usage()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    client = InfoClient(
        "http://x",
        budget=WeightBudget(budget, clock=ft),
        usage=usage,
        http_client=http,
        rng=random.Random(0),
        clock=ft,
        sleep=ft.sleep,
        **kw,  # type: ignore[arg-type]
    )
    return client, usage


class TestWeightBudget:
    def test_wait_time_until_oldest_leaves(self) -> None:
        """A request that does not fit waits exactly until enough weight leaves the window."""
        ft = FakeTime()
        b = WeightBudget(10, clock=ft)
        b.reserve(6)
        ft.now = 5.0
        b.reserve(4)
        assert b.wait_time(1) == pytest.approx(55.0)  # the 6 leaves at t=60
        assert b.wait_time(11) == float("inf")
        ft.now = 60.0
        assert b.used() == 4
        assert b.wait_time(6) == 0.0

    def test_used_can_leave_one_spender_out(self) -> None:
        """The REST poller tells its repeat polls from every other load by tag; both leave
        the window alike."""
        ft = FakeTime()
        b = WeightBudget(100, clock=ft)
        b.reserve(30, "plan")
        ft.now = 10.0
        b.settle(b.reserve(25), 20)
        b.reserve(5, "other")
        assert (b.used(), b.used(except_tag="plan"), b.used(except_tag="other")) == (55, 25, 50)
        ft.now = 60.0
        assert (b.used(), b.used(except_tag="plan")) == (25, 25)

    def test_settle_lowers_reservation(self) -> None:
        ft = FakeTime()
        b = WeightBudget(200, clock=ft)
        r = b.reserve(120)
        b.settle(r, 21)
        assert b.used() == 21

    def test_pause_until(self) -> None:
        ft = FakeTime()
        b = WeightBudget(100, clock=ft)
        b.pause_until(3.0)
        assert b.wait_time(1) == pytest.approx(3.0)


class TestInfoClient:
    async def test_posts_body_and_decodes(self) -> None:
        seen: list[dict[str, object]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(json.loads(request.content))
            return httpx.Response(200, json={"BTC": "1.5"})

        ft = FakeTime()
        client, usage = make_client(handler, ft)
        assert await client.info(info.all_mids()) == {"BTC": "1.5"}
        assert seen == [{"type": "allMids"}]
        assert usage.reports[-1] == (2, 600)

    async def test_never_exceeds_budget_and_waits(self) -> None:
        """Hammering past the budget: the window total never passes it; callers wait."""
        ft = FakeTime()
        sent_at: list[tuple[float, int]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            sent_at.append((ft.now, 2 if body["type"] == "allMids" else 20))
            if body["type"] == "allMids":
                return httpx.Response(200, json={"BTC": "1"})
            return httpx.Response(200, json=[])

        client, _ = make_client(handler, ft, budget=100)
        for i in range(60):
            req = info.all_mids() if i % 3 else info.frontend_open_orders("0x" + "1" * 40)
            await client.info(req)
        assert client.budget.peak <= 100
        for t, _ in sent_at:
            window = sum(w for u, w in sent_at if t - 60 < u <= t)
            assert window <= 100
        assert ft.slept, "the client should have waited for room"

    async def test_fill_extra_weight_reserved_then_settled(self) -> None:
        """userFillsByTime reserves its worst case (20 + 100) and settles to 20 + ceil(n/20)."""
        ft = FakeTime()

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[FILL] * 41)

        client, _ = make_client(handler, ft)
        fills = await client.info(info.user_fills_by_time("0x" + "1" * 40, 0))
        assert len(fills) == 41
        assert client.budget.used() == 20 + 3
        assert client.budget.peak == 120

    async def test_non_urgent_refused_when_spent(self) -> None:
        ft = FakeTime()
        client, _ = make_client(lambda r: httpx.Response(200, json={}), ft, budget=4)
        await client.info(info.all_mids())
        await client.info(info.all_mids())
        with pytest.raises(BudgetExhausted) as err:
            await client.info(info.all_mids(), urgent=False)
        assert err.value.retry_in == pytest.approx(60.0)
        assert ft.slept == []

    async def test_429_retry_after_is_honoured(self) -> None:
        """HTTP 429 with Retry-After: 7 makes the next attempt wait 7 s, then it succeeds."""
        ft = FakeTime()
        calls: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(ft.now)
            if len(calls) == 1:
                return httpx.Response(429, headers={"Retry-After": "7"}, text="rate limited")
            return httpx.Response(200, json={"BTC": "2"})

        client, _ = make_client(handler, ft)
        assert await client.info(info.all_mids()) == {"BTC": "2"}
        assert calls[1] - calls[0] >= 7.0
        assert client.rate_limited == 1

    async def test_429_persisting_raises_rate_limited(self) -> None:
        ft = FakeTime()
        client, _ = make_client(lambda r: httpx.Response(429), ft, max_retries=2)
        with pytest.raises(RateLimited):
            await client.info(info.all_mids())
        assert client.requests_sent == 3

    async def test_5xx_retried_with_backoff_then_typed(self) -> None:
        ft = FakeTime()
        client, _ = make_client(lambda r: httpx.Response(503), ft, max_retries=3)
        with pytest.raises(ServerError) as err:
            await client.info(info.all_mids())
        assert err.value.status == 503
        assert client.requests_sent == 4
        assert len(ft.slept) == 3
        # full jitter bounds: attempt n sleeps in [0, min(cap, 0.25 * 2**n)]
        for n, s in enumerate(ft.slept):
            assert 0 <= s <= min(5.0, 0.25 * 2**n)

    async def test_5xx_then_success(self) -> None:
        ft = FakeTime()
        answers = iter([httpx.Response(500), httpx.Response(200, json={"A": "1"})])
        client, _ = make_client(lambda r: next(answers), ft)
        assert await client.info(info.all_mids()) == {"A": "1"}

    async def test_timeout_typed(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        ft = FakeTime()
        client, _ = make_client(handler, ft, max_retries=1)
        with pytest.raises(InfoTimeout):
            await client.info(info.all_mids())
        assert client.budget.used() == 4  # both attempts may have been served: counted

    async def test_connect_error_typed_and_free(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        ft = FakeTime()
        client, _ = make_client(handler, ft, max_retries=1)
        with pytest.raises(InfoUnavailable):
            await client.info(info.all_mids())
        assert client.budget.used() == 0

    async def test_4xx_and_garbage_are_bad_response(self) -> None:
        ft = FakeTime()
        client, _ = make_client(lambda r: httpx.Response(422, text="Failed to deserialize"), ft)
        with pytest.raises(BadResponse):
            await client.info(info.all_mids())
        client2, _ = make_client(lambda r: httpx.Response(200, text="<html>"), ft)
        with pytest.raises(BadResponse):
            await client2.info(info.all_mids())


async def test_whole_attempt_has_a_deadline() -> None:
    """L3: a server answering slower than ``total_timeout`` (e.g. dripping bytes, each read
    within httpx's per-read timeout) fails the attempt as ``InfoTimeout``."""

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={"BTC": "1.0"})

    client, _ = make_client(slow, FakeTime(), total_timeout=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(InfoTimeout):
        await client.info(info.all_mids(), retries=0)
    assert loop.time() - started < 5
    await client.aclose()


class KeepAliveServer:
    """A real HTTP/1.1 server on loopback that keeps connections open and, on request, closes
    a connection after reading a request without answering it: what a pooled connection
    looks like when the server's idle timeout raced its reuse."""

    BODY = b'{"BTC": "100.5"}'

    def __init__(self) -> None:
        self.connections = 0
        self.answered = 0
        self.drop_next = 0
        """Requests to read and then drop the connection on, without answering."""
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                if self.drop_next:
                    self.drop_next -= 1
                    return  # close without a response
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(self.BODY), self.BODY)
                )
                await writer.drain()
                self.answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


async def test_a_dead_pooled_connection_is_retried_once_at_once() -> None:
    """The server closes the kept-alive connection as the next request arrives: the client
    asks once more on a fresh connection, even with ``retries=0``, and nothing is lost."""
    server = KeepAliveServer()
    async with server as url:
        client = InfoClient(url, budget=600)
        try:
            assert await client.info(info.all_mids(), retries=0) == {"BTC": "100.5"}
            assert server.connections == 1  # the connection is now pooled
            server.drop_next = 1
            assert await client.info(info.all_mids(), urgent=False, retries=0) == {"BTC": "100.5"}
            assert server.connections == 2 and server.answered == 2
            assert client.budget.used() == 4  # the dropped attempt cost nothing
        finally:
            await client.aclose()


async def test_the_dead_connection_retry_happens_once_only() -> None:
    """A server that drops every request: one immediate retry, then the typed error."""
    server = KeepAliveServer()
    async with server as url:
        client = InfoClient(url, budget=600)
        try:
            server.drop_next = 10
            with pytest.raises(InfoUnavailable):
                await client.info(info.all_mids(), retries=0)
            assert server.connections == 2 and server.drop_next == 8
        finally:
            await client.aclose()


def test_worst_case_reservations_follow_each_types_cap() -> None:
    """Fills may come 2000 to an answer, fundings 500, the recent-trades tape a few dozen: the
    reservation (and so the room a poll waits for) follows the cap of its type."""
    client = InfoClient("http://127.0.0.1:1", budget=600)
    user = "0x" + "ab" * 20
    assert client.worst_case(info.user_fills_by_time(user, 0)) == 20 + 100
    assert client.worst_case(info.user_funding(user, 0)) == 20 + 25
    assert client.worst_case(info.recent_trades("BTC")) == 20 + 5
    assert client.worst_case(info.l2_book("BTC")) == 2
    assert client.room_in(info.l2_book("BTC"), pending=598) == 0
    assert client.room_in(info.l2_book("BTC"), pending=599) == float("inf")


def test_environment_proxies_still_go_through_httpxs_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx ignores the environment's proxies for a client given a transport: with one set,
    the client is httpx's own as before (the proxy mounted); without, asyncio's transport."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    http = InfoClient("https://api.example", budget=600)._http
    assert isinstance(http._transport, httpx.AsyncHTTPTransport)
    proxied = http._transport_for_url(httpx.URL("https://api.example/info"))
    assert proxied is not http._transport and isinstance(proxied, httpx.AsyncHTTPTransport)
    monkeypatch.delenv("HTTPS_PROXY")
    direct = InfoClient("https://api.example", budget=600)._http
    assert isinstance(
        direct._transport_for_url(httpx.URL("https://api.example/info")), AsyncioTransport
    )
