"""Memory that stays flat for weeks: every ring, table and cache the store keeps is capped.

Each test feeds many times its cap through the public write paths and checks the size, so a
new table without a bound, or a bound that stops working, fails here rather than after days.
"""

from __future__ import annotations

from hlmon.protocol.account_types import UserRole
from hlmon.protocol.messages import UnknownMsg
from hlmon.state import Store
from hlmon.state.account import _TERMINAL_MEMORY  # the closed-order memory's own bound
from hlmon.state.catalog_state import MAX_UNKNOWN_KEPT
from hlmon.state.liquidations import DEFAULT_MEMORY
from hlmon.state.telemetry import _MAX_CHANNELS
from hlmon.state.whole_account import TWAP_HISTORY_CAP
from tests.catalogs import default_catalog

from .conftest import USER, FakeClock, fill, funding, msg, order_update, trade

CAP = 8
"""A small cap, so feeding ten times over stays quick."""
CTX = {"funding": "0", "openInterest": "1", "prevDayPx": "1", "dayNtlVlm": "1", "oraclePx": "1",
       "markPx": "1"}  # fmt: skip
TWAP = {"coin": "ETH", "user": USER, "side": "B", "sz": "2.0", "executedSz": "0.5",
        "executedNtl": "1000.0", "minutes": 10, "timestamp": 1_790_000_000_000,
        "reduceOnly": False, "randomize": False}  # fmt: skip


def small_store(clock: FakeClock) -> Store:
    store = Store(clock, trades_cap=CAP, fills_cap=CAP, log_cap=CAP,
                  candles_cap=CAP, fundings_cap=CAP, ledger_cap=CAP, coins_cap=CAP)  # fmt: skip
    store.set_user(USER)
    return store


def book(coin: str, t: int) -> dict[str, object]:
    return {"coin": coin, "time": t, "levels": [[{"px": "1.0", "sz": "1", "n": 1}], []]}


def candle(coin: str, t: int, interval: str = "1m") -> dict[str, object]:
    return {"t": t, "T": t + 59_999, "s": coin, "i": interval, "o": "1", "c": "1", "h": "1",
            "l": "1", "v": "1", "n": 1}  # fmt: skip


def test_trades_per_coin(clock: FakeClock) -> None:
    store = small_store(clock)
    for i in range(10 * CAP):
        store.apply(msg("trades", [trade(i, 1000 + i)]))
    assert len(store.trades("BTC")) == CAP
    assert len(store._market.tapes["BTC"].keys) == CAP  # the dedupe set follows the ring


def test_tables_by_coin_keep_the_subscribed_coins(clock: FakeClock) -> None:
    """Looking at 10x the cap of coins one after another: each table holds at most the cap,
    the subscribed coin survives however old its entry is, and dropped coins lose their
    stamps (so the stamps are bounded too)."""
    store = small_store(clock)
    for key in ("trades:BTC", "book:BTC", "bbo:BTC"):
        store.expect(key)
    store.apply(msg("trades", [trade(1, 1000, coin="BTC")]))
    store.apply(msg("l2Book", book("BTC", 1000)))
    store.apply(msg("bbo", {"coin": "BTC", "time": 1000, "bbo": [None, None]}))
    for i in range(10 * CAP):
        coin = f"C{i}"
        store.apply(msg("trades", [trade(i, 2000 + i, coin=coin)]))
        store.apply(msg("l2Book", book(coin, 2000 + i)))
        store.apply(msg("bbo", {"coin": coin, "time": 2000 + i, "bbo": [None, None]}))
        store.apply(msg("candle", candle(coin, 60_000 * i)))
        store.apply(msg("activeAssetData", {"user": USER, "coin": coin, "leverage": {
            "type": "cross", "value": 5}, "maxTradeSzs": ["1", "1"],
            "availableToTrade": ["1", "1"], "markPx": "1.0"}))  # fmt: skip
        store.apply(msg("activeAssetCtx", {"coin": coin, "ctx": CTX}))
    market = store._market
    for table in (market.tapes, market.books, market.bbos, market.candles, market.asset_data,
                  market.ctxs):  # fmt: skip
        assert len(table) <= CAP
    assert store.trades("BTC") and store.book("BTC") is not None and store.bbo("BTC") is not None
    assert len(market.candle_interval) <= CAP
    assert len(store._stamps) <= 6 * CAP + 3  # six tables by coin, and what is expected


def test_candles_per_coin(clock: FakeClock) -> None:
    store = small_store(clock)
    for i in range(10 * CAP):
        store.apply(msg("candle", candle("BTC", 60_000 * i)))
    assert len(store.candles("BTC")) == CAP


