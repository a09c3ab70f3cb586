"""The ``[saved]`` section: the UI's choices kept in the user's config file, and reloaded.

hlmon owns one block of the config file, between two marker lines, and rewrites only that
block; every byte outside it (the user's keys, comments, formatting) is kept::

    # >>> hlmon saved settings >>>
    # (a comment saying what this is)
    [saved]
    watchlist = ["BTC", "ETH", "kPEPE"]      # a/d in the UI
    theme = "nord"                           # t
    book_fast = true                         # f
    book_sig_figs = 5                        # g (0: exact prices)
    alerts_removed = ["deadman 30s"]         # rule ids removed from the file's own rules

    [[saved.alerts_added]]                   # rules added or changed in the UI (shift+a, !)
    kind = "price"
    coin = "BTC"
    above = 110000
    # <<< hlmon saved settings <<<

Precedence: a key here wins over the same setting in the rest of the file (and the defaults);
``$HLMON_ADDRESS``/``$HLMON_NETWORK`` and the flags (``--coins``...) still win over it. Only
what the UI changed away from the file's own value is written, so a choice set back to the
file's value disappears from the block. Alert rules are kept as a change to the file's rules
(added ones, removed ids), so rules the user later adds to ``[[alerts.rules]]`` still apply.

A save refuses (``ConfigError``, file untouched) when the file is not valid TOML, its markers
are broken, the rest of the file has an invalid key, or a value looks like a private key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hlmon.alerts.rule_tables import rule_tables
from hlmon.alerts.rules import AlertRule
from hlmon.alerts.settings import AlertSettings, parse_rule_tables
from hlmon.config.atomic import write_atomic
from hlmon.config.errors import ConfigError
from hlmon.config.layers import KEYS, Layer, file_layer
from hlmon.config.settings import Settings
from hlmon.config.toml_text import toml_table
from hlmon.keyguard import looks_like_key
from hlmon.settable import Invalid, SettingError, default_of, invalid_message

logger = logging.getLogger("hlmon.config")

SECTION = "saved"
"""The table hlmon owns in the config file."""
BEGIN = "# >>> hlmon saved settings >>>"
END = "# <<< hlmon saved settings <<<"
_NOTE = (
    "# Written by hlmon when the watchlist (a, d), the theme (t), the book mode (f, g) or the",
    "# alert rules (shift+a, the alerts view !) change in the UI. These keys win over the same",
    "# settings above; delete one (or this block) to go back to yours. Keep this block last.",
)
SAVED_KEYS: tuple[str, ...] = ("watchlist", "theme", "book_fast", "book_sig_figs")
"""Top-level settings the UI can change (read with their usual checks)."""
RULES_ADDED = "alerts_added"
RULES_REMOVED = "alerts_removed"


@dataclass(frozen=True)
class SavedChoices:
    """What the UI has now; None: not to be saved (kept as the file has it)."""

    watchlist: tuple[str, ...] | None = None
    theme: str | None = None
    book_fast: bool | None = None
    book_sig_figs: int | None = None
    """0 for exact prices, 2..5 aggregated."""
    rules: tuple[AlertRule, ...] | None = None


@dataclass(frozen=True)
class SavedSection:
    """The ``[saved]`` table as read, checked."""

    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    added: tuple[AlertRule, ...] = ()
    removed: tuple[str, ...] = ()


# --- reading ------------------------------------------------------------------------------------


def _rule_ids(value: Any, where: str) -> tuple[str, ...]:
    expected = 'an array of alert rule ids, e.g. ["deadman 30s"]'
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(invalid_message(where, value, Invalid(expected)))
    for item in value:
        if not isinstance(item, str) or looks_like_key(item):
            raise ConfigError(invalid_message(where, item, Invalid(expected, show_value=False)))
    return tuple(dict.fromkeys(value))


def parse_saved(value: Any, source: str) -> SavedSection:
    """The ``[saved]`` table of the config file ``source``.

    Raises:
        ConfigError: naming ``source`` and the key (``saved.theme``, ``saved.alerts_added[2]``).
    """
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: key '{SECTION}': expected a table [{SECTION}]")
    values: dict[str, Any] = {}
    added: tuple[AlertRule, ...] = ()
    removed: tuple[str, ...] = ()
    for key, item in value.items():
        where = f"{source}: key '{SECTION}.{key}'"
        if key in SAVED_KEYS:
            try:
                values[key] = KEYS[key](item)
            except Invalid as exc:
                raise ConfigError(invalid_message(where, item, exc)) from None
        elif key == RULES_ADDED:
            try:
                added = parse_rule_tables(item, source, f"{SECTION}.{RULES_ADDED}")
            except SettingError as exc:
                raise ConfigError(str(exc)) from None
        elif key == RULES_REMOVED:
            removed = _rule_ids(item, where)
        else:
            known = ", ".join((*SAVED_KEYS, RULES_ADDED, RULES_REMOVED))
            raise ConfigError(f"{where}: unknown key (known in [{SECTION}]: {known})")
    return SavedSection(values, added, removed)


def apply_rules(
    base: Sequence[AlertRule], added: Sequence[AlertRule], removed: Sequence[str]
) -> tuple[AlertRule, ...]:
    """The file's rules without the removed ids, then the added ones (each id once). A rule
    both removed and added under the same id was changed in place (switched off in the
    alerts view): it keeps its place in the file's order."""
    gone = set(removed)
    again = {r.rule_id: r for r in added if r.rule_id in gone}
    out: dict[str, AlertRule] = {}
    for r in base:
        if r.rule_id not in gone:
            out.setdefault(r.rule_id, r)
        elif r.rule_id in again:
            out.setdefault(r.rule_id, again[r.rule_id])
    for rule in added:
        out.setdefault(rule.rule_id, rule)
    return tuple(out.values())


