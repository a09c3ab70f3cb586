"""Alert rules: frozen value objects that look at the Store and report what they see.

A rule never keeps state of its own (the :class:`~hlmon.alerts.engine.AlertEngine` does: armed
or not, cooldowns, what it has already seen), so rules can live in the settings
(``AlertSettings.rules``) and compare equal. Each rule answers two questions:

* ``watch_keys``: which Store change keys can change its answer (``None``: every evaluation,
  for rules about the *absence* of changes, like the dead-man's switch);
* ``check(store, now, memo, band_pct)``: a list of :class:`Check`, one per *subject* (the
  position's coin for a per-position rule, ``""`` for a single-valued one).

Threshold rules report ``past`` (beyond the level now) and ``clear`` (back on the safe side by
the hysteresis band); event rules (fills) report ``event=True`` checks. Numbers are compared as
``Decimal`` on the exchange's own strings, so a level of ``110000`` is crossed exactly.

Numbers are read and printed with :mod:`hlmon.state.decimals` (the one decimal toolkit, whose
display rule the TUI uses too: an alert says ``BTC mid 106,312.5``, as the screen does) and
key-like coin names refused with :mod:`hlmon.keyguard`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlmon.alerts.check import (
    Check,
    Direction,
    Rule,
    fmt_level,
    fmt_px,
    fmt_size,
    threshold_check,
)
from hlmon.alerts.feed_rules import DataLag, DeadMan
from hlmon.keyguard import looks_like_key
from hlmon.state.decimals import fmt_dec, fmt_percent, fmt_px_text, fmt_usd, try_dec

if TYPE_CHECKING:
    from hlmon.state import Store

__all__ = [
    "RULE_KINDS",
    "AlertRule",
    "AnyFill",
    "Check",
    "DataLag",
    "DeadMan",
    "Direction",
    "LiqDistance",
    "Liquidated",
    "MarginRatio",
    "PriceCross",
    "Rule",
    "UpnlBeyond",
    "parse_price_rule",
    "threshold_check",
]


@dataclass(frozen=True, slots=True)
class PriceCross:
    """The mid price of ``coin`` crosses ``level`` going ``above`` or ``below`` it.

    Only a crossing fires: a level the price is already past when the rule starts is armed
    once the price is back on the other side.
    """

    coin: str
    direction: Direction
    level: Decimal
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    @property
    def rule_id(self) -> str:
        sign = ">" if self.direction == "above" else "<"
        return f"price {self.coin} {sign} {fmt_dec(self.level)}"

    severity = "warn"
    fire_if_past_at_start = False

    def watch_keys(self) -> frozenset[str] | None:
        return frozenset(("mids",))

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        mid_s = store.mid(self.coin)
        mid = try_dec(mid_s)
        if mid_s is None or mid is None:
            return []
        level = fmt_level(self.level)
        return [
            threshold_check(
                "",
                mid,
                self.level,
                self.direction,
                band_pct,
                title=f"{self.coin} {self.direction} {level}",
                body=f"{self.coin} mid {fmt_px_text(mid_s)} crossed {self.direction} {level}",
                shown=f"mid {fmt_px_text(mid_s)}",
            )
        ]


@dataclass(frozen=True, slots=True)
class LiqDistance:
    """A position's distance to its liquidation price falls below ``below_pct`` percent.

    ``coin=None`` watches every position, each on its own (one alert per coin crossing).
    """

    below_pct: Decimal
    coin: str | None = None
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "error"
    fire_if_past_at_start = True

    @property
    def rule_id(self) -> str:
        where = self.coin if self.coin is not None else "any"
        return f"liq distance {where} < {fmt_dec(self.below_pct)}%"

    def watch_keys(self) -> frozenset[str] | None:
        # Distance moves with the mark (ctx, then mids) and with the liquidation price (account).
        return None if self.coin is None else frozenset(("account", "mids", "ctx:" + self.coin))

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        out: list[Check] = []
        limit = fmt_dec(self.below_pct)
        for pos in store.positions():
            if self.coin is not None and pos.coin != self.coin:
                continue
            dist = try_dec(pos.liq_distance_pct)
            if dist is None:
                continue
            out.append(
                threshold_check(
                    pos.coin,
                    dist,
                    self.below_pct,
                    "below",
                    band_pct,
                    title=f"{pos.coin} {fmt_percent(dist, 1)} from liquidation",
                    body=(
                        f"{pos.side} {fmt_size(pos.size)} {pos.coin}: mark "
                        f"{fmt_px(pos.mark_px)}, liquidation {fmt_px(pos.liquidation_px)} "
                        f"({fmt_percent(dist, 1)} away, alert below {limit}%)"
                    ),
                    shown=f"{pos.coin} {fmt_percent(dist, 1)}",
                )
            )
        return out


_RATIO_TITLES = {
    "crossMaintenance": "Margin ratio",
    "unifiedAccountRatio": "Unified account ratio",
    "portfolioMarginRatio": "Portfolio margin ratio",
}
_RATIO_LEVELS = {
    "crossMaintenance": "100% = liquidation",
    "unifiedAccountRatio": "the exchange does not publish the level it liquidates at",
    "portfolioMarginRatio": "liquidatable above 95%",
}


@dataclass(frozen=True, slots=True)
class MarginRatio:
    """The account's liquidation-risk ratio, by the rules of its mode, rises above a percent.

    The same figure as the header and the Accounts tab (``store.equity()``): a standard
    account's worst dex (cross maintenance margin / cross account value), a unified account's
    unified account ratio, a portfolio-margin account's ``portfolioMarginRatio``. Unknown (the
    mode not read yet, an input missing) is no alert, never a guess.
    """

    above_pct: Decimal
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "error"
    fire_if_past_at_start = True

    @property
    def rule_id(self) -> str:
        return f"margin ratio > {fmt_dec(self.above_pct)}%"

    def watch_keys(self) -> frozenset[str] | None:
        # The unified ratio moves with the spot balances; the mode decides which ratio it is.
        return frozenset(("account", "spot", "mode"))

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        figures = store.equity()
        ratio = try_dec(figures.ratio_pct)
        if ratio is None or figures.ratio_kind is None:
            return []
        kind = figures.ratio_kind.value
        name = _RATIO_TITLES.get(kind, "Margin ratio")
        limit = fmt_dec(self.above_pct)
        return [
            threshold_check(
                "",
                ratio,
                self.above_pct,
                "above",
                band_pct,
                title=f"{name} {fmt_percent(ratio)}",
                body=(
                    f"{name.lower()} {fmt_percent(ratio)} is above {limit}% "
                    f"({_RATIO_LEVELS.get(kind, '')})"
                ),
                shown=fmt_percent(ratio),
            )
        ]


@dataclass(frozen=True, slots=True)
class UpnlBeyond:
    """Total unrealised PnL (live, at the latest marks) goes above ``above`` or below ``below``.

    The two bounds are separate subjects (``above`` / ``below``), each with its own arming.
    """

    above: Decimal | None = None
    below: Decimal | None = None
    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "warn"
    fire_if_past_at_start = True

    @property
    def rule_id(self) -> str:
        parts = []
        if self.above is not None:
            parts.append(f"> {fmt_dec(self.above)}")
        if self.below is not None:
            parts.append(f"< {fmt_dec(self.below)}")
        return "upnl " + " or ".join(parts)

    def watch_keys(self) -> frozenset[str] | None:
        # Live uPnL moves with every coin's mark (ctx:COIN, mids) and the account; the store
        # caches positions() between changes, so looking every evaluation is cheap.
        return None

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        if store.account_summary() is None:
            return []
        total = Decimal(0)
        for pos in store.positions():
            total += try_dec(pos.live_upnl) or Decimal(0)
        shown = fmt_usd(total, sign=True)
        out: list[Check] = []
        for direction, level in (("above", self.above), ("below", self.below)):
            if level is None:
                continue
            out.append(
                threshold_check(
                    direction,
                    total,
                    level,
                    "above" if direction == "above" else "below",
                    band_pct,
                    title=f"uPnL {shown}",
                    body=f"total unrealised PnL {shown} USD is {direction} {fmt_level(level)}",
                    shown=shown,
                )
            )
        return out


_WATCHING = Check("")
"""An event rule's answer when nothing new happened: watching (armed), not waiting."""


