"""Tests of efa_core.plugins: loading, isolation, errors, collections, notifications, CLI."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from efa_core import hookimpl
from efa_core.connectors import Capability, Connector
from efa_core.errors import PluginError
from efa_core.plugins import (
    DEFAULT_PLUGINS,
    PluginInfo,
    PluginLoadWarning,
    PluginNotificationWarning,
    PluginRegistry,
)

# -- helpers --------------------------------------------------------------------------------


def isolated(**kwargs: Any) -> PluginRegistry:
    """A registry without bundled or installed plugins and with an empty environment."""
    kwargs.setdefault("bundled", ())
    kwargs.setdefault("entrypoints", False)
    kwargs.setdefault("env", {})
    return PluginRegistry(**kwargs)


@attrs.frozen
class _Config:
    pass


async def _push(self: Connector, changes: object) -> Any:
    raise NotImplementedError


def make_connector(type_name: str) -> type[Connector]:
    """A minimal valid connector class registered under *type_name*."""
    namespace = {
        "type_name": type_name,
        "capabilities": frozenset({Capability.PUSH}),
        "config_class": _Config,
        "push_changes": _push,
    }
    return type(f"Connector_{type_name.replace('-', '_')}", (Connector,), namespace)


class ConnectorPlugin:
    """An in-process plugin registering the given connector classes."""

    def __init__(self, *classes: object) -> None:
        self.classes = classes

    @hookimpl
    def efa_register_connectors(self, register: Callable[[Any], None]) -> None:
        for cls in self.classes:
            register(cls)


GOOD_PLUGIN = """
import attrs
from efa_core import hookimpl
from efa_core.connectors import Capability, Connector


@attrs.frozen
class EchoConfig:
    pass


class EchoConnector(Connector):
    type_name = "echo"
    capabilities = frozenset({Capability.PUSH})
    config_class = EchoConfig

    async def push_changes(self, changes):
        raise NotImplementedError


@hookimpl
def efa_register_connectors(register):
    register(EchoConnector)


@hookimpl
def efa_on_sync_finished(source):
    return "good"
"""

BROKEN_IMPORT_PLUGIN = """
raise RuntimeError("boom at import")
"""

UNKNOWN_HOOK_PLUGIN = """
from efa_core import hookimpl


@hookimpl
def efa_no_such_hook(register):
    pass
"""

DEFAULT_ARG_PLUGIN = """
from efa_core import hookimpl


@hookimpl
def efa_on_changes(source, run_id, changes=()):
    pass
"""


MakeDist = Callable[..., Path]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeDist]:
    """Create fake installed distributions that importlib.metadata discovers."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    modules: list[str] = []

    def make(
        dist: str,
        version: str = "1.0",
        *,
        entry_points: dict[str, str],
        modules_source: dict[str, str],
    ) -> Path:
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[efa_core]\n{lines}", encoding="utf-8")
        for module, source in modules_source.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            modules.append(module)
        importlib.invalidate_caches()
        return info

    yield make
    for module in modules:
        sys.modules.pop(module, None)
    importlib.invalidate_caches()


@pytest.fixture
def good(site: MakeDist) -> None:
    site(
        "efa-good",
        "2.0",
        entry_points={"good": "efa_fake_good"},
        modules_source={"efa_fake_good": GOOD_PLUGIN},
    )


@pytest.fixture
def broken(site: MakeDist) -> None:
    site(
        "efa-broken",
        "1.2.3",
        entry_points={"broken": "efa_fake_broken"},
        modules_source={"efa_fake_broken": BROKEN_IMPORT_PLUGIN},
    )


def names(registry: PluginRegistry) -> set[str]:
    return {info.name for info in registry.list_plugins(all=True)}


# -- loading --------------------------------------------------------------------------------


def test_default_plugins_lists_the_records_file_plugin() -> None:
    assert "efa_core.default_plugins.records_file" in DEFAULT_PLUGINS
    assert isinstance(DEFAULT_PLUGINS, tuple)


def test_bundled_default_plugins_are_registered_and_flagged() -> None:
    pytest.importorskip("efa_core.default_plugins.records_file")
    registry = PluginRegistry(entrypoints=False, env={})
    infos = {info.name: info for info in registry.list_plugins(all=True)}
    info = infos["efa_core.default_plugins.records_file"]
    assert info.bundled
    assert info.distribution == "efa-core"
    assert "efa_register_connectors" in info.hooks
    assert "efa_core.default_plugins.records_file" not in names_visible(registry)


