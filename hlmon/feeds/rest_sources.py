"""What each planned ``/info`` poll serves on screen, how it is asked and how its answer lands.

The planner (``rest_plan``, ``rest_demand``) thinks in ``PollKey``s; the screen thinks in feed
keys (``mids``, ``book:BTC``, ``ctx:ETH``, ``account``...). This module is the bridge:

===================== ======================================== ==================================
poll                  feed keys it serves                      answer applied as
===================== ======================================== ==================================
``l2Book`` (coin)     ``book:C``, ``bbo:C`` (full precision)   the book, and a bbo from its top
``allMids`` (dex)     ``mids`` (default dex), ``mids:<dex>``   ``allMids`` with its ``dex``
``metaAndAssetCtxs``  ``ctx:C`` for each watchlist coin of the one ``activeAssetCtx`` per coin,
(dex)                 dex                                      joined by position with the
                                                               answer's own universe
``recentTrades``      ``trades:C``                             ``trades`` (the tape dedupes by
                                                               (time, tid) and keeps time order)
``clearinghouseState`` ``account`` / ``account:<dex>``         ``clearinghouseState`` with its
(user, dex)           (selected user) or ``account:<address>`` ``dex``
                      (another's row, every dex)
``frontendOpenOrders`` ``orders`` / ``orders:<dex>``           ``openOrders`` with its ``dex``
(user, dex)           (selected user)
``userFillsByTime``   ``fills`` (selected user)                ``userFills``, merged (dedupe)
``userTwapSlice``     ``fills`` (selected user): TWAP slices   ``userTwapSliceFills``, merged;
``FillsByTime``       are never in ``userFills``               its own cursor (newest slice)
``userFunding``       ``fundings`` (selected user)             ``userFundings``, merged (dedupe)
``twapHistory``       ``fills`` (selected user): which TWAPs   ``userTwapHistory``, merged: the
(user)                run, their slices being fills            TWAP tab without ``twapStates``
``spotClearinghouse`` ``spot`` (selected user)                 ``spotState``
``State`` (user)
``metaAndAssetCtxs``  ``market:perp:<dex>`` while the market   the market screen's table
(dex)                 screen is shown                          (``Store.apply_market_perps``)
``spotMetaAnd``       ``market:spot`` while the market screen  the market screen's table
``AssetCtxs``         is shown                                 (``Store.apply_market_spot``)
===================== ======================================== ==================================

A poll that serves nothing on screen is not polled: another account's open orders (only its
summary row is kept). Hooks for those: ``served_feeds`` and ``answer_messages``. A HIP-3
dex's mids land in the store's own map for that dex (``mids:<dex>``), beside the default dex's.

Pure (no I/O): the poller calls ``build_request``, sends it, and applies ``answer_messages``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from hlmon.feeds.rest_demand import DEFAULT_DEX, AccountDemand, ScreenDemand, dex_of
from hlmon.feeds.rest_plan import PollKey
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest, UserFundingItem
from hlmon.protocol.messages import (
    ActiveAssetCtx,
    ActiveAssetCtxMsg,
    Bbo,
    BboMsg,
    Funding,
    L2Book,
    L2BookMsg,
    Message,
    PerpAssetCtx,
    Trade,
    TradesMsg,
    UserFundings,
    UserFundingsMsg,
)
from hlmon.protocol.meta import Meta, SpotMeta
from hlmon.state import Store
from hlmon.state.dexes import account_feed, orders_feed
from hlmon.state.market_board import MARKET_SPOT, market_feed
from hlmon.state.store import ROW_KEY_PREFIX

ROW_PREFIX = ROW_KEY_PREFIX
"""Feed key prefix of another watched account's summary row (``account:<address>``)."""
FILL_MARGIN_MS = 5_000
"""Fills and fundings are asked from a little before the newest one held (dedupe absorbs it)."""
FUNDINGS_LOOKBACK_MS = 24 * 3_600_000
"""The first ``userFunding`` poll asks for the last day (what the Funding tab shows first)."""


@dataclass(frozen=True)
class ScreenState:
    """What the screen shows, as the engine knows it (read on every poller round).

    Attributes:
        selected_coin: the coin of the book, bbo and trade tape, or None.
        n_sig_figs: the book's precision (None: full).
        watchlist: coins whose contexts are shown, in display order.
        user: the selected account (lower case), or None.
        others: the other watched accounts (lower case), in display order.
    """

    selected_coin: str | None = None
    n_sig_figs: int | None = None
    watchlist: tuple[str, ...] = ()
    user: str | None = None
    others: tuple[str, ...] = ()
    market_dexes: tuple[str, ...] = ()
    """The perp dexes the market screen shows (empty: the screen is closed)."""
    market_spot: bool = False
    """The market screen shows the spot pairs."""


