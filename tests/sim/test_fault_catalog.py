"""The ``/_sim`` controls are documented from one table, and bad requests are answered with it.

Every control a live simulator routes has a row in ``hlmon.sim.fault_catalog.CONTROLS`` with
the method's own parameter names and defaults; ``hlmon sim --help`` lists every row; an
unknown name or a bad parameter answers 400 with the valid controls, over real HTTP.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner

from hlmon.cli import main
from hlmon.sim import SimServer
from hlmon.sim.control import FAULT_NAMES, SCENARIO_NAMES, undocumented
from hlmon.sim.fault_catalog import CONTROLS


def test_every_routed_control_is_documented_with_its_real_parameters(sim: SimServer) -> None:
    routes = sim.control_routes
    assert routes is not None
    assert set(routes.actions) == {c.name for c in CONTROLS}
    assert undocumented(routes.actions) == []
    assert "drop_all" in FAULT_NAMES and "advance" in SCENARIO_NAMES


def test_a_drifted_row_is_caught() -> None:
    """The check fails when a method's parameters differ from its row (so it can fail)."""

    def stall(seconds: float = 5.0) -> None: ...

    def extra(x: int) -> None: ...

    problems = undocumented({"stall": stall, "extra": extra})
    assert any(p.startswith("stall: takes") for p in problems)
    assert "extra: not in the catalog" in problems
    assert "drop_all: no such control" in problems


def test_sim_help_lists_every_control_and_its_parameters() -> None:
    result = CliRunner().invoke(main, ["sim", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the help wraps long lines
    for control in CONTROLS:
        assert control.usage in text, control.name
        for param in control.params:
            assert f"{param.name}: {param.meaning}" in text, (control.name, param.name)


async def test_unknown_control_answers_400_with_the_list(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/_sim/drop", json={})
        assert r.status_code == 400
        body = r.json()
        assert "unknown fault or scenario 'drop'" in body["error"]
        controls = body["controls"]
        assert set(controls) == {c.name for c in CONTROLS}
        assert controls["stall"]["usage"] == "stall(seconds=None)"
        assert controls["info_status"]["params"]["status"]["default"] == "429"
        assert controls["twap"]["kind"] == "scenario"


async def test_bad_parameters_answer_400_with_that_controls_usage(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        r = await client.post("/_sim/stall", json={"secs": 5})
        assert r.status_code == 400
        assert r.json()["error"].startswith("stall(seconds=None): ")
        assert list(r.json()["controls"]) == ["stall"]
        r = await client.post("/_sim/latency", json={})  # ms is required
        assert r.status_code == 400 and "latency(ms)" in r.json()["error"]
        r = await client.post("/_sim/advance", json={"seconds": "3600"})  # a string, not time
        assert r.status_code == 400 and "seconds: expected number" in r.json()["error"]
        r = await client.post("/_sim/stall", content=b"[1]")
        assert r.status_code == 400 and r.json()["error"] == "body must be a JSON object"
        assert not sim.faults.stalled  # nothing ran
        before = sim.now_ms()
        r = await client.post("/_sim/advance", json={"seconds": 2})
        assert r.status_code == 200 and r.json()["ok"]
        assert sim.now_ms() - before >= 2000
        r = await client.post("/_sim/stall", json={"seconds": None})
        assert r.status_code == 200 and sim.faults.stalled


def test_readme_lists_every_control() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [c.usage for c in CONTROLS if f"`{c.usage}`" not in readme]
    assert not missing, f"README's simulator section lacks {missing}"
