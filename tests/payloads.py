"""Where the shared recorded exchange payloads are (they are never copied into this repo).

``$HLMON_PAYLOADS`` when set, else ``../shared/protocol/payloads`` beside the repository root.
When the folder is absent, the tests that read it skip with the reason; under ``make test``
(``HLMON_REQUIRE_PAYLOADS=1``) a missing folder fails instead, because ~290 conformance cases
quietly turning into a few skips would leave the suite green with the protocol untested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAYLOADS = REPO_ROOT.parent / "shared" / "protocol" / "payloads"

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
