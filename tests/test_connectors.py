"""The connector contract: change types, the Connector base class, the sync facade."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

import attrs
import pytest

from efa_core.connectors import (
    Batch,
    Capability,
    Change,
    CheckResult,
    Connector,
    Delete,
    PushResult,
    Rejected,
    Upsert,
    check_sync,
    pull_sync,
    push_sync,
    validate_connector_class,
)
from efa_core.errors import ConnectorError, EfaError, PluginError
from efa_core.ids import Ars
from efa_core.model import Area


def area(ars: str, name: str) -> Area:
    return Area(ars=Ars(ars), name=name)


AREAS = [area("16", "Thüringen"), area("16055", "Erfurt"), area("16053", "Jena")]


@attrs.frozen(kw_only=True)
class MemoryConfig:
    batch_size: int = 2


class MemoryConnector(Connector):
    """A snapshot + push connector over a list, recording its lifecycle."""

    type_name: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SNAPSHOT, Capability.PUSH}
    )
    config_class: ClassVar[type[Any]] = MemoryConfig

    def __init__(self, config: MemoryConfig, *, name: str) -> None:
        super().__init__(config, name=name)
        self.events: list[str] = []
        self.pushed: list[Change] = []

    async def setup(self) -> None:
        self.events.append("setup")

    async def teardown(self) -> None:
        self.events.append("teardown")

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        start = int(cursor or 0)
        size = self.config.batch_size
        try:
            while True:
                end = min(start + size, len(AREAS))
                yield Batch([Upsert(a) for a in AREAS[start:end]], str(end), end == len(AREAS))
                if end == len(AREAS):
                    return
                start = end
        finally:
            self.events.append("pull closed")

    async def push_changes(self, changes: Sequence[Change]) -> PushResult:
        self.pushed.extend(changes)
        return PushResult(written=len(changes), target="memory")


class PushOnly(Connector):
    type_name: ClassVar[str] = "push-only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PUSH})
    config_class: ClassVar[type[Any]] = MemoryConfig

    async def push_changes(self, changes: Sequence[Change]) -> PushResult:
        return PushResult(written=0, target="nowhere")


class PullOnly(Connector):
    type_name: ClassVar[str] = "pull-only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CHANGE_FEED})
    config_class: ClassVar[type[Any]] = MemoryConfig

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        yield Batch([Delete("area", "16")], None, complete=True)


def memory(batch_size: int = 2) -> MemoryConnector:
    return MemoryConnector(MemoryConfig(batch_size=batch_size), name="mem")


# -- change types ---------------------------------------------------------------------------


def test_upsert_derives_kind_and_key_from_the_record() -> None:
    change = Upsert(area("16055", "Erfurt"))
    assert change.kind == "area"
    assert change.key == "16055"
    assert change == Upsert(area("16055", "Erfurt"))
    assert change != Upsert(area("16055", "Erfurt (Stadt)"))


def test_batch_and_rejected_normalize_to_tuples() -> None:
    rejected = Rejected("area", "f.jsonl:line 3", "{}", [["$.ars", "required field missing"]])
    batch = Batch([Delete("area", "1")], "c", complete=False, rejected=[rejected])
    assert batch.changes == (Delete("area", "1"),)
    assert batch.rejected == (rejected,)
    assert rejected.problems == (("$.ars", "required field missing"),)
    assert PushResult(written=1, target="t", paths=["a"], messages=["m"]).paths == ("a",)


# -- class validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"type_name": "Bad Name"}, "type_name must be lower-case words joined by hyphens"),
        ({"capabilities": frozenset()}, "capabilities must be a non-empty frozenset"),
        ({"capabilities": {Capability.PUSH}}, "capabilities must be a non-empty frozenset"),
        (
            {"capabilities": frozenset({Capability.SNAPSHOT, Capability.CHANGE_FEED})},
            "both SNAPSHOT and CHANGE_FEED",
        ),
        (
            {"capabilities": frozenset({Capability.SNAPSHOT})},
            "declare a pull mode but pull_batches() is not defined",
        ),
        ({"config_class": dict}, "config_class must be an attrs class"),
    ],
)
def test_invalid_connector_classes_are_refused_at_definition(attributes, message) -> None:
    namespace = {
        "type_name": "fine",
        "capabilities": frozenset({Capability.PUSH}),
        "config_class": MemoryConfig,
        "push_changes": PushOnly.push_changes,
        **attributes,
    }
    with pytest.raises(PluginError, match="is not usable") as raised:
        type("Broken", (Connector,), namespace)
    assert message in str(raised.value)


def test_behaviour_without_capability_is_refused() -> None:
    with pytest.raises(PluginError, match=r"pull_batches\(\) is defined but capabilities"):

        class Sneaky(PushOnly):  # inherits type_name and capabilities: checked all the same
            async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
                yield Batch([], None, complete=True)


def test_intermediate_base_classes_are_not_checked() -> None:
    class HttpBase(Connector):  # no type_name: a base for concrete connectors
        config_class: ClassVar[type[Any]] = MemoryConfig

    class Concrete(HttpBase):
        type_name: ClassVar[str] = "concrete"
        capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PUSH})

        async def push_changes(self, changes: Sequence[Change]) -> PushResult:
            return PushResult(written=0, target="t")

    validate_connector_class(Concrete)
    with pytest.raises(PluginError, match="type_name must be"):
        validate_connector_class(HttpBase)


def test_validate_connector_class_rejects_non_connectors() -> None:
    with pytest.raises(PluginError, match="not a subclass"):
        validate_connector_class(MemoryConfig)
    validate_connector_class(MemoryConnector)


def test_config_must_be_the_config_class() -> None:
    with pytest.raises(TypeError, match="config must be a MemoryConfig, not dict"):
        MemoryConnector({"batch_size": 2}, name="mem")  # type: ignore[arg-type]


def test_base_class_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="declares no type_name"):
        Connector(MemoryConfig(), name="x")


# -- lifecycle and guards ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_lifecycle_and_resume() -> None:
    connector = memory()
    assert repr(connector) == "<MemoryConnector 'mem' type='memory' closed>"
    async with connector as opened:
        assert opened is connector
        assert connector.is_open
        assert "open>" in repr(connector)
        batches = [b async for b in connector.pull()]
        resumed = [b async for b in connector.pull(batches[0].cursor)]
    assert not connector.is_open
    assert [(len(b.changes), b.cursor, b.complete) for b in batches] == [
        (2, "2", False),
        (1, "3", True),
    ]
    assert resumed == batches[1:]
    assert connector.events == ["setup", "pull closed", "pull closed", "teardown"]
    await connector.aclose()  # closing twice is harmless
    assert connector.events.count("teardown") == 1
    async with connector:  # and it can be opened again
        assert connector.pull_mode is Capability.SNAPSHOT


@pytest.mark.anyio
async def test_operations_outside_async_with_are_errors() -> None:
    connector = memory()
    with pytest.raises(ConnectorError, match=r"'mem': pull\(\) called outside 'async with"):
        connector.pull()
    with pytest.raises(ConnectorError, match=r"push\(\) called outside"):
        await connector.push([])
    with pytest.raises(ConnectorError, match=r"check\(\) called outside"):
        await connector.check()


@pytest.mark.anyio
async def test_entering_twice_is_an_error() -> None:
    connector = memory()
    async with connector:
        with pytest.raises(ConnectorError, match="already open"):
            await connector.__aenter__()


@pytest.mark.anyio
async def test_undeclared_capabilities_raise_naming_connector_and_capability() -> None:
    async with PushOnly(MemoryConfig(), name="out") as push_only:
        with pytest.raises(ConnectorError) as pulled:
            push_only.pull()
        assert str(pulled.value) == (
            "push-only connector 'out' cannot pull: that needs capability SNAPSHOT or "
            "CHANGE_FEED, but it declares PUSH"
        )
        assert push_only.pull_mode is None
    async with PullOnly(MemoryConfig(), name="feed") as pull_only:
        with pytest.raises(ConnectorError, match=r"'feed' cannot push: .*declares CHANGE_FEED"):
            await pull_only.push([])
        [batch] = [b async for b in pull_only.pull()]
        assert batch.changes == (Delete("area", "16"),)


@pytest.mark.anyio
async def test_closing_mid_pull_stops_the_pull() -> None:
    connector = memory(batch_size=1)
    async with connector:
        batches = connector.pull()
        await anext(batches)
        await connector.aclose()
        with pytest.raises(ConnectorError, match="outside 'async with"):
            await anext(batches)


@pytest.mark.anyio
async def test_provider_results_are_checked() -> None:
    class Liar(MemoryConnector):
        async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
            yield [Upsert(AREAS[0])]  # type: ignore[misc]

        async def push_changes(self, changes: Sequence[Change]) -> PushResult:
            return "done"  # type: ignore[return-value]

        async def check_source(self) -> CheckResult:
            return True  # type: ignore[return-value]

    async with Liar(MemoryConfig(), name="liar") as liar:
        with pytest.raises(ConnectorError, match=r"pull_batches\(\) yielded list, not a Batch"):
            [b async for b in liar.pull()]
        with pytest.raises(ConnectorError, match=r"push_changes\(\) returned str"):
            await liar.push([])
        with pytest.raises(ConnectorError, match=r"check_source\(\) returned bool"):
            await liar.check()


@pytest.mark.anyio
async def test_push_accepts_only_changes() -> None:
    async with memory() as connector:
        with pytest.raises(ConnectorError, match="item 1 is a Area"):
            await connector.push([Delete("area", "16"), AREAS[0]])  # type: ignore[list-item]
        result = await connector.push([Upsert(AREAS[0]), Delete("area", "16")])
    assert result == PushResult(written=2, target="memory")


@pytest.mark.anyio
async def test_cursor_must_be_a_string() -> None:
    async with memory() as connector:
        with pytest.raises(ConnectorError, match="a cursor is a string, not int"):
            connector.pull(2)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_default_check_reports_the_opened_connector() -> None:
    async with memory() as connector:
        result = await connector.check()
    assert result == CheckResult(
        ok=True, detail="memory connector 'mem' opened (no check implemented)"
    )


def test_errors_are_efa_errors() -> None:
    assert issubclass(ConnectorError, EfaError)


# -- sync facade ------------------------------------------------------------------------------


def test_pull_sync_opens_pulls_and_closes() -> None:
    connector = memory()
    batches = list(pull_sync(connector, cursor="1"))
    assert [[c.key for c in b.changes] for b in batches] == [["16055", "16053"]]
    assert connector.events == ["setup", "pull closed", "teardown"]
    assert not connector.is_open


def test_pull_sync_stopped_early_closes_the_connector() -> None:
    connector = memory(batch_size=1)
    batches = pull_sync(connector)
    first = next(batches)
    assert first.cursor == "1"
    assert connector.is_open
    batches.close()  # what `break` in a for loop leads to
    assert connector.events == ["setup", "pull closed", "teardown"]
    assert not connector.is_open


def test_pull_sync_works_in_a_thread_without_event_loop() -> None:
    results: list[object] = []

    def work() -> None:
        try:
            results.append([b.cursor for b in pull_sync(memory())])
        except BaseException as exc:  # pragma: no cover - reported below
            results.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results == [["2", "3"]]


def test_push_sync_and_check_sync() -> None:
    connector = memory()
    assert push_sync(connector, [Delete("area", "16")]).written == 1
    assert connector.pushed == [Delete("area", "16")]
    assert check_sync(connector).ok
    assert connector.events == ["setup", "teardown", "setup", "teardown"]


def test_sync_facade_errors_propagate_and_close() -> None:
    connector = PushOnly(MemoryConfig(), name="out")
    with pytest.raises(ConnectorError, match="cannot pull"):
        list(pull_sync(connector))
    assert not connector.is_open


@pytest.mark.anyio
async def test_sync_facade_refuses_inside_a_running_loop() -> None:
    connector = memory()
    for call in (
        lambda: pull_sync(connector),
        lambda: push_sync(connector, []),
        lambda: check_sync(connector),
    ):
        with pytest.raises(ConnectorError, match="cannot run inside a running event loop"):
            call()
    assert connector.events == []


def test_sync_facade_refuses_an_open_connector() -> None:
    connector = memory(batch_size=1)
    batches = pull_sync(connector)
    next(batches)  # the connector is open now
    with pytest.raises(ConnectorError, match=r"opens and closes .* but it is already open"):
        check_sync(connector)
    batches.close()
    assert not connector.is_open
