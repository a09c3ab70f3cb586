"""The HIP-3 shapes of the 2026 protocol page: per-dex mids, states and orders, every-dex state,
the dex-aware subscriptions and /info builders, and the l2Book parameter rules."""

from __future__ import annotations

import itertools
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
_SUMMARY = {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0",
            "totalMarginUsed": "0.0"}  # fmt: skip


def _state(coin: str | None = None, value: str = "0.0") -> dict[str, Any]:
    positions = []
    if coin is not None:
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": coin, "szi": "-212.78", "leverage": {"type": "cross", "value": 10},
                    "entryPx": "150.1", "positionValue": "31940.0", "unrealizedPnl": "-1.0",
                    "returnOnEquity": "0.0", "marginUsed": "3194.0", "liquidationPx": None,
                },
            }
        )  # fmt: skip
    return {
        "marginSummary": {**_SUMMARY, "accountValue": value},
        "crossMarginSummary": {**_SUMMARY, "accountValue": value},
        "crossMaintenanceMarginUsed": "43452.918775",
        "withdrawable": "2720674.5776",
        "assetPositions": positions,
        "time": 1791280776159,
    }


def _frame(channel: str, data: Any) -> str:
    return json.dumps({"channel": channel, "data": data})


# --------------------------------------------------------------------------- allMids with dex


def test_all_mids_of_a_hip3_dex_carries_its_dex() -> None:
    raw = _frame("allMids", {"dex": "xyz", "mids": {"xyz:AAOI": "99.8285", "xyz:AAPL": "336.3"}})
    msg = decode(raw)
    assert isinstance(msg, m.AllMidsMsg)
    assert msg.data.dex == "xyz" and msg.data.dex_name == "xyz"
    assert msg.data.mids["xyz:AAPL"] == "336.3"
    assert s.message_sub_key(msg) == s.all_mids("xyz").stream_key


def test_all_mids_of_the_default_dex_has_no_dex_key() -> None:
    msg = decode(_frame("allMids", {"mids": {"BTC": "1", "@107": "2", "PURR/USDC": "3"}}))
    assert isinstance(msg, m.AllMidsMsg)
    assert msg.data.dex is None and msg.data.dex_name == ""
    assert s.message_sub_key(msg) == s.all_mids().stream_key == s.all_mids("").stream_key


def test_several_all_mids_streams_route_apart() -> None:
    """Each frame maps to its own subscription's key: the default, xyz and flx never mix."""
    keys = {
        s.message_sub_key(decode(_frame("allMids", data)))
        for data in (
            {"mids": {"BTC": "1"}},
            {"dex": "xyz", "mids": {"xyz:TSLA": "1"}},
            {"dex": "flx", "mids": {"flx:TSLA": "1"}},
            {"dex": "", "mids": {"ETH": "1"}},  # an explicit "" is the default dex too
        )
    }
    assert keys == {s.all_mids().stream_key, s.all_mids("xyz").stream_key,
                    s.all_mids("flx").stream_key}  # fmt: skip


# --------------------------------------------------------------------------- every-dex state


def test_all_dexs_clearinghouse_state_tuples_by_dex_name() -> None:
    data = {
        "user": LOWER,
        "clearinghouseStates": [["", _state("SOL", "3155203.766")], ["xyz", _state()]],
    }
    msg = decode(_frame("allDexsClearinghouseState", data))
    assert isinstance(msg, m.AllDexsClearinghouseStateMsg)
    states = msg.data.by_dex()
    assert list(states) == ["", "xyz"]
    assert states[""].marginSummary.accountValue == "3155203.766"
    assert states[""].assetPositions[0].position.coin == "SOL"
    assert states["xyz"].assetPositions == []
    assert msg.data.dropped == 0
    sub = s.all_dexs_clearinghouse_state(ADDR)
    assert sub.to_wire() == {"type": "allDexsClearinghouseState", "user": LOWER}
    assert s.message_sub_key(msg) == sub.stream_key
    assert decode(msgspec.json.encode(msg)) == msg


