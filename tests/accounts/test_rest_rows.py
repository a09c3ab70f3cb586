"""The other watched accounts' rows over REST (``RestPoller``), against a fake /info and a
hand-driven clock: which rows it polls, when, and how their freshness is judged."""

from __future__ import annotations

from typing import Any

from hlmon.protocol.messages import ClearinghouseStateMsg
from hlmon.state import ConnState, FeedState, Source
from tests.feeds.test_rest_poller import Rig
from tests.feeds.test_rest_sources import SCREEN

from .helpers import A, B, C, clearinghouse, position

ROWS = SCREEN.__class__(user=A)  # no coin, no watchlist: only the accounts


def asked_rows(rig: Rig, *, but: str | None = None) -> list[str]:
    """Users whose clearinghouseState was asked, in order (leaving out ``but``)."""
    asked = [b["user"] for b in rig.fake.asked if b["type"] == "clearinghouseState"]
    return [u for u in asked if u != but]


def push(rig: Rig, user: str, **kw: Any) -> None:
    """A websocket clearinghouseState push of ``user``, stamped with the exchange time now."""
    m = clearinghouse(user, **kw)
    assert isinstance(m, ClearinghouseStateMsg)
    m.data.clearinghouseState.time = int(rig.clock() * 1000)
    rig.store.apply(m)
    rig.store.health.note_alive()  # as the feed notes each batch of frames


def websocket_rig() -> Rig:
    rig = Rig(rest_mode=False, screen=ROWS, others=(B, C), expect={"account"})
    rig.live = True
    rig.store.health.set_connection(ConnState.LIVE, url="ws://x/ws")
    push(rig, A)  # the selected account arrives over the websocket
    return rig


async def test_missing_rows_wait_for_the_grace_then_poll() -> None:
    rig = websocket_rig()
    try:
        push(rig, B)  # B arrived over the websocket
        await rig.settle()
        assert asked_rows(rig) == []  # C missing, but within the grace
        rig.clock.advance(5.0)
        push(rig, A)
        push(rig, B)
        await rig.settle()
        assert asked_rows(rig) == [C]  # never a fresh row (A, B)
        rows = {r.address: r for r in rig.store.accounts()}
        assert rows[C].source is Source.REST and rows[C].account_value == "1000.0"
        assert rows[C].state is FeedState.FALLBACK
        assert "frontendOpenOrders" not in rig.fake.kinds()  # another's orders show nowhere
    finally:
        await rig.close()


async def test_stale_rows_polled_held_rows_refreshed_before_stale() -> None:
    rig = websocket_rig()
    try:
        push(rig, B)
        push(rig, C)
        threshold = rig.store.threshold("account")
        rig.clock.advance(threshold + 0.5)  # both pushes stopped: stale
        push(rig, A)
        await rig.settle()
        assert sorted(asked_rows(rig)) == sorted([B, C])
        # Now held by REST: not polled again while fresh, polled before they would go stale.
        held = rig.store.threshold("account:" + B)
        assert held >= threshold
        # (The selected account A, whose push stopped too, is polled as the ``account`` feed.)
        await rig.run_for(0.75 * held)
        assert len(asked_rows(rig, but=A)) == 2
        # C's websocket push is back (every 4 s): handed back; only B keeps being refreshed.
        for _ in range(4):
            push(rig, C)
            await rig.run_for(4.0)
        assert asked_rows(rig, but=A)[2:] == [B]
        assert {r.address: r.source for r in rig.store.accounts()}[C] is Source.WS
    finally:
        await rig.close()


async def test_rest_mode_rows_polled_by_plan_and_fresh_between_polls() -> None:
    """REST mode: an idle row is polled every minute (background class) and stays fresh in
    between; a row with positions is polled more often (at risk)."""
    rig = Rig(screen=ROWS, others=(B, C), expect={"account"})
    try:
        await rig.settle()
        assert sorted(asked_rows(rig)) == sorted([A, B, C])
        plan = rig.store.health.rest_plan
        assert plan is not None
        idle = plan.cadences["account:" + B]
        assert idle == 60.0 and plan.cadences["account"] == 4.0
        await rig.run_for(idle - 1)
        rows = {r.address: r for r in rig.store.accounts()}
        assert rows[B].state is FeedState.FALLBACK and (rows[B].age_s or 0) > 50
        # C opens a position: its row is re-planned at the at-risk cadence.
        push(rig, C, positions=[position("BTC", "1.0", "5.0")])
        await rig.settle()
        plan = rig.store.health.rest_plan
        assert plan is not None and plan.cadences["account:" + C] < idle
    finally:
        await rig.close()