@dataclass(frozen=True, slots=True)
class AnyFill:
    """Any new fill of the watched account; fills from before hlmon saw the account are history.

    "Before" is judged in exchange time: the baseline is the ``time`` of the first
    clearinghouse state received, so the local clock's skew does not matter. Fills older than
    that (the userFills snapshot, whenever it arrives) are skipped; later ones fire even if they
    arrive late (made during an outage, recovered by reconciliation).
    """

    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "warn"
    fire_if_past_at_start = False

    @property
    def rule_id(self) -> str:
        return "fill"

    def watch_keys(self) -> frozenset[str] | None:
        return frozenset(("fills", "account"))

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        since_ms = memo.get("since_ms")
        if since_ms is None:
            stamp = store.stamp("account")
            if stamp is None:
                return []  # no account yet: nothing to tell history from news
            exchange = stamp.exchange_time
            since_ms = memo["since_ms"] = (
                exchange if exchange is not None else int(stamp.received_at * 1000)
            )
        seen: set[tuple[int, int]] = memo.setdefault("seen", set())
        fills = store.fills()
        new = [f for f in fills if (f.tid, f.oid) not in seen and f.time >= since_ms]
        # Remember exactly what the store holds: its ring bounds this set.
        memo["seen"] = {(f.tid, f.oid) for f in fills}
        if not new:
            return [_WATCHING]
        new.reverse()  # oldest first
        name = store.display_name  # a spot pair by its name (HYPE/USDC), not its index (@107)
        lines = [
            f"{'BUY' if f.side == 'B' else 'SELL'} {fmt_size(f.sz)} {name(f.coin)} "
            f"@ {fmt_px(f.px)} ({f.dir})"
            for f in new[:5]
        ]
        if len(new) > 5:
            lines.append(f"... and {len(new) - 5} more")
        first = new[0]
        title = f"Fill: {name(first.coin)}" if len(new) == 1 else f"{len(new)} fills"
        return [
            Check("", event=True, title=title, body="; ".join(lines), count=len(new), value=title)
        ]


