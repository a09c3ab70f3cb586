"""Scenario moves of the demo account: Stop Limit triggers, cancels, TWAP slices, liquidations.

Functions over the account state that add their events to an ``AccountEvents``; the demo
account calls them from its block step and from its forced-event methods.

A triggered Stop Limit order keeps its ``oid`` and stays on ``openOrders`` and
``frontendOpenOrders`` as a resting limit order: ``orderUpdates`` says ``triggered``, and its
frontend shape then reads ``isTrigger: false``, ``triggerCondition: "Triggered"``, ``tif:
"Gtc"``, with ``orderType`` (``Stop Limit``) and ``triggerPx`` kept. [UNCONFIRMED: no recorded
frame of a triggered order's frontend shape was found; the exchange moves a fired trigger order
from its untriggered pool to the book under the same oid, and ``isTrigger`` describes a
trigger still waiting.] When it fills, a new Stop Limit order is armed the other way.

A liquidation closes the whole position at its liquidation price (the current mark when the
server's ``liquidationPx`` is absent or far away): the account's own fill has ``dir``
``Liquidated Cross Long`` / ``Liquidated Isolated Short``... and no ``liquidation`` object (that
one sits on the liquidator's fill); ``userEvents`` gets ``{"liquidation": {...}}`` and the
ledger a ``liquidation`` delta; the coin's TP/SL orders end ``liquidatedCanceled``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hlmon.sim.account_state import AccountState
from hlmon.sim.account_views import ZERO_HASH
from hlmon.sim.dexes import dex_of
from hlmon.sim.numbers import decimal_to_ticks, fmt_decimal, fmt_exact, ticks_to_decimal
from hlmon.sim.orders import AccountEvents, Order, update_order_dict
from hlmon.sim.roles import LIQUIDATOR_ADDRESS

STOP_TRIGGER_FACTOR = 0.012
"""A demo Stop Limit order triggers this far from the mark when armed..."""
STOP_LIMIT_FACTOR = 0.006
"""...and rests this far from the mark once triggered (on the near side of its trigger)."""
LIQUIDATION_REACH = Decimal("0.3")
"""A ``liquidationPx`` further than this fraction from the mark is not used (the scenario
liquidates at the mark instead)."""


# ---------------------------------------------------------------------- stop limit orders


def trigger_to_book(acc: AccountState, order: Order, now: int, ev: AccountEvents) -> None:
    """The mark crossed a Stop Limit order's trigger: it now rests as a limit order."""
    order.triggered = True
    order.is_trigger = False
    order.trigger_condition = "Triggered"
    order.tif = "Gtc"
    ev.order_updates.append(
        {"order": update_order_dict(order), "status": "triggered", "statusTimestamp": now}
    )
    acc.set_status(order, "triggered", now)


def force_trigger(
    acc: AccountState, oid: int | None, now: int, ev: AccountEvents
) -> dict[str, Any] | None:
    """Move the mark across a Stop Limit order's trigger and trigger it."""
    waiting = sorted(
        (o for o in acc.orders.values() if o.order_type == "Stop Limit" and o.is_trigger),
        key=lambda o: o.oid,
    )
    order = next((o for o in waiting if oid is None or o.oid == oid), None)
    if order is None:
        return None
    st = acc.market.coin(order.coin)
    assert st is not None
    above = order.trigger_condition.startswith("Price above")
    # cross_to(buy=False) lifts the bid to the trigger, (buy=True) drops the ask to it.
    acc.market.cross_to(st.spec.index, decimal_to_ticks(order.trigger_px, st.exp), not above)
    trigger_to_book(acc, order, now, ev)
    return ev.order_updates[-1]


def arm_stop_limit(acc: AccountState, coin: str, side: str, sz: Decimal, now: int) -> Order:
    """Arm a Stop Limit order on ``coin``: a buy triggers above the mark, a sell below, and
    each then rests between the mark and its trigger."""
    sign = 1 if side == "B" else -1
    trigger = acc.price_near(coin, 1 + sign * STOP_TRIGGER_FACTOR)
    limit = acc.price_near(coin, 1 + sign * STOP_LIMIT_FACTOR)
    return acc.place_stop_limit(coin, side, sz, trigger, limit, now)


def rearm_stop_limit(acc: AccountState, filled: Order, now: int, ev: AccountEvents) -> None:
    """A triggered Stop Limit order filled: arm the next one the other way."""
    side = "A" if filled.side == "B" else "B"
    order = arm_stop_limit(acc, filled.coin, side, filled.orig_sz, now)
    ev.order_updates.append(
        {"order": update_order_dict(order), "status": "open", "statusTimestamp": now}
    )


def cancel(
    acc: AccountState, oid: int, status: str, now: int, ev: AccountEvents
) -> dict[str, Any] | None:
    """End an open order with ``status`` (``canceled``, ``liquidatedCanceled``...)."""
    order = acc.orders.get(oid)
    if order is None:
        return None
    acc.remove_order(oid)
    update = {"order": update_order_dict(order), "status": status, "statusTimestamp": now}
    ev.order_updates.append(update)
    acc.set_status(order, status, now)
    return update


