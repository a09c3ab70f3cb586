"""hlmon.ui: the Textual terminal UI.

``app`` (``build_app``/``run_app``, the app class), ``screens`` (dashboard, help, prompts),
``widgets`` (line-API panes: watchlist, book, tape, tables, header and status bars) and
``fmt`` (number and time formatting). The UI reads the ``Store`` on a timer and never does
network I/O itself. Nothing here is imported by the headless layers.
"""

import os

PAINT_TICKS_PER_S = 240
"""How often Textual may paint the screen (its ``TEXTUAL_FPS``, 60 by default). Textual paints
on the next tick of a fixed timer after a refresh, so at 60 a key or a trade waited up to
16.7 ms for the tick after its frame had run: in ``benchmarks.ui_cost`` under ``stress``, key ->
painted p99 30-41 ms at 60 and 12-23 ms at 240, trade send -> painted p99 39 ms and 23-26 ms,
at the same CPU and frame rate. Since then a frame paints when it ends (``frame_repaints``):
the tick still paces what is refreshed outside a frame (a key's move of the selection, a
title). How often hlmon's frames run is paced by its own schedule (``frame_schedule``), not
by this. Set here, before Textual is first imported (it reads the
variable once); a ``TEXTUAL_FPS`` the user set is kept."""

os.environ.setdefault("TEXTUAL_FPS", str(PAINT_TICKS_PER_S))
