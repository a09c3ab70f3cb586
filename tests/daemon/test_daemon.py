"""``hlmon daemon`` against the simulator, on loopback and a Unix socket under tmp_path.

The simulator counts what reaches it per IP (new websocket connections, REST weight), which is
the proof that many clients through one daemon cost one connection set.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hlmon.config import Settings
from hlmon.daemon.limits import DaemonLimits
from hlmon.daemon.server import DaemonConfig, DaemonServer
from hlmon.keyguard import REDACTED
from hlmon.protocol.market_streams import inflate
from hlmon.runtime.root import Runtime
from hlmon.sim import SimServer
from hlmon.snapshot import take_snapshot
from hlmon.state import ConnState
from tests.support import TEST_TIMINGS, running_sim, wait_for

KEY = "ab" * 32


@contextlib.asynccontextmanager
async def running_daemon(sim: SimServer, tmp_path: Path, **kw: Any) -> AsyncIterator[DaemonServer]:
    kw.setdefault("timings", TEST_TIMINGS)
    config = DaemonConfig(api_url=sim.url, socket_path=tmp_path / "run" / "d.sock", **kw)
    daemon = DaemonServer(config)
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


@contextlib.asynccontextmanager
async def live_through_daemon(
    tmp_path: Path,
) -> AsyncIterator[tuple[SimServer, DaemonServer, Runtime]]:
    """A simulator, a daemon in front of it and a terminal's runtime through the daemon,
    yielded once the terminal's socket is live."""
    async with (
        running_sim() as sim,
        running_daemon(sim, tmp_path) as daemon,
        Runtime(_client_settings(sim, daemon)) as rt,
    ):
        await wait_for(lambda: rt.store.health.connection.state is ConnState.LIVE, 10)
        yield sim, daemon, rt


def _unix(daemon: DaemonServer) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(daemon.socket_path)))


async def _frames_until(ws: Any, pred: Any, within: float = 5.0) -> list[dict[str, Any]]:
    """Read frames until one satisfies ``pred``; returns all read (decoded)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            seen.append(frame)
            if pred(frame):
                return seen


def _sub(kind: str, **params: Any) -> str:
    return json.dumps({"method": "subscribe", "subscription": {"type": kind, **params}})


def _client_settings(sim: SimServer, daemon: DaemonServer, **kw: Any) -> Settings:
    return Settings(
        network="custom",
        api_url=sim.url,
        address=sim.demo_address,
        watchlist=("BTC", "ETH"),
        daemon=f"unix:{daemon.socket_path}",
        **{"websocket": TEST_TIMINGS, **kw},
    )


async def test_many_clients_one_upstream_socket_one_budget(tmp_path: Path) -> None:
    """Three headless terminals and ten snapshots through one daemon: the simulator sees one
    websocket and REST weight within the daemon's one budget."""
    # Thirteen clients share this process's event loop with the daemon: a heartbeat that
    # gives up after 1 s of silence would count a busy loop as a dead socket and reconnect.
    # This test is about sharing one socket, not stall detection (tested elsewhere).
    patient = dataclasses.replace(TEST_TIMINGS, pong_timeout=3.0, silence_timeout=5.0)
    async with running_sim() as sim, running_daemon(sim, tmp_path, timings=patient) as daemon:
        ip = sim.tracker.client("127.0.0.1")
        settings = _client_settings(sim, daemon, websocket=patient)
        async with contextlib.AsyncExitStack() as stack:
            runtimes = [await stack.enter_async_context(Runtime(settings)) for _ in range(3)]
            for rt in runtimes:
                await wait_for(functools.partial(rt.store.account_summary), 10)
                assert rt.store.health.connection.via == "daemon"
            results = await asyncio.gather(*(take_snapshot(settings, 15.0) for _ in range(10)))
            assert all(complete for _doc, complete in results)
            assert all(doc["status"]["connection"] == "live" for doc, _ in results)
        assert ip.new_connections.used() == 1  # the daemon's socket, nothing else
        assert ip.rest_weight.used() <= daemon.info.budget.budget
        status = daemon.status()
        assert status["rest"]["cache_hits"] + status["rest"]["coalesced"] > 0
        caused = sum(c["weight_caused"] for c in status["clients"])
        # Every unit is attributed to a client (the daemon rounds per-item extras up).
        assert ip.rest_weight.used() <= caused <= ip.rest_weight.used() + 10


async def test_identical_subscriptions_share_one_upstream_and_replay(tmp_path: Path) -> None:
    """A late joiner gets the exchange's ack and the last book at once; one upstream sub."""
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        a = await s.ws_connect("http://d/ws")
        await a.send_str(_sub("l2Book", coin="BTC"))
        await _frames_until(a, lambda f: f["channel"] == "l2Book")
        b = await s.ws_connect("http://d/ws")
        await b.send_str(_sub("l2Book", coin="BTC", nSigFigs=None))
        got = await _frames_until(b, lambda f: f["channel"] == "l2Book", within=0.5)
        ack = next(f for f in got if f["channel"] == "subscriptionResponse")
        assert ack["data"]["subscription"]["nSigFigs"] is None  # the exchange's own echo
        assert len(daemon.upstream.streams) == 1
        assert sum(len(c.subs) for c in sim.connections) == 1
        await a.close()
        unsub = {"method": "unsubscribe", "subscription": {"type": "l2Book", "coin": "BTC"}}
        await b.send_str(json.dumps(unsub))
        await wait_for(lambda: sum(len(c.subs) for c in sim.connections) == 0)
        await b.close()


