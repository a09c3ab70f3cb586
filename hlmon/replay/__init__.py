"""hlmon.replay — serve a recording (``hlmon record`` / ``--record``) as if it were the exchange.

``load_recording(path) -> Recording`` reads and checks a recording (``RecordingError`` with a
clear message otherwise); ``ReplayServer(recording, speed=1.0, paused=False)`` serves it on
one port (``/ws`` and ``POST /info``) with pause, resume, seek and speed, from Python or over
HTTP (``/_replay/...``); ``run_replay(...)`` is the ``hlmon replay`` command. See
``hlmon.replay.server`` for the protocol details. Never imports Textual.
"""

from hlmon.replay.recording import Frame, Recording, RecordingError, load_recording
from hlmon.replay.server import ReplayServer
from hlmon.replay.standalone import run_replay, serve_replay

__all__ = [
    "Frame",
    "Recording",
    "RecordingError",
    "ReplayServer",
    "load_recording",
    "run_replay",
    "serve_replay",
]
