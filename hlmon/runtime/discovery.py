"""Find the ``hlmon daemon`` a run should go through, if any.

``settings.daemon`` is ``auto`` (the daemon for this network, found by its socket in the user's
runtime dir, when one answers), ``off`` (``--direct``), a socket path / URL (``--via``), or a
NATS server a daemon publishes to (``--via nats://HOST:PORT``). A socket that does not answer
means direct connections, with a line saying so: a terminal must work whether or not a daemon
runs. ``--demo`` (an in-process simulator) and recordings (which
must hold what the exchange sent) always connect directly.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from hlmon.config import Settings
from hlmon.feeds.nats_endpoint import NatsEndpoint, is_nats_url


def resolve_daemon(
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    runtime_dir: Path | None = None,
) -> tuple[Settings, str | None]:
    """``settings`` with ``daemon_endpoint`` (and ``daemon_token``) resolved, and a line for
    the event log (None when there is nothing to say)."""
    env = os.environ if env is None else env
    direct = dataclasses.replace(settings, daemon_endpoint=None)
    choice = settings.daemon
    if settings.demo or settings.record_path or choice == "off":
        return direct, None
    # Here, not at import: the CLI imports this module for every run, a demo never gets here.
    from hlmon.daemon.paths import default_socket_path, probe

    if choice == "auto":
        path = default_socket_path(settings.api_url, runtime_dir)
        if not probe(path):
            return direct, None
        endpoint = f"unix:{path}"
    elif choice.startswith("unix:"):
        path = Path(choice[len("unix:") :]).expanduser()
        if not probe(path):
            return direct, f"no daemon answers on {path}: connecting directly"
        endpoint = f"unix:{path}"
    elif is_nats_url(choice):
        return _through_nats(settings, choice, env)
    else:
        endpoint = choice  # a TCP listener: the feed's route falls back if it does not answer
    token = env.get("HLMON_DAEMON_TOKEN") or None
    resolved = dataclasses.replace(settings, daemon_endpoint=endpoint, daemon_token=token)
    return resolved, f"through the hlmon daemon at {endpoint}"


def _through_nats(
    settings: Settings, url: str, env: Mapping[str, str]
) -> tuple[Settings, str | None]:
    """A NATS server: the network's subjects named in the endpoint (``/NETWORK``, from the API
    URL unless the URL names one), the token from ``$HLMON_NATS_TOKEN`` unless in the URL.
    The feed's route falls back to direct connections when no daemon answers there."""
    from hlmon.daemon.paths import upstream_name

    nats = NatsEndpoint.parse(url)
    network = nats.network or upstream_name(settings.api_url)
    endpoint = url
    if nats.network is None:
        endpoint = urllib.parse.urlsplit(url.strip())._replace(path="/" + network).geturl()
    token = env.get("HLMON_NATS_TOKEN") or None
    resolved = dataclasses.replace(settings, daemon_endpoint=endpoint, daemon_token=token)
    return resolved, f"through the hlmon daemon on NATS at {nats.display} (hl.{network})"


def may_use_tls(settings: Settings) -> bool:
    """Whether a run on ``settings`` could open a TLS connection: False only when every
    endpoint it may reach is plain (``--demo``'s loopback simulator; an ``http://`` API URL,
    directly or through a daemon's unix socket or plain-http listener). A daemon on NATS
    may be ``tls://``: counted as TLS, like anything not known to be plain."""
    if settings.demo:
        return False
    if not settings.api_url.strip().lower().startswith("http://"):
        return True
    choice = settings.daemon.strip().lower()
    return choice not in ("auto", "off") and not choice.startswith(("unix:", "http://", "ws://"))
