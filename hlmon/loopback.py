"""Is a host this machine? Plain http and unauthenticated servers are allowed only there.

A leaf: imports nothing from hlmon (config, alerts and the CLI use it).
"""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (brackets allowed)."""
    bare = host.strip("[]")
    if bare.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False
