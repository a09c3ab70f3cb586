"""The event loop hlmon's commands run on (``hlmon.event_loop``): uvloop's by default, asyncio's
when told, a bad choice refused naming where it came from. Each run here is its own
``event_loop.run`` in a plain (not async) test: the suite's own loop stays pytest-asyncio's, and
no loop policy is set anywhere (a test checks the global one is left alone)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import warnings
from pathlib import Path

import pytest
import uvloop

from hlmon import event_loop
from hlmon.config import ConfigError, Settings, load_settings, settings_from_mapping
from hlmon.runtime.root import Runtime
from hlmon.state import ConnState
from tests.support import wait_for


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_auto_and_uvloop_run_on_uvloop() -> None:
    assert issubclass(event_loop.run(_loop_type()), uvloop.Loop)  # auto is the default
    assert issubclass(event_loop.run(_loop_type(), "uvloop"), uvloop.Loop)


def test_asyncio_runs_on_asyncios_own_loop() -> None:
    loop_type = event_loop.run(_loop_type(), "asyncio")
    assert not issubclass(loop_type, uvloop.Loop)
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_auto_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where uvloop cannot be imported (Windows, not installed), auto runs on asyncio; uvloop
    asked for by name is an error (the config check refuses it first: below)."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # ``import uvloop`` raises ImportError
    assert not issubclass(event_loop.run(_loop_type(), "auto"), uvloop.Loop)
    with pytest.raises(ImportError):
        event_loop.run(_loop_type(), "uvloop")


def test_the_loop_in_use_is_logged_and_no_policy_is_set(caplog: pytest.LogCaptureFixture) -> None:
    policy = asyncio.get_event_loop_policy()
    with caplog.at_level(logging.INFO, logger="hlmon.event_loop"):
        event_loop.run(_loop_type())
        event_loop.run(_loop_type(), "asyncio")
    assert [r.getMessage() for r in caplog.records if r.name == "hlmon.event_loop"] == [
        "event loop: uvloop",
        "event loop: asyncio",
    ]
    assert asyncio.get_event_loop_policy() is policy
    assert not isinstance(policy, uvloop.EventLoopPolicy)


def test_a_bad_choice_is_refused_before_any_loop_starts() -> None:
    coro = _loop_type()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would be a warning
        with pytest.raises(ValueError, match="expected one of auto, uvloop, asyncio, got 'x'"):
            event_loop.run(coro, "x")
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_the_setting_names_its_source_when_bad(tmp_path: Path) -> None:
    assert load_settings(env={}, cwd=tmp_path, user_dir=tmp_path).event_loop == "auto"
    env = {"HLMON_EVENT_LOOP": " asyncio "}
    assert load_settings(env=env, cwd=tmp_path, user_dir=tmp_path).event_loop == "asyncio"
    with pytest.raises(ConfigError) as env_error:
        load_settings(env={"HLMON_EVENT_LOOP": "fast"}, cwd=tmp_path, user_dir=tmp_path)
    assert str(env_error.value) == (
        '$HLMON_EVENT_LOOP: expected one of auto, uvloop, asyncio, got "fast"'
    )
    with pytest.raises(ConfigError, match=r"^cfg\.toml: key 'event_loop': expected one of"):
        settings_from_mapping({"event_loop": 1}, "cfg.toml")


def test_uvloop_by_name_must_be_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from_mapping({"event_loop": "uvloop"}, "cfg.toml").event_loop == "uvloop"
    monkeypatch.setitem(sys.modules, "uvloop", None)  # find_spec: not installed
    with pytest.raises(ConfigError, match=r"^cfg\.toml: key 'event_loop': expected uvloop inst"):
        settings_from_mapping({"event_loop": "uvloop"}, "cfg.toml")


@pytest.mark.parametrize("choice", ["uvloop", "asyncio"])
def test_the_stack_runs_on_either_loop_and_its_log_says_which(choice: str) -> None:
    """The demo's runtime (simulator, feed engine, sockets on loopback) reaches live data on
    the chosen loop, and the first line of its Log says which loop that is."""

    async def demo() -> tuple[str, list[str]]:
        async with Runtime(Settings(demo=True, watchlist=("BTC",))) as runtime:
            health = runtime.store.health
            await wait_for(lambda: health.connection.state is ConnState.LIVE, 15)
            await wait_for(lambda: "BTC" in runtime.store.mids, 15)
            return event_loop.running_loop_name(), [e.text for e in health.events]

    name, log = event_loop.run(demo(), choice)
    assert name == choice
    assert log[0] == f"event loop: {choice}"