def test_fills_fundings_and_the_closed_orders_memory(clock: FakeClock) -> None:
    store = small_store(clock)
    for i in range(10 * CAP):
        store.apply(msg("userFills", {"user": USER, "fills": [fill(i, i, 1000 + i)]}))
        store.apply(msg("userFundings", {"user": USER, "fundings": [funding(1000 + i)]}))
    assert len(store.fills()) == CAP and len(store.fundings()) == CAP
    for oid in range(_TERMINAL_MEMORY + 100):
        store.apply(msg("orderUpdates", [order_update(oid, "filled")]))
    assert len(store._account._closed_oids) <= _TERMINAL_MEMORY
    assert store.open_orders() == []


def test_log_and_counters(clock: FakeClock) -> None:
    store = small_store(clock)
    for i in range(10 * CAP):
        store.health.log(f"line {i}")
    assert len(store.health.events) == CAP
    for i in range(10 * _MAX_CHANNELS):  # a server inventing channel names
        store.apply(UnknownMsg(f"made-up-{i}", {}))
        store.health.note_frame(f"made-up-{i}", 10)
    assert len(store.health.frames_by_channel) <= _MAX_CHANNELS + 1
    assert len(store.health.events) == CAP


def test_trades_replay_markers_go_with_their_subscription(clock: FakeClock) -> None:
    """Each trades subscription remembers that its first frame was seen (a replay, not a lag
    sample); a coin viewed then left must not leave its marker behind."""
    store = small_store(clock)
    store.expect("trades:BTC")
    store.apply(msg("trades", [trade(1, 1000, coin="BTC")]))
    for i in range(10 * CAP):
        key = f"trades:C{i}"
        store.expect(key)
        store.apply(msg("trades", [trade(i, 2000 + i, coin=f"C{i}")]))
        store.unexpect(key)
    assert set(store._trades_epoch) == {"trades:BTC"}
    for i in range(10 * CAP):  # frames still in flight after the unsubscribe: the tape's cap
        store.apply(msg("trades", [trade(i, 9000 + i, coin=f"D{i}")]))
    assert len(store._trades_epoch) <= CAP + 1


def test_facts_of_addresses_no_longer_watched_are_forgotten(clock: FakeClock) -> None:
    """Mode, role, equity history and spot state are kept per address across switches, but
    not for every address ever watched."""
    store = small_store(clock)
    others = [f"0x{i:040x}" for i in range(1, 10 * CAP)]
    for address in others:
        store.set_watched_users([USER, address])
        store.set_account_mode(address, "default")
        store.set_user_role(address, UserRole("user", None))
        store.apply(msg("spotState", {"user": address, "spotState": {"balances": []}}))
    store.set_account_mode(USER, "unifiedAccount")
    store.set_watched_users([USER, others[-1]])
    facts = store._facts
    for table in (facts.modes, facts.roles, facts.spots):
        assert set(table) <= {USER, others[-1]}
    assert store.account_mode(others[-1]) is not None and store.account_mode(USER) is not None


def test_orders_ended_on_a_dex_without_snapshots(clock: FakeClock) -> None:
    """The "ended since the last snapshot" marks of one dex are capped like the closed-order
    memory, for a dex whose open-orders snapshots stop coming."""
    store = small_store(clock)
    for oid in range(_TERMINAL_MEMORY + 200):
        store.apply(msg("orderUpdates", [order_update(oid, "canceled")]))
    closing = store._account._closing[""]
    assert len(closing) == _TERMINAL_MEMORY
    assert _TERMINAL_MEMORY + 199 in closing and 0 not in closing  # the newest kept


def test_twap_history_and_the_liquidation_memory(clock: FakeClock) -> None:
    store = small_store(clock)
    for i in range(TWAP_HISTORY_CAP + 50):
        item = {"time": 1_790_000_000 + i, "state": TWAP, "status": {"status": "finished"},
                "twapId": i}  # fmt: skip
        store.apply(msg("userTwapHistory", {"user": USER, "history": [item]}))
    extras = store._extras
    assert len(store.twap_history()) == TWAP_HISTORY_CAP
    assert len(extras._history_keys) == TWAP_HISTORY_CAP  # the dedupe set follows the ring
    detector = extras.detector
    assert detector is not None
    for i in range(DEFAULT_MEMORY + 100):  # others' liquidations this account took part in
        liq = {**fill(i, 10_000 + i, 1000 + i), "liquidation": {
            "liquidatedUser": f"0x{i:040x}", "markPx": "100.0", "method": "market"}}  # fmt: skip
        store.apply(msg("userFills", {"user": USER, "fills": [liq]}))
    assert detector.absorbed == DEFAULT_MEMORY + 100
    assert len(detector._order) == len(detector._seen) == DEFAULT_MEMORY


def test_names_the_catalog_lacks(clock: FakeClock) -> None:
    store = small_store(clock)
    store.set_catalog(default_catalog())
    store.catalog_state.note_names(f"MADEUP{i}" for i in range(MAX_UNKNOWN_KEPT + 100))
    assert len(store.catalog_state.unknown_names) == MAX_UNKNOWN_KEPT
