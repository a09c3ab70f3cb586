"""Where the shared recorded exchange payloads are (they are never copied into this repo).

``$HLMON_PAYLOADS`` when set, else ``../shared/protocol/payloads`` beside the repository root.
When the folder is absent, the tests that read it skip with the reason; under ``make test``
(``HLMON_REQUIRE_PAYLOADS=1``) a missing folder fails instead, because ~290 conformance cases
quietly turning into a few skips would leave the suite green with the protocol untested.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
_RELATIVE = Path("shared") / "protocol" / "payloads"


def _default_payloads() -> Path:
    # Beside the checkout (CI, /work/main), or one level further up for a git worktree
    # kept in a sub-folder; the first that exists wins, else the documented place.
    for base in REPO_ROOT.parents[:2]:
        if (base / _RELATIVE).is_dir():
            return base / _RELATIVE
    return REPO_ROOT.parent / _RELATIVE


DEFAULT_PAYLOADS = _default_payloads()

# Read once, at collection: tests/conftest.py clears every HLMON_* variable around each test.
_FROM_ENV = os.environ.get("HLMON_PAYLOADS", "")
_REQUIRED = os.environ.get("HLMON_REQUIRE_PAYLOADS", "") == "1"

PAYLOADS = Path(_FROM_ENV) if _FROM_ENV else DEFAULT_PAYLOADS
MISSING = f"recorded payloads not found at {PAYLOADS} (set HLMON_PAYLOADS to the folder)"


def payloads_present() -> bool:
    """True when the folder is there. False means "skip with ``MISSING``", except under
    ``make test``, where a missing folder fails the collection with that message."""
    if PAYLOADS.is_dir():
        return True
    if _REQUIRED:
        pytest.fail(f"{MISSING}; make test requires them (HLMON_REQUIRE_PAYLOADS=1)", pytrace=False)
    return False


def samples(file_name: str) -> list[dict[str, Any]]:
    """The samples of one payload file (e.g. ``rest_meta.json``), read in place; [] when the
    folder is absent (callers skip through ``payloads_present``)."""
    path = PAYLOADS / file_name
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return list(doc["samples"])


def responses(file_name: str) -> list[Any]:
    """The recorded ``response`` bodies of a REST payload file."""
    return [s["response"] for s in samples(file_name) if "response" in s]