def names_visible(registry: PluginRegistry) -> set[str]:
    return {info.name for info in registry.list_plugins()}


def test_loading_is_lazy_and_idempotent(good: None) -> None:
    registry = PluginRegistry(bundled=(), allow={"good"}, env={})
    assert "efa_fake_good" not in sys.modules  # nothing imported by the constructor
    registry.load()
    registry.load()
    assert names(registry) == {"good"}


def test_load_order_bundled_first_then_entry_points(site: MakeDist, good: None) -> None:
    site(
        "efa-bundled-fake",
        entry_points={},
        modules_source={
            "efa_fake_bundled": """
                from efa_core import hookimpl

                @hookimpl
                def efa_on_sync_finished(source):
                    return "bundled"
            """
        },
    )
    registry = PluginRegistry(bundled=("efa_fake_bundled",), allow={"good"}, env={})
    order = [name for name, _ in registry.plugin_manager.list_name_plugin()]
    assert order == ["efa_fake_bundled", "good"]
    # pluggy calls the last registered plugin first
    results = registry.hook.efa_on_sync_finished(
        source="s", run_id="r", status="succeeded", counts={}, error=None
    )
    assert results == ["good", "bundled"]
    infos = {info.name: info for info in registry.list_plugins(all=True)}
    assert infos["efa_fake_bundled"].bundled
    assert not infos["good"].bundled


def test_missing_bundled_plugin_warns_and_the_rest_loads(good: None) -> None:
    registry = PluginRegistry(bundled=("efa_core_no_such_module",), allow={"good"}, env={})
    with pytest.warns(PluginLoadWarning) as record:
        registry.load()
    message = str(record[0].message)
    assert "'efa_core_no_such_module'" in message
    assert "efa-core 0.1.0" in message
    assert "ModuleNotFoundError" in message
    assert names(registry) == {"good"}


def test_registries_are_isolated() -> None:
    first, second = isolated(), isolated()
    first.register(ConnectorPlugin(make_connector("only-first")), name="mine")
    assert set(first.connectors()) == {"only-first"}
    assert second.connectors() == {}
    assert second.get_plugin("mine") is None
    assert names(second) == set()


def test_entry_point_plugin_loads_with_its_distribution(good: None) -> None:
    registry = PluginRegistry(bundled=(), allow={"good"}, env={})
    assert registry.list_plugins() == [
        PluginInfo(
            name="good",
            version="2.0",
            hooks=("efa_on_sync_finished", "efa_register_connectors"),
            bundled=False,
            distribution="efa-good",
            connectors=("echo",),
        )
    ]
    assert registry.connector_class("echo").type_name == "echo"


