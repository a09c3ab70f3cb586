"""The trade tape of the selected coin: newest trade on top, price coloured by aggressor side
and the side written out (``B`` a buyer took the ask, ``S`` a seller hit the bid), so the tape
reads the same without colour."""

from __future__ import annotations

from functools import partial

from hlmon.protocol.messages import Trade
from hlmon.round_memo import RoundMemo
from hlmon.state import Store
from hlmon.ui.fmt import fmt_ms_clock, fmt_num, fmt_px, price_decimals, shown_decimals
from hlmon.ui.widgets.lines import (
    Cell,
    Column,
    LinePane,
    Row,
    ShownRows,
    content_widths,
    fit_columns,
    header_row,
    layout_row,
    pad_row,
)

COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 8, "left", priority=70),
    Column("px", "price", 5, "right", priority=100),
    Column("sz", "size", 4, "right", priority=90),
    Column("side", "", 1, "left", priority=95),
    Column("_", "", 0, priority=0, flex=True),
)


class TapeView(LinePane):
    """Recent trades of one coin, newest first."""

    def __init__(self, store: Store, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """The store trades are read from."""
        self.coin: str | None = None
        """The coin shown."""
        self.set_caption("Trades")
        self._cells: RoundMemo[tuple[object, ...], dict[str, Cell]] = RoundMemo()
        """The shown trades' formatted cells, by trade and decimals (a trade is formatted
        once while it stays on screen, not at every new trade)."""
        self._shown_rows = ShownRows()
        """The shown trades' rows (laid out once while the columns and width stay)."""

    def show(self, coin: str | None) -> None:
        """Show another coin's trades."""
        if coin != self.coin:
            self.coin = coin
            self.set_caption(f"Trades {coin}" if coin else "Trades")
            self.rebuild()

    def rebuild(self) -> None:
        """Rebuild the visible part of the tape from the store."""
        width, height = self.inner_width, self.inner_height
        if width <= 0 or height <= 0:
            return
        trades = self.store.trades(self.coin) if self.coin else []
        visible = trades[-(height - 1) :] if height > 1 else []
        keys: list[tuple[object, ...]] = []
        cells: list[dict[str, Cell]] = []
        self._cells.begin()
        if visible:
            places = max(price_decimals(visible[-1].px), shown_decimals(visible[-1].px))
            sz_places = max(shown_decimals(t.sz) for t in visible)
            for t in reversed(visible):
                key = (t.time, t.px, t.sz, t.side, places, sz_places)
                keys.append(key)
                cells.append(self._cells.get(key, (), partial(_trade_cells, t, places, sz_places)))
        cols = fit_columns(COLUMNS, width - 1, content=content_widths(cells))
        rows: list[Row] = [pad_row(((" ", "pane--head"), *header_row(cols, width - 1)), width)]
        if not cells:
            waiting = self.coin is not None and self.store.stamp(f"trades:{self.coin}") is None
            text = f" waiting for {self.coin} trades…" if waiting else " no trades yet"
            rows.append(((text.ljust(width), "pane--muted"),))
        shown_rows = self._shown_rows
        shown_rows.begin(cols, width)

        def laid_out(row_cells: dict[str, Cell]) -> Row:
            return pad_row(((" ", ""), *layout_row(cols, row_cells, width - 1)), width)

        for shown_key, row_cells in zip(keys, cells, strict=True):
            rows.append(shown_rows.row(shown_key, partial(laid_out, row_cells)))
        self.set_rows(rows)


def _trade_cells(t: Trade, places: int, sz_places: int) -> dict[str, Cell]:
    """One trade's cells at these decimals."""
    side = "bid" if t.side == "B" else "ask"
    return {
        "time": (fmt_ms_clock(t.time), "pane--muted"),
        "px": (fmt_px(t.px, places), f"pane--{side}"),
        "sz": (fmt_num(t.sz, sz_places), ""),
        "side": ("B" if t.side == "B" else "S", f"pane--{side}"),
    }
