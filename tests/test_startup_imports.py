"""What the ``hlmon`` entry point keeps out of start-up (``hlmon/__main__.py``): each check runs
in a fresh interpreter, as a launch does."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.strip()


def test_the_entry_point_skips_httpx_command_line_client() -> None:
    """httpx's CLI (rich.progress, pygments...) is not imported; its HTTP client works."""
    code = (
        "import sys, hlmon.__main__, httpx\n"
        "print(sorted(m for m in ('pygments', 'rich.progress', 'rich.syntax') if m in sys.modules),"
        " callable(httpx.AsyncClient))"
    )
    assert _run(code) == "[] True"


def test_version_metadata_is_read_only_for_version() -> None:
    """``importlib.metadata`` (zipfile, email...) is imported by ``--version`` only."""
    assert _run("import sys, hlmon.cli; print('importlib.metadata' in sys.modules)") == "False"
