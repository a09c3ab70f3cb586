"""``python -m hlmon`` and the ``hlmon`` console script (``run``): the CLI, started with the
garbage collector paused (see ``gc_pause``; the TUI resumes it after its first paint, every
other command at once) and without httpx's own command-line client."""

import importlib
import sys

from hlmon import codegen_cache, gc_pause

gc_pause.pause()
# Dataclass methods and annotations compiled by an earlier launch (see ``codegen_cache``).
codegen_cache.install()
# httpx imports its optional command-line client whenever rich, pygments and click are
# installed (Textual and this CLI bring them): 20-odd modules, 7 ms of CPU at every start-up
# on a small Xeon (min of 14, the collector paused), for the `httpx` command hlmon never
# runs. A None entry makes that import fail as if they were missing; httpx then defines a
# stub ``httpx.main`` and everything else is unchanged.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

try:
    # httpcore imports sniffio (an optional package hlmon does not install) inside every
    # request, to learn the event loop's library: when it is missing, each try searches the
    # whole sys.path again, ~45 us on a small Xeon. The REST client no longer goes through
    # httpcore (``feeds.asyncio_http``), but the daemon route, a proxied client and webhook
    # alerts still do. A None entry fails that import at once; httpcore and anyio then take
    # asyncio, as they do without sniffio.
    importlib.import_module("sniffio")
except ImportError:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

from hlmon.cli import main  # noqa: E402  (after the pause: this import is most of start-up)


def run() -> None:
    """The console script."""
    main(prog_name="hlmon")


if __name__ == "__main__":
    # Without prog_name, click would call itself "python -m hlmon" in usage and errors.
    run()
