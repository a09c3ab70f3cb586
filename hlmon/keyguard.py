"""Private keys never travel: spot 64-hex-digit values and keep them out of every message.

hlmon is read-only and needs only public addresses (0x + 40 hex digits). A private key (64 hex
digits) pasted into a flag, a config value or an input box is refused with
:data:`PRIVATE_KEY_WARNING` and never echoed: not in errors, logs, snapshots or subscriptions.

A leaf: imports nothing from hlmon, so config, alerts and the CLI can all use it.
"""

from __future__ import annotations

import re

_PRIVATE_KEY_RE = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
# Any 64-hex run anywhere in a string: never echo such a string, whatever it was given for.
_KEYISH_RE = re.compile(r"[0-9a-fA-F]{64}")
_KEYISH_RUN_RE = re.compile(r"(?:0x)?[0-9a-fA-F]{64,}")

REDACTED = "<hidden: looks like a private key>"
"""What stands in for a key-like value in a message."""

PRIVATE_KEY_WARNING = (
    "this looks like a PRIVATE KEY (64 hex digits), not an address. hlmon is read-only and "
    "never needs a private key; give your public address (0x + 40 hex digits) instead. "
    "If that key is real, remove it from wherever you typed or stored it."
)


def is_private_key(text: str) -> bool:
    """True if ``text`` (already stripped) is exactly a private key, with or without 0x."""
    return _PRIVATE_KEY_RE.fullmatch(text) is not None


def looks_like_key(text: str) -> bool:
    """True if ``text`` holds 64 hex digits in a row anywhere: never a coin name or a label."""
    return _KEYISH_RE.search(text) is not None


def redact(text: str) -> str:
    """``text`` with every key-like run (64+ hex digits, with or without 0x) replaced."""
    return _KEYISH_RUN_RE.sub(REDACTED, text)
