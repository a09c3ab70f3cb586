"""What hlmon reads once per watched address, and the selected account's equity history (#14).

When an address is added (at start-up, or later through ``FeedEngine.watch_instead``) it gets
one ``userRole`` request (weight 60, the most expensive /info type) and one ``userAbstraction``
(20), each once for the run: the answers are kept in the store (``store.user_role``,
``store.account_mode``). A mode already stated by a ``webData3`` push is not asked again.
The selected account's ``portfolio`` (20) is asked every ``history_interval`` seconds (5 min)
for its equity sparkline; its samples are hours apart, so more often would add nothing.

REST weight per account: 80 once when it is added, plus 20 per ``history_interval`` for the
selected one (4 a minute at 5 min). Spot balances come over the websocket (``spotState``, no
weight); over REST (``spotClearinghouseState``, 2) only in the fallback and reconciliation.

They are paid from the REST planner's reserve (``SHARE`` of the budget a minute: the plan
spends the rest), the mode first (equity depends on it), then the role, then the history: a
request that does not fit this minute's share, or the budget's room now, waits (the start-up
reconciliation and the plan's polls go first), and one dearer than the whole share
(``userRole`` under a budget below 300) is not asked at all, once logged. Requests are
non-urgent and not retried by the client: a failure is logged once per address and kind and
asked again after a growing delay; a refusal by the weight budget waits for the budget's
``retry_in``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoError
from hlmon.feeds.ticks import sleep_on_grid
from hlmon.protocol import info
from hlmon.protocol.info import InfoRequest, UserRole
from hlmon.state import Store

HISTORY_INTERVAL = 300.0
"""Seconds between two ``portfolio`` requests for the selected account."""
RETRY_INITIAL = 5.0
RETRY_MAX = 300.0
BUDGET_WAIT_MAX = 60.0
SHARE = 0.2
"""Share of the REST budget per minute these checks may spend: the planner's reserve."""
WINDOW = 60.0
ROOM_RECHECK = 5.0
"""A request that does not fit this minute's share asks again after this long."""

ROLE, MODE, HISTORY = "userRole", "userAbstraction", "portfolio"
CheckKey = tuple[str, str]
"""(info type, address)."""


def describe_role(address: str, role: UserRole) -> tuple[str, str] | None:
    """The log line (and its level) a role is worth, or None for a plain user."""
    if role.role == "agent":
        master = role.master
        whose = f"of {master}" if master else "(its master account is not said)"
        return (
            f"{address} is an agent (API) wallet {whose}: it holds no positions or orders "
            "of its own; watch the master account instead",
            "warn",
        )
    if role.role == "missing":
        return f"{address} is not known to the exchange (userRole: missing)", "warn"
    if role.role == "subAccount":
        return f"{address} is a sub-account of {role.master or 'an unnamed master'}", "info"
    if role.role == "vault":
        return f"{address} is a vault", "info"
    if role.role != "user":
        return f"{address}: role {role.role!r}", "info"
    return None