def test_import_error_warns_naming_distribution_and_others_load(
    good: None, broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    registry = PluginRegistry(bundled=(), allow={"good", "broken"}, env={})
    with pytest.warns(PluginLoadWarning, match=r"'broken' from efa-broken 1\.2\.3") as record:
        registry.load()
    message = str(record[0].message)
    assert "failed to import: RuntimeError: boom at import" in message
    assert "EFA_DISABLED_PLUGINS=broken" in message
    assert names(registry) == {"good"}
    logged = [r for r in caplog.records if r.name == "efa_core.plugins"]
    assert [r.levelno for r in logged] == [logging.WARNING]
    assert "efa-broken 1.2.3" in logged[0].getMessage()


def test_unknown_hook_is_a_registration_error(site: MakeDist, good: None) -> None:
    site(
        "efa-unknown",
        "0.3",
        entry_points={"unknown": "efa_fake_unknown"},
        modules_source={"efa_fake_unknown": UNKNOWN_HOOK_PLUGIN},
    )
    registry = PluginRegistry(bundled=(), allow={"good", "unknown"}, env={})
    with pytest.warns(PluginLoadWarning, match="efa-unknown 0.3 failed to register") as record:
        registry.load()
    assert "efa_no_such_hook" in str(record[0].message)
    assert names(registry) == {"good"}  # rolled back
    assert registry.plugin_manager.get_plugin("unknown") is None


def test_optional_hooks_of_newer_versions_are_accepted() -> None:
    class Future:
        @hookimpl(optionalhook=True)
        def efa_hook_of_the_future(self) -> None:
            pass

    registry = isolated()
    assert registry.register(Future(), name="future") == "future"


def test_argument_missing_from_spec_is_a_registration_error() -> None:
    class Wrong:
        @hookimpl
        def efa_on_changes(self, source: str, nonsense: int) -> None:
            pass

    registry = isolated()
    with pytest.raises(PluginError, match=r"'wrong' could not be registered.*nonsense"):
        registry.register(Wrong(), name="wrong")
    assert registry.get_plugin("wrong") is None


def test_duplicate_entry_point_name_warns(site: MakeDist, good: None) -> None:
    site(
        "efa-good-clone",
        "9.9",
        entry_points={"good": "efa_fake_clone"},
        modules_source={"efa_fake_clone": GOOD_PLUGIN},
    )
    registry = PluginRegistry(bundled=(), allow={"good"}, env={})
    with pytest.warns(PluginLoadWarning, match="already taken") as record:
        registry.load()
    assert "efa-good" in str(record[0].message)
    assert "efa-good-clone" in str(record[0].message)
    assert names(registry) == {"good"}


# -- strict mode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strict", "env"),
    [(True, {}), (None, {"EFA_STRICT_PLUGINS": "1"}), (None, {"EFA_STRICT_PLUGINS": "true"})],
)
def test_strict_mode_raises_on_import_error(
    broken: None, strict: bool | None, env: dict[str, str]
) -> None:
    registry = PluginRegistry(bundled=(), allow={"broken"}, strict=strict, env=env)
    assert registry.strict
    with pytest.raises(PluginError, match=r"'broken' from efa-broken 1\.2\.3 failed to import"):
        registry.load()
    # a half-loaded registry is not usable afterwards either
    with pytest.raises(PluginError, match="boom at import"):
        registry.list_plugins()


def test_strict_flag_overrides_environment(broken: None) -> None:
    registry = PluginRegistry(
        bundled=(), allow={"broken"}, strict=False, env={"EFA_STRICT_PLUGINS": "1"}
    )
    with pytest.warns(PluginLoadWarning):
        registry.load()


def test_strict_mode_raises_on_invalid_connector() -> None:
    registry = isolated(strict=True)
    registry.register(ConnectorPlugin(int), name="ints")
    with pytest.raises(PluginError, match=r"'ints'.*not a subclass of efa_core\.connectors"):
        registry.connectors()


# -- allow and block lists -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "env", "expected"),
    [
        ({"good"}, {}, {"good"}),
        (None, {"EFA_LOAD_PLUGINS": "efa-good"}, {"good"}),  # distribution name
        (None, {"EFA_LOAD_PLUGINS": " good , other "}, {"good", "other"}),
        (None, {"EFA_LOAD_PLUGINS": ""}, set()),
        ({"good", "other"}, {"EFA_LOAD_PLUGINS": "other"}, {"other"}),  # both must allow
    ],
)
def test_allow_lists(
    site: MakeDist,
    good: None,
    broken: None,
    allow: set[str] | None,
    env: dict[str, str],
    expected: set[str],
) -> None:
    site(
        "efa-other",
        entry_points={"other": "efa_fake_other"},
        modules_source={"efa_fake_other": "x = 1\n"},
    )
    # the broken plugin is never in an allow list here, so no warning is expected
    registry = PluginRegistry(bundled=(), allow=allow, env=env)
    assert names(registry) & {"good", "broken", "other"} == expected


def test_empty_load_list_still_loads_bundled_plugins(site: MakeDist, good: None) -> None:
    site("efa-b", entry_points={}, modules_source={"efa_fake_b": "x = 1\n"})
    registry = PluginRegistry(bundled=("efa_fake_b",), env={"EFA_LOAD_PLUGINS": ""})
    assert names(registry) == {"efa_fake_b"}


@pytest.mark.parametrize(
    ("block", "env"),
    [
        ({"broken"}, {}),
        ((), {"EFA_DISABLED_PLUGINS": "broken"}),
        ((), {"EFA_DISABLED_PLUGINS": "efa-broken, something-else"}),  # distribution name
    ],
)
def test_block_lists_skip_plugins_without_importing_them(
    good: None, broken: None, block: set[str], env: dict[str, str]
) -> None:
    registry = PluginRegistry(bundled=(), allow={"good", "broken"}, block=block, env=env)
    assert names(registry) == {"good"}  # no warning: the broken module is never imported
    assert "efa_fake_broken" not in sys.modules


