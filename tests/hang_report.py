"""What a hung async test was waiting for, in pytest-timeout's report.

pytest-timeout (signal method) prints every *thread's* stack; in an async test the main thread
only shows the event loop sitting in ``select``. This adds one line per pending asyncio task,
walking each coroutine's ``await`` chain down to where it is suspended, so a CI hang names
the wait that never ended.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest_timeout

_MAX_DEPTH = 12


def await_chain(awaitable: Any) -> list[str]:
    """``file:line function`` for each coroutine in ``awaitable``'s await chain, outermost
    first (a future or task at the bottom shows as its repr)."""
    out: list[str] = []
    node = awaitable
    for _ in range(_MAX_DEPTH):
        frame = getattr(node, "cr_frame", None) or getattr(node, "gi_frame", None)
        if frame is None:
            if node is not None and node is not awaitable:
                out.append(repr(node)[:160])
            break
        code = frame.f_code
        out.append(f"{code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {code.co_name}")
        node = getattr(node, "cr_await", None) or getattr(node, "gi_yieldfrom", None)
    return out


def pending_tasks() -> list[str]:
    """One line per pending task of the running loop (empty when no loop runs here)."""
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:
        return []
    lines = []
    for task in sorted(tasks, key=lambda t: t.get_name()):
        chain = " > ".join(await_chain(task.get_coro()))
        waiter = getattr(task, "_fut_waiter", None)  # what the innermost await is on
        on = f" (on {waiter!r:.200})" if waiter is not None else ""
        lines.append(f"task {task.get_name()}: {chain}{on}")
    return lines


def install() -> None:
    """Wrap pytest-timeout's stack dump so it also lists the loop's pending tasks."""
    threads_only = pytest_timeout.dump_stacks
    if getattr(threads_only, "lists_tasks", False):
        return

    def dump_stacks(terminal: Any) -> None:
        threads_only(terminal)
        lines = pending_tasks()
        terminal.sep("~", title=f"{len(lines)} pending asyncio tasks")
        for line in lines:
            terminal.write(line + "\n")

    dump_stacks.lists_tasks = True  # type: ignore[attr-defined]
    pytest_timeout.dump_stacks = dump_stacks
