"""Per-dex account requests over REST: reconciliation's, and the discovery sweep's.

Since HIP-3 an account's positions and orders live per perp dex: ``clearinghouseState`` (weight
2) and ``frontendOpenOrders`` (weight 20) take a ``dex``, and without one they silently answer
for the default dex only. Sweeping every dex for every account on every poll costs 2 x 11 +
20 x 11 on mainnet, so hlmon asks only for the account's *active* dexes
(``Store.active_dexes``: the default dex, dexes with margin or positions, and the dexes of its
open orders and recent fills, fundings and order updates; the REST planner polls those, see
``rest_sources``), and sweeps the catalog's other dexes for state only, rarely
(``SWEEP_INTERVAL``), to discover activity when no ``allDexsClearinghouseState`` push tells
it (``sweep``; about 2 weight a minute per account on mainnet).

Feed keys name the dex: ``account``/``orders`` for the default dex, ``account:xyz``/
``orders:xyz`` for the others (``hlmon.state.dexes``).
"""

from __future__ import annotations

from typing import Any

from hlmon.feeds.info_client import InfoClient, InfoError
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest
from hlmon.protocol.subscriptions import check_dex
from hlmon.state import Source, Store
from hlmon.state.dexes import DEFAULT_DEX

SWEEP_INTERVAL = 600.0
"""Seconds between two discovery sweeps (state of every catalog dex) of one account, when no
websocket ``allDexsClearinghouseState`` push lists its dexes."""


def state_request(user: str, dex: str) -> InfoRequest:
    """``clearinghouseState`` of ``user`` on ``dex`` (weight 2)."""
    return info.clearinghouse_state(user, dex)


def orders_request(user: str, dex: str) -> InfoRequest:
    """``frontendOpenOrders`` of ``user`` on ``dex`` (weight 20; spot orders come with the
    default dex)."""
    return info.frontend_open_orders(user, dex)


def listed_dexes(store: Store) -> list[str]:
    """Every HIP-3 dex of the catalog (none without a catalog), by name."""
    catalog = store.catalog
    if catalog is None:
        return []
    return sorted(d.name for d in catalog.dexes() if d.name)


def sendable_dex(store: Store, dex: str) -> bool:
    """``dex`` may go to the exchange: a well-formed name the catalog lists (without a catalog
    yet, any name learned from the exchange's own answers, which is all that reaches here)."""
    try:
        check_dex(dex)
    except ValueError:
        return False
    catalog = store.catalog
    return dex == DEFAULT_DEX or catalog is None or catalog.dex(dex) is not None


def sweep_dexes(store: Store, user: str) -> list[str]:
    """The catalog's HIP-3 dexes not already fetched as active for ``user``: what a discovery
    sweep asks about."""
    active = set(store.active_dexes(user))
    return [d for d in listed_dexes(store) if d not in active]


async def fetch_into(
    client: InfoClient, store: Store, req: InfoRequest, user: str, **kw: Any
) -> Any:
    """Ask ``req`` and apply the answer to the store as ``user``'s (``Source.REST``); returns
    the decoded answer. ``kw`` goes to ``InfoClient.info`` (urgent, retries).

    Raises:
        InfoError: as ``InfoClient.info``.
    """
    response = await client.info(req, **kw)
    msg = info.to_message(req, response, user)
    if msg is not None:
        store.apply(msg, Source.REST)
    return response


class SweepClock:
    """When each account's dexes were last swept (monotonic seconds)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def due(self, user: str, now: float) -> bool:
        last = self._last.get(user.lower())
        return last is None or now - last >= SWEEP_INTERVAL

    def swept(self, user: str) -> bool:
        """``user``'s dexes were swept at least once."""
        return user.lower() in self._last

    def note(self, user: str, now: float) -> None:
        self._last[user.lower()] = now


async def sweep(client: InfoClient, store: Store, user: str) -> int:
    """Ask the state of every catalog dex ``user`` is not known to be active on (weight 2
    each, non-urgent, no retries) and apply the answers: dexes with margin or positions become
    active (``Store.active_dexes``), and the engine and the REST plan follow them. Returns how
    many dexes answered; one that fails is left unknown (never "empty")."""
    answered = 0
    for dex in sweep_dexes(store, user):
        try:
            await fetch_into(client, store, state_request(user, dex), user, urgent=False, retries=0)
        except InfoError:
            continue
        answered += 1
    return answered
