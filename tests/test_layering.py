"""The bottom layer stays pure: ``ids`` and ``model`` import no I/O and nothing of the project.

Allowed for both: the standard library (minus I/O and concurrency modules), attrs and
:mod:`efa_core.errors`; ``model`` may also import :mod:`efa_core.ids`.  Checked twice: on the
source (every ``import`` statement, including ones inside functions) and by importing the
modules in a fresh interpreter without the package ``__init__`` and looking at what got
loaded (catches imports that happen inside third-party code).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "efa_core"

#: module -> the project modules it may import
ALLOWED_PROJECT_IMPORTS = {
    "ids": {"efa_core.errors"},
    "model": {"efa_core.errors", "efa_core.ids"},
}

ALLOWED_THIRD_PARTY = {"attrs", "attr", "typing_extensions"}

#: I/O, networking, concurrency and the project's edge libraries: never in ids/model.
FORBIDDEN = {
    "_socket",
    "_sqlite3",
    "_ssl",
    "anyio",
    "asyncio",
    "cattr",
    "cattrs",
    "click",
    "ftplib",
    "http",
    "httpcore",
    "httpx",
    "logging",
    "multiprocessing",
    "orjson",
    "pluggy",
    "psycopg",
    "rich",
    "select",
    "selectors",
    "shutil",
    "smtplib",
    "sniffio",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "stamina",
    "subprocess",
    "tempfile",
    "urllib",
}


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement in *path* (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = "efa_core" if node.level == 1 else ""
                module = f"{base}.{node.module}" if node.module else base
                if node.module is None:
                    found.update(f"{base}.{alias.name}" for alias in node.names)
                    continue
                found.add(module)
            else:
                assert node.module is not None
                found.add(node.module)
    return found


@pytest.mark.parametrize("name", sorted(ALLOWED_PROJECT_IMPORTS))
def test_source_imports_only_pure_modules(name: str) -> None:
    path = PACKAGE / f"{name}.py"
    if not path.exists():
        pytest.fail(f"{path} is missing")
    stdlib = set(sys.stdlib_module_names)
    bad = []
    for module in sorted(_imports(path)):
        top = module.split(".")[0]
        if top == "efa_core":
            if module not in ALLOWED_PROJECT_IMPORTS[name]:
                bad.append(f"{module} (project module not allowed here)")
        elif top in FORBIDDEN or module in FORBIDDEN:
            bad.append(f"{module} (I/O or edge library)")
        elif top not in stdlib and top not in ALLOWED_THIRD_PARTY and top != "__future__":
            bad.append(f"{module} (third-party library not allowed here)")
    assert bad == [], f"efa_core.{name} imports: {', '.join(bad)}"


_PROBE = """
import json, sys, types
pkg = types.ModuleType("efa_core")
pkg.__path__ = [sys.argv[1]]
sys.modules["efa_core"] = pkg          # skip efa_core/__init__.py (it may load plugins)
import attrs                           # allowed; on Python 3.10 it loads platform/subprocess
before = set(sys.modules)
import efa_core.{name}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize("name", sorted(ALLOWED_PROJECT_IMPORTS))
def test_importing_loads_no_io_library(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("{name}", name), str(PACKAGE)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout)
    project = {m for m in loaded if m.startswith("efa_core.")}
    assert project <= ALLOWED_PROJECT_IMPORTS[name] | {f"efa_core.{name}"}
    io = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert io == [], f"importing efa_core.{name} loaded {', '.join(io)}"


def test_the_probe_detects_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("import sqlite3\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("{name}", "model"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "sqlite3" in json.loads(result.stdout)
