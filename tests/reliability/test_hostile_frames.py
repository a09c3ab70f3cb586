"""Hostile frames: ``decode`` and ``Store.apply`` together, on frames hypothesis builds.

Frames are generated from the wire schema itself (``msgspec.inspect`` over ``KnownMsg``): a
valid channel, the right shape most of the time, and field values drawn to hurt: numeric
strings such as ``"NaN"``, ``"1e400"``, ``"-0"``, ``""``, huge or negative integers, empty and
enormous lists, unicode, and now and then a subtree of the wrong type. Whatever ``decode``
accepts must apply without an exception, and every read the UI makes afterwards must work and
keep the store's invariants (fills unique and bounded, rings bounded, changes well formed).
Whatever it refuses must be a ``ProtocolError`` and nothing else.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlmon.protocol.decode import decode
from hlmon.protocol.errors import ProtocolError
from hlmon.protocol.messages import KnownMsg
from hlmon.state import ConnState, Store
from hlmon.state.account import _fill_order, fill_key
from hlmon.state.decimals import fmt_dec, fmt_price, pct, quantize_sig, try_dec

USER = "0x5e1a7ed3b0c4d2e6f8a9b1c3d5e7f9a2b4c6d8e0"
OTHER = "0x31ca8395cf837de08b24da3f660e77761dfb974b"
CAP = 50

NASTY_NUMBERS = [
    "0", "-0", "0.0", "1", "-1", "1e400", "-1e400", "1e-400", "NaN", "nan", "Infinity",
    "-Infinity", "inf", "", " ", "abc", "0x10", "1_000", "١٢٣", "9" * 80, "-" + "9" * 80,
    "0." + "0" * 60 + "1", "100000.5", "3.14159", "1,5", "+5", ".5", "5.", "--1",
]  # fmt: skip
NASTY_TEXT = st.one_of(
    st.sampled_from(
        ["BTC", "ETH", "@1", "xyz:AAPL", "kPEPE", "", "B", "A", USER, USER.upper(), OTHER]
    ),
    st.text(max_size=12),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(NASTY_NUMBERS),
    st.text(max_size=8),
)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def strategy_for(t: mi.Type, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy producing JSON values shaped like ``t``, mostly, with hostile values."""
    if depth > 7:  # recursive types (orders with children): stop growing
        return JSON_LEAF
    shaped = _shaped(t, depth)
    if depth == 0:
        return shaped
    # About one value in 40 is of the wrong type altogether (decode must refuse it cleanly);
    # more would make deep frames (clearinghouseState) almost never decode.
    return st.integers(0, 39).flatmap(lambda i: ANY_JSON if i == 0 else shaped)


