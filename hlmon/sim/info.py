"""The ``/info`` endpoint: request validation, REST response bodies and request weights.

Shared by ``POST /info`` and websocket ``post`` requests. Anything that would not deserialize
on the exchange raises ``InfoRequestError`` (HTTP 422 / ws ``error`` frame). A ``dex`` the
exchange does not list raises ``InfoServerError`` (HTTP 500, as the exchange answers
``meta``, ``metaAndAssetCtxs``, ``allMids``, ``clearinghouseState`` and the open-order requests);
``""``, null or no ``dex`` is the default dex.
"""

from __future__ import annotations

from typing import Any

from hlmon.sim.account import DemoAccount
from hlmon.sim.candles import INTERVAL_MS
from hlmon.sim.dexes import outcome_meta
from hlmon.sim.margin import empty_clearinghouse_state
from hlmon.sim.market import Market
from hlmon.sim.portfolio import empty_portfolio, portfolio
from hlmon.sim.roles import OTHER_ABSTRACTION, user_role
from hlmon.sim.subscriptions import ADDRESS_RE
from hlmon.sim.universe import Universe

UNPROCESSABLE = "Failed to deserialize the JSON body into the target type"
LIGHT = {
    "l2Book",
    "allMids",
    "clearinghouseState",
    "orderStatus",
    "spotClearinghouseState",
    "exchangeStatus",
}
PER_20_ITEMS = {
    "recentTrades",
    "historicalOrders",
    "userFills",
    "userFillsByTime",
    "fundingHistory",
    "userFunding",
    "nonUserFundingUpdates",
    "twapHistory",
    "userTwapSliceFills",
    "userTwapSliceFillsByTime",
}


class InfoRequestError(Exception):
    """The body is not a valid info request."""


class InfoServerError(Exception):
    """A valid request the exchange fails with HTTP 500 (an unknown ``dex``)."""


