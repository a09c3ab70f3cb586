"""Replace a file's content atomically: a reader sees the old file or the new one, never half.

The new text goes to a temporary file in the same directory (so ``os.replace`` is a rename on
one filesystem), is flushed and fsynced, gets the old file's permission bits (``0o600`` for a
new file: a config names the user's accounts), then replaces the file; the directory is fsynced
so the rename survives a crash. A symlinked file (dotfile managers) is written through the link,
which stays a link. On any failure the temporary file is removed and the old file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o600
NEW_DIR_MODE = 0o700


def write_atomic(path: Path, data: bytes) -> Path:
    """Make ``path`` hold ``data``, creating its parent directories if missing.

    Returns:
        The file actually written (``path`` with symlinks resolved).

    Raises:
        OSError: nothing was changed.
    """
    target = path.resolve() if path.is_symlink() else path
    target.parent.mkdir(mode=NEW_DIR_MODE, parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)
    return target


def _fsync_dir(directory: Path) -> None:
    # Best effort: some filesystems (and all of Windows) cannot open a directory for fsync.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
