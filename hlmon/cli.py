"""The ``hlmon`` command line: the TUI (default), ``sim``, ``snapshot``, ``record``, ``replay``,
``serve`` and ``daemon``.

Parses flags, resolves :class:`~hlmon.config.Settings` (see :func:`hlmon.config.load_settings`)
and hands them to the TUI or a headless command. The heavy parts (Textual, the simulator, the
feeds) are imported only inside the command that needs them, so ``--help`` and ``--version``
stay fast and a half-built tree still gives clear errors instead of tracebacks.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from hlmon import __version__, gc_pause, tls_deferral
from hlmon.cli_logging import LogSetupError, configure_logging, log_file_from
from hlmon.config import ConfigError, Settings, load_settings
from hlmon.config.flags import (
    Command,
    SharedFlag,
    flags_for,
    help_text,
    is_given,
    misplaced,
    settings_overrides,
)
from hlmon.keyguard import redact
from hlmon.loopback import is_loopback_host
from hlmon.runtime.discovery import may_use_tls
from hlmon.runtime.terminal import start_clipboard_probe

logger = logging.getLogger("hlmon.cli")

F = TypeVar("F", bound=Callable[..., Any])


class HlmonError(click.ClickException):
    """A user-facing error: printed as ``hlmon: error: <message>``, exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        message = redact(self.format_message())
        logger.info("error: %s", message)  # INFO: stderr already gets it once, below
        click.echo(f"hlmon: error: {message}", err=True, file=file)


def _redacted(exc: click.ClickException) -> click.ClickException:
    """``exc``, or an equivalent error whose message has no key-like text."""
    text = exc.format_message()
    clean = redact(text)
    if clean == text:
        return exc
    if isinstance(exc, click.UsageError):
        return click.UsageError(clean, ctx=exc.ctx)
    return HlmonError(clean)


class _Group(click.Group):
    """A group whose usage errors never echo anything that looks like a private key.

    Click quotes bad input back ("No such command '...'", "Got unexpected extra argument"),
    so a key pasted in the wrong place would land on screen and in terminal scrollback.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            raise _redacted(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise _redacted(exc) from None


def _version_text() -> str:
    # Imported here: importlib.metadata (zipfile, email...) is only needed for --version.
    import importlib.metadata
    import platform

    try:
        # Read from metadata: importing Textual just to print a version costs ~0.3 s.
        textual = importlib.metadata.version("textual")
    except importlib.metadata.PackageNotFoundError:
        textual = "not installed"
    return f"hlmon {__version__} (textual {textual}, python {platform.python_version()})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit()


def _click_option(flag: SharedFlag) -> Callable[[F], F]:
    """The click option for one row of the shared-flags table."""
    kwargs: dict[str, Any] = {"help": help_text(flag)}
    if flag.metavar is not None:
        kwargs["metavar"] = flag.metavar
    if flag.kind == "path":
        kwargs["type"] = click.Path(path_type=Path, dir_okay=False)
    elif flag.kind == "choice":
        kwargs["type"] = click.Choice(list(flag.choices))
    elif flag.kind == "number":
        kwargs["type"] = float
    elif flag.kind == "texts":
        kwargs["multiple"] = True
    elif flag.kind == "switch":
        kwargs["is_flag"] = True
    return click.option(flag.name, flag.dest, **kwargs)


def _shared_options(command: Command) -> Callable[[F], F]:
    """The shared options ``command`` takes (``hlmon.config.flags``); for a subcommand they
    are accepted before or after its name."""

    def decorate(func: F) -> F:
        for flag in reversed(flags_for(command)):
            func = _click_option(flag)(func)
        return func

    return decorate


def _listen_options(func: F) -> F:
    """``--host`` (loopback by default) and ``--port`` (0: any free port) for the local servers
    (``sim``, ``replay``); ``serve`` has its own fixed default port."""
    func = click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=0,
        show_default=True,
        help="Port to listen on (0: any free port).",
    )(func)
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
    )(func)


def _merge_shared(group_opts: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """Options given after the subcommand win over those given before it."""
    merged = dict(group_opts)
    for key, value in own.items():
        # () is a repeatable option (--address) not given after the subcommand.
        if is_given(value):
            merged[key] = value
    return merged


def _inherited(ctx: click.Context, group_opts: dict[str, Any]) -> dict[str, Any]:
    """The group's options, for the TUI or the subcommand; a shared option given before a
    subcommand that does not take it is a usage error, not silently ignored."""
    command = ctx.invoked_subcommand
    if command is not None:
        wrong = misplaced(group_opts, command)
        if wrong:
            raise click.UsageError(f"{wrong[0]} is not an option of `hlmon {command}`", ctx=ctx)
    return group_opts


def _settings(opts: dict[str, Any]) -> Settings:
    """Resolve the settings with the shared options in ``opts`` as overrides."""
    if opts.get("via") and opts.get("direct"):
        raise HlmonError("--via and --direct contradict each other")
    overrides = settings_overrides(opts)
    try:
        settings = load_settings(opts.get("config_path"), overrides=overrides)
    except ConfigError as exc:
        raise HlmonError(str(exc)) from None
    if is_given(opts.get("coins")):
        # Typed on the command line: a market the exchange does not list is an error (exit
        # 1, checked against its catalog at start), not the config file's warning.
        settings = dataclasses.replace(settings, strict_watchlist=True)
    logger.info(
        "settings: network=%s api_url=%s address=%s demo=%s",
        settings.network,
        settings.api_url,
        "set" if settings.address else "none",
        settings.demo,
    )
    return settings


def _load_entry_point(module: str, attr: str, what: str) -> Callable[..., Any]:
    """Import ``module.attr`` lazily; a missing piece is a clear error, not a traceback."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise HlmonError(f"{what} is not built yet ({module} is missing)") from None
        # The traceback goes to the log file only (INFO is below the stderr handler's level).
        logger.info("cannot import %s", module, exc_info=True)
        raise HlmonError(f"{what} failed to load: {exc}") from None
    except ImportError as exc:
        logger.info("cannot import %s", module, exc_info=True)
        raise HlmonError(f"{what} failed to load: {exc}") from None
    func = getattr(mod, attr, None)
    if not callable(func):
        raise HlmonError(f"{what} is not built yet ({module}.{attr} is missing)")
    return func  # type: ignore[no-any-return]


