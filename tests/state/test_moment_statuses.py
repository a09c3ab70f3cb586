"""Feed statuses inside ``Store.one_moment``: judged once per feed, at the moment's time, and
the same as a judgement outside a moment at that time; outside, every read judges again."""

from __future__ import annotations

import pytest

from hlmon.state import FeedState, FeedStatus, Source, Store

from .conftest import FakeClock, msg


class Judgements:
    """Counts the store's status judgements (``Store._classify``)."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        judge = store._classify

        def counted(feed_key: str, now: float, socket_alive: bool) -> FeedStatus:
            self.count += 1
            return judge(feed_key, now, socket_alive)

        store._classify = counted  # type: ignore[method-assign]


@pytest.fixture
def judged(store: Store) -> Judgements:
    store.expect("mids")
    store.expect("book:BTC")
    store.apply(msg("allMids", {"mids": {"BTC": "1.0"}}))
    return Judgements(store)


def test_a_second_read_in_one_moment_does_not_judge_again(store: Store, judged: Judgements) -> None:
    outside = store.feed_statuses(), store.feed_status("mids"), store.feed_status("ctx:ETH")
    assert judged.count == 4  # outside a moment: every read judges
    with store.one_moment():
        inside = store.feed_statuses(), store.feed_status("mids"), store.feed_status("ctx:ETH")
        assert judged.count == 4 + 3  # mids, book:BTC, ctx:ETH: once each
        store.feed_statuses()
        store.feed_status("book:BTC")
        assert judged.count == 7
    assert inside == outside  # the same answers as judged one by one
    store.feed_status("mids")
    assert judged.count == 8  # the next moment (or a read outside one) judges again


def test_a_feed_going_stale_by_time_alone(
    store: Store, judged: Judgements, clock: FakeClock
) -> None:
    with store.one_moment():
        assert store.feed_status("mids").state is FeedState.LIVE
        clock.advance(30.0)  # mid-frame: the frame keeps one picture
        assert store.feed_statuses()["mids"].state is FeedState.LIVE
    uncached = store.feed_status("mids")
    assert uncached.state is FeedState.STALE
    with store.one_moment():
        assert store.feed_status("mids") == uncached
        assert store.feed_statuses()["mids"] == uncached


def test_a_push_inside_a_moment_is_judged_again(
    store: Store, judged: Judgements, clock: FakeClock
) -> None:
    clock.advance(30.0)
    with store.one_moment():
        assert store.feed_status("mids").state is FeedState.STALE
        store.apply(msg("allMids", {"mids": {"BTC": "2.0"}}), Source.REST)
        fresh = store.feed_status("mids")
        assert fresh.state is FeedState.FALLBACK and fresh.source is Source.REST
        assert store.feed_statuses()["mids"] == fresh
    assert store.feed_status("mids") == fresh  # no time passed: as judged outside


def test_a_feed_expected_inside_a_moment_is_listed(store: Store, judged: Judgements) -> None:
    with store.one_moment():
        assert list(store.feed_statuses()) == ["mids", "book:BTC"]
        store.expect("trades:BTC")
        statuses = store.feed_statuses()
        assert set(statuses) == {"mids", "book:BTC", "trades:BTC"}
        assert statuses["trades:BTC"].state is FeedState.MISSING
    assert store.feed_statuses() == statuses
