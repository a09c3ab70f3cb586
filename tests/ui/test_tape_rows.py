"""The tape formats a trade once while it stays on screen, and its rows are always the rows a
tape built from nothing shows (new decimals, a resize, another coin)."""

from __future__ import annotations

import pytest

from hlmon.state import Store
from hlmon.ui import widgets
from hlmon.ui.app import HlmonApp
from hlmon.ui.fmt import fmt_ms_clock
from hlmon.ui.widgets.lines import Row
from hlmon.ui.widgets.tape import TapeView

from .helpers import T0_MS, msg, trades_msg

SIZE = (120, 40)


def from_nothing(tape: TapeView) -> list[Row]:
    shown = list(tape.rows)
    tape._cells.clear()
    tape._laid.clear()
    tape.rebuild()
    assert tape.rows == shown
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
