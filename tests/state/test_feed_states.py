"""``Store.feed_states``: each expected feed's (state, source) without building the statuses,
what a frame compares at its start. It must say what ``feed_statuses`` says, in every state,
inside a moment and outside one."""

from __future__ import annotations

from hlmon.protocol.messages import Message
from hlmon.state import ConnState, FeedState, Source, Store

from .conftest import FakeClock, msg, trade

CTX = {"funding": "0", "openInterest": "1", "prevDayPx": "1", "dayNtlVlm": "1", "oraclePx": "1",
       "markPx": "1"}  # fmt: skip


def book(clock: FakeClock, late: float = 0.0) -> Message:
    return msg(
        "l2Book", {"coin": "BTC", "time": int((clock.now - late) * 1000), "levels": [[], []]}
    )


def states_of_statuses(store: Store) -> dict[str, tuple[FeedState, Source | None]]:
    return {key: (st.state, st.source) for key, st in store.feed_statuses().items()}


def agree(store: Store) -> set[FeedState]:
    """Both readings agree, outside a moment and inside one; returns the states seen."""
    outside = store.feed_states()
    assert outside == states_of_statuses(store)
    with store.one_moment():
        inside = store.feed_states()
        assert inside == states_of_statuses(store)
    assert inside == outside  # no time passed
    return {state for state, _ in outside.values()}


def test_every_state_is_read_as_the_statuses_read_it(store: Store, clock: FakeClock) -> None:
    for key in ("mids", "book:BTC", "trades:BTC", "ctx:BTC", "account", "fills"):
        store.expect(key)
    seen = agree(store)  # nothing yet: every feed missing

    for _ in range(20):  # a steady socket: the usual delay is learnt (``state.lag``)
        clock.advance(0.5)
        store.apply(book(clock))
        store.health.note_alive()
    store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
    store.apply(msg("trades", [trade(1, int(clock.now * 1000))]))
    seen |= agree(store)  # live over the websocket; fills still missing

    store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}), Source.REST)
    seen |= agree(store)  # mids kept by REST

    clock.advance(0.5)
    store.apply(book(clock, late=4.0))  # late on arrival: the book lags, and the socket with it
    store.apply(msg("activeAssetCtx", {"coin": "BTC", "ctx": CTX}))
    assert store.feed_states()["ctx:BTC"] == (FeedState.LAGGING, Source.WS)  # the socket's lag
    seen |= agree(store)

    clock.advance(40.0)
    store.health.note_alive()
    seen |= agree(store)  # periodic feeds stale, the trades quiet on a live socket

    store.health.set_connection(ConnState.RECONNECTING, attempt=1, next_retry_in=1.0)
    seen |= agree(store)  # the socket down: the trades stale too

    assert seen == set(FeedState)


def test_inside_a_moment_the_states_are_of_the_moments_time(store: Store, clock: FakeClock) -> None:
    store.expect("mids")
    store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
    with store.one_moment():
        assert store.feed_status("mids").state is FeedState.LIVE
        clock.advance(30.0)  # mid-frame: one picture, as the statuses keep it
        assert store.feed_states()["mids"] == (FeedState.LIVE, Source.WS)
    assert store.feed_states()["mids"] == (FeedState.STALE, Source.WS)
