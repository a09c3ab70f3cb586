"""Code generated at import time, compiled once and kept between launches (as bytecode is).

``@dataclass`` writes the source of each class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and ``__setattr__``/``__delattr__`` when frozen) and compiles it every time the
class is created, i.e. at every import; ``typing`` compiles every string annotation of a
``NamedTuple`` or ``TypedDict`` (a ``ForwardRef``), ``namedtuple`` its ``__new__``, and ``re``
parses every module-level pattern and generates its matcher's code in pure Python. A TUI start
does this for some 1,700 sources (hlmon's classes, Textual's, h11's, the patterns of Textual's
CSS tokenizer, httpx, aiohttp...): ~75 ms of CPU on a small Xeon before the first data.
``install`` gives those modules a ``compile`` (or ``exec``/``eval``) that looks the source up in
a table (code objects; for a pattern, the arguments of ``_sre.compile``), loaded with
``marshal`` in ~5 ms, and compiles only what the table lacks. When start-up is over
(``release``: the TUI's first paint) or at exit, the table is written back if it lacked
``MIN_NEW`` sources or more. (attrs, aiohttp's classes, is left alone: the ``__hash__`` it writes
holds a number that changes at every launch, so its sources never repeat.)

The same text compiled with the same file name, mode and ``__future__`` flags (those of the
module that compiles it, as the builtin inherits them) is the same code, and a pattern gets the
very arguments ``re`` would have given ``_sre.compile``, so everything is built exactly as
before. The table lives where the package's bytecode does (``hlmon/__pycache__``, or under
``sys.pycache_prefix``), one file per interpreter, or in the user's cache directory when that
one cannot be written, and is written under the same rule as bytecode: never when
``sys.dont_write_bytecode`` (``PYTHONDONTWRITEBYTECODE``) is set.
``python -m hlmon.codegen_cache`` writes it at once for every hlmon module, as ``compileall``
does the bytecode. A table that cannot be read is ignored, never trusted.

Only the ``hlmon`` entry point installs it: library use (the tests) compiles as usual.
"""

from __future__ import annotations
import __future__

import _sre
import atexit
import builtins
import collections
import contextlib
import dataclasses
import marshal
import os
import re._compiler as re_compiler
import sys
import typing
from collections.abc import Callable
from types import CodeType, ModuleType
from typing import Any

HEADER = f"hlmon generated code {sys.version} optimize={sys.flags.optimize}"
"""The file's first item: a table another interpreter wrote is not used."""
MIN_NEW = 16
"""Fewer sources missing than this are not worth rewriting the table (~1 MB) for: a few
libraries build a pattern from a set, whose order (string hashing is seeded per process)
differs at every launch, so ~4 sources miss every time."""
MAX_ENTRIES = 8000
"""Past this many sources (all hlmon's modules need ~2,000), a save keeps only this run's."""

_Key = tuple[Any, ...]
"""Code: (``__future__`` flags, mode, file name, source); a regular expression: ("re", flags,
pattern)."""

_table: dict[_Key, Any] = {}
"""Code objects, and the arguments ``_sre.compile`` takes for a regular expression."""
_used: set[_Key] = set()
_compiled = 0
_path: str | None = None
_covered: list[tuple[ModuleType, str, Callable[..., Any], Any]] = []
"""(module, name, stand-in, the original or None for a builtin shadowed), for ``release``."""


def cache_file() -> str:
    """The table's path: beside hlmon's bytecode, named for the interpreter (like a ``.pyc``).

    Where that directory cannot be written (a system-wide install run by a user, who gets the
    installed bytecode but never a table), in the user's cache directory instead, named for
    the installation too (the table's keys are its modules' paths)."""
    package = os.path.dirname(os.path.abspath(__file__))
    if sys.pycache_prefix:
        directory = os.path.join(sys.pycache_prefix, package.lstrip(os.sep))
    else:
        directory = os.path.join(package, "__pycache__")
    tag = sys.implementation.cache_tag or sys.implementation.name
    name = f"generated-code.{tag}.marshal"
    if _writable(directory):
        return os.path.join(directory, name)
    import zlib

    from hlmon.cache_dir import resolve_cache_dir

    install = f"{zlib.crc32(package.encode()):08x}"
    return os.path.join(resolve_cache_dir(None), "generated-code", install, name)


