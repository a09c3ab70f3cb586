"""hlmon's import graph read with ``ast``, and the layer rules it must follow.

Every import counts: module level, inside functions, under ``TYPE_CHECKING`` and
``importlib.import_module("literal")``; a cycle hidden by a lazy import is still a cycle.
Nothing is imported to build the graph, so a broken module cannot hide an edge.

The order, bottom first (a module may import its own layer and any lower tier; the layers
of one tier are siblings that never import each other)::

    protocol -> state -> (alerts | feeds) -> config -> daemon -> runtime -> (ui | commands) -> cli

``commands`` are the top-level command modules (``snapshot``, ``record``, ``serve``): like
the UI, each runs the assembled stack for one command, and only ``cli`` calls them.
``sim`` and ``replay`` sit beside the stack: they may import ``protocol`` and ``state``,
and only ``runtime``, the commands and ``cli`` import them. A top-level module that imports
nothing from hlmon (``listen``, ``shutdown``, the package root) is a ``leaf``: anyone may
import it. ``daemon`` (``hlmon daemon``, one set of exchange connections per host) builds on
the feeds and config; the runtime imports it only to find a running daemon. ``config`` and
``runtime`` may each be a module or a package.

``python -m tests.import_graph`` prints the edges between layers (for a closing note).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

HLMON_DIR = Path(__file__).resolve().parents[1] / "hlmon"

TIERS: tuple[tuple[str, ...], ...] = (
    ("protocol",),
    ("state",),
    ("alerts", "feeds"),
    ("config",),
    ("daemon",),
    ("runtime",),
    ("ui", "commands"),
    ("cli",),
)
COMMANDS = frozenset({"snapshot", "record", "serve"})
BESIDE = frozenset({"sim", "replay"})
BESIDE_MAY_IMPORT = frozenset({"protocol", "state"})
MAY_IMPORT_BESIDE = frozenset({"runtime", "commands", "cli"})
LEAF = "leaf"

# Edges forbidden on top of the order: (importer prefix, imported prefix) -> why.
FORBIDDEN_EDGES: Mapping[tuple[str, str], str] = {
    ("hlmon.ui", "hlmon.feeds.engine"): "the UI drives the engine through its controls protocol",
}

TIER_OF: Mapping[str, int] = {layer: i for i, tier in enumerate(TIERS) for layer in tier}

Graph = dict[str, set[str]]


@dataclass(frozen=True, order=True)
class Violation:
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}: {self.rule}"


def module_names(root: Path) -> dict[str, Path]:
    """Every module under the package directory ``root``, by dotted name."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(target: str, known: Mapping[str, Path]) -> str | None:
    """The longest known module that ``target`` names (``a.b.attr`` -> ``a.b``)."""
    parts = target.split(".")
    while parts:
        name = ".".join(parts)
        if name in known:
            return name
        parts.pop()
    return None


def _imports_of(module: str, path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if _is_package(path) else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                # ``from pkg import sub`` imports the submodule when there is one.
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in known else base
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first.value


def _is_dynamic_import(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__")


def all_imports(root: Path = HLMON_DIR) -> Graph:
    """module -> every dotted name it imports, inside the package or not."""
    known = module_names(root)
    return {module: set(_imports_of(module, path, known)) for module, path in known.items()}


def build_graph(root: Path = HLMON_DIR) -> Graph:
    """module -> the package modules it imports (self-imports dropped)."""
    known = module_names(root)
    graph: Graph = {}
    for module, names in all_imports(root).items():
        edges = {_resolve(name, known) for name in names}
        graph[module] = {e for e in edges if e is not None and e != module}
    return graph


def layer_of(module: str, graph: Mapping[str, set[str]]) -> str | None:
    """The layer ``module`` belongs to, or None when it has not been placed."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in TIER_OF or top in BESIDE:
        return top
    if top in COMMANDS:
        return "commands"
    if top == "__main__":
        return "cli"
    if len(parts) <= 2 and _only_leaves(module, graph, frozenset()):
        return LEAF
    return None


def _only_leaves(module: str, graph: Mapping[str, set[str]], seen: frozenset[str]) -> bool:
    """A top-level module is a leaf when everything it imports from hlmon is a leaf too
    (``settable`` builds on ``keyguard``); an import cycle is never a leaf."""
    if module in seen or len(module.split(".")) > 2:
        return False
    top = module.split(".")[-1] if "." in module else ""
    if top in TIER_OF or top in BESIDE or top in COMMANDS:
        return False
    return all(_only_leaves(dep, graph, seen | {module}) for dep in graph.get(module, ()))


def _rule_broken(src: str, dst: str) -> str | None:
    """Why a module of layer ``src`` may not import one of layer ``dst`` (None: it may)."""
    if src == dst or dst == LEAF:
        return None
    if src == LEAF:
        return "a leaf imports nothing from hlmon"
    if src in BESIDE:
        if dst in BESIDE_MAY_IMPORT:
            return None
        return f"{src} sits beside the stack: it may import only {sorted(BESIDE_MAY_IMPORT)}"
    if dst in BESIDE:
        if src in MAY_IMPORT_BESIDE:
            return None
        return f"only {sorted(MAY_IMPORT_BESIDE)} import {dst}"
    if TIER_OF[dst] < TIER_OF[src]:
        return None
    if TIER_OF[dst] == TIER_OF[src]:
        return f"{src} and {dst} are siblings: neither imports the other"
    return f"{src} is below {dst} in the layer order"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(graph: Mapping[str, set[str]]) -> set[Violation]:
    """Every edge that breaks the order or a forbidden edge (unplaced modules excluded)."""
    out: set[Violation] = set()
    for importer, imported in sorted(graph.items()):
        src = layer_of(importer, graph)
        for target in sorted(imported):
            dst = layer_of(target, graph)
            if src is None or dst is None:
                continue
            rule = _rule_broken(src, dst)
            if rule is not None:
                out.add(Violation(importer, target, rule))
            for (a, b), why in FORBIDDEN_EDGES.items():
                if _under(importer, a) and _under(target, b):
                    out.add(Violation(importer, target, f"forbidden: {why}"))
    return out


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def layer_edges(graph: Mapping[str, set[str]]) -> dict[tuple[str, str], int]:
    """How many module edges join each pair of different layers."""
    out: dict[tuple[str, str], int] = {}
    for importer, imported in graph.items():
        src = layer_of(importer, graph) or f"? {importer}"
        for target in imported:
            dst = layer_of(target, graph) or f"? {target}"
            if src != dst:
                out[(src, dst)] = out.get((src, dst), 0) + 1
    return out


if __name__ == "__main__":
    g = build_graph()
    for (src, dst), count in sorted(layer_edges(g).items()):
        print(f"{src:>9} -> {dst:<9} {count}")
    print()
    for v in sorted(violations(g)):
        print("violation:", v)
    for c in cycles(g):
        print("cycle:", " ".join(c))
