"""The proxy the environment names for a websocket URL (see ``env_proxy``)."""

from __future__ import annotations

import urllib.parse
import urllib.request


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url``, chosen as ``websockets`` (hlmon's previous
    transport) chose it: ``wss_proxy`` then ``https_proxy`` for wss://, ``ws_proxy``,
    ``https_proxy``, ``http_proxy`` for ws://, none for a host in ``no_proxy``; aiohttp then
    tunnels wss:// with CONNECT. Passed explicitly rather than with aiohttp's ``trust_env``,
    which would also read ~/.netrc. Only http:// proxies are supported (as by aiohttp); another
    kind (socks, https) is skipped."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    if urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    proxies = urllib.request.getproxies()
    for scheme in ("wss", "https") if secure else ("ws", "https", "http"):
        proxy = proxies.get(scheme)
        if proxy is not None and proxy.startswith("http://"):
            return proxy
    return None
