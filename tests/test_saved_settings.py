"""hlmon's own ``[saved]`` section of the user's config file: written, reloaded, refused.

The writer keeps every byte outside its marked block, replaces the block (never a second one),
writes atomically with the file's mode, creates what is missing, and refuses (file untouched)
what it cannot read. The loader applies the block over the file's own keys, under the
environment and the flags, and names the key and the file for bad content.
"""

from __future__ import annotations

import os
import stat
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from hlmon.alerts.rules import DeadMan, Liquidated, PriceCross, UpnlBeyond
from hlmon.config import ConfigError, Settings, load_settings
from hlmon.config.saved import BEGIN, END, SavedChoices, save_choices

USER_TEXT = """\
# my hlmon config; this comment and the odd spacing below must survive
network   =   "mainnet"      # trailing comment
watchlist = [ "BTC",
              "ETH" ]   # two coins

[stale]
mids = 20.0 # slower
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _load(path: Path, tmp_path: Path, **kw: object) -> Settings:
    """Settings as hlmon would read them with ``$HLMON_CONFIG=path`` (no other file around)."""
    env = {"HLMON_CONFIG": str(path)}
    return load_settings(env=env, cwd=tmp_path, user_dir=tmp_path / "no-user-dir", **kw)  # type: ignore[arg-type]


def _section(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


class TestWriter:
    def test_creates_the_file_and_its_directory(self, tmp_path: Path) -> None:
        path = tmp_path / "home" / ".config" / "hlmon" / "config.toml"
        assert save_choices(path, SavedChoices(theme="nord")) is True
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a config names the user's accounts
        assert tomllib.loads(path.read_text())["saved"] == {"theme": "nord"}
        assert _load(path, tmp_path).theme == "nord"

    def test_nothing_to_save_creates_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "cfg" / "config.toml"
        assert save_choices(path, SavedChoices(theme="textual-dark")) is False  # the default
        assert not path.exists()

    def test_everything_outside_the_block_is_kept_byte_for_byte(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        save_choices(path, SavedChoices(watchlist=("BTC", "ETH", "SOL"), theme="nord"))
        first = path.read_text()
        assert first.startswith(USER_TEXT)
        assert first[len(USER_TEXT) :].lstrip("\n").startswith(BEGIN)
        save_choices(path, SavedChoices(theme="dracula", book_fast=True, book_sig_figs=5))
        second = path.read_text()
        assert second.startswith(USER_TEXT)
        assert second.count(BEGIN) == second.count(END) == 1
        assert second.count("[saved]") == 1
        saved = tomllib.loads(second)["saved"]
        # The watchlist saved before is kept: this save did not choose it.
        assert saved == {
            "watchlist": ["BTC", "ETH", "SOL"],
            "theme": "dracula",
            "book_fast": True,
            "book_sig_figs": 5,
        }

    def test_a_block_in_the_middle_is_replaced_in_place(self, tmp_path: Path) -> None:
        block = f'{BEGIN}\n[saved]\ntheme = "nord"\n{END}\n'
        after = "# a comment the user put after the block\n"
        path = _write(tmp_path / "config.toml", USER_TEXT + block + after)
        save_choices(path, SavedChoices(theme="gruvbox"))
        text = path.read_text()
        assert text.startswith(USER_TEXT) and text.endswith(after)
        assert 'theme = "gruvbox"' in _section(text) and "nord" not in text

    def test_choices_back_to_the_files_own_values_remove_the_block(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        save_choices(path, SavedChoices(watchlist=("BTC",), book_fast=True))
        save_choices(path, SavedChoices(watchlist=("BTC", "ETH"), book_fast=False))
        assert path.read_text() == USER_TEXT

    def test_mode_and_line_endings_are_kept(self, tmp_path: Path) -> None:
        crlf = USER_TEXT.replace("\n", "\r\n")
        path = _write(tmp_path / "config.toml", crlf)
        path.chmod(0o640)
        save_choices(path, SavedChoices(theme="nord"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        data = path.read_bytes()
        assert data.startswith(crlf.encode()) and b"\n" not in data.replace(b"\r\n", b"")

    def test_a_symlinked_file_is_written_through_the_link(self, tmp_path: Path) -> None:
        real = _write(tmp_path / "dotfiles" / "hlmon.toml", USER_TEXT)
        link = tmp_path / "cfg" / "config.toml"
        link.parent.mkdir()
        link.symlink_to(real)
        save_choices(link, SavedChoices(theme="nord"))
        assert link.is_symlink()
        assert tomllib.loads(real.read_text())["saved"] == {"theme": "nord"}

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('watchlist = ["BTC"\n', "invalid TOML"),
            (USER_TEXT + f"{BEGIN}\n[saved]\n", "must be one block"),
            (USER_TEXT + f'{END}\n{BEGIN}\n[saved]\ntheme = "x"\n', "must be one block"),
            (USER_TEXT + '[saved]\ntheme = "nord"\n', "outside hlmon's marked block"),
            ('fps = "fast"\n', "key 'fps'"),
            (f"{BEGIN}\n[saved]\ntheme = 5\n{END}\n", "key 'saved.theme'"),
        ],
        ids=["invalid-toml", "no-end", "end-first", "saved-unmarked", "bad-user-key", "bad-saved"],
    )
    def test_what_it_cannot_read_is_refused_and_left_alone(
        self, tmp_path: Path, text: str, message: str
    ) -> None:
        path = _write(tmp_path / "config.toml", text)
        with pytest.raises(ConfigError, match=message) as info:
            save_choices(path, SavedChoices(theme="nord", watchlist=("BTC", "SOL")))
        assert str(path) in str(info.value)
        assert path.read_bytes() == text.encode()
        assert os.listdir(tmp_path) == ["config.toml"]

    def test_a_failed_write_leaves_the_file_and_no_temporary(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)

        def refuse(src: object, dst: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", refuse)
        with pytest.raises(ConfigError, match="cannot write: No space left"):
            save_choices(path, SavedChoices(theme="nord"))
        assert path.read_text() == USER_TEXT
        assert os.listdir(tmp_path) == ["config.toml"]

    def test_a_key_like_value_is_never_written(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        key = "ab" * 32
        with pytest.raises(ConfigError, match="looks like a private key") as info:
            save_choices(path, SavedChoices(theme=key))
        assert key not in str(info.value)
        assert path.read_text() == USER_TEXT

    def test_alert_rules_are_saved_as_a_change_to_the_files_rules(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        rules = (Liquidated(), PriceCross("BTC", "above", Decimal("110000.5")))
        save_choices(path, SavedChoices(rules=rules))  # the default deadman removed, one added
        saved = tomllib.loads(path.read_text())["saved"]
        assert saved == {
            "alerts_removed": ["deadman 30s"],
            "alerts_added": [{"kind": "price", "coin": "BTC", "above": 110000.5}],
        }
        assert _load(path, tmp_path).alerts.rules == rules


class TestReload:
    def test_saved_keys_win_over_the_files_own(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", 'theme = "gruvbox"\nfps = 20.0\n' + USER_TEXT)
        save_choices(path, SavedChoices(watchlist=("SOL",), theme="nord", book_sig_figs=3))
        settings = _load(path, tmp_path)
        assert settings.watchlist == ("SOL",)
        assert settings.theme == "nord"
        assert settings.book_sig_figs == 3 and settings.book_fast is False
        assert settings.fps == 20.0 and settings.stale.mids == 20.0  # the user's own keys
        assert settings.saved_file == str(path)

    def test_coins_flag_wins_over_the_saved_watchlist(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        save_choices(path, SavedChoices(watchlist=("SOL",), theme="nord"))
        settings = _load(path, tmp_path, overrides={"watchlist": "DOGE,kPEPE"})
        assert settings.watchlist == ("DOGE", "kPEPE")
        assert settings.theme == "nord"  # what the flags do not name still comes from the file

    def test_a_config_flag_run_reads_its_file_and_saves_nowhere(self, tmp_path: Path) -> None:
        user_dir = tmp_path / "user"
        user_file = _write(user_dir / "config.toml", USER_TEXT)
        save_choices(user_file, SavedChoices(theme="nord"))
        one_off = _write(tmp_path / "one-off.toml", 'theme = "dracula"\n')
        settings = load_settings(one_off, env={}, cwd=tmp_path, user_dir=user_dir)
        assert settings.theme == "dracula"  # the user's saved choice does not reach this run
        assert settings.saved_file is None

    def test_where_choices_are_saved(self, tmp_path: Path) -> None:
        user_dir = tmp_path / "user"
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        # No file anywhere: the user config dir's file, created on the first save.
        fresh = load_settings(env={}, cwd=cwd, user_dir=user_dir)
        assert fresh.saved_file == str(user_dir / "config.toml")
        _write(user_dir / "config.toml", USER_TEXT)
        assert load_settings(env={}, cwd=cwd, user_dir=user_dir).saved_file == str(
            user_dir / "config.toml"
        )
        # A ./config.toml (a checkout's, a project's) is not the user's: nothing is saved.
        _write(cwd / "config.toml", USER_TEXT)
        assert load_settings(env={}, cwd=cwd, user_dir=user_dir).saved_file is None

    def test_a_demo_run_saves_nowhere(self, tmp_path: Path) -> None:
        """The demo is a sandbox: coins tried on the simulator's markets stay out of the
        user's real file."""
        user_dir = tmp_path / "user"
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        assert load_settings(env={}, cwd=cwd, user_dir=user_dir).saved_file is not None
        demo = load_settings(env={}, cwd=cwd, user_dir=user_dir, overrides={"demo": True})
        assert demo.saved_file is None

    def test_rules_added_to_the_file_later_still_apply(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "config.toml", USER_TEXT)
        save_choices(
            path, SavedChoices(rules=(DeadMan(30.0), Liquidated(), UpnlBeyond(None, Decimal(-5))))
        )
        text = path.read_text()
        head, block = text[: text.index(BEGIN)], text[text.index(BEGIN) :]
        rules_text = '[[alerts.rules]]\nkind = "fill"\n\n[[alerts.rules]]\nkind = "deadman"\n\n'
        path.write_text(head + rules_text + block)
        rules = _load(path, tmp_path).alerts.rules
        assert [r.rule_id for r in rules] == ["fill", "deadman 30s", "upnl < -5"]

    @pytest.mark.parametrize(
        ("body", "key"),
        [
            ("theme = 5", "saved.theme"),
            ('watchlist = ["BTC ETH"]', "saved.watchlist"),
            ("book_sig_figs = 7", "saved.book_sig_figs"),
            ("colour = 1", "saved.colour"),
            ('alerts_removed = "deadman 30s"', "saved.alerts_removed"),
            ('[[saved.alerts_added]]\nkind = "price"\nabove = 5', "saved.alerts_added[1].coin"),
            ('[[saved.alerts_added]]\nkind = "weather"', "saved.alerts_added[1].kind"),
        ],
    )
    def test_bad_saved_content_names_the_key_and_the_file(
        self, tmp_path: Path, body: str, key: str
    ) -> None:
        text = USER_TEXT + f"{BEGIN}\n[saved]\n{body}\n{END}\n"
        path = _write(tmp_path / "config.toml", text)
        with pytest.raises(ConfigError) as info:
            _load(path, tmp_path)
        assert str(info.value).startswith(f"{path}: key '{key}'")
        assert path.read_text() == text
