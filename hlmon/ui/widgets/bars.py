"""One-line bars: ``HeaderBar`` (network, address, account numbers, clock) and ``StatusBar``
(connection and why it is not live, per-feed freshness and lag, REST weight, reconnects,
message rate).

Both are line-API panes of height 1 that lay their parts out by priority: when the terminal is
narrow the least important parts go first, so the line never wraps or overflows. Both are
redrawn on the UI timer; the diff in ``set_rows`` makes an unchanged bar free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from hlmon.state import (
    PERIODIC_FEEDS,
    ConnState,
    FeedState,
    FeedStatus,
    RestPlanView,
    Source,
    Store,
    try_dec,
)
from hlmon.state.account_modes import AccountMode
from hlmon.state.catalog_state import CatalogOrigin
from hlmon.state.freshness import stale_age
from hlmon.ui.fmt import DASH, fmt_age, fmt_clock, fmt_money, fmt_num, short_address
from hlmon.ui.widgets.dexes import is_multi_dex, token_amounts
from hlmon.ui.widgets.lines import Cell, LinePane, Row, pad_row
from hlmon.ui.widgets.whole_account import (
    equity_cells,
    history_cells,
    mode_cells,
    ratio_cells,
    role_cells,
)

Part = tuple[int, tuple[Cell, ...]]
"""A part of a bar: (priority, cells). Higher priority survives a narrow terminal longer."""

SEP: Cell = (" │ ", "pane--muted")
COMPACT_WIDTH = 100
"""Below this many columns the bars use their compact forms."""
SILENT_AFTER_S = 3.0
"""A live socket that has said nothing for this long is flagged in the status bar."""
REASON_COMPACT = 36
"""Longest reason shown beside the connection state on a narrow terminal (the Log has it
whole)."""

FEED_LABELS = {"account": "acct", "fundings": "funding"}
FEED_PRIORITY = {
    "mids": 9, "book": 8, "account": 7, "bbo": 6, "orders": 5,
    "fills": 4, "trades": 3, "ctx": 2, "fundings": 1,
}  # fmt: skip
"""Which healthy feeds the status bar keeps longest on a narrow terminal."""
_BADNESS = {
    FeedState.STALE: 5,
    FeedState.LAGGING: 4,
    FeedState.MISSING: 3,
    FeedState.FALLBACK: 2,
    FeedState.LIVE: 1,
    FeedState.QUIET: 0,
}


def fit_parts(parts: list[Part], width: int, *, sep: Cell = SEP, lead: str = " ") -> Row:
    """Join parts with separators, dropping the lowest-priority ones until the line fits."""
    live = list(parts)

    def length(ps: list[Part]) -> int:
        body = sum(len(t) for _, cells in ps for t, _ in cells)
        return len(lead) + body + len(sep[0]) * max(0, len(ps) - 1)

    while len(live) > 1 and length(live) > width:
        victim = min(range(len(live)), key=lambda i: (live[i][0], -i))
        live.pop(victim)
    cells: list[Cell] = [(lead, "")]
    for i, (_, part) in enumerate(live):
        if i:
            cells.append(sep)
        cells.extend(part)
    return pad_row(tuple(cells), width)


def names_within(labels: list[str], room: int) -> str:
    """``mids book bbo``, or ``mids book +4``: the labels that fit in ``room`` cells (a space
    before each counted), then how many did not, so a long group is shortened, never dropped."""
    full = "".join(f" {label}" for label in labels)
    if len(full) <= room:
        return full[1:]
    shown: list[str] = []
    used = 0
    for i, label in enumerate(labels):
        tail = len(f" +{len(labels) - i - 1}") if i < len(labels) - 1 else 0
        if used + 1 + len(label) + tail > room:
            break
        shown.append(label)
        used += 1 + len(label)
    return " ".join([*shown, f"+{len(labels) - len(shown)}"])


def stale_no_longer_than_silence(
    kinds: dict[str, FeedStatus], silent: float | None
) -> dict[str, FeedStatus]:
    """``kinds`` with each age as ``freshness.stale_age`` counts it: an event feed stale with
    the socket is as old as the exchange's silence, not its last event (``STALE 2.0s: …
    funding`` in a two-second reconnect, not ``STALE 45m``)."""
    out = kinds
    for kind, st in kinds.items():
        age = stale_age(st, silent)
        if age != st.age_s:
            if out is kinds:
                out = dict(kinds)
            out[kind] = replace(st, age_s=age)
    return out


def worst_by_kind(statuses: Iterable[FeedStatus]) -> dict[str, FeedStatus]:
    """Collapse ``book:BTC``, ``book:ETH``... into one status per kind: the worst one."""
    out: dict[str, FeedStatus] = {}
    for st in statuses:
        kind = st.feed.partition(":")[0]
        cur = out.get(kind)
        if cur is None or _how_bad(st) > _how_bad(cur):
            out[kind] = st
    return out


def _how_bad(st: FeedStatus) -> tuple[int, float]:
    """Worse state first, then the larger age (or lag, for a lagging feed)."""
    amount = st.lag_s if st.state is FeedState.LAGGING else st.age_s
    return _BADNESS[st.state], amount or 0.0


def feed_cells(
    kind: str, st: FeedStatus, rest_plan: RestPlanView | None = None
) -> tuple[tuple[Cell, ...], int]:
    """Cells for one feed in the status bar, and its priority (bad news ranks high).

    With ``rest_plan`` (REST mode), REST data is the normal case: its age is shown with the
    planned poll interval (``ctx 4s/15s``), in no warning colour.
    """
    label = FEED_LABELS.get(kind, kind)
    rank = FEED_PRIORITY.get(kind, 0)
    if rest_plan is not None and st.state is FeedState.FALLBACK:
        cadence = rest_plan.cadences.get(st.feed)
        every = "" if cadence is None else f"/{fmt_age(cadence)}"
        return ((f"{label} ", ""), (f"{fmt_age(st.age_s)}{every}", "")), 20 + rank
    if st.state is FeedState.STALE:
        return ((f"{label} ", ""), (f"{fmt_age(st.age_s)} STALE", "pane--bad")), 80 + rank
    if st.state is FeedState.LAGGING:
        return ((f"{label} ", ""), (f"LAG {fmt_age(st.lag_s)}", "pane--lag")), 75 + rank
    if st.state is FeedState.MISSING:
        return ((f"{label} ", ""), ("–", "pane--warn")), 40 + rank
    if st.state is FeedState.FALLBACK:
        return ((f"{label} ", ""), (f"{fmt_age(st.age_s)} REST", "pane--warn")), 70 + rank
    if st.state is FeedState.QUIET:
        return ((f"{label} ", ""), ("quiet", "pane--muted")), 10 + rank
    src = " ws" if st.source is Source.WS and label in ("acct", "orders") else ""
    return ((f"{label} ", ""), (f"{fmt_age(st.age_s)}{src}", "")), 20 + rank


class StatusBar(LinePane):
    """Connection state and feed freshness; always visible."""

    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"pane--lag"}

    DEFAULT_CSS = """
    StatusBar { height: 1; border: none; background: $panel; }
    StatusBar.-stale { border: none; }
    StatusBar > .pane--lag { color: $secondary; text-style: bold; }
    StatusBar:nocolor > .pane--lag { color: $text; text-style: bold underline; }
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store read on each frame."""
        self.clock = clock
        """Clock for the reconnect countdown."""

    def connection_cells(self, compact: bool) -> tuple[Cell, ...]:
        """``● LIVE`` / ``◌ RECONNECTING 3 (next 4.2 s)`` / ``✖ DOWN``, and while not live
        why, in a few words (``cannot connect: 127.0.0.1:9 refused``)."""
        cells = self._state_cells(compact)
        reason = self.store.health.connection.reason
        if reason and self.store.health.connection.state is not ConnState.LIVE:
            if compact:
                reason = reason.removeprefix("cannot connect: ")  # "host:port refused" says it
                if len(reason) > REASON_COMPACT:
                    reason = reason[: REASON_COMPACT - 1] + "…"
            cells += (("  " + reason, ""),)
        return cells

    def _state_cells(self, compact: bool) -> tuple[Cell, ...]:
        conn = self.store.health.connection
        if conn.state is ConnState.LIVE:
            # Live but silent: the heartbeat has not declared the socket dead yet, but the
            # user should not have to wait for it to see that nothing is arriving.
            silent = None if conn.last_alive is None else self.clock() - conn.last_alive
            if silent is not None and silent >= SILENT_AFTER_S:
                return (("● LIVE", "pane--warn"), (f" silent {fmt_age(silent)}", "pane--warn"))
            rtt = self.store.health.ws_rtt_ms
            if rtt is None or compact:
                return (("● LIVE", "pane--up"),)
            return (("● LIVE", "pane--up"), (f"  ws {rtt:.0f} ms", ""))
        if conn.state is ConnState.REST:
            return self.rest_mode_cells(compact)
        if conn.state is ConnState.DOWN:
            return (("✖ DOWN", "pane--bad"),)
        if conn.state is ConnState.CONNECTING:
            return (("◌ CONNECTING", "pane--warn"),)
        text = f"◌ RECONN {conn.attempt}" if compact else f"◌ RECONNECTING {conn.attempt}"
        if conn.next_retry_at is not None:
            wait = conn.next_retry_at - self.clock()
            if wait <= 0:
                text += " (now)" if compact else " (retrying)"
            else:
                text += f" ({wait:.1f}s)" if compact else f" (next {wait:.1f} s)"
        return ((text, "pane--warn"),)

    def rest_mode_cells(self, compact: bool) -> tuple[Cell, ...]:
        """``⇄ REST`` (a chosen mode: no error colour), and what the plan had to give up."""
        plan = self.store.health.rest_plan
        cells: list[Cell] = [("⇄ REST", "pane--accent")]
        if plan is not None and plan.not_served:
            cells.append((f" {len(plan.not_served)} not served", "pane--warn"))
        elif plan is not None and plan.stretched:
            cells.append((" stretched" if compact else " plan stretched", "pane--warn"))
        return tuple(cells)

    @staticmethod
    def feed_parts(
        kinds: dict[str, FeedStatus],
        room: int,
        compact: bool,
        rest_plan: RestPlanView | None = None,
    ) -> list[Part]:
        """Status parts for the feeds: one per feed when they fit in ``room`` cells, else
        bad news grouped (``STALE 18s: mids book``, ``LAG 3.0s: book bbo``, ``REST: acct``) so
        none is dropped.

        ``rest_plan`` (REST mode): feeds kept by REST are the normal case, not news."""
        bad = {FeedState.STALE, FeedState.LAGGING, FeedState.FALLBACK, FeedState.MISSING}
        if rest_plan is not None:
            bad.discard(FeedState.FALLBACK)
        chosen = {k: st for k, st in kinds.items() if st.state in bad} if compact else kinds
        parts = [
            (prio, cells)
            for cells, prio in (feed_cells(k, st, rest_plan) for k, st in chosen.items())
        ]
        bad_parts = [p for p in parts if p[0] >= 40]
        needed = sum(len(t) + 3 for _, cells in bad_parts for t, _ in cells)
        if needed > room:
            parts = [p for p in parts if p[0] < 40]
            for state, label, style, prio in (
                (FeedState.STALE, "STALE", "pane--bad", 99),
                (FeedState.LAGGING, "LAG", "pane--lag", 97),
                (FeedState.FALLBACK, "REST", "pane--warn", 98),
                (FeedState.MISSING, "waiting", "pane--warn", 60),
            ):
                if state not in bad:
                    continue
                group = [(k, st) for k, st in kinds.items() if st.state is state]
                if not group:
                    continue
                labels = [FEED_LABELS.get(k, k) for k, _ in group]
                if state is FeedState.STALE:
                    ages = [st.age_s for _, st in group if st.age_s is not None]
                elif state is FeedState.LAGGING:
                    ages = [st.lag_s for _, st in group if st.lag_s is not None]
                else:
                    ages = []
                head = f"{label} {fmt_age(max(ages))}" if ages else label
                names = names_within(labels, room - len(head) - 1)
                parts.append((prio, ((f"{head}:", style), (f" {names}", ""))))
        if compact:
            live = [
                st.age_s
                for kind, st in kinds.items()
                if kind in PERIODIC_FEEDS
                and st.age_s is not None
                and (st.state is FeedState.LIVE or FeedState.FALLBACK not in bad)
            ]
            if live and not chosen:
                parts.append((60, (("worst ", ""), (fmt_age(max(live)), ""))))
        return parts

    def catalog_parts(self, compact: bool) -> list[Part]:
        """``catalog waiting`` (nothing that takes a coin is subscribed until it loads) or
        ``catalog cached 2.0h`` (the exchange's could not be fetched); nothing when fresh."""
        status = self.store.catalog_state.status
        if status.waiting:
            return [(97, (("catalog waiting", "pane--bad"),))]
        if status.origin is CatalogOrigin.CACHE:
            age = fmt_age(status.age(self.clock()))
            text = f"cat cached {age}" if compact else f"catalog cached {age}"
            return [(90, ((text, "pane--warn"),))]
        return []

    def rebuild(self) -> None:
        """Recompute the line from the store."""
        width = self.inner_width
        if width <= 0:
            return
        store = self.store
        compact = width < COMPACT_WIDTH
        parts: list[Part] = [(100, self.connection_cells(compact))]
        via = store.health.connection.via
        if via is not None:
            # Through a daemon the state above is the exchange's, as the daemon sees it.
            through = via in ("daemon", "nats")
            style = "pane--muted" if through else "pane--warn"
            parts.append((96, ((f"via {via}" if through else via, style),)))
        health = store.health
        rest_plan = health.rest_plan if health.rest_mode else None
        kinds = worst_by_kind(store.feed_statuses().values())
        kinds = stale_no_longer_than_silence(kinds, health.silent_for())
        room = width - 40 if compact else width - 50
        parts.extend(self.feed_parts(kinds, room, compact, rest_plan))
        parts.extend(self.catalog_parts(compact))
        if health.fallback_active:
            parts.append((95, (("FALLBACK", "pane--warn"),)))
        if health.rest_budget:
            used = f"REST {health.rest_weight_used}"
            text = used if compact else f"{used}/{health.rest_budget} w/min"
            style = "pane--warn" if health.rest_weight_used > health.rest_budget * 0.8 else ""
            parts.append((50, ((text, style),)))
        reconnects = health.connection.reconnects
        parts.append((45, ((f"r{reconnects}" if compact else f"reconn {reconnects}", ""),)))
        rate = health.msgs_per_s()
        parts.append((35, ((f"{rate:.0f}/s" if compact else f"{rate:.0f} msg/s", ""),)))
        self.set_rows([fit_parts(parts, width)])


def margin_share_pct(margin_used: str, account_value: str) -> str | None:
    """Margin in use as a percentage of the account value, one decimal (None if no value)."""
    used, value = try_dec(margin_used), try_dec(account_value)
    if used is None or value is None or value <= 0:
        return None
    return fmt_num(used / value * 100, 1)


class HeaderBar(LinePane):
    """Network, address, account numbers and the local clock."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; border: none; background: $panel; }
    HeaderBar.-stale { border: none; }
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        network: str,
        address: str | None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store account numbers are read from."""
        self.clock = clock
        """Clock for the time shown on the right."""
        self.network = network
        """Network name."""
        self.address = address
        """Watched address, if any."""
        self.label: str | None = None
        """The selected account's configured label, shown before its address."""
        self._history: tuple[object, tuple[Cell, ...] | None] = (None, None)
        """The equity history drawn last and its sparkline (a push replaces the history)."""

    def rebuild(self) -> None:
        """Recompute the line."""
        width = self.inner_width
        if width <= 0:
            return
        compact = width < COMPACT_WIDTH
        clock_text = fmt_clock(self.clock())
        parts: list[Part] = [
            (25, (("hlmon", "pane--accent"),)),
            (90, ((self.network, "pane--strong"),)),
        ]
        if self.address is None:
            parts.append((50, (("no address: market data only", "pane--muted"),)))
        else:
            if self.label:
                parts.append((80, ((self.label, "pane--strong"),)))
            parts.append((85, ((short_address(self.address), ""),)))
            parts.extend(self._account_parts(compact))
        row = fit_parts(parts, max(0, width - len(clock_text) - 4), sep=("  ", ""))
        self.set_rows(
            [pad_row((*row, ("   ", ""), (clock_text, "pane--strong"), (" ", "")), width)]
        )

    def _account_parts(self, compact: bool) -> list[Part]:
        store = self.store
        summary = store.account_summary()
        reading = store.account_mode()
        # The mode changes what equity means: shown before the margin figures unless it is
        # the standard one (then it gives way to them on a narrow terminal).
        standard_mode = reading is not None and reading.mode is AccountMode.STANDARD
        parts: list[Part] = [(35 if standard_mode else 65, mode_cells(reading))]
        role = role_cells(store.user_role())
        if role is not None:
            parts.append((88, role))
        if summary is None:
            parts.append((60, (("waiting for account…", "pane--muted"),)))
            return parts
        status = store.feed_status("account")
        # Equity and the risk ratio by the rules of the account's mode (``store.equity``), in
        # USD: a standard account's dex pools (each converted from its collateral token) plus
        # spot; a unified or portfolio-margin account's spot collateral plus its positions'
        # uPnL (its perp account value reads about 0). At the rows' marks, like the uPnL.
        figures = store.equity()
        standard = figures.mode is AccountMode.STANDARD
        # With positions or margin on a HIP-3 dex, uPnL is per collateral token (tokens never
        # added: "+20.10 USDC · -3.00 USDH"), and margin and withdrawable are the default
        # dex's ("main"); each dex's own are on the dex line under the positions.
        tokens = store.token_totals() if is_multi_dex(store.dex_summaries()) else ()
        scope = "main " if tokens else ""
        if standard and figures.equity_usd is None and tokens:
            # A pool's token has no USD price (yet): each token's pools on their own, as
            # they are, rather than a total with a hole in it.
            pools = token_amounts(tokens, "equity")
            label = "eq " if compact else "equity "
            parts.append((80, ((label, "pane--muted"), (pools, "pane--strong"))))
        else:
            parts.append((80, equity_cells(figures, compact)))
        held = store.equity_history()
        drawn, history = self._history
        if held is not drawn:  # the sparkline parses its samples: once per history
            history = history_cells(held)
            self._history = (held, history)
        if history is not None:
            parts.append((20, history))
        share = margin_share_pct(summary.total_margin_used, summary.account_value)
        used: tuple[Cell, ...] = ((scope + "margin ", "pane--muted"),)
        if compact and standard:
            used += ((share + "%" if share is not None else DASH, ""),)
        elif compact:
            used += ((fmt_money(summary.total_margin_used), ""),)
        else:
            used += ((fmt_money(summary.total_margin_used), ""),)
            if share is not None and standard:
                used += ((f" ({share}% of equity)", ""),)
        parts.append((40, used))
        ratio = ratio_cells(figures)
        if ratio is not None:
            parts.append((55, ratio))
        upnl_style = "pane--down" if summary.total_upnl.startswith("-") else "pane--up"
        upnl = token_amounts(tokens, "live_upnl", sign=True) if tokens else None
        parts.append(
            (
                70,
                (
                    ("uPnL ", "pane--muted"),
                    (upnl or fmt_money(summary.total_upnl, sign=True), "" if upnl else upnl_style),
                ),
            )
        )
        if standard:  # not a balance under a unified or portfolio-margin account
            parts.append(
                (
                    30,
                    (
                        (scope + "withdrawable ", "pane--muted"),
                        (fmt_money(summary.withdrawable), ""),
                    ),
                )
            )
        if status.state is FeedState.STALE:
            parts.append((95, ((f"STALE {fmt_age(status.age_s)}", "pane--bad"),)))
        elif status.state is FeedState.FALLBACK:
            parts.append((75, (("REST", "pane--warn"),)))
        return parts
