"""The market model: random-walk mids, 20-level books, trades, contexts and funding.

One ``Market.step(now_ms)`` per simulated block moves every coin; everything else is computed
lazily from the resulting state and cached per book version, so a coin nobody watches costs a
few float operations per block. Randomness comes from one seeded ``random.Random`` consumed in
a fixed order, and book sizes from integer hashing, so a seed and a clock fix every frame.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hlmon.sim.candles import CandleBook, SyntheticPath, candle_dict
from hlmon.sim.numbers import fmt_float, fmt_ticks, price_exponent, ticks_to_decimal
from hlmon.sim.universe import CoinSpec, Universe

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
FUNDING_DELAY_MS = 37
"""Funding is paid a few ms after the hour, as on the exchange."""
TID_MASK = 2**50 - 1
RECENT_TRADES = 30


@dataclass(slots=True)
class MarketParams:
    """Knobs of the market model (profiles set them)."""

    vol_mult: float = 1.5
    """Multiplies each coin's daily volatility so a demo moves visibly."""
    activity_mult: float = 1.0
    """Multiplies each coin's chance of a book change per block."""
    trade_mult: float = 1.0
    """Multiplies the chance and count of trades per active block."""
    burst_every_ms: int = 0
    """Every this many ms a burst of trades/book changes hits every coin (0 = never)."""
    burst_trades: int = 0


@dataclass(slots=True)
class CoinState:
    """Mutable market state of one coin."""

    spec: CoinSpec
    px: float
    exp: int
    bid: int
    ask: int
    ver: int = 0
    oracle_off: float = 0.0
    open_interest: float = 0.0
    day_ntl: float = 0.0
    day_base: float = 0.0
    base_lots: int = 1
    prev_day_px: str = "0.0"
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_TRADES))
    backfilled: bool = False
    book_cache: dict[tuple[int, int | None, int | None], tuple[int, dict[str, Any]]] = field(
        default_factory=dict
    )


@dataclass(slots=True)
class StepResult:
    """What changed in one block."""

    time: int
    book_changed: list[int]
    trades: dict[int, list[dict[str, Any]]]


