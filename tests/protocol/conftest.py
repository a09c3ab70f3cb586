"""Parametrisation over the shared recorded payloads (never copied into this repo).

The folder is found by ``payload_samples.payloads_dir`` (``shared/protocol/payloads`` above the
checkout) unless ``HLMON_PAYLOADS`` points elsewhere. When it is absent, every test that uses
a payload fixture is skipped with a reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.protocol.payload_samples import payloads_dir


def _load() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, file header, sample) for every sample of every payload file."""
    folder = payloads_dir()
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for sample in doc["samples"]:
            out.append((path.name, doc, sample))
    return out


def _skip_param(what: str) -> Any:
    reason = f"recorded payloads not found at {payloads_dir()} (set HLMON_PAYLOADS): no {what}"
    return pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-payloads")


def _is_ack_pair(sample: dict[str, Any]) -> bool:
    frame = sample.get("frame")
    return isinstance(frame, dict) and "sent" in frame and "ack" in frame


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
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
