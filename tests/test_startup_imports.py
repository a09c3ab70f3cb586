"""What the ``hlmon`` entry point keeps out of start-up (``hlmon/__main__.py``): each check runs
in a fresh interpreter, as a launch does."""

from __future__ import annotations

import importlib.util

from tests.support import python_stdout


def _run(code: str) -> str:
    return python_stdout(code).strip()


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


def test_screens_a_key_opens_are_imported_on_the_key() -> None:
    """The TUI's start path (the app, the runtime) leaves out what no first frame shows: the
    alerts view, help, the market screen and the add-coin / add-alert prompts; pressing the
    key imports them (``tests/ui`` presses them)."""
    deferred = (
        "hlmon.ui.screens.alerts_view",
        "hlmon.ui.screens.alert_edit",
        "hlmon.ui.screens.help",
        "hlmon.ui.screens.market",
        "hlmon.ui.market_host",
        "hlmon.ui.screens.alerts",
        "hlmon.ui.screens.prompts",
    )
    code = (
        "import sys, hlmon.__main__, hlmon.ui.app, hlmon.runtime.root\n"
        f"print(sorted(m for m in {deferred!r} if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_start_up_leaves_out_what_only_other_commands_use() -> None:
    """``importlib.resources`` (the shipped config text), the simulator's ``/_sim`` control
    routes (``hlmon sim --faults``) and the daemon's socket paths (looked up only when a run may
    go through a daemon, never by a demo) are imported by what uses them, not by a demo's
    start."""
    deferred = ("importlib.resources", "hlmon.sim.control", "hlmon.daemon")
    code = (
        "import sys, hlmon.__main__, hlmon.ui.app, hlmon.runtime.root, hlmon.sim\n"
        f"print(sorted(m for m in {deferred!r} if m in sys.modules))"
    )
    assert _run(code) == "[]"


def test_textual_paints_at_hlmons_tick_rate_unless_the_user_set_one() -> None:
    """``hlmon.ui`` sets ``TEXTUAL_FPS`` before Textual is first imported (Textual reads it
    once): nothing on the entry point's path imports Textual earlier."""
    code = (
        "import sys, hlmon.__main__, hlmon.cli, hlmon.runtime.root\n"
        "print('textual' in sys.modules, end=' ')\n"
        "import hlmon.ui.app, textual.constants, textual.screen\n"
        "print(textual.constants.MAX_FPS, round(1 / textual.screen.UPDATE_PERIOD))"
    )
    assert _run(code) == "False 240 240"
    code = (
        "import os; os.environ['TEXTUAL_FPS'] = '30'\n"
        "import hlmon.ui.app, textual.constants; print(textual.constants.MAX_FPS)"
    )
    assert _run(code) == "30"


def test_a_missing_sniffio_fails_at_once_and_httpcore_takes_asyncio() -> None:
    """httpcore try-imports sniffio in every request: without the package, the entry point
    leaves a None in ``sys.modules`` (no search of sys.path each time); httpcore's events
    still work on asyncio. With sniffio installed, it is the real module."""
    installed = importlib.util.find_spec("sniffio") is not None
    code = (
        "import asyncio, sys, hlmon.__main__\n"
        "from httpcore._synchronization import AsyncEvent\n"
        "async def main():\n"
        "    event = AsyncEvent()\n"
        "    event.set()\n"
        "    await event.wait()\n"
        "asyncio.run(main())\n"
        "print(sys.modules['sniffio'] is None)"
    )
    assert _run(code) == str(not installed)


def test_rest_requests_to_the_simulator_leave_out_httpcore_and_anyio() -> None:
    """``InfoClient``'s transport is asyncio's (``hlmon.feeds.asyncio_http``): a request to the
    simulator (the demo's first REST requests) imports neither httpcore nor anyio, ~25 ms of
    CPU before the first data on a small Xeon."""
    code = (
        "import asyncio, sys, hlmon.__main__\n"
        "from hlmon.sim import SimServer\n"
        "from hlmon.feeds.info_client import InfoClient\n"
        "from hlmon.protocol import info\n"
        "async def main():\n"
        "    async with SimServer() as sim:\n"
        "        client = InfoClient(sim.url, budget=1200)\n"
        "        mids = await client.info(info.all_mids())\n"
        "        await client.aclose()\n"
        "    print('BTC' in mids, end=' ')\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('anyio', 'httpcore') if m in sys.modules))"
    )
    assert _run(code) == "True []"
