"""Pilot tests: the status bar says why it is not connected and which feeds lag, panel titles
say LAG and name a stale part, marks show their source, and the header's uPnL and equity are
the rows' on the same frame."""

from __future__ import annotations

import time
from decimal import Decimal

from hlmon.protocol.messages import ActiveAssetCtxMsg
from hlmon.state import ConnState, Source, Store, fmt_dec
from hlmon.ui.app import HlmonApp, build_app
from hlmon.ui.fmt import fmt_money
from tests.fakes import FakeRuntime

from .helpers import FakeClock, book_msg, ctx_msg, msg, settings
from .helpers import pilot_wait as wait_for

SIZE = (120, 40)


def status(app: HlmonApp) -> str:
    return app.dashboard.status.text_lines[0]


def header(app: HlmonApp) -> str:
    return app.dashboard.header.text_lines[0]


def now_ms(clock: FakeClock, late: float = 0.0) -> int:
    return int((clock.now - late) * 1000)


def lag_book_and_bbo(store: Store, clock: FakeClock, late: float) -> None:
    """One second later, a book and a bbo that were ``late`` s old on arrival."""
    clock.advance(1.0)
    store.apply(book_msg(t_ms=now_ms(clock, late)))
    store.apply(
        msg("bbo", {"coin": "BTC", "time": now_ms(clock, late),
                    "bbo": [{"px": "104412.0", "sz": "0.8", "n": 2},
                            {"px": "104413.0", "sz": "0.12", "n": 1}]})
    )  # fmt: skip
    store.health.note_alive()