def test_all_dexs_clearinghouse_state_without_the_default_entry() -> None:
    """A payload without the "" entry decodes; the default dex is then unknown, not empty."""
    data = {"user": LOWER, "clearinghouseStates": [["xyz", _state("xyz:TSLA", "12.5")]]}
    msg = decode(_frame("allDexsClearinghouseState", data))
    assert isinstance(msg, m.AllDexsClearinghouseStateMsg)
    states = msg.data.by_dex()
    assert "" not in states
    assert states["xyz"].assetPositions[0].position.coin == "xyz:TSLA"


def test_all_dexs_clearinghouse_state_keeps_readable_dexes() -> None:
    """One malformed dex entry costs that dex, counted, never the whole frame."""
    data = {
        "user": LOWER,
        "clearinghouseStates": [
            ["", _state("BTC")],
            ["xyz", {"marginSummary": None}],
            ["flx"],
            "junk",
            ["km", _state("km:US500")],
        ],
    }
    msg = decode(_frame("allDexsClearinghouseState", data))
    assert isinstance(msg, m.AllDexsClearinghouseStateMsg)
    assert list(msg.data.by_dex()) == ["", "km"]
    assert msg.data.dropped == 3
    assert decode(msgspec.json.encode(msg)) == msg


@pytest.mark.parametrize(
    "data",
    [None, [], {"clearinghouseStates": []}, {"user": LOWER}, {"user": 5, "clearinghouseStates": []},
     {"user": LOWER, "clearinghouseStates": {"": {}}}],  # a Record (pre-2026-04 docs) is no list
)  # fmt: skip
def test_all_dexs_clearinghouse_state_bad_frame_raises(data: Any) -> None:
    with pytest.raises(ProtocolError):
        decode(_frame("allDexsClearinghouseState", data))


# --------------------------------------------------------------------------- per-dex state/orders


def test_clearinghouse_state_frame_with_dex() -> None:
    data = {"dex": "xyz", "user": LOWER, "clearinghouseState": _state("xyz:TSLA")}
    msg = decode(_frame("clearinghouseState", data))
    assert isinstance(msg, m.ClearinghouseStateMsg)
    assert msg.data.dex == "xyz"
    assert s.message_sub_key(msg) == s.clearinghouse_state(ADDR, "xyz").stream_key
    assert s.message_sub_key(msg) != s.clearinghouse_state(ADDR).stream_key
    default = decode(_frame("clearinghouseState", {**data, "dex": ""}))
    assert s.message_sub_key(default) == s.clearinghouse_state(ADDR).stream_key


def test_open_orders_frame_with_dex() -> None:
    order = {"coin": "xyz:TSLA", "side": "B", "limitPx": "250.0", "sz": "2.0", "oid": 7,
             "timestamp": 1, "origSz": "2.0", "children": []}  # fmt: skip
    msg = decode(_frame("openOrders", {"dex": "xyz", "user": LOWER, "orders": [order]}))
    assert isinstance(msg, m.OpenOrdersMsg)
    assert msg.data.dex == "xyz" and msg.data.orders[0].coin == "xyz:TSLA"
    assert s.message_sub_key(msg) == s.open_orders(ADDR, "xyz").stream_key
    no_dex = decode(_frame("openOrders", {"user": LOWER, "orders": []}))  # dex absent = default
    assert isinstance(no_dex, m.OpenOrdersMsg) and no_dex.data.dex == ""
    assert s.message_sub_key(no_dex) == s.open_orders(ADDR, "").stream_key


# --------------------------------------------------------------------------- subscriptions


@pytest.mark.parametrize(
    ("sub", "wire"),
    [
        (s.clearinghouse_state(ADDR, "xyz"),
         {"type": "clearinghouseState", "user": LOWER, "dex": "xyz"}),
        (s.clearinghouse_state(ADDR, None), {"type": "clearinghouseState", "user": LOWER}),
        (s.open_orders(ADDR, "flx"), {"type": "openOrders", "user": LOWER, "dex": "flx"}),
        (s.all_mids("hyna"), {"type": "allMids", "dex": "hyna"}),
        (s.all_dexs_clearinghouse_state(ADDR), {"type": "allDexsClearinghouseState",
                                                "user": LOWER}),
    ],
)  # fmt: skip
def test_dex_sits_inside_the_subscription(sub: s.Subscription, wire: dict[str, Any]) -> None:
    assert json.loads(s.subscribe_frame(sub)) == {"method": "subscribe", "subscription": wire}


