"""``hlmon.codegen_cache``: dataclass methods, ``typing`` annotations, namedtuples and regular
expressions compiled once and kept on disk. Each check runs fresh interpreters (``install``
changes those modules for the whole process), the table in a temporary directory."""

from __future__ import annotations

import builtins
import dataclasses
import json
import marshal
import os
import sys
import textwrap
from pathlib import Path

import pytest

from hlmon import codegen_cache
from hlmon.ui.app import build_app
from tests.fakes import FakeRuntime
from tests.support import python_stdout
from tests.ui.helpers import FakeClock, pilot_wait, populated_store, settings

# Classes as hlmon writes them: frozen with slots, defaults and a factory, ordering, a
# NamedTuple and a TypedDict whose annotations are strings (``typing`` compiles each one), a
# namedtuple (its ``__new__`` is compiled), and regular expressions (str and bytes, named groups,
# inline and given flags). Patterns compare equal when their flags, text and code are.
# The module has no ``from __future__ import annotations``: the generated ``__init__`` must
# then carry real types, not the strings the cache module's own future import would give.
CLASSES = r"""
import collections, dataclasses, re, typing
from dataclasses import dataclass, field

@dataclass(frozen=True, slots=True)
class Fill:
    coin: str
    px: float = 0.0
    tags: tuple = field(default_factory=tuple)

@dataclass(order=True)
class Level:
    px: float
    sz: float

class Pair(typing.NamedTuple):
    base: "str"
    quote: "str" = "USDC"

class Row(typing.TypedDict):
    coin: "str"
    mid: "float | None"

Point = collections.namedtuple("Point", "x y", defaults=(0,))

PATTERNS = [
    (r"(?P<coin>[A-Z]+)-(?P<quote>USDC?)\s*(\d+\.\d*)", re.I),
    (r"(?x) \b  (?P<word> \w+ ) (?<=s) ", 0),
    (rb"^\x00(?P<len>..)(.*)$", re.S),
    (r"[^\W\d_]+|\$\{(?P<var>[a-z_]+)\}", re.A | re.M),
]
regexes = [re.compile(text, flags) for text, flags in PATTERNS]
match = regexes[0].match("btc-usdc  12.5")
try:
    re.compile("(unclosed")
    error = None
except re.error as exc:
    error = str(exc)

fill = Fill("BTC", 1.5)
try:
    fill.px = 2.0
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
facts = {
    "repr": repr(fill),
    "eq": fill == Fill("BTC", 1.5, ()),
    "hash": hash(fill) == hash(Fill("BTC", 1.5)),
    "frozen": frozen,
    "order": Level(1.0, 2.0) < Level(1.5, 0.0),
    "init_annotations": {k: repr(v) for k, v in Fill.__init__.__annotations__.items()},
    "pair": repr(Pair("ETH")),
    "row_hints": repr(Row.__annotations__),
    "point": repr(Point(1)),
    "patterns": [
        [repr(p), p.flags, p.groups, dict(p.groupindex)] for p in regexes
    ],
    "match": [match.groupdict(), match.groups(), match.span(3)],
    "regex_error": error,
}
"""

RUN = """
import json, sys
sys.dont_write_bytecode = {no_bytecode}
import re._compiler
from hlmon import codegen_cache
plain_compile = re._compiler.compile
codegen_cache.install({path!r})
loaded = codegen_cache.stats()[0]
{classes}
compiled = codegen_cache.stats()[1]
saved = codegen_cache.save()
same = all(plain_compile(t, f) == p for (t, f), p in zip(PATTERNS, regexes))
print(json.dumps({{"loaded": loaded, "compiled": compiled, "saved": saved, "facts": facts,
                  "same_patterns": same}}))
"""


def _run(path: Path, *, no_bytecode: bool = False, extra: str = "") -> dict[str, object]:
    classes = textwrap.dedent(CLASSES) + extra
    code = RUN.format(path=str(path), no_bytecode=no_bytecode, classes=classes)
    result: dict[str, object] = json.loads(python_stdout(code))
    return result


