"""The order book pane of the selected coin: asks above, bids below, spread and mid between.

Each level shows price, size, cumulative size and a cumulative depth bar scaled to the deepest
side on screen. The book has as many levels per side as fit (at most 5 in fast mode, 20 in
full mode). The title carries the mode, the aggregation and the book's exchange time.
Spread and mid come from the best bid and ask, never from aggregated bucket edges.
"""

from __future__ import annotations

from decimal import Decimal

from hlmon.protocol.messages import L2Book, Level
from hlmon.state import FeedState, Source, Store, try_dec
from hlmon.ui.fmt import (
    DASH,
    bar,
    fmt_column,
    fmt_ms_clock,
    fmt_num,
    fmt_px,
    price_decimals,
    shown_decimals,
)
from hlmon.ui.widgets.lines import Column, LinePane, Row, fit_columns, header_row, layout_row

FAST_LEVELS = 5
FULL_LEVELS = 20
AGGREGATIONS: tuple[int | None, ...] = (None, 5, 4, 3, 2)
"""nSigFigs values ``g`` cycles through (None = no aggregation)."""
BBO_MAX_BEHIND_MS = 5_000
"""With aggregation, a bbo older than the book by more than this is not used for the spread."""

COLUMNS: tuple[Column, ...] = (
    Column("px", "price", 11, "right", priority=100),
    Column("sz", "size", 9, "right", priority=90),
    Column("cum", "total", 9, "right", priority=50),
    Column("bar", "depth", 4, "left", priority=80, flex=True),
)