def test_blocked_names_cannot_be_registered_later() -> None:
    registry = isolated(block={"nope"}, env={"EFA_DISABLED_PLUGINS": "also-nope"})
    assert registry.register(ConnectorPlugin(make_connector("x")), name="nope") is None
    assert registry.register(ConnectorPlugin(make_connector("y")), name="also-nope") is None
    assert registry.connectors() == {}


def test_bundled_plugins_can_be_disabled(site: MakeDist) -> None:
    site("efa-b", entry_points={}, modules_source={"efa_fake_b2": "x = 1\n"})
    registry = isolated(bundled=("efa_fake_b2",), env={"EFA_DISABLED_PLUGINS": "efa_fake_b2"})
    assert names(registry) == set()
    assert "efa_fake_b2" not in sys.modules


# -- tracing --------------------------------------------------------------------------------


def test_trace_env_logs_hook_calls(caplog: pytest.LogCaptureFixture) -> None:
    class Listener:
        @hookimpl
        def efa_on_sync_finished(self, status: str) -> str:
            return f"saw {status}"

    registry = isolated(env={"EFA_TRACE_PLUGINS": "1"})
    registry.register(Listener(), name="listener")
    with caplog.at_level(logging.INFO, logger="efa_core.plugins"):
        registry.hook.efa_on_sync_finished(
            source="dashboard", run_id="r1", status="failed", counts={"upserted": 3}, error="x"
        )
    messages = [r.getMessage() for r in caplog.records if r.name == "efa_core.plugins"]
    assert any(
        "efa_on_sync_finished(" in m and "source='dashboard'" in m and "listener" in m
        for m in messages
    )
    assert any("returned ['saw failed']" in m for m in messages)


def test_tracing_is_off_by_default_and_can_be_undone(caplog: pytest.LogCaptureFixture) -> None:
    registry = isolated()
    with caplog.at_level(logging.DEBUG, logger="efa_core.plugins"):
        registry.hook.efa_on_changes(source="s", run_id="r", changes=())
        assert not caplog.records
        undo = registry.enable_tracing()
        registry.hook.efa_on_changes(source="s", run_id="r", changes=())
        assert len(caplog.records) == 2
        undo()
        registry.hook.efa_on_changes(source="s", run_id="r", changes=())
        assert len(caplog.records) == 2


# -- collections: connectors, rules, strategies ---------------------------------------------


def test_duplicate_connector_names_name_both_plugins(good: None) -> None:
    registry = PluginRegistry(bundled=(), allow={"good"}, env={})
    registry.register(ConnectorPlugin(make_connector("echo")), name="impostor")
    with pytest.raises(PluginError) as excinfo:
        registry.connectors()
    message = str(excinfo.value)
    assert "connector type 'echo' is registered by both" in message
    assert "plugin 'good' from efa-good 2.0" in message
    assert "plugin 'impostor'" in message
    assert "EFA_DISABLED_PLUGINS" in message


def test_duplicate_inside_one_plugin_is_an_error() -> None:
    registry = isolated()
    registry.register(ConnectorPlugin(make_connector("a"), make_connector("a")), name="twice")
    with pytest.raises(PluginError, match="'a' is registered by both plugin 'twice'"):
        registry.connectors()


def test_registering_the_same_class_twice_is_harmless() -> None:
    cls = make_connector("same")
    registry = isolated()
    registry.register(ConnectorPlugin(cls), name="one")
    registry.register(ConnectorPlugin(cls), name="two")
    assert registry.connectors() == {"same": cls}


@pytest.mark.parametrize(
    ("hook", "method", "kind"),
    [
        ("efa_register_finding_rules", "finding_rules", "finding rule"),
        ("efa_register_cost_strategies", "cost_strategies", "cost strategy"),
        ("efa_register_identity_matchers", "identity_matchers", "identity matcher"),
        (
            "efa_register_responsibility_writers",
            "responsibility_writers",
            "responsibility writer",
        ),
    ],
)
def test_duplicate_rule_and_strategy_names_name_both_plugins(
    hook: str, method: str, kind: str
) -> None:
    def plugin(value: object) -> object:
        class Plugin:
            @hookimpl(specname=hook)
            def impl(self, register: Callable[..., None]) -> None:
                register("per-capita", value)

        return Plugin()

    registry = isolated()
    registry.register(plugin(len), name="first")
    registry.register(plugin(print), name="second")
    with pytest.raises(PluginError, match=f"{kind} 'per-capita' is registered by both") as exc:
        getattr(registry, method)()
    assert "plugin 'first'" in str(exc.value)
    assert "plugin 'second'" in str(exc.value)


