"""``hlmon daemon --nats`` and ``hlmon --via nats://`` against a real nats-server (JetStream on)
and the simulator, everything on loopback.

The simulator counts what reaches it per IP (websocket connections, subscriptions, REST
weight): the proof that NATS terminals cost the desk one connection set. ``nats_support``
starts the server, or skips with the reason (fails under ``make test``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hlmon.config import Settings
from hlmon.daemon.limits import DaemonLimits
from hlmon.daemon.paths import upstream_name
from hlmon.daemon.server import DaemonConfig, DaemonServer
from hlmon.feeds.nats_endpoint import NatsEndpoint
from hlmon.keyguard import REDACTED
from hlmon.protocol import subscriptions as subs
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer
from hlmon.snapshot import take_snapshot
from hlmon.state import ConnState, FeedHealth, Source
from tests.daemon.nats_support import NatsServer, nats_server
from tests.support import TEST_TIMINGS, running_sim, wait_for

KEY = "ab" * 32


@dataclass
class Desk:
    sim: SimServer
    nats: NatsServer
    daemon: DaemonServer

    @property
    def network(self) -> str:
        return upstream_name(self.sim.url)

    def settings(self, via: str | None = None, **kw: Any) -> Settings:
        return Settings(
            network="custom",
            api_url=self.sim.url,
            address=self.sim.demo_address,
            watchlist=("BTC", "ETH"),
            daemon=via or self.nats.url,
            websocket=TEST_TIMINGS,
            **kw,
        )

    def upstream_subs(self) -> int:
        return sum(len(c.subs) for c in self.sim.connections)


@contextlib.asynccontextmanager
async def desk(
    tmp_path: Path, *, token: str | None = None, **daemon_kw: Any
) -> AsyncIterator[Desk]:
    with nats_server(tmp_path / "nats", token=token) as ns:
        async with running_sim() as sim:
            config = DaemonConfig(
                api_url=sim.url,
                socket_path=tmp_path / "run" / "d.sock",
                timings=TEST_TIMINGS,
                nats_url=ns.url,
                nats_token=token,
                **daemon_kw,
            )
            daemon = DaemonServer(config)
            await daemon.start()
            try:
                yield Desk(sim, ns, daemon)
            finally:
                await daemon.stop()


@contextlib.asynccontextmanager
async def nats_client(url: str, **kw: Any) -> AsyncIterator[Any]:
    import nats

    nc = await nats.connect(url, **kw)
    try:
        yield nc
    finally:
        await nc.close()


async def until(cond: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll an async condition until it holds (deadline: AssertionError)."""
    deadline = time.monotonic() + within
    while not await cond():
        assert time.monotonic() < deadline, f"not within {within} s"
        await asyncio.sleep(0.02)


def _ask(nc: Any, network: str) -> Callable[..., Awaitable[list[Any]]]:
    async def ask(body: Any, raw: bytes | None = None) -> list[Any]:
        payload = raw if raw is not None else json.dumps(body).encode()
        msg = await nc.request(f"hl.{network}._subscribe", payload, 10.0)
        return [json.loads(line) for line in msg.data.split(b"\n") if line]

    return ask


async def test_a_terminal_reads_live_book_mids_and_account_through_nats(tmp_path: Path) -> None:
    async with desk(tmp_path) as d, Runtime(d.settings()) as rt:
        store, health = rt.store, rt.store.health
        await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
        assert health.connection.via == "nats"
        for key in ("account", "book:BTC", "mids", "ctx:ETH", "orders"):
            await wait_for(lambda k=key: store.source_of(k) is Source.WS, 10)  # type: ignore[misc]
        book = store.book("BTC")
        assert book is not None and book.levels[0] and store.mid("BTC") is not None
        assert store.account_summary() is not None
        assert rt.engine.via is not None and rt.engine.via.using_daemon
        # The terminal reached the exchange only through the daemon: one socket, and its /info
        # requests went over NATS into the daemon's one budget.
        ip = d.sim.tracker.client("127.0.0.1")
        assert ip.new_connections.used() == 1
        status = d.daemon.status()
        assert status["nats"]["info_requests"] > 0
        assert ip.rest_weight.used() <= d.daemon.info.budget.budget
        (client,) = status["nats"]["clients"]
        assert client["via"] == "nats" and client["weight_caused"] + client["weight_saved"] > 0
        # The daemon's own link going down reaches the terminal through NATS too.
        d.sim.faults.refuse_connections(2.0)
        d.sim.faults.drop_all()
        await wait_for(lambda: health.connection.state is not ConnState.LIVE, 10)
        assert health.connection.via == "nats"
        await wait_for(lambda: health.connection.state is ConnState.LIVE, 15)


