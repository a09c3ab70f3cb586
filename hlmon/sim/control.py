"""The ``/_sim`` control routes (``fault_routes=True`` / ``hlmon sim --faults``).

``POST /_sim/<name>`` with a JSON object of keyword arguments runs one fault or scenario and
answers ``{"ok": true, "result": ..., "faults": {...}}``; ``GET /_sim/truth`` is the demo
account as the simulator knows it; ``GET /_sim/faults`` the fault switches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from hlmon.sim.faults import Faults

_ENCODER = msgspec.json.Encoder()

FAULT_NAMES = (
    "drop_all",
    "stall",
    "unstall",
    "send_malformed",
    "send_error",
    "info_status",
    "info_hang",
    "latency",
    "refuse_connections",
    "legacy_invalid_subscription",
    "clear",
)
"""``sim.faults`` methods reachable as ``POST /_sim/<name>``."""
SCENARIO_NAMES = (
    "force_fill",
    "trigger",
    "cancel_order",
    "liquidate",
    "twap",
    "deposit",
    "advance",
)
"""Demo-account scenarios reachable as ``POST /_sim/<name>`` (``advance`` moves time)."""


class ControlRoutes:
    """The ``/_sim`` handlers of one simulator: its fault switches, its scenarios (the
    ``SCENARIO_NAMES`` but ``advance``, by name), time control and truth."""

    def __init__(
        self,
        faults: Faults,
        scenarios: dict[str, Callable[..., Any]],
        advance: Callable[[float], Awaitable[None]],
        truth: Callable[[], dict[str, Any]],
    ) -> None:
        self.faults = faults
        self.advance = advance
        self.truth = truth
        self.actions: dict[str, Callable[..., Any]] = {n: getattr(faults, n) for n in FAULT_NAMES}
        self.actions.update(scenarios)

    def install(self, app: web.Application) -> None:
        app.router.add_post("/_sim/{name}", self.handle_action)
        app.router.add_get("/_sim/truth", self.handle_truth)
        app.router.add_get("/_sim/faults", self.handle_fault_state)

    async def handle_action(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        raw = await request.read()
        try:
            args = msgspec.json.decode(raw) if raw.strip() else {}
        except msgspec.DecodeError:
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        if not isinstance(args, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        result: Any = None
        try:
            if name == "advance":
                await self.advance(float(args.get("seconds", 0)))
            elif name in self.actions:
                result = self.actions[name](**args)
            else:
                return web.json_response({"error": f"unknown fault {name!r}"}, status=404)
        except (TypeError, ValueError, ArithmeticError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        body = {"ok": True, "result": result, "faults": self.faults.state()}
        return web.Response(body=_ENCODER.encode(body), content_type="application/json")

    async def handle_truth(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_ENCODER.encode(self.truth()), content_type="application/json")

    async def handle_fault_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.faults.state())