class TestWhyNotConnected:
    async def test_down_with_the_reason_and_the_full_text_in_the_log(
        self, app: HlmonApp, store: Store
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            error = "internal error in fallback: RuntimeError('boom'); restarting it in 0.4 s"
            store.health.set_connection(ConnState.DOWN, error=error)
            await wait_for(pilot, lambda: status(app).startswith(" ✖ DOWN"))
            assert status(app).startswith(" ✖ DOWN  internal error in fallback │")
            await pilot.press("6")  # the Log tab
            log = app.dashboard.lower.tables["log"]
            await wait_for(pilot, lambda: "websocket down" in "\n".join(log.text_lines))
            assert "internal error in fallback: RuntimeError" in "\n".join(log.text_lines)

    async def test_connecting_says_refused_with_host_and_port(
        self, app: HlmonApp, store: Store
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            store.health.set_connection(
                ConnState.CONNECTING,
                attempt=2,
                next_retry_in=1.5,
                error="ClientConnectorError: Cannot connect to host 127.0.0.1:9 ssl:default "
                "[Connect call failed ('127.0.0.1', 9)]",
                reason="cannot connect: 127.0.0.1:9 refused",
            )
            await wait_for(pilot, lambda: "CONNECTING" in status(app))
            assert "◌ CONNECTING  cannot connect: 127.0.0.1:9 refused" in status(app)
            assert "ssl:default" not in status(app)

    async def test_reconnecting_shows_the_attempt_and_why_compactly(
        self, store: Store, clock: FakeClock
    ) -> None:
        app = build_app(FakeRuntime(settings(), store, clock))
        async with app.run_test(size=(80, 24)) as pilot:
            store.health.set_connection(
                ConnState.RECONNECTING,
                attempt=1,
                next_retry_in=4.2,
                error="WSServerHandshakeError: 503, message='Invalid response status'",
            )
            await wait_for(pilot, lambda: "RECONN" in status(app))
            assert status(app).startswith(" ◌ RECONN 1 (4.2s)  HTTP 503")

    async def test_the_reason_goes_once_live(self, app: HlmonApp, store: Store) -> None:
        async with app.run_test(size=SIZE) as pilot:
            store.health.set_connection(ConnState.RECONNECTING, attempt=1, error="closed by server")
            await wait_for(pilot, lambda: "closed by server" in status(app))
            store.health.set_connection(ConnState.LIVE)
            await wait_for(pilot, lambda: status(app).startswith(" ● LIVE"))
            assert "closed by server" not in status(app)


class TestLag:
    async def test_lagging_feeds_in_the_bar_and_the_titles_then_gone(
        self, app: HlmonApp, store: Store, clock: FakeClock
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            assert "LAG" not in status(app)
            lag_book_and_bbo(store, clock, late=3.0)
            await wait_for(pilot, lambda: "LAG" in status(app))
            assert "LAG 3.0s" in status(app)
            title = str(d.book.border_title)
            assert "LAG 3.0s" in title and "STALE" not in title
            assert d.book.has_class("-lag") and not d.book.is_stale  # late, not frozen
            # Back on time: the marks go.
            lag_book_and_bbo(store, clock, late=0.0)
            await wait_for(pilot, lambda: "LAG" not in status(app))
            assert "LAG" not in str(d.book.border_title) and not d.book.has_class("-lag")

    async def test_round_trip_of_the_old_socket_does_not_linger(
        self, app: HlmonApp, store: Store
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            store.health.note_rtt(3001.0)
            await wait_for(pilot, lambda: "ws 3001 ms" in status(app))
            store.health.set_connection(ConnState.RECONNECTING, attempt=1, error="closed")
            store.health.set_connection(ConnState.LIVE)
            await wait_for(pilot, lambda: "3001" not in status(app))
            assert status(app).startswith(" ● LIVE")


class TestStaleParts:
    async def test_stale_contexts_do_not_make_the_watchlist_stale(
        self, app: HlmonApp, store: Store, clock: FakeClock
    ) -> None:
        """Mids kept fresh (here over REST), contexts stopped: the title names ctx, the pane
        is not dimmed, the mids stay readable."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            clock.advance(31.0)
            store.apply(msg("allMids", {"mids": {"BTC": "104420.0", "ETH": "3690.0"}}), Source.REST)
            await wait_for(pilot, lambda: "ctx STALE" in str(d.watchlist.border_title))
            title = str(d.watchlist.border_title)
            assert "ctx STALE 32s" in title
            assert "REST" in title and not d.watchlist.is_stale
            row = next(r for r in d.watchlist.rows if "BTC" in "".join(t for t, _ in r))
            styles = {t.strip(): s for t, s in row if t.strip()}
            assert "pane--muted" not in styles["104,420.0"]
            assert any("pane--muted" in s for s in styles.values())  # the context's cells
            # The mids stop too: now the whole pane is stale.
            clock.advance(16.0)
            await wait_for(pilot, lambda: d.watchlist.is_stale)
            assert "ctx STALE" not in str(d.watchlist.border_title)


class TestMarks:
    async def test_a_mid_used_as_mark_is_marked(
        self, app: HlmonApp, store: Store, clock: FakeClock
    ) -> None:
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            await pilot.pause()
            assert not any("≈" in line for line in d.positions.text_lines)
            clock.advance(6.0)  # contexts go stale (5 s); the mids (15 s) are still fresh
            store.apply(msg("allMids", {"mids": {"BTC": "104500.0", "ETH": "3690.0"}}))
            await wait_for(pilot, lambda: any("≈" in line for line in d.positions.text_lines))
            btc = next(line for line in d.positions.text_lines if line.lstrip().startswith("BTC"))
            assert "≈104,500" in btc


class TestHeaderTotals:
    async def test_header_upnl_and_equity_are_the_rows_on_every_frame(
        self, app: HlmonApp, store: Store, clock: FakeClock
    ) -> None:
        """Marks move between frames; on each frame the header's uPnL is the sum of the
        rows' uPnL and the equity the exchange's plus the same difference."""
        async with app.run_test(size=SIZE) as pilot:
            d = app.dashboard
            mono = FakeClock(time.monotonic())
            d.paint.monotonic = mono  # half a second between frames for the prices too
            for i, btc in enumerate(("104413.0", "104950.0", "103700.5", "104100.0")):
                clock.advance(0.5)
                mono.advance(0.5)
                ctx = ctx_msg("BTC")
                assert isinstance(ctx, ActiveAssetCtxMsg)
                ctx.data.ctx.markPx = btc
                store.apply(ctx)
                await pilot.pause()
                d.refresh_frame()  # one frame: rows and header from the same store state
                rows = [p.live_upnl for p in store.positions()]
                shown = [line for line in d.positions.text_lines[1:] if line.strip()]
                assert len(shown) == len(rows)
                total = sum((Decimal(v) for v in rows), Decimal(0))
                assert f"uPnL {fmt_money(fmt_dec(total), sign=True)}" in header(app), i
                summary = store.account_summary()
                assert summary is not None
                equity = (
                    Decimal(summary.exchange_account_value) + total - Decimal(summary.exchange_upnl)
                )
                assert f"equity {fmt_money(fmt_dec(equity))}" in header(app), i
                # ... and each row shows the uPnL that went into that sum.
                for row_text, upnl in zip(shown, rows, strict=True):
                    assert fmt_money(upnl, sign=True) in row_text
