"""Record the simulator through the engine, then replay it to real clients (all on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.decode import decode
from hlmon.protocol.messages import L2BookMsg, SubscriptionResponseMsg
from hlmon.replay import ReplayServer, load_recording
from hlmon.state import Store
from tests.replay.conftest import COINS, Recorded, frames_of, wait_until

MARKET_SUBS = [subs.all_mids(), subs.l2_book("BTC"), subs.bbo("BTC"), subs.trades("BTC")]
RECV_WITHIN_S = 10.0


async def _recv(ws: ClientConnection) -> str | bytes:
    """The next frame; fails (never hangs) if the replay sends none within ``RECV_WITHIN_S``."""
    try:
        async with asyncio.timeout(RECV_WITHIN_S):
            return await ws.recv()
    except TimeoutError:
        raise AssertionError(f"no frame from the replay within {RECV_WITHIN_S:g} s") from None


async def _subscribe(ws: ClientConnection, sub_list: list[subs.Subscription]) -> None:
    """Subscribe and read exactly one generated ack per subscription."""
    for sub in sub_list:
        await ws.send(subs.subscribe_frame(sub))
    for sub in sub_list:
        msg = decode(await _recv(ws))
        assert isinstance(msg, SubscriptionResponseMsg)
        assert subs.ack_matches(sub, msg.data)


async def _read(ws: ClientConnection, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        text = await _recv(ws)
        assert isinstance(text, str)
        out.append(text)
    return out


@contextlib.asynccontextmanager
async def engine_on(server: ReplayServer, recorded: Recorded) -> AsyncIterator[FeedEngine]:
    """The real FeedEngine on ``server``, watching the recorded account; stopped on exit."""
    settings = Settings(
        network="custom", api_url=server.url, address=recorded.address, watchlist=COINS
    )
    engine = FeedEngine(settings, Store(time.time, settings.stale))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


def test_recording_file_has_header_frames_and_trailer(recorded: Recorded) -> None:
    """The file is gzip JSON lines: header, one {"t", "f"} line per frame and one {"t", "info",
    "a"} line per /info answer a replay needs, then a trailer."""
    with gzip.open(recorded.path, "rt", encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh]
    header, trailer = lines[0], lines[-1]
    body = [line for line in lines[1:-1] if "f" in line]
    answers = [line for line in lines[1:-1] if "info" in line]
    assert len(body) + len(answers) == len(lines) - 2
    assert header["hlmon_recording"] == 2
    # The market catalog as the simulator answered it, each answer once.
    kinds = [a["info"]["type"] for a in answers]
    assert {"perpDexs", "allPerpMetas", "spotMeta", "outcomeMeta"} <= set(kinds)
    assert kinds.count("perpDexs") == 1
    assert all(a["t"] >= header["start"] for a in answers)
    assert header["network"] == "custom" and header["api_url"] == recorded.api_url
    assert header["address"] == recorded.address and header["coins"] == list(COINS)
    assert isinstance(header["version"], str) and header["start"] > 1e9
    assert trailer["frames"] == len(body) == recorded.frames and trailer["dropped"] == 0
    times = [line["t"] for line in body]
    assert times == sorted(times) and times[0] >= header["start"]
    channels = {decode(line["f"]).__struct_config__.tag for line in body}
    assert {"subscriptionResponse", "allMids", "l2Book", "bbo", "clearinghouseState"} <= channels
    rec = load_recording(recorded.path)
    assert len(rec.frames) == recorded.frames and not rec.truncated
    assert rec.trailer is not None and 0 < rec.duration < 15


async def test_raw_client_gets_its_streams_in_order(recorded: Recorded) -> None:
    """A plain websocket client gets exactly the recorded frames of its subscriptions, in order,
    with generated acks and pongs (none of the recorded acks)."""
    rec = load_recording(recorded.path)
    expected = frames_of(rec, {s.stream_key for s in MARKET_SUBS})
    assert len(expected) > 10
    async with ReplayServer(rec, speed=50, paused=True, present_times=False) as server:
        async with connect(server.ws_url) as ws:
            await _subscribe(ws, MARKET_SUBS)
            assert server.status()["state"] == "paused"
            server.resume()
            got = await _read(ws, len(expected))
            assert got == expected
            await wait_until(lambda: server.finished.is_set(), what="end of the replay")
            await ws.send(subs.PING_FRAME)
            assert json.loads(await _recv(ws)) == {"channel": "pong"}
        assert server.status()["state"] == "finished"


async def test_engine_store_ends_like_the_recording(recorded: Recorded) -> None:
    """The real FeedEngine on the replay ends with the mids and book the recording engine had."""
    rec = load_recording(recorded.path)
    async with (
        ReplayServer(rec, speed=50, paused=True, present_times=False) as server,
        engine_on(server, recorded) as engine,
    ):
        store = engine.store
        assert engine.ws is not None
        # Coins are subscribed once the catalog (made from the recording) is loaded.
        await asyncio.wait_for(engine.catalog.ready.wait(), 10)
        assert set(engine.watchlist) == set(COINS)
        n_subs = len(engine.ws.subscriptions)
        await wait_until(
            lambda: sum(len(c.keys) for c in server.clients) == n_subs,
            what="every subscription to reach the replay server",
        )
        server.resume()
        await wait_until(lambda: server.finished.is_set(), what="end of the replay")
        await wait_until(
            lambda: dict(store.mids) == recorded.mids and store.book("BTC") == recorded.book,
            what="the store to match the recording",
        )
        assert engine.ws.pending_acks == []
        assert store.book("BTC") is not None


async def test_a_replay_answers_the_catalog_and_the_account_as_the_exchange_did(
    recorded: Recorded,
) -> None:
    """The replay serves the recorded /info answers: the engine on it lists the simulator's
    dexes with their collateral tokens (HIP-3 ones included, though no market frame names
    them) and reads the account's mode and role as the recording engine did."""
    rec = load_recording(recorded.path)
    assert any(name == "flx" and token == "USDH" for name, token in recorded.dexes)
    async with (
        ReplayServer(rec, speed=50, paused=True) as server,
        engine_on(server, recorded) as engine,
    ):
        store = engine.store
        await asyncio.wait_for(engine.catalog.ready.wait(), 10)
        catalog = engine.catalog.catalog
        assert catalog is not None
        assert [(d.name, d.collateral) for d in catalog.dexes()] == recorded.dexes
        await wait_until(
            lambda: store.account_mode() is not None and store.user_role() is not None,
            what="the account's mode and role",
        )
        assert store.account_mode() == recorded.mode
        assert store.user_role() == recorded.role