def _record_target(path: Path) -> Path:
    """Where to record, checked before anything starts (a missing directory is an error)."""
    target = path.expanduser()
    if target.is_dir():
        raise HlmonError(f"--record {path}: is a directory")
    if not target.parent.is_dir():
        raise HlmonError(f"--record {path}: directory {target.parent} does not exist")
    return target


def _warn_exposed(host: str, what: str) -> None:
    """A loud stderr warning when a server binds to a non-loopback address."""
    if not is_loopback_host(host):
        click.echo(
            f"hlmon: warning: {what} will listen on {host}, which is not a loopback address: "
            "other machines may be able to reach it (there is no authentication)",
            err=True,
        )


# --- commands ---------------------------------------------------------------------------------


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@_shared_options("tui")
@click.option(
    "--record",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Record every websocket frame received to FILE (gzip JSON lines) while the TUI runs; "
    "play it back with `hlmon replay FILE`.",
)
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a log here (or set HLMON_LOG to a path, or to 1 for the user log dir).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="Log level for the log file.",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the hlmon, Textual and Python versions and exit.",
)
@click.pass_context
def main(
    ctx: click.Context, /, log_file: Path | None, log_level: str, record: Path | None, **opts: Any
) -> None:
    """A read-only real-time terminal monitor for the Hyperliquid exchange.

    With no command, runs the TUI. Settings come from defaults, then the first config file
    found (--config, $HLMON_CONFIG, ./config.toml, the user config dir), then $HLMON_ADDRESS /
    $HLMON_NETWORK / $HLMON_EVENT_LOOP, then these flags. hlmon never needs a private key: a
    public address is enough.
    """
    if ctx.invoked_subcommand is not None:
        gc_pause.resume()  # only the TUI keeps the collector paused, until its first paint
    ctx.obj = _inherited(ctx, opts)
    try:
        configure_logging(
            log_file_from(log_file, os.environ),
            log_level,
            to_stderr=ctx.invoked_subcommand is not None,
        )
    except LogSetupError as exc:
        raise HlmonError(str(exc)) from None
    if record is not None and ctx.invoked_subcommand is not None:
        raise HlmonError(
            "--record is an option of the TUI; to record headless use `hlmon record FILE`"
        )
    if ctx.invoked_subcommand is None:
        settings = _settings(opts)
        if record is not None:
            settings = dataclasses.replace(settings, record_path=str(_record_target(record)))
        if not may_use_tls(settings):  # no TLS this run: skip aiohttp's CA loads (60 ms)
            tls_deferral.import_aiohttp_deferring_certs()
        run_app = _load_entry_point("hlmon.ui.app", "run_app", "the TUI")
        # Under tmux, whether a copy (y) can arrive depends on a tmux option: asked here, the
        # answer read when a copy needs it (the start does not wait for tmux).
        clipboard = start_clipboard_probe(os.environ)
        try:
            code = run_app(settings, clipboard=clipboard)
        finally:
            clipboard.close()  # reaps tmux's process, if one was asked (it answered long ago)
        sys.exit(code)


