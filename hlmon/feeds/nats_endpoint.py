"""``NatsEndpoint``: a NATS server URL, its credentials kept apart from what is shown.

``nats://HOST[:PORT][/NETWORK]`` or ``tls://...`` (TLS, certificates verified). Credentials:
``nats://TOKEN@HOST`` (a token), ``nats://USER:PASSWORD@HOST``, or a token given separately
(``--nats-token``, ``$HLMON_NATS_TOKEN``). They go to the NATS client and nowhere else:
``display`` (what logs, the status bar and errors show) never holds them. The optional path
names the network whose subjects to read (``hl.<network>.…``) when it cannot be derived from
the API URL (a client that names the same upstream by another URL).

Light on purpose (no NATS client, no protocol): the config checks ``--via nats://…`` with it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from hlmon.keyguard import looks_like_key

SCHEMES = ("nats", "tls")
DEFAULT_PORT = 4222
NETWORK_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
"""A network token (``paths.upstream_name``): already subject- and file-name-safe."""


def check_network(network: str) -> str:
    """Raise ValueError unless ``network`` is a safe subject token."""
    if not isinstance(network, str) or not NETWORK_RE.fullmatch(network):
        raise ValueError(f"a network token is 1-64 of A-Z a-z 0-9 -, got {network!r}")
    return network


def is_nats_url(text: str) -> bool:
    """True for a ``nats://`` or ``tls://`` URL (whether or not it is valid)."""
    return text.strip().lower().startswith(tuple(f"{s}://" for s in SCHEMES))


@dataclass(frozen=True)
class NatsEndpoint:
    """Where the NATS server is, how to log in, and which network's subjects to use."""

    scheme: str
    host: str
    port: int
    network: str | None = None
    """From the URL's path; None: derived from the API URL by the caller."""
    token: str | None = field(default=None, repr=False)
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str, token: str | None = None) -> NatsEndpoint:
        """Read ``nats://[cred@]host[:port][/network]``; ``token`` wins over one in the URL.

        Raises:
            ValueError: not such a URL, or a credential that looks like a private key. The
                message never repeats the credentials.
        """
        parts = urlsplit(text.strip())
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise ValueError("expected nats://HOST[:PORT][/NETWORK] or tls://…")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ValueError("the NATS URL's port is not a number in 1..65535") from None
        host = parts.hostname
        if not host:
            raise ValueError("the NATS URL needs a host, e.g. nats://127.0.0.1:4222")
        if parts.query or parts.fragment:
            raise ValueError("the NATS URL takes no ?query or #fragment")
        path = parts.path.strip("/")
        network = check_network(path) if path else None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        url_token = None
        if user is not None and password is None:
            url_token, user = user, None  # nats://TOKEN@host
        chosen = token or url_token
        for secret in (chosen, user, password):
            if secret and looks_like_key(secret):
                raise ValueError(
                    "a NATS credential looks like a private key (64 hex digits); hlmon never "
                    "needs a key: use the NATS server's token or user"
                )
        return cls(scheme, host, port, network, chosen or None, user, password)

    @property
    def display(self) -> str:
        """The URL without credentials or network (safe to log and show)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def has_credentials(self) -> bool:
        return bool(self.token or self.user)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (the server URL carries no credentials)."""
        options: dict[str, Any] = {"servers": [self.display]}
        if self.token:
            options["token"] = self.token
        if self.user:
            options["user"] = self.user
            options["password"] = self.password or ""
        return options

    def with_network(self, network: str) -> NatsEndpoint:
        """The same endpoint reading ``network``'s subjects (unless its URL named one)."""
        if self.network is not None:
            return self
        return dataclasses.replace(self, network=check_network(network))
