"""hlmon.runtime: the composition root, the one place the stack is assembled.

- ``root.Runtime``: resolves ``--demo`` (starts the simulator), builds the store, the feed
  engine and the recorder, starts and stops them; an async context manager. The TUI,
  ``hlmon snapshot`` and ``hlmon record`` all run on it.
- ``controls.Controls`` / ``controls.Backend``: what the UI may ask of a running stack and
  what it runs on (typed protocols; the UI imports these, never the engine or the simulator).
- ``started.StartedBackend``: a runtime entered before the UI (``--coins`` checked first).
- ``terminal.start_clipboard_probe``: asks tmux at start whether an OSC 52 copy can arrive.

Nothing is imported here, so ``import hlmon.runtime.controls`` stays light.
"""
