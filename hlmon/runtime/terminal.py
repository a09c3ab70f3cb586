"""What hlmon can learn at start about the terminal it draws on: whether an OSC 52 copy can
reach the user's clipboard.

hlmon copies (``y``) by writing OSC 52, which the terminal turns into a clipboard write; no
answer comes back. Under tmux the sequence goes to tmux first, and tmux acts on a program's
OSC 52 only when its ``set-clipboard`` option is ``on``: with the default, ``external``, or
``off`` it is dropped. ``start_clipboard_probe`` asks tmux for the option (a process, launched
at start in 0.3 ms) and ``PendingClipboard`` reads its answer when a copy first needs it, long
after the process is done (waiting for it cost 4-7 ms of every start-up in tmux on a small
Xeon); ``probe_clipboard`` is the same question asked and waited for. ``ClipboardRoute.copied``
says what a copy did, as far as can be known.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

TMUX_ENABLE = "set -g set-clipboard on"
"""The tmux setting that lets a program's OSC 52 reach the clipboard (``~/.tmux.conf``)."""
PROBE_TIMEOUT_S = 1.0

Runner = Callable[[list[str]], str | None]
"""Runs a command, returns its stdout (None: it failed or timed out)."""


@dataclass(frozen=True)
class ClipboardRoute:
    """The way an OSC 52 copy travels, as found at start."""

    in_tmux: bool = False
    """$TMUX is set: the copy goes through tmux."""
    tmux_set_clipboard: str | None = None
    """tmux's ``set-clipboard`` (``on``, ``external``, ``off``); None: not known."""

    def copied(self, what: str, text: str) -> tuple[str, bool]:
        """(what to tell the user after sending ``text`` via OSC 52, whether it can have
        arrived). Outside tmux the terminal decides, silently; in tmux only ``on`` passes it."""
        if not self.in_tmux:
            return f"copied {what} {text} (OSC 52)", True
        if self.tmux_set_clipboard == "on":
            return f"copied {what} {text} (OSC 52 through tmux)", True
        if self.tmux_set_clipboard in ("external", "off"):
            return (
                f"not copied: tmux's set-clipboard is {self.tmux_set_clipboard}, so tmux drops "
                f"the OSC 52 copy of the {what}; add `{TMUX_ENABLE}` to ~/.tmux.conf",
                False,
            )
        return (
            f"sent {what} {text} via OSC 52; in tmux it arrives only with `{TMUX_ENABLE}`",
            True,
        )

    def close(self) -> None:
        """Nothing to reap (``PendingClipboard.close`` reaps its process)."""


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def probe_clipboard(environ: Mapping[str, str], run: Runner = _run) -> ClipboardRoute:
    """The clipboard route for a process with ``environ``: asks tmux (the server named by
    $TMUX) for ``set-clipboard`` when $TMUX is set; nothing is run otherwise."""
    if not environ.get("TMUX"):
        return ClipboardRoute()
    return _tmux_route(run(TMUX_ASK))


TMUX_ASK = ["tmux", "show-options", "-sv", "set-clipboard"]


def _tmux_route(out: str | None) -> ClipboardRoute:
    value = out.strip() if out is not None else ""
    return ClipboardRoute(True, value if value in ("on", "external", "off") else None)


class PendingClipboard:
    """tmux's answer to ``TMUX_ASK``, asked at start and read when first needed: ``copied``
    (and ``route``) say "not known" while the process has not answered, as
    ``ClipboardRoute(True)`` does, and after ``PROBE_TIMEOUT_S`` stop waiting for it."""

    def __init__(
        self, process: subprocess.Popen[str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._process = process
        self._clock = clock
        self._started = clock()
        self._route: ClipboardRoute | None = None

    def route(self) -> ClipboardRoute:
        """The route as far as known now (never waits)."""
        if self._route is None:
            process = self._process
            if process.poll() is None:
                if self._clock() - self._started < PROBE_TIMEOUT_S:
                    return ClipboardRoute(True)  # not answered yet: ask again next time
                self.close()
            else:  # done: its output is all in the pipe, reading does not wait
                out, _ = process.communicate()
                self._route = _tmux_route(out if process.returncode == 0 else None)
        assert self._route is not None
        return self._route

    def copied(self, what: str, text: str) -> tuple[str, bool]:
        """``ClipboardRoute.copied`` with the route as known now."""
        return self.route().copied(what, text)

    def close(self) -> None:
        """Reap the process (killed first if it has still not answered); a route not known
        by then stays "not known"."""
        if self._route is None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.communicate()
            self._route = ClipboardRoute(True)


Clipboard = ClipboardRoute | PendingClipboard
"""What the TUI is given: a known route, or tmux's answer still to be read."""


def start_clipboard_probe(environ: Mapping[str, str]) -> Clipboard:
    """``probe_clipboard`` without waiting: outside tmux the route (nothing run), in tmux the
    process asking it, launched now (see the module docstring)."""
    if not environ.get("TMUX"):
        return ClipboardRoute()
    try:
        process = subprocess.Popen(
            TMUX_ASK, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
    except (OSError, subprocess.SubprocessError):
        return ClipboardRoute(True)
    return PendingClipboard(process)
