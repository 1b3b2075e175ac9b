"""The hook specifications of efa-core: the whole plugin API in one module.

A plugin is a module (or any object) with functions decorated by :data:`hookimpl`, named
after the hooks below.  Every hook is called with keyword arguments only; an implementation
may accept any subset of the arguments, in any order (pluggy's "opt-in arguments").

.. warning::

   Never give an implementation's parameter a default value.  pluggy does not pass an
   argument to a parameter that has a default, so the implementation would always see the
   default.  :class:`efa_core.plugins.PluginRegistry` warns about such implementations
   (and refuses them in strict mode).

Two kinds of hooks exist:

``efa_register_*``
    Collection hooks.  They receive a ``register`` callback and call it once per object
    they contribute.  They must be plain functions: returning an awaitable is an error.

``efa_on_*``
    Notifications.  An implementation may be a plain function or an ``async def``; the
    registry awaits what it returns.  A failing listener never stops the others.

This module imports nothing from efa-core at run time, so importing it is cheap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, cast, overload

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from efa_core.config import EfaConfig
    from efa_core.connectors import Change, Connector
    from efa_core.model import Responsibility

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "HookimplDecorator",
    "RegisterConnector",
    "RegisterCostStrategy",
    "RegisterFindingRule",
    "RegisterIdentityMatcher",
    "RegisterResponsibilityWriter",
    "ResponsibilityWriter",
    "efa_configure",
    "efa_on_changes",
    "efa_on_sync_finished",
    "efa_register_connectors",
    "efa_register_cost_strategies",
    "efa_register_finding_rules",
    "efa_register_identity_matchers",
    "efa_register_responsibility_writers",
    "hookimpl",
    "hookspec",
]

#: The pluggy project name of efa-core; hook markers carry it.
PROJECT_NAME: Final = "efa_core"

#: The entry-point group that third-party plugins declare, e.g. in ``pyproject.toml``::
#:
#:     [project.entry-points.efa_core]
#:     xzufi = "efa_xzufi"
ENTRY_POINT_GROUP: Final = PROJECT_NAME

_F = TypeVar("_F", bound=Callable[..., object])


class HookimplDecorator(Protocol):
    """The type of :data:`hookimpl`: it returns the decorated function unchanged.

    Use it bare (``@hookimpl``) or with options (``@hookimpl(tryfirst=True)``).  Because the
    function keeps its own type, mypy checks plugins' implementations like any function.
    """

    @overload
    def __call__(self, function: _F) -> _F: ...

    @overload
    def __call__(
        self,
        function: None = None,
        *,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> Callable[[_F], _F]: ...


#: Marks a function as a hook implementation; all a plugin needs (``from efa_core import
#: hookimpl``).  Options: ``tryfirst``/``trylast`` (order inside the call), ``optionalhook``
#: (the hook may be unknown to this efa-core version), ``specname`` (implement a hook under
#: another function name), ``wrapper`` (new-style wrapper; never ``hookwrapper``).
hookimpl: Final = cast("HookimplDecorator", pluggy.HookimplMarker(PROJECT_NAME))

#: Marks a function in this module as a hook specification (efa-core internal).
hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)


class RegisterConnector(Protocol):
    """The ``register`` callback of :func:`efa_register_connectors`."""

    def __call__(self, connector_class: type[Connector]) -> None:
        """Register *connector_class* under its ``type_name``.

        :raises efa_core.errors.PluginError: the class is not a usable connector class.
        """


class RegisterFindingRule(Protocol):
    """The ``register`` callback of :func:`efa_register_finding_rules`."""

    def __call__(self, name: str, rule: Callable[..., Any]) -> None:
        """Register the finding rule *rule* under *name*.

        :raises efa_core.errors.PluginError: the name is empty or *rule* is not callable.
        """


class RegisterCostStrategy(Protocol):
    """The ``register`` callback of :func:`efa_register_cost_strategies`."""

    def __call__(self, name: str, strategy: Callable[..., Any]) -> None:
        """Register the cost-sharing strategy *strategy* under *name*.

        :raises efa_core.errors.PluginError: the name is empty or *strategy* is not callable.
        """


class RegisterIdentityMatcher(Protocol):
    """The ``register`` callback of :func:`efa_register_identity_matchers`."""

    def __call__(self, name: str, matcher: Callable[..., Any]) -> None:
        """Register the identity matcher *matcher* under *name*.

        :raises efa_core.errors.PluginError: the name is empty or *matcher* is not callable.
        """


class ResponsibilityWriter(Protocol):
    """A writer of Zuständigkeiten for an editorial system (registered by format name)."""

    def __call__(
        self, responsibilities: Sequence[Responsibility], *, directory: Path, sender: str
    ) -> Sequence[Path]:
        """Write *responsibilities* into *directory* (which exists); return the files written.

        :param sender: who sends them (the roll-in organisation), for the message header.
        """


class RegisterResponsibilityWriter(Protocol):
    """The ``register`` callback of :func:`efa_register_responsibility_writers`."""

    def __call__(self, name: str, writer: ResponsibilityWriter) -> None:
        """Register the writer *writer* under the format name *name* (e.g. ``"xzufi-2.2.0"``).

        :raises efa_core.errors.PluginError: the name is empty or *writer* is not callable.
        """


# ---------------------------------------------------------------------------------------
# Registration hooks
# ---------------------------------------------------------------------------------------


@hookspec
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register connector classes.

    Called once per registry, lazily, the first time connectors are looked up.

    :param register: call ``register(connector_class)`` once per class; the class is a
        subclass of :class:`efa_core.connectors.Connector` and is registered under its
        ``type_name``, which must be unique over all plugins.
    :returns: ``None``.  Returning an awaitable is an error.

    Implemented by: the bundled plugins and third-party connector plugins.
    """


