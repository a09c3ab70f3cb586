"""Parametrisation over the shared recorded payloads (located by ``tests/payloads.py``).

When the folder is absent, every test that uses a payload fixture is skipped with the reason
(under ``make test`` the collection fails instead).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.payloads import MISSING, PAYLOADS, payloads_present


def _load() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, file header, sample) for every sample of every payload file."""
    if not payloads_present():
        return []
    out = []
    for path in sorted(PAYLOADS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for sample in doc["samples"]:
            out.append((path.name, doc, sample))
    return out


def _skip_param(what: str) -> Any:
    skip = pytest.mark.skip(reason=f"{MISSING}: no {what}")
    return pytest.param(None, marks=skip, id="no-payloads")


def _is_ack_pair(sample: dict[str, Any]) -> bool:
    frame = sample.get("frame")
    return isinstance(frame, dict) and "sent" in frame and "ack" in frame


PAYLOAD_FIXTURES = frozenset({"ws_sample", "rest_sample", "ack_pair", "ack_frame"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not PAYLOAD_FIXTURES.intersection(metafunc.fixturenames):
        return  # the folder is read (and required) only by tests that use it
    samples = _load()
    counters: dict[str, int] = {}

    def ident(name: str) -> str:
        counters[name] = counters.get(name, 0) + 1
        return f"{name.removesuffix('.json')}-{counters[name]}"

    if "ws_sample" in metafunc.fixturenames:
        params = [
            pytest.param(s, id=ident(name))
            for name, _doc, s in samples
            if name.startswith("ws_") and "frame" in s and not _is_ack_pair(s)
        ]
        metafunc.parametrize("ws_sample", params or [_skip_param("ws samples")])
    if "rest_sample" in metafunc.fixturenames:
        params = [
            pytest.param((doc["channel_or_type"], s), id=ident(name))
            for name, doc, s in samples
            if name.startswith("rest_") and "response" in s
        ]
        metafunc.parametrize("rest_sample", params or [_skip_param("rest samples")])
    if "ack_pair" in metafunc.fixturenames:
        params = [
            pytest.param(s["frame"], id=ident(name)) for name, _doc, s in samples if _is_ack_pair(s)
        ]
        metafunc.parametrize("ack_pair", params or [_skip_param("sent/ack pairs")])
    if "ack_frame" in metafunc.fixturenames:
        params = [
            pytest.param(s["frame"], id=ident(name))
            for name, _doc, s in samples
            if name == "ws_subscriptionResponse.json" and not _is_ack_pair(s)
        ]
        metafunc.parametrize("ack_frame", params or [_skip_param("verbatim acks")])
