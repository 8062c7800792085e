"""The private library names tratos relies on: the versions they were read in, and that they exist.

`domain/adapters/library_internals.py` holds every use of a private eventsourcing or pydantic
name. These tests fail when another version of either library is installed (re-read the
functions there against it, then update `WRITTEN_FOR`), when a private name it uses is gone,
and when a private library name is used anywhere else.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sqlite3
from importlib.metadata import version
from pathlib import Path

import pytest

from domain.adapters import library_internals
from domain.adapters.library_internals import PRIVATE_NAMES, WRITTEN_FOR
from domain.adapters.storage import SQLITE_SYNCHRONOUS, STATEMENT_CACHE, reopen_durably

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "cli", "documents")
HOME = ROOT / "domain" / "adapters" / "library_internals.py"
LIBRARIES = ("eventsourcing", "pydantic")


@pytest.mark.parametrize("library", sorted(WRITTEN_FOR))
def test_the_installed_library_is_the_version_its_internals_were_read_in(library):
    assert version(library) == WRITTEN_FOR[library], (
        f"{library} {version(library)} is installed, but domain/adapters/library_internals.py was"
        f" written for {WRITTEN_FOR[library]}: re-read each function there against the new version,"
        " then update WRITTEN_FOR")


def _instance(cls):
    """An instance to look for attributes set in `__init__` (no connection is opened)."""
    if cls.__name__ == "SQLiteConnectionPool":
        return cls(db_name=":memory:")
    if cls.__name__ == "SQLiteDatastore":
        return cls(":memory:")
    return None


@pytest.mark.parametrize(("module", "owner", "name"), PRIVATE_NAMES,
                         ids=[f"{o or m}.{n}" for m, o, n in PRIVATE_NAMES])
def test_every_private_name_relied_on_still_exists(module, owner, name):
    found = importlib.import_module(module)
    if owner is not None:
        found = getattr(found, owner)
        if not hasattr(found, name):
            found = _instance(found)
    assert found is not None and hasattr(found, name), f"{module}.{owner}.{name} is gone"


def test_pydantic_still_asks_its_loader_for_plugins_by_that_name():
    """The stand-in replaces the module pydantic imports, with the function it calls, as it calls it."""
    from pydantic.plugin import _schema_validator

    source = inspect.getsource(_schema_validator)
    assert "from ._loader import get_plugins" in source
    assert "get_plugins()" in source
    loader = importlib.import_module(library_internals.PYDANTIC_PLUGIN_LOADER)
    assert not inspect.signature(loader.get_plugins).parameters


def test_the_copied_connection_opening_still_matches_the_library(tmp_path):
    """The pool's `_create_connection` copies the library's: same pragmas, same row factory, same
    WAL switch; ours adds the cache and the synchronous level."""
    from eventsourcing.sqlite import SQLiteConnectionPool, SQLiteDatastore

    theirs = inspect.getsource(SQLiteConnectionPool._create_connection)
    for piece in ("uri=True", "check_same_thread=False", "isolation_level=None",
                  "cached_statements=True", "PRAGMA journal_mode=WAL", "sqlite3.Row",
                  "SQLiteConnection(sqlite_conn=c, max_age=self.max_age)"):
        assert piece in theirs, piece
    datastore = SQLiteDatastore(str(tmp_path / "store.sqlite"))
    reopen_durably(datastore)
    try:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == {"FULL": 2, "NORMAL": 1}[SQLITE_SYNCHRONOUS]
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("SELECT 1 AS one")
            assert isinstance(cursor.fetchone(), sqlite3.Row)
        assert datastore.pool.statement_cache == STATEMENT_CACHE
    finally:
        datastore.close()


# ------------------------------------------------------- nowhere else

def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _own_names(trees) -> set[str]:
    """Every name tratos defines itself: functions, classes, parameters, assigned names and
    attributes, imported aliases."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return names


def test_no_private_library_name_is_used_outside_library_internals():
    """A `._name` tratos does not define is a library's: it belongs in library_internals."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in _sources()}
    own = _own_names(trees.values())
    found = []
    for path, tree in trees.items():
        if path == HOME:
            continue
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute):
                name = node.attr
                if name.startswith("_") and not name.startswith("__") and name not in own:
                    found.append(f"{where} .{name}")
                if name == "pool" and isinstance(node.ctx, ast.Store):
                    found.append(f"{where} .pool swapped")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith(LIBRARIES) and "._" in node.value:
                    found.append(f"{where} {node.value!r}")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(LIBRARIES):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if "._" in (node.module or "") or private:
                    found.append(f"{where} from {node.module} import {private}")
    assert not found, found


def _modules():
    for package in PACKAGES:
        yield package
        for info in pkgutil.walk_packages([str(ROOT / package)], f"{package}."):
            yield info.name


def test_no_class_of_ours_overrides_a_private_library_method_outside_library_internals():
    """Overriding a library's private method (as the SQLite pool's `_create_connection` is) is
    relying on it too."""
    found = []
    for name in _modules():
        if name == library_internals.__name__:
            continue
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != name:
                continue
            library_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith(LIBRARIES)]
            for attribute, value in vars(cls).items():
                written = inspect.isfunction(value) or isinstance(value, property | classmethod | staticmethod)
                if written and attribute.startswith("_") and not attribute.startswith("__") and any(
                        attribute in vars(base) for base in library_bases):
                    found.append(f"{name}.{cls.__name__}.{attribute}")
    assert not found, found
