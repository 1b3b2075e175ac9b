"""The plugin registry: loads bundled and installed plugins and collects what they register.

A :class:`PluginRegistry` is an ordinary object; nothing happens at import time and two
registries never share state.  It loads lazily, on first use, in this order:

1. the hook specifications (:mod:`efa_core.hookspecs`);
2. the bundled plugins listed in :data:`DEFAULT_PLUGINS`, each registered under its module path;
3. the plugins installed as entry points of group ``efa_core``, each registered under its
   entry-point name;
4. a final check that every implementation matches a known hook.

A plugin that cannot be imported or registered is skipped with a :class:`PluginLoadWarning`
(also logged to the ``efa_core.plugins`` logger) naming its distribution, version and error;
the other plugins still load.  In strict mode (``strict=True`` or ``EFA_STRICT_PLUGINS=1``)
the same problems raise :class:`~efa_core.errors.PluginError` instead.

Environment variables (read from the ``env`` mapping, by default :data:`os.environ`):

``EFA_LOAD_PLUGINS``
    Comma-separated entry-point or distribution names: load only these installed plugins.
    An empty value loads no installed plugin (the bundled ones still load).
``EFA_DISABLED_PLUGINS``
    Comma-separated plugin or distribution names that are never registered.
``EFA_STRICT_PLUGINS``
    ``1`` turns load problems into errors.
``EFA_TRACE_PLUGINS``
    ``1`` logs every hook call to the ``efa_core.plugins`` logger.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import inspect
import logging
import os
import re
import reprlib
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

import attrs
import pluggy

from efa_core import hookspecs
from efa_core.errors import PluginError

if TYPE_CHECKING:
    from efa_core.config import EfaConfig
    from efa_core.connectors import Connector

__all__ = [
    "DEFAULT_PLUGINS",
    "NOTIFICATION_HOOKS",
    "PluginInfo",
    "PluginLoadWarning",
    "PluginNotificationWarning",
    "PluginRegistry",
    "PluginWarning",
]

logger = logging.getLogger(__name__)

#: Module paths of the plugins bundled with efa-core, registered before installed plugins.
DEFAULT_PLUGINS: Final[tuple[str, ...]] = (
    "efa_core.default_plugins.records_file",
    "efa_core.default_plugins.plan",
    "efa_core.rollout.builtin_rules",
    "efa_core.rollout.planning.rules",
)

#: The hooks that :meth:`PluginRegistry.anotify` and :meth:`PluginRegistry.notify` may call.
NOTIFICATION_HOOKS: Final = frozenset({"efa_on_changes", "efa_on_sync_finished"})

_BUNDLED_DISTRIBUTION: Final = "efa-core"

_TRUE_VALUES: Final = frozenset({"1", "true", "yes", "on"})

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 10


class PluginWarning(UserWarning):
    """Base class of the warnings about plugins."""


class PluginLoadWarning(PluginWarning):
    """A plugin was skipped, or registered despite a problem (outside strict mode)."""


class PluginNotificationWarning(PluginWarning):
    """A notification listener failed; the other listeners still ran."""


@attrs.frozen(kw_only=True)
class PluginInfo:
    """What :meth:`PluginRegistry.list_plugins` reports about one registered plugin."""

    #: The name the plugin is registered under (entry-point name or module path).
    name: str
    #: The version of the distribution that provides the plugin, if known.
    version: str | None
    #: The names of the hooks the plugin implements, sorted.
    hooks: tuple[str, ...]
    #: Whether the plugin is bundled with efa-core.
    bundled: bool
    #: The name of the distribution that provides the plugin, if known.
    distribution: str | None
    #: The connector types it registers (``type_name``), sorted.
    connectors: tuple[str, ...] = ()
    #: The finding rules it registers, sorted.
    finding_rules: tuple[str, ...] = ()
    #: The cost-sharing strategies it registers, sorted.
    cost_strategies: tuple[str, ...] = ()
    #: The formats of the Zuständigkeiten writers it registers, sorted.
    responsibility_writers: tuple[str, ...] = ()


@attrs.frozen
class _Dist:
    name: str | None
    version: str | None

    def label(self) -> str:
        if self.name is None:
            return "an unknown distribution"
        return f"{self.name} {self.version or '(unknown version)'}"

    def plugin_label(self, plugin_name: str) -> str:
        if self.name is None:
            return f"plugin {plugin_name!r}"
        return f"plugin {plugin_name!r} from {self.label()}"


@attrs.frozen
class _Registration:
    """One object registered by a plugin through a ``register`` callback."""

    obj: Any
    plugin: str


def _normalize(name: str) -> str:
    """Normalize a distribution or plugin name as PEP 503 does."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _split_names(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _env_flag(env: Mapping[str, str], key: str) -> bool:
    return env.get(key, "").strip().lower() in _TRUE_VALUES