def is_perp(coin: str) -> bool:
    """Spot pairs (``@107``, ``PURR/USDC``) have no ``metaAndAssetCtxs`` context."""
    return not coin.startswith("@") and "/" not in coin


def screen_demand(screen: ScreenState, store: Store, now_ms: int) -> ScreenDemand:
    """The planner's view of ``screen``: dexes from the watchlist; each account's active dexes
    from the store (``Store.active_dexes``: the default dex always, dexes with margin or
    positions, and for the selected account the dexes of its open orders, of fills and order
    updates of the last hour and of fundings of the last two hours); whether other accounts
    hold positions.

    Every active dex is polled, also by the websocket fallback: the websocket serves each
    dex's state (``allDexsClearinghouseState``) and orders (``openOrders`` per active dex)
    under per-dex feed keys, so a dex polled during an outage is handed back by its own age.
    ``now_ms`` is unused since the store judges activity by its own clock (kept for callers).
    """
    del now_ms
    market = tuple(dict.fromkeys(dex_of(c) for c in screen.watchlist)) or (DEFAULT_DEX,)
    selected = None
    if screen.user is not None:
        selected = AccountDemand(screen.user, active_dexes=store.active_dexes())
    # The rows only say whether another account holds positions: none to build without one.
    rows = {r.address: r for r in store.accounts()} if screen.others else {}
    others = []
    for address in screen.others:
        row = rows.get(address)
        others.append(
            AccountDemand(
                address,
                active_dexes=store.active_dexes(address),
                has_positions=bool(row and row.positions),
            )
        )
    return ScreenDemand(
        selected_coin=screen.selected_coin,
        market_dexes=market,
        selected_account=selected,
        other_accounts=tuple(others),
        twap_history=not store.twaps_streamed(),  # its only reader: the rebuilt TWAP tab
        screener_dexes=screen.market_dexes,
        screener_spot=screen.market_spot,
    )


def served_feeds(key: PollKey, screen: ScreenState) -> tuple[str, ...]:
    """The feed keys the answer of ``key`` refreshes on screen (empty: nothing to show)."""
    kind = key.kind
    coin = key.param("coin")
    if kind == "l2Book" and coin is not None:
        if _book_precision(coin, screen) is None:
            return (f"book:{coin}", f"bbo:{coin}")
        return (f"book:{coin}",)  # an aggregated book's top is a bucket edge, not a bbo
    if kind == "recentTrades" and coin is not None:
        return (f"trades:{coin}",)
    dex = key.param("dex") or DEFAULT_DEX
    if kind == "allMids":
        return ("mids",) if dex == DEFAULT_DEX else (f"mids:{dex}",)
    if kind == "metaAndAssetCtxs":
        ctx = tuple(f"ctx:{c}" for c in screen.watchlist if is_perp(c) and dex_of(c) == dex)
        return (*ctx, market_feed(dex)) if dex in screen.market_dexes else ctx
    if kind == "spotMetaAndAssetCtxs":
        return (MARKET_SPOT,) if screen.market_spot else ()
    user = key.param("user")
    if user is None:
        return ()
    if user == screen.user:
        selected = {
            "clearinghouseState": account_feed(dex),
            "frontendOpenOrders": orders_feed(dex),
            "userFillsByTime": "fills",
            "userTwapSliceFillsByTime": "fills",  # slices are fills the other call lacks
            "userFunding": "fundings",
            "spotClearinghouseState": "spot",
            # Which TWAPs run, their slices being fills: the TWAP tab without twapStates (a
            # websocket-only stream) is rebuilt from the two.
            "twapHistory": "fills",
        }.get(kind)
        return () if selected is None else (selected,)
    if kind == "clearinghouseState" and user in screen.others:
        return (ROW_PREFIX + user,)  # every active dex feeds the row (summed per token)
    return ()


def _book_precision(coin: str, screen: ScreenState) -> int | None:
    """The ``nSigFigs`` the book of ``coin`` is polled with: the screen's aggregation for
    the selected coin, full precision (None) for any other."""
    return screen.n_sig_figs if coin == screen.selected_coin else None


