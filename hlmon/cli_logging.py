"""Logging for the command line: a file only when asked, stderr only for headless commands.

Kept apart from ``hlmon.cli`` (the click commands) so each stays small; ``cli`` turns a
``LogSetupError`` into its usage error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path


class LogSetupError(Exception):
    """The log file cannot be opened; the message names the path and the reason."""


_TRUTHY = {"1", "true", "yes", "on"}


def log_file_from(option: Path | None, env: Mapping[str, str]) -> Path | None:
    """``--log-file PATH``, else ``$HLMON_LOG`` (a path, or 1/true for the user log dir)."""
    if option is not None:
        return option
    value = env.get("HLMON_LOG", "").strip()
    if not value or value.lower() in {"0", "false", "no", "off"}:
        return None
    if value.lower() in _TRUTHY:
        import platformdirs

        return Path(platformdirs.user_log_dir("hlmon", appauthor=False)) / "hlmon.log"
    return Path(value).expanduser()


_installed_handlers: list[logging.Handler] = []


def _install(root: logging.Logger, handler: logging.Handler) -> None:
    root.addHandler(handler)
    _installed_handlers.append(handler)


def configure_logging(log_file: Path | None, level: str, *, to_stderr: bool) -> None:
    """Set up logging once: a file only when asked, stderr only for headless commands.

    The TUI owns the terminal, so with no log file its records are dropped rather than let
    Python's last-resort handler print warnings over the screen.
    """
    root = logging.getLogger()
    # Calling again (tests, or main() invoked twice in one process) replaces, never stacks.
    for old in _installed_handlers:
        root.removeHandler(old)
        old.close()
    _installed_handlers.clear()
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO and websockets every frame at DEBUG; a custom
    # api_url may carry a token, and frames carry account data.
    for noisy in ("httpx", "httpcore", "websockets"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise LogSetupError(
                f"--log-file {log_file}: cannot open: {exc.strerror or exc}"
            ) from None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        _install(root, handler)
    if to_stderr:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("hlmon: %(levelname)s: %(name)s: %(message)s"))
        _install(root, stderr)
    elif log_file is None:
        _install(root, logging.NullHandler())
    logging.captureWarnings(True)
