"""The one exception the protocol layer raises for malformed input."""

from __future__ import annotations

SNIPPET_CHARS = 200
"""How much of the offending input a ``ProtocolError`` keeps (enough to log, never megabytes)."""


def make_snippet(data: bytes | bytearray | memoryview | str | object) -> str:
    """Return the first ``SNIPPET_CHARS`` characters of ``data`` as text, whatever its type."""
    if isinstance(data, str):
        return data[:SNIPPET_CHARS]
    if isinstance(data, bytes | bytearray | memoryview):
        # Slice before decoding so a 5 MB frame costs nothing; a cut multibyte char is replaced.
        return bytes(data[: SNIPPET_CHARS * 4]).decode("utf-8", "replace")[:SNIPPET_CHARS]
    return repr(data)[:SNIPPET_CHARS]


class ProtocolError(ValueError):
    """Input that is not a valid Hyperliquid frame or /info response.

    Attributes:
        snippet: the first ~200 characters of the offending input, as text.
        reason: the human-readable cause, without the snippet.
    """

    def __init__(self, reason: str, data: bytes | bytearray | memoryview | str | object) -> None:
        self.reason = reason
        self.snippet = make_snippet(data)
        super().__init__(f"{reason} (input starts: {self.snippet[:80]!r})")

    def __reduce__(self) -> tuple[type[ProtocolError], tuple[str, str]]:
        # Default exception pickling would call __init__ with the formatted message only.
        return (type(self), (self.reason, self.snippet))