class BookView(LinePane):
    """L2 book ladder of one coin."""

    def __init__(self, store: Store, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store the book is read from."""
        self.coin: str | None = None
        """The coin shown."""
        self.fast = False
        """Fast mode: 5 levels every 0.5 s instead of 20 levels every ~5 s."""
        self.n_sig_figs: int | None = None
        """Price aggregation (significant figures), None for none."""
        self._update_caption()

    def show(self, coin: str | None) -> None:
        """Show another coin's book."""
        if coin != self.coin:
            self.coin = coin
            self.rebuild()

    def set_mode(self, fast: bool, n_sig_figs: int | None) -> None:
        """Record the book mode the engine was asked for (drives the title and depth)."""
        self.fast = fast
        self.n_sig_figs = n_sig_figs
        self.rebuild()

    @property
    def max_levels(self) -> int:
        """Levels per side the current mode delivers."""
        return FAST_LEVELS if self.fast else FULL_LEVELS

    def _update_caption(self, book_time: int | None = None) -> None:
        mode = f"fast {FAST_LEVELS}" if self.fast else f"full {FULL_LEVELS}"
        agg = DASH if self.n_sig_figs is None else f"{self.n_sig_figs} sf"
        when = fmt_ms_clock(book_time, tenths=True) if book_time else DASH
        coin = self.coin or DASH
        if self.inner_width and self.inner_width < 40:
            short_agg = "" if self.n_sig_figs is None else f" {self.n_sig_figs}sf"
            self.set_caption(f"Book {coin} {'fast' if self.fast else 'full'}{short_agg}")
        else:
            self.set_caption(f"Book {coin}  {mode}  agg {agg}  {when}")

    def rebuild(self) -> None:
        """Rebuild the ladder from the store."""
        width, height = self.inner_width, self.inner_height
        book = self.store.book(self.coin) if self.coin else None
        self._update_caption(book.time if book is not None else None)
        if width <= 0 or height <= 0:
            return
        cols = fit_columns(COLUMNS, width)
        # A short pane drops the header line: a level is worth more than a label.
        rows: list[Row] = [header_row(cols, width)] if height >= 12 else []
        if book is None:
            if self.store.catalog_state.status.waiting:
                msg = " waiting for market catalog…"
            elif self.coin:
                msg = f" waiting for the {self.coin} book…"
            else:
                msg = " no coin selected"
            rows.append(((msg.ljust(width), "pane--muted"),))
            self.set_rows(rows)
            return

        bids, asks = book.levels
        per_side = max(1, min(self.max_levels, (height - 1 - len(rows)) // 2))
        bids, asks = bids[:per_side], asks[:per_side]
        places = self._price_places(bids, asks)
        bid_cum = _cumulative(bids)
        ask_cum = _cumulative(asks)
        deepest = max([*bid_cum, *ask_cum, Decimal(0)])
        bar_width = next((c.width for c in cols if c.key == "bar"), 0)
        sz_places = max((shown_decimals(lv.sz) for lv in (*bids, *asks)), default=0)
        widths = {c.key: c.width for c in cols}
        # One rule per column: exact while every amount fits, else all large ones abbreviated.
        levels = [*asks, *bids]
        sizes = fmt_column([lv.sz for lv in levels], sz_places, widths.get("sz", 0))
        totals = fmt_column([*ask_cum, *bid_cum], sz_places, widths.get("cum", 0))
        text_of = {id(lv): (sz, cum) for lv, sz, cum in zip(levels, sizes, totals, strict=True)}

        def level_row(level: Level, cum: Decimal, side: str) -> Row:
            frac = float(cum / deepest) if deepest else 0.0
            sz_text, cum_text = text_of[id(level)]
            return layout_row(
                cols,
                {
                    "px": (fmt_px(level.px, places), f"pane--{side}"),
                    "sz": (sz_text, ""),
                    "cum": (cum_text, "pane--muted"),
                    "bar": (bar(frac, bar_width), f"pane--{side}-bar"),
                },
                width,
            )

        # Asks: best ask nearest the spread line, so the farthest is on top.
        blank = layout_row(cols, {}, width)
        ask_rows = [level_row(lv, c, "ask") for lv, c in zip(asks, ask_cum, strict=True)]
        rows.extend([blank] * (per_side - len(ask_rows)))
        rows.extend(reversed(ask_rows))
        rows.append(self._spread_row(book, places, width))
        rows.extend(level_row(lv, c, "bid") for lv, c in zip(bids, bid_cum, strict=True))
        self.set_rows(rows)

    def _price_places(self, bids: list[Level], asks: list[Level]) -> int:
        prices = [lv.px for lv in (*bids[:1], *asks[:1])]
        if not prices:
            return 0
        return max(max(price_decimals(p), shown_decimals(p)) for p in prices)

    def best_bid_ask(self, book: L2Book) -> tuple[str | None, str | None, str]:
        """(best bid, best ask, where from) for the spread line.

        Without aggregation the ladder's top levels are the best bid and ask. With it, the
        exchange has already bucketed the levels (the top bucket's edge is not a price anyone
        quotes), so the best bid and ask come from the ``bbo`` feed, when it is there and not
        older than the book; otherwise there is no true spread to show (``agg``).
        """
        bids, asks = book.levels
        if self.n_sig_figs is None:
            return (bids[0].px if bids else None, asks[0].px if asks else None, "book")
        bbo = self.store.bbo(book.coin)
        if bbo is None or bbo.time < book.time - BBO_MAX_BEHIND_MS or not self._bbo_fed(book.coin):
            return None, None, "agg"
        bid, ask = bbo.bbo
        return (bid.px if bid else None, ask.px if ask else None, "bbo")

    def _bbo_fed(self, coin: str) -> bool:
        """Whether ``coin``'s bbo is still being kept up: not stale, and when it came over REST
        (from a full-precision book poll), REST still polls it. An aggregated poll gives no
        bbo, so after ``g`` the last full-precision one is frozen however young it looks."""
        key = f"bbo:{coin}"
        status = self.store.feed_status(key)
        if status.state in (FeedState.STALE, FeedState.MISSING):
            return False
        return status.source is not Source.REST or self.store.health.rest_cadence(key) is not None

    def _spread_row(self, book: L2Book, places: int, width: int) -> Row:
        """``spread 1 (0.10 bps)   mid 104,412.5`` from the best bid and ask."""
        bid_s, ask_s, source = self.best_bid_ask(book)
        bid, ask = try_dec(bid_s), try_dec(ask_s)
        if source == "agg":
            options: tuple[str, ...] = (
                "spread –  mid –  (agg: no live bbo)",
                "spread – (agg)",
                "agg",
            )
        elif bid is None or ask is None:
            options = ("one-sided book",)
        else:
            if source == "bbo":  # the bbo's prices carry their own precision
                places = max(places, shown_decimals(bid_s or ""), shown_decimals(ask_s or ""))
            spread = ask - bid
            mid = (ask + bid) / 2
            bps = float(spread / mid * 10000) if mid else 0.0
            mid_places = places + 1 if (mid * 10**places) % 1 else places
            sp, mid_text = fmt_num(spread, places), fmt_num(mid, mid_places)
            tag = "  bbo" if source == "bbo" else ""
            options = (
                f"spread {sp} ({bps:.2f} bps)   mid {mid_text}{tag}",
                f"{sp} ({bps:.2f} bps)  mid {mid_text}{tag}",
                f"{sp} {bps:.1f}bps {mid_text}",
                f"{sp} ({bps:.2f} bps)",
            )
        text = next((t for t in options if len(t) <= width), options[-1])
        return ((text.center(width)[:width], "pane--accent"),)


def _cumulative(levels: list[Level]) -> list[Decimal]:
    total = Decimal(0)
    out: list[Decimal] = []
    for lv in levels:
        total += try_dec(lv.sz) or Decimal(0)
        out.append(total)
    return out
