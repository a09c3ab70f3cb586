"""Multiple accounts in the settings: ``addresses``, ``labels``, the limit of 10, keys refused,
and ``--address`` repeated or comma-separated on the command line."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hlmon.cli import main
from hlmon.config import ConfigError, Settings, load_settings, settings_from_mapping
from tests.support import cli_logging_restored

A, B, C = ("0x" + c * 40 for c in "abc")
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def addrs(n: int) -> list[str]:
    return [f"0x{i:040x}" for i in range(1, n + 1)]


class TestSettings:
    def test_only_addresses_selects_the_first(self) -> None:
        """With a list and no ``address``, the first is selected; all are watched in order."""
        s = settings_from_mapping({"addresses": [B.upper().replace("0X", "0x"), A]}, "c.toml")
        assert s.address == B
        assert s.watched_addresses == (B, A)

    def test_address_is_always_watched(self) -> None:
        """An ``address`` outside the list is watched too, first."""
        s = settings_from_mapping({"address": C, "addresses": [A, B]}, "c.toml")
        assert s.address == C
        assert s.watched_addresses == (C, A, B)

    def test_address_inside_the_list_keeps_the_list_order(self) -> None:
        s = settings_from_mapping({"address": B, "addresses": [A, B, A]}, "c.toml")
        assert (s.address, s.watched_addresses) == (B, (A, B))

    def test_single_address_still_works(self) -> None:
        s = settings_from_mapping({"address": A}, "c.toml")
        assert (s.address, s.addresses, s.watched_addresses) == (A, (), (A,))
        assert Settings().watched_addresses == ()

    def test_ten_is_the_limit(self) -> None:
        """Ten distinct addresses are fine; eleven (counting ``address``) name the key."""
        ten = settings_from_mapping({"addresses": addrs(10)}, "c.toml")
        assert len(ten.watched_addresses) == 10
        with pytest.raises(ConfigError) as info:
            settings_from_mapping({"addresses": addrs(11)}, "c.toml")
        assert str(info.value).startswith("c.toml: key 'addresses': at most 10 distinct")
        with pytest.raises(ConfigError, match=r"key 'addresses': at most 10.*got 11"):
            settings_from_mapping({"address": A, "addresses": addrs(10)}, "c.toml")
        # duplicates (any case) count once
        same = [*addrs(10), addrs(1)[0].upper().replace("0X", "0x")]
        assert len(settings_from_mapping({"addresses": same}, "c.toml").watched_addresses) == 10

    def test_limit_across_layers_names_the_flag(self, tmp_path: Path) -> None:
        """A file's ten addresses plus a different --address: the error names the source."""
        path = tmp_path / "c.toml"
        path.write_text("addresses = [" + ", ".join(f'"{a}"' for a in addrs(10)) + "]\n")
        ok = load_settings(path, env={}, cwd=tmp_path, user_dir=tmp_path)
        assert ok.address == addrs(1)[0]
        with pytest.raises(ConfigError, match="at most 10"):
            load_settings(path, env={}, cwd=tmp_path, user_dir=tmp_path, overrides={"address": A})

    @pytest.mark.parametrize(
        "data",
        [
            {"addresses": [A, KEY]},
            {"addresses": ["0x" + KEY]},
            {"labels": {KEY: "main"}},
            {"labels": {"0x" + KEY: "main"}},
        ],
    )
    def test_private_key_refused_without_echo(self, data: dict[str, Any]) -> None:
        """A private key in the list or as a label's key: refused, never shown."""
        with pytest.raises(ConfigError) as info:
            settings_from_mapping(data, "c.toml")
        text = str(info.value)
        assert "PRIVATE KEY" in text
        assert KEY not in text.lower()
        assert info.value.__cause__ is None and info.value.__suppress_context__
        assert KEY not in repr(info.value.__context__).lower()

    def test_bad_item_named(self) -> None:
        with pytest.raises(ConfigError, match=r"key 'addresses': expected .*item 2 is not one"):
            settings_from_mapping({"addresses": [A, "0x1234"]}, "c.toml")

    def test_labels(self) -> None:
        """Labels are keyed by address (any case) and trimmed; unwatched ones are harmless."""
        s = settings_from_mapping(
            {"addresses": [A, B], "labels": {A.upper().replace("0X", "0x"): " main ", C: "x"}},
            "c.toml",
        )
        assert s.label_for(A) == "main"
        assert s.label_for(B) is None
        assert s.labels == ((A, "main"), (C, "x"))


# ------------------------------------------------------------------------- command line


@pytest.fixture(autouse=True)
def _clean_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with cli_logging_restored():
        yield


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    got: list[Settings] = []

    def run(settings: Settings, **_kw: Any) -> int:
        got.append(settings)
        return 0

    for name, attr in (("hlmon.ui.app", "run_app"), ("hlmon.snapshot", "run_snapshot")):
        module = types.ModuleType(name)
        setattr(module, attr, run)
        monkeypatch.setitem(sys.modules, name, module)
    return got


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or {}, prog_name="hlmon")


class TestCommandLine:
    def test_single_address_backwards_compatible(self, captured: list[Settings]) -> None:
        assert invoke("--address", A).exit_code == 0
        assert (captured[0].address, captured[0].addresses) == (A, ())

    @pytest.mark.parametrize(
        "args",
        [
            ["--address", A, "--address", B],
            ["--address", f"{A},{B}"],
            ["--address", f"{A}, {B}"],
            ["--address", A, "snapshot", "--address", f"{A},{B}"],
            ["snapshot", "--address", A, "--address", B],
        ],
    )
    def test_repeated_or_comma_separated(self, captured: list[Settings], args: list[str]) -> None:
        """Several --address values: all watched, the first selected."""
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert captured[0].address == A
        assert captured[0].watched_addresses == (A, B)

    def test_group_address_kept_when_subcommand_has_none(self, captured: list[Settings]) -> None:
        assert invoke("--address", f"{A},{B}", "snapshot").exit_code == 0
        assert captured[0].watched_addresses == (A, B)

    def test_single_flag_selects_among_file_addresses(
        self, captured: list[Settings], tmp_path: Path
    ) -> None:
        """One --address selects it and keeps the file's list watched."""
        path = tmp_path / "c.toml"
        path.write_text(f'addresses = ["{A}", "{B}"]\nlabels = {{ "{B}" = "hedge" }}\n')
        assert invoke("--config", str(path), "--address", B).exit_code == 0
        s = captured[0]
        assert (s.address, s.watched_addresses, s.label_for(B)) == (B, (A, B), "hedge")

    def test_too_many_on_the_command_line(self, captured: list[Settings]) -> None:
        result = invoke("--address", ",".join(addrs(11)))
        assert result.exit_code == 1
        assert "--address: at most 10 distinct addresses" in result.stderr
        assert captured == []

    def test_key_among_addresses_never_echoed(self, captured: list[Settings]) -> None:
        result = invoke("--address", f"{A},0x{KEY}")
        assert result.exit_code == 1
        assert "PRIVATE KEY" in result.stderr
        assert KEY not in result.output.lower() and KEY not in result.stderr.lower()
        assert captured == []
