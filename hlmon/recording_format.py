"""The version of hlmon's recording format (gzip JSON lines: a header, then timed frames).

A leaf shared by the writer (``hlmon.feeds.recorder``) and the reader (``hlmon.replay``), so
the replay server, which sits beside the stack, needs nothing from ``feeds``.
"""

RECORDING_FORMAT = 2
"""Written in each header as ``hlmon_recording``. Format 2 adds ``info`` lines (the /info
answers a replay cannot make up: the market catalog, an account's role and mode)."""
READABLE_FORMATS = (1, 2)
"""What a reader accepts; it refuses any other value. A format-1 file has no ``info`` lines."""
