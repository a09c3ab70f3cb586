"""AccountChecks: userRole and userAbstraction once per address, portfolio on its interval,
failures asked again later and logged once, a mode from webData3 not asked again (#14)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx

from hlmon.feeds.account_checks import AccountChecks, describe_role
from hlmon.feeds.info_client import InfoClient
from hlmon.protocol.account_types import UserRole, UserRoleData
from hlmon.state import Store
from hlmon.state.account_modes import AccountMode
from tests.support import FakeClock, msg

A = "0x" + "a" * 40
B = "0x" + "b" * 40
MASTER = "0x" + "c" * 40


class Exchange:
    """An /info handler answering the three account facts; ``fail`` types answer HTTP 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        kind = body["type"]
        if kind in self.fail:
            return httpx.Response(500)
        if kind == "userRole":
            if body["user"] == B:
                return httpx.Response(200, json={"role": "agent", "data": {"user": MASTER}})
            return httpx.Response(200, json={"role": "user"})
        if kind == "userAbstraction":
            return httpx.Response(200, json="unifiedAccount" if body["user"] == A else "default")
        if kind == "portfolio":
            points = [[1, "10.0"], [2, "11.0"], [3, "12.5"]]
            return httpx.Response(200, json=[["day", {"accountValueHistory": points}]])
        return httpx.Response(422)

    def kinds(self) -> list[tuple[str, str]]:
        return [(r["type"], r["user"]) for r in self.requests]


def make(
    users: list[str],
    selected: str | None,
    *,
    budget: int = 10_000,
    ready: Callable[[], bool] = lambda: True,
) -> tuple[AccountChecks, Store, Exchange, FakeClock]:
    clock = FakeClock()
    store = Store(clock)
    store.set_watched_users(users)
    store.set_user(selected)
    exchange = Exchange()
    http = httpx.AsyncClient(transport=httpx.MockTransport(exchange))
    client = InfoClient(
        "http://x", budget=budget, http_client=http, rng=random.Random(0), clock=clock
    )
    checks = AccountChecks(
        client, store, users=lambda: users, selected=lambda: selected, ready=ready, clock=clock
    )
    return checks, store, exchange, clock


async def test_role_and_mode_once_per_address_history_on_its_interval() -> None:
    checks, store, ex, clock = make([A, B], A)
    await checks.step()
    assert ex.kinds() == [
        ("userAbstraction", A), ("userRole", A), ("userAbstraction", B), ("userRole", B),
        ("portfolio", A),
    ]  # fmt: skip
    reading = store.account_mode(A)
    assert reading is not None and reading.mode is AccountMode.UNIFIED
    role = store.user_role(B)
    assert role is not None and role.role == "agent" and role.master == MASTER
    history = store.equity_history(A)
    assert history is not None and [v for _, v in history.points] == ["10.0", "11.0", "12.5"]
    logged = [e.text for e in store.health.events]
    assert any(f"{B} is an agent (API) wallet of {MASTER}" in t for t in logged)
    clock.advance(60)
    await checks.step()
    assert len(ex.requests) == 5  # nothing is asked twice; the history waits its interval
    clock.advance(checks.history_interval)
    await checks.step()
    assert ex.kinds()[-1] == ("portfolio", A) and len(ex.requests) == 6
    # Weight: 60 + 20 once per address, 20 per interval for the selected one.
    assert checks.asked == {"userRole": 2, "userAbstraction": 2, "portfolio": 2}


async def test_a_failure_is_logged_once_and_asked_again_later() -> None:
    checks, store, ex, clock = make([A], A)
    ex.fail = {"userRole"}
    await checks.step()
    await checks.step()
    assert [k for k, _ in ex.kinds()].count("userRole") == 1  # waits for its retry delay
    clock.advance(5.1)
    await checks.step()
    assert [k for k, _ in ex.kinds()].count("userRole") == 2
    failures = [e for e in store.health.events if "userRole of" in e.text]
    assert len(failures) == 1 and failures[0].level == "warn"
    ex.fail = set()
    clock.advance(10.1)
    await checks.step()
    assert store.user_role(A) == UserRole("user", None)
    assert any(e.text == f"userRole of {A}: answered" for e in store.health.events)


async def test_a_mode_said_by_web_data3_is_not_asked() -> None:
    checks, store, ex, _ = make([A], A)
    store.apply(msg("webData3", {"userState": {"user": A, "abstraction": "portfolioMargin"}}))
    await checks.step()
    assert ("userAbstraction", A) not in ex.kinds()
    reading = store.account_mode(A)
    assert reading is not None and reading.source == "webData3"


async def test_forget_stops_asking_for_an_address() -> None:
    users = [A]
    checks, _, ex, _ = make(users, None)
    ex.fail = {"userRole", "userAbstraction"}
    await checks.step()
    checks.forget(A)
    users.clear()
    assert checks.pending() == []


def test_roles_in_words() -> None:
    agent = describe_role(A, UserRole("agent", UserRoleData(user=MASTER)))
    assert agent is not None and agent[1] == "warn" and MASTER in agent[0]
    sub = describe_role(A, UserRole("subAccount", UserRoleData(master=MASTER)))
    assert sub == (f"{A} is a sub-account of {MASTER}", "info")
    assert describe_role(A, UserRole("missing")) == (
        f"{A} is not known to the exchange (userRole: missing)",
        "warn",
    )
    assert describe_role(A, UserRole("vault")) == (f"{A} is a vault", "info")
    assert describe_role(A, UserRole("user")) is None


async def test_paid_from_the_reserve_mode_first_and_nothing_before_ready() -> None:
    """A budget of 200 a minute keeps 40 for one-off requests: the mode (20) goes first, the
    history (20) fits beside it, userRole (60) never fits and is said once; nothing at all
    before the engine is ready (its start-up reconciliation)."""
    ready = False
    checks, store, ex, clock = make([A], A, budget=200, ready=lambda: ready)
    await checks.step()
    assert ex.requests == []
    ready = True
    await checks.step()
    assert ex.kinds() == [("userAbstraction", A), ("portfolio", A)]
    clock.advance(checks.history_interval)
    await checks.step()
    assert ex.kinds()[-1] == ("portfolio", A) and ("userRole", A) not in ex.kinds()
    said = [e for e in store.health.events if e.text.startswith("userRole not asked")]
    assert len(said) == 1 and "more than the 40 a minute" in said[0].text


async def test_a_full_minute_share_waits_for_the_next_minute() -> None:
    """Share 60 (budget 300): the mode (20) of two addresses fits, their roles (60) only once
    the minute has passed, one a minute."""
    checks, _, ex, clock = make([A, B], None, budget=300)
    await checks.step()
    assert ex.kinds() == [("userAbstraction", A), ("userAbstraction", B)]
    clock.advance(61)
    await checks.step()
    assert ex.kinds()[2:] == [("userRole", A)]
    clock.advance(61)
    await checks.step()
    assert ex.kinds()[3:] == [("userRole", B)]


async def test_addresses_replaced_for_weeks_leave_nothing_behind() -> None:
    """Watching one address after another: what was asked about the old ones is forgotten
    with them (and an address watched again is asked again)."""
    users = [A]
    checks, _, ex, clock = make(users, None)
    await checks.step()
    for i in range(1, 40):
        was, users[0] = users[0], f"0x{i:040x}"
        checks.forget(was)
        clock.advance(60.0)  # room in the checks' share of the budget
        await checks.step()
    assert {address for _, address in checks._answered} == {users[0]}
    was, users[0] = users[0], A
    checks.forget(was)
    clock.advance(60.0)
    await checks.step()
    assert ex.kinds().count(("userRole", A)) == 2