def build_request(key: PollKey, screen: ScreenState, store: Store, now_ms: int) -> InfoRequest:
    """The ``/info`` request for ``key`` now (a fills or fundings cursor, the book precision).

    Raises:
        ValueError: ``key`` is not a kind this module serves.
    """
    kind, param = key.kind, key.param
    coin, user, dex = param("coin") or "", param("user") or "", param("dex") or None
    if kind == "l2Book":
        return info.l2_book(coin, _book_precision(coin, screen))
    if kind == "recentTrades":
        return info.recent_trades(coin)
    if kind == "allMids":
        return info.all_mids(dex)
    if kind == "metaAndAssetCtxs":
        return info.meta_and_asset_ctxs(dex)
    if kind == "spotMetaAndAssetCtxs":
        return info.spot_meta_and_asset_ctxs()
    if kind == "clearinghouseState":
        return info.clearinghouse_state(user, dex)
    if kind == "spotClearinghouseState":
        return info.spot_clearinghouse_state(user)
    if kind == "frontendOpenOrders":
        return info.frontend_open_orders(user, dex)
    if kind == "userFillsByTime":
        newest = store.newest_fill_time(twap=False) if user == store.user else None
        if newest is None:
            return info.user_fills(user)
        return info.user_fills_by_time(user, max(0, newest - FILL_MARGIN_MS))
    if kind == "userTwapSliceFillsByTime":
        newest = store.newest_fill_time(twap=True) if user == store.user else None
        if newest is None:  # the most recent slices first, as the websocket's snapshot has
            return info.user_twap_slice_fills(user)
        return info.user_twap_slice_fills_by_time(user, max(0, newest - FILL_MARGIN_MS))
    if kind == "userFunding":
        fundings = store.fundings() if user == store.user else []
        start = fundings[0].time - FILL_MARGIN_MS if fundings else now_ms - FUNDINGS_LOOKBACK_MS
        return info.user_funding(user, max(0, start))
    if kind == "twapHistory":
        return info.twap_history(user)
    raise ValueError(f"no REST source for {key}")


def answer_messages(
    req: InfoRequest, response: Any, screen: ScreenState, wanted: Collection[str]
) -> list[Message]:
    """The messages ``Store.apply`` takes for ``response``, limited to the feed keys in
    ``wanted`` (a live websocket bbo or context is not overwritten by an older REST one)."""
    kind = req.type
    if kind == "l2Book" and isinstance(response, L2Book):
        out: list[Message] = []
        if f"book:{response.coin}" in wanted:
            out.append(L2BookMsg(data=response))
        # Aggregated, the top levels are buckets whose edges nobody quotes: no bbo from them.
        if f"bbo:{response.coin}" in wanted and req.body.get("nSigFigs") is None:
            out.append(BboMsg(data=bbo_of(response)))
        return out
    if kind == "metaAndAssetCtxs" and isinstance(response, tuple):
        meta, ctxs = response
        return ctx_messages(meta, ctxs, wanted)
    if kind == "recentTrades" and isinstance(response, list):
        return trade_messages(response)
    if kind == "userFunding" and isinstance(response, list):
        return [funding_message(req.body["user"], response)]
    msg = info.to_message(req, response)
    return [] if msg is None else [msg]


def apply_market_answer(
    store: Store, req: InfoRequest, response: Any, wanted: Collection[str]
) -> None:
    """Land a ``metaAndAssetCtxs`` / ``spotMetaAndAssetCtxs`` answer in the market screen's
    table when its market feed key is wanted (the watchlist's contexts go through
    ``answer_messages``)."""
    if not isinstance(response, tuple) or len(response) != 2:
        return
    meta, ctxs = response
    if req.type == "metaAndAssetCtxs" and isinstance(meta, Meta):
        dex = req.body.get("dex") or DEFAULT_DEX
        if market_feed(dex) in wanted:
            store.apply_market_perps(dex, meta, ctxs)
    elif (
        req.type == "spotMetaAndAssetCtxs"
        and isinstance(meta, SpotMeta)
        and (MARKET_SPOT in wanted)
    ):
        store.apply_market_spot(ctxs)


def bbo_of(book: L2Book) -> Bbo:
    """The best bid and ask of ``book`` (None for an empty side), at the book's time."""
    bids, asks = book.levels
    return Bbo(
        coin=book.coin, time=book.time, bbo=(bids[0] if bids else None, asks[0] if asks else None)
    )


def ctx_messages(meta: Meta, ctxs: list[PerpAssetCtx], wanted: Collection[str]) -> list[Message]:
    """One ``activeAssetCtx`` per wanted coin, joined by position with the answer's universe."""
    out: list[Message] = []
    for asset, ctx in zip(meta.universe, ctxs, strict=False):
        if f"ctx:{asset.name}" in wanted:
            out.append(ActiveAssetCtxMsg(data=ActiveAssetCtx(coin=asset.name, ctx=ctx)))
    return out


def trade_messages(trades: list[Trade]) -> list[Message]:
    """The tape answer oldest first (the store dedupes it against what it holds)."""
    if not trades:
        return []
    return [TradesMsg(data=sorted(trades, key=lambda t: (t.time, t.tid)))]


def funding_message(user: str, items: list[UserFundingItem]) -> Message:
    """``userFunding`` items as a (non-snapshot) ``userFundings`` push, merged by the store."""
    fundings = [
        Funding(
            time=item.time,
            coin=item.delta.coin,
            usdc=item.delta.usdc,
            szi=item.delta.szi,
            fundingRate=item.delta.fundingRate,
            nSamples=item.delta.nSamples,
        )
        for item in items
    ]
    return UserFundingsMsg(data=UserFundings(user=user.lower(), fundings=fundings))
