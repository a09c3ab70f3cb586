"""Where hlmon keeps what it caches on disk (the market catalogs, generated code).

Imported before anything else at a launch (``codegen_cache``): the standard library only, and
``platformdirs`` only when it is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "HLMON_CACHE_DIR"


def resolve_cache_dir(configured: str | None) -> Path:
    """``cache_dir`` from the settings, else ``$HLMON_CACHE_DIR``, else the user cache dir
    (``~/.cache/hlmon`` on Linux)."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when needed: the CLI's --help never gets here

    return Path(platformdirs.user_cache_dir("hlmon", appauthor=False))
