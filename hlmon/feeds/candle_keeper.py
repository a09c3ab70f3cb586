"""Candles for the watchlist's 24 h sparklines and the selected coin's chart, over REST (#17).

One ``candleSnapshot`` per coin, on whole-hour bounds (from the open of the oldest candle to the
end of the open one), so every client asking within the hour sends the same request (an
``hlmon daemon`` answers the others from its cache). The selected coin asks ``SPAN_HOURS``
(120: five days, what a maximised chart shows); every other watched coin asks only
``SPARK_HOURS`` (25: the open candle and the 24 before it, the sparkline's span). A coin that
becomes selected after a short answer is asked its full span at once. Why REST and not the
``candle`` subscription: the exchange caps subscriptions per connection and the watchlist
already takes two per coin, while a 1 h candle moves slowly enough for a poll.

Cost: weight 20 plus 1 per started 60 candles (client and simulator count alike): 22 for the
selected coin, 21 for a sparkline. Each watched coin is asked every ``slow_interval`` (5 min),
the selected coin every ``fast_interval`` (60 s, so the chart's last candle follows the price):
with ten coins about 60 a minute.

Refreshes spend at most ``SHARE`` of the REST budget a minute (out of the planner's reserve, as
the account checks do): on a small budget the sparklines refresh more slowly, the feeds the plan
polls never do. A coin's first fetch (at start, or when it joins the watchlist) may go further
while the websocket carries the market (``burst``): it is sent as long as the whole budget's
spend of the last minute, truth included, stays within ``FIRST_SHARE`` of it, so ten coins get
their sparklines in the first seconds, even in the minute that also carries the start-up's own
loads (catalog, account snapshots: ~330 weight for the demo account), and a fifth of the budget
is always left to the account/orders REST, the REST plan and reconciliation. In REST or
fallback mode (the socket down: REST carries the market and the account) first fetches keep
to ``SHARE`` like the rest, but go before any refresh, the selected chart's included: two new
sparklines a minute on the default budget.
Either way a request also needs the budget's room now (``room_in``), so it never waits in
front of the plan.
Requests are non-urgent and not retried by the client: one that does not fit waits, a refusal
by the budget waits its ``retry_in``, and a failure is logged once per coin and asked again
after a growing delay.
Coins come from the feeds' own watchlist and selection: exact catalog names only, nothing
before the catalog is in force.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoError
from hlmon.feeds.ticks import sleep_on_grid
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest, response_weight
from hlmon.state import Source, Store

INTERVAL = "1h"
"""Candle interval asked (the sparkline's span is ``SPARK_HOURS`` of these)."""
SPAN_HOURS = 120
"""Candles asked for the selected coin (hours): its chart."""
SPARK_HOURS = 25
"""Candles asked for every other watched coin (hours): the sparkline's 24 and the open one."""
SLOW_INTERVAL = 300.0
"""Seconds between two requests for a watched coin."""
FAST_INTERVAL = 60.0
"""Seconds between two requests for the selected coin."""
ROOM_RECHECK = 5.0
"""A request that does not fit the budget now asks again after this long."""
SHARE = 0.1
"""Share of the REST budget per minute the candles may spend."""
FIRST_SHARE = 0.8
"""A first fetch while the websocket is live waits only when the whole budget's spend of the
last minute would pass this share of it. At 0.5 the demo's start-up minute (~330 of 600)
held every sparkline but the first two back for a whole minute."""
WINDOW = 60.0
RETRY_INITIAL = 5.0
RETRY_MAX = 300.0
HOUR_MS = 3_600_000


class CandleKeeper:
    """Keeps ``INTERVAL`` candles of the watched and selected coins in the store."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        *,
        coins: Callable[[], Sequence[str]],
        selected: Callable[[], str | None],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        tick: float = 1.0,
        slow_interval: float = SLOW_INTERVAL,
        fast_interval: float = FAST_INTERVAL,
        burst: Callable[[], bool] = lambda: False,
    ) -> None:
        """
        Args:
            client: the budgeted /info client.
            store: where the candles land (``Store.apply_candles``).
            coins: the watched coins (exact catalog names), read each round.
            selected: the selected coin, asked more often (its chart).
            clock: monotonic seconds (when each coin is due).
            wall_clock: epoch seconds (the candles' time range).
            tick: seconds between two rounds.
            slow_interval, fast_interval: seconds between two requests for a watched coin,
                and for the selected one.
            burst: whether first fetches may spend up to ``FIRST_SHARE`` of the whole budget
                (the websocket carries the market); False keeps them to ``SHARE``.
        """
        self._client = client
        self._store = store
        self._coins = coins
        self._selected = selected
        self._clock = clock
        self._wall = wall_clock
        self.tick = tick
        self.slow_interval = slow_interval
        self.fast_interval = fast_interval
        self._burst = burst
        self._hours: dict[str, int] = {}
        """Candles of each coin's last answered request (``SPARK_HOURS`` or ``SPAN_HOURS``)."""
        self._due: dict[str, float] = {}
        self._asked_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._spent: deque[tuple[float, int]] = deque()
        """(time, weight) of the requests of the last ``WINDOW`` seconds."""
        self.asked: dict[str, int] = {}
        """Requests sent per coin (tests read it)."""

    async def run(self) -> None:
        """Ask what is due until cancelled."""
        while True:
            await self.step()
            await sleep_on_grid(self.tick)  # with the engine's other periodic loops

    def wanted(self) -> list[str]:
        """The selected coin first (its chart is on screen), then the watchlist."""
        selected = self._selected()
        coins = [selected] if selected is not None else []
        coins += [c for c in self._coins() if c != selected]
        return coins

    async def step(self) -> None:
        """One round: every coin whose time has come, selected first; coins without candles
        yet before any refresh (a missing sparkline matters more than a fresher one)."""
        wanted = self.wanted()
        for gone in [c for c in self._due if c not in wanted]:
            self._due.pop(gone, None)  # asked at once if it comes back
            self._failures.pop(gone, None)
        selected = self._selected()
        for coin in sorted(wanted, key=lambda c: c in self._hours):  # stable: selected first
            now = self._clock()
            due = self._due.get(coin, 0.0)
            if coin == selected and coin not in self._failures:
                # Selected since the last answer: its chart needs the fast cadence now, and
                # its full span at once if the last answer was a sparkline's.
                due = min(due, self._asked_at.get(coin, 0.0) + self.fast_interval)
                if self._hours.get(coin, SPAN_HOURS) < SPAN_HOURS:
                    due = min(due, now)
            if now >= due:
                await self._ask(coin, coin == selected)

    async def _ask(self, coin: str, selected: bool) -> None:
        hours = SPAN_HOURS if selected else SPARK_HOURS
        hour = int(self._wall() * 1000) // HOUR_MS * HOUR_MS  # the open candle's open time
        start = hour - (hours - 1) * HOUR_MS
        req = info.candle_snapshot(coin, INTERVAL, start, hour + HOUR_MS - 1)
        if not self._fits(req, hours, first=coin not in self._hours):
            self._due[coin] = self._clock() + ROOM_RECHECK  # never taken from the plan
            return
        self.asked[coin] = self.asked.get(coin, 0) + 1
        try:
            candles = await self._client.info(req, urgent=False, retries=0)
        except BudgetExhausted as exc:
            self._due[coin] = self._clock() + min(exc.retry_in, RETRY_MAX)
            return
        except InfoError as exc:
            self._failed(coin, str(exc))
            return
        self._store.apply_candles(coin, INTERVAL, candles, Source.REST)
        now = self._clock()
        self._hours[coin] = hours
        self._asked_at[coin] = now
        self._due[coin] = now + (self.fast_interval if selected else self.slow_interval)
        if self._failures.pop(coin, None) is not None:
            self._store.health.log(f"candles of {coin}: answered")

    def _fits(self, req: InfoRequest, hours: int, *, first: bool) -> bool:
        """Whether ``req`` (``hours`` candles) fits this minute's share, or the first-fetch
        allowance, and the budget's room now (counted as spent when it does)."""
        now = self._clock()
        while self._spent and now - self._spent[0][0] >= WINDOW:
            self._spent.popleft()
        weight = response_weight(req, hours)
        budget = self._client.budget
        if self._client.room_in(req) > 0:
            return False
        fits = sum(w for _, w in self._spent) + weight <= budget.budget * SHARE
        if not fits and first and self._burst():
            fits = budget.used() + weight <= budget.budget * FIRST_SHARE
        if not fits:
            return False
        self._spent.append((now, weight))
        return True

    def _failed(self, coin: str, text: str) -> None:
        n = self._failures.get(coin, 0)
        self._failures[coin] = n + 1
        self._due[coin] = self._clock() + min(RETRY_MAX, RETRY_INITIAL * 2**n)
        if n == 0:
            self._store.health.log(f"candles of {coin} failed ({text}); asking again", "warn")
