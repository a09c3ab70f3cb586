"""A loopback websocket server that pushes a fixed stream of Hyperliquid frames as fast as the
client takes them.

The frames come from the simulator's own market and demo-account model (``hlmon.sim``, seed 7,
``standard`` profile, manual clock): every frame the simulator would push in
``CORPUS_SECONDS`` of simulated time to a client subscribed like hlmon (``SUBSCRIPTIONS``:
allMids, activeAssetCtx per watchlist coin, l2Book/trades/bbo of BTC and the demo user's
clearinghouseState/openOrders/orderUpdates/userEvents/userFills/userFundings), subscription
snapshots first. They are framed once at start-up (unmasked websocket text frames) and the
stream cycles through them, so sending costs the server next to nothing: one ``write`` of a
pre-built ~1 MB block per cycle.

Per connection to ``ws://127.0.0.1:PORT/<N>/ws`` the server acks each subscribe as the exchange
does (``subscriptionResponse`` echoing the normalised subscription), answers pings with pongs,
and once it has received one subscribe per entry of ``SUBSCRIPTIONS`` sends the first ``N``
frames of the cycle, then a close frame. The websocket handshake and framing are done here by
hand (a few lines) so that the server's own library is never what the benchmark measures.

Run: ``python -m benchmarks.blast_server [--port 0]``; it prints one JSON line
(``{"port": ..., "address": ..., "corpus": {...}}``) and serves until terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

from hlmon.config import DEFAULT_WATCHLIST
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.sim import ManualClock, SimServer
from hlmon.sim.subscriptions import parse_subscription

CORPUS_SECONDS = 120
"""Simulated seconds of traffic in one cycle of the stream."""
SELECTED = "BTC"
SEED = 7
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def subscriptions(address: str) -> list[Subscription]:
    """What hlmon's ``FeedEngine.start`` subscribes to with the default watchlist and an address."""
    out = [subs.all_mids()]
    out += [subs.active_asset_ctx(coin) for coin in DEFAULT_WATCHLIST]
    out += [subs.l2_book(SELECTED), subs.trades(SELECTED), subs.bbo(SELECTED)]
    out += [
        subs.clearinghouse_state(address),
        subs.open_orders(address),
        subs.order_updates(address),
        subs.user_events(address),
        subs.user_fills(address),
        subs.user_fundings(address),
    ]
    return out


class _Recorder:
    """Stands in for a simulator connection: the hub fans frames out to ``send``."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    def send(self, text: str) -> None:
        self.frames.append(text)


@dataclass
class Corpus:
    """One cycle of the stream and what the server needs to answer subscribes."""

    frames: list[bytes]
    address: str
    sim: SimServer

    def mix(self) -> dict[str, int]:
        counts: collections.Counter[str] = collections.Counter()
        for f in self.frames:
            counts[json.loads(f)["channel"]] += 1
        return dict(counts.most_common())

    def describe(self) -> dict[str, Any]:
        total = sum(len(f) for f in self.frames)
        return {
            "frames_per_cycle": len(self.frames),
            "mean_bytes": round(total / len(self.frames), 1),
            "simulated_seconds": CORPUS_SECONDS,
            "profile": "standard",
            "mix": self.mix(),
        }


def build_corpus(seconds: int = CORPUS_SECONDS) -> Corpus:
    """Record what the simulator pushes to an hlmon-like client over ``seconds``."""
    clock = ManualClock()
    sim = SimServer(seed=SEED, profile="standard", clock=clock)
    rec = _Recorder()
    for sub in subscriptions(sim.demo_address):
        parsed = parse_subscription(sub.to_wire(), sim.universe)
        rec.frames.extend(sim.hub.add(rec, parsed))  # type: ignore[arg-type]
    now = clock()
    end = now + seconds * 1000
    while now < end:
        now += sim.profile.tick_ms
        clock.set(now)
        sim.tick(now)
    return Corpus([f.encode() for f in rec.frames], sim.demo_address, sim)


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked, final websocket frame (server to client)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one (masked) client frame; returns ``(opcode, payload)``."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(n)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
    payload = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big") if n else b""
    return b0 & 0x0F, payload


class BlastServer:
    """Serves the corpus to each connection (see the module docstring)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.expected = len(subscriptions(corpus.address))
        self.cycle = b"".join(ws_frame(f) for f in corpus.frames)
        self.offsets = [0]
        for f in corpus.frames:
            self.offsets.append(self.offsets[-1] + len(ws_frame(f)))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            frames = await self._handshake(reader, writer)
            if frames is not None:
                await self._serve(reader, writer, frames)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> int | None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts = path.strip("/").split("/")
        key = headers.get("sec-websocket-key")
        if key is None or parts[-1] != "ws" or len(parts) > 2:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return None
        accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        return int(parts[0]) if len(parts) == 2 else 100_000

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frames: int
    ) -> None:
        subscribed = 0
        while subscribed < self.expected:
            opcode, payload = await read_frame(reader)
            if opcode == 0x8:
                return
            if opcode != 0x1:
                continue
            subscribed += self._answer(writer, payload)
        await writer.drain()
        cycles, rest = divmod(frames, len(self.corpus.frames))
        for _ in range(cycles):
            writer.write(self.cycle)
            await writer.drain()
        writer.write(self.cycle[: self.offsets[rest]])
        writer.write(ws_frame(struct.pack("!H", 1000), opcode=0x8))
        await writer.drain()
        # Wait (briefly) for the client's close frame, then hang up.
        async with asyncio.timeout(5):
            while (await read_frame(reader))[0] != 0x8:
                pass

    def _answer(self, writer: asyncio.StreamWriter, payload: bytes) -> int:
        """Answer one client request; returns 1 for an accepted subscribe."""
        try:
            req = json.loads(payload)
        except ValueError:
            return 0
        method = req.get("method") if isinstance(req, dict) else None
        if method == "ping":
            writer.write(ws_frame(b'{"channel":"pong"}'))
            return 0
        if method != "subscribe":
            return 0
        try:
            sub = parse_subscription(req.get("subscription"), self.corpus.sim.universe)
        except Exception as exc:  # RequestParseError, InvalidSubscription
            text = json.dumps({"channel": "error", "data": f"bad subscription: {exc!r}"})
            writer.write(ws_frame(text.encode()))
            return 0
        ack = {
            "channel": "subscriptionResponse",
            "data": {"method": method, "subscription": sub.echo},
        }
        writer.write(ws_frame(json.dumps(ack, separators=(",", ":")).encode()))
        return 1


async def start(port: int = 0, seconds: int = CORPUS_SECONDS) -> tuple[asyncio.Server, Corpus]:
    """Build the corpus and listen on 127.0.0.1 (in-process use: the smoke test)."""
    corpus = build_corpus(seconds)
    srv = await asyncio.start_server(BlastServer(corpus).handle, "127.0.0.1", port)
    return srv, corpus


async def serve(port: int) -> None:
    srv, corpus = await start(port)
    bound = srv.sockets[0].getsockname()[1]
    announce = {"port": bound, "address": corpus.address, "corpus": corpus.describe()}
    print(json.dumps(announce), flush=True)
    async with srv:
        await srv.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
