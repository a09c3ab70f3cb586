"""The account models on the recorded exchange payloads (read in place, never copied): spot
states valued with the recorded spotMeta and mids, fees and liquidations of recorded fills,
order statuses of recorded orderUpdates and historicalOrders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from hlmon.protocol import decode, info
from hlmon.protocol import messages as m
from hlmon.state.catalog import build_catalog
from hlmon.state.fees import total_fees
from hlmon.state.liquidations import LiquidationDetector, absorbed_key
from hlmon.state.order_status import OrderClass, classify_status
from hlmon.state.spot import value_spot
from tests.payloads import MISSING, payloads_present, responses, samples

pytestmark = pytest.mark.skipif(not payloads_present(), reason=MISSING)
WATCHED = "0x" + "ab" * 20


def _decode(req: info.InfoRequest, body: Any) -> Any:
    return info.decode_response(req, json.dumps(body))


def _frames(name: str) -> list[m.Message]:
    return [decode(json.dumps(s["frame"])) for s in samples(name) if "channel" in s["frame"]]


def _recorded_fills() -> list[m.Fill]:
    fills: list[m.Fill] = []
    for name in ("rest_userFills.json", "rest_userFillsByTime.json"):
        for body in responses(name):
            fills.extend(_decode(info.user_fills(WATCHED), body))
    for msg in _frames("ws_userFills.json") + _frames("ws_user.json"):
        if isinstance(msg, m.UserFillsMsg | m.UserEventsMsg):
            fills.extend(msg.data.fills or [])
    return fills


def test_recorded_spot_states_value_with_the_recorded_meta_and_mids() -> None:
    states = [_decode(info.spot_clearinghouse_state(WATCHED), b)
              for b in responses("rest_spotClearinghouseState.json")]  # fmt: skip
    metas = [_decode(info.spot_meta(), b) for b in responses("rest_spotMeta.json")]
    mids = [dict(b) for b in responses("rest_allMids.json")]
    assert states and metas and mids
    for spot_meta in metas:
        catalog = build_catalog([None], [], spot_meta, loaded_at=0.0)
        for all_mids in mids:
            for state in states:
                valued = value_spot(state, catalog, all_mids)
                for row, balance in zip(valued.rows, state.balances, strict=True):
                    assert row.total == balance.total and row.coin == balance.coin
                    if balance.token == 0:  # USDC is worth its amount, whatever the mids
                        assert row.value_usd is not None
                        assert Decimal(row.value_usd) == Decimal(balance.total)
                    if row.value_usd is None:
                        assert row.coin in valued.unpriced
                assert (valued.value_usd is None) == bool(valued.unpriced)


def test_recorded_fills_sum_fees_per_token_and_show_no_own_liquidation() -> None:
    fills = _recorded_fills()
    assert len(fills) > 10
    totals = total_fees(fills)
    assert totals.unknown == 0 and totals.fills == len(fills)
    tokens = {f.feeToken for f in fills}
    assert set(totals.by_token) == tokens and len(tokens) > 1  # HYPE and USDC fees: apart
    det = LiquidationDetector(WATCHED)
    assert det.fills(fills) == []
    # The recorded liquidator-side fill names another user: absorbed, not an alarm.
    absorbed = [f for f in fills if absorbed_key(f, WATCHED) is not None]
    assert absorbed and det.absorbed == len({absorbed_key(f, WATCHED) for f in absorbed})


def test_recorded_order_statuses_classify() -> None:
    statuses: list[str] = []
    for msg in _frames("ws_orderUpdates.json"):
        assert isinstance(msg, m.OrderUpdatesMsg)
        statuses.extend(u.status for u in msg.data)
    for body in responses("rest_historicalOrders.json"):
        history = _decode(info.from_body({"type": "historicalOrders", "user": WATCHED}), body)
        statuses.extend(o.status for o in history)
    classes = {status: classify_status(status) for status in statuses}
    assert OrderClass.UNKNOWN not in classes.values(), classes
    assert classes["open"] == OrderClass.LIVE and classes["filled"] == OrderClass.FILLED
    assert classes["minTradeNtlRejected"] == classes["canceled"] == OrderClass.ENDED
