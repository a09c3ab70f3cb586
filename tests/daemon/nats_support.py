"""A real ``nats-server`` (JetStream on) on a free loopback port, for the NATS tests.

The Debian package ``nats-server`` installs the binary (``.ci/run`` installs it). Without it,
or without nats-py, the NATS tests skip with the reason, except under ``make test``
(``HLMON_REQUIRE_NATS=1``), where they fail: there they must run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_NATS = os.environ.get("HLMON_REQUIRE_NATS") == "1"
"""Set by ``make test``. Read at import, before the autouse fixture clears HLMON_* variables."""
_CANDIDATES = ("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")


def _find_server() -> str | None:
    found = shutil.which("nats-server")
    if found:
        return found
    return next((p for p in _CANDIDATES if os.access(p, os.X_OK)), None)


NATS_SERVER = _find_server()


def need_nats() -> str:
    """The nats-server binary; skip (or, under ``make test``, fail) without it or nats-py."""
    missing = []
    if NATS_SERVER is None:
        missing.append("the nats-server binary (apt-get install -y nats-server)")
    if importlib.util.find_spec("nats") is None:
        missing.append("nats-py (pip install 'hlmon[nats]')")
    if not missing:
        assert NATS_SERVER is not None
        return NATS_SERVER
    reason = "the NATS tests need " + " and ".join(missing)
    if REQUIRE_NATS:
        pytest.fail(f"{reason}; `make test` requires them (HLMON_REQUIRE_NATS=1)")
    pytest.skip(f"{reason}; `make test` requires them")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class NatsServer:
    """One running server."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextlib.contextmanager
def nats_server(directory: Path, token: str | None = None) -> Iterator[NatsServer]:
    """``nats-server -js`` on 127.0.0.1 (storage in ``directory``), up until the block ends."""
    binary = need_nats()
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = directory / "nats-server.log"
    argv = [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(directory / "js")]
    argv += ["-l", str(log)]
    if token is not None:
        argv += ["--auth", token]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = NatsServer(f"nats://127.0.0.1:{port}", port, proc, log)
    try:
        deadline = time.monotonic() + 10.0
        while True:
            if proc.poll() is not None:
                text = log.read_text() if log.exists() else ""
                raise AssertionError(f"nats-server exited ({proc.returncode}): {text[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError("nats-server did not listen within 10 s")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()
