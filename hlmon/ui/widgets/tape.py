"""The trade tape of the selected coin: newest trade on top, price coloured by aggressor side."""

from __future__ import annotations

from hlmon.state import Store
from hlmon.ui.fmt import decimals_of, fmt_ms_clock, fmt_num, fmt_px, price_decimals
from hlmon.ui.widgets.lines import Column, LinePane, Row, fit_columns, header_row, layout_row

COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 8, "left", priority=80),
    Column("px", "price", 11, "right", priority=100),
    Column("sz", "size", 9, "right", priority=90),
    Column("side", "", 1, "left", priority=70),
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
        cols = fit_columns(COLUMNS, width)
        rows: list[Row] = [header_row(cols, width)]
        trades = self.store.trades(self.coin) if self.coin else []
        visible = trades[-(height - 1) :] if height > 1 else []
        if not visible:
            rows.append(((" no trades yet".ljust(width), "pane--muted"),))
        else:
            places = max(price_decimals(visible[-1].px), decimals_of(visible[-1].px))
            sz_places = max(decimals_of(t.sz) for t in visible)
            for t in reversed(visible):
                side = "bid" if t.side == "B" else "ask"
                rows.append(
                    layout_row(
                        cols,
                        {
                            "time": (fmt_ms_clock(t.time), "pane--muted"),
                            "px": (fmt_px(t.px, places), f"pane--{side}"),
                            "sz": (fmt_num(t.sz, sz_places), ""),
                            "side": (t.side, f"pane--{side}"),
                        },
                        width,
                    )
                )
        self.set_rows(rows)