async def test_pause_seek_speed_and_info_over_http(recorded: Recorded) -> None:
    """/_replay control moves the clock; a seek re-sends the latest state; /info answers from
    the recorded state at the current position."""
    rec = load_recording(recorded.path)
    books = [i for i, f in enumerate(rec.frames) if f.key == subs.l2_book("BTC").stream_key]
    assert books
    first_book = rec.frames[books[0]]
    async with (
        ReplayServer(rec, speed=1.0, present_times=False) as server,
        aiohttp.ClientSession() as http,
        connect(server.ws_url) as ws,
    ):

        async def post(path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
            async with http.post(f"{server.url}{path}", json=body or {}) as resp:
                return resp.status, await resp.json()

        async with http.get(f"{server.url}/_replay/status") as resp:
            status = await resp.json()
        assert status["state"] == "waiting" and status["frames"] == len(rec.frames)

        assert (await post("/_replay/pause"))[1]["state"] == "paused"
        await _subscribe(ws, [subs.l2_book("BTC")])
        # Seek just past the first book: the subscribed client gets that book at once.
        code, status = await post("/_replay/seek", {"t": first_book.t})
        assert code == 200 and status["cursor"] == books[0] + 1
        assert await _recv(ws) == first_book.text
        assert status["position"] == round(first_book.t, 3)

        # /info answers from the state at the position.
        async with http.post(f"{server.url}/info", json={"type": "l2Book", "coin": "BTC"}) as r:
            assert await r.json() == msgspec.json.decode(first_book.text)["data"]
        async with http.post(f"{server.url}/info", json={"type": "meta"}) as r:
            # The catalog lists what the recording can serve, so a client subscribes it.
            universe = (await r.json())["universe"]
            assert {"BTC", "ETH"} <= {a["name"] for a in universe}
        async with http.post(f"{server.url}/info", json={"type": "noSuchType"}) as r:
            assert r.status == 422
        user = recorded.address
        body = {"type": "clearinghouseState", "user": user}
        async with http.post(f"{server.url}/info", json=body) as r:
            assert "marginSummary" in await r.json()

        # Paused: the position does not move.
        p1 = (await post("/_replay/pause"))[1]["position"]
        async with http.get(f"{server.url}/_replay/status") as resp:
            assert (await resp.json())["position"] == p1

        assert (await post("/_replay/speed", {"x": 1000}))[1]["speed"] == 1000
        assert (await post("/_replay/resume"))[1]["state"] == "playing"
        later = [rec.frames[i].text for i in books[1:]]
        assert await _read(ws, len(later)) == later
        await wait_until(lambda: server.finished.is_set(), what="end of the replay")

        # Seeking back rewinds (paused first: at 1000x the replay would reach the end again
        # before the assertion); bad input is a 400/404 with a message, not a crash.
        await post("/_replay/pause")
        code, status = await post("/_replay/seek", {"t": 0})
        assert code == 200 and status["cursor"] == 0 and not server.finished.is_set()
        assert status["state"] == "paused"
        assert (await post("/_replay/seek", {"t": -1}))[0] == 400
        assert (await post("/_replay/speed", {"x": 0}))[0] == 400
        code, err = await post("/_replay/rewind")
        assert code == 404 and "unknown action" in err["error"]


async def test_websocket_post_and_mid_replay_subscribe(recorded: Recorded) -> None:
    """A client subscribing mid-replay first gets the current book; posts are answered."""
    rec = load_recording(recorded.path)
    server = ReplayServer(rec, paused=True, present_times=False)
    async with server, connect(server.ws_url) as ws:
        server.seek(rec.duration)
        await ws.send(subs.subscribe_frame(subs.l2_book("BTC")))
        assert isinstance(decode(await _recv(ws)), SubscriptionResponseMsg)
        snap = decode(await _recv(ws))
        assert isinstance(snap, L2BookMsg)
        assert snap.data == recorded.book
        await ws.send(subs.post_frame(7, {"type": "allMids"}))
        answer = json.loads(await _recv(ws))
        assert answer["channel"] == "post" and answer["data"]["id"] == 7
        assert answer["data"]["response"]["payload"]["data"] == recorded.mids
