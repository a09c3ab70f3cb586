"""The read-only promise, checked: no key is asked for, kept, logged or printed; TLS is
verified on the real networks and cannot be switched off by a setting; the simulator listens on
loopback unless told otherwise. The threat model is docs/security.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import os
import re
import select
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import hlmon
from hlmon.cli import main
from hlmon.config import NETWORK_URLS, Settings, load_settings
from hlmon.feeds import ws_feed
from hlmon.feeds.info_client import InfoClient, InfoError
from hlmon.protocol import info
from hlmon.sim import SimServer
from hlmon.state import Store
from tests.support import self_signed_certificate

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
"""A well-known test private key (never fund it): what a user might paste by mistake."""
PACKAGE = Path(hlmon.__file__).resolve().parent
SIGNING_MODULES = ("eth_account", "eth_keys", "coincurve", "web3", "ecdsa", "hyperliquid")


# ------------------------------------------------------------------ never asks for a key


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))]


def test_no_signing_library_or_exchange_endpoint_in_the_code() -> None:
    """Read-only by construction: nothing can sign, and only /info and /ws are spoken to."""
    for path, text in _sources():
        for module in SIGNING_MODULES:
            assert not re.search(rf"^\s*(from|import)\s+{module}\b", text, re.M), (path, module)
        assert '"/exchange"' not in text and "'/exchange'" not in text, path
        assert not re.search(r"/exchange\b", text) or path.name == "security.md", path


def test_no_setting_can_hold_a_key_or_turn_tls_off() -> None:
    names = {f.name for f in dataclasses.fields(Settings)}
    for nested in (Settings().websocket, Settings().stale):
        names |= {f.name for f in dataclasses.fields(nested)}
    forbidden = ("key", "secret", "private", "mnemonic", "seed", "password", "verify", "insecure")
    assert not [n for n in names for word in forbidden if word in n.lower()], names


def test_cli_has_no_option_for_a_key_or_insecure_tls() -> None:
    options = [opt for cmd in (main, *main.commands.values()) for p in cmd.params for opt in p.opts]
    for word in ("key", "secret", "private", "insecure", "verify", "no-tls", "no-ssl"):
        assert not [o for o in options if word in o], options


# ------------------------------------------------------------------ TLS


@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_real_networks_are_https_and_wss(network: str) -> None:
    settings = load_settings(env={}, cwd=Path("/nonexistent"), overrides={"network": network})
    assert settings.api_url == NETWORK_URLS[network]
    assert settings.api_url.startswith("https://")
    assert settings.ws_url.startswith("wss://") and settings.ws_url.endswith("/ws")


def test_info_client_verifies_certificates_and_host_names() -> None:
    client = InfoClient(NETWORK_URLS["mainnet"], budget=600)
    # What the transport wraps every https connection in (built on the first one).
    ctx: ssl.SSLContext = client._http._transport._ssl_context()  # type: ignore[attr-defined]
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    asyncio.run(client.aclose())


def test_info_client_on_plain_http_loads_no_certificates() -> None:
    """The simulator and a local daemon speak plain http: no TLS, so the client does not parse
    the CA bundle at start-up (tens of ms); an https URL still verifies (test above)."""

    async def attempt() -> None:
        client = InfoClient("http://127.0.0.1:1", budget=600, max_retries=0)
        with pytest.raises(InfoError):  # refused: nothing listens on port 1
            await client.info(info.all_mids())
        assert client._http._transport._ssl is None  # type: ignore[attr-defined]
        await client.aclose()

    asyncio.run(attempt())


def test_websocket_connect_keeps_the_library_default_tls() -> None:
    """WsFeed passes no ``ssl=`` (nor a connector, nor a fingerprint) to aiohttp: wss:// then
    uses aiohttp's default context, ``ssl.create_default_context()`` (certificates and host
    name verified)."""
    source = inspect.getsource(ws_feed)
    calls = [source[source.index("aiohttp.ClientSession(") :]]
    calls.append(source[source.index("session.ws_connect(") :])
    for call in calls:
        call = call[: call.index(")") + 1]
        for word in ("ssl", "server_hostname", "connector", "fingerprint", "verify"):
            assert word not in call, (word, call)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_server(self_signed: tuple[Path, Path]) -> AsyncIterator[int]:
    """A loopback TLS server with a self-signed certificate (answers nothing useful)."""
    cert, key = self_signed
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    yield port
    server.close()
    await server.wait_closed()


@pytest.mark.skipif(not Path("/usr/bin/openssl").exists(), reason="needs openssl to make a cert")
async def test_self_signed_certificate_refused_over_rest_and_websocket(tls_server: int) -> None:
    """An impostor with a certificate no CA signed gets no request and no subscription."""
    client = InfoClient(
        f"https://127.0.0.1:{tls_server}", budget=600, max_retries=0, backoff_cap=0.01
    )
    try:
        with pytest.raises(InfoError) as err:
            await client.info(info.all_mids())
        assert "CERTIFICATE_VERIFY_FAILED" in repr(err.value.__cause__ or err.value) or (
            "certificate" in str(err.value).lower()
        )
    finally:
        await client.aclose()
    # hlmon's own websocket feed: every attempt fails certificate verification, none goes live.
    store = Store(time.time)
    timings = dataclasses.replace(
        Settings().websocket, backoff_initial=0.01, backoff_max=0.01, open_timeout=5.0
    )
    feed = ws_feed.WsFeed(f"wss://127.0.0.1:{tls_server}/ws", store, timings)
    task = asyncio.create_task(feed.run())
    try:
        for _ in range(500):
            if feed.stats.attempts >= 2 and store.health.connection.last_error:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert feed.stats.connects == 0 and not feed.live.is_set()
    assert "CERTIFICATE_VERIFY_FAILED" in (store.health.connection.last_error or ""), (
        store.health.connection
    )


# ------------------------------------------------------------------ the simulator binds loopback


def test_simulator_defaults_to_loopback() -> None:
    assert inspect.signature(SimServer.start).parameters["host"].default == "127.0.0.1"
    for name, command in main.commands.items():
        for param in command.params:
            if "--host" in param.opts:
                assert param.default == "127.0.0.1", name


def test_standalone_simulator_listens_on_loopback() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hlmon", "sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        # A simulator that never says where it listens fails here, never hangs the run.
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "hlmon sim printed nothing within 30 s"
        first = proc.stdout.readline()
        assert first.startswith("listening on http://127.0.0.1:"), first
    finally:
        proc.terminate()
        proc.wait(10)
    assert "warning" not in (proc.stderr.read() if proc.stderr else "")


# ------------------------------------------------------------------ keys never echoed


async def _hlmon(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HLMON_")}
    full_env.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hlmon", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=full_env, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(seed=3)
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.mark.parametrize(
    "where",
    ["flag", "flag-0x", "env", "config-address", "config-addresses", "after-snapshot"],
)
async def test_key_given_as_address_never_echoed(
    where: str, sim: SimServer, tmp_path: Path
) -> None:
    """Refused (exit 1) with the warning; the digits reach no output, log file or document."""
    log = tmp_path / "hlmon.log"
    env = {"HLMON_LOG": str(log), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    args = ["--log-level", "debug"]
    snap = ["snapshot", "--wait", "3", "--api-url", sim.url]
    if where == "flag":
        args += [*snap, "--address", KEY]
    elif where == "flag-0x":
        args += [*snap, "--address", "0x" + KEY.upper()]
    elif where == "after-snapshot":
        args += ["--address", sim.demo_address + "," + KEY, *snap]
    elif where == "env":
        env["HLMON_ADDRESS"] = KEY
        args += snap
    else:
        cfg = tmp_path / "config.toml"
        line = f'address = "0x{KEY}"' if where == "config-address" else f'addresses = ["{KEY}"]'
        cfg.write_text(line + "\n", encoding="utf-8")
        args += ["--config", str(cfg), *snap]
    code, out, err = await _hlmon(*args, env=env, cwd=tmp_path)
    assert code in (1, 2), (code, err)
    everything = out + err + (log.read_text(encoding="utf-8") if log.exists() else "")
    assert KEY not in everything.lower()
    assert "private key" in err.lower()
    assert "Traceback" not in everything


async def test_snapshot_and_log_of_a_normal_run_hold_no_secret(
    sim: SimServer, tmp_path: Path
) -> None:
    """A successful snapshot: the document and the debug log name the public address only;
    no environment variable's value that looks like a key leaks into either."""
    log = tmp_path / "hlmon.log"
    env = {"HLMON_LOG": str(log), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "MY_KEY": KEY}
    code, out, err = await _hlmon(
        "--log-level", "debug", "snapshot", "--wait", "10", "--api-url", sim.url,
        "--address", sim.demo_address, "--coins", "BTC,ETH",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc  # a real document
    text = out + err + log.read_text(encoding="utf-8")
    assert KEY not in text.lower()
    assert sim.demo_address in out.lower()


async def test_key_given_as_a_coin_never_echoed(sim: SimServer, tmp_path: Path) -> None:
    _code, out, err = await _hlmon(
        "snapshot", "--wait", "2", "--api-url", sim.url, "--coins", f"BTC,{KEY}",
        env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, cwd=tmp_path,
    )  # fmt: skip
    assert KEY not in (out + err).lower()
