"""Where the shared recorded payloads are, and how to read one file's samples in place.

The payloads live in ``shared/protocol/payloads`` beside the checkout (``<repo>/..``) or
further up (a worktree such as ``wt/<name>`` sits one level deeper), unless
``HLMON_PAYLOADS`` points elsewhere. They are read where they are, never copied.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[2]
_RELATIVE = Path("shared") / "protocol" / "payloads"


def payloads_dir() -> Path:
    """The payload folder (which may not exist: callers skip with a reason then)."""
    explicit = os.environ.get("HLMON_PAYLOADS")
    if explicit:
        return Path(explicit)
    for ancestor in _REPO.parents:
        candidate = ancestor / _RELATIVE
        if candidate.is_dir():
            return candidate
    return _REPO.parent / _RELATIVE


def samples(file_name: str) -> list[dict[str, Any]]:
    """The samples of one payload file (e.g. ``rest_meta.json``); [] when it is absent."""
    path = payloads_dir() / file_name
    if not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return list(doc["samples"])


def responses(file_name: str) -> list[Any]:
    """The recorded ``response`` bodies of a REST payload file."""
    return [s["response"] for s in samples(file_name) if "response" in s]