async def test_two_nats_terminals_and_a_local_one_share_one_upstream_socket(
    tmp_path: Path,
) -> None:
    async with desk(tmp_path) as d, contextlib.AsyncExitStack() as stack:
        runtimes = [await stack.enter_async_context(Runtime(d.settings())) for _ in range(2)]
        local = await stack.enter_async_context(
            Runtime(d.settings(via=f"unix:{d.daemon.socket_path}"))
        )
        for rt in [*runtimes, local]:
            await wait_for(lambda r=rt: r.store.source_of("book:BTC") is Source.WS, 15)  # type: ignore[misc]
            await wait_for(lambda r=rt: r.store.source_of("account") is Source.WS, 15)  # type: ignore[misc]
        assert [rt.store.health.connection.via for rt in (*runtimes, local)] == [
            "nats",
            "nats",
            "daemon",
        ]
        ip = d.sim.tracker.client("127.0.0.1")
        lanes = d.daemon.upstream.lanes
        assert len(lanes) == 1 and len(d.sim.connections) == 1
        # One socket was opened; on a loaded host its heartbeat may have timed out and the
        # lane reconnected (once in a run beside a busy loop): the same socket again.
        reconnects = lanes[0].health.connection.reconnects
        assert ip.new_connections.used() == 1 + reconnects
        streams = d.daemon.upstream.streams
        assert d.upstream_subs() == len(streams)
        key = subs.l2_book("BTC").key
        # A NATS terminal's book can show before the daemon has counted its subscription (the
        # subject reaches every listener), and a session renewed on a loaded host subscribes
        # again: the count is checked once it has had the time to settle.
        await wait_for(lambda: key in streams and len(streams[key].subscribers) == 3, 10)
        book = streams[key]
        assert len(book.subscribers) == 3  # two NATS clients and the local one, ref-counted
        # One terminal leaves: still held for the others, still one upstream subscription.
        await stack.aclose()
        await wait_for(lambda: d.upstream_subs() == len(streams), 5)


async def test_a_reconnecting_client_resumes_fills_by_sequence(tmp_path: Path) -> None:
    """Socket 1 reads the snapshot and a fill, drops; two fills happen; socket 2 resubscribes
    and gets exactly those two (no snapshot again, nothing twice), then the next one once."""
    from hlmon.feeds.nats_route import NatsRoute

    async with desk(tmp_path) as d:
        user = d.sim.demo_address
        sub = subs.user_fills(user)
        endpoint = NatsEndpoint.parse(d.nats.url).with_network(d.network)
        route = NatsRoute(
            endpoint,
            direct_api_url=d.sim.url,
            direct_ws_url=d.sim.ws_url,
            health=FeedHealth(time.time),
        )
        try:
            first = await route.connector.ws_connect("x")
            await first.send_str(subs.subscribe_frame(sub))
            got = await _fills_until(first, lambda fs: any(f.get("isSnapshot") for f in fs))
            assert any(f.get("isSnapshot") for f in got)
            fill0 = d.sim.force_fill()
            assert fill0 is not None
            await _fills_until(first, lambda fs: _has(fs, fill0["tid"]))
            seq_before = route.last_seq[sub.key]
            await first.close()

            missed = [d.sim.force_fill(), d.sim.force_fill()]
            assert all(f is not None for f in missed)
            tids = [f["tid"] for f in missed if f is not None]
            async with nats_client(d.nats.url) as nc:
                js = nc.jetstream()

                async def stored() -> bool:
                    info = await js.stream_info(f"hl-{d.network}-events")
                    return info.state.last_seq >= seq_before + 2

                await until(stored)

            second = await route.connector.ws_connect("x")
            await second.send_str(subs.subscribe_frame(sub))
            resumed = await _fills_until(second, lambda fs: all(_has(fs, t) for t in tids))
            assert not any(f.get("isSnapshot") for f in resumed)
            fill3 = d.sim.force_fill()
            assert fill3 is not None
            resumed += await _fills_until(second, lambda fs: _has(fs, fill3["tid"]))
            seen = [x["tid"] for f in resumed for x in f["fills"]]
            assert sorted(seen) == sorted([*tids, fill3["tid"]])  # none lost, none twice
            assert route.last_seq[sub.key] > seq_before
            await second.close()
        finally:
            await route.aclose()


