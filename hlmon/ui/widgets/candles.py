"""Candles on screen: the watchlist's 24 h sparkline and the selected coin's chart (#17).

Both read the 1 h candles ``feeds.candle_keeper`` keeps in the store (``candles:COIN``, asked
over REST). Until a coin's first answer they say ``…`` (waiting), never an empty line; stale
candles are drawn muted (the chart's title says ``STALE``, like every pane).

The chart draws one column per candle with half blocks (two price steps per line: ``█`` a
body over the whole cell, ``▀``/``▄`` over half of it, ``│`` the wick), green up, red down,
with a price axis on the right (top, bottom and the last close, marked ``◂``) and the time of
the first and last candle under it. It is rebuilt only when its candles, its coin or its size
change (``rebuild`` compares a key of them), and ``LinePane`` repaints only the lines that
differ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from hlmon.feeds.candle_keeper import INTERVAL
from hlmon.protocol.messages import Candle
from hlmon.state import FeedState, Store
from hlmon.ui.fmt import DASH, WAITING, fmt_px, price_decimals, sparkline
from hlmon.ui.widgets.lines import Cell, LinePane, Row, fit_text

SPARK_HOURS = 24
"""Hours of 1 h candles the watchlist's sparkline spans."""
SPARK_LABEL = "24h"
"""The sparkline column's header: its span."""
UP, DOWN, MUTED = "pane--up", "pane--down", "pane--muted"


def closes(candles: Sequence[Candle], count: int) -> list[float]:
    """The last ``count`` closes as floats (a shape only; unparsable ones are skipped)."""
    out = []
    for c in candles[-count:]:
        try:
            value = float(c.close)
        except ValueError:
            continue
        if math.isfinite(value):
            out.append(value)
    return out


