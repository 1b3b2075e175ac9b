"""Tests of efa_core.hookspecs: naming, typing, documentation, options and cheap import."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Callable

import pluggy
import pytest

import efa_core
from efa_core import hookspecs

HOOKS = sorted(
    name
    for name, function in vars(hookspecs).items()
    if callable(function) and hasattr(function, "efa_core_spec")
)

EXPECTED = {
    "efa_register_connectors": ["register"],
    "efa_register_finding_rules": ["register"],
    "efa_register_cost_strategies": ["register"],
    "efa_register_identity_matchers": ["register"],
    "efa_register_responsibility_writers": ["register"],
    "efa_configure": ["config"],
    "efa_on_changes": ["source", "run_id", "changes"],
    "efa_on_sync_finished": ["source", "run_id", "status", "counts", "error"],
}


def test_hooks_are_exactly_the_contract() -> None:
    assert {
        name: list(inspect.signature(getattr(hookspecs, name)).parameters) for name in HOOKS
    } == (EXPECTED)


def test_all_lists_every_hook_and_public_name() -> None:
    assert set(HOOKS) <= set(hookspecs.__all__)
    for name in hookspecs.__all__:
        assert hasattr(hookspecs, name), name
    public = {n for n in vars(hookspecs) if not n.startswith(("_", "@"))}  # "@": pytest
    imported = {"annotations", "Any", "Awaitable", "Callable", "Final", "Mapping", "Protocol"}
    imported |= {"Sequence", "TYPE_CHECKING", "TypeVar", "cast", "overload", "pluggy"}
    assert public - imported == set(hookspecs.__all__)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_specs_are_typed(hook: str) -> None:
    function = getattr(hookspecs, hook)
    hints = typing.get_type_hints(function, globalns=_type_namespace())
    assert set(hints) == {*EXPECTED[hook], "return"}


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_specs_document_arguments_return_and_awaitables(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    for argument in EXPECTED[hook]:
        assert f":param {argument}:" in doc, f"{hook} does not document {argument}"
    assert ":returns:" in doc
    assert "awaitable" in doc.lower(), f"{hook} does not say whether awaitables are allowed"
    assert "Implemented by:" in doc


def test_hook_options() -> None:
    for hook in HOOKS:
        options = getattr(hookspecs, hook).efa_core_spec
        assert options["historic"] is (hook == "efa_configure"), hook
        assert options["firstresult"] is False, hook


def test_hookimpl_is_the_efa_core_marker_and_keeps_the_function() -> None:
    assert efa_core.hookimpl is hookspecs.hookimpl
    assert "hookimpl" in efa_core.__all__

    def efa_on_changes(source: str) -> None:
        pass

    assert hookspecs.hookimpl(efa_on_changes) is efa_on_changes
    decorated = hookspecs.hookimpl(tryfirst=True)(efa_on_changes)
    assert decorated is efa_on_changes
    assert efa_on_changes.efa_core_impl["tryfirst"] is True  # type: ignore[attr-defined]
    assert isinstance(hookspecs.hookspec, pluggy.HookspecMarker)
    assert hookspecs.hookspec.project_name == hookspecs.PROJECT_NAME == "efa_core"
    assert hookspecs.ENTRY_POINT_GROUP == "efa_core"


def test_a_plugin_needs_only_hookimpl() -> None:
    class Plugin:
        @efa_core.hookimpl
        def efa_on_sync_finished(self, source: str, status: str) -> str:
            return f"{source}:{status}"

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(Plugin())
    pm.check_pending()
    assert pm.hook.efa_on_sync_finished(
        source="pvog", run_id="r", status="succeeded", counts={}, error=None
    ) == ["pvog:succeeded"]


def test_importing_hookspecs_is_cheap() -> None:
    code = (
        "import sys, efa_core.hookspecs; "
        "print(sorted(m for m in sys.modules if m.startswith('efa_core')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['efa_core', 'efa_core.hookspecs']"


def _type_namespace() -> dict[str, object]:
    """Names the specs annotate with under TYPE_CHECKING only."""
    from efa_core.config import EfaConfig
    from efa_core.connectors import Change, Connector

    namespace: dict[str, object] = dict(vars(hookspecs))
    namespace.update(EfaConfig=EfaConfig, Change=Change, Connector=Connector, Callable=Callable)
    return namespace
