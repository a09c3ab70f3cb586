"""DedupeRing against a simple model, and the state package's import purity."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from hlmon.state.rings import DedupeRing

Item = tuple[int, int]  # (key, time); order = (time, key) is total


def _ring(cap: int) -> DedupeRing[Item]:
    return DedupeRing(cap, key=lambda it: it[0], order=lambda it: (it[1], it[0]))


@settings(max_examples=300, deadline=None)
@given(
    cap=st.integers(1, 6),
    times=st.lists(st.integers(0, 15), min_size=16, max_size=16),
    key_batches=st.lists(st.lists(st.integers(0, 15), max_size=8), max_size=8),
)
def test_matches_model(cap: int, times: list[int], key_batches: list[list[int]]) -> None:
    """Kept = the ``cap`` newest distinct records ever seen, whatever the arrival order and
    repeats; ``add_many`` counts the ones it added that are still kept."""
    ring = _ring(cap)
    seen: dict[int, Item] = {}
    for keys in key_batches:
        batch = [(k, times[k]) for k in keys]  # one key is always the same record
        before = {k for k, _ in ring.newest_first()}
        new = ring.add_many(batch)
        for it in batch:
            seen.setdefault(it[0], it)
        expected = sorted(seen.values(), key=lambda it: (it[1], it[0]), reverse=True)[:cap]
        got = ring.newest_first()
        assert got == expected
        assert new == len({k for k, _ in got} - before)
        assert len(ring) <= cap
        assert ring.newest == (expected[0] if expected else None)


def test_remove_and_clear() -> None:
    ring = _ring(3)
    ring.add_many([(1, 10), (2, 20), (3, 30)])
    assert ring.remove((3, 30)) and not ring.remove((3, 30))
    assert ring.newest == (2, 20)
    assert ring.add_many([(0, 0)]) == 1  # no longer full: old records fit again
    ring.clear()
    assert ring.newest_first() == [] and ring.newest is None


def test_state_never_imports_ui_or_io() -> None:
    """hlmon.state is pure: importing it pulls in no Textual, asyncio or network library."""
    code = (
        "import sys, hlmon.state, hlmon.state.store\n"
        "bad = [m for m in ('textual', 'asyncio', 'websockets', 'httpx', 'aiohttp', 'socket')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