@pytest.mark.parametrize(
    ("sub", "echo", "matches"),
    [
        # The default dex: sent without dex; echoed without it or with "".
        (s.clearinghouse_state(ADDR), {"type": "clearinghouseState", "user": LOWER}, True),
        (s.clearinghouse_state(ADDR), {"type": "clearinghouseState", "user": ADDR, "dex": ""},
         True),
        (s.open_orders(ADDR, ""), {"dex": "", "user": LOWER, "type": "openOrders"}, True),
        (s.all_mids(), {"type": "allMids", "dex": ""}, True),
        # A HIP-3 dex only matches its own echo.
        (s.clearinghouse_state(ADDR, "xyz"),
         {"type": "clearinghouseState", "user": LOWER, "dex": "xyz"}, True),
        (s.clearinghouse_state(ADDR, "xyz"), {"type": "clearinghouseState", "user": LOWER},
         False),
        (s.clearinghouse_state(ADDR), {"type": "clearinghouseState", "user": LOWER,
                                       "dex": "xyz"}, False),
        (s.open_orders(ADDR, "xyz"), {"type": "openOrders", "user": LOWER, "dex": "flx"}, False),
        (s.all_mids("xyz"), {"type": "allMids", "dex": "xyz"}, True),
        (s.all_dexs_clearinghouse_state(ADDR),
         {"type": "allDexsClearinghouseState", "user": ADDR}, True),
        (s.all_dexs_clearinghouse_state(ADDR),
         {"type": "clearinghouseState", "user": LOWER}, False),
    ],
)  # fmt: skip
def test_ack_matching_with_dex(sub: s.Subscription, echo: dict[str, Any], matches: bool) -> None:
    ack = decode(_frame("subscriptionResponse", {"method": "subscribe", "subscription": echo}))
    assert isinstance(ack, m.SubscriptionResponseMsg)
    assert s.ack_matches(sub, ack.data) is matches
    assert (sub.key == s.canonical_key(echo)) is matches


@pytest.mark.parametrize("dex", ["xyz:", " xyz", "x yz", "xyz\n", 5, b"xyz"])
def test_bad_dex_names_are_refused(dex: Any) -> None:
    for make in (
        lambda: s.all_mids(dex),
        lambda: s.clearinghouse_state(ADDR, dex),
        lambda: s.open_orders(ADDR, dex),
        lambda: i.all_mids(dex),
        lambda: i.meta(dex),
        lambda: i.meta_and_asset_ctxs(dex),
        lambda: i.clearinghouse_state(ADDR, dex),
        lambda: i.frontend_open_orders(ADDR, dex),
        lambda: i.open_orders(ADDR, dex),
    ):
        with pytest.raises(ValueError, match="dex must be"):
            make()


# --------------------------------------------------------------------------- l2Book parameters

_N_SIG_FIGS: list[Any] = [None, 0, 1, 2, 3, 4, 5, 6, 7, True, "5"]
_MANTISSAS: list[Any] = [None, 0, 1, 2, 3, 4, 5, 6, 10, True, "2"]


def _safe(n_sig_figs: Any, mantissa: Any) -> bool:
    """The 2026 page's only safe combinations, restated independently of the code."""
    n_ok = n_sig_figs is None or (type(n_sig_figs) is int and n_sig_figs in (2, 3, 4, 5))
    m_ok = mantissa is None or (
        type(mantissa) is int and mantissa in (2, 5) and n_sig_figs == 5 and type(n_sig_figs) is int
    )
    return n_ok and m_ok


