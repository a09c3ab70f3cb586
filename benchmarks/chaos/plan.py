"""The fault plans: what is thrown at the engine, in which (seeded) order."""

from __future__ import annotations

import random
from dataclasses import dataclass

BURST_FRAMES = 10_000
RECOVERY_DEADLINE = 20.0
"""A fault not recovered from within this many seconds counts as a failure."""


@dataclass(frozen=True)
class Fault:
    """One fault of the plan."""

    kind: str
    seconds: float = 0.0
    n: int = 0


def full_plan(seed: int) -> list[Fault]:
    """The ``make chaos`` plan: 50+ drop cycles and every other fault several times."""
    rng = random.Random(seed)
    plan: list[Fault] = []
    plan += [Fault("drop") for _ in range(36)]
    plan += [Fault("drop_refuse", seconds=round(rng.uniform(1.0, 3.0), 2)) for _ in range(14)]
    plan += [Fault("stall", seconds=round(rng.uniform(1.0, 2.5), 2)) for _ in range(8)]
    plan += [Fault("malformed", n=6) for _ in range(5)]
    plan += [Fault("error") for _ in range(5)]
    plan += [Fault("rest_429", n=6) for _ in range(3)]
    plan += [Fault("rest_500", n=6) for _ in range(3)]
    plan += [Fault("rest_hang", seconds=2.0) for _ in range(2)]
    plan += [Fault("latency", seconds=2.0, n=250) for _ in range(4)]
    plan += [Fault("burst", n=BURST_FRAMES)]
    plan += [Fault("clock_jump", seconds=120.0), Fault("clock_jump", seconds=-180.0)]
    rng.shuffle(plan)
    return plan


def small_plan(seed: int) -> list[Fault]:
    """The ``make test`` plan: every fault kind once (drops a few times), ~15-20 s."""
    rng = random.Random(seed)
    plan = [
        Fault("drop"),
        Fault("drop"),
        Fault("drop"),
        Fault("drop_refuse", seconds=1.0),
        Fault("stall", seconds=1.0),
        Fault("stall", seconds=1.5),
        Fault("malformed", n=6),
        Fault("error"),
        Fault("rest_429", n=4),
        Fault("rest_500", n=4),
        Fault("rest_hang", seconds=1.0),
        Fault("latency", seconds=1.0, n=200),
        Fault("burst", n=BURST_FRAMES),
        Fault("clock_jump", seconds=90.0),
        Fault("clock_jump", seconds=-120.0),
    ]
    rng.shuffle(plan)
    return plan
