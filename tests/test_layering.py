"""Import contracts (run by ``make lint``): the layer order, no cycles, light package roots.

The static rules live in ``tests/import_graph.py``; the load checks below run a fresh
interpreter, so they see what an import really pulls in.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.import_graph import (
    Violation,
    all_imports,
    build_graph,
    cycles,
    layer_of,
    reachable,
    violations,
)

# Edges that break the contracts on the tree as it stands, each listed exactly; issue #11
# removes them. The test also fails when one of them is gone, so the list only shrinks.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

# Edges that close an import cycle inside one layer, each listed exactly; the same rules apply.
KNOWN_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()

HEADLESS_NEVER = ("textual", "hlmon.ui")
# ``import X`` in a fresh interpreter must load none of these modules (or their submodules).
MUST_NOT_LOAD: dict[str, tuple[str, ...]] = {
    "hlmon": ("hlmon.protocol", "hlmon.state", "hlmon.feeds", "hlmon.config", "hlmon.sim"),
    "hlmon.protocol": (*HEADLESS_NEVER, "httpx", "websockets", "aiohttp", "hlmon.state"),
    "hlmon.state": (*HEADLESS_NEVER, "hlmon.config", "hlmon.alerts", "hlmon.feeds", "hlmon.sim"),
    "hlmon.alerts": (*HEADLESS_NEVER, "hlmon.config", "hlmon.feeds", "hlmon.sim"),
    "hlmon.feeds": (*HEADLESS_NEVER, "hlmon.feeds.engine", "hlmon.config", "hlmon.alerts"),
    "hlmon.sim": (*HEADLESS_NEVER, "hlmon.feeds", "hlmon.config", "hlmon.alerts"),
}
# What those imports load today that they must not, listed exactly like KNOWN_VIOLATIONS.
KNOWN_HEAVY_LOADS: dict[str, frozenset[str]] = {}

LOADED_MODULES = """
import importlib, sys
importlib.import_module(sys.argv[1])
print("\\n".join(sorted(sys.modules)))
"""


def test_every_module_has_a_layer() -> None:
    graph = build_graph()
    unplaced = sorted(m for m in graph if layer_of(m, graph) is None)
    assert not unplaced, (
        f"modules outside every layer: {unplaced}; place them in tests/import_graph.py "
        "(a top-level module that imports nothing from hlmon is a leaf by itself)"
    )


def test_imports_follow_the_layer_order() -> None:
    found = violations(build_graph())
    new = sorted(v for v in found if (v.importer, v.imported) not in KNOWN_VIOLATIONS)
    assert not new, "imports that break the layer order:\n" + "\n".join(map(str, new))


def test_known_violations_still_exist() -> None:
    """An allowlisted edge that is gone must leave the list, so the list only shrinks."""
    found = {(v.importer, v.imported) for v in violations(build_graph())}
    gone = sorted(KNOWN_VIOLATIONS - found)
    assert not gone, f"no longer violations, remove them from KNOWN_VIOLATIONS: {gone}"


def _without_known_edges() -> dict[str, set[str]]:
    graph = build_graph()
    for importer, imported in KNOWN_VIOLATIONS | KNOWN_CYCLE_EDGES:
        graph.get(importer, set()).discard(imported)
    return graph


def test_no_import_cycles() -> None:
    """Counting every import; only the edges allowlisted above are set aside."""
    assert cycles(_without_known_edges()) == []


def test_known_cycle_edges_still_close_a_cycle() -> None:
    full, rest = build_graph(), _without_known_edges()
    gone = sorted(
        (a, b)
        for a, b in KNOWN_CYCLE_EDGES
        if b not in full.get(a, set()) or a not in reachable(rest, b)
    )
    assert not gone, f"no longer close a cycle, remove them from KNOWN_CYCLE_EDGES: {gone}"


def test_hlmon_imports_no_test_only_dependency() -> None:
    """websockets, pytest and hypothesis are in the ``test`` extra only (pyproject.toml)."""
    test_only = ("websockets", "pytest", "hypothesis")
    found = sorted(
        (module, name)
        for module, names in all_imports().items()
        for name in names
        if name.split(".")[0] in test_only
    )
    assert not found, f"hlmon imports test-only packages: {found}"


@pytest.mark.parametrize("module", sorted(MUST_NOT_LOAD))
def test_import_loads_only_its_own_layers(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, module],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert module in loaded
    heavy = {
        prefix
        for prefix in MUST_NOT_LOAD[module]
        if any(m == prefix or m.startswith(prefix + ".") for m in loaded)
    }
    known = KNOWN_HEAVY_LOADS.get(module, frozenset())
    assert not heavy - known, f"import {module} loads {sorted(heavy - known)}"
    gone = sorted(known - heavy)
    assert not gone, f"import {module} no longer loads {gone}: remove them from KNOWN_HEAVY_LOADS"


# --- the checker itself: it must see the imports a lazy or typing-only import hides


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root / "hlmon"


def test_checker_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "hlmon/__init__.py": "",
            "hlmon/state/__init__.py": "from .store import Store\n",
            "hlmon/state/store.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from hlmon.alerts.rules import Rule
                def load():
                    from hlmon import config
            """,
            "hlmon/alerts/__init__.py": "",
            "hlmon/alerts/rules.py": "from ..state import store\n",
            "hlmon/config.py": "import importlib\nimportlib.import_module('hlmon.ui.app')\n",
            "hlmon/ui/__init__.py": "",
            "hlmon/ui/app.py": "from hlmon.feeds import engine\nimport hlmon.sim.server\n",
            "hlmon/feeds/__init__.py": "",
            "hlmon/feeds/engine.py": "",
            "hlmon/sim/__init__.py": "",
            "hlmon/sim/server.py": "",
        },
    )
    graph = build_graph(package)
    assert graph["hlmon.state.store"] == {"hlmon.alerts.rules", "hlmon.config"}
    assert graph["hlmon.alerts.rules"] == {"hlmon.state.store"}
    assert graph["hlmon.config"] == {"hlmon.ui.app"}
    assert cycles(graph) == [["hlmon.alerts.rules", "hlmon.state.store"]]
    edges = {(v.importer, v.imported) for v in violations(graph)}
    assert edges == {
        ("hlmon.state.store", "hlmon.alerts.rules"),
        ("hlmon.state.store", "hlmon.config"),
        ("hlmon.config", "hlmon.ui.app"),
        ("hlmon.ui.app", "hlmon.feeds.engine"),
        ("hlmon.ui.app", "hlmon.sim.server"),
    }


def test_checker_accepts_config_and_runtime_as_packages(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "hlmon/__init__.py": "",
            "hlmon/listen.py": "import socket\n",
            "hlmon/config/__init__.py": "from hlmon.config.settings import Settings\n",
            "hlmon/config/settings.py": "from hlmon.state import thresholds\n",
            "hlmon/state/__init__.py": "",
            "hlmon/state/thresholds.py": "",
            "hlmon/runtime/__init__.py": "from hlmon.config import Settings\nimport hlmon.sim\n",
            "hlmon/sim/__init__.py": "from hlmon import listen\n",
            "hlmon/snapshot.py": "from hlmon.runtime import run\n",
            "hlmon/alerts/__init__.py": "from hlmon.feeds import x\n",
            "hlmon/feeds/__init__.py": "",
        },
    )
    graph = build_graph(package)
    assert layer_of("hlmon.config.settings", graph) == "config"
    assert layer_of("hlmon.listen", graph) == "leaf"
    assert layer_of("hlmon.snapshot", graph) == "commands"
    assert violations(graph) == {
        Violation(
            "hlmon.alerts",
            "hlmon.feeds",
            "alerts and feeds are siblings: neither imports the other",
        )
    }