def request_weight(kind: str, result: Any) -> int:
    """Rate-limit weight of an answered request (Hyperliquid's table, +1 per started 20 or 60
    items, rounded up as the client counts it: over-counting is the safe side)."""
    if kind in LIGHT:
        return 2
    if kind == "userRole":
        return 60
    weight = 20
    if isinstance(result, list):
        if kind in PER_20_ITEMS:
            weight += -(-len(result) // 20)  # per started 20, as the client counts
        elif kind == "candleSnapshot":
            weight += -(-len(result) // 60)
    return weight


def base_weight(kind: str) -> int:
    """Weight known before answering (used to refuse a request up front)."""
    return request_weight(kind, None)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    if not isinstance(user, str) or not ADDRESS_RE.match(user):
        raise InfoRequestError
    return user.lower()


def _int(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InfoRequestError
    return value


def _opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InfoRequestError
    return value


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InfoRequestError
    return value


def _dex(body: dict[str, Any], universe: Universe) -> str:
    """The ``dex`` of a request: ``""`` when absent or null; HTTP 500 when not listed."""
    dex = body.get("dex")
    if dex is None:
        return ""
    if not isinstance(dex, str):
        raise InfoRequestError
    if not universe.has_dex(dex):
        raise InfoServerError
    return dex


class InfoService:
    """Answers info requests from the market and the demo account."""

    def __init__(self, universe: Universe, market: Market, account: DemoAccount) -> None:
        self.universe = universe
        self.market = market
        self.account = account

    def kind(self, body: Any) -> str:
        """The request type, or InfoRequestError if the body has none we know."""
        if not isinstance(body, dict):
            raise InfoRequestError
        kind = body.get("type")
        # Request types are camelCase: "_" would reach the helpers below, not a handler.
        if not isinstance(kind, str) or "_" in kind or not hasattr(self, "_" + kind):
            raise InfoRequestError
        return kind

    def handle(self, body: Any) -> tuple[str, Any]:
        """Answer ``body``; returns (type, JSON-able response)."""
        kind = self.kind(body)
        handler = getattr(self, "_" + kind)
        return kind, handler(body)

    def _is_demo(self, user: str) -> bool:
        return user == self.account.address

    # ------------------------------------------------------------------ market data

    def _allMids(self, body: dict[str, Any]) -> Any:
        return self.market.all_mids(_dex(body, self.universe))

    def _l2Book(self, body: dict[str, Any]) -> Any:
        coin = _str(body, "coin")
        n_sig = _opt_int(body, "nSigFigs")
        mantissa = _opt_int(body, "mantissa")
        st = self.market.coin(coin)
        if st is None:
            return None
        if n_sig is not None and not 2 <= n_sig <= 5:
            raise InfoRequestError
        if mantissa is not None and n_sig != 5:
            mantissa = None
        return self.market.book(st, 20, n_sig, mantissa)

    def _recentTrades(self, body: dict[str, Any]) -> Any:
        st = self.market.coin(_str(body, "coin"))
        return [] if st is None else self.market.recent_trades(st)

    def _candleSnapshot(self, body: dict[str, Any]) -> Any:
        req = body.get("req")
        if not isinstance(req, dict):
            raise InfoRequestError
        coin = _str(req, "coin")
        interval = _str(req, "interval")
        if interval not in INTERVAL_MS:
            raise InfoRequestError
        start = _int(req, "startTime")
        end = _opt_int(req, "endTime")
        st = self.market.coin(coin)
        if st is None:
            return []
        return self.market.candle_snapshot(
            st, interval, start, self.market.now if end is None else end
        )

    def _meta(self, body: dict[str, Any]) -> Any:
        return self.universe.meta(_dex(body, self.universe))

    def _metaAndAssetCtxs(self, body: dict[str, Any]) -> Any:
        dex = _dex(body, self.universe)
        perps = self.universe.dex_perps[dex]
        ctxs = [self.market.perp_ctx(self.market.coins[c.index]) for c in perps]
        return [self.universe.meta(dex), ctxs]

    def _allPerpMetas(self, body: dict[str, Any]) -> Any:
        return self.universe.all_perp_metas()

    def _outcomeMeta(self, body: dict[str, Any]) -> Any:
        return outcome_meta()

    def _spotMeta(self, body: dict[str, Any]) -> Any:
        return self.universe.spot_meta()

    def _spotMetaAndAssetCtxs(self, body: dict[str, Any]) -> Any:
        ctxs = [self.market.spot_ctx(self.market.coins[c.index]) for c in self.universe.spots]
        return [self.universe.spot_meta(), ctxs]

    def _fundingHistory(self, body: dict[str, Any]) -> Any:
        coin = _str(body, "coin")
        start = _int(body, "startTime")
        end = _opt_int(body, "endTime")
        st = self.market.coin(coin)
        if st is None or st.spec.is_spot:
            return []
        return self.market.funding_history(st, start, self.market.now if end is None else end)

    def _exchangeStatus(self, body: dict[str, Any]) -> Any:
        return {"specialStatuses": None, "time": self.market.now}

    def _perpDexs(self, body: dict[str, Any]) -> Any:
        return self.universe.perp_dexs()

    # ------------------------------------------------------------------ account data

    def _clearinghouseState(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        dex = _dex(body, self.universe)
        if self._is_demo(user):
            return self.account.clearinghouse_state(dex)
        return empty_clearinghouse_state(self.market.now)

    def _spotClearinghouseState(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        if self._is_demo(user):
            return self.account.spot_clearinghouse_state()
        return {"balances": []}

    def _openOrders(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        dex = _dex(body, self.universe)
        return self.account.open_orders(dex) if self._is_demo(user) else []

    def _frontendOpenOrders(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        dex = _dex(body, self.universe)
        return self.account.frontend_open_orders(dex) if self._is_demo(user) else []

    def _userFills(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        return self.account.recent_fills() if self._is_demo(user) else []

    def _demo_window(
        self, body: dict[str, Any], start_default: int | None = None
    ) -> tuple[int, int] | None:
        """The ``[startTime, endTime]`` window a user-history request asks about (``endTime``
        defaults to now), or None for any user but the demo account (whose history is the only
        non-empty one). Validates user, then start, then end, as every such request did."""
        user = _user(body)
        start = _int(body, "startTime", start_default)
        end = _opt_int(body, "endTime")
        if not self._is_demo(user):
            return None
        return start, self.market.now if end is None else end

    def _userFillsByTime(self, body: dict[str, Any]) -> Any:
        window = self._demo_window(body)
        return [] if window is None else self.account.fills_between(*window)

    def _userFunding(self, body: dict[str, Any]) -> Any:
        window = self._demo_window(body, 0)
        return [] if window is None else self.account.user_funding(*window)

    def _userNonFundingLedgerUpdates(self, body: dict[str, Any]) -> Any:
        window = self._demo_window(body, 0)
        return [] if window is None else self.account.ledger_between(*window)

    def _orderStatus(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        oid = body.get("oid")
        if isinstance(oid, bool) or not isinstance(oid, int | str):
            raise InfoRequestError
        entry = self.account.order_status.get(oid) if isinstance(oid, int) else None
        if not self._is_demo(user) or entry is None:
            return {"status": "unknownOid"}
        assert isinstance(oid, int)  # only int oids have an entry
        order, status, ts = entry
        shown = self._shown_order(oid, order)
        return {
            "status": "order",
            "order": {"order": shown, "status": status, "statusTimestamp": ts},
        }

    def _shown_order(self, oid: int, order: dict[str, Any]) -> dict[str, Any]:
        """An order as orderStatus/historicalOrders show it: the live frontend shape while it
        rests, else its last update padded with the frontend fields a plain limit order has."""
        live = self.account.orders.get(oid)
        if live is not None:
            return self.account.frontend_order(live)
        return {
            **order,
            "triggerCondition": "N/A",
            "isTrigger": False,
            "triggerPx": "0.0",
            "children": [],
            "isPositionTpsl": False,
            "reduceOnly": False,
            "orderType": "Limit",
            "tif": "Gtc",
            "cloid": None,
        }

    def _historicalOrders(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        if not self._is_demo(user):
            return []
        out = []
        for oid, (order, status, ts) in sorted(self.account.order_status.items(), reverse=True):
            shown = self._shown_order(oid, order)
            out.append({"order": shown, "status": status, "statusTimestamp": ts})
        return out[:2000]

    # ------------------------------------------------------------------ modes, roles, TWAP

    def _userAbstraction(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        return self.account.abstraction if self._is_demo(user) else OTHER_ABSTRACTION

    def _userRole(self, body: dict[str, Any]) -> Any:
        return user_role(_user(body), self.account.address)

    def _portfolio(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        return portfolio(self.account) if self._is_demo(user) else empty_portfolio()

    def _userTwapSliceFills(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        return self.account.twaps.recent_slice_fills() if self._is_demo(user) else []

    def _userTwapSliceFillsByTime(self, body: dict[str, Any]) -> Any:
        window = self._demo_window(body)
        return [] if window is None else self.account.twaps.slice_fills_between(*window)

    def _twapHistory(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        return list(self.account.twaps.history) if self._is_demo(user) else []