def _writable(directory: str) -> bool:
    """Whether ``directory`` can be written, or made in its nearest existing parent (a
    relative ``sys.pycache_prefix`` is relative to the working directory)."""
    directory = os.path.abspath(directory)
    while not os.path.isdir(directory):
        if os.path.lexists(directory):
            return False  # a file where the directory should be: it cannot be made
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent
    return os.access(directory, os.W_OK)


def _load(path: str) -> dict[_Key, Any]:
    try:
        with open(path, "rb") as f:
            if not _trusted(os.fstat(f.fileno())):
                return {}
            data = f.read()  # marshal.load(file) reads in small pieces: 5x slower
        header, table = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return table if header == HEADER and isinstance(table, dict) else {}


def _trusted(st: os.stat_result) -> bool:
    """Whether a table may be run: its code objects execute as this user, so it must be this
    user's or root's (as bytecode of an install is), and writable by no one else (a shared
    ``$HLMON_CACHE_DIR``)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no POSIX owners (Windows): the user's own profile directories
        return True
    return st.st_uid in (0, getuid()) and not st.st_mode & 0o022


def _future_flags(module: ModuleType) -> int:
    """The ``__future__`` features ``module`` imports: what the builtin ``compile`` and ``exec``
    inherit when that module calls them."""
    flags = 0
    for value in vars(module).values():
        if isinstance(value, __future__._Feature):
            flags |= value.compiler_flag
    return flags


def _compiler(module: ModuleType) -> Callable[..., Any]:
    """A ``compile`` for ``module``'s own calls: from the table when the call is a plain one."""
    inherited = _future_flags(module)

    def cached_compile(
        source: Any,
        filename: Any,
        mode: str,
        flags: int = 0,
        dont_inherit: bool = False,
        optimize: int = -1,
    ) -> Any:
        global _compiled
        if (
            dont_inherit
            or flags
            or optimize != -1
            or type(source) is not str
            or type(filename) is not str
        ):
            return builtins.compile(
                source, filename, mode, flags | (0 if dont_inherit else inherited), True, optimize
            )
        key = (inherited, mode, filename, source)
        code = _table.get(key)
        if type(code) is not CodeType:
            # The builtin raises as it would have (typing turns a SyntaxError into its own).
            code = _table[key] = builtins.compile(source, filename, mode, inherited, True)
            _compiled += 1
        _used.add(key)
        return code

    return cached_compile


def _runner(module: ModuleType, run: Callable[..., Any], mode: str) -> Callable[..., Any]:
    """``exec`` or ``eval`` (``run``) for ``module``'s own calls: source strings compile
    through the table (as the builtin would, file name ``<string>``)."""
    cached_compile = _compiler(module)

    def cached_run(source: Any, globals: Any = None, locals: Any = None, /) -> Any:
        if type(source) is str:
            source = cached_compile(source, "<string>", mode)
        return run(source, vars(module) if globals is None else globals, locals)

    return cached_run


def _regex_compiler(original: Callable[..., Any]) -> Callable[..., Any]:
    """``re._compiler.compile`` from the table: a pattern's parse and code generation (pure
    Python, ~25 ms for the ~200 patterns Textual, aiohttp, httpx... compile at import) are done
    once; ``_sre.compile`` then gets exactly the arguments ``original`` would give it."""

    def cached_compile(p: Any, flags: int = 0) -> Any:
        global _compiled
        if type(p) not in (str, bytes) or flags & re_compiler.SRE_FLAG_DEBUG:
            return original(p, flags)  # a parsed pattern (re.Scanner), or debug output
        key = ("re", int(flags), p)
        args = _table.get(key)
        if type(args) is tuple:
            _used.add(key)
            return _sre.compile(*args)
        try:
            args = _sre_arguments(p, flags)
            pattern = _sre.compile(*args)
        except Exception:  # a bad pattern, or internals that changed: as usual (it raises)
            return original(p, flags)
        _table[key] = args
        _used.add(key)
        _compiled += 1
        return pattern

    return cached_compile


