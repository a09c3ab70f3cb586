"""``hlmon serve``: the TUI in a web browser, through ``textual-serve``.

textual-serve runs the app command in a subprocess per browser session (the Textual web driver
streams the screen over a websocket to xterm.js in the page). The command is
``python -m hlmon <the shared options given to serve>``, so every tab sees the same settings.

There is no authentication: anyone who can reach the port gets a TUI showing the watched
address. The CLI binds to 127.0.0.1 unless told otherwise, and warns on stderr when not.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from typing import Any

from hlmon.config.flags import app_argv


def app_args(opts: Mapping[str, Any], python: str | None = None) -> list[str]:
    """The argv that runs the TUI with the shared options in ``opts`` (as the CLI parsed them):
    every TUI flag of ``hlmon.config.flags`` that was given, in the table's order."""
    return [python or sys.executable, "-m", "hlmon", *app_argv(opts)]


def app_command(opts: Mapping[str, Any], python: str | None = None) -> str:
    """``app_args`` as one shell command line (textual-serve runs it through the shell)."""
    return shlex.join(app_args(opts, python))


def run_serve(
    opts: Mapping[str, Any],
    host: str = "127.0.0.1",
    port: int = 8000,
    public_url: str | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code."""
    from textual_serve.server import Server

    command = app_command(opts)
    shown = f"[{host}]" if ":" in host else host
    server = Server(
        command,
        host=host,
        port=port,
        title="hlmon",
        public_url=public_url or f"http://{shown}:{port}",
    )
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not ours...
        print(f"hlmon serve: error: {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