def _describe(exc: BaseException) -> str:
    """One line: the exception type and its message (pluggy's messages span lines)."""
    return f"{type(exc).__name__}: " + "; ".join(str(exc).splitlines())


def _check_name(kind: str, name: object, obj: object, label: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PluginError(
            f"{label} registered a {kind} with invalid name {name!r}; "
            "the name must be a non-empty string"
        )
    if not callable(obj):
        raise PluginError(f"{label} registered {kind} {name!r} as {obj!r}, which is not callable")
    return name


def _check_connector_class(cls: object, label: str) -> str:
    """Validate a connector class (see :func:`efa_core.connectors.validate_connector_class`).

    :returns: its ``type_name``.
    :raises PluginError: naming the registering plugin and every problem found.
    """
    from efa_core.connectors import validate_connector_class

    try:
        validate_connector_class(cls)
    except PluginError as exc:
        raise PluginError(f"{label} registered an invalid connector: {exc}") from None
    return cast("type[Connector]", cls).type_name


class PluginRegistry:
    """The plugins of one efa-core application: what is loaded and what they register.

    :param bundled: module paths of the bundled plugins; default :data:`DEFAULT_PLUGINS`.
    :param entrypoints: load installed plugins (entry points of group ``efa_core``).
    :param allow: load only the installed plugins with these entry-point or distribution
        names; ``None`` allows all.  Combined with ``EFA_LOAD_PLUGINS`` (both must allow).
    :param block: plugin or distribution names never to register (bundled ones included);
        combined with ``EFA_DISABLED_PLUGINS``.
    :param strict: raise :class:`~efa_core.errors.PluginError` on load problems instead of
        warning; ``None`` reads ``EFA_STRICT_PLUGINS``.
    :param trace: log hook calls; ``None`` reads ``EFA_TRACE_PLUGINS``.
    :param env: the environment to read the ``EFA_*`` variables from; default
        :data:`os.environ`.

    Loading happens on first use, or explicitly with :meth:`load`.
    """

    def __init__(
        self,
        *,
        bundled: Sequence[str] | None = None,
        entrypoints: bool = True,
        allow: Iterable[str] | None = None,
        block: Iterable[str] = (),
        strict: bool | None = None,
        trace: bool | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        environ: Mapping[str, str] = os.environ if env is None else env
        self._bundled: tuple[str, ...] = DEFAULT_PLUGINS if bundled is None else tuple(bundled)
        self._entrypoints = entrypoints
        allowed = None if allow is None else frozenset(allow)
        if "EFA_LOAD_PLUGINS" in environ:
            from_env = _split_names(environ["EFA_LOAD_PLUGINS"])
            allowed = from_env if allowed is None else allowed & from_env
        self._allow = None if allowed is None else frozenset(map(_normalize, allowed))
        self._block = frozenset(block) | _split_names(environ.get("EFA_DISABLED_PLUGINS", ""))
        self.strict: bool = _env_flag(environ, "EFA_STRICT_PLUGINS") if strict is None else strict
        self._trace = _env_flag(environ, "EFA_TRACE_PLUGINS") if trace is None else trace

        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        for name in sorted(self._block):
            self._pm.set_blocked(name)
        self._dists: dict[str, _Dist] = {}
        self._bundled_names: set[str] = set()
        self._collected: dict[str, Mapping[str, Any]] = {}
        #: hook name -> registered name -> the plugin that registered it
        self._owners: dict[str, Mapping[str, str]] = {}
        self._loaded = False
        self._loading = False
        self._load_error: PluginError | None = None
        self._untrace: Callable[[], None] | None = None

    def __repr__(self) -> str:
        state = "loaded" if self._loaded else "not loaded"
        return f"<PluginRegistry {state}, {len(self._dists)} plugins, strict={self.strict}>"

    # -- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Load the bundled and installed plugins; does nothing if already loaded.

        :raises efa_core.errors.PluginError: in strict mode, if a plugin fails to load.
        """
        if self._load_error is not None:
            raise self._load_error
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            if self._trace:
                self.enable_tracing()
            for module_path in self._bundled:
                self._load_bundled(module_path)
            if self._entrypoints:
                self._load_entrypoints()
            try:
                self._pm.check_pending()
            except pluggy.PluginValidationError as exc:
                raise PluginError(f"plugin check failed: {exc}") from exc
            self._loaded = True
        except PluginError as exc:
            self._load_error = exc  # a half-loaded registry must not be used
            raise
        finally:
            self._loading = False

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def _is_blocked(self, *names: str | None) -> bool:
        blocked = {_normalize(b) for b in self._block}
        return any(n is not None and _normalize(n) in blocked for n in names)

    def _load_bundled(self, module_path: str) -> None:
        dist = _Dist(_BUNDLED_DISTRIBUTION, _own_version())
        if self._is_blocked(module_path):
            logger.debug("bundled plugin %r is disabled", module_path)
            return
        try:
            module = importlib.import_module(module_path)
        except Exception as exc:
            self._load_failed(module_path, dist, "import", exc)
            return
        self._add(module, module_path, dist, bundled=True)

    def _load_entrypoints(self) -> None:
        entry_points = importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP)
        for ep in sorted(entry_points, key=lambda ep: ep.name):
            dist = _entry_point_dist(ep)
            if self._is_blocked(ep.name, dist.name):
                logger.debug("plugin %r from %s is disabled", ep.name, dist.label())
                continue
            if self._allow is not None and not (
                _normalize(ep.name) in self._allow
                or (dist.name is not None and _normalize(dist.name) in self._allow)
            ):
                logger.debug("plugin %r from %s is not in the allow list", ep.name, dist.label())
                continue
            if self._pm.has_plugin(ep.name):
                other = self._dists.get(ep.name, _Dist(None, None))
                self._load_failed(
                    ep.name,
                    dist,
                    "register",
                    PluginError(f"the name is already taken by the plugin from {other.label()}"),
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._load_failed(ep.name, dist, "import", exc)
                continue
            self._add(plugin, ep.name, dist, bundled=False)

    def _add(self, plugin: object, name: str, dist: _Dist, *, bundled: bool) -> None:
        """Register a loaded plugin; problems warn (or raise in strict mode)."""
        try:
            self._register_checked(plugin, name, dist)
        except PluginError as exc:
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            self._load_failed(name, dist, "register", cause)
            return
        if self._pm.has_plugin(name):
            self._dists[name] = dist
            if bundled:
                self._bundled_names.add(name)

    def _load_failed(self, name: str, dist: _Dist, stage: str, exc: BaseException) -> None:
        message = (
            f"efa-core plugin {name!r} from {dist.label()} failed to {stage}: {_describe(exc)}"
        )
        if self.strict:
            raise PluginError(message) from exc
        message += (
            f"; it was skipped (set EFA_DISABLED_PLUGINS={name} to silence this, "
            "or EFA_STRICT_PLUGINS=1 to make it an error)"
        )
        logger.warning("%s", message)
        warnings.warn(message, PluginLoadWarning, stacklevel=4)

    def _register_checked(self, plugin: object, name: str | None, dist: _Dist) -> str | None:
        """Register *plugin* with pluggy and validate it; roll back on failure.

        :returns: the registered name, or ``None`` if the name is blocked.
        :raises PluginError: the plugin is invalid (always, not only in strict mode).
        """
        try:
            registered = self._pm.register(plugin, name)
        except Exception as exc:
            if self._pm.is_registered(plugin):  # e.g. a historic replay failed half-way
                self._pm.unregister(plugin)
            label = name or getattr(plugin, "__name__", repr(plugin))
            raise PluginError(
                f"plugin {label!r} could not be registered: {_describe(exc)}"
            ) from exc
        if registered is None:
            logger.debug("plugin %r is disabled", name)
            return None
        label = dist.plugin_label(registered)
        try:
            self._check_unknown_hooks(plugin, label)
            for problem in self._default_argument_problems(plugin, label):
                if self.strict:
                    raise PluginError(problem)
                logger.warning("%s", problem)
                warnings.warn(problem, PluginLoadWarning, stacklevel=5)
        except PluginError:
            self._pm.unregister(name=registered)
            raise
        self._collected.clear()
        self._owners.clear()
        return registered

    def _impls_of(self, plugin: object) -> Iterator[tuple[pluggy.HookCaller, pluggy.HookImpl]]:
        for caller in self._pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    yield caller, impl

    def _check_unknown_hooks(self, plugin: object, label: str) -> None:
        unknown = sorted(
            caller.name
            for caller, impl in self._impls_of(plugin)
            if not caller.has_spec() and not impl.optionalhook
        )
        if unknown:
            raise PluginError(
                f"{label} implements unknown hook(s) {', '.join(unknown)}; known hooks: "
                f"{', '.join(sorted(self._hook_names()))} (mark hooks of newer efa-core "
                "versions with @hookimpl(optionalhook=True))"
            )

    def _default_argument_problems(self, plugin: object, label: str) -> list[str]:
        problems = []
        for caller, impl in self._impls_of(plugin):
            if caller.spec is None:
                continue
            with_default = [a for a in impl.kwargnames if a in caller.spec.argnames]
            if with_default:
                problems.append(
                    f"{label}: implementation {impl.function.__qualname__} of hook "
                    f"{caller.name} gives argument(s) {', '.join(with_default)} a default "
                    "value, so pluggy never passes them and the implementation always sees "
                    "the default; remove the default value(s)"
                )
        return problems

    def _hook_names(self) -> list[str]:
        return [n for n in vars(hookspecs) if n.startswith("efa_")]

    # -- registration API --------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register *plugin* (a module or object with hook implementations).

        :param name: the name to register it under; default its ``__name__``.
        :returns: the name, or ``None`` if the name is blocked.
        :raises efa_core.errors.PluginError: the plugin is invalid or the name is taken.
        """
        self._ensure_loaded()
        registered = self._register_checked(plugin, name, _Dist(None, None))
        if registered is not None:
            self._dists[registered] = _Dist(None, None)
        return registered

    def unregister(self, name: str) -> object:
        """Unregister the plugin registered under *name* and return it.

        :raises efa_core.errors.PluginError: no plugin is registered under *name*.
        """
        self._ensure_loaded()
        plugin = self._pm.get_plugin(name)
        if plugin is None:
            raise PluginError(
                f"no plugin named {name!r} is registered; registered: "
                f"{', '.join(sorted(self._dists)) or 'none'}"
            )
        self._pm.unregister(name=name)
        self._dists.pop(name, None)
        self._bundled_names.discard(name)
        self._collected.clear()
        self._owners.clear()
        return plugin

    def get_plugin(self, name: str) -> object | None:
        """Return the plugin registered under *name*, or ``None``."""
        self._ensure_loaded()
        return self._pm.get_plugin(name)

    @property
    def hook(self) -> pluggy.HookRelay:
        """The pluggy hook relay, e.g. ``registry.hook.efa_on_changes(...)``."""
        self._ensure_loaded()
        return self._pm.hook

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying :class:`pluggy.PluginManager` (loaded), for advanced use."""
        self._ensure_loaded()
        return self._pm

    def list_plugins(self, all: bool = False) -> list[PluginInfo]:
        """Describe the registered plugins and what each registers, sorted by name.

        Collecting what the plugins register calls their ``efa_register_*`` hooks (once;
        the results are cached).  A collection that fails (two plugins claim one name) is
        left empty here, with a warning; :meth:`connectors` and its siblings raise it.

        :param all: include the plugins bundled with efa-core.
        """
        self._ensure_loaded()
        owners = {
            hook: self._owned_by(hook, collect)
            for hook, collect in (
                ("efa_register_connectors", self.connectors),
                ("efa_register_finding_rules", self.finding_rules),
                ("efa_register_cost_strategies", self.cost_strategies),
                ("efa_register_responsibility_writers", self.responsibility_writers),
            )
        }
        infos = []
        for name, plugin in self._pm.list_name_plugin():
            if plugin is None:  # a blocked name
                continue
            bundled = name in self._bundled_names
            if bundled and not all:
                continue
            dist = self._dists.get(name, _Dist(None, None))
            hooks = sorted(c.name for c in self._pm.get_hookcallers(plugin) or ())
            infos.append(
                PluginInfo(
                    name=name,
                    version=dist.version,
                    hooks=tuple(hooks),
                    bundled=bundled,
                    distribution=dist.name,
                    connectors=owners["efa_register_connectors"].get(name, ()),
                    finding_rules=owners["efa_register_finding_rules"].get(name, ()),
                    cost_strategies=owners["efa_register_cost_strategies"].get(name, ()),
                    responsibility_writers=owners["efa_register_responsibility_writers"].get(
                        name, ()
                    ),
                )
            )
        return sorted(infos, key=lambda info: info.name)

    def _owned_by(
        self, hook_name: str, collect: Callable[[], Mapping[str, Any]]
    ) -> dict[str, tuple[str, ...]]:
        """Return plugin name -> the sorted names it registered through *hook_name*."""
        try:
            collect()
        except PluginError as exc:
            message = f"cannot list what plugins register through {hook_name}: {exc}"
            logger.warning("%s", message)
            warnings.warn(message, PluginLoadWarning, stacklevel=3)
            return {}
        by_plugin: dict[str, list[str]] = {}
        for key, plugin in self._owners.get(hook_name, {}).items():
            by_plugin.setdefault(plugin, []).append(key)
        return {plugin: tuple(sorted(keys)) for plugin, keys in by_plugin.items()}

    # -- tracing -----------------------------------------------------------------------

    def enable_tracing(self) -> Callable[[], None]:
        """Log every hook call (arguments, implementations, results) to ``efa_core.plugins``.

        :returns: a function that switches tracing off again.
        """
        if self._untrace is not None:
            return self._untrace

        def before(
            hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
        ) -> None:
            logger.info(
                "hook %s(%s) -> implementations: %s",
                hook_name,
                ", ".join(f"{k}={_repr.repr(v)}" for k, v in kwargs.items()),
                ", ".join(impl.plugin_name for impl in reversed(impls)) or "none",
            )

        def after(
            outcome: pluggy.Result[object],
            hook_name: str,
            impls: Sequence[pluggy.HookImpl],
            kwargs: Mapping[str, object],
        ) -> None:
            if outcome.exception is not None:
                logger.info("hook %s raised %s", hook_name, _describe(outcome.exception))
            else:
                logger.info("hook %s returned %s", hook_name, _repr.repr(outcome.get_result()))

        undo = self._pm.add_hookcall_monitoring(before, after)

        def untrace() -> None:
            undo()
            self._untrace = None

        self._untrace = untrace
        return untrace

    # -- collections: connectors, finding rules, cost strategies ------------------------

    def _label(self, plugin_name: str) -> str:
        return self._dists.get(plugin_name, _Dist(None, None)).plugin_label(plugin_name)

    def _collect(
        self,
        hook_name: str,
        kind: str,
        make_register: Callable[[str, Callable[[str, object], None]], Callable[..., None]],
    ) -> Mapping[str, Any]:
        """Call *hook_name* once per implementing plugin with its own ``register`` callback.

        :returns: a read-only mapping of the registered objects by name, sorted by name.
        """
        self._ensure_loaded()
        cached = self._collected.get(hook_name)
        if cached is not None:
            return cached
        caller: pluggy.HookCaller = getattr(self._pm.hook, hook_name)
        plugins: list[object] = []
        for impl in caller.get_hookimpls():
            if impl.plugin not in plugins:
                plugins.append(impl.plugin)
        found: dict[str, _Registration] = {}
        conflicts: list[str] = []
        for plugin in plugins:
            plugin_name = self._pm.get_name(plugin) or repr(plugin)
            label = self._label(plugin_name)
            staged: dict[str, _Registration] = {}
            open_ = [True]

            def add(
                key: str,
                obj: object,
                *,
                _staged: dict[str, _Registration] = staged,
                _open: list[bool] = open_,
                _plugin: str = plugin_name,
                _label: str = label,
            ) -> None:
                if not _open[0]:
                    raise PluginError(f"{_label} called register() after {hook_name} returned")
                previous = _staged.get(key) or found.get(key)
                if previous is None:
                    _staged[key] = _Registration(obj, _plugin)
                elif previous.obj is not obj:
                    conflicts.append(
                        f"{kind} {key!r} is registered by both {self._label(previous.plugin)} "
                        f"({previous.obj!r}) and {_label} ({obj!r})"
                    )

            others = [p for p in plugins if p is not plugin]
            try:
                results = self._pm.subset_hook_caller(hook_name, others)(
                    register=make_register(label, add)
                )
                for result in results:
                    if inspect.isawaitable(result):
                        if inspect.iscoroutine(result):
                            result.close()
                        raise PluginError(
                            f"{hook_name} returned an awaitable; it must not be async"
                        )
            except Exception as exc:
                message = f"{label} failed in {hook_name}: {_describe(exc)}"
                if self.strict:
                    raise PluginError(message) from exc
                plural = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
                message += f"; its {plural} were skipped"
                logger.warning("%s", message)
                warnings.warn(message, PluginLoadWarning, stacklevel=4)
                continue
            finally:
                open_[0] = False
            found.update(staged)
        if conflicts:
            raise PluginError(
                "; ".join(conflicts) + " (disable one of them with EFA_DISABLED_PLUGINS)"
            )
        collected = types.MappingProxyType({k: r.obj for k, r in sorted(found.items())})
        self._collected[hook_name] = collected
        self._owners[hook_name] = {k: r.plugin for k, r in found.items()}
        return collected

    def connectors(self) -> Mapping[str, type[Connector]]:
        """Return the registered connector classes by ``type_name`` (collected once, cached).

        :raises efa_core.errors.PluginError: two plugins register the same ``type_name``
            (always), or a plugin registers an invalid class (in strict mode; otherwise that
            plugin's connectors are skipped with a warning).
        """

        def make_register(label: str, add: Callable[[str, object], None]) -> Callable[..., None]:
            def register(connector_class: type[Connector]) -> None:
                add(_check_connector_class(connector_class, label), connector_class)

            return register

        return self._collect("efa_register_connectors", "connector type", make_register)

    def connector_class(self, type_name: str) -> type[Connector]:
        """Return the connector class registered under *type_name*.

        :raises efa_core.errors.PluginError: no plugin registers *type_name*; the message
            lists the known types.
        """
        found = self.connectors()
        try:
            return found[type_name]
        except KeyError:
            known = ", ".join(repr(k) for k in found) or "none"
            raise PluginError(
                f"unknown connector type {type_name!r}; known types: {known} "
                "(is the plugin that provides it installed? see `efa plugins`)"
            ) from None

    def finding_rules(self) -> Mapping[str, Callable[..., Any]]:
        """Return the registered finding rules by name (collected once, cached).

        :raises efa_core.errors.PluginError: as :meth:`connectors` does.
        """

        def make_register(label: str, add: Callable[[str, object], None]) -> Callable[..., None]:
            def register(name: str, rule: Callable[..., Any]) -> None:
                add(_check_name("finding rule", name, rule, label), rule)

            return register

        return self._collect("efa_register_finding_rules", "finding rule", make_register)

    def cost_strategies(self) -> Mapping[str, Callable[..., Any]]:
        """Return the registered cost-sharing strategies by name (collected once, cached).

        :raises efa_core.errors.PluginError: as :meth:`connectors` does.
        """

        def make_register(label: str, add: Callable[[str, object], None]) -> Callable[..., None]:
            def register(name: str, strategy: Callable[..., Any]) -> None:
                add(_check_name("cost strategy", name, strategy, label), strategy)

            return register

        return self._collect("efa_register_cost_strategies", "cost strategy", make_register)

    def identity_matchers(self) -> Mapping[str, Callable[..., Any]]:
        """Return the registered identity matchers by name (collected once, cached).

        They feed :class:`efa_core.rollout.IdentityRules` (``IdentityRules.from_config(
        config, registry)``).

        :raises efa_core.errors.PluginError: as :meth:`connectors` does.

        .. versionadded:: 0.2.0
        """

        def make_register(label: str, add: Callable[[str, object], None]) -> Callable[..., None]:
            def register(name: str, matcher: Callable[..., Any]) -> None:
                add(_check_name("identity matcher", name, matcher, label), matcher)

            return register

        return self._collect("efa_register_identity_matchers", "identity matcher", make_register)

    def responsibility_writers(self) -> Mapping[str, Callable[..., Any]]:
        """Return the registered writers of Zuständigkeiten by format name (collected once).

        :raises efa_core.errors.PluginError: as :meth:`connectors` does.
        """

        def make_register(label: str, add: Callable[[str, object], None]) -> Callable[..., None]:
            def register(name: str, writer: Callable[..., Any]) -> None:
                add(_check_name("responsibility writer", name, writer, label), writer)

            return register

        return self._collect(
            "efa_register_responsibility_writers", "responsibility writer", make_register
        )

    # -- configuration and notifications -----------------------------------------------

    def configure(self, config: EfaConfig) -> None:
        """Announce *config* through the historic hook ``efa_configure``.

        Plugins registered later receive it at registration.
        """
        self.hook.efa_configure.call_historic(kwargs={"config": config})

    async def anotify(self, hook_name: str, /, **kwargs: Any) -> None:
        """Call the notification hook *hook_name* and await what its listeners return.

        Each listener runs on its own: one that raises (or whose awaitable raises) is logged
        and reported as a :class:`PluginNotificationWarning`, and the others still run.  In
        strict mode the first failure raises :class:`~efa_core.errors.PluginError`.

        :param hook_name: one of :data:`NOTIFICATION_HOOKS`.
        :param kwargs: the hook's arguments.
        """
        caller = self._notification_caller(hook_name)
        plugins: list[object] = []
        for impl in reversed(caller.get_hookimpls()):  # pluggy's call order
            if impl.plugin not in plugins:
                plugins.append(impl.plugin)
        for plugin in plugins:
            others = [p for p in plugins if p is not plugin]
            try:
                for result in self._pm.subset_hook_caller(hook_name, others)(**kwargs):
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:
                plugin_name = self._pm.get_name(plugin) or repr(plugin)
                message = f"{self._label(plugin_name)} failed in {hook_name}: {_describe(exc)}"
                if self.strict:
                    raise PluginError(message) from exc
                logger.error("%s", message, exc_info=exc)
                warnings.warn(message, PluginNotificationWarning, stacklevel=2)

    #: The name of :meth:`anotify` used in the contract between work packages.
    call_notification = anotify

    def notify(self, hook_name: str, /, **kwargs: Any) -> None:
        """Run :meth:`anotify` from synchronous code (it starts an event loop).

        :raises efa_core.errors.PluginError: called while an event loop is running; use
            ``await registry.anotify(...)`` there.
        """
        self._notification_caller(hook_name)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.anotify(hook_name, **kwargs))
            return
        raise PluginError(
            f"notify({hook_name!r}) was called inside a running event loop; "
            f"use `await registry.anotify({hook_name!r}, ...)` there"
        )

    def _notification_caller(self, hook_name: str) -> pluggy.HookCaller:
        if hook_name not in NOTIFICATION_HOOKS:
            raise PluginError(
                f"{hook_name!r} is not a notification hook; "
                f"notification hooks: {', '.join(sorted(NOTIFICATION_HOOKS))}"
            )
        caller: pluggy.HookCaller = getattr(self.hook, hook_name)
        return caller


def _entry_point_dist(ep: importlib.metadata.EntryPoint) -> _Dist:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return _Dist(None, None)
    return _Dist(dist.metadata["Name"], dist.version)


def _own_version() -> str:
    from efa_core import __version__

    return __version__
