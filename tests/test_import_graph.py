"""The import graph of ``src/efa_core``: no cycles, and imports point downwards only.

Every ``import`` statement counts: at module level, inside functions (deferred imports are
still dependencies) and under ``if TYPE_CHECKING:`` (an annotation that names an upper
layer ties the lower module to it just the same; the circle ``config`` → ``plugins`` →
``hookspecs`` → ``config`` of issue 13 was made of such imports).

The layers, from the bottom (a module may import its own layer and the ones below):

=====  ==================================================================================
rank   modules
=====  ==================================================================================
0      ``errors``, ``secret``: exceptions and the secret string type, imported everywhere
1      ``ids``, ``model``: value objects (see tests/test_layering.py for their purity)
2      ``serialization``, ``i18n`` (the message catalogue: names of stages and states)
3      ``connectors`` (the contract), ``config`` (``efa.toml``)
4      ``hookspecs``, ``plugins``
5      ``http``, ``default_plugins`` (bundled plugin implementations)
6      ``store``
7      ``sync``
8      ``rollout``, ``areas``
9      ``report``, ``cli``, ``testing`` (the kit for plugin authors), ``examples``,
       ``templates``
=====  ==================================================================================

COMMON.md names ``connectors`` beside ``http`` above ``plugins``; the connector *contract*
(:mod:`efa_core.connectors`) sits below the registry here because the hooks register
connector classes, so :mod:`efa_core.hookspecs` and :mod:`efa_core.plugins` must name it.
The connector *implementations* (``http``'s base class, the bundled plugins) sit above.

The package root ``efa_core`` (``__version__`` and ``hookimpl``) is loaded before any of its
modules anyway, so every module may import it; the root itself may import ``hookspecs`` only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "efa_core"

LAYERS: dict[str, int] = {
    "errors": 0,
    "secret": 0,
    "ids": 1,
    "model": 1,
    "serialization": 2,
    "i18n": 2,
    "connectors": 3,
    "config": 3,
    "tabular": 3,
    "hookspecs": 4,
    "plugins": 4,
    "http": 5,
    "default_plugins": 5,
    "store": 6,
    "sync": 7,
    "rollout": 8,
    "areas": 8,
    "report": 9,
    "cli": 9,
    "testing": 9,
    "examples": 9,
    "templates": 9,
}

ROOT_MAY_IMPORT = {"efa_core.hookspecs"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``src/efa_core/store/_store.py`` -> ``efa_core.store._store``."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Yield ``(imported project module, line)`` for every import statement in *path*.

    ``from pkg import sub`` names the submodule when ``pkg.sub`` is a module of the project.
    """
    root = name.split(".")[0]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == root:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != root:
                continue
            submodules = [
                f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules
            ]
            if submodules:
                for sub in submodules:
                    yield sub, node.lineno
                if len(submodules) == len(node.names):
                    continue
            yield target, node.lineno


def graph(package: Path = PACKAGE, *, root_edges: bool = True) -> dict[str, dict[str, int]]:
    """``module -> {imported module: first line}`` over the project's modules.

    :param root_edges: keep imports of the package root (``from efa_core import
        __version__``); the cycle check leaves them out, since the root is loaded first.
    """
    modules = project_modules(package)
    edges: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        found: dict[str, int] = {}
        for target, line in imports_of(name, path, modules):
            # ``import efa_core.store.types`` names the module; a missing name (a typo)
            # is the interpreter's problem, not a layering one.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name and (root_edges or "." in target):
                found.setdefault(target, line)
        edges[name] = found
    return edges


def layer(module: str) -> int | None:
    """The rank of *module*, ``None`` for the package root."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return LAYERS[parts[1]]


def upward_imports(edges: dict[str, dict[str, int]]) -> list[str]:
    """Describe every import that points to a higher layer."""
    bad = []
    for module, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            if layer(module) is None:
                if target not in ROOT_MAY_IMPORT:
                    bad.append(
                        f"{module}:{line} imports {target} (the root imports hookspecs only)"
                    )
                continue
            target_layer = layer(target)
            if target_layer is not None and target_layer > (layer(module) or 0):
                bad.append(
                    f"{module}:{line} imports {target} (layer {target_layer} above "
                    f"{module}'s layer {layer(module)})"
                )
    return bad


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected set of modules larger than one, each as a cycle path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph has ~100 nodes
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(_cycle_path(sorted(component), edges))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _cycle_path(component: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """One cycle through the component's first module, for the message."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        following = sorted(t for t in edges[node] if t in members)
        if start in following and len(path) > 1:
            return [*path, start]
        step = next((t for t in following if t not in seen), None)
        if step is None:
            return [*path, start]
        path.append(step)
        seen.add(step)
        node = step


