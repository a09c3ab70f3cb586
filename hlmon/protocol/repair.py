"""Tolerant readers of account answers (REST) and account frames (websocket).

Used only after the strict decode of an answer or frame failed (see ``tolerant``). Per item:

- identity fields stay required: a fill needs ``coin``, ``oid``, ``px``, ``sz``, ``side``,
  ``time`` and a ``tid`` or a ``hash``; an order its ``coin`` and ``oid`` (and side, size,
  price); a position its ``coin`` and ``szi``; a balance its ``coin`` and ``total``. Without
  them the item is left out (``dropped``).
- a missing non-essential field gets a neutral default, and the item counts as
  ``defaulted``: a fill without ``fee`` gets ``fee "0"`` with ``feeToken ""`` (unknown, so no
  fee total adds it to a real token), texts get ``""``, a clearinghouse state without
  ``withdrawable`` gets ``"0.0"``. An optional field of the wrong type is removed (its
  default applies), also counted.

Results keep the strict types; the counts ride on the container (``UserFills.dropped``,
``ClearinghouseState.defaulted``, ...) or, for REST list answers, on a ``TolerantList``.
``tolerance_of`` reads them from any decoded value, so a caller can log them once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from hlmon.protocol.account_types import (
    AssetPosition,
    ClearinghouseState,
    Fill,
    FrontendOrder,
    Funding,
    LedgerUpdate,
    Liquidation,
    MarginSummary,
    NonUserCancel,
    OrderUpdate,
    OrderUpdateOrder,
    OrderWithStatus,
    PortfolioPeriod,
    Position,
    SpotBalance,
    SpotClearinghouseState,
    TwapHistoryItem,
    TwapSliceFill,
    TwapState,
    UserFundingDelta,
    UserFundingItem,
)
from hlmon.protocol.messages import (
    AllDexsClearinghouseState,
    AllDexsClearinghouseStateMsg,
    ClearinghouseStateData,
    ClearinghouseStateMsg,
    Message,
    OpenOrdersData,
    OpenOrdersMsg,
    OrderUpdatesMsg,
    SpotStateData,
    SpotStateMsg,
    TwapStatesData,
    TwapStatesMsg,
    UserEvent,
    UserEventsMsg,
    UserFills,
    UserFillsMsg,
    UserFundings,
    UserFundingsMsg,
    UserNonFundingLedgerUpdates,
    UserNonFundingLedgerUpdatesMsg,
    UserTwapHistory,
    UserTwapHistoryMsg,
    UserTwapSliceFills,
    UserTwapSliceFillsMsg,
)
from hlmon.protocol.tolerant import (
    Bad,
    Patch,
    Tally,
    TolerantList,
    fill_missing,
    fits,
    no_patch,
    obj,
    patched,
    repaired,
    repaired_list,
    repaired_raw,
    require,
    tolerant_list,
)

# --------------------------------------------------------------------------- item patches


def _drop_malformed_optionals(item: dict[str, Any], tp: type[Any]) -> int:
    """Remove optional fields whose value does not fit, so their default applies."""
    n = 0
    for f in msgspec.structs.fields(tp):
        if f.required or f.encode_name not in item:
            continue
        if not fits(item[f.encode_name], f.type):
            del item[f.encode_name]
            n += 1
    return n


def _patcher(
    tp: type[Any],
    required: tuple[str, ...],
    defaults: Mapping[str, Any],
    nested: Callable[[dict[str, Any], Tally], int] | None = None,
) -> Patch:
    def patch(item: dict[str, Any], tally: Tally) -> int:
        require(item, *required)
        n = nested(item, tally) if nested is not None else 0
        n += fill_missing(item, defaults)
        return n + _drop_malformed_optionals(item, tp)

    return patch


def _fill_identity(item: dict[str, Any], tally: Tally) -> int:
    tid, hash_ = item.get("tid"), item.get("hash")
    # type() and not isinstance(): a JSON true is no trade id (bool is an int in Python, and
    # the malformed tid would then be dropped, leaving a fill without any identity).
    if not (type(tid) is int and tid) and not (isinstance(hash_, str) and hash_):
        raise Bad("fill without tid or hash")
    if item.get("fee") is None:
        # The fee is unknown, not zero: feeToken "" keeps it out of every token's total.
        item["fee"], item["feeToken"] = "0", ""
        return 1
    return 0


patch_fill = _patcher(
    Fill,
    ("coin", "oid", "px", "sz", "side", "time"),
    {"hash": "", "startPosition": "", "dir": "", "closedPnl": "0", "crossed": False},
    _fill_identity,
)


def _nested(key: str, patch: Patch) -> Callable[[dict[str, Any], Tally], int]:
    """Patch the object under ``key`` in place (a copy); Bad when it cannot be read."""

    def apply(item: dict[str, Any], tally: Tally) -> int:
        inner = item.get(key)
        if not isinstance(inner, dict):
            raise Bad(f"{key} is not an object")
        scratch = Tally()
        fixed = patched(inner, patch, scratch)
        if fixed is None:
            raise Bad(f"{key} cannot be read")
        item[key] = fixed
        tally.dropped += scratch.dropped  # items left out inside it (an order's children)
        return scratch.defaulted

    return apply


def _order_children(item: dict[str, Any], tally: Tally) -> int:
    children = item.get("children")
    if not isinstance(children, list):
        return 0
    item["children"] = repaired_raw(children, FrontendOrder, patch_order, tally, "children")
    return 0


patch_order = _patcher(
    FrontendOrder, ("coin", "oid", "side", "sz", "limitPx"), {"timestamp": 0}, _order_children
)
_patch_update_order = _patcher(
    OrderUpdateOrder,
    ("coin", "oid", "side", "sz", "limitPx"),
    {"timestamp": 0, "origSz": ""},
)
patch_order_update = _patcher(
    OrderUpdate, ("order", "status"), {"statusTimestamp": 0}, _nested("order", _patch_update_order)
)
patch_order_with_status = _patcher(
    OrderWithStatus, ("order", "status"), {"statusTimestamp": 0}, _nested("order", patch_order)
)
patch_funding = _patcher(Funding, ("time", "coin", "usdc"), {"szi": "", "fundingRate": ""})
_patch_funding_delta = _patcher(
    UserFundingDelta,
    ("coin", "usdc"),
    {"type": "funding", "szi": "", "fundingRate": ""},
)
patch_user_funding = _patcher(
    UserFundingItem, ("time", "delta"), {"hash": ""}, _nested("delta", _patch_funding_delta)
)
patch_ledger = _patcher(LedgerUpdate, ("time", "hash", "delta"), {})
patch_balance = _patcher(SpotBalance, ("coin", "total"), {"hold": "0.0"})
_patch_position = _patcher(
    Position,
    ("coin", "szi", "leverage", "positionValue", "unrealizedPnl", "marginUsed"),
    {"entryPx": None, "returnOnEquity": "0"},
)
patch_asset_position = _patcher(
    AssetPosition, ("position",), {}, _nested("position", _patch_position)
)
_patch_summary = _patcher(
    MarginSummary,
    ("accountValue",),
    {"totalNtlPos": "0.0", "totalRawUsd": "0.0", "totalMarginUsed": "0.0"},
)


def _state_parts(item: dict[str, Any], tally: Tally) -> int:
    n = _nested("marginSummary", _patch_summary)(item, tally)
    n += _nested("crossMarginSummary", _patch_summary)(item, tally)
    item["assetPositions"] = repaired_raw(
        item.get("assetPositions"), AssetPosition, patch_asset_position, tally, "assetPositions"
    )
    return n


# ``assetPositions`` stays required: a state without it does not say "no positions".
patch_state = _patcher(
    ClearinghouseState, ("assetPositions",), {"withdrawable": "0.0"}, _state_parts
)
patch_twap_state = _patcher(
    TwapState, ("coin", "side", "sz", "executedSz", "minutes", "timestamp"), {"executedNtl": ""}
)


def _slice_fill(item: dict[str, Any], tally: Tally) -> int:
    n = _nested("fill", patch_fill)(item, tally)
    if item.get("twapId") is None:
        twap_id = item["fill"].get("twapId")
        if not isinstance(twap_id, int):
            raise Bad("TWAP slice fill without twapId")
        item["twapId"] = twap_id
        n += 1
    return n


patch_slice_fill = _patcher(TwapSliceFill, ("fill",), {}, _slice_fill)
patch_twap_history = _patcher(
    TwapHistoryItem, ("time", "state", "status"), {}, _nested("state", patch_twap_state)
)


def _spot_balances(item: dict[str, Any], tally: Tally) -> int:
    item["balances"] = repaired_raw(
        item.get("balances"), SpotBalance, patch_balance, tally, "balances"
    )
    return 0


patch_spot_state = _patcher(SpotClearinghouseState, ("balances",), {}, _spot_balances)


# --------------------------------------------------------------------------- containers


def _whole(raw: Any, tp: type[Any], patch: Patch, what: str) -> Any:
    """One object answer (a state) read tolerantly; Bad when it cannot be read at all."""
    tally = Tally()
    value = repaired(raw, tp, patch, tally)
    if value is None:
        raise Bad(f"{what} cannot be read")
    value.dropped, value.defaulted = tally.dropped, tally.defaulted
    return value


def _list_reader(tp: type[Any], patch: Patch, what: str) -> Callable[[Any], TolerantList[Any]]:
    def read(raw: Any) -> TolerantList[Any]:
        tally = Tally()
        return tolerant_list(repaired_list(raw, tp, patch, tally, what), tally)

    return read


def _portfolio(raw: Any) -> TolerantList[Any]:
    tally = Tally()
    kept = repaired_list(raw, tuple[str, PortfolioPeriod], no_patch, tally, "portfolio")
    return tolerant_list(kept, tally)


REST_READERS: dict[str, Callable[[Any], Any]] = {
    "userFills": _list_reader(Fill, patch_fill, "userFills"),
    "userFillsByTime": _list_reader(Fill, patch_fill, "userFillsByTime"),
    "userTwapSliceFills": _list_reader(TwapSliceFill, patch_slice_fill, "userTwapSliceFills"),
    "userTwapSliceFillsByTime": _list_reader(
        TwapSliceFill, patch_slice_fill, "userTwapSliceFillsByTime"
    ),
    "twapHistory": _list_reader(TwapHistoryItem, patch_twap_history, "twapHistory"),
    "userFunding": _list_reader(UserFundingItem, patch_user_funding, "userFunding"),
    "userNonFundingLedgerUpdates": _list_reader(LedgerUpdate, patch_ledger, "ledger updates"),
    "openOrders": _list_reader(FrontendOrder, patch_order, "openOrders"),
    "frontendOpenOrders": _list_reader(FrontendOrder, patch_order, "frontendOpenOrders"),
    "historicalOrders": _list_reader(OrderWithStatus, patch_order_with_status, "orders"),
    "clearinghouseState": lambda raw: _whole(
        raw, ClearinghouseState, patch_state, "clearinghouseState"
    ),
    "spotClearinghouseState": lambda raw: _whole(
        raw, SpotClearinghouseState, patch_spot_state, "spotClearinghouseState"
    ),
    "portfolio": _portfolio,
}
"""Tolerant reader (parsed JSON in, the ``RESPONSE_TYPES`` value out) per account info type."""


# --------------------------------------------------------------------------- frames


def _user(data: dict[str, Any]) -> str:
    user = data.get("user")
    if not isinstance(user, str):
        raise Bad("frame has no string 'user'")
    return user


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else False


def _feed(
    key: str, tp: type[Any], patch: Patch, build: Callable[..., Message], container: type[Any]
) -> Callable[[Any], Message]:
    """A reader for ``{user, <key>: [items], isSnapshot?}`` frames."""

    def read(raw: Any) -> Message:
        data = obj(raw, "data")
        tally = Tally()
        kept = repaired_list(data.get(key), tp, patch, tally, key)
        inner = container(
            user=_user(data),
            isSnapshot=_flag(data.get("isSnapshot")),
            dropped=tally.dropped,
            defaulted=tally.defaulted,
            **{key: kept},
        )
        return build(data=inner)

    return read


def _open_orders(raw: Any) -> Message:
    data = obj(raw, "data")
    tally = Tally()
    orders = repaired_list(data.get("orders"), FrontendOrder, patch_order, tally, "orders")
    dex = data.get("dex")
    inner = OpenOrdersData(_user(data), orders, dex if isinstance(dex, str) else "",
                           tally.dropped, tally.defaulted)  # fmt: skip
    return OpenOrdersMsg(data=inner)


def _clearinghouse(raw: Any) -> Message:
    data = obj(raw, "data")
    state = _whole(data.get("clearinghouseState"), ClearinghouseState, patch_state, "state")
    dex = data.get("dex")
    inner = ClearinghouseStateData(_user(data), state, dex if isinstance(dex, str) else "")
    return ClearinghouseStateMsg(data=inner)


def _all_dexs(raw: Any) -> Message:
    """Per ``[dex, state]`` entry: one unreadable dex costs that dex, not the whole frame."""
    data = obj(raw, "data")
    entries = data.get("clearinghouseStates")
    if not isinstance(entries, list):
        raise Bad("clearinghouseStates is not a list")
    tally = Tally()
    kept: list[tuple[str, ClearinghouseState]] = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            tally.dropped += 1
            continue
        state = repaired(entry[1], ClearinghouseState, patch_state, tally)
        if state is not None:
            kept.append((entry[0], state))
    inner = AllDexsClearinghouseState(_user(data), kept, tally.dropped, tally.defaulted)
    return AllDexsClearinghouseStateMsg(data=inner)


def _order_updates(raw: Any) -> Message:
    tally = Tally()
    kept = repaired_list(raw, OrderUpdate, patch_order_update, tally, "orderUpdates")
    return OrderUpdatesMsg(data=kept, dropped=tally.dropped, defaulted=tally.defaulted)


def _spot_state(raw: Any) -> Message:
    data = obj(raw, "data")
    state = _whole(data.get("spotState"), SpotClearinghouseState, patch_spot_state, "spotState")
    return SpotStateMsg(data=SpotStateData(_user(data), state))


def _twap_states(raw: Any) -> Message:
    data = obj(raw, "data")
    entries = data.get("states")
    if not isinstance(entries, list):
        raise Bad("states is not a list")
    tally = Tally()
    kept: list[tuple[int, TwapState]] = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int)):
            tally.dropped += 1
            continue
        state = repaired(entry[1], TwapState, patch_twap_state, tally)
        if state is not None:
            kept.append((entry[0], state))
    dex = data.get("dex")
    inner = TwapStatesData(_user(data), kept, dex if isinstance(dex, str) else "",
                           tally.dropped, tally.defaulted)  # fmt: skip
    return TwapStatesMsg(data=inner)


_EVENT_LISTS: dict[str, tuple[type[Any], Patch]] = {
    "fills": (Fill, patch_fill),
    "nonUserCancel": (NonUserCancel, no_patch),
    "twapSliceFills": (TwapSliceFill, patch_slice_fill),
    "twapHistory": (TwapHistoryItem, patch_twap_history),
}
_EVENT_ITEMS: dict[str, tuple[type[Any], Patch]] = {
    "funding": (Funding, patch_funding),
    "liquidation": (Liquidation, no_patch),
}


def _user_event(raw: Any) -> Message:
    data = obj(raw, "data")
    tally = Tally()
    members: dict[str, Any] = {}
    for key, (tp, patch) in _EVENT_LISTS.items():
        if data.get(key) is not None:
            members[key] = repaired_list(data[key], tp, patch, tally, key)
    for key, (tp, patch) in _EVENT_ITEMS.items():
        if data.get(key) is not None:
            members[key] = repaired(data[key], tp, patch, tally)
    event = UserEvent(**members, dropped=tally.dropped, defaulted=tally.defaulted)
    return UserEventsMsg(data=event)


FRAME_READERS: dict[str, Callable[[Any], Message]] = {
    "userFills": _feed("fills", Fill, patch_fill, UserFillsMsg, UserFills),
    "userFundings": _feed("fundings", Funding, patch_funding, UserFundingsMsg, UserFundings),
    "userNonFundingLedgerUpdates": _feed(
        "nonFundingLedgerUpdates",
        LedgerUpdate,
        patch_ledger,
        UserNonFundingLedgerUpdatesMsg,
        UserNonFundingLedgerUpdates,
    ),
    "userTwapSliceFills": _feed(
        "twapSliceFills", TwapSliceFill, patch_slice_fill, UserTwapSliceFillsMsg, UserTwapSliceFills
    ),
    "userTwapHistory": _feed(
        "history", TwapHistoryItem, patch_twap_history, UserTwapHistoryMsg, UserTwapHistory
    ),
    "user": _user_event,
    "openOrders": _open_orders,
    "clearinghouseState": _clearinghouse,
    "allDexsClearinghouseState": _all_dexs,
    "orderUpdates": _order_updates,
    "spotState": _spot_state,
    "twapStates": _twap_states,
}
"""Tolerant reader of a frame's ``data`` (parsed JSON) per channel; Bad for a frame whose own
shape (not an item) is wrong."""


# --------------------------------------------------------------------------- reporting


@dataclass(frozen=True, slots=True)
class Tolerance:
    """What the tolerant decoder did to one answer or frame (both 0 after a strict decode)."""

    dropped: int = 0
    """Items left out because they could not be read (or lacked an identity field)."""
    defaulted: int = 0
    """Items kept with a neutral default for a missing non-essential field."""

    def __bool__(self) -> bool:
        return bool(self.dropped or self.defaulted)

    def describe(self, what: str) -> str:
        """One log line, e.g. ``userFills: 1 item left out, 2 kept with defaults``."""
        parts = []
        if self.dropped:
            parts.append(f"{self.dropped} unreadable item{'s' * (self.dropped != 1)} left out")
        if self.defaulted:
            parts.append(f"{self.defaulted} kept with defaults for missing fields")
        return f"{what}: {', '.join(parts) or 'read as sent'}"


def tolerance_of(value: object) -> Tolerance:
    """The counts a decoded answer or message carries (``Tolerance()`` when it has none)."""
    for candidate in _containers(value):
        dropped = getattr(candidate, "dropped", None)
        if isinstance(dropped, int):
            defaulted = getattr(candidate, "defaulted", 0)
            return Tolerance(dropped, defaulted if isinstance(defaulted, int) else 0)
        dropped_at = getattr(candidate, "dropped_at", None)  # a perp ``Meta``
        if isinstance(dropped_at, list):
            return Tolerance(len(dropped_at))
    return Tolerance()


def _containers(value: object) -> list[object]:
    out = [value]
    data = getattr(value, "data", None)
    if data is not None:
        out.append(data)
        for name in ("clearinghouseState", "spotState"):
            inner = getattr(data, name, None)
            if inner is not None:
                out.append(inner)
    return out
