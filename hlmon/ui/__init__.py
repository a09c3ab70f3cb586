"""hlmon.ui: the Textual terminal UI.

``app`` (``build_app``/``run_app``, the app class), ``screens`` (dashboard, help, prompts),
``widgets`` (line-API panes: watchlist, book, tape, tables, header and status bars) and
``fmt`` (number and time formatting). The UI reads the ``Store`` on a timer and never does
network I/O itself. Nothing here is imported by the headless layers.
"""