# -- the checks -------------------------------------------------------------------------------


def test_every_subpackage_has_a_layer() -> None:
    tops = {name.split(".")[1] for name in project_modules() if "." in name}
    assert tops - set(LAYERS) == set(), "give new modules a layer in LAYERS"


def test_no_import_points_upwards() -> None:
    assert upward_imports(graph()) == []


def test_no_import_cycle() -> None:
    found = cycles(graph(root_edges=False))
    assert found == [], "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_config_does_not_need_the_registry() -> None:
    # Issue 13 §5: reading efa.toml must not need the plugin registry (or the hooks).
    reachable = _reachable("efa_core.config", graph(root_edges=False))
    assert {"efa_core.plugins", "efa_core.hookspecs"} & reachable == set()


def test_what_the_root_loads_never_imports_the_root() -> None:
    # The root is half-initialised while it imports hookspecs: a module it loads that
    # imports the root back would see a package without ``__version__``.
    edges = graph()
    loaded = _reachable("efa_core", edges)
    assert sorted(m for m in loaded if "efa_core" in edges.get(m, {})) == []


def _reachable(start: str, edges: dict[str, dict[str, int]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        for target in edges.get(node, {}):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


# -- the checker finds what it should ------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "efa_core"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_checker_finds_a_cycle_made_of_type_checking_imports(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "config.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from efa_core.plugins import PluginRegistry\n",
            "plugins.py": "from efa_core import hookspecs\n",
            "hookspecs.py": "def f():\n    from efa_core.config import EfaConfig\n",
        },
    )
    found = cycles(graph(package))
    assert found == [
        ["efa_core.config", "efa_core.plugins", "efa_core.hookspecs", "efa_core.config"]
    ]


def test_the_checker_finds_an_upward_import(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "store/__init__.py": "",
            "store/_backend.py": "from ..sync import SyncEngine\n",
            "sync.py": "from efa_core.store import _backend\n",
        },
    )
    edges = graph(package)
    assert edges["efa_core.sync"] == {"efa_core.store._backend": 1}
    assert upward_imports(edges) == [
        "efa_core.store._backend:1 imports efa_core.sync (layer 7 above efa_core.store._backend's"
        " layer 6)"
    ]
    assert [c[0] for c in cycles(edges)] == ["efa_core.store._backend"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import efa_core.store.types\n", {"efa_core.store.types"}),
        (
            "from efa_core.store import types, open_store\n",
            {"efa_core.store.types", "efa_core.store"},
        ),
        ("from . import types\n", {"efa_core.store.types"}),
        ("from .. import ids\n", {"efa_core.ids"}),
        ("from efa_core import __version__\n", {"efa_core"}),
    ],
)
def test_import_forms(tmp_path: Path, source: str, expected: set[str]) -> None:
    package = _package(
        tmp_path,
        {"store/__init__.py": "", "store/types.py": "", "store/x.py": source, "ids.py": ""},
    )
    assert set(graph(package)["efa_core.store.x"]) == expected


def test_core_never_imports_a_plugin() -> None:
    # Issue 13 §5: a plugin's whole world (its fake server too) sits in its own folder; the
    # core knows plugins only through entry points and the registry.
    plugins = {p.name.replace("-", "_") for p in (PACKAGE.parents[1] / "plugins").iterdir()}
    found = []
    for name, path in project_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                targets = [node.module or ""]
            else:
                continue
            found += [
                f"{name}:{node.lineno} imports {t}" for t in targets if t.split(".")[0] in plugins
            ]
    assert "efa_dashboard" in plugins
    assert found == []
