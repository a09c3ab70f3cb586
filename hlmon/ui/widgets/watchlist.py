"""The watchlist pane: one line per coin with mid, 24h change, funding, open interest, and a
sparkline of its last 24 h (1 h candles, ``widgets.candles``; ``…`` until they came).

The selected coin (``▶``) drives the book and the tape; moving the selection posts
``Watchlist.CoinSelected``. A mid that moved carries ``▲``/``▼`` as well as its colour; a cell
whose feed has not delivered yet shows ``…``, a value that does not exist ``–``. Rows are
rebuilt from the store only when mids or a watched coin's asset context changed, and only lines
whose text changed are repainted.

Coins are the exchange's exact names (``xyz:TSLA`` with its dex prefix; spot ``@107`` shown as
``HYPE/USDC``), never cut. The list follows what the feeds really watch (``set_coins``: names
resolved by the market catalog); until the catalog is in force the pane says it is waiting for
it (nothing that takes a coin is subscribed yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from textual import events
from textual.message import Message

from hlmon.state import FeedState, Store, try_dec
from hlmon.ui.fmt import (
    DASH,
    WAITING,
    fmt_compact,
    fmt_pct,
    fmt_px,
    price_decimals,
    shown_decimals,
)
from hlmon.ui.widgets.candles import SPARK_LABEL, spark_cell
from hlmon.ui.widgets.lines import (
    Cell,
    Column,
    LinePane,
    Row,
    content_widths,
    fit_columns,
    header_row,
    layout_row,
)
from hlmon.ui.widgets.table import WHEEL_ROWS

HOURS_PER_YEAR = 24 * 365

# Declared widths are minimums; columns are sized by content (a coin name is never cut).
COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1, "left", priority=100),
    Column("coin", "coin", 4, "left", priority=100),
    Column("mid", "mid", 9, "right", priority=90),
    Column("dir", "", 1, "left", priority=85),
    Column("chg", "24h %", 6, "right", priority=80),
    Column("fund", "funding/h", 7, "right", priority=50),
    Column("ann", "ann.", 5, "right", priority=30),
    Column("oi", "OI ($)", 6, "right", priority=60),
    Column("trend", SPARK_LABEL, 6, "left", priority=20, flex=True),
)
DIRECTION_GLYPH = {"pane--up": "▲", "pane--down": "▼"}
"""The glyph beside a mid that moved, so the direction does not depend on colour."""


class Watchlist(LinePane):
    """Prices for the watched coins; the selected coin drives the book and the tape."""

    class CoinSelected(Message):
        """The selected coin changed."""

        def __init__(self, coin: str) -> None:
            super().__init__()
            self.coin = coin
            """The newly selected coin."""

    def __init__(
        self,
        store: Store,
        coins: Sequence[str],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store rows are read from."""
        self._coins: list[str] = list(coins)
        self._index = 0
        self._top = 0
        self._shown = range(0)
        """Indexes of the coins on screen (a click on a row selects one of them)."""
        self._followed = -1
        """The selection the view last scrolled to (a new one is brought into view)."""
        self._room = 0
        self._decimals: dict[str, int] = {}
        self._last_mid: dict[str, Decimal] = {}
        self._direction: dict[str, str] = {}
        self.set_caption("Watchlist")

    # ------------------------------------------------------------------ model

    @property
    def coins(self) -> list[str]:
        """The coins, in display order."""
        return list(self._coins)

    @property
    def selected(self) -> str | None:
        """The selected coin, if any."""
        return self._coins[self._index] if self._coins else None

    def move(self, delta: int) -> None:
        """Move the selection by ``delta`` rows (clamped)."""
        if not self._coins:
            return
        self.select_index(min(max(self._index + delta, 0), len(self._coins) - 1))

    def select_index(self, index: int) -> None:
        """Select the coin at ``index`` and announce it."""
        if not self._coins or (index == self._index and self._rows):
            return
        self._index = min(max(index, 0), len(self._coins) - 1)
        self.rebuild()
        coin = self.selected
        if coin is not None:
            self.post_message(self.CoinSelected(coin))

    def add_coin(self, coin: str) -> bool:
        """Append ``coin`` and select it; False if it is already listed."""
        if coin in self._coins:
            self.select_index(self._coins.index(coin))
            return False
        self._coins.append(coin)
        self.refresh(layout=True)
        self._index = -1  # force the announcement
        self.select_index(len(self._coins) - 1)
        return True

    def set_coins(self, coins: Sequence[str]) -> None:
        """Follow the watchlist the feeds really watch (names resolved by the catalog): keep
        the selected coin if it is still there, else select the first, and announce a change
        of selection."""
        coins = list(dict.fromkeys(coins))
        if coins == self._coins:
            return
        before = self.selected
        self._coins = coins
        self._index = coins.index(before) if before in coins else 0
        self.refresh(layout=True)
        self.rebuild()
        if self.selected is not None and self.selected != before:
            self.post_message(self.CoinSelected(self.selected))

    def remove_selected(self) -> str | None:
        """Remove the selected coin and select its neighbour; returns the removed coin."""
        if not self._coins:
            return None
        coin = self._coins.pop(self._index)
        self._index = min(self._index, max(0, len(self._coins) - 1))
        self.refresh(layout=True)
        self.rebuild()
        if self._coins:
            self.post_message(self.CoinSelected(self._coins[self._index]))
        return coin

    def on_click(self, event: events.Click) -> None:
        """A click on a coin's row selects it, as the arrow keys do (``CoinSelected``)."""
        line = event.y - self.content_offset.y
        index = self._top + line - 1  # line 0 is the header
        if line >= 1 and index in self._shown and not self.store.catalog_state.status.waiting:
            self.screen.set_focus(None)  # the arrow keys move the coins again, not a table
            self.select_index(index)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel scrolls the coins shown (the selection stays)."""
        event.stop()
        self._scroll(WHEEL_ROWS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel scrolls the coins shown (the selection stays)."""
        event.stop()
        self._scroll(-WHEEL_ROWS)

    def _scroll(self, delta: int) -> None:
        self._top = max(0, self._top + delta)
        self.rebuild()  # (clamped there to the last screenful)

    # ------------------------------------------------------------------ rows

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One header line plus one line per coin (at least one, for the empty message)."""
        return 1 + max(1, len(self._coins))

    def rebuild(self) -> None:
        """Rebuild every row from the store (cheap: a handful of coins)."""
        width = self.inner_width
        if width <= 0:
            return
        # Scroll so a newly selected coin is visible on a short pane (the wheel may scroll it
        # out of view afterwards: the title counts the coins off the edge).
        room = max(1, self.inner_height - 1)
        if self._index != self._followed or self._room != room:
            self._followed, self._room = self._index, room
            if self._index < self._top:
                self._top = self._index
            elif self._index >= self._top + room:
                self._top = self._index - room + 1
        self._top = max(0, min(self._top, max(0, len(self._coins) - room)))
        shown = self._shown = range(self._top, min(len(self._coins), self._top + room))
        # Coins off the pane's edge are counted in the title (no line is spent on it).
        hidden = [f"▲ {shown.start} above"] if shown.start else []
        if shown.stop < len(self._coins):
            hidden.append(f"▼ {len(self._coins) - shown.stop} more")
        self.set_caption("  ".join(["Watchlist", *hidden]))
        # Every coin's cells (a handful): the columns are sized by all of them, so scrolling
        # does not make them jump, and a hidden coin's direction of change stays current.
        cells = [self._cells(coin) for coin in self._coins]
        content = content_widths(cells)
        content["mark"] = content["trend"] = 1  # drawn after sizing, never empty
        cols = fit_columns(COLUMNS, width, content=content, spread=2)
        rows: list[Row] = [header_row(cols, width)]
        if self.store.catalog_state.status.waiting:
            rows.append(((" waiting for market catalog…".ljust(width), "pane--muted"),))
            self.set_rows(rows)
            return
        if not self._coins:
            rows.append(((" no coins: press a to add one".ljust(width), "pane--muted"),))
        trend_width = next((c.width for c in cols if c.key == "trend"), 0)
        for i in shown:
            row = cells[i]
            coin = self._coins[i]
            if trend_width:
                row["trend"] = spark_cell(self.store, coin, trend_width)
            fill = "pane--sel" if i == self._index else ""
            if fill:
                row["mark"] = ("▶", "pane--accent")
            rows.append(layout_row(cols, row, width, fill=fill))
        self.set_rows(rows)

    def _cells(self, coin: str) -> dict[str, Cell]:
        """The cells of one coin (all but the selection mark and the trend)."""
        store = self.store
        ctx = store.ctx(coin)
        mid_s = store.mid(coin)
        if mid_s is None and ctx is not None:
            mid_s = ctx.midPx or ctx.markPx
        mid = try_dec(mid_s)

        # Sticky precision per coin, so a mid half a tick off does not make the column jitter.
        if mid_s is not None:
            places = max(price_decimals(mid_s), shown_decimals(mid_s), self._decimals.get(coin, 0))
            self._decimals[coin] = min(places, 8)
        mid_style = ""
        if mid is not None:
            prev = self._last_mid.get(coin)
            if prev is not None and mid != prev:
                self._direction[coin] = "pane--up" if mid > prev else "pane--down"
            self._last_mid[coin] = mid
            mid_style = self._direction.get(coin, "")

        cells: dict[str, Cell] = {
            "coin": (store.display_name(coin), "pane--strong"),
            # No mid yet: the feed has not delivered (a waiting mark, not a value).
            "mid": (fmt_px(mid_s, self._decimals.get(coin)) if mid_s else WAITING, mid_style),
            "dir": (DIRECTION_GLYPH.get(mid_style, " "), mid_style),
        }
        if ctx is None:
            for key in ("chg", "fund", "ann", "oi"):
                cells[key] = (WAITING, "pane--muted")
            return cells
        chg = fund = ann = oi = DASH
        chg_style = fund_style = ""
        prev_day = try_dec(ctx.prevDayPx)
        if mid is not None and prev_day:
            change = float((mid - prev_day) / prev_day * 100)
            chg = fmt_pct(change)
            chg_style = "pane--up" if change > 0 else "pane--down" if change < 0 else ""
        rate = try_dec(ctx.funding)
        if rate is not None:
            fund = fmt_pct(float(rate * 100), 4, sign=False)
            ann = fmt_pct(float(rate * 100 * HOURS_PER_YEAR), 1, sign=False)
            fund_style = "pane--down" if rate < 0 else ""
        oi_size, mark = try_dec(ctx.openInterest), try_dec(ctx.markPx)
        if oi_size is not None and mark is not None:
            oi = fmt_compact(oi_size * mark)
        cells["chg"] = (chg, chg_style)
        cells["fund"] = (fund, fund_style)
        cells["ann"] = (ann, fund_style)
        cells["oi"] = (oi, "")
        if store.feed_status("ctx:" + coin).state is FeedState.STALE:
            # Only the context is stale (the title says ``ctx STALE``): its cells are greyed,
            # the mid beside them is not.
            for key in ("fund", "ann", "oi"):
                cells[key] = (cells[key][0], "pane--muted")
        return cells
