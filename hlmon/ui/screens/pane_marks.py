"""Freshness marks of the dashboard's panes: the worst state of the feeds a pane shows.

A stale pane is dimmed and carries its age in the title (``STALE 18s``); a lagging one says
``LAG 3.0s``; a REST-fed one ``REST``. A part of a pane (the watchlist's asset contexts) can be
stale on its own: it is named in the title (``ctx STALE 32s``) without dimming the rest.
"""

from __future__ import annotations

from textual.markup import escape

from hlmon.state import FeedState, FeedStatus, Store
from hlmon.state.dexes import account_feed
from hlmon.ui.fmt import fmt_age
from hlmon.ui.widgets.dexes import dex_line, is_multi_dex
from hlmon.ui.widgets.lines import LinePane


def badness(st: FeedStatus) -> tuple[int, float]:
    """Order feed statuses from best to worst (stale beats REST beats live)."""
    rank = {FeedState.STALE: 3, FeedState.FALLBACK: 2, FeedState.MISSING: 1}
    return (rank.get(st.state, 0), st.age_s or 0.0)


def worst_age(statuses: list[FeedStatus], state: FeedState) -> float | None:
    """The largest age (or lag, for LAGGING) among ``statuses`` in ``state``, else None."""
    found = [
        (st.lag_s if state is FeedState.LAGGING else st.age_s) or 0.0
        for st in statuses
        if st.state is state
    ]
    return max(found) if found else None


def freshness_marks(state: FeedState, age: float | None) -> tuple[str | None, bool]:
    """(stale age text or None, REST-fed?) for a panel title."""
    if state is FeedState.STALE:
        return fmt_age(age), False
    return None, state is FeedState.FALLBACK


def mark_pane(
    store: Store, pane: LinePane, feeds: list[str], part: tuple[str, list[str]] | None = None
) -> frozenset[str]:
    """Mark ``pane`` with the worst freshness of ``feeds`` (missing feeds don't count);
    ``part`` = (label, feeds) of a part of the pane whose staleness is named in the title
    (``ctx STALE 32s``) without marking the whole pane stale. Returns the stale ones of the
    part's feeds."""
    main = [store.feed_status(f) for f in feeds]
    parts = [store.feed_status(f) for f in part[1]] if part is not None else []
    stale = worst_age(main, FeedState.STALE)
    lag = worst_age(main + parts, FeedState.LAGGING)
    rest = any(st.state is FeedState.FALLBACK for st in main + parts)
    note = None
    if part is not None and stale is None:
        part_stale = worst_age(parts, FeedState.STALE)
        if part_stale is not None:
            note = f"{part[0]} STALE {fmt_age(part_stale)}"
    pane.set_freshness(
        stale_age=fmt_age(stale) if stale is not None else None,
        rest=rest,
        lag_age=fmt_age(lag) if lag is not None else None,
        note=note,
    )
    return frozenset(st.feed for st in parts if st.state is FeedState.STALE)


def is_stale(store: Store, feed: str) -> bool:
    """Whether ``feed`` is STALE now."""
    return store.feed_status(feed).state is FeedState.STALE


def dex_subtitle(store: Store) -> str:
    """Under the positions: each dex's account value in its own token, once the account
    holds something on a HIP-3 dex (else nothing)."""
    summaries = store.dex_summaries()
    if not is_multi_dex(summaries):
        return ""
    states = {}
    for s in summaries:
        st = store.feed_status(account_feed(s.dex))
        states[s.dex] = (st.state, st.age_s)
    return escape(dex_line(summaries, states))