# ---------------------------------------------------------------------- TWAP


def start_twap(
    acc: AccountState, coin: str, side: str, sz: Decimal, minutes: int, ev: AccountEvents
) -> dict[str, Any]:
    """Start a TWAP on a perp now."""
    st = acc.market.coin(coin)
    if st is None or st.spec.is_spot or side not in ("A", "B") or sz <= 0 or minutes < 1:
        raise ValueError(f"cannot TWAP {sz} {coin} side {side} over {minutes} min")
    twap, item = acc.twaps.start(
        coin, st.spec.dex, side, sz, minutes, acc.market.now, st.spec.sz_decimals
    )
    ev.twap_history.append(item)
    ev.twap_dexes.add(twap.dex)
    return item


def run_twaps(acc: AccountState, now: int, ev: AccountEvents) -> None:
    """Execute the TWAP slices due at ``now``, finish completed TWAPs, start scheduled ones."""
    book = acc.twaps
    for coin, dex, side, sz, minutes, sz_decimals in book.take_pending(now):
        twap, item = book.start(coin, dex, side, sz, minutes, now, sz_decimals)
        ev.twap_history.append(item)
        ev.twap_dexes.add(twap.dex)
    for twap in book.due(now):
        while not twap.done and twap.next_at <= now:
            sz = twap.slice_size()
            fill: dict[str, Any] | None = None
            if sz > 0:
                st = acc.market.coin(twap.coin)
                assert st is not None
                px = ticks_to_decimal(st.ask if twap.side == "B" else st.bid, st.exp)
                oid = acc.next_oid()
                fill = acc.execute(
                    twap.coin,
                    twap.side,
                    px,
                    sz,
                    True,
                    now,
                    ev,
                    oid,
                    hash_hex=ZERO_HASH,
                    twap_id=twap.twap_id,
                )
            sliced = book.record_slice(twap, fill)
            if sliced is not None:
                ev.twap_fills.append(sliced)
            ev.twap_dexes.add(twap.dex)
        if twap.done:
            ev.twap_history.append(book.finish(twap, now))


# ---------------------------------------------------------------------- liquidation


def liquidate(
    acc: AccountState, coin: str | None, now: int, ev: AccountEvents
) -> dict[str, Any] | None:
    """Liquidate one position of the demo account (see the module docstring)."""
    if coin is None:
        default = [p for p in acc.positions.values() if dex_of(p.coin) == ""]
        isolated = [p for p in default if not p.cross]
        pick = isolated or default or list(acc.positions.values())
        if not pick:
            return None
        coin = pick[0].coin
    pos = acc.positions.get(coin)
    if pos is None:
        return None
    st = acc.market.coin(coin)
    assert st is not None
    dex = st.spec.dex
    mark = acc.market.mark_decimal(st)
    liq = acc.margin.liquidation_px(pos, acc.summary(dex))
    px = liq if liq is not None and abs(liq - mark) <= mark * LIQUIDATION_REACH else mark
    px = ticks_to_decimal(max(1, decimal_to_ticks(px, st.exp)), st.exp)
    long = pos.szi > 0
    acc.market.cross_to(st.spec.index, decimal_to_ticks(px, st.exp), long)
    for order in [o for o in acc.orders.values() if o.coin == coin and o.reduce_only]:
        cancel(acc, order.oid, "liquidatedCanceled", now, ev)
    summary = acc.summary(dex)
    account_value = summary["value"] if pos.cross else pos.raw_usd + pos.szi * px
    kind = "Cross" if pos.cross else "Isolated"
    szi = pos.szi
    ntl = abs(szi) * px
    hash_hex = acc.new_hash()
    fill = acc.execute(
        coin,
        "A" if long else "B",
        px,
        abs(szi),
        True,
        now,
        ev,
        acc.next_oid(),
        hash_hex=hash_hex,
        direction=f"Liquidated {kind} {'Long' if long else 'Short'}",
    )
    acc.record_fill(fill, ev)
    acc.lid += 1
    liquidation = {
        "lid": acc.lid,
        "liquidator": LIQUIDATOR_ADDRESS,
        "liquidated_user": acc.address,
        "liquidated_ntl_pos": fmt_decimal(ntl),
        "liquidated_account_value": fmt_decimal(account_value),
    }
    ev.liquidations.append(liquidation)
    item = {
        "time": now,
        "hash": hash_hex,
        "delta": {
            "type": "liquidation",
            "liquidatedNtlPos": fmt_decimal(ntl),
            "accountValue": fmt_decimal(account_value),
            "leverageType": kind,
            "liquidatedPositions": [{"coin": coin, "szi": fmt_exact(szi)}],
        },
    }
    acc.record_ledger(item)
    ev.ledger.append(item)
    ev.notifications.append(f"Liquidated: {fmt_exact(abs(szi))} {coin} at ${fmt_exact(px)}")
    return liquidation
