"""The version of hlmon's recording format (gzip JSON lines: a header, then timed frames).

A leaf shared by the writer (``hlmon.feeds.recorder``) and the reader (``hlmon.replay``), so
the replay server, which sits beside the stack, needs nothing from ``feeds``.
"""

RECORDING_FORMAT = 1
"""Written in each header as ``hlmon_recording``; a reader refuses any other value."""