class AccountChecks:
    """Asks ``userRole`` and ``userAbstraction`` once per address, ``portfolio`` periodically."""

    def __init__(
        self,
        client: InfoClient,
        store: Store,
        *,
        users: Callable[[], Sequence[str]],
        selected: Callable[[], str | None],
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
        tick: float = 0.5,
        history_interval: float = HISTORY_INTERVAL,
    ) -> None:
        """
        Args:
            client: the budgeted /info client.
            store: where the answers land.
            users: every watched address (lower-case), read each round.
            selected: the selected address (its equity history is kept fresh).
            ready: nothing is asked before this is true (the engine: its start-up
                reconciliation is done, so these never crowd it out of the budget).
            clock: monotonic seconds.
            tick: seconds between two rounds.
            history_interval: seconds between two ``portfolio`` requests.
        """
        self._client = client
        self._store = store
        self._users = users
        self._selected = selected
        self._ready = ready
        self._clock = clock
        self.tick = tick
        self.history_interval = history_interval
        self._answered: set[CheckKey] = set()
        self._spent: deque[tuple[float, int]] = deque()
        """(time, worst-case weight) of the requests of the last ``WINDOW`` seconds."""
        self._too_dear: set[str] = set()
        self._due: dict[CheckKey, float] = {}
        self._failures: dict[CheckKey, int] = {}
        self.asked: dict[str, int] = {}
        """Requests sent per info type (tests and the weight report read it)."""

    async def run(self) -> None:
        """Ask what is due until cancelled."""
        while True:
            await self.step()
            await sleep_on_grid(self.tick)  # with the engine's other periodic loops

    def forget(self, address: str) -> None:
        """``address`` is no longer watched: nothing more is asked for it."""
        who = address.lower()
        for key in [k for k in (*self._due, *self._failures, *self._answered) if k[1] == who]:
            self._due.pop(key, None)
            self._failures.pop(key, None)
            self._answered.discard(key)  # watched again later: asked again (its facts went too)

    def pending(self) -> list[CheckKey]:
        """What is still to be asked once (role and mode of each watched address)."""
        out = []
        for address in self._users():
            for kind in (MODE, ROLE):
                if (kind, address) not in self._answered:
                    out.append((kind, address))
        return out

    async def step(self) -> None:
        """One round: each due once-only request, then the selected account's history."""
        if not self._ready():
            return
        now = self._clock()
        for key in self.pending():
            kind, address = key
            if kind == MODE and self._store.account_mode(address) is not None:
                self._answered.add(key)  # a webData3 push said it already
                continue
            if now >= self._due.get(key, 0.0):
                await self._ask(key)
        selected = self._selected()
        if selected is not None:
            key = (HISTORY, selected)
            if now >= self._due.get(key, 0.0):
                await self._ask(key)

    def _request(self, key: CheckKey) -> InfoRequest:
        kind, address = key
        if kind == ROLE:
            return info.user_role(address)
        if kind == MODE:
            return info.user_abstraction(address)
        return info.portfolio(address)

    def _fits(self, key: CheckKey, req: InfoRequest) -> bool:
        """Whether ``req`` fits this minute's share; when it does not, when to ask again."""
        now = self._clock()
        while self._spent and now - self._spent[0][0] >= WINDOW:
            self._spent.popleft()
        share = self._client.budget.budget * SHARE
        weight = self._client.worst_case(req)
        if weight > share:
            self._due[key] = now + WINDOW
            if req.type not in self._too_dear:
                self._too_dear.add(req.type)
                self._store.health.log(
                    f"{req.type} not asked: its weight {weight} is more than the "
                    f"{share:.0f} a minute kept for one-off requests (REST budget "
                    f"{self._client.budget.budget})",
                    "warn",
                )
            return False
        if sum(w for _, w in self._spent) + weight > share or self._client.room_in(req) > 0:
            # This minute's share is spent, or the budget is full now (the start-up
            # reconciliation, the plan's polls): never taken from them, asked again soon.
            self._due[key] = now + ROOM_RECHECK
            return False
        self._spent.append((now, weight))
        return True

    async def _ask(self, key: CheckKey) -> None:
        kind, address = key
        req = self._request(key)
        if not self._fits(key, req):
            return
        try:
            answer = await self._client.info(req, urgent=False, retries=0)
        except BudgetExhausted as exc:
            self._due[key] = self._clock() + min(exc.retry_in, BUDGET_WAIT_MAX)
            return
        except InfoError as exc:
            self._failed(key, str(exc))
            return
        finally:
            self.asked[kind] = self.asked.get(kind, 0) + 1
        if not self._land(key, answer):
            self._failed(key, f"unexpected answer {answer!r:.80}")
            return
        if self._failures.pop(key, None) is not None:
            self._store.health.log(f"{kind} of {address}: answered")
        if kind == HISTORY:
            self._due[key] = self._clock() + self.history_interval
        else:
            self._answered.add(key)
            self._due.pop(key, None)

    def _land(self, key: CheckKey, answer: object) -> bool:
        kind, address = key
        store = self._store
        if kind == ROLE and isinstance(answer, UserRole):
            store.set_user_role(address, answer)
            said = describe_role(address, answer)
            if said is not None:
                store.health.log(*said)
            return True
        if kind == MODE and isinstance(answer, str):
            store.set_account_mode(address, answer)
            return True
        if kind == HISTORY and isinstance(answer, list):
            store.set_portfolio(address, answer)
            return True
        return False

    def _failed(self, key: CheckKey, text: str) -> None:
        kind, address = key
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        delay = min(RETRY_MAX, RETRY_INITIAL * 2**n)
        self._due[key] = self._clock() + delay
        if n == 0:
            self._store.health.log(f"{kind} of {address} failed ({text}); asking again", "warn")
