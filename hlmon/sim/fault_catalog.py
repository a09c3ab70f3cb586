"""The one table of the simulator's ``/_sim`` controls: every fault and scenario, its parameters.

``hlmon sim --help``, the README's list, the ``/_sim`` routes (``hlmon.sim.control`` takes its
names from here) and the 400 answer to an unknown name or bad parameters are all read from
``CONTROLS``, so they cannot drift apart; ``tests/sim/test_fault_catalog.py`` checks every row
against the signature of the method it runs. This module imports nothing, so the CLI can show
the help without loading the simulator.

To add a control: a method on ``Faults`` (a fault) or a scenario in ``SimServer.start``, then a
row here with the same parameter names and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ControlKind = Literal["fault", "scenario"]


@dataclass(frozen=True)
class Param:
    """One keyword argument of a control (a key of the JSON object posted to it)."""

    name: str
    type: str
    """JSON type: ``number``, ``integer``, ``string``, ``boolean``, or ``decimal`` (a number
    or a string holding one)."""
    default: str | None
    """Shown as written in Python (``None``, ``429``, ``"1000"``); None: required."""
    meaning: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Control:
    """One ``POST /_sim/<name>`` control."""

    name: str
    kind: ControlKind
    summary: str
    params: tuple[Param, ...] = ()

    @property
    def usage(self) -> str:
        """``stall(seconds=None)``: the call as the help and the 400 answer show it."""
        args = [p.name if p.required else f"{p.name}={p.default}" for p in self.params]
        return f"{self.name}({', '.join(args)})"

    def describe(self) -> dict[str, object]:
        """The control as JSON (the 400 answer lists these)."""
        return {
            "kind": self.kind,
            "usage": self.usage,
            "summary": self.summary,
            "params": {
                p.name: {"type": p.type, "default": p.default, "meaning": p.meaning}
                for p in self.params
            },
        }


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "integer": (int,),
    "string": (str,),
    "boolean": (bool,),
    "decimal": (int, float, str),
}


def type_error(control: Control, args: dict[str, object]) -> str | None:
    """Why ``args`` has a value of the wrong JSON type for ``control``, or None (a parameter
    whose default is None may be null). Unknown or missing names are left to the call."""
    for p in control.params:
        if p.name not in args:
            continue
        value = args[p.name]
        if value is None and p.default == "None":
            continue
        ok = isinstance(value, _JSON_TYPES[p.type])
        if isinstance(value, bool) and p.type != "boolean":
            ok = False  # JSON true is not a number
        if not ok:
            return f"{p.name}: expected {p.type}, got {value!r}"
    return None


def _p(name: str, type_: str, default: str | None, meaning: str) -> Param:
    return Param(name, type_, default, meaning)


CONTROLS: tuple[Control, ...] = (
    # ---------------------------------------------------------------- faults (sim.faults)
    Control("drop_all", "fault", "abort every websocket now, without a close frame"),
    Control(
        "stall",
        "fault",
        "keep sockets open but send nothing (not even pongs)",
        (_p("seconds", "number", "None", "how long (None: until unstall or clear)"),),
    ),
    Control(
        "unstall",
        "fault",
        "end a stall; what clients sent meanwhile is answered, pushes resume with the next block",
    ),
    Control(
        "send_malformed",
        "fault",
        "send malformed frames (truncated JSON, non-JSON, wrong types) to every socket",
        (_p("n", "integer", "1", "how many frames"),),
    ),
    Control(
        "send_error",
        "fault",
        'send {"channel":"error","data":text} to every socket',
        (_p("text", "string", None, "the error text"),),
    ),
    Control(
        "info_status",
        "fault",
        "answer /info requests with an HTTP error status",
        (
            _p("status", "integer", "429", "the HTTP status"),
            _p("count", "integer", "None", "how many requests (None: all until clear)"),
        ),
    ),
    Control(
        "info_hang",
        "fault",
        "make every /info request wait before answering (clear releases them)",
        (_p("seconds", "number", None, "how long each request waits"),),
    ),
    Control(
        "latency",
        "fault",
        "delay every websocket frame and /info answer",
        (_p("ms", "number", None, "the delay in milliseconds"),),
    ),
    Control(
        "refuse_connections",
        "fault",
        "reject websocket upgrades with HTTP 503",
        (_p("seconds", "number", None, "for how long"),),
    ),
    Control(
        "legacy_invalid_subscription",
        "fault",
        "answer a subscription naming an unlisted coin with the older "
        "'Invalid subscription {...}' error frame and keep the socket (2026: the socket drops)",
        (_p("enabled", "boolean", "True", "set false to drop the socket again"),),
    ),
    Control("clear", "fault", "switch every fault off (hung /info requests are released)"),
    # ---------------------------------------------------------------- scenarios (demo account)
    Control(
        "force_fill",
        "scenario",
        "fill one resting demo order now",
        (
            _p("coin", "string", "None", 'its coin, e.g. "BTC", "xyz:TSLA", "@6" (None: any perp)'),
            _p("oid", "integer", "None", "that order"),
        ),
    ),
    Control(
        "trigger",
        "scenario",
        "move the mark across a Stop Limit order's trigger and trigger it",
        (_p("oid", "integer", "None", "that order (None: the oldest untriggered one)"),),
    ),
    Control(
        "cancel_order",
        "scenario",
        "cancel an open demo order",
        (_p("oid", "integer", None, "the order id"),),
    ),
    Control(
        "liquidate",
        "scenario",
        "liquidate a demo position",
        (_p("coin", "string", "None", "its coin (None: the default dex's first isolated one)"),),
    ),
    Control(
        "twap",
        "scenario",
        "start a demo TWAP order",
        (
            _p("coin", "string", None, "the coin"),
            _p("side", "string", None, '"B" (buy) or "A" (sell)'),
            _p("sz", "decimal", None, 'total size, e.g. "0.5"'),
            _p("minutes", "integer", "30", "duration"),
        ),
    ),
    Control(
        "deposit",
        "scenario",
        "credit a USDC deposit to the default dex",
        (_p("usdc", "decimal", '"1000"', "the amount"),),
    ),
    Control(
        "advance",
        "scenario",
        "move simulated time forward, running the blocks in between",
        (
            _p("seconds", "number", None, "how far"),
            _p("step_ms", "integer", "None", "block spacing (None: the profile's, widened)"),
        ),
    ),
)
"""Every ``/_sim`` control, faults first (``hlmon sim --help`` lists them in this order)."""

BY_NAME: dict[str, Control] = {c.name: c for c in CONTROLS}


def names(kind: ControlKind) -> tuple[str, ...]:
    """The names of one kind of control, in table order."""
    return tuple(c.name for c in CONTROLS if c.kind == kind)


def listing() -> dict[str, dict[str, object]]:
    """Every control as JSON, by name (the body of a 400 answer lists them)."""
    return {c.name: c.describe() for c in CONTROLS}


def help_rows(kind: ControlKind) -> list[tuple[str, str]]:
    """(usage, what it does and what each parameter means) for ``hlmon sim --help``."""
    rows = []
    for c in CONTROLS:
        if c.kind != kind:
            continue
        text = c.summary
        if c.params:
            text += "; " + "; ".join(f"{p.name}: {p.meaning}" for p in c.params)
        rows.append((c.usage, text))
    return rows
