"""``connect``: a NATS connection that fails fast at first and never gives up afterwards.

nats-py retries a first connection as often as it would reconnect: with unlimited reconnects a
wrong token or a server that is not there would hang the caller for ever. So the first
connection gets ``FIRST_ATTEMPTS`` tries (an ``OSError`` naming the server, never its
credentials, when they fail), and only then does the client reconnect without limit.

Imports nats-py: only modules used for ``nats://`` endpoints import this one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

from hlmon.feeds.nats_endpoint import NatsEndpoint

FIRST_ATTEMPTS = 2
"""Connection attempts before the first connection counts as failed."""


async def connect(
    endpoint: NatsEndpoint,
    *,
    name: str,
    on_error: Callable[[Exception], Awaitable[None]],
    **options: Any,
) -> Client:
    """Connect to ``endpoint`` (the other ``nats.connect`` options as given).

    Raises:
        OSError: the server cannot be reached or refuses the credentials.
    """
    try:
        nc = await nats.connect(
            **endpoint.connect_options(),
            name=name,
            connect_timeout=3,
            allow_reconnect=True,
            max_reconnect_attempts=FIRST_ATTEMPTS - 1,
            reconnect_time_wait=1,
            error_cb=on_error,
            **options,
        )
    except (NatsError, OSError, TimeoutError) as exc:
        raise OSError(f"cannot reach NATS at {endpoint.display}: {why(exc)}") from None
    nc.options["max_reconnect_attempts"] = -1  # connected once: reconnect for ever
    return nc


def why(exc: BaseException) -> str:
    """A one-line reason (never a URL with credentials: none is ever given to nats-py)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