@hookspec
def efa_register_finding_rules(register: RegisterFindingRule) -> None:
    """Register rules that report findings (contradictions, stalled rollouts).

    :param register: call ``register(name, rule)`` once per rule; *name* is a non-empty
        string, unique over all plugins, and *rule* a callable.
    :returns: ``None``.  Returning an awaitable is an error.

    Implemented by: the bundled plugins and third-party plugins.
    """


@hookspec
def efa_register_cost_strategies(register: RegisterCostStrategy) -> None:
    """Register strategies that split the cost of a service among its subscribers.

    :param register: call ``register(name, strategy)`` once per strategy; *name* is a
        non-empty string, unique over all plugins, and *strategy* a callable.
    :returns: ``None``.  Returning an awaitable is an error.

    Implemented by: the bundled plugins and third-party plugins.
    """


@hookspec
def efa_register_identity_matchers(register: RegisterIdentityMatcher) -> None:
    """Register matchers that find which service records are the same EfA offer.

    A matcher is called as ``matcher(records)`` with every live service record
    (:class:`efa_core.rollout.ServiceRecord`: source and :class:`~efa_core.model.Service`)
    and returns :class:`efa_core.rollout.IdentityLink` objects (two ids and a reason).
    The rollout view follows the links after the configuration's and the sources' own,
    refuses those ``efa.toml [identity] distinct`` forbids, and shows them in
    ``efa explain service``.  A matcher must be deterministic and cheap: it runs whenever
    the view is refreshed.

    :param register: call ``register(name, matcher)`` once per matcher; *name* is a
        non-empty string, unique over all plugins, and *matcher* a callable.
    :returns: ``None``.  Returning an awaitable is an error (and matchers must not be
        async either).

    Implemented by: third-party plugins (e.g. a matcher that reads a registry's own
    cross-reference table).

    .. versionadded:: 0.2.0
    """


@hookspec
def efa_register_responsibility_writers(register: RegisterResponsibilityWriter) -> None:
    """Register writers that put Zuständigkeiten into files for a Land's editorial system.

    ``efa plan onboarding`` writes the Zuständigkeiten a wave's municipalities need with
    the writer the user picks by name (``--format``).

    :param register: call ``register(name, writer)`` once per format; *name* is a
        non-empty string, unique over all plugins (e.g. ``"xzufi-2.2.0"``), and *writer* a
        :class:`ResponsibilityWriter`.
    :returns: ``None``.  Returning an awaitable is an error.

    Implemented by: efa-xzufi (``xzufi-2.2.0``) and third-party plugins.
    """


# ---------------------------------------------------------------------------------------
# Configuration hooks
# ---------------------------------------------------------------------------------------


@hookspec(historic=True)
def efa_configure(config: EfaConfig) -> None:
    """React to the loaded configuration.

    Historic: a plugin registered after the configuration was announced is called with it
    at registration.

    :param config: the configuration, an :class:`efa_core.config.EfaConfig`; treat it as
        read-only.
    :returns: ``None``; results are discarded.  Awaitables are not allowed (nobody awaits
        them).

    Implemented by: third-party plugins.
    """


# ---------------------------------------------------------------------------------------
# Notification hooks
# ---------------------------------------------------------------------------------------


@hookspec
def efa_on_changes(source: str, run_id: str, changes: Sequence[Change]) -> Awaitable[None] | None:
    """Receive the changes that one sync run applied to the store, batch by batch.

    Called after the batch was committed.  A failing listener is logged and does not stop
    the sync or the other listeners.

    :param source: the name of the configured source the changes came from.
    :param run_id: the identifier of the sync run.
    :param changes: the applied changes (:class:`efa_core.connectors.Upsert` or
        :class:`efa_core.connectors.Delete`) in the order they were applied.
    :returns: ``None`` or an awaitable (e.g. from ``async def``), which the registry awaits.

    Implemented by: third-party plugins (notifications, audit logs, webhooks).
    """


@hookspec
def efa_on_sync_finished(
    source: str,
    run_id: str,
    status: str,
    counts: Mapping[str, int],
    error: str | None,
) -> Awaitable[None] | None:
    """Learn that a sync run ended, successfully or not.

    A failing listener is logged and does not stop the other listeners.

    :param source: the name of the configured source.
    :param run_id: the identifier of the sync run.
    :param status: how the run ended, e.g. ``"succeeded"`` or ``"failed"``.
    :param counts: numbers of the run by name, e.g. ``{"upserted": 10, "deleted": 2}``.
    :param error: the error message if the run failed, else ``None``.
    :returns: ``None`` or an awaitable (e.g. from ``async def``), which the registry awaits.

    Implemented by: third-party plugins.
    """