def _plain_facts() -> object:
    """The same classes built without the cache."""
    return json.loads(python_stdout(CLASSES + "\nimport json\nprint(json.dumps(facts))"))


def test_a_second_launch_compiles_nothing_and_builds_the_same_classes(tmp_path: Path) -> None:
    table = tmp_path / "cache" / "generated-code.marshal"
    first = _run(table)
    assert first["loaded"] == 0
    assert isinstance(first["compiled"], int) and first["compiled"] > 0
    assert first["saved"] is True and table.exists()

    second = _run(table)
    assert second["loaded"] == first["compiled"]
    assert second["compiled"] == 0  # every method and annotation came from the table
    assert second["saved"] is False  # nothing new: the file is not rewritten
    assert first["facts"] == second["facts"] == _plain_facts()
    assert first["same_patterns"] is second["same_patterns"] is True  # flags, text and code
    facts = second["facts"]
    assert isinstance(facts, dict)
    assert facts["init_annotations"]["px"] == "<class 'float'>"  # not the string 'float'
    assert facts["frozen"] is True and facts["order"] is True


def test_a_few_new_sources_do_not_rewrite_the_table(tmp_path: Path) -> None:
    """Some libraries' patterns differ at every launch (built from a set): a handful of misses
    leaves the file as it is rather than rewriting ~1 MB at every start."""
    table = tmp_path / "generated-code.marshal"
    _run(table)
    before = table.read_bytes()
    extra = "\n@dataclass\nclass Extra:\n    z: int = 0\nfacts['extra'] = repr(Extra())\n"
    run = _run(table, extra=extra)
    assert 0 < run["compiled"] < codegen_cache.MIN_NEW  # type: ignore[operator]
    assert run["saved"] is False
    assert table.read_bytes() == before


def test_an_unreadable_or_foreign_table_is_ignored(tmp_path: Path) -> None:
    table = tmp_path / "generated-code.marshal"
    for content in (b"\x00garbage", marshal.dumps(("another interpreter", {})), b""):
        table.write_bytes(content)
        run = _run(table)
        assert run["loaded"] == 0
        assert run["facts"] == _plain_facts()
    assert run["saved"] is True  # replaced by a good one


def test_nothing_is_written_where_bytecode_would_not_be(tmp_path: Path) -> None:
    table = tmp_path / "generated-code.marshal"
    run = _run(table, no_bytecode=True)
    assert run["saved"] is False
    assert not table.exists()


def test_a_table_that_cannot_be_written_is_left_alone(tmp_path: Path) -> None:
    """A package directory the user cannot write (a system install): no table, no error."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    run = _run(blocker / "generated-code.marshal")
    assert run["saved"] is False
    assert run["facts"] == _plain_facts()


def test_typing_still_rejects_a_bad_annotation() -> None:
    """A string that does not compile raises typing's own SyntaxError, cache or not."""
    code = (
        "import typing, tempfile, os\n"
        "from hlmon import codegen_cache\n"
        "codegen_cache.install(os.path.join(tempfile.mkdtemp(), 'table'))\n"
        "try:\n"
        "    typing.ForwardRef('1 +')\n"
        "except SyntaxError as exc:\n"
        "    print(exc)\n"
    )
    assert python_stdout(code).strip() == "Forward reference must be an expression -- got '1 +'"


def test_only_the_entry_point_installs_it() -> None:
    """Library use (``hlmon.cli`` imported, as the tests do) compiles as usual."""
    covered = "(dataclasses, 'exec'), (typing, 'compile'), (collections, 'eval')"
    patched = (
        f"[getattr(m, n, None) not in (None, getattr(builtins, n)) for m, n in ({covered})]"
        " + [re._compiler.compile.__module__ != 're._compiler']"
    )
    code = (
        "import builtins, collections, dataclasses, re, typing, hlmon.cli\n"
        f"print({patched}, end=' ')\n"
        "import hlmon.__main__\n"
        f"print({patched})"
    )
    assert python_stdout(code).strip() == "[False, False, False, False] [True, True, True, True]"


