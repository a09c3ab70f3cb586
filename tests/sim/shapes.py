"""Structural comparison of a simulator response with recorded exchange payloads."""

from __future__ import annotations

from typing import Any


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "object"


OPTIONAL_KEYS = {"isSnapshot"}
"""Keys the exchange sends only on some frames (first frame of a snapshot feed)."""
MAP_PATHS = {"$", "$.data.mids"}
"""Objects keyed by data (coin -> mid) rather than by field name, when they hold only strings."""


def _is_map(value: Any) -> bool:
    return (
        isinstance(value, dict) and bool(value) and all(isinstance(v, str) for v in value.values())
    )


def covers(sim: Any, recorded: Any, path: str = "$") -> list[str]:
    """Differences where ``sim`` lacks a key of ``recorded`` or has another JSON type.

    Nulls match anything (optional fields); lists compare their first elements; tuples such as
    ``[meta, ctxs]`` compare element-wise when both have the same small length.
    """
    if recorded is None or sim is None:
        return []
    ks, kr = _kind(sim), _kind(recorded)
    if ks != kr:
        return [f"{path}: sim {ks} vs recorded {kr}"]
    if kr == "object" and path in MAP_PATHS and _is_map(recorded):
        return [] if _is_map(sim) else [f"{path}: sim is not a coin map"]
    if kr == "object":
        problems = []
        for key, value in recorded.items():
            if key not in sim:
                if key in OPTIONAL_KEYS:
                    continue
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(covers(sim[key], value, f"{path}.{key}"))
        return problems
    if kr == "list":
        if not sim or not recorded:
            return []
        if len(recorded) == len(sim) == 2 and _kind(recorded[0]) != _kind(recorded[1]):
            return covers(sim[0], recorded[0], f"{path}[0]") + covers(
                sim[1], recorded[1], f"{path}[1]"
            )
        return covers(sim[0], recorded[0], f"{path}[0]")
    return []


def best_match(sim: Any, samples: list[Any]) -> list[str]:
    """Differences against the closest recorded sample (empty list: some sample is covered)."""
    results = [covers(sim, s) for s in samples]
    return min(results, key=len) if results else ["no samples"]
