"""The shared command-line flags, declared once.

:data:`SHARED_FLAGS` is the one table from which the CLI builds its options (``hlmon.cli``), the
settings overrides are read (:func:`settings_overrides`, :data:`FLAG_NAMES` for messages) and
``hlmon serve`` rebuilds the app's command line (:func:`app_argv`). Each flag names the
commands it applies to (``--fps`` and ``--theme`` only where there is a screen), and its
default is read from :class:`~hlmon.config.settings.Settings`, never written by hand.

Pure data: no click here (the CLI turns each row into a click option).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hlmon.config.settings import Settings
from hlmon.config.validators import DEMO_ACCOUNTS, NETWORK_URLS, parse_coins

Command = Literal["tui", "snapshot", "record", "serve", "daemon"]
"""Commands that take shared flags: the TUI (``hlmon`` alone), ``snapshot``, ``record``,
``serve`` (which passes them on to the TUI it serves) and ``daemon`` (only what names the
exchange it connects to)."""
EVERY_COMMAND: frozenset[Command] = frozenset(("tui", "snapshot", "record", "serve"))
WITH_SCREEN: frozenset[Command] = frozenset(("tui", "serve"))
"""Commands that draw a screen: only they take the screen's flags (``--fps``, ``--theme``)."""
WITH_DAEMON: frozenset[Command] = EVERY_COMMAND | {"daemon"}
"""Flags that name the exchange: the daemon takes them too."""
VIA_DAEMON: frozenset[Command] = frozenset(("tui", "snapshot", "serve"))
"""Commands that go through a running ``hlmon daemon`` (``record`` always connects directly:
a recording holds what the exchange sent)."""


def _direct_settings(given: Any) -> dict[str, Any]:
    # Not given: leave ``daemon`` to --via (listed before it), which sets it or not.
    return {"daemon": "off"} if given else {}


Kind = Literal["path", "text", "choice", "number", "texts", "switch"]
"""``texts``: repeatable; ``switch``: a flag without value."""


def _address_settings(given: Any) -> dict[str, Any]:
    # --address A (backwards compatible: select A), or --address A --address B / A,B: watch
    # exactly these, A selected.
    items = [given] if isinstance(given, str) else list(given or ())
    addresses = parse_coins(",".join(items))
    return {
        "address": addresses[0] if addresses else None,
        "addresses": addresses if len(addresses) > 1 else None,
    }


@dataclass(frozen=True)
class SharedFlag:
    """One flag shared by several commands."""

    name: str
    """The flag as typed, e.g. ``--fps``."""
    dest: str
    """Its key in the parsed options, e.g. ``fps``, ``no_ws``, ``config_path``."""
    help: str
    """What it does; the default is appended from Settings, never written here."""
    settings: tuple[str, ...] = ()
    """The Settings fields it sets (none for ``--config``)."""
    kind: Kind = "text"
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    """For ``choice`` flags."""
    switch_sets: bool = True
    """For ``switch`` flags: the value the setting gets when the flag is given."""
    to_settings: Callable[[Any], dict[str, Any]] | None = None
    """For flags that set several settings at once (``--address``)."""
    show_default: bool = False
    """Append ``[default: X]`` with X the Settings default of ``settings[0]``."""
    commands: frozenset[Command] = EVERY_COMMAND