async def _fills_until(sock: Any, done: Callable[[list[dict[str, Any]]], bool]) -> list[Any]:
    """``userFills`` data read from a NATS socket until ``done`` holds for them."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not done(seen):
            msg = await sock.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            if frame["channel"] == "userFills":
                seen.append(frame["data"])
            assert frame["channel"] != "error", frame
    return seen


def _has(fills: list[dict[str, Any]], tid: int) -> bool:
    return any(x["tid"] == tid for f in fills for x in f["fills"])


async def test_refusals_through_nats_carry_the_exchange_texts(tmp_path: Path) -> None:
    users = ["0x" + f"{i:040x}" for i in range(1, 4)]
    async with (
        desk(tmp_path, limits=DaemonLimits(max_users=2)) as d,
        nats_client(d.nats.url) as nc,
        aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(d.daemon.socket_path))) as s,
    ):
        ask = _ask(nc, d.network)
        # A local client holds one user: the limit is for everyone behind the daemon.
        ws = await s.ws_connect("http://d/ws")
        await ws.send_str(subs.subscribe_frame(subs.clearinghouse_state(users[0])))
        await wait_for(lambda: d.upstream_subs() == 1, 5)
        ok = await ask(
            {
                "method": "subscribe",
                "client": "a",
                "subscription": {"type": "clearinghouseState", "user": users[1]},
            }
        )
        assert ok[0]["channel"] == "subscriptionResponse"
        refused = await ask(
            {
                "method": "subscribe",
                "client": "b",
                "subscription": {"type": "clearinghouseState", "user": users[2]},
            }
        )
        assert refused == [{"channel": "error", "data": "Cannot track more than 2 total users."}]
        # Names the exchange does not list never reach its socket (it would drop it whole).
        for wire in (
            {"type": "l2Book", "coin": "NOPE"},
            {"type": "l2Book", "coin": "btc"},
            {"type": "bbo", "coin": "TSLA"},
            {"type": "allMids", "dex": "nope"},
            {"type": "l2Book", "coin": "BTC", "nSigFigs": 6},
            {"type": "webData2", "user": users[1]},
        ):
            got = await ask({"method": "subscribe", "client": "a", "subscription": wire})
            assert got == [{"channel": "error", "data": f"Invalid subscription {_compact(wire)}"}]
        assert d.upstream_subs() == 2 and len(d.sim.connections) == 1
        assert d.sim.tracker.client("127.0.0.1").new_connections.used() == 1
        bad = await ask(None, raw=b"{nope")
        assert bad[0]["data"] == "Error parsing JSON into valid websocket request: {nope"
        nobody = await ask({"method": "subscribe", "subscription": {"type": "allMids"}})
        assert nobody[0]["channel"] == "error" and '"client"' in nobody[0]["data"]
        gone = await ask(
            {"method": "unsubscribe", "client": "a", "subscription": {"type": "allMids"}}
        )
        assert gone == [{"channel": "error", "data": 'Already unsubscribed: {"type":"allMids"}'}]
        secret = await ask(
            {
                "method": "subscribe",
                "client": "a",
                "subscription": {"type": "userFills", "user": KEY},
            }
        )
        assert KEY not in json.dumps(secret) and REDACTED in secret[0]["data"]
        assert d.daemon.upstream.refusals == 1
        await ws.close()


def _compact(wire: dict[str, Any]) -> str:
    return json.dumps(wire, separators=(",", ":"))


async def test_a_silent_nats_client_is_let_go_after_its_lease(tmp_path: Path) -> None:
    async with (
        desk(tmp_path, resume_window=1.0, status_interval=0.2) as d,
        nats_client(d.nats.url) as nc,
    ):
        ask = _ask(nc, d.network)
        hello = await ask({"method": "hello", "client": "quiet"})
        assert hello[0]["data"]["lease"] == 1.0
        trades = {"type": "trades", "coin": "@107"}
        got = await ask({"method": "subscribe", "client": "quiet", "subscription": trades})
        assert got[0]["channel"] == "subscriptionResponse"
        assert d.upstream_subs() == 1
        # No renew: after a lease the daemon lets go, upstream included.
        await wait_for(lambda: d.upstream_subs() == 0, 5)
        assert d.daemon.status()["nats"]["clients"] == []


async def test_credentials_go_to_nats_and_nowhere_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "desk-token-7f3a"
    async with desk(tmp_path, token=token) as d:
        url = f"nats://{token}@127.0.0.1:{d.nats.port}"
        async with Runtime(d.settings(via=url)) as rt:
            health = rt.store.health
            await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
            assert health.connection.via == "nats"
            shown = [e.text for e in health.events] + [health.connection.url]
            assert token not in json.dumps(shown)
            assert token not in json.dumps(d.daemon.status())
        wrong = DaemonServer(
            DaemonConfig(
                api_url=d.sim.url, socket_path=None, nats_url=d.nats.url, nats_token="wrong-token"
            )
        )
        with pytest.raises(OSError) as refused:
            await wrong.start()
        assert "wrong-token" not in str(refused.value)
        assert token not in caplog.text


async def test_a_second_daemon_on_the_same_nats_is_refused(tmp_path: Path) -> None:
    async with desk(tmp_path) as d:
        second = DaemonServer(
            DaemonConfig(
                api_url=d.sim.url, socket_path=tmp_path / "b" / "d.sock", nats_url=d.nats.url
            )
        )
        with pytest.raises(OSError, match="another hlmon daemon already serves"):
            await second.start()
        assert not (tmp_path / "b" / "d.sock").exists()


async def test_no_daemon_on_nats_means_direct_connections(tmp_path: Path) -> None:
    with nats_server(tmp_path / "nats") as ns:
        async with running_sim() as sim:
            settings = Settings(
                network="custom",
                api_url=sim.url,
                daemon=ns.url,
                watchlist=("BTC",),
                websocket=TEST_TIMINGS,
            )
            async with Runtime(settings) as rt:
                health = rt.store.health
                await wait_for(lambda: health.connection.via == "direct (nats down)", 10)
                await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
                await wait_for(lambda: rt.store.mid("BTC") is not None, 10)
                assert sim.tracker.client("127.0.0.1").new_connections.used() == 1


async def test_snapshot_through_nats(tmp_path: Path) -> None:
    async with desk(tmp_path) as d:
        doc, complete = await take_snapshot(d.settings(), 15.0)
        assert complete and doc["status"]["connection"] == "live"
        assert d.sim.tracker.client("127.0.0.1").new_connections.used() == 1


def test_bad_nats_urls_are_refused_without_echo() -> None:
    from click.testing import CliRunner

    from hlmon.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["snapshot", "--via", f"nats://{KEY}@127.0.0.1:1"])
    assert result.exit_code != 0 and KEY not in result.output
    result = runner.invoke(main, ["daemon", "--nats", "nats://h:notaport"])
    assert result.exit_code == 2 and "port" in result.output
    result = runner.invoke(main, ["daemon", "--nats", "nats://127.0.0.1:1", "--nats-token", KEY])
    assert result.exit_code == 2 and KEY not in result.output


def test_via_nats_is_a_setting_and_discovery_names_the_network() -> None:
    from hlmon.config import load_settings
    from hlmon.runtime.discovery import resolve_daemon

    settings = load_settings(None, overrides={"daemon": "nats://tok@127.0.0.1:4222"})
    assert settings.daemon == "nats://tok@127.0.0.1:4222"
    resolved, note = resolve_daemon(settings, env={"HLMON_NATS_TOKEN": "env-token"})
    assert resolved.daemon_endpoint == "nats://tok@127.0.0.1:4222/mainnet"
    assert resolved.daemon_token == "env-token"
    assert note == "through the hlmon daemon on NATS at nats://127.0.0.1:4222 (hl.mainnet)"
    named = dataclasses.replace(settings, daemon="nats://127.0.0.1:4222/desk-1")
    assert resolve_daemon(named, env={})[0].daemon_endpoint == "nats://127.0.0.1:4222/desk-1"


async def test_subscribe_then_unsubscribe_at_once_leaves_nothing_held(tmp_path: Path) -> None:
    """Requests for one subscription keep their order: nothing is left held upstream, and the
    last value of a stream nobody holds is purged (a later subscriber never starts from it)."""
    from nats.js.errors import NotFoundError

    from hlmon.feeds.nats_route import NatsRoute

    async with desk(tmp_path) as d, nats_client(d.nats.url) as nc:
        endpoint = NatsEndpoint.parse(d.nats.url).with_network(d.network)
        route = NatsRoute(endpoint, direct_api_url=d.sim.url, direct_ws_url=d.sim.ws_url,
                          health=FeedHealth(time.time))  # fmt: skip
        try:
            sock = await route.connector.ws_connect("x")
            book = subs.l2_book("ETH")
            await sock.send_str(subs.subscribe_frame(book))
            async with asyncio.timeout(10):
                while json.loads((await sock.receive()).data)["channel"] != "l2Book":
                    pass
            await sock.send_str(subs.unsubscribe_frame(book))
            await sock.send_str(subs.subscribe_frame(subs.bbo("ETH")))
            await sock.send_str(subs.unsubscribe_frame(subs.bbo("ETH")))
            await wait_for(lambda: d.upstream_subs() == 0 and not d.daemon.upstream.streams, 5)
            assert route.renewal() == []
            js = nc.jetstream()

            async def purged() -> bool:
                try:
                    await js.get_last_msg(f"hl-{d.network}-last", f"hl.{d.network}.book.ETH")
                except NotFoundError:
                    return True
                return False

            await until(purged)
            await sock.close()
        finally:
            await route.aclose()
