"""The tape formats a trade once while it stays on screen, and a table lays a row out once
while its cells stay the same; their rows are always the rows a pane built from nothing shows
(new data, new decimals, a resize, another coin, the cursor moving)."""

from __future__ import annotations

import pytest

from hlmon.state import Store
from hlmon.ui import widgets
from hlmon.ui.app import HlmonApp
from hlmon.ui.fmt import fmt_ms_clock
from hlmon.ui.widgets.lines import Row, layout_row
from hlmon.ui.widgets.table import TableView
from hlmon.ui.widgets.tape import TapeView

from .helpers import T0_MS, msg, trades_msg

SIZE = (120, 40)


def from_nothing(tape: TapeView) -> list[Row]:
    shown = list(tape.rows)
    tape._cells.clear()
    tape._shown_rows.clear()
    tape.rebuild()
    assert tape.rows == shown
    return shown


def table_from_nothing(table: TableView) -> list[Row]:
    shown = list(table.rows)
    table._shown_rows.clear()
    table.rebuild()
    assert table.rows == shown
    return shown


def trade(px: str, sz: str, t_ms: int, tid: int) -> dict[str, object]:
    return {"coin": "BTC", "side": "B", "px": px, "sz": sz, "time": t_ms, "tid": tid, "hash": "0x0"}


async def test_a_trade_is_formatted_once_and_rows_match_a_fresh_tape(
    app: HlmonApp, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    formatted: list[object] = []
    original = fmt_ms_clock  # what the tape calls (its module imports it from ui.fmt)

    def counting(ms: object) -> str:
        formatted.append(ms)
        return original(ms)  # type: ignore[arg-type]

    monkeypatch.setattr(widgets.tape, "fmt_ms_clock", counting)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        store.apply(trades_msg("BTC", n=30, t_ms=T0_MS + 5000))
        app.dashboard.refresh_frame()
        await pilot.pause()
        tape = app.dashboard.tape
        shown = len(tape.rows) - 1
        assert shown >= 5
        from_nothing(tape)
        formatted.clear()
        store.apply(msg("trades", [trade("104413.0", "0.00100", T0_MS + 6000, 5000)]))
        app.dashboard.refresh_frame()
        await pilot.pause()
        assert formatted == [T0_MS + 6000]  # only the new trade
        assert "104,413" in tape.text_lines[1]
        from_nothing(tape)
        # More size decimals: every shown trade is written again with them.
        formatted.clear()
        store.apply(msg("trades", [trade("104413.5", "0.123456", T0_MS + 7000, 5001)]))
        app.dashboard.refresh_frame()
        await pilot.pause()
        assert len(formatted) == shown
        from_nothing(tape)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        from_nothing(tape)
        await pilot.press("down")  # another coin
        await pilot.pause()
        assert tape.coin != "BTC"
        from_nothing(tape)


async def test_table_rows_match_a_fresh_table(
    app: HlmonApp, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    laid: list[object] = []
    original = layout_row  # what the table calls (its module imports it from lines)

    def counting(*args: object, **kwargs: object) -> Row:
        laid.append(args[1])
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(widgets.table, "layout_row", counting)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        positions = app.dashboard.positions
        assert len(positions.rows) >= 3  # the populated store's positions
        table_from_nothing(positions)
        laid.clear()
        positions.rebuild()  # nothing changed: nothing laid out again
        assert laid == []
        data = [dict(row) for row in positions._data]
        first = next(iter(data[0]))
        text, _ = data[0][first]
        data[0][first] = (text, "pane--warn")  # same widths: the columns stay
        positions.set_data(data, loaded=True)
        await pilot.pause()
        assert laid == [data[0]]  # that row alone
        assert any(name == "pane--warn" for _, name in positions.rows[1])
        table_from_nothing(positions)
        positions.focus()  # the cursor row is highlighted: laid out again
        await pilot.pause()
        table_from_nothing(positions)
        await pilot.press("down")
        await pilot.pause()
        table_from_nothing(positions)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        table_from_nothing(positions)
