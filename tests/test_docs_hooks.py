"""The hook reference (docs/plugins/hooks.md) and the tests keep up with efa_core.hookspecs."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from efa_core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"
TESTS = ROOT / "tests"


def spec_hooks() -> dict[str, str]:
    """Hook name -> signature as written in the docs, e.g. ``efa_configure(config)``."""
    hooks = {}
    for name, function in vars(hookspecs).items():
        if callable(function) and hasattr(function, f"{hookspecs.PROJECT_NAME}_spec"):
            parameters = ", ".join(inspect.signature(function).parameters)
            hooks[name] = f"{name}({parameters})"
    return hooks


def documented_signatures() -> dict[str, str]:
    """Hook name -> heading text of every heading in hooks.md that looks like a hook."""
    found = {}
    for line in HOOKS_DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#+\s+`?(efa_\w+)(\(.*\))?`?\s*$", line)
        if match:
            found[match.group(1)] = match.group(1) + (match.group(2) or "")
    return found


def test_the_spec_module_has_hooks() -> None:
    assert "efa_register_connectors" in spec_hooks()
    assert spec_hooks()["efa_configure"] == "efa_configure(config)"


@pytest.mark.parametrize("hook", sorted(spec_hooks()))
def test_plugin_hooks_are_documented(hook: str) -> None:
    documented = documented_signatures()
    assert hook in documented, f"{hook} has no heading in {HOOKS_DOC.relative_to(ROOT)}"
    assert documented[hook] == spec_hooks()[hook], (
        f"the heading of {hook} in {HOOKS_DOC.relative_to(ROOT)} is {documented[hook]!r}, "
        f"the hook's signature is {spec_hooks()[hook]!r}"
    )


def test_documented_hooks_exist() -> None:
    stale = set(documented_signatures()) - set(spec_hooks())
    assert not stale, f"{HOOKS_DOC.relative_to(ROOT)} documents unknown hooks: {sorted(stale)}"


def defined_test_functions() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
    return names


@pytest.mark.parametrize("hook", sorted(spec_hooks()))
def test_plugin_hooks_have_tests(hook: str) -> None:
    assert f"test_hook_{hook}" in defined_test_functions(), (
        f"no test named test_hook_{hook} in {TESTS.relative_to(ROOT)}"
    )