@pytest.mark.parametrize(("n_sig_figs", "mantissa"), itertools.product(_N_SIG_FIGS, _MANTISSAS))
def test_l2_book_params_are_checked_before_anything_is_built(
    n_sig_figs: Any, mantissa: Any
) -> None:
    if _safe(n_sig_figs, mantissa):
        sub = s.l2_book("BTC", n_sig_figs, mantissa)
        assert sub.get("nSigFigs") == n_sig_figs and sub.get("mantissa") == mantissa
        req = i.l2_book("BTC", n_sig_figs, mantissa)
        assert req.body.get("nSigFigs") == n_sig_figs and req.body.get("mantissa") == mantissa
        return
    with pytest.raises(ValueError):
        s.l2_book("BTC", n_sig_figs, mantissa)
    with pytest.raises(ValueError):
        i.l2_book("BTC", n_sig_figs, mantissa)
    with pytest.raises(ValueError):
        s.l2_book("BTC", n_sig_figs, mantissa, fast=True)


# --------------------------------------------------------------------------- /info builders


@pytest.mark.parametrize(
    ("req", "body", "weight"),
    [
        (i.perp_dexs(), {"type": "perpDexs"}, 20),
        (i.all_perp_metas(), {"type": "allPerpMetas"}, 20),
        (i.spot_meta(), {"type": "spotMeta"}, 20),
        (i.outcome_meta(), {"type": "outcomeMeta"}, 20),
        (i.meta("xyz"), {"type": "meta", "dex": "xyz"}, 20),
        (i.meta(""), {"type": "meta"}, 20),
        (i.meta_and_asset_ctxs("xyz"), {"type": "metaAndAssetCtxs", "dex": "xyz"}, 20),
        (i.all_mids("flx"), {"type": "allMids", "dex": "flx"}, 2),
        (i.clearinghouse_state(ADDR, "km"),
         {"type": "clearinghouseState", "user": ADDR, "dex": "km"}, 2),
        (i.frontend_open_orders(ADDR, "xyz"),
         {"type": "frontendOpenOrders", "user": ADDR, "dex": "xyz"}, 20),
        (i.open_orders(ADDR, "xyz"), {"type": "openOrders", "user": ADDR, "dex": "xyz"}, 20),
    ],
)  # fmt: skip
def test_catalog_and_per_dex_builders(
    req: i.InfoRequest, body: dict[str, Any], weight: int
) -> None:
    assert req.body == body and req.weight == weight
    assert i.from_body(body) == req


def test_catalog_load_costs_80_weight() -> None:
    """perpDexs + allPerpMetas + spotMeta + outcomeMeta, as the protocol page adds it up."""
    reqs = (i.perp_dexs(), i.all_perp_metas(), i.spot_meta(), i.outcome_meta())
    assert sum(r.weight for r in reqs) == 80
    assert all(i.extra_weight(r.type, 5000) == 0 for r in reqs)


def test_per_dex_rest_answers_become_messages_that_carry_the_dex() -> None:
    mids = i.decode_response(i.all_mids("xyz"), '{"xyz:TSLA":"250.5"}')
    msg = i.to_message(i.all_mids("xyz"), mids)
    assert isinstance(msg, m.AllMidsMsg) and msg.data.dex_name == "xyz"
    assert s.message_sub_key(msg) == s.all_mids("xyz").stream_key

    state = i.decode_response(i.clearinghouse_state(ADDR, "xyz"), json.dumps(_state("xyz:TSLA")))
    msg2 = i.to_message(i.clearinghouse_state(ADDR, "xyz"), state)
    assert isinstance(msg2, m.ClearinghouseStateMsg)
    assert msg2.data.dex == "xyz" and msg2.data.user == LOWER
    assert s.message_sub_key(msg2) == s.clearinghouse_state(ADDR, "xyz").stream_key

    for req in (i.frontend_open_orders(ADDR, "flx"), i.open_orders(ADDR, "flx")):
        msg3 = i.to_message(req, [])
        assert isinstance(msg3, m.OpenOrdersMsg) and msg3.data.dex == "flx"
        assert s.message_sub_key(msg3) == s.open_orders(ADDR, "flx").stream_key

    for converted in (msg, msg2, msg3):
        assert decode(msgspec.json.encode(converted)) == converted
