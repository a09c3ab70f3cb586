"""Layout containers that draw nothing of their own (Textual's ``BLANK``).

Textual's compositor renders, on every paint, each widget whose clip region overlaps the
updated area, all of its lines; the screen and the containers that hold the panes overlap
every update (their clip is the screen). A plain container goes through the styles cache
and the line filters line by line; a ``BLANK`` one hands back one blank strip for all of
them. They have no border and no content, so nothing on screen changes; a tape-only paint
then costs the tape, not the whole layout around it.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical


class BlankVertical(Vertical):
    """A ``Vertical`` with no border and no content of its own."""

    BLANK = True


class BlankHorizontal(Horizontal):
    """A ``Horizontal`` with no border and no content of its own."""

    BLANK = True
