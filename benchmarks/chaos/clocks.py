"""The two clocks a chaos run steers: the store's (stepped like an NTP step) and the
simulator's (frozen for the final comparison)."""

from __future__ import annotations

import time


class JumpClock:
    """The store's clock: wall time plus an offset the script steps (an NTP step)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def jump(self, seconds: float) -> None:
        self.offset += seconds


class FreezableSimClock:
    """The simulator's clock (ms): wall time until ``freeze``; then it stands still, so the
    market, the account and the truth stop moving for the final comparison."""

    def __init__(self) -> None:
        self.frozen: int | None = None

    def __call__(self) -> int:
        return self.frozen if self.frozen is not None else int(time.time() * 1000)

    def freeze(self) -> None:
        self.frozen = self()
