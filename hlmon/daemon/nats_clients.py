"""NATS clients of the daemon: what each holds, on a lease.

A terminal reading through NATS (``hlmon --via nats://``) asks for streams on
``hl.<network>._subscribe`` (request/reply, newline-free JSON)::

    {"method":"hello","client":ID}                          -> {"channel":"_hello","data":{...}}
    {"method":"subscribe","client":ID,"subscription":{...}[,"resume":true]}
    {"method":"unsubscribe","client":ID,"subscription":{...}}
    {"method":"renew","client":ID,"subscriptions":[{...},...]}

A ``subscribe`` is answered, once the exchange acked it, with the exchange's own
``subscriptionResponse`` (or its ``error`` text), then, for streams whose first frame is a
backfill (``trades``, ``userFills``, ``userFundings``, ledger) and unless ``resume``, the
merged backfill: frames one per line. Frames themselves go out on the stream's subject
(``feeds.nats_subjects``), published once whoever asked.

Each client is one ``NatsHolder``: to the upstream it is a client like a local one (it
holds streams, ref-counted; the same limits and refusals apply), except that its frames are
not sent through it. NATS says nothing when a client goes away, so what it holds is leased:
a ``renew`` (every third of the lease) names everything the client holds; the daemon takes
what is missing (after a daemon restart) and lets go of what is not named. A client silent
for a whole lease is dropped, like a local client past its resume window.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from hlmon.daemon.sessions import CLIENT_ID_RE, ClientSession
from hlmon.daemon.streams import sub_key

_decode = msgspec.json.decode
_ACK = b'{"channel":"subscriptionResponse"'
_ERROR = b'{"channel":"error"'


class NatsHolder(ClientSession):
    """One NATS client: holds streams like a local client; frames reach it over NATS."""

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id, "nats", buffer_max=1, queue_max=1)
        self.last_seen = time.monotonic()
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    def push(self, raw: bytes, event: bool) -> None:
        """Nothing: the bridge publishes each frame once for every NATS client."""

    def send(self, raw: bytes) -> None:
        """The exchange's ack (or refusal) of a subscription this client waits for."""
        if not self._pending:
            return
        if raw.startswith(_ACK):
            try:
                echo = _decode(raw)["data"]["subscription"]
                key = sub_key(echo)
            except (msgspec.DecodeError, KeyError, TypeError):
                return
            self._settle(key, raw)
        elif raw.startswith(_ERROR):
            # An upstream refusal names no subscription; the refused one has just been
            # taken out of ``subs`` (``Upstream._fail``).
            for key in [k for k in self._pending if k not in self.subs]:
                self._settle(key, raw)

    def _settle(self, key: str, raw: bytes) -> None:
        fut = self._pending.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(raw)

    def expect_ack(self, key: str) -> asyncio.Future[bytes]:
        """A future for the ack (or error frame) of the subscription ``key``."""
        fut = self._pending.get(key)
        if fut is None or fut.done():
            fut = asyncio.get_running_loop().create_future()
            self._pending[key] = fut
        return fut

    def forget_pending(self, key: str) -> None:
        fut = self._pending.pop(key, None)
        if fut is not None and not fut.done():
            fut.cancel()

    def status(self, now: float) -> dict[str, Any]:
        row = super().status(now)
        row["via"] = "nats"
        row["seen_s"] = round(now - self.last_seen, 1)
        return row


class NatsClients:
    """The NATS clients by id, each on a lease."""

    def __init__(self, lease: float, max_clients: int = 256) -> None:
        self.lease = lease
        self.max_clients = max_clients
        self.by_id: dict[str, NatsHolder] = {}

    def get(self, client_id: Any) -> NatsHolder | None:
        """The client ``client_id`` (made if new), renewed now; None for a bad id or when
        there are too many clients."""
        if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
            return None
        holder = self.by_id.get(client_id)
        if holder is None:
            if len(self.by_id) >= self.max_clients:
                return None
            holder = NatsHolder(client_id)
            self.by_id[client_id] = holder
        holder.last_seen = time.monotonic()
        return holder

    def expired(self, now: float) -> list[NatsHolder]:
        """Clients silent for a whole lease (the caller releases their streams)."""
        return [h for h in self.by_id.values() if now - h.last_seen >= self.lease]

    def forget(self, holder: NatsHolder) -> None:
        if self.by_id.get(holder.id or "") is holder:
            del self.by_id[holder.id or ""]
