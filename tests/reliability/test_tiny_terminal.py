"""The TUI in a 1x1 terminal and back, and with hostile values in the store: no crash, and a
sane screen once the terminal is big again. (tests/ui covers the ordinary resizes.)"""

from __future__ import annotations

import pytest

pytest.importorskip("hlmon.ui.app", reason="the TUI has not landed yet")

from hlmon.protocol.decode import decode
from hlmon.ui.app import HlmonApp, build_app
from tests.fakes import FakeRuntime
from tests.ui.helpers import USER, FakeClock, populated_store, settings

pytestmark = pytest.mark.slow


def _screen_ok(app: HlmonApp) -> None:
    d = app.dashboard
    assert d.status.text_lines and d.status.text_lines[0].strip()
    assert any("BTC" in line for line in d.watchlist.text_lines)
    assert d.watchlist.region.width > 0 and d.book.region.width > 0


async def test_starts_at_1x1_then_grows() -> None:
    clock = FakeClock()
    app = build_app(FakeRuntime(settings(), populated_store(clock), clock))
    async with app.run_test(size=(1, 1)) as pilot:
        await pilot.pause()
        await pilot.press("down", "f", "1", "2", "t")  # keys at 1x1 must not crash either
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.3)
        _screen_ok(app)
    assert app.return_code in (0, None)


async def test_resize_to_1x1_and_back_repeatedly() -> None:
    clock = FakeClock()
    app = build_app(FakeRuntime(settings(), populated_store(clock), clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for size in [(1, 1), (120, 40), (2, 1), (1, 40), (120, 1), (1, 1), (120, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        _screen_ok(app)


HOSTILE_FRAMES = [
    # escape sequences and control characters in names the exchange sends
    b'{"channel":"allMids","data":{"mids":{"BTC":"1e400","\\u001b]52;c;SGVsbG8=\\u0007":"1",'
    b'"\\u001b[2J":"NaN","ETH":"-0"}}}',
    b'{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[{"px":"1e400","sz":"1e-400","n":1},'
    b'{"px":"-5","sz":"abc","n":-1}]}}',
    b'{"channel":"trades","data":[{"coin":"BTC","side":"Q","px":"9e999999","sz":"","time":'
    b'-1,"tid":0,"hash":"\\u001b[31m"}]}',
    b'{"channel":"clearinghouseState","data":{"dex":"","user":"' + USER.encode() + b'",'
    b'"clearinghouseState":{"marginSummary":{"accountValue":"1e400","totalNtlPos":"NaN",'
    b'"totalRawUsd":"","totalMarginUsed":"-0"},"crossMarginSummary":{"accountValue":"0",'
    b'"totalNtlPos":"0","totalRawUsd":"0","totalMarginUsed":"0"},'
    b'"crossMaintenanceMarginUsed":"1e999999","withdrawable":"x","assetPositions":[{"type":'
    b'"oneWay","position":{"coin":"BTC","szi":"1e30","leverage":{"type":"cross","value":0},'
    b'"entryPx":"1","positionValue":"1e999999","unrealizedPnl":"NaN","returnOnEquity":"",'
    b'"liquidationPx":"1e500","marginUsed":"1"}}],"time":1}}}',
]


HOSTILE = [
    pytest.param(
        HOSTILE_FRAMES[0],
        id="mids",
    ),
    pytest.param(HOSTILE_FRAMES[1], id="bbo"),
    pytest.param(HOSTILE_FRAMES[2], id="trades"),
    pytest.param(
        HOSTILE_FRAMES[3],
        id="account",
    ),
]


@pytest.mark.parametrize("frame", HOSTILE)
async def test_hostile_values_render_without_crash(frame: bytes) -> None:
    """Numbers Decimal cannot hold and control characters in names reach the screen without
    an exception; the app keeps running and can be resized."""
    clock = FakeClock()
    store = populated_store(clock)
    store.apply(decode(frame))
    app = build_app(FakeRuntime(settings(), store, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert app.is_running
        d = app.dashboard
        screen = "\n".join(d.watchlist.text_lines + d.book.text_lines + d.positions.text_lines)
        assert "\x1b" not in screen