@main.command()
@_shared_options("snapshot")
@click.option(
    "--wait",
    type=float,
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for every feed to report before printing.",
)
@click.pass_context
def snapshot(ctx: click.Context, /, wait: float, **opts: Any) -> NoReturn:
    """Print one JSON document of market (and account) state, then exit."""
    if not (wait > 0 and wait <= 3600):
        raise HlmonError(f"--wait: expected a number of seconds 0 < SECONDS <= 3600, got {wait:g}")
    settings = _settings(_merge_shared(ctx.obj or {}, opts))
    run_snapshot = _load_entry_point("hlmon.snapshot", "run_snapshot", "snapshot")
    try:
        code = run_snapshot(settings, wait=wait)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)


class _SimCommand(click.Command):
    """``hlmon sim``: its help ends with every fault and scenario and their parameters, read
    from ``hlmon.sim.fault_catalog`` (loaded for the help only)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        catalog = importlib.import_module("hlmon.sim.fault_catalog")
        for kind, title in (
            ("fault", "Faults (with --faults: POST /_sim/<name>, a JSON object of parameters)"),
            ("scenario", "Scenarios (same routes; on the demo account and the clock)"),
        ):
            with formatter.section(title):
                formatter.write_dl(catalog.help_rows(kind), col_max=34)
        super().format_epilog(ctx, formatter)


@main.command(cls=_SimCommand)
@_listen_options
@click.option("--seed", type=int, default=0, show_default=True, help="Market model seed.")
@click.option(
    "--profile",
    type=click.Choice(["standard", "stress"]),
    default="standard",
    show_default=True,
    help="Market traffic profile.",
)
@click.option(
    "--faults",
    is_flag=True,
    help="Enable fault injection (POST /_sim/<fault>, GET /_sim/faults, GET /_sim/truth).",
)
@click.option(
    "--demo-account",
    type=click.Choice(["standard", "unified", "portfolio"]),
    default="standard",
    show_default=True,
    help="Account mode of the demo account: unified and portfolio keep the collateral in spot.",
)
@click.option(
    "--markets",
    type=click.Choice(["standard", "large"]),
    default="standard",
    show_default=True,
    help="How many markets are listed: about 340, or about 1,600 (mainnet's size in 2026).",
)
def sim(
    host: str, port: int, seed: int, profile: str, faults: bool, demo_account: str, markets: str
) -> NoReturn:
    """Run a local Hyperliquid simulator (/info and /ws on one port).

    It speaks the exchange of late 2026: HIP-3 dexes xyz (USDC), flx (USDH) and hyna (USDE)
    beside the default dex, and a subscription naming a coin it does not list drops the whole
    socket. The demo account holds spot balances (one pair quoted in USDH), a Stop Limit
    order, running TWAPs, and reads as a standard, unified or portfolio-margin account
    (--demo-account). With --faults, the controls below are routes: an unknown name or a
    bad parameter answers 400 with this list.
    """
    if not is_loopback_host(host):
        click.echo(
            f"hlmon: warning: the simulator will listen on {host}, which is not a loopback "
            "address: other machines may be able to reach it"
            + (" and inject faults" if faults else ""),
            err=True,
        )
    run_standalone = _load_entry_point("hlmon.sim", "run_standalone", "the simulator")
    try:
        code = run_standalone(
            host=host,
            port=port,
            seed=seed,
            profile=profile,
            faults=faults,
            demo_account=demo_account,
            markets=markets,
        )
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


@main.command("record")
@_shared_options("record")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--duration",
    type=float,
    metavar="SECONDS",
    help="Stop after this many seconds (default: run until ctrl+c).",
)
@click.pass_context
def record_cmd(ctx: click.Context, /, file: Path, duration: float | None, **opts: Any) -> NoReturn:
    """Record every websocket frame received, with its receive time, to FILE (gzip JSON lines).

    Runs the feeds headless (no TUI); `hlmon replay FILE` serves the recording back.
    """
    if duration is not None and not (0 < duration <= 7 * 86400):
        raise HlmonError(f"--duration: expected seconds 0 < SECONDS <= 604800, got {duration:g}")
    settings = _settings(_merge_shared(ctx.obj or {}, opts))
    if not settings.use_websocket:
        raise HlmonError("--no-ws: nothing to record without the websocket")
    target = _record_target(file)
    run_record = _load_entry_point("hlmon.record", "run_record", "recording")
    try:
        code = run_record(settings, str(target), duration)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--speed",
    type=click.FloatRange(0, 10_000, min_open=True),
    default=1.0,
    show_default=True,
    help="Replay at this many times the recorded pace.",
)
@_listen_options
@click.option("--paused", is_flag=True, help="Start paused (POST /_replay/resume to start).")
def replay(file: Path, speed: float, host: str, port: int, paused: bool) -> NoReturn:
    """Serve a recording as a local exchange (/info and /ws on one port).

    Point a client at it, e.g. `hlmon --api-url http://127.0.0.1:PORT`. Playback starts with
    the first subscription; POST /_replay/pause, /_replay/resume, /_replay/seek {"t": s},
    /_replay/speed {"x": 2} and GET /_replay/status control it.
    """
    _warn_exposed(host, "the replay server")
    run_replay = _load_entry_point("hlmon.replay", "run_replay", "replay")
    try:
        code = run_replay(str(file), host=host, port=port, speed=speed, paused=paused)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


@main.command()
@_shared_options("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="URL browsers reach the server at (default http://HOST:PORT), e.g. behind a proxy.",
)
@click.pass_context
def serve(
    ctx: click.Context, /, host: str, port: int, public_url: str | None, **opts: Any
) -> NoReturn:
    """Serve the TUI in a web browser (textual-serve): one app process per browser tab.

    Binds to 127.0.0.1 by default. There is no authentication: anyone who can reach the port
    sees the TUI and the watched address.
    """
    merged = _merge_shared(ctx.obj or {}, opts)
    settings = _settings(merged)  # bad options fail here, not in every browser tab
    _warn_exposed(host, "the web view")
    run_serve = _load_entry_point("hlmon.serve", "run_serve", "the web view")
    serve_daemon = _load_entry_point("hlmon.serve", "start_daemon_for_tabs", "the web view")
    daemon = serve_daemon(settings, merged)
    try:
        code = run_serve(merged, host=host, port=port, public_url=public_url)
    except KeyboardInterrupt:
        code = 130
    finally:
        if daemon is not None:  # the one serve started: stopped with it
            daemon.terminate()
            daemon.wait(10)
    sys.exit(code)


@main.command("daemon")
@_shared_options("daemon")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Unix socket to listen on [default: daemon-NETWORK.sock in the user runtime dir].",
)
@click.option(
    "--tcp-port",
    type=click.IntRange(0, 65535),
    help="Also listen on this TCP port (0: any free one); every request then needs the token.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for --tcp-port.")
@click.option("--token", help="Token for the TCP listener (default: a new one, saved 0600).")
@click.option(
    "--max-users",
    type=click.IntRange(1, 15),
    default=10,
    show_default=True,
    help="Unique users tracked at most (the exchange documents 10; its text says 15).",
)
@click.option(
    "--rest-budget",
    type=click.IntRange(1, 1200),
    default=1000,
    show_default=True,
    help="REST weight per minute for the whole host (the exchange allows 1200 per IP).",
)
@click.option(
    "--resume-window",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a client that dropped keeps its subscriptions and missed events.",
)
@click.option("--nats", "nats_url", metavar="URL", help="Also publish to NATS (hlmon[nats]).")
@click.option("--nats-token", envvar="HLMON_NATS_TOKEN", show_envvar=True, help="NATS token.")
@click.pass_context
def daemon_cmd(
    ctx: click.Context,
    /,
    socket_path: Path | None,
    tcp_port: int | None,
    host: str,
    token: str | None,
    max_users: int,
    rest_budget: int,
    resume_window: float,
    nats_url: str | None,
    nats_token: str | None,
    **opts: Any,
) -> NoReturn:
    """Own the exchange connections for every hlmon on this host (and any Hyperliquid client).

    Speaks the exchange's protocol (/ws and POST /info) on a private Unix socket; `hlmon`,
    `hlmon serve` and `hlmon snapshot` use it automatically. Identical subscriptions share one
    upstream subscription, /info is answered from a shared cache inside one REST budget, and
    the exchange's per-IP limits are enforced for all clients together. GET /_daemon/status
    shows the upstream state, the feeds and each client's subscriptions and REST weight. It
    never needs or accepts a key.
    """
    settings = _settings(_merge_shared(ctx.obj or {}, opts))
    if token is not None and redact(token) != token:
        raise HlmonError("--token: that looks like a private key; use a random token")
    if tcp_port is not None:
        _warn_exposed(host, "the daemon's TCP listener (token required)")
    run_daemon = _load_entry_point("hlmon.daemon.standalone", "run_daemon", "the daemon")
    try:
        code = run_daemon(
            settings,
            socket_path=socket_path,
            tcp_host=host,
            tcp_port=tcp_port,
            token=token,
            max_users=max_users,
            rest_budget=rest_budget,
            resume_window=resume_window,
            nats_url=nats_url,
            nats_token=nats_token or None,
        )
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
