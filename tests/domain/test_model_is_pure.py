"""domain/model holds rules only: importing it opens no file, database, terminal or PDF library.

Storage, the command line and documents are adapters around the model (SPEC §2); if one of
these tests fails, move the I/O-bound part to domain/adapters (or the caller) instead of
loosening the lists below.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "domain" / "model"

# Modules whose presence after importing the model means I/O (or a whole adapter) came along.
NEVER_LOADED = ("sqlite3", "psycopg", "eventsourcing.persistence", "eventsourcing.sqlite",
                "eventsourcing.postgres", "eventsourcing.application", "click", "weasyprint",
                "pyhanko", "platformdirs", "shutil", "tempfile")
# Modules the model's source may not import at all (even lazily, inside a function).
NEVER_IMPORTED = ("os", "sys", "io", "pathlib", "shutil", "tempfile", "glob", "subprocess",
                  "socket", "sqlite3", "psycopg", "eventsourcing.persistence",
                  "eventsourcing.sqlite", "eventsourcing.postgres", "eventsourcing.application",
                  "click", "weasyprint", "pyhanko", "platformdirs", "projections", "cli",
                  "documents", "domain.adapters", "domain.services")
# Calls that read or write outside the process.
NEVER_CALLED = ("open", "print", "input")


def _model_modules() -> list[str]:
    return sorted(f"domain.model.{path.stem}" if path.stem != "__init__" else "domain.model"
                  for path in MODEL.glob("*.py"))


def test_importing_every_model_module_loads_no_io_library():
    modules = _model_modules()
    probe = (f"import sys, json\nimport {', '.join(modules)}\n"
             f"print(json.dumps(sorted(m for m in {list(NEVER_LOADED)!r} if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=True)
    assert json.loads(done.stdout) == []


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_no_model_module_imports_or_calls_anything_that_does_io():
    found = []
    for path in sorted(MODEL.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for line, module in _imports(tree):
            if any(module == bad or module.startswith(f"{bad}.") for bad in NEVER_IMPORTED):
                found.append(f"{path.name}:{line} imports {module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in NEVER_CALLED:
                found.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr in ("read_text", "read_bytes",
                                                                 "write_text", "write_bytes"):
                found.append(f"{path.name}:{node.lineno} uses .{node.attr}")
    assert not found, found


def test_the_probe_sees_every_model_module():
    """A module added to domain/model is checked without editing this file."""
    modules = _model_modules()
    assert "domain.model.relationship" in modules and "domain.model.chain" in modules
    assert len(modules) == len(list(MODEL.glob("*.py")))