def test_invalid_connector_class_warns_and_skips_that_plugin() -> None:
    valid = make_connector("valid")
    registry = isolated()
    registry.register(ConnectorPlugin(valid), name="fine")
    registry.register(ConnectorPlugin(make_connector("partial"), object), name="bad")
    with pytest.warns(PluginLoadWarning, match="'bad'.*invalid connector") as record:
        found = registry.connectors()
    assert "its connector types were skipped" in str(record[0].message)
    assert dict(found) == {"valid": valid}  # 'partial' of the bad plugin is rolled back


def test_failing_registration_hook_warns_and_others_register() -> None:
    class Exploding:
        @hookimpl
        def efa_register_connectors(self, register: object) -> None:
            raise ValueError("cannot reach config")

    registry = isolated()
    registry.register(ConnectorPlugin(make_connector("ok")), name="fine")
    registry.register(Exploding(), name="exploding")
    with pytest.warns(PluginLoadWarning, match="'exploding'.*ValueError: cannot reach config"):
        assert set(registry.connectors()) == {"ok"}


def test_async_registration_hook_is_refused() -> None:
    class Async:
        @hookimpl
        async def efa_register_finding_rules(self, register: Callable[..., None]) -> None:
            register("x", len)

    registry = isolated()
    registry.register(Async(), name="async")
    with pytest.warns(PluginLoadWarning, match="returned an awaitable"):
        assert registry.finding_rules() == {}


def test_register_after_the_hook_returned_is_refused() -> None:
    kept: list[Callable[..., None]] = []

    class Keeper:
        @hookimpl
        def efa_register_cost_strategies(self, register: Callable[..., None]) -> None:
            kept.append(register)

    registry = isolated()
    registry.register(Keeper(), name="keeper")
    assert registry.cost_strategies() == {}
    with pytest.raises(PluginError, match="called register\\(\\) after"):
        kept[0]("late", len)


def test_connector_cache_is_invalidated_on_register_and_unregister() -> None:
    registry = isolated()
    registry.register(ConnectorPlugin(make_connector("a")), name="a")
    first = registry.connectors()
    assert registry.connectors() is first  # cached
    registry.register(ConnectorPlugin(make_connector("b")), name="b")
    assert set(registry.connectors()) == {"a", "b"}
    plugin = registry.unregister("a")
    assert isinstance(plugin, ConnectorPlugin)
    assert set(registry.connectors()) == {"b"}


def test_unregister_unknown_name_lists_registered_plugins() -> None:
    registry = isolated()
    registry.register(ConnectorPlugin(), name="present")
    with pytest.raises(PluginError, match=r"no plugin named 'absent'.*present"):
        registry.unregister("absent")


# -- default-argument pitfall ---------------------------------------------------------------


def test_default_argument_in_implementation_warns(site: MakeDist) -> None:
    site(
        "efa-defaults",
        "0.1",
        entry_points={"defaults": "efa_fake_defaults"},
        modules_source={"efa_fake_defaults": DEFAULT_ARG_PLUGIN},
    )
    registry = PluginRegistry(bundled=(), allow={"defaults"}, env={})
    with pytest.warns(PluginLoadWarning) as record:
        registry.load()
    message = str(record[0].message)
    assert "plugin 'defaults' from efa-defaults 0.1" in message
    assert "hook efa_on_changes" in message
    assert "argument(s) changes a default" in message
    assert names(registry) == {"defaults"}  # registered despite the warning


def test_default_argument_in_strict_mode_is_an_error() -> None:
    class Defaults:
        @hookimpl
        def efa_on_sync_finished(self, source: str, error: str | None = None) -> None:
            pass

    registry = isolated(strict=True)
    with pytest.raises(PluginError, match="efa_on_sync_finished gives argument\\(s\\) error"):
        registry.register(Defaults(), name="defaults")
    assert registry.get_plugin("defaults") is None


