"""``FrameRecorder``: every websocket frame the feed receives, with its receive time, to a file.

The file is gzip-compressed JSON lines::

    {"hlmon_recording": 2, "version": "...", "network": "...", "api_url": "...",
     "address": "0x..." | null, "coins": ["BTC", ...], "start": 1767000000.123}
    {"t": 1767000000.301, "info": {"type": "perpDexs"}, "a": <the answer, as received>}
    {"t": 1767000000.456, "f": "<the raw frame text>"}
    ...
    {"end": 1767000060.0, "frames": 1234, "dropped": 0}

``t`` is the local wall-clock receive time (``time.time()``), ``f`` the frame exactly as
received. The trailer line is written by a clean ``close()``; readers must not require it.

``info`` lines keep the /info answers a replay could not make up from the frames
(``RECORDED_INFO``): the market catalog (which dexes, their collateral tokens, size decimals)
and the account's role, mode and portfolio. Without them a replay lists only the coins its
frames name, with made-up metadata. An answer is written when it differs from the last one
kept for the same request (the catalog reloads every few minutes and rarely changes).

The receive loop only calls ``write(raw, t)``, which appends to an in-memory list (no encoding,
no I/O). A flush task started with ``start()`` hands the list to a worker thread every
``flush_interval`` seconds, which encodes the lines and appends them to the file as one gzip
member (zlib releases the GIL while it compresses). Concatenated gzip members are one valid
gzip stream, so a recording whose process died is readable up to its last flush. The buffer is
bounded (``max_pending_bytes``): if the disk cannot keep up, frames beyond it are dropped and
counted in ``dropped`` (and in the trailer) rather than growing memory without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from hlmon.recording_format import RECORDING_FORMAT

logger = logging.getLogger(__name__)

_ENCODER = msgspec.json.Encoder()

RECORDED_INFO = frozenset(
    {
        "perpDexs",
        "allPerpMetas",
        "meta",
        "spotMeta",
        "outcomeMeta",
        "userRole",
        "userAbstraction",
        "portfolio",
    }
)
"""/info answers kept in a recording: what a replay cannot derive from the frames."""


def make_header(
    *,
    network: str,
    api_url: str,
    address: str | None,
    coins: Sequence[str],
    start: float | None = None,
) -> dict[str, Any]:
    """The first line of a recording."""
    from hlmon import __version__

    return {
        "hlmon_recording": RECORDING_FORMAT,
        "version": __version__,
        "network": network,
        "api_url": api_url,
        "address": address,
        "coins": list(coins),
        "start": time.time() if start is None else start,
    }


class FrameRecorder:
    """Buffers frames in memory and writes them, compressed, off the receive path."""

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any],
        *,
        flush_interval: float = 0.5,
        max_pending_bytes: int = 64 * 2**20,
        compresslevel: int = 1,
    ) -> None:
        """
        Args:
            path: the file to create (truncated if it exists).
            header: the first line (see ``make_header``).
            flush_interval: seconds between flushes to the worker thread.
            max_pending_bytes: frames waiting for a flush are bounded to this many bytes;
                frames beyond it are dropped and counted.
            compresslevel: gzip level; 1 (fastest) costs about half the CPU of 6, for
                ~20 % more bytes.
        """
        self.path = Path(path)
        self.header = header
        self.flush_interval = flush_interval
        self.max_pending_bytes = max_pending_bytes
        self.compresslevel = compresslevel
        self.frames = 0
        """Frames accepted by ``write`` (not dropped)."""
        self.dropped = 0
        """Frames dropped because the buffer was full."""
        self.bytes_written = 0
        """Compressed bytes written to the file so far."""
        # Two flat lists rather than a list of (t, raw) tuples: a tuple per frame is a
        # GC-tracked object, and at tens of thousands of frames/s the collector's passes over
        # them cost ~7x the append itself.
        self._times: list[float] = []
        self._raws: list[bytes] = []
        self._answers: list[bytes] = []
        """``info`` lines, encoded, waiting for the next flush."""
        self._last_answer: dict[bytes, int] = {}
        """The checksum of the last answer kept, by request body: an unchanged answer is
        not written again."""
        self.answers = 0
        """``info`` lines accepted by ``info_answer``."""
        self._pending_bytes = 0
        self._file: IO[bytes] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    # ------------------------------------------------------------------ hot path

    def write(self, raw: bytes | str, t: float) -> None:
        """Record one received frame ``raw`` received at wall-clock time ``t``. O(1), no I/O."""
        size = len(raw)
        if self._pending_bytes + size > self.max_pending_bytes or self._closed:
            self.dropped += 1
            return
        self._times.append(t)
        self._raws.append(raw if isinstance(raw, bytes) else raw.encode())
        self._pending_bytes += size
        self.frames += 1

    def info_answer(self, body: Mapping[str, Any], raw: bytes, t: float | None = None) -> None:
        """Keep the /info answer ``raw`` (valid JSON, as received) to the request ``body`` when
        its type is one a replay needs (``RECORDED_INFO``) and it changed since the last one
        kept for the same request. Encoded here (answers are rare), written at the next flush."""
        if body.get("type") not in RECORDED_INFO or self._closed:
            return
        key = _ENCODER.encode(body)
        digest = zlib.crc32(raw)
        if self._last_answer.get(key) == digest:
            return
        if b"\n" in raw:  # one line per answer (JSON allows line breaks between tokens)
            raw = _ENCODER.encode(msgspec.json.decode(raw))
        line = _ENCODER.encode(
            {"t": time.time() if t is None else t, "info": body, "a": msgspec.Raw(raw)}
        )
        if self._pending_bytes + len(line) > self.max_pending_bytes:
            self.dropped += 1
            return
        self._last_answer[key] = digest
        self._answers.append(line)
        self._pending_bytes += len(line)
        self.answers += 1

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """Create the file and write the header (synchronously: one small write)."""
        if self._file is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("wb")
        line = _ENCODER.encode(self.header) + b"\n"
        data = gzip.compress(line, compresslevel=self.compresslevel)
        fh.write(data)
        fh.flush()
        self.bytes_written += len(data)
        self._file = fh

    def start(self) -> None:
        """Open the file (if needed) and start the periodic flush task in the running loop."""
        self.open()
        if self._task is None:
            self._task = asyncio.create_task(self._flush_loop(), name="recorder-flush")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                await self.flush()
            except OSError as exc:
                # Disk full or gone: stop recording (frames are dropped and counted), keep the
                # feed running. The monitor matters more than its recording.
                logger.warning("recording to %s stopped: %s", self.path, exc)
                self._closed = True
                return

    async def flush(self) -> None:
        """Write every buffered frame to the file (in a worker thread)."""
        async with self._lock:
            if not (self._raws or self._answers) or self._file is None:
                return
            times, raws, answers = self._take()
            self.bytes_written += await asyncio.to_thread(self._write_batch, times, raws, answers)

    def _take(self) -> tuple[list[float], list[bytes], list[bytes]]:
        times, raws, answers = self._times, self._raws, self._answers
        self._times, self._raws, self._answers, self._pending_bytes = [], [], [], 0
        return times, raws, answers

    def _write_batch(
        self, times: list[float], raws: list[bytes], answers: list[bytes], trailer: bytes = b""
    ) -> int:
        fh = self._file
        if fh is None:
            return 0
        encode = _ENCODER.encode
        parts = answers + [
            encode({"t": t, "f": raw.decode("utf-8", "replace")})
            for t, raw in zip(times, raws, strict=True)
        ]
        text = b"\n".join(parts) + b"\n" if parts else b""
        data = gzip.compress(text + trailer, compresslevel=self.compresslevel)
        fh.write(data)
        fh.flush()
        return len(data)

    async def close(self) -> None:
        """Stop the flush task, write what is buffered and the trailer, close the file.

        Safe to call twice."""
        # Cancel the flush task only while holding the lock: a flush holds it while its batch
        # is written in a worker thread, and cancelling that await would not stop the thread,
        # which would then write after the trailer or into the closed file (frames lost).
        async with self._lock:
            task, self._task = self._task, None
            if task is not None:
                task.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self._lock:
            fh = self._file
            if fh is None:
                return
            times, raws, answers = self._take()
            self._closed = True
            trailer = _ENCODER.encode(
                {"end": time.time(), "frames": self.frames, "dropped": self.dropped}
            )
            try:
                self.bytes_written += await asyncio.to_thread(
                    self._write_batch, times, raws, answers, trailer + b"\n"
                )
            finally:
                self._file = None
                await asyncio.to_thread(fh.close)
