"""``hlmon snapshot``: run the feed engine headless until every requested feed has data (or a
deadline passes), print one JSON document, exit.

Exit codes: 0 when every requested feed has data, 2 on timeout (the document is still printed,
its ``status.feeds`` saying what is missing), 1 on bad input (with a message on stderr).

Choices worth knowing:

* Coins are the exchange's exact names from its market catalog, loaded before any coin is
  subscribed: ``--coins`` accepts any case and HIP-3 (``xyz:tsla``) and spot (``hype/usdc``)
  names and resolves them; one the exchange does not list is an error (exit 1, naming the
  closest listed names). A config watchlist's unknown coins are skipped with a warning instead.
  Without any catalog (exchange unreachable, nothing cached) no coin can be subscribed: the run
  times out with ``catalog`` among the missing feeds. ``status.catalog`` says where the catalog
  came from (``exchange`` or ``cache``) and its age.
* ``mids`` holds the watchlist coins only, keyed by exact name (a HIP-3 coin's mid comes from
  its dex's ``allMids``): the full ``allMids`` map is 700+ coins (~16 KB).
* ``books`` holds every watchlist coin: the selected coin's book comes from the websocket,
  the others from one REST ``l2Book`` each (weight 2), fetched while the engine starts.
  Those REST books appear in ``status.feeds`` as ``book:COIN`` too, so the status names any
  that are missing.
* ``fills`` holds the newest ``FILLS_LIMIT`` fills, newest first, TWAP slices included (with
  their ``twapId``), each with its ``feeToken``.
* ``account`` carries the account's ``mode`` (read once with ``userAbstraction``, waited for),
  its ``equity`` in USD by the rules of that mode (``state.equity``) and the mode's risk
  ``ratio``; ``spot`` lists the spot balances (exchange strings) with ``valueUsd``. USD
  amounts hlmon computes (``equity``, ``valueUsd``) are rounded to USDC's 6 places.
* ``positions`` and ``openOrders`` cover every perp dex, each entry with its ``dex`` (``""``
  for the default dex); ``account`` keeps the default dex's figures and adds ``dexes``: per dex
  where the user has margin or a position, its ``accountValue``, ``totalMarginUsed``,
  ``withdrawable`` and ``collateral`` (the token those amounts are in; null while unknown).
  With an address the document waits for the account's dexes to be listed
  (``allDexsClearinghouseState``) and for the state and orders of each active dex.
* ``accounts`` (only when more than one address is watched) holds one summary row per watched
  address, in order; ``account``/``positions``/``openOrders``/``fills`` stay the selected
  (``address``) one's. Every row is waited for like a requested feed.
* "Requested feeds" are the feeds the engine subscribes to (``mids``, ``ctx:COIN`` per
  watchlist coin, ``book``/``bbo``/``trades`` of the selected coin and, with an address,
  ``account``, ``orders``, ``fills``, ``fundings``) plus every watchlist book. Every one has
  a REST source, so with the websocket off (``--no-ws``) or refused the snapshot completes
  from REST, each feed's ``source`` saying ``rest``.
* ``ok`` (top level) is true when every requested feed (and every watched account's row) has
  data and none is ``stale``, ``lagging`` or ``missing``: the one field a script needs.
* A feed's ``state`` says how far it can be trusted, not which path its data took: a healthy
  feed is ``live`` whether its first data came over REST (the start-up reconciliation, the
  watchlist books) or the socket; ``fallback`` only while the REST fallback keeps feeds the
  websocket does not deliver. ``source`` says where the last update came from, ``lag_s`` how
  late it was on arrival (``hlmon.state.lag``), and ``status.reason`` why the connection is
  not live, in short.
* ``contexts`` holds each watchlist coin's asset context (``markPx``, ``funding``,
  ``openInterest``, ``prevDayPx``, ``dayNtlVlm``, ``premium``: exchange strings; null where
  the coin has none, e.g. spot funding), or null before it arrived.
* ``positions[].markPx`` is the mark the TUI uses (one per coin: the context's markPx while
  fresh, else the mid, else the account's own), with ``markSource`` saying which;
  ``account.equity`` and ``account.unrealizedPnl`` are computed at those marks (the
  exchange's ``accountValue`` is passed through unchanged next to them).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hlmon import event_loop
from hlmon.cancelling import cancel_and_wait
from hlmon.config import Settings
from hlmon.feeds.engine import FeedEngine
from hlmon.feeds.info_client import InfoError
from hlmon.protocol import info
from hlmon.protocol.messages import L2Book, Level
from hlmon.runtime.controls import InputRejected
from hlmon.runtime.root import Runtime
from hlmon.state import ConnState, FeedState, FeedStatus, Source, Store
from hlmon.state.decimals import SAFE, dec_str, try_dec
from hlmon.state.dexes import DexSummary, coin_dex

FILLS_LIMIT = 100
"""Newest fills included in the document."""
USD_PLACES = Decimal("0.000001")
"""USD amounts hlmon computes are printed to USDC's 6 places."""
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_POLL = 0.05
"""Seconds between checks of the completion condition (cheap: reads the store)."""


