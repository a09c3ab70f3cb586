"""The collector is paused while hlmon starts and resumed once the TUI has painted (every
other command at once), and never left off for code that did not pause it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hlmon import gc_pause
from hlmon.cli import main
from hlmon.ui.app import build_app
from tests.fakes import FakeRuntime
from tests.support import cli_logging_restored
from tests.ui.helpers import FakeClock, pilot_wait, populated_store, settings


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc_pause.resume()
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_pause_then_resume_freezes_what_start_up_made() -> None:
    gc_pause.pause()
    assert not gc.isenabled() and gc_pause.paused()
    gc_pause.resume()
    assert gc.isenabled() and not gc_pause.paused()
    assert gc.get_freeze_count() > 0
    gc_pause.resume()  # again: nothing to do
    assert gc.isenabled()


def test_resume_never_turns_on_what_it_did_not_turn_off() -> None:
    gc.disable()
    gc_pause.pause()  # already off: not ours
    gc_pause.resume()
    assert not gc.isenabled()


def test_a_command_other_than_the_tui_resumes_at_once(tmp_path: Path) -> None:
    gc_pause.pause()
    with cli_logging_restored():
        result = CliRunner().invoke(main, ["replay", str(tmp_path / "missing.jsonl.gz")])
    assert result.exit_code != 0  # the file is missing; the group callback ran first
    assert gc.isenabled() and not gc_pause.paused()


async def test_the_tui_resumes_after_its_first_paint() -> None:
    clock = FakeClock()
    app = build_app(FakeRuntime(settings(), populated_store(clock), clock))
    gc_pause.pause()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_wait(pilot, lambda: not gc_pause.paused())
        assert gc.isenabled()
        assert app.dashboard.header.text_lines  # painted