async def test_a_different_precision_goes_on_a_second_socket(tmp_path: Path) -> None:
    """Two precisions of one book cannot be told apart on one socket: a second lane."""
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        ws = await s.ws_connect("http://d/ws")
        await ws.send_str(_sub("l2Book", coin="BTC"))
        await ws.send_str(_sub("l2Book", coin="BTC", nSigFigs=3))
        await wait_for(lambda: len(sim.connections) == 2 and all(c.subs for c in sim.connections))
        assert sorted(s.lane for s in daemon.upstream.streams.values()) == [0, 1]
        await ws.close()


async def test_reconnecting_client_gets_missed_fills_by_sequence(tmp_path: Path) -> None:
    """A client that drops and comes back (same id, last seq) loses no fill; a new client
    gets them in the merged userFills snapshot."""
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        user = sim.demo_address
        ws = await s.ws_connect("http://d/ws?client=tui1")
        await ws.send_str(_sub("userFills", user=user))
        first = await _frames_until(ws, lambda f: f["channel"] == "userFills")
        last_seq = first[-1]["seq"]
        await ws.close()
        await wait_for(lambda: daemon.sessions.by_id["tui1"].ws is None)
        forced = [sim.force_fill() for _ in range(2)]
        fills = [f for f in forced if f is not None]
        assert len(fills) == 2
        await wait_for(lambda: daemon.sessions.by_id["tui1"].seq >= last_seq + 2)
        back = await s.ws_connect(f"http://d/ws?client=tui1&seq={last_seq}")
        got = await _frames_until(back, lambda f: f.get("seq") == last_seq + 2)
        tids = {x["tid"] for f in got if f["channel"] == "userFills" for x in f["data"]["fills"]}
        assert {f["tid"] for f in fills} <= tids
        # The resubscription is renewed, not refused.
        await back.send_str(_sub("userFills", user=user))
        renewed = await _frames_until(back, lambda f: f["channel"] == "subscriptionResponse")
        assert not any(f["channel"] == "error" for f in renewed)
        fresh = await s.ws_connect("http://d/ws?client=restarted")
        await fresh.send_str(_sub("userFills", user=user))
        snap = await _frames_until(fresh, lambda f: f["channel"] == "userFills")
        assert snap[-1]["data"]["isSnapshot"] is True
        assert {f["tid"] for f in fills} <= {x["tid"] for x in snap[-1]["data"]["fills"]}
        await back.close()
        await fresh.close()


async def test_limits_refused_with_the_exchange_text_before_upstream(tmp_path: Path) -> None:
    users = ["0x" + f"{i:040x}" for i in range(1, 4)]
    limits = DaemonLimits(max_users=2)
    async with (
        running_sim() as sim,
        running_daemon(sim, tmp_path, limits=limits) as daemon,
        _unix(daemon) as s,
    ):
        ws = await s.ws_connect("http://d/ws")
        for user in users:
            await ws.send_str(_sub("clearinghouseState", user=user))
        got = await _frames_until(ws, lambda f: f["channel"] == "error")
        assert got[-1]["data"] == "Cannot track more than 2 total users."
        await wait_for(lambda: sum(len(c.subs) for c in sim.connections) == 2)
        await ws.send_str(_sub("l2Book", coin="BTC", nSigFigs=6))  # would close the socket
        bad = await _frames_until(ws, lambda f: f["channel"] == "error")
        assert bad[-1]["data"].startswith("Invalid subscription ")
        assert daemon.upstream.refusals == 1
        await ws.close()


async def test_keys_refused_and_never_echoed(tmp_path: Path) -> None:
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        ws = await s.ws_connect("http://d/ws")
        await ws.send_str(_sub("userFills", user=KEY))
        got = await _frames_until(ws, lambda f: f["channel"] == "error")
        assert KEY not in json.dumps(got) and REDACTED in got[-1]["data"]
        r = await s.post("http://d/info", data=json.dumps({"type": "userRole", "user": KEY}))
        assert r.status == 422 and KEY not in await r.text()
        assert daemon.info.upstream_requests == 0
        await ws.close()


