"""``open_route``: the way to the exchange through an ``hlmon daemon``, by endpoint.

``unix:/path`` or ``http(s)://…``: the daemon's own socket (``via.DaemonRoute``).
``nats://…/NETWORK`` or ``tls://…``: the daemon's streams on a NATS server
(``nats_route.NatsRoute``), imported only then: nats-py is an optional extra
(``pip install 'hlmon[nats]'``).
"""

from __future__ import annotations

from hlmon.feeds.nats_endpoint import NatsEndpoint, is_nats_url
from hlmon.feeds.via import DaemonEndpoint, DaemonRoute, ViaRoute, ViaSink


def open_route(
    endpoint: str,
    token: str | None,
    *,
    direct_api_url: str,
    direct_ws_url: str,
    health: ViaSink,
) -> ViaRoute:
    """The route for ``endpoint`` (``Settings.daemon_endpoint``), falling back to
    ``direct_*`` when the daemon is gone.

    Raises:
        ValueError: a bad endpoint, or a NATS one without its network (``/NETWORK``, added
            by ``runtime.discovery``).
        ImportError: a NATS endpoint without nats-py installed.
    """
    if is_nats_url(endpoint):
        nats = NatsEndpoint.parse(endpoint, token)
        if nats.network is None:
            raise ValueError("a NATS endpoint needs its network: nats://HOST:PORT/NETWORK")
        from hlmon.feeds.nats_route import NatsRoute

        return NatsRoute(
            nats, direct_api_url=direct_api_url, direct_ws_url=direct_ws_url, health=health
        )
    return DaemonRoute(
        DaemonEndpoint.parse(endpoint, token),
        direct_api_url=direct_api_url,
        direct_ws_url=direct_ws_url,
        health=health,
    )