class Market:
    """All coins' prices, books and trades, advanced one block at a time."""

    def __init__(
        self, universe: Universe, seed: int, start_ms: int, params: MarketParams | None = None
    ) -> None:
        self.universe = universe
        self.seed = seed
        self.params = params or MarketParams()
        self.rng = random.Random(seed)
        self.now = start_ms
        self.start_ms = start_ms
        self._tid = 0
        self._touched: set[int] = set()
        self._last_burst = start_ms
        self.candles = CandleBook(seed, start_ms)
        self.users = ["0x" + f"{self.rng.getrandbits(160):040x}" for _ in range(64)]
        self.coins: list[CoinState] = []
        for spec in universe.all:
            # Start within 2% of the reference price (calm coins, e.g. stablecoins, closer).
            jitter = 1 + (self.rng.random() - 0.5) * 0.04 * min(1.0, spec.daily_vol / 0.03)
            px = spec.ref_px * jitter
            exp = price_exponent(px, spec.max_decimals)
            bid = max(1, math.floor(px / 10**exp))
            st = CoinState(spec, px, exp, bid, bid + 1)
            notional_per_level = 20_000 if spec.activity > 0.4 else 2_500
            st.base_lots = max(1, int(notional_per_level / px * 10**spec.sz_decimals))
            st.open_interest = 5e8 * spec.activity / px if not spec.is_spot else 0.0
            st.day_ntl = 2e9 * spec.activity**2 + 1e5 * (1 + self.rng.random())
            st.day_base = st.day_ntl / px
            lots_per_min = st.day_ntl / px * 10**spec.sz_decimals / 1440
            self.candles.add_path(
                SyntheticPath(seed, spec.index, px, start_ms, spec.daily_vol, lots_per_min)
            )
            self.candles.record_minute(spec.index, start_ms // 60_000, px)
            st.prev_day_px = self._prev_day(st, start_ms)
            self.coins.append(st)
        self.mid_coins: dict[str, list[CoinState]] = {dex: [] for dex in universe.dex_names}
        """Coins in each dex's ``allMids`` map: spot and outcomes come with the default dex;
        delisted perps have no mid."""
        for st in self.coins:
            if not st.spec.delisted:
                self.mid_coins[st.spec.dex].append(st)

    # ------------------------------------------------------------------ stepping

    def step(self, now: int) -> StepResult:
        """Advance every coin to block time ``now``."""
        dt = max(now - self.now, 1)
        self.now = now
        p = self.params
        scale = dt / 100.0
        burst = False
        if p.burst_every_ms and now - self._last_burst >= p.burst_every_ms:
            burst = True
            self._last_burst = now
        rng = self.rng
        changed: list[int] = sorted(self._touched)
        self._touched.clear()
        trades: dict[int, list[dict[str, Any]]] = {}
        day_frac = math.sqrt(dt / DAY_MS)
        for st in self.coins:
            spec = st.spec
            if spec.delisted:  # a delisted perp neither quotes nor trades
                continue
            active = burst or rng.random() < min(1.0, spec.activity * p.activity_mult * scale)
            if not active:
                continue
            move = rng.gauss(
                0.0,
                spec.daily_vol
                * p.vol_mult
                * day_frac
                / math.sqrt(max(spec.activity * p.activity_mult * scale, 1e-3)),
            )
            old_bid = st.bid
            self._move(st, st.px * math.exp(move))
            st.ver += 1
            changed.append(spec.index)
            st.oracle_off = max(-2.0, min(2.0, st.oracle_off + rng.gauss(0.0, 0.3)))
            n_trades = 0
            if rng.random() < min(1.0, 0.5 * p.trade_mult * scale):
                n_trades = 1 + int(rng.random() * 2 * p.trade_mult)
            if burst:
                n_trades += p.burst_trades
            if n_trades:
                up = st.bid > old_bid
                out = trades.setdefault(spec.index, [])
                for _ in range(n_trades):
                    side = "B" if (up if rng.random() < 0.7 else rng.random() < 0.5) else "A"
                    lots = max(1, int(st.base_lots * rng.expovariate(1.0) * 0.2))
                    out.append(self._trade(st, side, st.ask if side == "B" else st.bid, lots))
        minute = now // 60_000
        if minute != (now - dt) // 60_000:
            for st in self.coins:
                self.candles.record_minute(
                    st.spec.index, minute, self.mark_ticks(st) * 10.0**st.exp
                )
        if now // HOUR_MS != (now - dt) // HOUR_MS:
            for st in self.coins:
                st.prev_day_px = self._prev_day(st, now)
        return StepResult(now, changed, trades)

    def _move(self, st: CoinState, px: float) -> None:
        spec = st.spec
        px = max(px, 10.0**-spec.max_decimals * 10)
        exp = price_exponent(px, spec.max_decimals)
        st.px = px
        st.exp = exp
        bid = max(1, math.floor(px / 10**exp))
        spread = 1 if spec.activity > 0.3 else 1 + (hash((self.seed, spec.index, st.ver)) % 3)
        st.bid, st.ask = bid, bid + spread

    def _trade(
        self,
        st: CoinState,
        side: str,
        px_ticks: int,
        lots: int,
        *,
        users: list[str] | None = None,
        tid: int | None = None,
        hash_hex: str | None = None,
    ) -> dict[str, Any]:
        spec = st.spec
        if tid is None:
            tid = self.next_tid()
        if hash_hex is None:
            hash_hex = "0x" + f"{self.rng.getrandbits(256):064x}"
        if users is None:
            a, b = self.rng.sample(self.users, 2)
            users = [a, b]
        trade = {
            "coin": spec.name,
            "side": side,
            "px": fmt_ticks(px_ticks, st.exp),
            "sz": fmt_ticks(lots, -spec.sz_decimals),
            "time": self.now,
            "hash": hash_hex,
            "tid": tid,
            "users": users,
        }
        st.recent.append(trade)
        notional = px_ticks * 10.0**st.exp * lots * 10.0**-spec.sz_decimals
        st.day_ntl += notional
        st.day_base += lots * 10.0**-spec.sz_decimals
        self.candles.on_trade(spec.index, self.now, px_ticks, lots)
        return trade

    def cross_to(self, coin: int, px_ticks: int, buy: bool) -> None:
        """Move a coin's book so a resting buy (``buy``) or sell at ``px_ticks`` is crossed.

        The change is reported in the next block's ``book_changed``.
        """
        st = self.coins[coin]
        if buy and st.ask > px_ticks:
            st.bid, st.ask = px_ticks - 1, px_ticks
        elif not buy and st.bid < px_ticks:
            st.bid, st.ask = px_ticks, px_ticks + 1
        else:
            return
        st.px = (st.bid + 0.5) * 10.0**st.exp
        st.ver += 1
        self._touched.add(coin)

    def next_tid(self) -> int:
        """A fresh 50-bit trade id (unique in this simulator)."""
        self._tid += 1
        return (self._tid * 0x9E3779B97F4A7C15 + self.seed) & TID_MASK

    def record_trade(
        self,
        coin: int,
        side: str,
        px_ticks: int,
        lots: int,
        users: list[str],
        tid: int,
        hash_hex: str,
    ) -> dict[str, Any]:
        """Add a trade made by the demo account to the tape (same tid as its fill)."""
        st = self.coins[coin]
        return self._trade(st, side, px_ticks, lots, users=users, tid=tid, hash_hex=hash_hex)

    def _prev_day(self, st: CoinState, now: int) -> str:
        path = self.candles.paths[st.spec.index]
        ticks = max(1, round(path.px(now - DAY_MS) / 10**st.exp))
        return fmt_ticks(ticks, st.exp)

    # ------------------------------------------------------------------ views

    def coin(self, name: str) -> CoinState | None:
        """State of the coin named ``name``."""
        spec = self.universe.get(name)
        return None if spec is None else self.coins[spec.index]

    def mid_str(self, st: CoinState) -> str:
        """Mid price as the exchange prints it (may carry half a tick)."""
        return fmt_ticks((st.bid + st.ask) * 5, st.exp - 1)

    def mark_ticks(self, st: CoinState) -> int:
        """Mark price in ticks."""
        return (st.bid + st.ask + 1) // 2

    def mark_decimal(self, st: CoinState) -> Decimal:
        """Mark price as an exact Decimal."""
        return ticks_to_decimal(self.mark_ticks(st), st.exp)

    def all_mids(self, dex: str = "") -> dict[str, str]:
        """``allMids`` map of ``dex``: every listed coin of that dex to its mid (the default
        dex's map also holds spot pairs and outcome sides)."""
        return {st.spec.name: self.mid_str(st) for st in self.mid_coins[dex]}

    def book(
        self,
        st: CoinState,
        n_levels: int = 20,
        n_sig: int | None = None,
        mantissa: int | None = None,
    ) -> dict[str, Any]:
        """The ``l2Book`` data object, cached per book version and aggregation."""
        key = (n_levels, n_sig, mantissa)
        cached = st.book_cache.get(key)
        if cached is not None and cached[0] == st.ver:
            data = cached[1]
            if data["time"] != self.now:  # an unchanged book is resent with this block's time
                data = {**data, "time": self.now}
                st.book_cache[key] = (st.ver, data)
            return data
        if st.spec.delisted:  # acked, but a delisted book is empty on every push
            return {"coin": st.spec.name, "time": self.now, "levels": [[], []]}
        step = 1
        exp = st.exp
        if n_sig is not None:
            lead = math.floor(math.log10(max(st.px, 1e-12)))
            bucket_exp = lead + 1 - n_sig
            if bucket_exp > exp:
                step = 10 ** (bucket_exp - exp)
            if mantissa is not None and n_sig == 5:
                step *= mantissa
        bids = self._side(st, 0, n_levels, step)
        asks = self._side(st, 1, n_levels, step)
        data = {"coin": st.spec.name, "time": self.now, "levels": [bids, asks]}
        st.book_cache[key] = (st.ver, data)
        return data

    def _side(self, st: CoinState, side: int, n: int, step: int) -> list[dict[str, Any]]:
        spec = st.spec
        if step == 1:
            px = st.bid if side == 0 else st.ask
        else:
            px = (st.bid // step) * step if side == 0 else -((-st.ask) // step) * step
        levels = []
        agg = max(1, int(math.sqrt(step)))
        for i in range(n):
            if px <= 0:
                break
            h = hash((self.seed, spec.index, st.ver, side, i)) & 0xFFFFFFFF
            lots = max(1, st.base_lots * agg * (50 + h % 400) // 100)
            orders = 1 + ((h >> 10) % 9) * agg + (i // 4)
            levels.append(
                {"px": fmt_ticks(px, st.exp), "sz": fmt_ticks(lots, -spec.sz_decimals), "n": orders}
            )
            gap = step if step > 1 else 1 + (1 if (h >> 20) % 4 == 0 and i > 0 else 0)
            px = px - gap if side == 0 else px + gap
        return levels

    def bbo(self, st: CoinState) -> dict[str, Any]:
        """The ``bbo`` data object (the touch of the 20-level book, computed on its own)."""
        key = (1, None, None)
        cached = st.book_cache.get(key)
        if cached is None or cached[0] != st.ver:
            bids = self._side(st, 0, 1, 1)
            asks = self._side(st, 1, 1, 1)
            cached = (
                st.ver,
                {
                    "coin": st.spec.name,
                    "time": self.now,
                    "bbo": [bids[0] if bids else None, asks[0] if asks else None],
                },
            )
            st.book_cache[key] = cached
        return cached[1]

    def funding_rate(self, st: CoinState) -> float:
        """Current hourly funding rate of a perp."""
        prem = self.premium(st)
        return max(-0.0005, min(0.0005, 0.0000125 + prem / 8))

    def premium(self, st: CoinState) -> float:
        """Relative premium of mark over oracle."""
        oracle = self.oracle_px(st)
        return (self.mark_ticks(st) * 10.0**st.exp - oracle) / oracle if oracle else 0.0

    def oracle_px(self, st: CoinState) -> float:
        """Oracle price as a float (displayed with the coin's decimals)."""
        return (self.mark_ticks(st) + st.oracle_off) * 10.0**st.exp

    def perp_ctx(self, st: CoinState) -> dict[str, Any]:
        """Perp asset context (``activeAssetCtx`` / ``metaAndAssetCtxs`` item)."""
        spec = st.spec
        decimals = max(-st.exp, 0)
        impact = max(1, st.bid - 2), st.ask + 2
        ctx: dict[str, Any] = {
            "funding": fmt_float(self.funding_rate(st), 10),
            "openInterest": fmt_float(st.open_interest, spec.sz_decimals),
            "prevDayPx": st.prev_day_px,
            "dayNtlVlm": fmt_float(st.day_ntl, 6),
            "premium": fmt_float(self.premium(st), 10),
            "oraclePx": fmt_float(self.oracle_px(st), decimals),
            "markPx": fmt_ticks(self.mark_ticks(st), st.exp),
            "midPx": self.mid_str(st),
            "impactPxs": [fmt_ticks(impact[0], st.exp), fmt_ticks(impact[1], st.exp)],
            "dayBaseVlm": fmt_float(st.day_base, spec.sz_decimals),
        }
        if spec.delisted:  # frozen context: no book, so no mid, premium or impact prices
            ctx.update(funding="0.0", openInterest="0.0", premium=None, midPx=None, impactPxs=None)
        return ctx

    def spot_ctx(self, st: CoinState) -> dict[str, Any]:
        """Spot asset context (``activeSpotAssetCtx`` / ``spotMetaAndAssetCtxs`` item)."""
        spec = st.spec
        supply = 1e9 * (1 + spec.index % 7)
        return {
            "prevDayPx": st.prev_day_px,
            "dayNtlVlm": fmt_float(st.day_ntl, 6),
            "markPx": fmt_ticks(self.mark_ticks(st), st.exp),
            "midPx": self.mid_str(st),
            "circulatingSupply": fmt_float(supply * 0.8, 8),
            "coin": spec.name,
            "totalSupply": fmt_float(supply, 8),
            "dayBaseVlm": fmt_float(st.day_base, spec.sz_decimals),
        }

    def recent_trades(self, st: CoinState) -> list[dict[str, Any]]:
        """The last 30 trades (backfilled deterministically for a coin that has not traded)."""
        if st.spec.delisted:
            return []
        if not st.backfilled:
            st.backfilled = True
            missing = RECENT_TRADES - len(st.recent)
            if missing > 0:
                rng = random.Random(hash((self.seed, st.spec.index, 77)))
                older = []
                for k in range(missing):
                    side = "B" if rng.random() < 0.5 else "A"
                    lots = max(1, int(st.base_lots * rng.expovariate(1.0) * 0.2))
                    a, b = rng.sample(self.users, 2)
                    older.append(
                        {
                            "coin": st.spec.name,
                            "side": side,
                            "px": fmt_ticks(st.ask if side == "B" else st.bid, st.exp),
                            "sz": fmt_ticks(lots, -st.spec.sz_decimals),
                            "time": self.start_ms - (missing - k) * 1500,
                            "hash": "0x" + f"{rng.getrandbits(256):064x}",
                            "tid": (rng.getrandbits(50)) & TID_MASK,
                            "users": [a, b],
                        }
                    )
                for t in reversed(older):
                    st.recent.appendleft(t)
        return list(st.recent)

    def candle(self, st: CoinState, interval: str) -> dict[str, Any]:
        """The current candle of ``interval`` (tracking starts on first request)."""
        c = self.candles.track(st.spec.index, interval, self.now, st.exp, self.mark_ticks(st))
        c = self.candles.roll(st.spec.index, interval, self.now, c.c)
        return candle_dict(c, st.spec.name, interval, st.exp, st.spec.sz_decimals)

    def candle_snapshot(
        self, st: CoinState, interval: str, start: int, end: int
    ) -> list[dict[str, Any]]:
        """REST ``candleSnapshot`` rows."""
        return self.candles.snapshot(
            st.spec.index,
            st.spec.name,
            interval,
            start,
            end,
            self.now,
            st.exp,
            st.spec.sz_decimals,
        )

    def funding_history(self, st: CoinState, start: int, end: int) -> list[dict[str, Any]]:
        """Hourly funding history of a perp (deterministic, max 500 rows)."""
        out: list[dict[str, Any]] = []
        t = -(-start // HOUR_MS) * HOUR_MS
        end = min(end, self.now)
        while t <= end and len(out) < 500:
            u = (hash((self.seed, st.spec.index, t)) & 0xFFFF) / 65536
            prem = (u - 0.45) * 0.0008
            rate = max(-0.0005, min(0.0005, 0.0000125 + prem / 8))
            out.append(
                {
                    "coin": st.spec.name,
                    "fundingRate": fmt_float(rate, 10),
                    "premium": fmt_float(prem, 10),
                    "time": t + (hash((t, 3)) % 400),
                }
            )
            t += HOUR_MS
        return out