class SnapshotInputError(ValueError):
    """Bad input: exit 1 with this message."""


def _check(settings: Settings, wait: float) -> None:
    if not wait > 0:
        raise SnapshotInputError(f"wait must be a positive number of seconds, got {wait!r}")
    if settings.address is not None and not _ADDRESS.fullmatch(settings.address):
        raise SnapshotInputError(f"not a 0x address: {settings.address!r}")
    if not settings.watchlist:
        raise SnapshotInputError("the watchlist is empty: nothing to snapshot")
    if not settings.demo and not settings.api_url.startswith(("http://", "https://")):
        raise SnapshotInputError(f"api url must start with http:// or https://: {settings.api_url}")


async def take_snapshot(settings: Settings, wait: float) -> tuple[dict[str, Any], bool]:
    """Collect state for at most ``wait`` seconds; return ``(document, complete)``.

    The stack (``--demo``'s simulator included) is the one every command runs on:
    ``hlmon.runtime.root.Runtime``.

    Raises:
        SnapshotInputError: for bad input.
        InputRejected: ``--coins`` named a market the exchange does not list.
    """
    _check(settings, wait)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    rest_books: dict[str, tuple[L2Book, float]] = {}
    async with Runtime(settings, candles=False) as runtime:
        engine, store = runtime.engine, runtime.store
        fetcher = asyncio.create_task(_fetch_books(engine, rest_books))
        try:
            while True:
                # Recomputed every round: the coins' feeds are expected once the catalog is
                # in force, a dex's once the account turns out to be active on it (followed
                # now, not at the engine's next tick).
                engine.sync_dexes()
                required = _required(engine)
                if store.catalog is not None and not _missing(store, engine, rest_books, required):
                    complete = True
                    break
                if loop.time() >= deadline:
                    complete = False
                    break
                await asyncio.sleep(min(_POLL, max(0.0, deadline - loop.time())))
            doc = _document(runtime.network, store, engine, rest_books)
        finally:
            await cancel_and_wait([fetcher], what="snapshot fetch")
    return doc, complete