# -- one test per hook ----------------------------------------------------------------------


def test_hook_efa_register_connectors() -> None:
    a, b = make_connector("alpha"), make_connector("beta")
    registry = isolated()
    registry.register(ConnectorPlugin(b, a), name="plugin")
    found = registry.connectors()
    assert list(found) == ["alpha", "beta"]  # sorted by type name
    assert registry.connector_class("beta") is b
    with pytest.raises(PluginError, match="unknown connector type 'gamma'; known types: 'alpha'"):
        registry.connector_class("gamma")
    with pytest.raises(TypeError):
        found["x"] = a  # type: ignore[index]


def test_hook_efa_register_finding_rules() -> None:
    def stalled(*args: object) -> None:
        pass

    class Rules:
        @hookimpl
        def efa_register_finding_rules(self, register: Callable[..., None]) -> None:
            register("stalled", stalled)
            register(name="live-without-contract", rule=len)

    class BadName:
        @hookimpl
        def efa_register_finding_rules(self, register: Callable[..., None]) -> None:
            register("", len)

    registry = isolated()
    registry.register(Rules(), name="rules")
    assert dict(registry.finding_rules()) == {"live-without-contract": len, "stalled": stalled}
    registry.register(BadName(), name="bad-name")
    with pytest.warns(PluginLoadWarning, match="finding rule with invalid name ''"):
        assert set(registry.finding_rules()) == {"live-without-contract", "stalled"}


def test_hook_efa_register_cost_strategies() -> None:
    class Strategies:
        @hookimpl
        def efa_register_cost_strategies(self, register: Callable[..., None]) -> None:
            register("koenigsteiner-schluessel", sum)
            register(name="not-callable", strategy=42)

    registry = isolated()
    registry.register(Strategies(), name="strategies")
    with pytest.warns(PluginLoadWarning, match="'not-callable' as 42, which is not callable"):
        assert registry.cost_strategies() == {}  # the whole plugin is skipped
    registry.unregister("strategies")

    class Fine:
        @hookimpl
        def efa_register_cost_strategies(self, register: Callable[..., None]) -> None:
            register("per-capita", sum)

    registry.register(Fine(), name="fine")
    assert dict(registry.cost_strategies()) == {"per-capita": sum}


def test_hook_efa_configure() -> None:
    seen: list[tuple[str, object]] = []

    def listener(label: str) -> object:
        class Listener:
            @hookimpl
            def efa_configure(self, config: object) -> None:
                seen.append((label, config))

        return Listener()

    config = object()  # efa_configure passes whatever the application configured
    registry = isolated()
    registry.register(listener("early"), name="early")
    registry.configure(config)  # type: ignore[arg-type]
    assert seen == [("early", config)]
    registry.register(listener("late"), name="late")  # historic: replayed at registration
    assert seen == [("early", config), ("late", config)]


@pytest.mark.anyio
async def test_hook_efa_on_changes() -> None:
    received: list[tuple[str, str, str, tuple[object, ...]]] = []

    class SyncListener:
        @hookimpl
        def efa_on_changes(self, source: str, run_id: str, changes: tuple[object, ...]) -> None:
            received.append(("sync", source, run_id, changes))

    class AsyncListener:
        @hookimpl
        async def efa_on_changes(self, changes: tuple[object, ...]) -> None:
            await asyncio.sleep(0)
            received.append(("async", "", "", changes))

    class Failing:
        @hookimpl
        async def efa_on_changes(self) -> None:
            raise ConnectionError("webhook down")

    registry = isolated()
    registry.register(SyncListener(), name="sync")
    registry.register(Failing(), name="failing")
    registry.register(AsyncListener(), name="async")
    changes = ("change-1", "change-2")
    with pytest.warns(PluginNotificationWarning, match="'failing'.*ConnectionError: webhook down"):
        await registry.anotify("efa_on_changes", source="pvog", run_id="run-7", changes=changes)
    assert received == [("async", "", "", changes), ("sync", "pvog", "run-7", changes)]

    strict = isolated(strict=True)
    strict.register(Failing(), name="failing")
    with pytest.raises(PluginError, match="plugin 'failing' failed in efa_on_changes"):
        await strict.call_notification("efa_on_changes", source="s", run_id="r", changes=())


