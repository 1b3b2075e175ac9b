"""The connector conformance suite: one import checks a connector against the contract.

Subclass :class:`ConnectorConformance` in a test module and provide a ``connector``
fixture that returns a new, unopened connector instance::

    import pytest
    from efa_core.testing.conformance import ConnectorConformance

    class TestMyConnector(ConnectorConformance):
        @pytest.fixture
        def connector(self, tmp_path):
            return MyConnector(MyConfig(path=str(tmp_path / "x")), name="mine")

Every ``test_*`` method of the base class then runs against it.  Optional fixtures refine
the checks (override them the same way):

``connector_config_table``
    The options table (as in ``efa.toml``, without ``type``) to round-trip through the
    config class; default: derived from ``connector.config``.
``failing_connector``
    A connector whose source fails (unreachable server, missing file, bad credentials);
    default ``None`` skips the error-type checks.
``push_changes``
    The changes to push for PUSH connectors; default: the changes a pull returns, or a
    skip for push-only connectors.
``input_counts``
    The objects in the ``connector``'s input per kind, counted by the test from the
    fixture itself, not by the connector (e.g. ``{"service": 8, "footer-line": 2}``);
    :func:`~efa_core.testing.accounting.assert_accounted` then checks that every one of
    them ends stored, quarantined or skipped.  Default ``None`` skips that check.

Make the source deliver several batches (a small batch or page size), so resuming from
intermediate cursors is exercised, and use distinctive secret values (at least 4
characters) so the leak check can find them.

The checks run the connector on a private event loop; the tests themselves are plain
functions and need no async pytest plugin.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, TypeVar

import attrs
import pytest

from efa_core.config import config_to_table, structure_options
from efa_core.connectors import (
    PULL_CAPABILITIES,
    Batch,
    Capability,
    Change,
    CheckResult,
    Connector,
    Delete,
    PushResult,
    Rejected,
    Upsert,
    _PrivateLoop,
    validate_connector_class,
)
from efa_core.errors import ConfigError, ConnectorError, EfaError
from efa_core.model import RECORD_TYPES
from efa_core.secret import MASK, Secret
from efa_core.serialization import record_from_dict, record_to_dict, to_json
from efa_core.testing.accounting import assert_accounted

__all__ = ["MAX_BATCHES", "ConnectorConformance", "pull_all", "run"]

_T = TypeVar("_T")

#: A pull with more batches than this is taken to be endless.
MAX_BATCHES = 10_000

#: Field names that hold secrets; they must be typed :class:`~efa_core.secret.Secret`.
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|credential)", re.IGNORECASE)
#: Secrets shorter than this are not searched for (they would match by accident).
_MIN_SECRET_LENGTH = 4


def run(operation: Callable[[], Coroutine[Any, Any, _T]] | Awaitable[_T]) -> _T:
    """Run a coroutine (or a coroutine function) on a private event loop and return its result."""
    awaitable = operation() if callable(operation) else operation
    loop = _PrivateLoop()
    try:
        return loop.run(awaitable)
    finally:
        loop.close()


async def pull_all(connector: Connector, cursor: str | None = None) -> list[Batch]:
    """Pull every batch from an open *connector*, starting after *cursor*."""
    batches: list[Batch] = []
    async for batch in connector.pull(cursor):
        batches.append(batch)
        if len(batches) > MAX_BATCHES:
            pytest.fail(f"{connector.label}: pull() yielded more than {MAX_BATCHES} batches")
    return batches


def _item(entry: Change | Rejected) -> Hashable:
    """Return a hashable, exact identity of one pulled item, for comparing pulls."""
    if isinstance(entry, Upsert):
        return ("upsert", entry.kind, entry.key, to_json(entry.record))
    if isinstance(entry, Delete):
        return ("delete", entry.kind, entry.key)
    return ("rejected", entry.kind, entry.position)


def _items(batches: Sequence[Batch]) -> list[Hashable]:
    return [_item(entry) for batch in batches for entry in (*batch.changes, *batch.rejected)]


def _describe(item: Hashable) -> str:
    assert isinstance(item, tuple)
    what, kind, key = item[:3]
    return f"{what} {kind} {key!r}"


def _describe_all(counter: Counter[Hashable], limit: int = 5) -> str:
    items = [f"{_describe(item)} (x{count})" for item, count in counter.items()]
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _secret_paths(config: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the paths of the Secret fields (also in nested attrs instances) of *config*."""
    for field in attrs.fields(type(config)):
        value = getattr(config, field.name)
        if isinstance(value, Secret):
            yield (*prefix, field.name)
        elif attrs.has(type(value)):
            yield from _secret_paths(value, (*prefix, field.name))


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = obj[name] if isinstance(obj, dict) else getattr(obj, name)
    return obj