def _shaped(t: mi.Type, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(t, mi.StructType):
        required = {f.encode_name: strategy_for(f.type, depth + 1) for f in t.fields if f.required}
        optional = {
            f.encode_name: strategy_for(f.type, depth + 1) for f in t.fields if not f.required
        }
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(t, mi.UnionType):
        return st.one_of([_shaped(x, depth) for x in t.types])
    if isinstance(t, mi.StrType):
        return st.one_of(st.sampled_from(NASTY_NUMBERS), NASTY_TEXT)
    if isinstance(t, mi.IntType):
        return st.one_of(
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.integers(min_value=0, max_value=2_000_000_000_000),
            st.sampled_from([0, 1, -1, 2**63 - 1]),
        )
    if isinstance(t, mi.FloatType):
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(list(t.values))
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        size = 0 if depth > 6 else 6
        return st.lists(strategy_for(t.item_type, depth + 1), max_size=size)
    if isinstance(t, mi.TupleType):
        return st.tuples(*[strategy_for(x, depth + 1) for x in t.item_types]).map(list)
    if isinstance(t, mi.DictType):
        return st.dictionaries(
            st.one_of(st.sampled_from(["BTC", "ETH", "@1"]), st.text(max_size=6)),
            strategy_for(t.value_type, depth + 1),
            max_size=5,
        )
    return ANY_JSON  # AnyType and anything exotic


_UNION = mi.type_info(KnownMsg)
assert isinstance(_UNION, mi.UnionType)
FRAMES = st.one_of(
    [
        st.builds(
            lambda data, tag=t.tag: {"channel": tag, "data": data},
            strategy_for(next(f.type for f in t.fields if f.encode_name == "data"), 1),
        )
        for t in _UNION.types
        if isinstance(t, mi.StructType) and any(f.encode_name == "data" for f in t.fields)
    ]
)


def _read_everything(store: Store) -> None:
    """Every read the UI and snapshot make, and the invariants they rely on."""
    coins = set(store.mids) | {"BTC", "ETH", "@1", ""}
    for coin in coins:
        store.book(coin)
        store.bbo(coin)
        assert len(store.trades(coin)) <= CAP
        store.ctx(coin)
        store.spot_ctx(coin)
        store.asset_data(coin)
        store.candles(coin)
    store.account_summary()
    rows = store.accounts()
    store.accounts_total(rows)
    for address in (USER, OTHER):
        store.account_stamp(address)
    for pos in store.positions():
        for text in (pos.unrealized_pnl, pos.live_upnl, pos.position_value):
            assert isinstance(text, str)
    store.open_orders()
    fills = store.fills()
    keys = [fill_key(f) for f in fills]  # the store's identity: (tid, oid), or more without tid
    assert len(keys) == len(set(keys)) and len(keys) <= CAP
    assert fills == sorted(fills, key=_fill_order, reverse=True)
    assert len(store.fundings()) <= CAP
    store.ledger()
    store.liquidations()
    store.feed_statuses()
    store.health.msgs_per_s()
    store.newest_fill_time()
    changes = store.take_changes()
    assert all(isinstance(c, str) and c for c in changes)


def _store() -> Store:
    store = Store(
        lambda: 1_790_000_000.0, trades_cap=CAP, fills_cap=CAP, fundings_cap=CAP, ledger_cap=CAP
    )
    store.set_user(USER)
    store.set_watched_users([USER, OTHER])
    store.set_watch(["BTC", "ETH"])
    store.health.set_connection(ConnState.LIVE, url="ws://127.0.0.1/ws")
    for key in ("mids", "book:BTC", "account", "orders", "fills"):
        store.expect(key)
    return store


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAMES, min_size=1, max_size=8))
def test_hostile_frames_decode_or_refuse_and_apply_cleanly(frames: list[dict[str, Any]]) -> None:
    store = _store()
    for frame in frames:
        raw = msgspec.json.encode(frame)
        try:
            msg = decode(raw)
        except ProtocolError:
            continue  # refused cleanly: that is allowed
        store.apply(msg)
        _read_everything(store)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_only_ever_raise_protocol_error(data: bytes | str) -> None:
    store = _store()
    try:
        msg = decode(data)
    except ProtocolError as exc:
        assert len(exc.snippet) <= 200
        return
    store.apply(msg)
    _read_everything(store)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NASTY_NUMBERS) | st.text(max_size=20))
def test_decimal_helpers_never_raise_on_nasty_numbers(text: str) -> None:
    """The derived numbers (uPnL, ROE, liquidation distance) go through these on every read."""
    value = try_dec(text)
    assert fmt_price(text) is not None
    if value is not None:
        assert isinstance(fmt_dec(value), str)
        assert isinstance(fmt_dec(quantize_sig(value)), str)
        pct(value, value)


def _clearinghouse(
    szi: str,
    entry: str,
    *,
    value: str = "1",
    acct: str = "1",
    maint: str = "1",
    liq: str | None = None,
) -> bytes:
    summary = {"accountValue": acct, "totalNtlPos": "0", "totalRawUsd": "0", "totalMarginUsed": "0"}
    position = {
        "coin": "BTC", "szi": szi, "leverage": {"type": "cross", "value": 20}, "entryPx": entry,
        "positionValue": value, "unrealizedPnl": "0", "returnOnEquity": "0",
        "liquidationPx": liq, "marginUsed": "1",
    }  # fmt: skip
    state = {
        "marginSummary": summary, "crossMarginSummary": summary,
        "crossMaintenanceMarginUsed": maint, "withdrawable": "0",
        "assetPositions": [{"type": "oneWay", "position": position}], "time": 1,
    }  # fmt: skip
    data = {"dex": "", "user": USER, "clearinghouseState": state}
    return msgspec.json.encode({"channel": "clearinghouseState", "data": data})


@pytest.mark.parametrize(
    ("szi", "entry", "extra"),
    [
        ("1e30", "1", {}),  # uPnL needs more digits than Decimal's default context
        ("1", "1e999999", {}),  # overflow
        ("1", "1", {"maint": "1e400", "acct": "1e-400"}),  # margin ratio overflows 48 digits
        ("1", "1", {"liq": "1e500"}),
        ("1", "1", {"value": "1e999999"}),
    ],
)
def test_huge_numbers_in_clearinghouse_state_do_not_raise(
    szi: str, entry: str, extra: dict[str, Any]
) -> None:
    """Found by the hostile-frame test: Decimal quantize/overflow errors escaped from
    ``Store.apply`` (account summary row) and from ``positions()`` on every read."""
    store = _store()
    store.apply(decode(_clearinghouse(szi, entry, **extra)))
    _read_everything(store)
    assert store.positions()[0].szi == szi
    summary = store.account_summary()
    assert summary is not None and summary.exchange_account_value == extra.get("acct", "1")
    assert isinstance(summary.account_value, str)  # equity at the marks: computed or passed on
