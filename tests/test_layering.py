"""The headless layers never import Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import hlmon.protocol, hlmon.state, hlmon.feeds, hlmon.sim
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
assert not loaded, loaded
print("ok")
"""


def test_headless_layers_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_protocol_imports_no_network_modules() -> None:
    """protocol is pure: importing it pulls in no socket/HTTP client modules."""
    code = (
        "import sys, hlmon.protocol, hlmon.protocol.info\n"
        "bad = [m for m in ('textual', 'httpx', 'websockets', 'aiohttp') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
