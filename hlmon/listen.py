"""Start an aiohttp application on ``host:port`` and report the port it is bound to.

Shared by the local protocol-speaking servers (``hlmon.sim`` and ``hlmon.replay``), which both
listen with the same runner settings and both accept port 0 (any free port). No Textual.
"""

from __future__ import annotations

from aiohttp import web


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port``; return the runner (``cleanup()`` it to stop) and the
    bound port (the one the OS picked when ``port`` is 0)."""
    # No signal handlers (the caller owns the loop), no access log (one line per /info would
    # flood the console), and a short shutdown so stop() does not hang on idle keep-alives.
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else port
