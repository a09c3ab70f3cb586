"""aiohttp imported with its CA loads put off (``hlmon.tls_deferral``), the TUI start choosing
it only for a run without TLS (``may_use_tls``), and a ``wss://`` connection loading them
first. Each deferral runs in a fresh interpreter: it only works before aiohttp is imported."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from hlmon.config import Settings
from hlmon.runtime.discovery import may_use_tls
from tests.support import python_stdout


def _run(code: str) -> list[str]:
    return python_stdout(textwrap.dedent(code)).split()


def test_the_import_leaves_aiohttp_contexts_empty_until_the_loads_run() -> None:
    out = _run(
        """
        import ssl
        from hlmon import tls_deferral
        print(tls_deferral.import_aiohttp_deferring_certs(), tls_deferral.deferred())
        from aiohttp import connector
        full = ssl.create_default_context().cert_store_stats()["x509_ca"]  # ssl as it was
        print(full > 0, connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"])
        tls_deferral.load_deferred_certs()
        print(connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"] == full)
        print(tls_deferral.deferred(), tls_deferral.import_aiohttp_deferring_certs())
        """
    )
    assert out == ["True", "2", "True", "0", "True", "0", "False"]


def test_a_wss_connection_loads_the_deferred_certificates_first() -> None:
    """The feed's first attempt at a ``wss://`` URL (refused: nothing listens) has the
    certificates loaded before it connects."""
    out = _run(
        """
        import asyncio, random, time
        from hlmon import tls_deferral
        tls_deferral.import_aiohttp_deferring_certs()
        from hlmon.feeds.settings import WebsocketSettings
        from hlmon.feeds.ws_feed import WsFeed
        from hlmon.state import Store

        async def main():
            feed = WsFeed("wss://127.0.0.1:1/ws", Store(time.time), WebsocketSettings(),
                          rng=random.Random(0))
            print(tls_deferral.deferred())
            task = asyncio.create_task(feed.run())
            while feed.stats.attempts == 0 or tls_deferral.deferred():
                await asyncio.sleep(0.01)
            task.cancel()
            print(tls_deferral.deferred())

        asyncio.run(asyncio.wait_for(main(), 30))
        """
    )
    assert out == ["2", "0"]


def test_the_tui_defers_only_for_a_run_without_tls() -> None:
    """The CLI's TUI branch, up to the app: ``--demo`` defers, the default (mainnet) not."""
    code = """
        import sys
        import hlmon.cli as cli
        from hlmon import tls_deferral
        cli._load_entry_point = lambda *a: lambda settings, clipboard: print(
            tls_deferral.deferred()) or 0
        try:
            cli.main([{args}], prog_name="hlmon", standalone_mode=False)
        except SystemExit:
            pass
        """
    assert _run(code.format(args='"--demo"')) == ["2"]
    assert _run(code.format(args="")) == ["0"]


@pytest.mark.parametrize(
    ("changes", "tls"),
    [
        ({"demo": True}, False),
        ({}, True),  # mainnet: https
        ({"network": "custom", "api_url": "http://127.0.0.1:8080"}, False),
        ({"network": "custom", "api_url": "http://127.0.0.1:8080", "daemon": "off"}, False),
        ({"network": "custom", "api_url": "http://h:1", "daemon": "unix:/tmp/d.sock"}, False),
        ({"network": "custom", "api_url": "http://h:1", "daemon": "http://127.0.0.1:9"}, False),
        ({"network": "custom", "api_url": "http://h:1", "daemon": "https://d.example"}, True),
        ({"network": "custom", "api_url": "http://h:1", "daemon": "tls://nats.example"}, True),
        ({"network": "custom", "api_url": "https://api.example"}, True),
    ],
)
def test_may_use_tls(changes: dict[str, object], tls: bool) -> None:
    assert may_use_tls(dataclasses.replace(Settings(), **changes)) is tls  # type: ignore[arg-type]