def _set(table: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        table = table[name]
    table[path[-1]] = value


def _revealed_table(config: Any) -> dict[str, Any]:
    """Return the config as a table with the real secret values, as a user writes it."""
    table = config_to_table(config)
    for path in _secret_paths(config):
        _set(table, path, _get(config, path).reveal())
    return table


def _looks_like_secret_fields(config_class: type[Any]) -> list[str]:
    return [
        field.name
        for field in attrs.fields(config_class)
        if _SECRET_NAME.search(field.name)
        # token_url, secret_path ...: where a secret lives, not the secret itself
        and not field.name.endswith(("_url", "_uri", "_path", "_file"))
        and field.type is not Secret
        and "Secret" not in str(field.type)
    ]


class ConnectorConformance:
    """Checks that a connector keeps the contract of :mod:`efa_core.connectors`.

    Subclass it as ``Test...`` and provide the ``connector`` fixture (see the module docs).
    """

    # -- fixtures the subclass provides or overrides ---------------------------------------

    @pytest.fixture
    def connector(self) -> Connector:
        """Override: return a new, unopened instance of the connector under test."""
        pytest.fail(
            f"{type(self).__name__} must define a 'connector' fixture returning a new, "
            "unopened connector instance"
        )

    @pytest.fixture
    def connector_config_table(self) -> dict[str, Any] | None:
        """Override: the options table to round-trip (``None``: derive from the connector)."""
        return None

    @pytest.fixture
    def failing_connector(self) -> Connector | None:
        """Override: a connector whose source fails (``None`` skips the error checks)."""
        return None

    @pytest.fixture
    def push_changes(self) -> Sequence[Change] | None:
        """Override: the changes to push (``None``: use what a pull returns)."""
        return None

    @pytest.fixture
    def input_counts(self) -> Mapping[str, int] | None:
        """Override: the input objects per kind, counted from the fixture (``None``: skip)."""
        return None

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _pulls(connector: Connector) -> bool:
        return bool(connector.capabilities & PULL_CAPABILITIES)

    def _require_pull(self, connector: Connector) -> None:
        if not self._pulls(connector):
            pytest.skip(f"{connector.label} does not pull")

    def _pull(self, connector: Connector, cursor: str | None = None) -> list[Batch]:
        async def pull() -> list[Batch]:
            async with connector:
                return await pull_all(connector, cursor)

        return run(pull)

    # -- the contract ---------------------------------------------------------------------

    def test_class_declares_the_contract(self, connector: Connector) -> None:
        """type_name, capabilities and config_class are valid; the instance fits them."""
        cls = type(connector)
        validate_connector_class(cls)
        assert isinstance(connector.config, cls.config_class), (
            f"{connector.label}: config is a {type(connector.config).__qualname__}, "
            f"not its config_class {cls.config_class.__qualname__}"
        )
        assert isinstance(connector.name, str), "connector.name is not a string"
        assert connector.name, "connector.name is empty"
        assert not connector.is_open, "the connector fixture must return an unopened connector"

    def test_operations_need_async_with(self, connector: Connector) -> None:
        """pull(), push() and check() outside ``async with`` raise ConnectorError."""

        async def outside() -> None:
            if self._pulls(connector):
                with pytest.raises(ConnectorError, match="outside 'async with"):
                    connector.pull()
            if Capability.PUSH in connector.capabilities:
                with pytest.raises(ConnectorError, match="outside 'async with"):
                    await connector.push([])
            with pytest.raises(ConnectorError, match="outside 'async with"):
                await connector.check()

        run(outside)

    def test_undeclared_capabilities_raise(self, connector: Connector) -> None:
        """An operation the connector does not declare raises ConnectorError naming it."""
        missing = []
        if not self._pulls(connector):
            missing.append("pull")
        if Capability.PUSH not in connector.capabilities:
            missing.append("push")
        if not missing:
            pytest.skip(f"{connector.label} declares every operation")

        async def undeclared() -> None:
            async with connector:
                if "pull" in missing:
                    with pytest.raises(ConnectorError) as pulled:
                        connector.pull()
                    assert connector.name in str(pulled.value)
                    assert "pull" in str(pulled.value)
                if "push" in missing:
                    with pytest.raises(ConnectorError) as pushed:
                        await connector.push([])
                    assert connector.name in str(pushed.value)
                    assert "push" in str(pushed.value)

        run(undeclared)

    def test_check_reports_ok(self, connector: Connector) -> None:
        """check() on a working source returns ``CheckResult(ok=True, ...)``."""

        async def check() -> CheckResult:
            async with connector:
                return await connector.check()

        result = run(check)
        assert isinstance(result, CheckResult)
        assert result.ok, f"{connector.label}: check() failed: {result.detail}"
        assert isinstance(result.detail, str)
        assert result.detail, f"{connector.label}: check() gives no detail"

    def test_declared_pull_works(self, connector: Connector) -> None:
        """A pull ends; only its last batch, and that one, is ``complete``."""
        self._require_pull(connector)
        batches = self._pull(connector)
        assert batches, f"{connector.label}: pull() yielded no batch (yield at least one)"
        for number, batch in enumerate(batches[:-1], start=1):
            assert not batch.complete, (
                f"{connector.label}: batch {number} of {len(batches)} is complete, but only "
                "the last batch may be"
            )
            assert batch.cursor is None or isinstance(batch.cursor, str)
        assert batches[-1].complete, (
            f"{connector.label}: the last batch of a finished pull must be complete "
            "(SNAPSHOT: everything delivered; CHANGE_FEED: caught up)"
        )

    def test_every_input_object_is_accounted_for(
        self, connector: Connector, input_counts: Mapping[str, int] | None
    ) -> None:
        """Input objects = stored + quarantined + skipped, per kind (with ``input_counts``)."""
        self._require_pull(connector)
        if input_counts is None:
            pytest.skip("no input_counts fixture: the accounting of the input is not checked")
        assert_accounted(connector, input_counts)

    def test_pulled_records_validate(self, connector: Connector) -> None:
        """Every upsert holds a valid record that round-trips through serialization."""
        self._require_pull(connector)
        for number, batch in enumerate(self._pull(connector), start=1):
            where = f"{connector.label}, batch {number}"
            for change in batch.changes:
                if isinstance(change, Delete):
                    assert change.kind in RECORD_TYPES, (
                        f"{where}: Delete of unknown kind {change.kind!r}"
                    )
                    assert isinstance(change.key, str), f"{where}: Delete key is not a string"
                    assert change.key, f"{where}: Delete without key"
                    continue
                assert isinstance(change, Upsert), f"{where}: {change!r} is not Upsert or Delete"
                record = change.record
                expected = RECORD_TYPES.get(change.kind)
                assert expected is not None, f"{where}: unknown record kind {change.kind!r}"
                assert isinstance(record, expected), (
                    f"{where}: {type(record).__qualname__} is not a {change.kind} record"
                )
                assert isinstance(change.key, str), f"{where}: natural key is not a string"
                assert change.key, f"{where}: {change.kind} record has an empty natural key"
                again = record_from_dict(record_to_dict(record), context=where)
                assert again == record, (
                    f"{where}: {change.kind} {change.key!r} does not survive a serialization "
                    f"round trip:\n  pulled: {record!r}\n  read back: {again!r}"
                )
            for rejected in batch.rejected:
                assert isinstance(rejected, Rejected)
                assert rejected.position, f"{where}: a Rejected without position"
                assert rejected.problems, (
                    f"{where}: Rejected at {rejected.position} lists no problem"
                )

    def test_snapshot_keys_are_unique(self, connector: Connector) -> None:
        """In one complete snapshot, each (kind, natural key) is upserted at most once."""
        if Capability.SNAPSHOT not in connector.capabilities:
            pytest.skip(f"{connector.label} is not a SNAPSHOT connector")
        first_batch: dict[tuple[str, str], int] = {}
        counts: Counter[tuple[str, str]] = Counter()
        for number, batch in enumerate(self._pull(connector), start=1):
            for change in batch.changes:
                if isinstance(change, Upsert):
                    counts[change.kind, change.key] += 1
                    first_batch.setdefault((change.kind, change.key), number)
        duplicates = [
            f"{kind} {key!r} ({count} times, first in batch {first_batch[kind, key]})"
            for (kind, key), count in counts.items()
            if count > 1
        ]
        assert not duplicates, (
            f"{connector.label}: natural keys repeat within one complete snapshot: "
            + ", ".join(duplicates[:10])
            + (f", and {len(duplicates) - 10} more" if len(duplicates) > 10 else "")
        )

    def test_resume_from_every_cursor(self, connector: Connector) -> None:
        """Resuming after batch N yields exactly what followed batch N: no duplicates, no gaps."""
        self._require_pull(connector)

        async def check() -> None:
            async with connector:
                full = await pull_all(connector)
                expected = _items(full)
                if len(full) < 2:
                    pytest.skip(
                        f"{connector.label} returned a single batch; make the source deliver "
                        "several (a small batch or page size) to check resuming"
                    )
                for number, batch in enumerate(full[:-1], start=1):
                    if batch.cursor is None:
                        continue
                    resumed = await pull_all(connector, batch.cursor)
                    combined = _items(full[:number]) + _items(resumed)
                    if combined == expected:
                        continue
                    repeated = Counter(combined) - Counter(expected)
                    missed = Counter(expected) - Counter(combined)
                    where = (
                        f"{connector.label}: resuming from the cursor of batch {number} "
                        f"({batch.cursor!r})"
                    )
                    if repeated:
                        pytest.fail(
                            f"{where} repeats items already delivered: {_describe_all(repeated)}"
                        )
                    if missed:
                        pytest.fail(
                            f"{where} misses items of the full pull: {_describe_all(missed)}"
                        )
                    pytest.fail(f"{where} delivers the items of the full pull in another order")
                last = full[-1].cursor
                if last is not None:
                    after = await pull_all(connector, last)
                    extra = _items(after)
                    assert not extra, (
                        f"{connector.label}: resuming from the final cursor {last!r} yields "
                        f"{len(extra)} more item(s): {_describe_all(Counter(extra))}"
                    )

        run(check)

    def test_config_round_trips(
        self, connector: Connector, connector_config_table: dict[str, Any] | None
    ) -> None:
        """Options structure, unstructure (secrets masked) and structure again unchanged."""
        cls = type(connector)
        context = f"efa.toml [connectors.{connector.name}]"
        table = (
            _revealed_table(connector.config)
            if connector_config_table is None
            else dict(connector_config_table)
        )
        config = structure_options(cls.config_class, table, context=context)
        if connector_config_table is None:
            assert config == connector.config, (
                f"{connector.label}: the config does not survive unstructure + structure:\n"
                f"  before: {connector.config!r}\n  after: {config!r}"
            )
        unstructured = config_to_table(config)
        for path in _secret_paths(config):
            shown = _get(unstructured, path)
            assert shown == MASK, (
                f"{connector.label}: secret field {'.'.join(path)} unstructures to {shown!r}, "
                "not the mask"
            )
            _set(unstructured, path, _get(config, path).reveal())
        again = structure_options(cls.config_class, unstructured, context=context)
        assert again == config, (
            f"{connector.label}: the config does not survive a round trip:\n"
            f"  first: {config!r}\n  again: {again!r}"
        )

    def test_config_rejects_unknown_keys(
        self, connector: Connector, connector_config_table: dict[str, Any] | None
    ) -> None:
        """An unknown option is a ConfigError naming the table and the key."""
        table = (
            _revealed_table(connector.config)
            if connector_config_table is None
            else dict(connector_config_table)
        )
        table["no_such_option"] = "x"
        context = f"efa.toml [connectors.{connector.name}]"
        with pytest.raises(ConfigError) as raised:
            structure_options(type(connector).config_class, table, context=context)
        assert context in str(raised.value)
        assert "'no_such_option'" in str(raised.value)

    def test_push_works(self, connector: Connector, push_changes: Sequence[Change] | None) -> None:
        """A PUSH connector writes changes and returns a PushResult."""
        if Capability.PUSH not in connector.capabilities:
            pytest.skip(f"{connector.label} does not push")
        changes = push_changes
        if changes is None:
            if not self._pulls(connector):
                pytest.skip("provide a push_changes fixture to check push")
            changes = [c for batch in self._pull(connector) for c in batch.changes]

        async def push() -> PushResult:
            async with connector:
                return await connector.push(changes)

        result = run(push)
        assert isinstance(result, PushResult)
        assert 0 <= result.written <= len(changes), (
            f"{connector.label}: push() of {len(changes)} changes reports {result.written} written"
        )
        assert result.target, f"{connector.label}: PushResult.target is empty"

    def test_failures_are_typed(
        self, failing_connector: Connector | None, push_changes: Sequence[Change] | None
    ) -> None:
        """A failing source raises EfaError subclasses only; an own check() reports ok=False."""
        if failing_connector is None:
            pytest.skip("provide a failing_connector fixture to check error types")
        connector = failing_connector

        async def check() -> CheckResult:
            async with connector:
                return await connector.check()

        try:
            result: CheckResult | None = run(check)
        except EfaError:
            result = None  # opening failed with a typed error: acceptable
        except Exception as exc:
            pytest.fail(
                f"{connector.label}: opening or checking a failing source raised "
                f"{type(exc).__qualname__} ({exc}); raise an efa_core.errors.EfaError "
                "subclass (e.g. ConnectorError) or report CheckResult(ok=False)"
            )
        implements_check = type(connector).check_source is not Connector.check_source
        if result is not None and implements_check:
            assert not result.ok, f"{connector.label}: check() of a failing source reported ok"
            assert result.detail, f"{connector.label}: check() gives no detail for the failure"

        async def operate() -> None:
            async with connector:
                if self._pulls(connector):
                    await pull_all(connector)
                else:
                    await connector.push(list(push_changes or ()))

        try:
            run(operate)
        except EfaError:
            return
        except Exception as exc:
            pytest.fail(
                f"{connector.label}: a failing source raised {type(exc).__qualname__} ({exc}); "
                "raise an efa_core.errors.EfaError subclass (e.g. ConnectorError) instead"
            )
        pytest.fail(f"{connector.label}: the failing_connector fixture's source did not fail")

    def test_secrets_stay_hidden(
        self, connector: Connector, caplog: pytest.LogCaptureFixture
    ) -> None:
        """No secret shows in reprs, the unstructured config or the log of a session."""
        looks_secret = _looks_like_secret_fields(type(connector).config_class)
        assert not looks_secret, (
            f"{connector.label}: config field(s) {', '.join(looks_secret)} look like secrets; "
            "declare them as efa_core.secret.Secret"
        )
        secrets = [
            _get(connector.config, path).reveal() for path in _secret_paths(connector.config)
        ]
        secrets = [s for s in secrets if len(s) >= _MIN_SECRET_LENGTH]
        if not secrets:
            pytest.skip(f"{connector.label} has no secret (of 4 or more characters) configured")
        caplog.set_level(logging.DEBUG)

        async def session() -> list[str]:
            shown = [repr(connector), str(connector)]
            async with connector:
                shown.append(repr(connector))
                result = await connector.check()
                shown.append(result.detail)
                if self._pulls(connector):
                    batches = await pull_all(connector)
                    shown.extend(str(r.problems) for b in batches for r in b.rejected)
            return shown

        shown = run(session)
        shown += [
            repr(connector.config),
            str(connector.config),
            str(config_to_table(connector.config)),
        ]
        shown.append(caplog.text)
        for text in shown:
            for secret in secrets:
                assert secret not in text, (
                    f"{connector.label}: a secret value appears in: "
                    + text.replace(secret, "<SECRET>")[:300]
                )