def test_hook_efa_on_sync_finished() -> None:
    received: list[dict[str, object]] = []

    class Listener:
        @hookimpl
        async def efa_on_sync_finished(
            self,
            source: str,
            run_id: str,
            status: str,
            counts: dict[str, int],
            error: str | None,
        ) -> None:
            received.append(
                {"source": source, "run_id": run_id, "status": status, "counts": counts}
                | {"error": error}
            )

    registry = isolated()
    registry.register(Listener(), name="listener")
    registry.notify(
        "efa_on_sync_finished",
        source="fitconnect",
        run_id="r2",
        status="failed",
        counts={"upserted": 1},
        error="HTTP 503",
    )
    assert received == [
        {
            "source": "fitconnect",
            "run_id": "r2",
            "status": "failed",
            "counts": {"upserted": 1},
            "error": "HTTP 503",
        }
    ]

    async def inside_a_loop() -> None:
        registry.notify(
            "efa_on_sync_finished", source="s", run_id="r", status="ok", counts={}, error=None
        )

    with pytest.raises(PluginError, match=r"use `await registry\.anotify"):
        asyncio.run(inside_a_loop())
    assert len(received) == 1


@pytest.mark.anyio
async def test_only_notification_hooks_can_be_notified() -> None:
    registry = isolated()
    with pytest.raises(PluginError, match="'efa_register_connectors' is not a notification hook"):
        await registry.anotify("efa_register_connectors", register=print)


# -- list_plugins and the CLI ---------------------------------------------------------------


def test_list_plugins_hides_bundled_plugins_unless_all(site: MakeDist) -> None:
    site("efa-b", entry_points={}, modules_source={"efa_fake_b3": "x = 1\n"})
    registry = isolated(bundled=("efa_fake_b3",))
    registry.register(ConnectorPlugin(), name="manual")
    assert [i.name for i in registry.list_plugins()] == ["manual"]
    everything = registry.list_plugins(all=True)
    assert [(i.name, i.bundled) for i in everything] == [("efa_fake_b3", True), ("manual", False)]
    assert everything[1].hooks == ("efa_register_connectors",)
    assert everything[1].distribution is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        everything[0].name = "changed"  # type: ignore[misc]


def test_cli_plugins_json_with_injected_registry(site: MakeDist, good: None) -> None:
    from click.testing import CliRunner

    from efa_core.cli.plugins import plugins

    site("efa-b", entry_points={}, modules_source={"efa_fake_b4": "x = 1\n"})
    registry = PluginRegistry(bundled=("efa_fake_b4",), allow={"good"}, env={})
    result = CliRunner().invoke(plugins, ["--json"], obj=registry)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {
            "name": "good",
            "version": "2.0",
            "hooks": ["efa_on_sync_finished", "efa_register_connectors"],
            "bundled": False,
            "distribution": "efa-good",
            "connectors": ["echo"],
            "finding_rules": [],
            "cost_strategies": [],
            "responsibility_writers": [],
        }
    ]
    result = CliRunner().invoke(plugins, ["--json", "--all"], obj=registry)
    assert [p["name"] for p in json.loads(result.output)] == ["efa_fake_b4", "good"]


def test_cli_plugins_table_reads_the_environment(good: None) -> None:
    from click.testing import CliRunner

    from efa_core.cli import main

    env = {"EFA_LOAD_PLUGINS": "good", "EFA_DISABLED_PLUGINS": ",".join(DEFAULT_PLUGINS)}
    result = CliRunner(env=env).invoke(main, ["plugins", "--lang", "en"])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split() == ["NAME", "VERSION", "DISTRIBUTION", "REGISTERS", "HOOKS"]
    assert row.split() == [
        "good",
        "2.0",
        "efa-good",
        "connector",
        "types:",
        "echo",
        "efa_on_sync_finished,",
        "efa_register_connectors",
    ]

    result = CliRunner(env={**env, "EFA_LANG": "en"}).invoke(main, ["plugins"])
    assert result.output.splitlines()[1].split()[3:5] == ["connector", "types:"]

    # German by default
    result = CliRunner(env=env).invoke(main, ["plugins"])
    header, row = result.output.splitlines()
    assert header.split() == ["NAME", "VERSION", "PAKET", "REGISTRIERT", "HOOKS"]
    assert row.split()[3:5] == ["Konnektortypen:", "echo"]

    none = {**env, "EFA_LOAD_PLUGINS": ""}
    result = CliRunner(env=none).invoke(main, ["plugins", "--lang", "en"])
    assert (
        result.output.strip() == "No plugins installed (use --all to include the bundled plugins)."
    )
    result = CliRunner(env=none).invoke(main, ["plugins"])
    assert result.output.strip() == (
        "Keine Plugins installiert (--all zeigt auch die mitgelieferten)."
    )


