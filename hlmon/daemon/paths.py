"""Where the daemon listens, and how a client finds it.

One daemon per upstream (network) per user: its socket is
``<user runtime dir>/hlmon/daemon-<network>.sock`` (``mainnet``, ``testnet``, or ``custom-`` and
a hash of the URL), so a testnet terminal never attaches to a mainnet daemon. The directory is
made private (0700) and the socket itself is 0600: only the user can connect.

Light on purpose (no aiohttp): the runtime imports it to probe for a running daemon.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import stat
from pathlib import Path

from hlmon.config.validators import NETWORK_URLS

MAX_UNIX_PATH = 104
"""Longest socket path every platform accepts (sun_path is 104 bytes on macOS, 108 on Linux)."""


def runtime_dir() -> Path:
    """The user's runtime directory for hlmon (``$XDG_RUNTIME_DIR/hlmon`` on Linux; without
    that variable platformdirs picks ``/tmp/runtime-<uid>``, which ``ensure_private_dir``
    then checks is ours and private)."""
    import warnings

    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "XDG_RUNTIME_DIR is not set": the fallback is fine
        return Path(platformdirs.user_runtime_dir("hlmon", appauthor=False))


def upstream_name(api_url: str) -> str:
    """A short file-name-safe name for the upstream ``api_url`` (``mainnet``, ``testnet`` or
    ``custom-<10 hex>``)."""
    base = api_url.rstrip("/")
    for name, url in NETWORK_URLS.items():
        if base == url.rstrip("/"):
            return name
    return "custom-" + hashlib.sha256(base.encode()).hexdigest()[:10]


def default_socket_path(api_url: str, directory: Path | None = None) -> Path:
    """The socket a daemon for ``api_url`` listens on (in ``directory``, default the user's
    runtime dir)."""
    return (directory or runtime_dir()) / f"daemon-{upstream_name(api_url)}.sock"


def token_path(socket_path: Path) -> Path:
    """Where the daemon stores the token of its TCP listener (0600, beside the socket)."""
    return socket_path.with_suffix(".token")


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (0700) or check an existing one is ours and private.

    Raises:
        PermissionError: it belongs to someone else, or others can write to it.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to another user")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Ours but open to others (made by hand): close it rather than refuse to start.
        directory.chmod(0o700)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the user only (0600), replacing any old file."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def new_token() -> str:
    """A fresh random token for the TCP listener."""
    return secrets.token_urlsafe(24)


def probe(path: Path, timeout: float = 0.5) -> bool:
    """True when something accepts connections on the Unix socket ``path`` now."""
    if not hasattr(socket, "AF_UNIX") or len(str(path)) > MAX_UNIX_PATH:
        return False
    try:
        if not stat.S_ISSOCK(path.stat().st_mode):
            return False
    except OSError:
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        return False
    finally:
        sock.close()
    return True