SHARED_FLAGS: tuple[SharedFlag, ...] = (
    SharedFlag(
        "--config",
        "config_path",
        "Config file (default: $HLMON_CONFIG, ./config.toml, then the user config dir).",
        kind="path",
        commands=WITH_DAEMON,
    ),
    SharedFlag(
        "--network",
        "network",
        "Network to watch.",
        ("network",),
        kind="choice",
        choices=tuple(NETWORK_URLS),
        show_default=True,
        commands=WITH_DAEMON,
    ),
    SharedFlag(
        "--api-url",
        "api_url",
        "Custom API base URL (https; http only on loopback). Implies a custom network.",
        ("api_url",),
        metavar="URL",
        commands=WITH_DAEMON,
    ),
    SharedFlag(
        "--address",
        "address",
        "Public 0x address to watch (never a key); repeat or comma-separate to watch up to 10 "
        "(max_users), the first selected.",
        ("address", "addresses"),
        kind="texts",
        metavar="ADDR",
        to_settings=_address_settings,
    ),
    SharedFlag(
        "--coins",
        "coins",
        'Watchlist, e.g. "BTC,ETH,kPEPE".',
        ("watchlist",),
        metavar="COINS",
        show_default=True,
    ),
    SharedFlag("--demo", "demo", "Run against the built-in simulator.", ("demo",), kind="switch"),
    SharedFlag(
        "--demo-account",
        "demo_account",
        "With --demo: the demo account's mode (unified and portfolio keep the collateral in spot).",
        ("demo_account",),
        kind="choice",
        choices=DEMO_ACCOUNTS,
        show_default=True,
    ),
    SharedFlag(
        "--no-ws",
        "no_ws",
        "REST polling only, no websocket.",
        ("use_websocket",),
        kind="switch",
        switch_sets=False,
    ),
    SharedFlag(
        "--via",
        "via",
        "Connect through the `hlmon daemon` at this socket path or URL, or nats://HOST:PORT "
        "where one publishes (without it: through a running one for the network, else "
        "directly).",
        ("daemon",),
        metavar="PATH|URL",
        commands=VIA_DAEMON,
    ),
    SharedFlag(
        "--direct",
        "direct",
        "Connect to the exchange directly, even when an `hlmon daemon` runs.",
        ("daemon",),
        kind="switch",
        to_settings=_direct_settings,
        commands=VIA_DAEMON,
    ),
    SharedFlag(
        "--fps",
        "fps",
        "UI refresh rate, 1..60.",
        ("fps",),
        kind="number",
        show_default=True,
        commands=WITH_SCREEN,
    ),
    SharedFlag(
        "--theme",
        "theme",
        "Textual theme name.",
        ("theme",),
        metavar="NAME",
        show_default=True,
        commands=WITH_SCREEN,
    ),
)

FLAG_NAMES: dict[str, str] = {}
"""Setting -> the flag that sets it (the first listed), to name the flag in error messages."""
for _flag in SHARED_FLAGS:
    for _setting in _flag.settings:
        FLAG_NAMES.setdefault(_setting, _flag.name)


def flags_for(command: Command) -> tuple[SharedFlag, ...]:
    """The shared flags ``command`` takes, in table order."""
    return tuple(flag for flag in SHARED_FLAGS if command in flag.commands)


def default_text(flag: SharedFlag) -> str | None:
    """The Settings default of the flag's setting as the user would type it, or None."""
    if not flag.show_default:
        return None
    value = getattr(Settings(), flag.settings[0])
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def help_text(flag: SharedFlag) -> str:
    """The flag's help with its default (click's own ``[default: X]`` style)."""
    default = default_text(flag)
    return flag.help if default is None else f"{flag.help}  [default: {default}]"


def is_given(value: Any) -> bool:
    """A parsed option counts as given unless None, False (a switch) or () (repeatable)."""
    return value is not None and value is not False and value != ()


def misplaced(opts: Mapping[str, Any], command: str) -> list[str]:
    """The shared flags given in ``opts`` that ``command`` does not take (any name)."""
    return [
        flag.name
        for flag in SHARED_FLAGS
        if command not in flag.commands and is_given(opts.get(flag.dest))
    ]


def settings_overrides(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Settings overrides (for ``load_settings``) from parsed options keyed by ``dest``.

    A flag not given maps to None ("not given"), never to its opposite, so it cannot override
    the config file.
    """
    out: dict[str, Any] = {}
    for flag in SHARED_FLAGS:
        if not flag.settings:
            continue
        value = opts.get(flag.dest)
        if flag.to_settings is not None:
            out.update(flag.to_settings(value))
        elif flag.kind == "switch":
            out[flag.settings[0]] = flag.switch_sets if value else None
        else:
            out[flag.settings[0]] = value
    return out


def _values(value: Any) -> Iterable[Any]:
    return [value] if isinstance(value, str) else list(value or ())


def app_argv(opts: Mapping[str, Any]) -> list[str]:
    """The TUI's flags for the options in ``opts`` (as the CLI parsed them), in table order."""
    argv: list[str] = []
    for flag in flags_for("tui"):
        value = opts.get(flag.dest)
        if flag.kind == "switch":
            argv += [flag.name] if value else []
        elif flag.kind == "texts":
            for item in _values(value):
                argv += [flag.name, str(item)]
        elif value is not None:
            if flag.kind == "path":
                value = Path(value).expanduser().absolute()  # the app may start elsewhere
            argv += [flag.name, str(value)]
    return argv