def diff_rules(
    base: Sequence[AlertRule], current: Sequence[AlertRule]
) -> tuple[tuple[AlertRule, ...], tuple[str, ...]]:
    """(added, removed ids): what turns the file's rules ``base`` into ``current``. A rule
    whose id is in both but which differs (``enabled``) is removed and added again."""
    base_by_id: dict[str, AlertRule] = {}
    for r in base:
        base_by_id.setdefault(r.rule_id, r)
    current_by_id = {r.rule_id: r for r in current}
    added = tuple(r for r in current if base_by_id.get(r.rule_id) != r)
    removed = tuple(
        dict.fromkeys(
            r.rule_id for r in base if current_by_id.get(r.rule_id) != base_by_id[r.rule_id]
        )
    )
    return added, removed


def saved_layer(section: SavedSection, base: Layer, source: str) -> Layer:
    """The layer the ``[saved]`` table gives, over the file's own layer ``base``."""
    layer = Layer()
    for key, value in section.values.items():
        layer.values[key] = value
        layer.where[key] = f"{source}: key '{SECTION}.{key}'"
        if key in base.values and base.values[key] != value:
            logger.info(
                "%s: [%s] %s (chosen in the UI) wins over the file's own", source, SECTION, key
            )
    if section.added or section.removed:
        alerts: AlertSettings = base.values.get("alerts", AlertSettings())
        rules = apply_rules(alerts.rules, section.added, section.removed)
        layer.values["alerts"] = dataclasses.replace(alerts, rules=rules)
        layer.where["alerts"] = f"{source}: key '{SECTION}.{RULES_ADDED}'"
    return layer


def file_layers(data: Mapping[str, Any], source: str) -> list[Layer]:
    """The layers of one parsed config file: its own keys, then its ``[saved]`` table."""
    own = file_layer({k: v for k, v in data.items() if k != SECTION}, source)
    if SECTION not in data:
        return [own]
    return [own, saved_layer(parse_saved(data[SECTION], source), own, source)]


# --- writing ------------------------------------------------------------------------------------


