"""REST ``portfolio`` of the demo account: sparse equity and PnL history per period.

Eight periods in the exchange's order (``day``, ``week``, ``month``, ``allTime``, then the same
four for perps alone). Each is a grid of ``[ms, "value"]`` samples a couple of hours apart (the
exchange's day has 13 points about 2 h 20 min apart) starting no earlier than the first deposit,
plus a last sample at ``now`` holding the account's equity right now; so the history ends where
the state feeds are. Between the first deposit and now the curve is a smooth path with a
deterministic wobble (the same ``t`` always gives the same value). ``pnlHistory`` is the equity
less the net deposits since the period began; ``vlm`` the traded notional of the period's fills.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlmon.sim.numbers import fmt_decimal

if TYPE_CHECKING:
    from hlmon.sim.account_state import AccountState

DAY_MS = 86_400_000
PERIODS: tuple[tuple[str, int, int], ...] = (
    ("day", DAY_MS, 13),
    ("week", 7 * DAY_MS, 64),
    ("month", 30 * DAY_MS, 45),
    ("allTime", 0, 76),
)
"""Name, span (0: since the first deposit) and number of samples of each period."""
VALUE_QUANTUM = Decimal("0.000001")


def _wobble(seed: int, t: int) -> float:
    """A deterministic value in [-1, 1] for time ``t``."""
    return math.sin(t / 9_700_000 + seed) * 0.6 + math.sin(t / 2_300_000 + 2 * seed) * 0.4


def _deposits(acc: AccountState) -> list[tuple[int, Decimal]]:
    """(time, USDC) of each deposit, oldest first."""
    out = []
    for item in acc.ledger:
        delta = item["delta"]
        if delta.get("type") == "deposit":
            out.append((item["time"], Decimal(delta["usdc"])))
    return sorted(out)


def _series(
    acc: AccountState, now: int, start: int, first: int, n: int, equity: Decimal, perp: bool
) -> dict[str, Any]:
    deposits = _deposits(acc)
    funded = sum((d for _, d in deposits), Decimal(0))
    begin = max(start, first)
    step = max(1, (now - begin) // max(1, n - 1))
    times = [*range(begin, now, step)][: n - 1]
    times.append(now)

    def deposited(t: int) -> Decimal:
        return sum((d for at, d in deposits if at <= t), Decimal(0))

    def value(t: int) -> Decimal:
        if t >= now:
            return equity
        frac = Decimal((t - first) / max(1, now - first))
        base = deposited(t) + (equity - funded) * frac
        swing = Decimal(_wobble(acc.market.seed + (7 if perp else 0), t)) * funded / 400
        return base + swing * frac

    values = [value(t) for t in times]
    v0, d0 = values[0], deposited(times[0])
    vlm = sum(
        (
            Decimal(f["px"]) * Decimal(f["sz"])
            for f in acc.fills
            if begin <= f["time"] <= now and (not perp or not _is_spot(acc, f["coin"]))
        ),
        Decimal(0),
    )
    return {
        "accountValueHistory": [[t, fmt_decimal(v)] for t, v in zip(times, values, strict=True)],
        "pnlHistory": [
            [t, fmt_decimal(v - v0 - (deposited(t) - d0))]
            for t, v in zip(times, values, strict=True)
        ],
        "vlm": fmt_decimal(vlm, Decimal("0.01")),
    }


def _is_spot(acc: AccountState, coin: str) -> bool:
    spec = acc.market.universe.get(coin)
    return spec is not None and spec.is_spot


def portfolio(acc: AccountState) -> list[list[Any]]:
    """The ``portfolio`` answer of the demo account."""
    now = acc.market.now
    total, perp = acc.equity_usd()
    deposits = _deposits(acc)
    first = deposits[0][0] if deposits else now
    out: list[list[Any]] = []
    for prefix, equity, is_perp in (("", total, False), ("perp", perp, True)):
        for name, span, n in PERIODS:
            start = first if span == 0 else now - span
            key = prefix + (name[0].upper() + name[1:] if prefix else name)
            out.append([key, _series(acc, now, start, first, n, equity, is_perp)])
    return out


def empty_portfolio() -> list[list[Any]]:
    """The ``portfolio`` answer of an address with no history."""
    empty: dict[str, Any] = {"accountValueHistory": [], "pnlHistory": [], "vlm": "0.0"}
    return [
        [prefix + (name[0].upper() + name[1:] if prefix else name), dict(empty)]
        for prefix in ("", "perp")
        for name, _, _ in PERIODS
    ]
