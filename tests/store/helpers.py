"""Scripted connectors and record builders for the store and sync tests.

``SCRIPTS`` maps a script name to a :class:`Script`: the batches a connector yields.  A
snapshot script yields its batches from the cursor (a batch index) on, the last one
``complete``; a feed script does the same over an append-only log.  ``fail_at`` makes the
pull raise a ConnectorError (or ``error``) when it reaches that batch index (after the
earlier batches were yielded), ``stop_at`` makes it end quietly there (an incomplete pull).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

import attrs

from efa_core.config import parse_config
from efa_core.connectors import Batch, Capability, Change, Connector, Rejected, Skipped, Upsert
from efa_core.errors import ConnectorError
from efa_core.hookspecs import hookimpl
from efa_core.ids import Ars, LeikaKey
from efa_core.model import Area, Service
from efa_core.plugins import PluginRegistry
from efa_core.store import Operation, Store


@attrs.define
class Script:
    batches: list[Sequence[Change]] = attrs.field(factory=list)
    rejected: dict[int, Sequence[Rejected]] = attrs.field(factory=dict)
    fail_at: int | None = None
    stop_at: int | None = None
    pulls: list[str | None] = attrs.field(factory=list)
    skipped: dict[int, Sequence[Skipped]] = attrs.field(factory=dict)
    #: raised at ``fail_at`` instead of the default ConnectorError
    error: Exception | None = None


SCRIPTS: dict[str, Script] = {}


@attrs.frozen(kw_only=True)
class ScriptConfig:
    script: str


class _Scripted(Connector):
    config: ScriptConfig

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        script = SCRIPTS[self.config.script]
        script.pulls.append(cursor)
        start = int(cursor or 0)
        total = len(script.batches)
        for index in range(start, total):
            if script.fail_at == index:
                if script.error is not None:
                    raise script.error
                raise ConnectorError(f"{self.label}: scripted failure at batch {index}")
            if script.stop_at == index:
                return
            yield Batch(
                script.batches[index],
                cursor=str(index + 1),
                complete=index == total - 1,
                rejected=script.rejected.get(index, ()),
                skipped=script.skipped.get(index, ()),
            )
        if total == start:
            if script.fail_at == start and script.error is not None:
                raise script.error
            yield Batch((), cursor=str(total), complete=True)


class ScriptedSnapshot(_Scripted):
    type_name: ClassVar[str] = "test-snapshot"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = ScriptConfig


class ScriptedFeed(_Scripted):
    type_name: ClassVar[str] = "test-feed"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHANGE_FEED})
    config_class: ClassVar[type[Any]] = ScriptConfig


class _Plugin:
    @hookimpl
    def efa_register_connectors(self, register: Any) -> None:
        register(ScriptedSnapshot)
        register(ScriptedFeed)


@attrs.define(eq=False)
class Recorder:
    """A listener plugin that records the notifications it receives."""

    changes: list[tuple[str, str, tuple[Change, ...]]] = attrs.field(factory=list)
    finished: list[tuple[str, str, str, dict[str, int], str | None]] = attrs.field(factory=list)
    store: Store | None = None
    #: for each efa_on_changes call: the number of history rows of the run at that moment
    committed: list[int] = attrs.field(factory=list)

    @hookimpl
    def efa_on_changes(self, source: str, run_id: str, changes: Sequence[Change]) -> None:
        self.changes.append((source, run_id, tuple(changes)))

    @hookimpl
    def efa_on_sync_finished(
        self, source: str, run_id: str, status: str, counts: Any, error: str | None
    ) -> None:
        self.finished.append((source, run_id, status, dict(counts), error))


def registry(*plugins: object) -> PluginRegistry:
    reg = PluginRegistry(entrypoints=False, strict=True, env={})
    reg.register(_Plugin(), name="test-connectors")
    for n, plugin in enumerate(plugins):
        reg.register(plugin, name=f"listener-{n}")
    return reg


def config(**sources: tuple[str, str] | tuple[str, str, dict[str, Any]]) -> Any:
    """``config(name=("test-snapshot", "script-name"))`` or ``("records-file", path)``.

    A third item adds keys to the table, e.g. ``{"max_delete_share": 0.8}``.
    """
    tables: dict[str, Any] = {}
    for name, (type_name, arg, *extra) in sources.items():
        if type_name == "records-file":
            tables[name] = {"type": type_name, "path": arg, "batch_size": 3}
        else:
            tables[name] = {"type": type_name, "script": arg}
        for more in extra:
            tables[name].update(more)
    return parse_config({"connectors": tables}, env={})


AREA_CODES = ["01", "02", "16", "16055", "16056", "16061", "15", "15001"]


def area(code: str, name: str = "Area") -> Upsert:
    return Upsert(Area(ars=Ars(code), name=name))


def service(key: str, name: str = "Service", leika: str = "99115005104000") -> Upsert:
    return Upsert(Service(key=key, name=name, leika_keys=(LeikaKey(leika),)))


def mirror_state(store: Store) -> dict[tuple[str, str, str], tuple[str, bool]]:
    """(source, kind, key) -> (content hash, deleted) of every mirror row."""
    return {
        (r.source, r.kind, r.natural_key): (r.content_hash, r.deleted)
        for r in store.records(include_deleted=True)
    }


def replay_history(store: Store) -> dict[tuple[str, str, str], tuple[str, bool]]:
    """Replay the history in order; return the state it produces (like mirror_state)."""
    state: dict[tuple[str, str, str], tuple[str, bool]] = {}
    for entry in store.history():
        key = (entry.source, entry.kind, entry.natural_key)
        if entry.op is Operation.UPSERT:
            assert entry.new_hash is not None
            assert entry.payload is not None
            state[key] = (entry.new_hash, False)
        else:
            assert key in state, f"delete of {key} before any upsert"
            state[key] = (state[key][0], True)
    return state
