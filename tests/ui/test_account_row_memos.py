"""The open orders' and the positions' rows with a memo of the last ones (``order_rows(...,
memo)``, ``position_rows(..., memo)``): the same rows as built from scratch after every kind of
change, and an unchanged order's or position's cells reused."""

from __future__ import annotations

import msgspec

from hlmon.protocol.messages import FrontendOrder
from hlmon.round_memo import RoundMemo
from hlmon.ui.widgets.account import (
    OrderRowMemo,
    PositionRowMemo,
    order_rows,
    position_rows,
)
from hlmon.ui.widgets.table import DETAIL

from .helpers import T0, FakeClock, msg, populated_store, trigger_orders_msg

DAY = 86_400.0


def orders() -> list[FrontendOrder]:
    return list(trigger_orders_msg().data.orders)  # type: ignore[union-attr]


def test_rows_with_a_memo_equal_rows_built_from_scratch() -> None:
    memo: OrderRowMemo = RoundMemo()
    listed = orders()
    first = order_rows(listed, T0, None, memo)
    assert first == order_rows(listed, T0)
    again = order_rows(listed, T0, None, memo)
    assert again == first
    assert all(a is b for a, b in zip(again[0], first[0], strict=True))  # reused, not rebuilt

    # An order replaced (a partial fill): its row is new, the others are the same objects.
    changed = msgspec.structs.replace(listed[0], sz="1.5")
    listed[0] = changed
    rows, keys = order_rows(listed, T0, None, memo)
    assert (rows, keys) == order_rows(listed, T0)
    i = keys.index(changed.oid)
    assert rows[i]["filled"][0] == "0.5" and rows[i] is not again[0][i]
    assert sum(r is s for r, s in zip(rows, again[0], strict=True)) == len(rows) - 1

    # A flag (an order update's status) and an order gone.
    flags = {listed[1].oid: "triggered"}
    assert order_rows(listed, T0, flags, memo) == order_rows(listed, T0, flags)
    del listed[2]
    assert order_rows(listed, T0, flags, memo) == order_rows(listed, T0, flags)
    assert len(memo) == len(order_rows(listed, T0)[1])  # only the listed orders are kept


def test_a_new_day_shows_the_date() -> None:
    memo: OrderRowMemo = RoundMemo()
    listed = orders()
    today = order_rows(listed, T0, None, memo)
    tomorrow = order_rows(listed, T0 + DAY, None, memo)
    assert tomorrow == order_rows(listed, T0 + DAY)
    assert tomorrow[0][0]["time"] != today[0][0]["time"]  # MM-DD HH:MM, not HH:MM:SS


def test_position_rows_with_a_memo_equal_rows_built_from_scratch() -> None:
    clock = FakeClock()
    store = populated_store(clock)
    memo: PositionRowMemo = RoundMemo()
    first = position_rows(store.positions(), store.open_orders(), memo)
    assert first == position_rows(store.positions(), store.open_orders())
    # The orders change (TP/SL under the positions): the cells are the same, the lines new.
    store.apply(trigger_orders_msg())
    rows, keys = position_rows(store.positions(), store.open_orders(), memo)
    assert (rows, keys) == position_rows(store.positions(), store.open_orders())
    assert rows[keys.index("ETH")][DETAIL][0] == "  └ TP 3,587.4 / SL 3,809.4"
    # A mark moves: that position's cells are new, the others' kept.
    ctx = {"funding": "0.0", "openInterest": "1.0", "prevDayPx": "1.0", "dayNtlVlm": "1.0",
           "oraclePx": "3700.0", "markPx": "3700.0"}  # fmt: skip
    btc_cells = memo[("", "BTC")]
    store.apply(msg("activeAssetCtx", {"coin": "ETH", "ctx": ctx}))
    again = position_rows(store.positions(), store.open_orders(), memo)
    assert again == position_rows(store.positions(), store.open_orders())
    i = keys.index("ETH")
    assert again[0][i]["mark"] == ("3,700.0", "") != rows[i]["mark"]
    assert memo[("", "BTC")] is btc_cells  # BTC did not move: not formatted again
    # The time passing (marks going stale) and a position gone.
    clock.advance(30.0)
    assert position_rows(store.positions(), store.open_orders(), memo) == position_rows(
        store.positions(), store.open_orders()
    )
    assert len(memo) == len(store.positions())
