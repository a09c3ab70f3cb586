"""What the screen wants over REST, as ``WantedFeed``s for the planner (pure, no I/O).

``wanted_feeds(ScreenDemand(...))`` lists the periodic ``/info`` calls that serve the screen
without the websocket, each with its priority class, its desired cadence and its expected
weight per poll:

=================== ===================================================== =========== =======
class               call (per dex where marked)                           cadence     weight
=================== ===================================================== =========== =======
selected coin       ``l2Book`` of the selected coin (bbo read from it)    2 s         2
selected account    ``clearinghouseState`` per active dex                 4 s         2
                    ``spotClearinghouseState``                            10 s        2
                    ``frontendOpenOrders`` per active dex                 10 s        20
at risk             near liquidation: state 4 s, orders 20 s per dex;                 2 / 20
                    with positions: state 10 s, orders 30 s per dex
market              ``allMids`` per watched dex                           5 s         2
                    ``metaAndAssetCtxs`` per watched dex                  15 s        20
                    ``recentTrades`` of the selected coin                 10 s        21
                    ``userFillsByTime`` of the selected account           10 s        21
                    ``userTwapSliceFillsByTime`` of the selected account  30 s        21
                    ``userFunding`` of the selected account               60 s        21
                    market screen: ``metaAndAssetCtxs`` per catalog dex  30 s        20
                    (15 s for a watched dex), ``spotMetaAndAssetCtxs``    30 s        20
background          idle accounts: ``clearinghouseState`` per active dex  60 s        2
                    ``twapHistory`` of the selected account, while no     60 s        21
                    ``twapStates`` came (the TWAP tab is rebuilt from it)
=================== ===================================================== =========== =======

The market screen's feeds are wanted only while it is shown (``screener_dexes``); a dex both
watched and on the screen is one call, whose answer serves both.

Cadences follow the websocket's own pushes (2026 page §1.7: books and mids about 5 s, state and
orders about 4 s, asset contexts about 15 s since June 2026, fundings hourly), a little faster
for the feeds the user looks at. Every feed may be stretched to 5 min before it is dropped,
except the selected account's (60 s for its state, 120 s for spot and orders) and mids (30 s):
the planner grants every feed its floor before it raises any class towards its cadence, so a
tighter floor is what keeps a feed usable when a higher class is expensive. The default dex is
always an active dex of an account: it carries spot orders (§7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hlmon.feeds.rest_plan import (
    DEFAULT_MAX_INTERVAL,
    PollKey,
    Priority,
    WantedFeed,
    poll_weight,
)

DEFAULT_DEX = ""

EXPECTED_ITEMS = 20
"""Items assumed per answer of a per-item-charged call (fills since the last one, the recent
trades tape, fundings since the last one): one extra weight."""

BOOK_CADENCE = 2.0
ACCOUNT_STATE_CADENCE = 4.0
SPOT_STATE_CADENCE = 10.0
ORDERS_CADENCE = 10.0
NEAR_LIQUIDATION_CADENCE = (4.0, 20.0)
"""(state, orders) cadence of another account near liquidation."""
WITH_POSITIONS_CADENCE = (10.0, 30.0)
"""(state, orders) cadence of another account with positions or orders."""
CTX_CADENCE = 15.0
MIDS_CADENCE = 5.0
TRADES_CADENCE = 10.0
FILLS_CADENCE = 10.0
TWAP_FILLS_CADENCE = 30.0
"""A TWAP trades a slice every 30 s, and its slices are never in ``userFills``."""
FUNDINGS_CADENCE = 60.0
TWAP_HISTORY_CADENCE = 60.0
"""Without the websocket's ``twapStates`` the TWAP tab is derived from the TWAPs' history
(started, finished...) and their slice fills; a TWAP starts or ends minutes apart."""
IDLE_ACCOUNT_CADENCE = 60.0
SCREENER_CADENCE = 30.0
"""The market screen's contexts: every dex and spot at 20 weight a call (about 120 w/min for
the simulator's four dexes and spot; mainnet's 11 dexes stretch under the budget)."""
MIDS_FLOOR = 30.0
"""Longest interval of mids: they carry the watchlist prices, and at 2 weight a dex the
floor is cheap enough to keep ahead of the selected account's stretch."""
SELECTED_ACCOUNT_FLOORS = (60.0, 120.0)
"""Longest interval of the selected account's (state, spot and orders): the planner keeps at
least this much for it before other accounts and market data get their 5 min floors."""


@dataclass(frozen=True)
class AccountDemand:
    """One watched account.

    Attributes:
        address: its address (lower case).
        active_dexes: dexes it has activity on (learned from its last state and fills); the
            default dex is added when missing.
        has_positions: it holds positions or open orders.
        near_liquidation: a position is close to its liquidation price.
    """

    address: str
    active_dexes: tuple[str, ...] = (DEFAULT_DEX,)
    has_positions: bool = False
    near_liquidation: bool = False

    @property
    def dexes(self) -> tuple[str, ...]:
        """Active dexes, the default one first, without repeats."""
        return _unique((DEFAULT_DEX, *self.active_dexes))


