"""What the demo account holds when the simulator starts: ledger, positions, orders, history.

Default dex: BTC long cross 20x, ETH short cross 15x, SOL long isolated 10x, HYPE short
isolated 5x, resting limit orders (one ETH order with TP/SL children) and position TP/SL.
HIP-3: ``xyz`` (USDC) holds ``xyz:NVDA`` short isolated 5x (with a position stop) and
``xyz:TSLA`` long cross 10x; ``flx`` (USDH) holds ``flx:CRCL`` long cross 3x; both have a
resting order; ``hyna`` stays empty. The margin of each dex sits in its own pool, in that dex's
collateral token. Spot holds USDC, PURR, HYPE, UBTC, USDH, FELIX (whose only pair, ``@161``,
is quoted in USDH) and 150 of outcome side ``+90``; a resting spot sell of HYPE and a spot buy
of FELIX reserve part of HYPE and USDH (``hold``). An AVAX Stop Limit buy waits for its
trigger. TWAPs run from the start: ETH buy 1.8 over 30 min (default dex) and ``xyz:TSLA`` sell
1.5 over 20 min; a finished DOGE TWAP from two days ago is in the history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hlmon.sim.account_actions import arm_stop_limit
from hlmon.sim.account_views import ZERO_HASH
from hlmon.sim.dexes import dex_of
from hlmon.sim.market import FUNDING_DELAY_MS, HOUR_MS
from hlmon.sim.numbers import MONEY_QUANTUM, fmt_exact, fmt_float, ticks_to_decimal
from hlmon.sim.orders import Position

if TYPE_CHECKING:
    from hlmon.sim.account_state import AccountState

DAY_MS = 86_400_000
INITIAL_DEPOSIT = Decimal("100000")
TO_SPOT_USDC = Decimal("250")
TO_XYZ_USDC = Decimal("20000")
TO_FLX_USDH = Decimal("6500")

SPOT_HOLDINGS: tuple[tuple[str, str, str], ...] = (
    ("USDC", "250.0", "0.0"),
    ("PURR", "1200.0", "271.4"),
    ("HYPE", "85.5", "3101.25"),
    ("UBTC", "0.015", "1523.4"),
    ("USDH", "1500.0", "1499.76"),
    ("FELIX", "4000.0", "1712.0"),
)
"""Spot balances: token name, total, cost basis in USDC (the index comes from ``spotMeta``)."""
OUTCOME_HOLDINGS: tuple[tuple[str, str, str], ...] = (("+90", "150.0", "49.5"),)
"""Outcome sides held: ``+N`` (outcome ``N // 10``, side ``N % 10``), total, cost basis."""
# token, side, price as a factor of the pair's mark, size: resting spot orders
SPOT_ORDERS: tuple[tuple[str, str, float, str], ...] = (
    ("HYPE", "A", 1.03, "4"),
    ("FELIX", "B", 0.97, "500"),
)
STOP_LIMIT: tuple[str, str, str] = ("AVAX", "B", "12")
"""The Stop Limit order armed at the start: coin, side, size."""
# coin, side, size, minutes: TWAPs running from the start
TWAPS: tuple[tuple[str, str, str, int], ...] = (
    ("ETH", "B", "1.8", 30),
    ("xyz:TSLA", "A", "1.5", 20),
)
PAST_TWAP: tuple[str, str, int] = ("DOGE", "6000", 5)
"""A finished TWAP buy two days ago (coin, size, minutes), closed later by a resting sell."""

# coin, szi, entry as a factor of the mark, leverage, cross
POSITIONS: tuple[tuple[str, str, float, int, bool], ...] = (
    ("BTC", "0.5", 0.985, 20, True),
    ("ETH", "-8.0", 1.01, 15, True),
    ("SOL", "120", 0.99, 10, False),
    ("HYPE", "-400", 1.02, 5, False),
    ("xyz:NVDA", "-25", 1.015, 5, False),
    ("xyz:TSLA", "3", 0.99, 10, True),
    ("flx:CRCL", "10", 0.97, 3, True),
)

HISTORY_COINS = ("LTC", "AAVE", "DOGE", "LINK", "AVAX", "XRP", "SUI", "ENA", "kPEPE")
"""Coins of the past round trips (16 of them, cycling), then one each on ``HIP3_HISTORY``."""
HIP3_HISTORY = ("xyz:AAPL", "flx:GOLD")

# coin, side, price as a factor of the mark, size: resting limit orders
RESTING: tuple[tuple[str, str, float, str], ...] = (
    ("BTC", "B", 0.996, "0.05"),
    ("BTC", "A", 1.004, "0.05"),
    ("SOL", "A", 1.006, "20"),
    ("HYPE", "B", 0.992, "50"),
    ("AAVE", "B", 0.993, "2"),
    ("LTC", "A", 1.009, "5"),
    ("xyz:TSLA", "B", 0.99, "2"),
    ("xyz:XYZ100", "A", 1.012, "0.05"),
    ("flx:CRCL", "B", 0.985, "5"),
)

# coin, side, size, trigger as a factor of the mark, tp/sl: position TP/SL trigger orders
POSITION_TPSL: tuple[tuple[str, str, str, float, str], ...] = (
    ("BTC", "A", "0.5", 0.92, "sl"),
    ("BTC", "A", "0.5", 1.08, "tp"),
    ("HYPE", "B", "400", 1.10, "sl"),
    ("xyz:NVDA", "B", "25", 1.09, "sl"),
)


def _ledger(acc: AccountState, now: int) -> None:
    """Deposit, a USDC move to spot, and the sends that fund the ``xyz`` and ``flx`` pools."""
    me = acc.address
    acc.ledger.append(
        {
            "time": now - 5 * DAY_MS + 1234,
            "hash": acc.new_hash(),
            "delta": {"type": "deposit", "usdc": fmt_exact(INITIAL_DEPOSIT)},
        }
    )
    acc.ledger.append(
        {
            "time": now - 4 * DAY_MS + 4321,
            "hash": acc.new_hash(),
            "delta": {
                "type": "accountClassTransfer",
                "usdc": fmt_exact(TO_SPOT_USDC),
                "toPerp": False,
            },
        }
    )
    for t, source, dest, token, amount in (
        (now - 3 * DAY_MS - 7_000_000, "", "xyz", "USDC", TO_XYZ_USDC),
        (now - 3 * DAY_MS - 3_000_000, "spot", "flx", "USDH", TO_FLX_USDH),
    ):
        acc.ledger.append(
            {
                "time": t,
                "hash": acc.new_hash(),
                "delta": {
                    "type": "send",
                    "user": me,
                    "destination": me,
                    "sourceDex": source,
                    "destinationDex": dest,
                    "token": token,
                    "amount": fmt_exact(amount),
                    "usdcValue": fmt_exact(amount),
                    "fee": "0.0",
                    "nativeTokenFee": "0.0",
                    "nonce": t,
                    "feeToken": "",
                },
            }
        )
    acc.cum_ledger = INITIAL_DEPOSIT
    acc.pools[""] = INITIAL_DEPOSIT - TO_SPOT_USDC - TO_XYZ_USDC
    acc.pools["xyz"] += TO_XYZ_USDC
    acc.pools["flx"] += TO_FLX_USDH


def _round_trip(acc: AccountState, coin: str, t: int, history: list[dict[str, Any]]) -> int:
    """An opening and a closing fill on ``coin`` starting after ``t``; returns the close time."""
    rng = acc.rng
    st = acc.market.coin(coin)
    assert st is not None
    lots = max(1, st.base_lots // 4)
    sz = ticks_to_decimal(lots, -st.spec.sz_decimals)
    px_open = acc.price_near(coin, 1 + rng.uniform(-0.03, 0.03))
    px_close = acc.price_near(coin, 1 + rng.uniform(-0.03, 0.03))
    long = rng.random() < 0.5
    t += rng.randrange(600_000, 14_400_000)
    opening = "Open Long" if long else "Open Short"
    history.append(
        acc.make_fill(
            coin,
            px_open,
            sz,
            "B" if long else "A",
            t,
            Decimal(0),
            opening,
            Decimal(0),
            acc.next_oid(),
            True,
        )
    )
    t += rng.randrange(60_000, 3_600_000)
    pnl = (px_close - px_open) * sz * (1 if long else -1)
    closing = "Close Long" if long else "Close Short"
    history.append(
        acc.make_fill(
            coin,
            px_close,
            sz,
            "A" if long else "B",
            t,
            sz if long else -sz,
            closing,
            pnl,
            acc.next_oid(),
            False,
        )
    )
    return t


def _positions(acc: AccountState, now: int, history: list[dict[str, Any]]) -> None:
    """Open the seed positions, each from one opening fill in its dex's pool."""
    for coin, size, factor, lev, cross in POSITIONS:
        szi = Decimal(size)
        entry = acc.price_near(coin, factor)
        pos = Position(coin, szi, entry, lev, cross)
        dex = dex_of(coin)
        if cross:
            acc.pools[dex] -= szi * entry
        else:
            margin = abs(szi) * entry / lev
            acc.pools[dex] -= margin
            pos.raw_usd = margin - szi * entry
        acc.positions[coin] = pos
        t_open = now - acc.rng.randrange(3_600_000, 20 * 3_600_000)
        opening = "Open Long" if szi > 0 else "Open Short"
        history.append(
            acc.make_fill(
                coin,
                entry,
                abs(szi),
                "B" if szi > 0 else "A",
                t_open,
                Decimal(0),
                opening,
                Decimal(0),
                acc.next_oid(),
                True,
            )
        )


def _past_fundings(acc: AccountState, now: int) -> None:
    """24 hourly fundings of the open positions before ``now``."""
    hour = now // HOUR_MS * HOUR_MS
    for h in range(24, 0, -1):
        for pos in acc.positions.values():
            rate = Decimal(fmt_float(acc.rng.uniform(-0.00002, 0.00006), 10))
            usdc = (-pos.szi * acc.margin.mark(pos.coin) * rate).quantize(MONEY_QUANTUM)
            t = hour - h * HOUR_MS + FUNDING_DELAY_MS
            acc.fundings.append(acc.make_funding(t, pos, usdc, rate))
            pos.cum_all -= usdc
            pos.cum_open -= usdc


def _orders(acc: AccountState, now: int) -> None:
    """Resting orders, one with TP/SL children, and position TP/SL triggers."""
    for coin, side, factor, size in RESTING:
        acc.place(coin, side, acc.price_near(coin, factor), Decimal(size), now - 600_000)
    parent = acc.place("ETH", "B", acc.price_near("ETH", 0.995), Decimal("1.0"), now - 300_000)
    children = [
        acc.place_trigger(
            "ETH",
            "A",
            Decimal("1.0"),
            acc.price_near("ETH", factor),
            kind,
            now - 300_000,
            parent=parent.oid,
        )
        for factor, kind in ((1.03, "tp"), (0.97, "sl"))
    ]
    parent.children = [c.oid for c in children]
    for coin, side, size, factor, kind in POSITION_TPSL:
        acc.place_trigger(
            coin,
            side,
            Decimal(size),
            acc.price_near(coin, factor),
            kind,
            now - 900_000,
            position_tpsl=True,
        )


def _spot(acc: AccountState, now: int) -> None:
    """Spot and outcome holdings, and the resting spot orders that reserve part of them."""
    for token, total, entry in SPOT_HOLDINGS:
        acc.spot.credit(token, Decimal(total), Decimal(entry))
    for side, total, entry in OUTCOME_HOLDINGS:
        acc.spot.outcomes[side] = (Decimal(total), Decimal(entry))
    universe = acc.market.universe
    for token, order_side, factor, size in SPOT_ORDERS:
        pair = universe.pair_of_token[universe.token_index[token]].name
        acc.place(pair, order_side, acc.price_near(pair, factor), Decimal(size), now - 1_800_000)


def _past_twap(acc: AccountState, now: int, history: list[dict[str, Any]]) -> None:
    """A TWAP buy that finished two days ago (its slice fills go to the TWAP book, not to
    ``userFills``), and the resting sell that closed the position later."""
    coin, size, minutes = PAST_TWAP
    st = acc.market.coin(coin)
    assert st is not None
    book = acc.twaps
    twap, _ = book.start(
        coin, "", "B", Decimal(size), minutes, now - 2 * DAY_MS, st.spec.sz_decimals
    )
    while not twap.done:
        t, sz = twap.next_at, twap.slice_size()
        px = acc.price_near(coin, 1 + acc.rng.uniform(-0.01, 0.01))
        start = twap.executed_sz
        fill = acc.make_fill(
            coin,
            px,
            sz,
            "B",
            t,
            start,
            "Open Long",
            Decimal(0),
            acc.next_oid(),
            True,
            hash_hex=ZERO_HASH,
        )
        fill["twapId"] = twap.twap_id
        book.record_slice(twap, fill)
        acc.pools[""] -= Decimal(fill["fee"])
    book.finish(twap, twap.start + minutes * 60_000, restart=False)
    px_close = acc.price_near(coin, 1 + acc.rng.uniform(-0.02, 0.03))
    history.append(
        acc.make_fill(
            coin,
            px_close,
            twap.executed_sz,
            "A",
            twap.start + 6 * 3_600_000,
            twap.executed_sz,
            "Close Long",
            twap.executed_sz * px_close - twap.executed_ntl,
            acc.next_oid(),
            False,
        )
    )


def seed_demo(acc: AccountState, now: int) -> None:
    """Give a fresh ``AccountState`` its ledger, history, positions, fundings, orders, spot
    holdings and TWAPs."""
    _ledger(acc, now)
    history: list[dict[str, Any]] = []
    t = now - 3 * DAY_MS
    for k in range(16):
        t = _round_trip(acc, HISTORY_COINS[k % len(HISTORY_COINS)], t, history)
    for coin in HIP3_HISTORY:
        t = _round_trip(acc, coin, t, history)
    _positions(acc, now, history)
    _past_twap(acc, now, history)
    history.sort(key=lambda f: f["time"])
    for f in history:
        dex = dex_of(f["coin"])
        acc.pools[dex] += Decimal(f["closedPnl"]) - Decimal(f["fee"])
    acc.fills = history
    _past_fundings(acc, now)
    _orders(acc, now)
    _spot(acc, now)
    coin, side, size = STOP_LIMIT
    arm_stop_limit(acc, coin, side, Decimal(size), now - 1_200_000)
    for coin, side, size, minutes in TWAPS:
        st = acc.market.coin(coin)
        assert st is not None
        acc.twaps.start(coin, st.spec.dex, side, Decimal(size), minutes, now, st.spec.sz_decimals)