def _sre_arguments(pattern: str | bytes, flags: int) -> tuple[Any, ...]:
    """What ``re._compiler.compile(pattern, flags)`` passes to ``_sre.compile`` (its own
    steps)."""
    parsed = re_compiler._parser.parse(pattern, flags)
    code = [int(op) for op in re_compiler._code(parsed, flags)]  # opcodes are int subclasses
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    final_flags = int(flags | parsed.state.flags)
    return (pattern, final_flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup))


def install(path: str | None = None) -> None:
    """Load the table (``cache_file()`` by default) and give ``dataclasses``, ``typing`` and
    ``collections`` (``namedtuple``) their table-backed ``exec``/``compile``/``eval`` (a module
    global shadows the builtin), ``re`` its table-backed pattern compiler; the table is saved at
    exit. Installing twice does nothing."""
    global _path
    if _path is not None:
        return
    _path = path or cache_file()
    _table.update(_load(_path))
    for module, name, stand_in in (
        (dataclasses, "exec", _runner(dataclasses, builtins.exec, "exec")),
        (typing, "compile", _compiler(typing)),
        (collections, "eval", _runner(collections, builtins.eval, "eval")),
        (re_compiler, "compile", _regex_compiler(re_compiler.compile)),
    ):
        _covered.append((module, name, stand_in, vars(module).get(name)))
        setattr(module, name, stand_in)
    atexit.register(save)


def release() -> None:
    """Start-up is over (the TUI's first paint; nothing compiles through the table after it):
    save the table if it grew, give its memory back (~2 MB) and let those modules compile as
    usual again (a screen opened later compiles its few classes itself)."""
    global _path
    if _path is None:
        return
    save()
    atexit.unregister(save)
    for module, name, stand_in, original in _covered:
        if vars(module).get(name) is stand_in:
            if original is None:
                delattr(module, name)
            else:
                setattr(module, name, original)
    _covered.clear()
    _table.clear()
    _used.clear()
    _path = None


def save() -> bool:
    """Write the table if this run compiled ``MIN_NEW`` sources or more that it lacked (and
    bytecode may be written)."""
    global _compiled
    if _path is None or _compiled < MIN_NEW or sys.dont_write_bytecode:
        return False
    table = _table if len(_table) <= MAX_ENTRIES else {key: _table[key] for key in _used}
    temporary = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        with open(temporary, "wb") as f:  # first: where it cannot be written, fail at once
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o644)  # whatever the umask: ``_trusted`` reads it
            f.write(marshal.dumps((HEADER, table)))
        os.replace(temporary, _path)  # atomic: another launch reads the old table or this one
    except (OSError, ValueError):  # ValueError: something marshal cannot write (a bug: skip)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    _compiled = 0
    return True


def installed() -> bool:
    """Whether ``install`` is in effect (and ``release`` has not ended it)."""
    return _path is not None


def stats() -> tuple[int, int]:
    """(sources in the table, sources this process compiled because the table lacked them)."""
    return len(_table), _compiled


def prime() -> str:
    """Import every hlmon module with the table installed and write it (even when
    ``PYTHONDONTWRITEBYTECODE`` is set: asking for it is the point). Returns the path."""
    import importlib
    import pkgutil

    import hlmon

    install()
    for module in pkgutil.walk_packages(hlmon.__path__, "hlmon."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    sys.dont_write_bytecode = False
    save()
    assert _path is not None
    return _path


if __name__ == "__main__":
    print(prime())
