"""Find the ``hlmon daemon`` a run should go through, if any.

``settings.daemon`` is ``auto`` (the daemon for this network, found by its socket in the user's
runtime dir, when one answers), ``off`` (``--direct``), or a socket path / URL (``--via``). A
socket that does not answer means direct connections, with a line saying so: a terminal must
work whether or not a daemon runs. ``--demo`` (an in-process simulator) and recordings (which
must hold what the exchange sent) always connect directly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from hlmon.config import Settings
from hlmon.daemon.paths import default_socket_path, probe


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
    else:
        endpoint = choice  # a TCP listener: the feed's route falls back if it does not answer
    token = env.get("HLMON_DAEMON_TOKEN") or None
    resolved = dataclasses.replace(settings, daemon_endpoint=endpoint, daemon_token=token)
    return resolved, f"through the hlmon daemon at {endpoint}"
