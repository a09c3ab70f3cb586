"""The whole account on the wire (#14): spot state, account mode, user role, portfolio, TWAPs,
the TWAP members of the ``user`` channel and the 2026 fill fields."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hlmon.protocol import ProtocolError, decode
from hlmon.protocol import info as i
from hlmon.protocol import messages as m
from hlmon.protocol import subscriptions as s

ADDR = "0x31CA8395cf837de08b24da3f660e77761dfb974b"
LOWER = ADDR.lower()
MASTER = "0x" + "12" * 20


def _frame(channel: str, data: Any) -> str:
    return json.dumps({"channel": channel, "data": data})


def _fill(tid: int = 1, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": "ETH", "px": "2067.2", "sz": "0.01", "side": "A", "time": 1770524192528,
        "startPosition": "0.01", "dir": "Close Long", "closedPnl": "-0.13",
        "hash": "0x" + "5b" * 32, "oid": 315449302232, "crossed": True, "fee": "0.00893",
        "tid": tid, "feeToken": "USDC", "twapId": None,
    }  # fmt: skip
    out.update(extra)
    return out


def _twap_state(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": "BTC", "user": LOWER, "side": "B", "sz": "2.0", "executedSz": "0.5",
        "executedNtl": "50000.0", "minutes": 30, "reduceOnly": False, "randomize": True,
        "timestamp": 1_790_000_000_000, "trigger": None, "stopPx": None,
    }  # fmt: skip
    out.update(extra)
    return out


SPOT_STATE: dict[str, Any] = {
    "balances": [
        {"coin": "USDC", "token": 0, "total": "1200.5", "hold": "100.0", "entryNtl": "0.0"},
        {"coin": "HYPE", "token": 150, "total": "10.0", "hold": "0.0", "entryNtl": "300.0",
         "spotHold": "0.0", "ltv": "0.65", "borrowed": "0.0", "supplied": "4.0"},
        {"coin": "+14880", "total": "25.0", "hold": "0.0", "entryNtl": "12.5"},
        {"coin": "o1488", "total": "3.0", "hold": "0.0", "entryNtl": "1.0"},
    ],
    "portfolioMarginEnabled": True,
    "portfolioMarginRatio": "0.1234",
    "tokenToAvailableAfterMaintenance": [[0, "1000.0"], [150, "6.5"]],
    "evmEscrows": [{"coin": "HYPE", "token": 150, "total": "1.5"}],
}  # fmt: skip


# --------------------------------------------------------------------------- spot state


def test_spot_state_subscription_always_sends_ignore_portfolio_margin() -> None:
    sub = s.spot_state(ADDR)
    assert sub.to_wire() == {"type": "spotState", "user": LOWER, "ignorePortfolioMargin": False}
    assert sub.user == LOWER  # a user subscription: it takes this address's user slot
    assert json.loads(s.subscribe_frame(sub))["subscription"]["ignorePortfolioMargin"] is False
    on = s.spot_state(ADDR, ignore_portfolio_margin=True)
    assert on.to_wire()["ignorePortfolioMargin"] is True
    with pytest.raises(ValueError, match="bool"):
        s.spot_state(ADDR, ignore_portfolio_margin="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("echo", "matches_default", "matches_true"),
    [
        ({"type": "spotState", "user": LOWER, "ignorePortfolioMargin": False}, True, False),
        ({"type": "spotState", "user": LOWER}, True, False),
        ({"ignorePortfolioMargin": True, "user": ADDR, "type": "spotState"}, False, True),
        ({"type": "spotState", "user": "0x" + "0" * 40, "ignorePortfolioMargin": False}, False,
         False),
    ],
)  # fmt: skip
def test_spot_state_acks_match_by_ignore_portfolio_margin(
    echo: dict[str, Any], matches_default: bool, matches_true: bool
) -> None:
    ack = {"method": "subscribe", "subscription": echo}
    assert s.ack_matches(s.spot_state(ADDR), ack) is matches_default
    assert s.ack_matches(s.spot_state(ADDR, True), ack) is matches_true


def test_spot_state_frame_decodes_token_and_outcome_rows() -> None:
    msg = decode(_frame("spotState", {"user": LOWER, "spotState": SPOT_STATE}))
    assert isinstance(msg, m.SpotStateMsg)
    state = msg.data.spotState
    usdc, hype, held, settled = state.balances
    assert (usdc.coin, usdc.token, usdc.total, usdc.hold) == ("USDC", 0, "1200.5", "100.0")
    assert (hype.ltv, hype.borrowed, hype.supplied, hype.spotHold) == ("0.65", "0.0", "4.0", "0.0")
    assert held.token is None and held.is_outcome and settled.is_outcome and not usdc.is_outcome
    assert state.portfolioMarginEnabled is True and state.portfolioMarginRatio == "0.1234"
    assert state.tokenToAvailableAfterMaintenance == [(0, "1000.0"), (150, "6.5")]
    assert state.evmEscrows == [m.EvmEscrow(coin="HYPE", total="1.5", token=150)]
    # Both spot routes land on the same stream: the frame and the subscription agree.
    assert s.message_sub_key(msg) == s.spot_state(ADDR).stream_key
    assert s.message_sub_key(msg) == s.spot_state(ADDR, True).stream_key
    assert decode(msgspec.json.encode(msg)) == msg


def test_spot_clearinghouse_state_rest_becomes_a_spot_state_push() -> None:
    req = i.spot_clearinghouse_state(ADDR)
    assert req.weight == 2
    state = i.decode_response(req, json.dumps(SPOT_STATE))
    assert isinstance(state, i.SpotClearinghouseState) and len(state.balances) == 4
    plain = i.decode_response(req, '{"balances":[]}')
    assert plain.portfolioMarginRatio is None and plain.evmEscrows is None
    msg = i.to_message(req, state)
    assert isinstance(msg, m.SpotStateMsg) and msg.data.user == LOWER
    assert s.message_sub_key(msg) == s.spot_state(ADDR).stream_key


# --------------------------------------------------------------------------- mode, role, history


@pytest.mark.parametrize(
    "mode", ["unifiedAccount", "portfolioMargin", "disabled", "default", "dexAbstraction"]
)
def test_user_abstraction_answers_a_bare_string(mode: str) -> None:
    req = i.user_abstraction(ADDR)
    assert req.body == {"type": "userAbstraction", "user": ADDR} and req.weight == 20
    assert i.decode_response(req, json.dumps(mode)) == mode
    with pytest.raises(ProtocolError):
        i.decode_response(req, '{"mode": "x"}')


def test_web_data3_abstraction_is_readable() -> None:
    frame = {"userState": {"user": LOWER, "abstraction": "unifiedAccount", "cumLedger": "1"}}
    msg = decode(_frame("webData3", frame))
    assert isinstance(msg, m.WebData3Msg)
    assert msg.abstraction == "unifiedAccount" and msg.user == LOWER
    bare = decode(_frame("webData3", {"userState": {"user": LOWER}}))
    assert isinstance(bare, m.WebData3Msg) and bare.abstraction is None
    odd = decode(_frame("webData3", {"userState": "x"}))
    assert isinstance(odd, m.WebData3Msg) and odd.abstraction is None and odd.user is None


@pytest.mark.parametrize(
    ("answer", "role", "master"),
    [
        ({"role": "user"}, "user", None),
        ({"role": "agent", "data": {"user": MASTER}}, "agent", MASTER),
        ({"role": "vault"}, "vault", None),
        ({"role": "subAccount", "data": {"master": MASTER}}, "subAccount", MASTER),
        ({"role": "missing"}, "missing", None),
        ({"role": "somethingNew", "data": {"x": 1}}, "somethingNew", None),
    ],
)
def test_user_role_shapes(answer: dict[str, Any], role: str, master: str | None) -> None:
    req = i.user_role(ADDR)
    assert req.weight == 60
    decoded = i.decode_response(req, json.dumps(answer))
    assert isinstance(decoded, i.UserRole)
    assert decoded.role == role and decoded.master == master


def test_portfolio_periods() -> None:
    req = i.portfolio(ADDR)
    assert req.body == {"type": "portfolio", "user": ADDR} and req.weight == 20
    body = [
        ["day", {"accountValueHistory": [[1755734400000, "1000.5"], [1755742800000, "990.0"]],
                 "pnlHistory": [[1755734400000, "0.0"]], "vlm": "12345.6"}],
        ["perpAllTime", {"accountValueHistory": [], "pnlHistory": [], "vlm": "0.0"}],
    ]  # fmt: skip
    periods = dict(i.decode_response(req, json.dumps(body)))
    assert list(periods) == ["day", "perpAllTime"]
    assert periods["day"].accountValueHistory[1] == (1755742800000, "990.0")
    assert periods["day"].vlm == "12345.6"
    # One unreadable period costs that period only.
    odd = i.decode_response(req, json.dumps([*body, ["week", {"pnlHistory": "x"}], 7]))
    assert [name for name, _ in odd] == ["day", "perpAllTime"] and odd.dropped == 2


# --------------------------------------------------------------------------- TWAP


def test_twap_states_subscription_is_per_dex_and_frames_route_by_dex() -> None:
    assert s.twap_states(ADDR).to_wire() == {"type": "twapStates", "user": LOWER}
    assert s.twap_states(ADDR, "xyz").to_wire() == {"type": "twapStates", "user": LOWER,
                                                      "dex": "xyz"}  # fmt: skip
    frame = {"dex": "xyz", "user": LOWER, "states": [[7, _twap_state(coin="xyz:TSLA")]]}
    msg = decode(_frame("twapStates", frame))
    assert isinstance(msg, m.TwapStatesMsg)
    ((twap_id, state),) = msg.data.states
    assert twap_id == 7 and state.coin == "xyz:TSLA" and state.executedSz == "0.5"
    assert s.message_sub_key(msg) == s.twap_states(ADDR, "xyz").stream_key
    default = decode(_frame("twapStates", {**frame, "dex": ""}))
    assert s.message_sub_key(default) == s.twap_states(ADDR).stream_key
    with_trigger = _twap_state(trigger={"px": "100000.0", "above": True}, stopPx="90000.0")
    msg = decode(_frame("twapStates", {"user": LOWER, "states": [[8, with_trigger]]}))
    assert isinstance(msg, m.TwapStatesMsg)
    state = msg.data.states[0][1]
    assert state.trigger == m.TwapTrigger(px="100000.0", above=True) and state.stopPx == "90000.0"


def test_twap_slice_fills_and_history_subscriptions_and_frames() -> None:
    slices = {
        "user": LOWER,
        "isSnapshot": True,
        "twapSliceFills": [{"fill": _fill(hash="0x" + "0" * 64, twapId=3), "twapId": 3}],
    }
    msg = decode(_frame("userTwapSliceFills", slices))
    assert isinstance(msg, m.UserTwapSliceFillsMsg) and msg.data.isSnapshot
    assert msg.data.twapSliceFills[0].twapId == 3 and msg.data.twapSliceFills[0].fill.twapId == 3
    assert s.message_sub_key(msg) == s.user_twap_slice_fills(ADDR).stream_key
    history = {"user": LOWER, "history": [
        {"time": 1_790_000_000, "state": _twap_state(), "status": {"status": "activated"},
         "twapId": 3},
        {"time": 1_790_000_060, "state": _twap_state(), "status": {"status": "error",
                                                                    "description": "bad"}},
    ]}  # fmt: skip
    hmsg = decode(_frame("userTwapHistory", history))
    assert isinstance(hmsg, m.UserTwapHistoryMsg) and not hmsg.data.isSnapshot
    first, second = hmsg.data.history
    assert first.time_ms == 1_790_000_000_000  # the wire says seconds
    assert first.twapId == 3 and second.twapId is None
    assert second.status == m.TwapStatus(status="error", description="bad")
    assert s.message_sub_key(hmsg) == s.user_twap_history(ADDR).stream_key
    assert s.user_twap_slice_fills(ADDR).user == s.user_twap_history(ADDR).user == LOWER


def test_twap_rest_answers_and_their_messages() -> None:
    req = i.user_twap_slice_fills(ADDR)
    assert req.weight == 20 and i.extra_weight(req.type, 41) == 3
    body = [{"fill": _fill(tid=9, twapId=3), "twapId": 3}]
    decoded = i.decode_response(req, json.dumps(body))
    msg = i.to_message(req, decoded)
    assert isinstance(msg, m.UserTwapSliceFillsMsg) and not msg.data.isSnapshot
    assert msg.data.twapSliceFills[0].fill.tid == 9
    assert decode(msgspec.json.encode(msg)) == msg
    hreq = i.twap_history(ADDR)
    hbody = [{"time": 1_790_000_000, "state": _twap_state(), "status": {"status": "finished"},
              "twapId": 3}]  # fmt: skip
    hmsg = i.to_message(hreq, i.decode_response(hreq, json.dumps(hbody)))
    assert isinstance(hmsg, m.UserTwapHistoryMsg)
    assert hmsg.data.history[0].status.status == "finished"


# --------------------------------------------------------------------------- user channel


def test_user_frame_with_only_twap_slice_fills_carries_them() -> None:
    data = {"twapSliceFills": [{"fill": _fill(tid=5, twapId=11), "twapId": 11}]}
    msg = decode(_frame("user", data))
    assert isinstance(msg, m.UserEventsMsg)
    event = msg.data
    assert not event.is_empty and event.fills is None
    assert event.twapSliceFills is not None and event.twapSliceFills[0].twapId == 11


def test_user_frame_with_twap_history_carries_it() -> None:
    data = {"twapHistory": [{"time": 1, "state": _twap_state(), "status": {"status": "stopped"}}]}
    msg = decode(_frame("user", data))
    assert isinstance(msg, m.UserEventsMsg) and not msg.data.is_empty
    assert msg.data.twapHistory is not None and msg.data.twapHistory[0].status.status == "stopped"


def test_user_frame_with_an_unknown_member_is_empty_not_an_error() -> None:
    msg = decode(_frame("user", {"somethingNew": [1]}))
    assert isinstance(msg, m.UserEventsMsg) and msg.data.is_empty


def test_fill_fields_of_2026() -> None:
    liquidator_side = _fill(
        coin="flx:CRCL", feeToken="USDH", builderFee="0.001", twapId=None,
        cloid="0xe8d5fd7ebbb4c3cff4d1803472a11463",
        liquidation={"liquidatedUser": MASTER, "markPx": "66607.0", "method": "market"},
    )  # fmt: skip
    slice_fill = _fill(tid=2, twapId=42)
    msg = decode(_frame("userFills", {"user": LOWER, "fills": [liquidator_side, slice_fill]}))
    assert isinstance(msg, m.UserFillsMsg)
    first, second = msg.data.fills
    assert first.feeToken == "USDH" and first.builderFee == "0.001" and first.fee_known
    assert first.cloid == "0xe8d5fd7ebbb4c3cff4d1803472a11463" and first.twapId is None
    assert first.liquidation == m.FillLiquidation(markPx="66607.0", method="market",
                                                  liquidatedUser=MASTER)  # fmt: skip
    assert second.twapId == 42 and second.liquidation is None and second.builderFee is None
    backstop = _fill(liquidation={"markPx": "1.0", "method": "backstop"})
    bmsg = decode(_frame("user", {"fills": [backstop]}))
    assert isinstance(bmsg, m.UserEventsMsg) and bmsg.data.fills is not None
    liq = bmsg.data.fills[0].liquidation
    assert liq is not None and liq.liquidatedUser is None and liq.method == "backstop"
