"""``python -m hlmon`` and the ``hlmon`` console script (``run``): the CLI, started with the
garbage collector paused (see ``gc_pause``; the TUI resumes it after its first paint, every
other command at once)."""

from hlmon import gc_pause

gc_pause.pause()

from hlmon.cli import main  # noqa: E402  (after the pause: this import is most of start-up)


def run() -> None:
    """The console script."""
    main(prog_name="hlmon")


if __name__ == "__main__":
    # Without prog_name, click would call itself "python -m hlmon" in usage and errors.
    run()
