"""What hlmon can learn at start about the terminal it draws on: whether an OSC 52 copy can
reach the user's clipboard.

hlmon copies (``y``) by writing OSC 52, which the terminal turns into a clipboard write; no
answer comes back. Under tmux the sequence goes to tmux first, and tmux acts on a program's
OSC 52 only when its ``set-clipboard`` option is ``on``: with the default, ``external``, or
``off`` it is dropped. ``probe_clipboard`` asks tmux for the option once at start (a process
run with a short timeout, from the CLI, never from the UI); ``ClipboardRoute.copied`` says
what a copy did, as far as can be known.
"""

from __future__ import annotations

import subprocess
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
    out = run(["tmux", "show-options", "-sv", "set-clipboard"])
    value = out.strip() if out is not None else ""
    return ClipboardRoute(True, value if value in ("on", "external", "off") else None)