async def test_socket_private_and_tcp_needs_the_token(tmp_path: Path) -> None:
    async with running_sim() as sim, running_daemon(sim, tmp_path, tcp_port=0) as daemon:
        assert daemon.socket_path is not None
        assert stat.S_IMODE(daemon.socket_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(daemon.socket_path.parent.stat().st_mode) == 0o700
        url = f"http://127.0.0.1:{daemon.tcp_port}/_daemon/status"
        async with aiohttp.ClientSession() as s:
            assert (await s.get(url)).status == 401
            bad = await s.get(url, headers={"Authorization": "Bearer nope"})
            assert bad.status == 401
            ok = await s.get(url, headers={"Authorization": f"Bearer {daemon.token}"})
            assert ok.status == 200


async def test_exchange_outage_shows_through_the_daemon(tmp_path: Path) -> None:
    """The daemon's own link going down reaches the terminal: RECONNECTING, via daemon."""
    async with live_through_daemon(tmp_path) as (sim, _daemon, rt):
        health = rt.store.health
        sim.faults.refuse_connections(2.0)
        sim.faults.drop_all()
        await wait_for(lambda: health.connection.state is not ConnState.LIVE)
        assert health.connection.via == "daemon"
        assert not rt.engine._ws_live()  # the REST fallback may take over
        await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
        assert any("exchange via daemon" in e.text for e in health.events)


async def test_daemon_gone_clients_fall_back_to_direct(tmp_path: Path) -> None:
    async with running_sim() as sim:
        daemon = DaemonServer(
            DaemonConfig(api_url=sim.url, socket_path=tmp_path / "run" / "d.sock")
        )
        await daemon.start()
        settings = _client_settings(sim, daemon)
        async with Runtime(dataclasses.replace(settings)) as rt:
            health = rt.store.health
            await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
            await daemon.stop()
            await wait_for(lambda: health.connection.via == "direct (daemon down)", 10)
            await wait_for(lambda: health.connection.state is ConnState.LIVE, 10)
            assert rt.engine.via is not None and not rt.engine.via.using_daemon
            # The terminal's own socket reached the simulator: it is direct now.
            assert sim.tracker.client("127.0.0.1").new_connections.used() == 2


async def test_the_log_names_the_daemon_it_connects_through(tmp_path: Path) -> None:
    """The first line said ``connecting to ws://127.0.0.1:PORT/ws`` (the upstream) and the
    next ``connected to ws://hlmon-daemon/ws``: the socket only ever went to the daemon."""
    async with live_through_daemon(tmp_path) as (_sim, daemon, rt):
        health = rt.store.health
        lines = [e.text for e in health.events if e.text.startswith(("connect", "through"))]
        assert lines == [
            f"through the hlmon daemon at unix:{daemon.socket_path}",
            "connecting to ws://hlmon-daemon/ws",
            "connected to ws://hlmon-daemon/ws",
        ]


async def test_no_daemon_running_means_direct(tmp_path: Path) -> None:
    async with running_sim() as sim:
        settings = Settings(
            network="custom", api_url=sim.url, daemon=f"unix:{tmp_path / 'none.sock'}"
        )
        async with Runtime(settings) as rt:
            assert rt.settings.daemon_endpoint is None
            assert rt.engine.via is None
            assert any("connecting directly" in e.text for e in rt.store.health.events)


@pytest.mark.parametrize("bad", ["{", '{"method":"subscribe"}', '{"method":"nope"}'])
async def test_bad_requests_answered_like_the_exchange(tmp_path: Path, bad: str) -> None:
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        ws = await s.ws_connect("http://d/ws")
        await ws.send_str(bad)
        got = await _frames_until(ws, lambda f: f["channel"] == "error")
        assert got[-1]["data"].startswith("Error parsing JSON into valid websocket request: ")
        await ws.send_str('{"method":"ping"}')
        await _frames_until(ws, lambda f: f["channel"] == "pong")
        await ws.close()


def _fast_coins(frame: dict[str, Any]) -> dict[str, Any]:
    coins: dict[str, Any] = json.loads(inflate(frame["data"]))
    return coins


async def test_a_late_joiner_of_fast_asset_ctxs_gets_the_whole_market(tmp_path: Path) -> None:
    """After its first frame the stream carries only what changed: a second client through
    the daemon must still get every coin at once (the merge of all frames), not a delta."""
    async with running_sim() as sim, running_daemon(sim, tmp_path) as daemon, _unix(daemon) as s:
        a = await s.ws_connect("http://d/ws")
        await a.send_str(_sub("fastAssetCtxs"))
        got = await _frames_until(a, lambda f: f["channel"] == "fastAssetCtxs", within=10)
        merged = _fast_coins(got[-1])
        everything = len(merged)
        # Wait for a delta that leaves coins out: what a late joiner would get otherwise.
        for _ in range(30):
            got = await _frames_until(a, lambda f: f["channel"] == "fastAssetCtxs", within=10)
            delta = _fast_coins(got[-1])
            for coin, entry in delta.items():
                merged.setdefault(coin, {}).update(entry)
            if len(delta) < everything:
                break
        else:
            pytest.fail("30 deltas in a row carried every coin")
        b = await s.ws_connect("http://d/ws")
        await b.send_str(_sub("fastAssetCtxs"))
        got = await _frames_until(b, lambda f: f["channel"] == "fastAssetCtxs", within=2)
        assert any(f["channel"] == "subscriptionResponse" for f in got)
        replayed = _fast_coins(got[-1])
        assert set(replayed) == set(merged)
        assert all("markPx" in entry and "midPx" in entry for entry in replayed.values())
        assert len(daemon.upstream.streams) == 1  # still one upstream subscription
        await a.close()
        await b.close()