def test_cli_plugins_language_from_the_config(good: None, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from efa_core.cli import main

    config = tmp_path / "efa.toml"
    config.write_text('[report]\nlang = "en"\n', encoding="utf-8")
    env = {"EFA_LOAD_PLUGINS": "good", "EFA_DISABLED_PLUGINS": ",".join(DEFAULT_PLUGINS)}
    result = CliRunner(env=env).invoke(main, ["plugins", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.split()[:5] == ["NAME", "VERSION", "DISTRIBUTION", "REGISTERS", "HOOKS"]
    json_en = CliRunner(env=env).invoke(main, ["plugins", "--json", "--lang", "en"]).output
    assert CliRunner(env=env).invoke(main, ["plugins", "--json"]).output == json_en


class EverythingPlugin:
    """Registers two connector types, a finding rule and a cost strategy."""

    @hookimpl
    def efa_register_connectors(self, register: Callable[[Any], None]) -> None:
        register(make_connector("second-b"))
        register(make_connector("first-a"))

    @hookimpl
    def efa_register_finding_rules(self, register: Callable[[str, Any], None]) -> None:
        register("my-rule", lambda context: iter(()))

    @hookimpl
    def efa_register_cost_strategies(self, register: Callable[[str, Any], None]) -> None:
        register("my-split", lambda context: {})


def test_list_plugins_says_what_each_plugin_registers() -> None:
    # Issue 13 §3: a second connector type of a plugin was invisible.
    registry = PluginRegistry(entrypoints=False, env={})  # with the bundled plugins
    registry.register(EverythingPlugin(), name="everything")
    registry.register(ConnectorPlugin(make_connector("solo")), name="solo")
    infos = {info.name: info for info in registry.list_plugins(all=True)}
    assert infos["everything"].connectors == ("first-a", "second-b")
    assert infos["everything"].finding_rules == ("my-rule",)
    assert infos["everything"].cost_strategies == ("my-split",)
    assert infos["solo"].connectors == ("solo",)
    assert infos["solo"].finding_rules == ()
    assert infos["efa_core.default_plugins.records_file"].connectors == ("records-file",)
    builtin = infos["efa_core.rollout.builtin_rules"]
    assert "live-without-agreement" in builtin.finding_rules
    assert "koenigsteiner" in builtin.cost_strategies
    # after unregistering, the listing follows
    registry.unregister("solo")
    assert "solo" not in {info.name for info in registry.list_plugins()}


def test_list_plugins_survives_a_name_conflict() -> None:
    registry = isolated()
    registry.register(ConnectorPlugin(make_connector("same")), name="one")
    registry.register(ConnectorPlugin(make_connector("same")), name="two")
    with pytest.warns(PluginLoadWarning, match="connector type 'same' is registered by both"):
        infos = registry.list_plugins()
    assert [(i.name, i.connectors) for i in infos] == [("one", ()), ("two", ())]


def test_cli_plugins_table_shows_registrations() -> None:
    from click.testing import CliRunner

    from efa_core.cli.plugins import plugins

    registry = isolated()
    registry.register(EverythingPlugin(), name="everything")
    result = CliRunner().invoke(plugins, ["--lang", "en"], obj=registry)
    assert result.exit_code == 0, result.output
    assert (
        "connector types: first-a, second-b; finding rules: my-rule; cost strategies: my-split"
        in result.output
    )
    result = CliRunner().invoke(plugins, ["--all"], obj=registry)
    assert (
        "Konnektortypen: first-a, second-b; Befundregeln: my-rule; Kostenstrategien: my-split"
        in result.output
    )
    bundled = PluginRegistry(entrypoints=False, env={})
    result = CliRunner().invoke(plugins, ["--all"], obj=bundled)
    assert "efa-core (mitgeliefert)" in result.output
    result = CliRunner().invoke(plugins, ["--all", "--lang", "en"], obj=bundled)
    assert "efa-core (bundled)" in result.output