def find_section(text: str, source: str) -> tuple[int, int] | None:
    """(start, end) character offsets of the marked block, END line's newline included.

    Raises:
        ConfigError: a marker twice, or one without the other, or END before BEGIN.
    """
    begins: list[int] = []
    ends: list[tuple[int, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            begins.append(offset)
        elif stripped == END:
            ends.append((offset, offset + len(line)))
        offset += len(line)
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0][0] < begins[0]:
        raise ConfigError(
            f"{source}: hlmon's saved section must be one block from the line '{BEGIN}' to "
            f"the line '{END}' (found {len(begins)} and {len(ends)}); fix the file by hand. "
            "Nothing was saved and the file is left as it is"
        )
    return begins[0], ends[0][1]


def render_section(table: Mapping[str, Any], newline: str = "\n") -> str:
    """The marked block for ``table`` ("" for an empty table: nothing to keep)."""
    if not table:
        return ""
    body = toml_table(SECTION, table)
    lines = [BEGIN, *_NOTE, *body.rstrip("\n").split("\n"), END]
    return newline.join(lines) + newline


def _base_value(own: Layer, key: str) -> Any:
    return own.values.get(key, default_of(Settings, key))


def saved_section(choices: SavedChoices, own: Layer, previous: SavedSection) -> SavedSection:
    """The new ``[saved]`` content: each choice that differs from the file's own value (or the
    default), the previous saved value for what is not chosen now."""
    values: dict[str, Any] = {}
    chosen = {
        "watchlist": choices.watchlist or None,  # an empty watchlist is not a valid setting
        "theme": choices.theme,
        "book_fast": choices.book_fast,
        "book_sig_figs": choices.book_sig_figs,
    }
    for key in SAVED_KEYS:
        value = chosen[key]
        if value is None:
            if key in previous.values:
                values[key] = previous.values[key]
        elif value != _base_value(own, key):
            values[key] = value
    if choices.rules is None:
        return SavedSection(values, previous.added, previous.removed)
    added, removed = diff_rules(_base_value(own, "alerts").rules, choices.rules)
    return SavedSection(values, added, removed)


def section_table(section: SavedSection) -> dict[str, Any]:
    """``section`` as the TOML table to write."""
    table: dict[str, Any] = {
        k: list(v) if isinstance(v, tuple) else v for k, v in section.values.items()
    }
    if section.removed:
        table[RULES_REMOVED] = list(section.removed)
    if section.added:
        table[RULES_ADDED] = rule_tables(section.added)
    return table


def _read_text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}; nothing saved") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: not UTF-8 text; nothing saved, the file is left as it is"
        ) from None


def save_choices(path: Path, choices: SavedChoices) -> bool:
    """Write ``choices`` into the saved section of the config file ``path`` (created, with its
    directory, if missing), atomically; everything outside the section is kept byte for byte.

    Returns:
        True if the file was written, False if it already said the same.

    Raises:
        ConfigError: the file is left exactly as it was (invalid TOML, broken markers, an
            invalid key in the rest of the file, a key-like value, a write error).
    """
    source = str(path)
    text = _read_text(path)
    current = "" if text is None else text
    span = find_section(current, source)
    try:
        data = tomllib.loads(current)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: invalid TOML: {exc}; nothing saved, the file is left as it is"
        ) from None
    if span is None and SECTION in data:
        raise ConfigError(
            f"{source}: has a [{SECTION}] table outside hlmon's marked block; rename or "
            "remove it so hlmon can save the UI's choices. Nothing was saved"
        )
    own = file_layer({k: v for k, v in data.items() if k != SECTION}, source)
    previous = parse_saved(data[SECTION], source) if SECTION in data else SavedSection()
    section = saved_section(choices, own, previous)
    newline = "\r\n" if "\r\n" in current else "\n"
    block = render_section(section_table(section), newline)
    if looks_like_key(block):
        raise ConfigError(f"{source}: a value to save looks like a private key; nothing saved")
    if span is not None:
        head = current[: span[0]]
        if not block and head.endswith(newline * 2):
            head = head[: -len(newline)]  # the blank line put before the block when added
        new = head + block + current[span[1] :]
    elif not block:
        return False
    else:
        head = current
        if head and not head.endswith("\n"):
            head += newline
        new = head + (newline if head.strip() else "") + block
    if new == current and text is not None:
        return False
    # Never write a file hlmon itself could not read back to the same choices.
    check = tomllib.loads(new).get(SECTION, {})
    if parse_saved(check, source) != section:
        raise ConfigError(f"{source}: the saved section did not read back; nothing saved")
    try:
        write_atomic(path, new.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot write: {exc.strerror or exc}; nothing saved") from None
    return True


async def save_in_thread(path: str | None, choices: SavedChoices, lock: threading.Lock) -> bool:
    """:func:`save_choices` in a worker thread, one at a time under ``lock`` (taken in the
    thread, so a cancelled caller cannot let two writes overlap). None ``path``: nothing saved.
    """
    if path is None:
        return False

    def save() -> bool:
        with lock:
            return save_choices(Path(path), choices)

    return await asyncio.to_thread(save)