def resample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` values spread evenly over ``values`` (first and last kept), so a
    narrow sparkline still spans the whole period its header names."""
    n = len(values)
    if width <= 0:
        return []
    if n <= width:
        return list(values)
    if width == 1:
        return [values[-1]]
    return [values[round(i * (n - 1) / (width - 1))] for i in range(width)]


def spark_cell(store: Store, coin: str, width: int) -> Cell:
    """The ``24h`` cell of ``coin``: waiting until its candles came, muted when stale."""
    status = store.feed_status("candles:" + coin)
    if status.state is FeedState.MISSING:
        return (WAITING, MUTED)
    values = closes(store.candles(coin, INTERVAL), SPARK_HOURS)
    if not values:
        return (DASH, MUTED)  # answered, and the coin has no candles (a new listing)
    style = MUTED if status.state is FeedState.STALE else "pane--accent"
    return (sparkline(resample(values, width), width), style)


def span_text(hours: int) -> str:
    """``18h``, ``3d``, ``2.5d``."""
    if hours < 48:
        return f"{hours}h"
    days = hours / 24
    return f"{days:.0f}d" if days == int(days) else f"{days:.1f}d"


def _merge(cells: list[tuple[str, str]]) -> Row:
    """Runs of one style joined into one cell each."""
    out: list[Cell] = []
    for text, style in cells:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return tuple(out)


def _glyph(row: int, body: tuple[int, int], wick: tuple[int, int]) -> str:
    """The glyph of one cell (half rows ``2*row`` and ``2*row+1``) of one candle."""
    top, bottom = 2 * row, 2 * row + 1
    upper = body[0] <= top <= body[1]
    lower = body[0] <= bottom <= body[1]
    if upper and lower:
        return "█"
    if upper:
        return "▀"
    if lower:
        return "▄"
    if wick[0] <= bottom and wick[1] >= top:
        return "│"
    return " "


def chart_rows(candles: Sequence[Candle], width: int, height: int) -> tuple[list[Row], int]:
    """The chart of ``candles`` (oldest first) in ``width`` x ``height`` cells: as many of
    the last candles as fit, a price axis on the right, the time axis on the last line.
    Returns the rows and how many candles they show."""
    parsed = []
    for c in candles:
        try:
            ohlc = (float(c.open), float(c.high), float(c.low), float(c.close))
        except ValueError:
            continue
        if all(math.isfinite(v) for v in ohlc):
            parsed.append((c, ohlc))
    decimals = max((price_decimals(c.close) for c, _ in parsed[-5:]), default=2)
    plot_h = max(1, height - 1)
    probe = [fmt_px(f"{v[1]:.{decimals}f}", decimals) for _, v in parsed[-width:]]
    axis_w = max((len(p) for p in probe), default=6) + 2
    plot_w = max(1, width - axis_w)
    shown = parsed[-plot_w:]
    if not shown:
        return [], 0
    hi = max(v[1] for _, v in shown)
    lo = min(v[2] for _, v in shown)
    if hi - lo <= abs(hi) * 1e-12:
        hi, lo = hi + abs(hi) * 1e-4 + 1e-9, lo - abs(lo) * 1e-4 - 1e-9
    halves = 2 * plot_h - 1

    def y(price: float) -> int:
        return round((hi - price) / (hi - lo) * halves)

    # A column of air between candles when the width holds them all twice over.
    gap = 2 * len(shown) <= plot_w
    columns: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for _, (o, h, low, close) in shown:
        if gap and columns:
            columns.append(((-1, -1), (-1, -1), ""))
        body = (y(max(o, close)), y(min(o, close)))
        columns.append((body, (y(h), y(low)), UP if close >= o else DOWN))
    last_close = shown[-1][1][3]
    last_row = y(last_close) // 2
    labels = {0: (hi, MUTED), plot_h - 1: (lo, MUTED)}
    labels[last_row] = (last_close, "pane--accent")
    rows: list[Row] = []
    pad = plot_w - len(columns)
    for r in range(plot_h):
        cells = [(" " * pad, "")] if pad else []
        cells += [(_glyph(r, body, wick), style) for body, wick, style in columns]
        price, style = labels.get(r, (None, ""))
        mark = "◂" if r == last_row else " "
        text = "" if price is None else fmt_px(f"{price:.{decimals}f}", decimals)
        cells.append((fit_text(mark + text, axis_w, "left"), style))
        rows.append(_merge(cells))
    first, last = shown[0][0].open_time, shown[-1][0].open_time
    left, right = _day_time(first), _day_time(last)
    span = len(columns)  # the first candle's column is ``pad``: its time starts there
    if span < len(left) + len(right) + 1:
        line = fit_text(left, plot_w).rjust(plot_w) if span >= len(left) else fit_text(left, plot_w)
    else:
        line = " " * pad + left + right.rjust(span - len(left))
    rows.append(((fit_text(line, plot_w) + " " * axis_w, MUTED),))
    return rows, len(shown)


def _day_time(epoch_ms: int) -> str:
    """``12-01 14:00``: local date and time of a candle's open."""
    lt = time.localtime(epoch_ms / 1000)
    return f"{lt.tm_mon:02d}-{lt.tm_mday:02d} {lt.tm_hour:02d}:{lt.tm_min:02d}"


class CandleChart(LinePane):
    """The selected coin's 1 h candles, as many as the width holds."""

    def __init__(self, store: Store, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        """Where the candles are read."""
        self.coin: str | None = None
        """The coin shown."""
        self._drawn: tuple[object, ...] | None = None
        """What the rows were last built from (coin, candles, size, waiting)."""
        self.builds = 0
        """Times the rows were built (tests check a frame without new candles builds none)."""
        self.set_caption("Chart")

    def show(self, coin: str | None) -> None:
        """Draw ``coin``'s candles."""
        if coin != self.coin:
            self.coin = coin
            self.rebuild()

    def rebuild(self) -> None:
        """Build the rows, unless the candles and the size are what they were."""
        width, height = self.inner_width, self.inner_height
        if width <= 0 or height <= 0 or not self.display:
            return
        coin = self.store.display_name(self.coin) if self.coin else ""
        candles = self.store.candles(self.coin, INTERVAL) if self.coin else []
        waiting = self.coin is not None and self.store.stamp("candles:" + self.coin) is None
        last = candles[-1] if candles else None
        key = (self.coin, len(candles), last, width, height, waiting)
        if key == self._drawn:
            return
        self._drawn = key
        self.builds += 1
        rows, shown = chart_rows(candles, width, height) if candles else ([], 0)
        self.set_caption(f"Chart {coin} {INTERVAL} · {span_text(shown)}" if shown else "Chart")
        if not rows:
            text = (
                "no coin selected"
                if self.coin is None
                else "waiting for candles…"
                if waiting
                else f"no candles for {coin}"
            )
            rows = [((f" {text}".ljust(width), MUTED),)]
        self.set_rows(rows)
