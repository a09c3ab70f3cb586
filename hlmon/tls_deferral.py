"""aiohttp imported without loading the CA bundle, for a run that never does TLS.

Importing aiohttp builds two default TLS contexts (``aiohttp.connector``, module level), and
each loads the system's CA certificates: some 30 ms of CPU apiece on a small Xeon (2026-12),
60 ms of an ``hlmon --demo`` start-up that only ever talks plain http/ws to its loopback
simulator (issue #16: first data within 0.5 s).

``import_aiohttp_deferring_certs()`` imports aiohttp with those loads noted instead of done:
the contexts aiohttp keeps are the same objects, still without certificates.
``load_deferred_certs()`` does the noted loads on them; the websocket feed calls it before
every ``wss://`` connection, so a TLS connection never meets a context without its
certificates (and were one missed, verification would fail: closed, never open).

Only the TUI's start uses the deferral, when its settings name no TLS endpoint
(``hlmon.cli``); everything else imports aiohttp as usual. Standard library only: the feeds
call into it and it imports nothing of hlmon.
"""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any

_DEFERRED_METHODS = ("load_default_certs", "set_default_verify_paths")
"""The ``SSLContext`` methods that read the CA bundle from disk."""

_pending: list[Callable[[], Any]] = []
"""The loads noted during the import, each bound to its context."""
_lock = threading.Lock()


def import_aiohttp_deferring_certs() -> bool:
    """Import aiohttp, noting its import-time certificate loads instead of doing them.

    Returns:
        Whether anything was deferred (False: aiohttp was already imported).
    """
    if "aiohttp" in sys.modules:
        return False
    cls = ssl.SSLContext
    own = {name: cls.__dict__.get(name) for name in _DEFERRED_METHODS}
    originals = {name: getattr(cls, name) for name in _DEFERRED_METHODS}

    def noting(name: str) -> Callable[..., None]:
        def note(ctx: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
            original = originals[name]
            _pending.append(lambda: original(ctx, *args, **kwargs))

        return note

    for name in _DEFERRED_METHODS:
        setattr(cls, name, noting(name))
    try:
        importlib.import_module("aiohttp")
    finally:
        for name, method in own.items():
            if method is None:
                delattr(cls, name)  # inherited from the C base class: uncover it again
            else:
                setattr(cls, name, method)
    return bool(_pending)


def load_deferred_certs() -> None:
    """Load the certificates the import skipped (once; nothing to do in a normal run)."""
    with _lock:  # a second caller waits until the certificates are in
        for load in _pending:
            load()
        _pending.clear()


def deferred() -> int:
    """How many certificate loads wait (0 once done, or when nothing was deferred)."""
    return len(_pending)
