"""Checks for the top-level settings (network, URL, addresses, labels, watchlist, theme).

Each takes a raw value and returns it typed, or raises :class:`~hlmon.settable.Invalid`; the
caller names the source and key. Numbers, booleans and the layers' own tables use the generic
checks of :mod:`hlmon.settable`.
"""

from __future__ import annotations

import importlib.util
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from hlmon.event_loop import EVENT_LOOPS
from hlmon.feeds.nats_endpoint import NatsEndpoint, is_nats_url
from hlmon.keyguard import PRIVATE_KEY_WARNING, is_private_key, looks_like_key
from hlmon.loopback import is_loopback_host
from hlmon.settable import Invalid

NETWORK_URLS: dict[str, str] = {
    "mainnet": "https://api.hyperliquid.xyz",
    "testnet": "https://api.hyperliquid-testnet.xyz",
}
NETWORKS: tuple[str, ...] = (*NETWORK_URLS, "custom")
MAX_ADDRESSES = 15
"""Distinct addresses hlmon can watch at most: the exchange's own count of unique users per IP
(``max_users``, 10 by default, may be raised up to it)."""
MAX_LABEL_LEN = 24

_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")


def check_network(value: Any) -> str:
    if not isinstance(value, str) or value not in NETWORKS:
        raise Invalid("one of " + ", ".join(f'"{n}"' for n in NETWORKS))
    return value


def check_api_url(value: Any) -> str:
    expected = "an https:// URL (http:// only for 127.0.0.1, localhost or ::1)"
    if not isinstance(value, str):
        raise Invalid(expected)
    try:
        parts = urllib.parse.urlsplit(value.strip())
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise Invalid(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(expected)
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and status bars; the exchange needs none.
        raise Invalid("expected a URL without user:password@ credentials", show_value=False)
    if parts.query or parts.fragment:
        raise Invalid("a base URL without ?query or #fragment")
    # Plain http would send everything in clear over a real network; it is only acceptable
    # for a local simulator or proxy, so http is allowed for loopback hosts only.
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise Invalid(expected)
    return value.strip().rstrip("/")


DEMO_ACCOUNTS: tuple[str, ...] = ("standard", "unified", "portfolio")
"""Account modes the simulator's demo account can have (``--demo-account``)."""


def check_demo_account(value: Any) -> str:
    """``standard``, ``unified`` or ``portfolio``: the demo account's mode."""
    if not isinstance(value, str) or value.strip() not in DEMO_ACCOUNTS:
        raise Invalid("one of " + ", ".join(DEMO_ACCOUNTS))
    return value.strip()


def check_daemon(value: Any) -> str:
    """``auto`` (use a running daemon, else direct), ``off`` (always direct), a daemon's socket
    path (``/path``, ``~/path``, ``unix:/path``), its http URL (loopback http, or https), or
    the NATS server it publishes to (``nats://`` or ``tls://``)."""
    expected = (
        "auto, off, a daemon socket path, a daemon URL (http on loopback, or https) or a NATS "
        "URL (nats://HOST:PORT)"
    )
    if not isinstance(value, str) or not value.strip():
        raise Invalid(expected)
    text = value.strip()
    if looks_like_key(text):
        raise Invalid(PRIVATE_KEY_WARNING, show_value=False)
    if text in ("auto", "off"):
        return text
    if is_nats_url(text):
        return _check_nats(text)
    bare = text[len("unix:") :] if text.startswith("unix:") else text
    if bare.startswith(("/", "~")):
        return "unix:" + bare
    return check_api_url(text)


def _check_nats(text: str) -> str:
    """A NATS URL (``--via nats://…``), never echoed (it may hold a token), and nats-py (the
    optional ``hlmon[nats]`` extra) installed to read it."""
    try:
        NatsEndpoint.parse(text)
    except ValueError as exc:
        raise Invalid(f"an invalid NATS URL: {exc}", show_value=False) from None
    if importlib.util.find_spec("nats") is None:
        raise Invalid(
            "a NATS URL needs the optional nats-py package: pip install 'hlmon[nats]'",
            show_value=False,
        )
    return text


def check_event_loop(value: Any) -> str:
    """``auto`` (uvloop when installed, else asyncio's loop), ``uvloop`` (installed) or
    ``asyncio``."""
    if not isinstance(value, str) or value.strip() not in EVENT_LOOPS:
        raise Invalid("one of " + ", ".join(EVENT_LOOPS))
    choice = value.strip()
    if choice == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise Invalid("uvloop installed (pip install uvloop), or auto / asyncio")
    return choice


def check_address(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("an address: a string of 0x + 40 hex digits")
    text = value.strip()
    if is_private_key(text):
        raise Invalid(PRIVATE_KEY_WARNING, show_value=False)
    if not _ADDRESS_RE.fullmatch(text):
        raise Invalid("an address: 0x + 40 hex digits")
    return text.lower()


def check_addresses(value: Any) -> tuple[str, ...]:
    expected = "an array of addresses (0x + 40 hex digits)"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise Invalid(expected)
    out: list[str] = []
    for i, item in enumerate(value, 1):
        try:
            address = check_address(item)
        except Invalid as exc:
            if not exc.show_value:  # a private key: say so, never show it
                raise Invalid(f"item {i}: {exc.expected}", show_value=False) from None
            raise Invalid(f"{expected}; item {i} is not one") from None
        if address not in out:
            out.append(address)
    return tuple(out)


def check_labels(value: Any) -> tuple[tuple[str, str], ...]:
    expected = 'a table of address = "label" (labels up to 24 characters)'
    if not isinstance(value, Mapping):
        raise Invalid(expected)
    out: dict[str, str] = {}
    for key, label in value.items():
        try:
            address = check_address(key)
        except Invalid as exc:
            if not exc.show_value:
                raise Invalid(f"a key in labels: {exc.expected}", show_value=False) from None
            raise Invalid(f"{expected}; a key is not an address") from None
        if not isinstance(label, str):
            raise Invalid(expected)
        text = label.strip()
        if not text or len(text) > MAX_LABEL_LEN or not text.isprintable():
            raise Invalid(expected)
        out[address] = text
    return tuple(out.items())


def parse_coins(text: str) -> list[str]:
    """Split a ``--coins`` value: names separated by commas and/or whitespace."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def check_watchlist(value: Any) -> tuple[str, ...]:
    expected = "a non-empty array of coin names (strings without spaces)"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise Invalid(expected)
    coins: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise Invalid(expected)
        coin = item.strip()
        if not coin or any(ch.isspace() for ch in coin):
            raise Invalid(expected)
        if looks_like_key(coin):
            # A key pasted into the wrong field must not travel on into subscriptions,
            # snapshots and logs.
            raise Invalid(
                f"a coin name, not a private key: {PRIVATE_KEY_WARNING}", show_value=False
            )
        # Case is kept as given: names like "kPEPE", "@107" and "PURR/USDC" are case-sensitive.
        if coin not in coins:
            coins.append(coin)
    if not coins:
        raise Invalid(expected)
    return tuple(coins)


def check_cache_dir(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise Invalid("a directory path (a non-empty string)")
    return value.strip()


def check_book_sig_figs(value: Any) -> int:
    # 0 stands for "exact prices": TOML has no null, and a saved choice must be able to say it.
    if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 2, 3, 4, 5):
        raise Invalid("0 (exact prices) or 2..5 significant figures")
    return int(value)


def check_theme(value: Any) -> str:
    # Checked only for shape here: the theme list lives in Textual, which config must not import.
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a theme name (a non-empty string)")
    return value.strip()