@dataclass(frozen=True, slots=True)
class Liquidated:
    """The watched account was liquidated, seen on any of its three signals (its own fill with
    a ``Liquidated...`` direction, the ``user`` channel's liquidation event, a ledger
    ``liquidation`` delta: ``state.liquidations``), each liquidation once.

    On by default. Liquidations from before hlmon saw the account (in the fills or ledger
    snapshot) are history: logged, not alerted. "Before" is judged in exchange time against
    the first account state, like ``AnyFill``; the ``user`` event carries no time and is
    always news (that channel has no snapshot).
    """

    enabled: bool = True
    """False: kept, never checked (the alerts view switches it)."""

    severity = "error"
    fire_if_past_at_start = False

    @property
    def rule_id(self) -> str:
        return "liquidation"

    def watch_keys(self) -> frozenset[str] | None:
        return frozenset(("liquidations", "account"))

    def check(
        self, store: Store, now: float, memo: dict[str, Any], band_pct: Decimal
    ) -> list[Check]:
        user = store.user
        if user is None:
            return []
        if memo.get("user") != user:
            memo.update(user=user, since_ms=None, seen=set())
        if memo["since_ms"] is None:
            stamp = store.stamp("account")
            if stamp is None:
                return []  # no account yet: nothing to tell history from news
            exchange = stamp.exchange_time
            memo["since_ms"] = exchange if exchange is not None else int(stamp.received_at * 1000)
        found = store.own_liquidations()
        if not found:
            return [_WATCHING]
        seen: set[Any] = memo["seen"]
        new = [e for e in found if e.key not in seen]
        memo["seen"] = {e.key for e in found}  # what the store holds: bounded like it
        news = [e for e in new if e.time is None or e.time >= memo["since_ms"]]
        if not news:
            return [_WATCHING]
        first = news[0]
        title = "LIQUIDATED" + (f": {first.coin}" if first.coin else "")
        body = "; ".join(e.describe() for e in news[:5])
        if len(news) > 5:
            body += f"; ... and {len(news) - 5} more"
        return [Check("", event=True, title=title, body=body, count=len(news), value=title)]


AlertRule = (
    PriceCross | LiqDistance | MarginRatio | UpnlBeyond | AnyFill | Liquidated | DeadMan | DataLag
)
"""Every rule kind hlmon knows (what ``[[alerts.rules]]`` tables parse to)."""

RULE_KINDS: dict[str, type[AlertRule]] = {
    "price": PriceCross,
    "liq_distance": LiqDistance,
    "margin_ratio": MarginRatio,
    "upnl": UpnlBeyond,
    "fill": AnyFill,
    "liquidation": Liquidated,
    "deadman": DeadMan,
    "data_lag": DataLag,
}
"""Config ``kind`` -> rule class."""


def parse_price_rule(text: str) -> PriceCross:
    """``"BTC > 110000"`` / ``"ETH below 3000"`` -> :class:`PriceCross` (the UI's input box).

    Raises:
        ValueError: with a message fit to show the user.
    """
    parts = text.split()
    if len(parts) != 3:
        raise ValueError('expected "COIN > PRICE" or "COIN < PRICE", e.g. "BTC > 110000"')
    coin, op, raw = parts
    if looks_like_key(coin):
        raise ValueError("that looks like a private key, not a coin name: remove it from here")
    ops: dict[str, Direction] = {">": "above", "above": "above", "<": "below", "below": "below"}
    direction = ops.get(op.lower())
    if direction is None:
        raise ValueError(f'expected ">" or "<" between coin and price, got "{op}"')
    level = try_dec(raw.replace(",", "").replace("_", ""))
    if level is None or level <= 0:
        raise ValueError(f'expected a price > 0, got "{raw}"')
    return PriceCross(coin, direction, level)