def run_snapshot(settings: Settings, wait: float = 10.0) -> int:
    """Print the snapshot document to stdout; return the process exit code (0, 1 or 2)."""
    try:
        doc, complete = event_loop.run(take_snapshot(settings, wait), settings.event_loop)
    except (SnapshotInputError, InputRejected) as exc:
        print(f"hlmon snapshot: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    sys.stdout.flush()
    if complete:
        return 0
    missing = [k for k, v in doc["status"]["feeds"].items() if v["state"] == "missing"]
    print(
        f"hlmon snapshot: timed out after {wait:g} s; connection "
        f"{doc['status']['connection']}; missing: {', '.join(missing) or 'nothing'}",
        file=sys.stderr,
    )
    return 2


# ---------------------------------------------------------------------- collection


async def _fetch_books(engine: FeedEngine, out: dict[str, tuple[L2Book, float]]) -> None:
    """One REST book per watchlist coin (exact catalog names, so once the catalog is in
    force), retried until it arrives (or we are cancelled)."""
    await engine.catalog.ready.wait()

    async def one(coin: str) -> None:
        delay = 0.25
        while True:
            try:
                book = await engine.info.info(info.l2_book(coin), retries=0)
            except InfoError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            out[coin] = (book, time.time())
            return

    await asyncio.gather(*(one(coin) for coin in engine.watchlist))


def _required(engine: FeedEngine) -> list[str]:
    # Every feed has a REST source: with the websocket off or refused, REST fills them all.
    return sorted(engine.store.expected)


def _missing(
    store: Store,
    engine: FeedEngine,
    rest_books: dict[str, tuple[L2Book, float]],
    required: list[str],
) -> list[str]:
    out = [k for k in required if store.feed_status(k).state is FeedState.MISSING]
    if engine.user is not None:
        if store.account_mode() is None:
            out.append("mode")  # equity and its ratio depend on it
        if not engine.dexes_known():
            out.append("dexes (allDexsClearinghouseState or a REST sweep)")
        if not store.orders_ready():
            out += [k for k in store.order_feeds() + store.account_feeds() if k not in out]
    if len(engine.users) > 1:
        out += [f"account:{r.address}" for r in store.accounts() if r.received_at is None]
    out += [f"book:{c}" for c in engine.watchlist if c not in rest_books and store.book(c) is None]
    return out


# ---------------------------------------------------------------------- the document


def _levels(levels: list[Level]) -> list[list[Any]]:
    return [[lv.px, lv.sz, lv.n] for lv in levels]


def _book_doc(book: L2Book) -> dict[str, Any]:
    return {"time": book.time, "bids": _levels(book.levels[0]), "asks": _levels(book.levels[1])}


NOT_OK = frozenset((FeedState.STALE.value, FeedState.LAGGING.value, FeedState.MISSING.value))
"""Feed states that make the document's ``ok`` false."""


def _feed_doc(store: Store, st: FeedStatus) -> dict[str, Any]:
    state = st.state
    health = store.health
    # REST data while the socket is live and no fallback runs came from the start-up
    # reconciliation or a one-off fetch: the feed is healthy, not kept alive by REST.
    if (
        state is FeedState.FALLBACK
        and health.connection.state is ConnState.LIVE
        and not health.fallback_active
    ):
        state = FeedState.LIVE
    return {
        "state": state.value,
        "age_s": None if st.age_s is None else round(st.age_s, 3),
        "source": None if st.source is None else st.source.value,
        "lag_s": None if st.lag_s is None else round(st.lag_s, 3),
    }


def _status(
    store: Store, engine: FeedEngine, rest_books: dict[str, tuple[L2Book, float]]
) -> dict[str, Any]:
    feeds: dict[str, Any] = {key: _feed_doc(store, st) for key, st in store.feed_statuses().items()}
    now = time.time()
    for coin in engine.watchlist:
        key = f"book:{coin}"
        if key in feeds:
            continue
        got = rest_books.get(coin)
        if got is None:
            feeds[key] = {
                "state": FeedState.MISSING.value,
                "age_s": None,
                "source": None,
                "lag_s": None,
            }
        else:
            # Fetched once on purpose (only the selected coin's book is subscribed).
            age = now - got[1]
            fresh = age <= store.threshold(key)
            feeds[key] = {
                "state": (FeedState.LIVE if fresh else FeedState.STALE).value,
                "age_s": round(age, 3),
                "source": Source.REST.value,
                "lag_s": None,
            }
    if store.catalog is None:
        feeds["catalog"] = {
            "state": FeedState.MISSING.value,
            "age_s": None,
            "source": None,
            "lag_s": None,
        }
    conn = store.health.connection
    return {
        "connection": conn.state.value,
        "reason": conn.reason,
        "reconnects": conn.reconnects,
        "catalog": _catalog_doc(store),
        "feeds": feeds,
    }


def _catalog_doc(store: Store) -> dict[str, Any]:
    st = store.catalog_state.status
    age = store.catalog_state.age()
    return {
        "source": None if st.origin is None else st.origin.value,
        "age_s": None if age is None else round(age, 3),
        "markets": 0 if st.catalog is None else len(st.catalog),
        "problem": st.problem,
    }


def _ok(doc: dict[str, Any]) -> bool:
    """Every requested feed (and account row) has data, none stale, lagging or missing."""
    states = [feed["state"] for feed in doc["status"]["feeds"].values()]
    states += [row["state"] for row in doc.get("accounts", [])]
    return not any(state in NOT_OK for state in states)


def _contexts(store: Store, coins: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for coin in coins:
        perp, spot = store.ctx(coin), store.spot_ctx(coin)
        if perp is not None:
            out[coin] = {
                "markPx": perp.markPx,
                "funding": perp.funding,
                "openInterest": perp.openInterest,
                "prevDayPx": perp.prevDayPx,
                "dayNtlVlm": perp.dayNtlVlm,
                "premium": perp.premium,
            }
        elif spot is not None:
            out[coin] = {
                "markPx": spot.markPx,
                "funding": None,
                "openInterest": None,
                "prevDayPx": spot.prevDayPx,
                "dayNtlVlm": spot.dayNtlVlm,
                "premium": None,
            }
        else:
            out[coin] = None
    return out


def _document(
    network: str,
    store: Store,
    engine: FeedEngine,
    rest_books: dict[str, tuple[L2Book, float]],
) -> dict[str, Any]:
    mids = {c: m for c in engine.watchlist if (m := store.mid(c)) is not None}
    books: dict[str, Any] = {}
    for coin in engine.watchlist:
        ws_book = store.book(coin)
        rest = rest_books.get(coin)
        # The websocket book wins when both exist and it is at least as new.
        if ws_book is not None and (rest is None or ws_book.time >= rest[0].time):
            books[coin] = _book_doc(ws_book)
        elif rest is not None:
            books[coin] = _book_doc(rest[0])
    summary = store.account_summary()
    account = (
        None
        if summary is None
        else {
            "accountValue": summary.exchange_account_value,
            "totalMarginUsed": summary.total_margin_used,
            "totalNtlPos": summary.total_ntl_pos,
            "withdrawable": summary.withdrawable,
            "crossMaintenanceMarginUsed": summary.cross_maintenance_margin_used,
            "unrealizedPnl": summary.total_upnl,
            "dexes": _dexes_doc(store.dex_summaries()),
            # mode, equity by the rules of the mode (#14) and the mode's risk ratio
            **_mode_doc(store),
        }
    )
    positions = [
        {
            "coin": p.coin,
            "dex": p.dex,
            "collateral": p.collateral,
            "szi": p.szi,
            "entryPx": p.entry_px,
            "markPx": p.mark_px,
            "markSource": None if p.mark_source is None else p.mark_source.value,
            "positionValue": p.position_value,
            "unrealizedPnl": p.unrealized_pnl,
            "returnOnEquity": p.return_on_equity,
            "liquidationPx": p.liquidation_px,
            "liqDistancePct": p.liq_distance_pct,
            "marginUsed": p.margin_used,
            "leverage": {"type": p.leverage_type, "value": p.leverage_value},
        }
        for p in store.positions()
    ]
    orders = [
        {
            "coin": o.coin,
            "dex": coin_dex(o.coin),
            "side": o.side,
            "limitPx": o.limitPx,
            "sz": o.sz,
            "origSz": o.origSz,
            "oid": o.oid,
            "timestamp": o.timestamp,
            "orderType": o.orderType,
            "reduceOnly": o.reduceOnly,
            "isTrigger": o.isTrigger,
            "triggerPx": o.triggerPx,
        }
        for o in store.open_orders()
    ]
    fills = [
        {
            "coin": f.coin,
            "px": f.px,
            "sz": f.sz,
            "side": f.side,
            "time": f.time,
            "dir": f.dir,
            "closedPnl": f.closedPnl,
            "fee": f.fee,
            "feeToken": f.feeToken,
            "oid": f.oid,
            "tid": f.tid,
            "twapId": f.twapId,
        }
        for f in store.fills()[:FILLS_LIMIT]
    ]
    doc: dict[str, Any] = {
        "ok": False,
        "network": network,
        "address": engine.user,
        "status": _status(store, engine, rest_books),
        "mids": mids,
        "contexts": _contexts(store, engine.watchlist),
        "books": books,
        "account": account,
        "positions": positions,
        "openOrders": orders,
        "fills": fills,
        "spot": _spot_doc(store),
    }
    if len(engine.users) > 1:
        doc["accounts"] = _accounts_doc(store)
    doc["ok"] = _ok(doc)
    return doc


def _mode_doc(store: Store) -> dict[str, Any]:
    """``mode`` (``standard``, ``unifiedAccount``, ``portfolioMargin``; the exchange's
    ``default``/``disabled``/``dexAbstraction`` are ``standard``; None until read, or the raw
    value when hlmon does not know it) and ``equity`` (USD, by the rules of the mode; None while
    a part of it is unknown), with the ratio of the mode."""
    reading = store.account_mode()
    figures = store.equity()
    mode = None if reading is None else reading.mode.value if reading.mode else reading.raw
    return {
        "mode": mode,
        "equity": _usd(figures.equity_usd),
        "ratio": figures.ratio,
        "ratioKind": None if figures.ratio_kind is None else figures.ratio_kind.value,
    }


def _usd(value: str | None) -> str | None:
    """A USD amount hlmon computed (sums, balances at mids), to USDC's 6 places, trailing
    zeros dropped: the arithmetic is exact and would print every digit of its products
    (``116495.02521515793``)."""
    d = try_dec(value)
    if d is None:
        return value
    rounded = SAFE.quantize(d, USD_PLACES)  # NaN, never an exception, past 48 digits
    return dec_str(rounded if rounded.is_finite() else d)


def _spot_doc(store: Store) -> list[dict[str, Any]] | None:
    """Spot balances, the exchange's strings unchanged, with ``valueUsd`` computed at the
    current mids (None when the token has no price); None before the spot state arrived."""
    valuation = store.spot_valuation()
    if valuation is None:
        return None
    return [
        {
            "coin": row.coin,
            "token": row.token,
            "total": row.total,
            "hold": row.hold,
            "entryNtl": row.entry_ntl,
            "valueUsd": _usd(row.value_usd),
        }
        for row in valuation.rows
    ]


def _dexes_doc(summaries: Iterable[DexSummary]) -> dict[str, Any]:
    """Per dex where the account has margin or a position, its figures in its own token."""
    return {
        s.dex: {
            "accountValue": s.account_value,
            "totalMarginUsed": s.total_margin_used,
            "withdrawable": s.withdrawable,
            "collateral": s.collateral,
        }
        for s in summaries
        if s.active
    }


def _accounts_doc(store: Store) -> list[dict[str, Any]]:
    return [
        {
            "address": r.address,
            "label": r.label,
            "selected": r.selected,
            "accountValue": r.account_value,
            "totalMarginUsed": r.total_margin_used,
            "marginRatioPct": r.margin_ratio_pct,
            "totalUpnl": r.total_upnl,
            "positions": r.positions,
            "dexes": _dexes_doc(r.dexes),
            "source": None if r.source is None else r.source.value,
            "age_s": None if r.age_s is None else round(r.age_s, 3),
            "state": r.state.value,
        }
        for r in store.accounts()
    ]