def test_release_saves_the_table_and_lets_go(tmp_path: Path) -> None:
    """After start-up the modules compile as usual again and the table's memory is let go;
    what start-up compiled is saved for the next launch."""
    table = tmp_path / "generated-code.marshal"
    code = (
        "import builtins, dataclasses, sys\n"
        "sys.dont_write_bytecode = False\n"
        "from hlmon import codegen_cache\n"
        f"codegen_cache.install({str(table)!r})\n"
        "@dataclasses.dataclass\n"
        "class A:\n"
        "    x: int\n"
        "for i in range(8):\n"  # enough new sources to be saved (MIN_NEW)
        "    dataclasses.make_dataclass(f'C{i}', [(f'f{i}', int)])\n"
        "codegen_cache.release()\n"
        "@dataclasses.dataclass\n"
        "class B:\n"
        "    y: int = 2\n"
        "print(codegen_cache.installed(), hasattr(dataclasses, 'exec'), codegen_cache.stats(),"
        " codegen_cache.save(), repr(A(1)), repr(B()))"
    )
    out = python_stdout(code).strip()
    assert out == "False False (0, 0) False A(x=1) B(y=2)"
    assert table.exists()  # saved by release, once


async def test_the_tui_releases_the_table_after_its_first_paint(tmp_path: Path) -> None:
    clock = FakeClock()
    app = build_app(FakeRuntime(settings(), populated_store(clock), clock))
    codegen_cache.install(str(tmp_path / "table"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot_wait(pilot, lambda: not codegen_cache.installed())
            assert app.dashboard.header.text_lines  # painted
    finally:
        codegen_cache.release()
    assert getattr(dataclasses, "exec", builtins.exec) is builtins.exec


def test_an_unwritable_package_keeps_its_table_in_the_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A system-wide install run by a user: the package's ``__pycache__`` cannot be written,
    so the table goes to the user's cache directory, named for the installation, and a
    launch writes it there."""
    monkeypatch.setenv("HLMON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(codegen_cache, "_writable", lambda directory: True)
    beside = Path(codegen_cache.cache_file())
    assert beside.parent == Path(codegen_cache.__file__).resolve().parent / "__pycache__"
    monkeypatch.setattr(codegen_cache, "_writable", lambda directory: False)
    moved = Path(codegen_cache.cache_file())
    assert moved.name == beside.name and moved.parent.parent == tmp_path / "generated-code"
    assert not moved.exists()
    result = _run(moved)
    assert result["saved"] is True and moved.exists()


def test_a_table_others_can_write_is_not_run(tmp_path: Path) -> None:
    """Its code objects run as this user: a table in a shared directory that anyone may
    rewrite is ignored (and written again, with the usual permissions)."""
    path = tmp_path / "table.marshal"
    assert _run(path)["saved"] is True
    path.chmod(0o666)
    again = _run(path)
    assert again["loaded"] == 0 and again["compiled"] != 0 and again["saved"] is True
    assert path.stat().st_mode & 0o022 == 0  # rewritten as the user's own
    assert _run(path)["loaded"] != 0


def test_writable_means_writable_or_creatable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert codegen_cache._writable(str(tmp_path))
    assert codegen_cache._writable(str(tmp_path / "not" / "yet"))  # made on the first save
    monkeypatch.chdir(tmp_path)
    assert codegen_cache._writable("relative/prefix")  # PYTHONPYCACHEPREFIX=relative
    (tmp_path / "a-file").write_text("")
    assert not codegen_cache._writable(str(tmp_path / "a-file" / "__pycache__"))
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert not codegen_cache._writable(str(locked / "__pycache__"))