@dataclass(frozen=True)
class ScreenDemand:
    """What the screen shows that REST must serve.

    Attributes:
        selected_coin: the coin of the book and trade tape (None: none selected).
        market_dexes: dexes of the watchlist coins (contexts and mids are polled per dex);
            the selected coin's dex is added.
        selected_account: the account in focus (None: no account).
        other_accounts: the other watched accounts, most important first.
        spot: poll the selected account's spot balances.
        twap_history: poll the selected account's TWAP history: the TWAP tab is rebuilt from
            it while the websocket's ``twapStates`` has not spoken (REST mode).
    """

    selected_coin: str | None = None
    market_dexes: tuple[str, ...] = (DEFAULT_DEX,)
    selected_account: AccountDemand | None = None
    other_accounts: tuple[AccountDemand, ...] = ()
    spot: bool = True
    twap_history: bool = True
    screener_dexes: tuple[str, ...] = ()
    """Perp dexes of the market screen (empty: it is closed)."""
    screener_spot: bool = False
    """The market screen shows spot pairs (``spotMetaAndAssetCtxs``)."""


def dex_of(coin: str) -> str:
    """The perp dex a coin string trades on (``xyz:TSLA`` -> ``xyz``; ``BTC``, spot -> ``""``)."""
    head, sep, _ = coin.partition(":")
    return head if sep else DEFAULT_DEX


def wanted_feeds(demand: ScreenDemand) -> list[WantedFeed]:
    """Every feed ``demand`` needs, most important first within each class."""
    feeds: list[WantedFeed] = []
    coin = demand.selected_coin
    if coin is not None:
        feeds.append(
            _feed("l2Book", Priority.SELECTED_COIN, BOOK_CADENCE, f"book {coin}", coin=coin)
        )
    account = demand.selected_account
    if account is not None:
        feeds += _selected_account(account, spot=demand.spot)
    others = [a for a in demand.other_accounts if account is None or a.address != account.address]
    at_risk = sorted(
        (a for a in others if a.near_liquidation or a.has_positions),
        key=lambda a: not a.near_liquidation,  # stable: near liquidation first
    )
    for other in at_risk:
        feeds += _at_risk_account(other)
    dexes = _unique((*demand.market_dexes, *([dex_of(coin)] if coin is not None else [])))
    # Mids first: they carry the watchlist prices and cost a tenth of a context call.
    for dex in dexes:
        feeds.append(_feed("allMids", Priority.MARKET, MIDS_CADENCE, "mids", MIDS_FLOOR, dex=dex))
    for dex in dexes:
        feeds.append(_feed("metaAndAssetCtxs", Priority.MARKET, CTX_CADENCE, "ctx", dex=dex))
    for dex in demand.screener_dexes:
        if dex not in dexes:
            feeds.append(
                _feed("metaAndAssetCtxs", Priority.MARKET, SCREENER_CADENCE, "market", dex=dex)
            )
    if demand.screener_spot:
        feeds.append(
            _feed("spotMetaAndAssetCtxs", Priority.MARKET, SCREENER_CADENCE, "market spot")
        )
    if coin is not None:
        feeds.append(
            _feed("recentTrades", Priority.MARKET, TRADES_CADENCE, f"trades {coin}", coin=coin)
        )
    if account is not None:
        user = account.address
        feeds.append(_feed("userFillsByTime", Priority.MARKET, FILLS_CADENCE, "fills", user=user))
        feeds.append(
            _feed(
                "userTwapSliceFillsByTime",
                Priority.MARKET,
                TWAP_FILLS_CADENCE,
                "TWAP fills",
                user=user,
            )
        )
        feeds.append(_feed("userFunding", Priority.MARKET, FUNDINGS_CADENCE, "fundings", user=user))
        if demand.twap_history:
            feeds.append(
                _feed(
                    "twapHistory",
                    Priority.BACKGROUND,
                    TWAP_HISTORY_CADENCE,
                    "TWAP history",
                    user=user,
                )
            )
    for other in others:
        if not (other.near_liquidation or other.has_positions):
            for dex in other.dexes:
                feeds.append(
                    _feed(
                        "clearinghouseState",
                        Priority.BACKGROUND,
                        IDLE_ACCOUNT_CADENCE,
                        "other accounts",
                        user=other.address,
                        dex=dex,
                    )
                )
    return feeds


def _selected_account(account: AccountDemand, *, spot: bool) -> list[WantedFeed]:
    user, cls = account.address, Priority.SELECTED_ACCOUNT
    state_floor, other_floor = SELECTED_ACCOUNT_FLOORS
    feeds = [
        _feed(
            "clearinghouseState",
            cls,
            ACCOUNT_STATE_CADENCE,
            "account",
            state_floor,
            user=user,
            dex=dex,
        )
        for dex in account.dexes
    ]
    if spot:
        feeds.append(
            _feed("spotClearinghouseState", cls, SPOT_STATE_CADENCE, "spot", other_floor, user=user)
        )
    feeds += [
        _feed("frontendOpenOrders", cls, ORDERS_CADENCE, "orders", other_floor, user=user, dex=dex)
        for dex in account.dexes
    ]
    return feeds


def _at_risk_account(account: AccountDemand) -> list[WantedFeed]:
    state_s, orders_s = (
        NEAR_LIQUIDATION_CADENCE if account.near_liquidation else WITH_POSITIONS_CADENCE
    )
    user, cls, label = account.address, Priority.AT_RISK, "at-risk accounts"
    feeds = [
        _feed("clearinghouseState", cls, state_s, label, user=user, dex=dex)
        for dex in account.dexes
    ]
    feeds += [
        _feed("frontendOpenOrders", cls, orders_s, label, user=user, dex=dex)
        for dex in account.dexes
    ]
    return feeds


def _feed(
    kind: str,
    priority: Priority,
    cadence: float,
    label: str,
    max_interval: float = DEFAULT_MAX_INTERVAL,
    **params: str,
) -> WantedFeed:
    key = PollKey.of(kind, **params)
    weight = poll_weight(kind, EXPECTED_ITEMS)
    return WantedFeed(key, priority, cadence, weight, label, max_interval)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
