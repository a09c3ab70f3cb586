"""``hlmon serve``: the TUI in a web browser, through ``textual-serve``.

textual-serve runs the app command in a subprocess per browser session (the Textual web driver
streams the screen over a websocket to xterm.js in the page). The command is
``python -m hlmon <the shared options given to serve>``, so every tab sees the same settings.

There is no authentication: anyone who can reach the port gets a TUI showing the watched
address. The CLI binds to 127.0.0.1 unless told otherwise, and warns on stderr when not.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hlmon.config import Settings
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


def start_daemon_for_tabs(
    settings: Settings, opts: Mapping[str, Any]
) -> subprocess.Popen[bytes] | None:
    """Start an ``hlmon daemon`` so every tab shares one connection set, unless one runs or
    ``--direct`` / ``--via`` / ``--demo`` say otherwise; returns its process (the caller stops
    it when serve ends) or None."""
    if settings.daemon != "auto" or settings.demo:
        return None
    from hlmon.daemon import paths
    from hlmon.daemon.standalone import start_background

    socket_path = paths.default_socket_path(settings.api_url)
    if paths.probe(socket_path):
        return None
    argv = [f"--{name.replace('_', '-')}={opts[name]}" for name in ("network", "api_url")
            if opts.get(name)]  # fmt: skip
    if opts.get("config_path"):
        argv.append(f"--config={Path(opts['config_path']).expanduser().absolute()}")
    try:
        proc = start_background(argv, socket_path)
    except OSError as exc:
        print(f"hlmon serve: no daemon for the tabs ({exc}); each connects itself", file=sys.stderr)
        return None
    print(f"hlmon serve: started hlmon daemon (pid {proc.pid}) on {socket_path}", file=sys.stderr)
    return proc
