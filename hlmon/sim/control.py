"""The ``/_sim`` control routes (``fault_routes=True`` / ``hlmon sim --faults``).

``POST /_sim/<name>`` with a JSON object of keyword arguments runs one fault or scenario and
answers ``{"ok": true, "result": ..., "faults": {...}}``; ``GET /_sim/truth`` is the demo
account as the simulator knows it; ``GET /_sim/faults`` the fault switches. The names and their
parameters are ``hlmon.sim.fault_catalog.CONTROLS``: an unknown name, or parameters the control
does not take, answer 400 with that list (``controls``) so a caller can correct itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from hlmon.sim import fault_catalog
from hlmon.sim.fault_catalog import BY_NAME, listing, type_error
from hlmon.sim.faults import Faults

_ENCODER = msgspec.json.Encoder()

FAULT_NAMES = fault_catalog.names("fault")
"""``sim.faults`` methods reachable as ``POST /_sim/<name>``."""
SCENARIO_NAMES = fault_catalog.names("scenario")
"""Demo-account scenarios reachable as ``POST /_sim/<name>`` (``advance`` moves time)."""


def undocumented(actions: Mapping[str, Callable[..., Any]]) -> list[str]:
    """What differs between ``actions`` and the catalog: a control without a row, a row
    without a control, a parameter or default that is not the method's (empty: they agree)."""
    problems = [f"{name}: not in the catalog" for name in actions if name not in BY_NAME]
    problems += [f"{name}: no such control" for name in BY_NAME if name not in actions]
    for name, call in actions.items():
        control = BY_NAME.get(name)
        if control is None:
            continue
        params = inspect.signature(call).parameters.values()
        real = [
            (p.name, None if p.default is inspect.Parameter.empty else repr(p.default))
            for p in params
        ]
        documented = [(p.name, p.default.replace('"', "'") if p.default else None)
                      for p in control.params]  # fmt: skip
        if real != documented:
            problems.append(f"{name}: takes {real}, the catalog says {documented}")
    return problems


class ControlRoutes:
    """The ``/_sim`` handlers of one simulator: its fault switches, its scenarios (by name),
    time control (``advance``) and truth."""

    def __init__(
        self,
        faults: Faults,
        scenarios: dict[str, Callable[..., Any]],
        advance: Callable[..., Awaitable[None]],
        truth: Callable[[], dict[str, Any]],
    ) -> None:
        self.faults = faults
        self.advance = advance
        self.truth = truth
        self.actions: dict[str, Callable[..., Any]] = {n: getattr(faults, n) for n in FAULT_NAMES}
        """Every control by name (``advance`` is awaited)."""
        self.actions.update(scenarios)
        self.actions["advance"] = advance

    def install(self, app: web.Application) -> None:
        app.router.add_post("/_sim/{name}", self.handle_action)
        app.router.add_get("/_sim/truth", self.handle_truth)
        app.router.add_get("/_sim/faults", self.handle_fault_state)

    async def handle_action(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        action = self.actions.get(name)
        if action is None:
            return _refused(f"unknown fault or scenario {name!r}")
        raw = await request.read()
        try:
            args = msgspec.json.decode(raw) if raw.strip() else {}
        except msgspec.DecodeError:
            return _refused("body must be a JSON object", name)
        if not isinstance(args, dict):
            return _refused("body must be a JSON object", name)
        usage = BY_NAME[name].usage
        try:
            inspect.signature(action).bind(**args)
        except TypeError as exc:  # a missing or unknown parameter: say which ones it takes
            return _refused(f"{usage}: {exc}", name)
        wrong = type_error(BY_NAME[name], args)
        if wrong is not None:  # e.g. "5" seconds would repeat a string, not wait
            return _refused(f"{usage}: {wrong}", name)
        try:
            result = action(**args)
            if inspect.isawaitable(result):
                result = await result
        except (TypeError, ValueError, ArithmeticError) as exc:
            return _refused(f"{usage}: {exc}", name)
        body = {"ok": True, "result": result, "faults": self.faults.state()}
        return web.Response(body=_ENCODER.encode(body), content_type="application/json")

    async def handle_truth(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_ENCODER.encode(self.truth()), content_type="application/json")

    async def handle_fault_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.faults.state())


def _refused(error: str, name: str | None = None) -> web.StreamResponse:
    """400 with the error and what is valid: that control's parameters, or every control."""
    controls = {name: BY_NAME[name].describe()} if name is not None else listing()
    return web.json_response({"error": error, "controls": controls}, status=400)
