"""The sync engine: pull every source through its connector into the store.

:class:`SyncEngine` runs one *sync run* per source.  For each batch a connector yields, it

1. validates: changes that are not valid records, and the connector's own
   :class:`~efa_core.connectors.Rejected` records, go to the quarantine (counted; the rest
   of the batch goes on);
2. hashes each record's content and drops no-ops (same hash as stored);
3. applies the mirror rows, the history and the new cursor in **one transaction**
   (:meth:`efa_core.store.Store.apply`);
4. tells listeners: ``efa_on_changes(source, run_id, changes)`` after the commit.

A crash at any moment leaves the store as it was after the last committed batch, and the
next run resumes from the stored cursor.  A *snapshot* source deletes (tombstones) what it
no longer contains only when a snapshot completed; a failed or partial snapshot deletes
nothing.  A *change feed* applies deletes as they come; deletes of unknown keys are counted
as orphan deletes and otherwise ignored.  After each run ``efa_on_sync_finished`` reports
its status and counts.

Sources are pulled concurrently (asyncio); all store calls run in one writer thread, so
writes are serialized.  A source is synced by one process at a time: the engine takes the
source's sync lock (a PostgreSQL advisory lock; for SQLite one lock file per database)
and waits up to ``lock_timeout`` seconds for it, then gives up with a clear message.

``dry_run=True`` applies everything inside one transaction, reports the plan (adds,
changes and deletes per kind, with example keys) and rolls the transaction back: nothing
is written and no hook is called.

Scripts call :meth:`SyncEngine.run`; async code awaits :meth:`SyncEngine.arun`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import traceback
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import orjson

from efa_core.config import DEFAULT_MAX_DELETE_SHARE, EfaConfig, build_connector
from efa_core.connectors import Batch, Capability, Change, Connector, Delete, Upsert
from efa_core.errors import ConfigError, EfaError, ValidationError
from efa_core.secret import redact_known
from efa_core.store import (
    COUNT_NAMES,
    BatchResult,
    Operation,
    PreparedDelete,
    PreparedUpsert,
    Quarantined,
    RunMode,
    RunStatus,
    SkipCount,
    SnapshotCheck,
    Store,
    StoreLocked,
    prepare,
)

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry

__all__ = [
    "KindPlan",
    "Plan",
    "ProgressCallback",
    "SourceReport",
    "SyncEngine",
    "SyncProgress",
    "SyncReport",
    "prepare_batch",
]

log = logging.getLogger("efa_core.sync")

_T = TypeVar("_T")

#: How many snapshot deletes go into one ``efa_on_changes`` call.
_HOOK_CHUNK = 1000


@attrs.frozen(kw_only=True)
class SyncProgress:
    """A progress event of one source's run, passed to the progress callback.

    *event* is ``"started"``, ``"batch"`` (after each applied batch) or ``"finished"``.
    *records* counts the changes, rejected records and unchanged input objects so far.
    """

    source: str
    run_id: str | None
    event: str
    batches: int
    records: int
    counts: Mapping[str, int]
    status: RunStatus | None = None


#: The progress callback: called in the event loop's thread; keep it quick.
ProgressCallback = Callable[[SyncProgress], None]


@attrs.frozen(kw_only=True)
class KindPlan:
    """The planned changes of one record kind in a dry run, with example natural keys."""

    kind: str
    added: int = 0
    changed: int = 0
    deleted: int = 0
    #: ``"added"|"changed"|"deleted"`` -> a few natural keys.
    examples: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Plan:
    """What a dry run would have done to one source, per record kind."""

    kinds: Mapping[str, KindPlan] = attrs.field(factory=dict)

    @property
    def empty(self) -> bool:
        """Whether the run would change nothing."""
        return not any(k.added or k.changed or k.deleted for k in self.kinds.values())


@attrs.frozen(kw_only=True)
class SourceReport:
    """The outcome of syncing one source.

    The counters: *added* (new keys, also keys that come back after a delete), *changed*
    (new content for a live key), *unchanged* (same content: not written), *deleted*
    (deletes applied, including tombstones of a completed snapshot), *orphan_deletes*
    (deletes of unknown or already deleted keys: ignored), *quarantined* (invalid records),
    *skipped* (input objects the connector deliberately did not turn into records, e.g.
    footer lines; see :attr:`skipped_reasons`).  For every kind, the input objects are
    ``added + changed + unchanged + quarantined + skipped`` of :attr:`by_kind`.
    """

    source: str
    run_id: str | None
    status: RunStatus
    mode: RunMode | None
    dry_run: bool
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    orphan_deletes: int = 0
    quarantined: int = 0
    skipped: int = 0
    batches: int = 0
    #: Seconds from the start of the run to its end.
    duration: float = 0.0
    cursor_before: str | None = None
    cursor_after: str | None = None
    error: str | None = None
    #: The plan of a dry run (``None`` otherwise).
    plan: Plan | None = None
    #: The counters per record kind: ``by_kind["service"]["added"]``.
    by_kind: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    #: The skipped input objects, per kind and reason.
    skipped_reasons: tuple[SkipCount, ...] = ()
    #: What completing the snapshot found, and whether the shrink guard refused it.
    snapshot: SnapshotCheck | None = None
    #: Things worth knowing that did not fail the run (e.g. an empty snapshot).
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the run succeeded."""
        return self.status is RunStatus.SUCCEEDED

    def counts(self) -> dict[str, int]:
        """Return the counters by name (see :data:`efa_core.store.COUNT_NAMES`)."""
        return {name: getattr(self, name) for name in COUNT_NAMES}


@attrs.frozen
class SyncReport(Mapping[str, SourceReport]):
    """The reports of one :meth:`SyncEngine.run`, by source name (in the order synced)."""

    reports: tuple[SourceReport, ...]
    dry_run: bool = False

    def __getitem__(self, source: str) -> SourceReport:
        for report in self.reports:
            if report.source == source:
                return report
        raise KeyError(source)

    def __iter__(self) -> Iterator[str]:
        return (report.source for report in self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    @property
    def ok(self) -> bool:
        """Whether every source's run succeeded."""
        return all(report.ok for report in self.reports)


def _raw_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("utf-8", errors="replace")
    try:
        return orjson.dumps(raw, default=str).decode()
    except TypeError:
        return repr(raw)


def _change_raw(change: object) -> str | None:
    if isinstance(change, Upsert):
        try:
            from efa_core.serialization import record_to_dict

            return orjson.dumps(record_to_dict(change.record), default=str).decode()
        except Exception:
            return repr(change.record)
    if isinstance(change, Delete):
        return orjson.dumps({"delete": {"kind": change.kind, "key": change.key}}).decode()
    return repr(change)


def prepare_batch(
    batch: Batch, *, source: str, batch_no: int
) -> tuple[list[PreparedUpsert | PreparedDelete], list[Quarantined]]:
    """Validate and hash a batch: return the changes to apply and the records to quarantine.

    The connector's rejected records are quarantined as they are; a change that is not a
    valid record is quarantined at position ``"<source> batch <n> item <i>"``.
    """
    prepared: list[PreparedUpsert | PreparedDelete] = []
    quarantined = [
        Quarantined(
            kind=r.kind, position=r.position, raw=_raw_text(r.raw), problems=tuple(r.problems)
        )
        for r in batch.rejected
    ]
    for index, change in enumerate(batch.changes):
        try:
            prepared.append(prepare(change))
        except ValidationError as exc:
            kind = getattr(change, "kind", None)
            quarantined.append(
                Quarantined(
                    kind=kind if isinstance(kind, str) else None,
                    position=f"{source} batch {batch_no} item {index}",
                    raw=_change_raw(change),
                    problems=exc.problems,
                )
            )
    return prepared, quarantined


_DONE = object()


class _StoreThreadView:
    """The read access to the store that the engine lends to its connectors (a StoreView).

    Every query runs on the engine's store thread, between its writes, so a connector never
    reads half of another source's batch; the rows of one call are returned as a list.  The
    calls block until the store thread answers.
    """

    #: Answers kept per source before the cache is dropped (memory bound, ~100 bytes each).
    MAX_ANSWERS = 200_000

    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine
        #: source -> fingerprint -> ``(kind, key_hash)`` of its records, as answered to the
        #: connector; the engine takes them when the batch listing them is applied, so the
        #: store is not asked twice.  Only touched on the store thread.
        self._answers: dict[str, dict[bytes, tuple[tuple[str, int], ...]]] = {}

    def take(self, source: str, fingerprints: Sequence[bytes]) -> dict[bytes, Any]:
        """Remove and return the cached answers for *fingerprints* (on the store thread)."""
        answers = self._answers.get(source)
        if not answers:
            return {}
        return {fp: found for fp in fingerprints if (found := answers.pop(fp, None))}

    def _run(self, fn: Callable[[], _T]) -> _T:
        executor = self._engine._executor
        if executor is None:
            raise EfaError("the engine lends its store to connectors only while it runs")
        return executor.submit(fn).result()

    def records(
        self,
        source: str | None = None,
        kind: str | None = None,
        *,
        include_deleted: bool = False,
        leika_key: str | None = None,
        ars: str | None = None,
    ) -> Iterator[Any]:
        """Yield stored rows, as :meth:`efa_core.store.Store.records` does."""
        store = self._engine.store
        return iter(
            self._run(
                lambda: list(
                    store.records(
                        source,
                        kind,
                        include_deleted=include_deleted,
                        leika_key=leika_key,
                        ars=ars,
                    )
                )
            )
        )

    def stored_fingerprints(
        self, source: str, fingerprints: Collection[bytes]
    ) -> Mapping[bytes, tuple[int, ...]]:
        """Answer as :meth:`efa_core.store.Store.stored_fingerprints` does."""
        store = self._engine.store
        wanted = list(fingerprints)

        def ask() -> dict[bytes, tuple[int, ...]]:
            found = store.fingerprint_records(source, wanted)
            answers = self._answers.setdefault(source, {})
            if len(answers) + len(found) > self.MAX_ANSWERS:
                answers.clear()
            answers.update(found)
            return {
                fp: (records[0][1],) if len(records) == 1 else tuple(kh for _, kh in records)
                for fp, records in found.items()
            }

        return self._run(ask)


def _skip_counts(batch: Batch) -> list[SkipCount]:
    return [
        SkipCount(kind=skip.kind, reason=skip.reason, count=skip.count, position=skip.position)
        for skip in batch.skipped
        if skip.count
    ]


class _SourceRun:
    """The state of one source's run while the engine pulls it: counters, cursor, outcome."""

    def __init__(
        self,
        *,
        name: str,
        mode: RunMode,
        dry_run: bool,
        examples: int,
        max_delete_share: float | None,
        where: str,
    ) -> None:
        self.name = name
        self.mode = mode
        self.dry_run = dry_run
        self.examples = examples
        #: The shrink guard of this run (``None``: the source may shrink this time).
        self.max_delete_share = max_delete_share
        self.where = where
        self.run_id: str | None = None
        self.cursor_before: str | None = None
        self.cursor_after: str | None = None
        self.status = RunStatus.FAILED
        self.error: str | None = None
        self.warnings: list[str] = []
        self.batches = self.records = 0
        self.complete = False
        self.snapshot: SnapshotCheck | None = None
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNT_NAMES, 0))
        self.by_kind: Counter[tuple[str, str]] = Counter()
        self.skips: dict[tuple[str, str], list[Any]] = {}
        self.example_keys: dict[tuple[str, str], list[str]] = {}
        self._started = time.monotonic()

    def started(self, run_id: str, cursor: str | None) -> None:
        self.run_id = run_id
        self.cursor_before = self.cursor_after = cursor

    def on_batch(self, batch: Batch, result: BatchResult) -> None:
        """Count an applied batch; a refused snapshot fails the run."""
        self.batches += 1
        self.records += len(batch.changes) + len(batch.rejected) + len(batch.unchanged)
        self.warnings.extend(redact_known(warning) for warning in batch.warnings)
        self.counts.update(result.counts())
        self.by_kind.update(result.by_kind)
        for skip in batch.skipped:
            entry = self.skips.setdefault((skip.kind, skip.reason), [0, skip.position])
            entry[0] += skip.count
            entry[1] = entry[1] or skip.position
        for key, keys in result.examples.items():
            have = self.example_keys.setdefault(key, [])
            have.extend(keys[: max(self.examples - len(have), 0)])
        snapshot_ends = self.mode is RunMode.SNAPSHOT and batch.complete
        self.cursor_after = None if snapshot_ends else batch.cursor
        if batch.complete:
            self.complete = True
        check = result.snapshot
        if check is None:
            return
        self.snapshot = check
        if check.refused:
            self.error = self._refusal(check)
        elif check.delivered == 0:
            self.warnings.append(
                f"the snapshot of source {self.name!r} delivered no records (an empty source, "
                "or an input that is empty or holds only a header)"
            )

    def _refusal(self, check: SnapshotCheck) -> str:
        kept = self.counts["added"] + self.counts["changed"]
        head = f"source {self.name!r}: {check.reason}; nothing was deleted"
        if kept:
            head += f" (the run's {kept} new and changed records are kept)"
        allow = f"'efa sync --allow-shrink {self.name}'"
        if check.delivered == 0:
            return f"{head}. If the source is really empty now, run {allow}."
        return (
            f"{head}. If the source really shrank, run {allow} once, or raise "
            f"max_delete_share in {self.where}."
        )

    def pulled(self) -> None:
        """Decide how the run ends, after a pull that ended without an exception."""
        if self.error is not None:  # the shrink guard refused
            return
        if self.mode is RunMode.SNAPSHOT and not self.complete:
            self.error = (
                f"the pull of source {self.name!r} ended before its snapshot was complete; "
                "nothing was deleted, the next run resumes from the stored cursor"
            )
            return
        self.status = RunStatus.SUCCEEDED

    def failed(self, exc: Exception) -> None:
        """Record why the connector or the store raised (without secrets)."""
        error = str(exc) or type(exc).__name__
        if not isinstance(exc, EfaError):
            error = f"{type(exc).__name__}: {error}"
        self.error = redact_known(error)  # a secret echoed by a server never reaches the store
        self.status = RunStatus.FAILED
        trace = ""
        if not isinstance(exc, EfaError):  # a bug: keep the traceback, without secrets
            trace = "\n" + redact_known("".join(traceback.format_exception(exc)))
        log.error("sync of source %r failed: %s%s", self.name, self.error, trace)

    def final_counts(self) -> dict[str, int]:
        return {n: int(self.counts[n]) for n in COUNT_NAMES}

    def progress(self, event: str) -> SyncProgress:
        return SyncProgress(
            source=self.name,
            run_id=self.run_id,
            event=event,
            batches=self.batches,
            records=self.records,
            counts=self.final_counts(),
            status=self.status if event == "finished" else None,
        )

    def report(self) -> SourceReport:
        by_kind: dict[str, dict[str, int]] = {}
        for (kind, counter), n in sorted(self.by_kind.items()):
            if n:
                by_kind.setdefault(kind, {})[counter] = n
        named = f"source {self.name!r}"
        for message in self.warnings:
            log.warning("%s", message if message.startswith(named) else f"{named}: {message}")
        return SourceReport(
            source=self.name,
            run_id=self.run_id,
            status=self.status,
            mode=self.mode,
            dry_run=self.dry_run,
            batches=self.batches,
            duration=time.monotonic() - self._started,
            cursor_before=self.cursor_before,
            cursor_after=self.cursor_after,
            error=self.error,
            plan=_plan(self.by_kind, self.example_keys) if self.dry_run else None,
            by_kind=by_kind,
            skipped_reasons=tuple(
                SkipCount(kind=kind, reason=reason, count=n, position=position)
                for (kind, reason), (n, position) in sorted(self.skips.items())
            ),
            snapshot=self.snapshot,
            warnings=tuple(self.warnings),
            **self.final_counts(),
        )


class SyncEngine:
    """Runs connectors and applies their changes to a store.

    :param store: the store to write to (the engine uses it from its own writer thread
        while running; do not use the store elsewhere meanwhile).
    :param registry: the plugin registry (connector types and hook listeners).
    :param config: the configuration naming the sources (``[connectors.NAME]`` tables).
    :param progress: called with a :class:`SyncProgress` when a run starts, after each
        batch and when it ends.
    :param lock_timeout: seconds to wait for a source that another process is syncing.
    :param examples: example keys per kind and operation in a dry run's plan.
    """

    def __init__(
        self,
        store: Store,
        registry: PluginRegistry,
        config: EfaConfig,
        *,
        progress: ProgressCallback | None = None,
        lock_timeout: float = 60.0,
        examples: int = 5,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self.progress = progress
        self.lock_timeout = lock_timeout
        self.examples = examples
        self._executor: ThreadPoolExecutor | None = None
        self._view = _StoreThreadView(self)

    # -- entry points --------------------------------------------------------------------------

    def run(
        self,
        sources: Iterable[str] | None = None,
        *,
        dry_run: bool = False,
        allow_shrink: Iterable[str] | bool = (),
    ) -> SyncReport:
        """Sync *sources* (default: every configured source that can pull); block until done.

        :param allow_shrink: the sources (or ``True``: all) whose completed snapshots may
            delete any share of their records this time; for the others the shrink guard
            (``max_delete_share``) holds.

        :raises efa_core.errors.ConfigError: a source is not configured or its options are
            invalid (nothing is synced then).
        :raises efa_core.errors.EfaError: called inside a running event loop (use
            ``await engine.arun(...)`` there).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise EfaError(
                "SyncEngine.run() cannot be called inside a running event loop; "
                "use 'await engine.arun(...)'"
            )
        return asyncio.run(self.arun(sources, dry_run=dry_run, allow_shrink=allow_shrink))

    async def arun(
        self,
        sources: Iterable[str] | None = None,
        *,
        dry_run: bool = False,
        allow_shrink: Iterable[str] | bool = (),
    ) -> SyncReport:
        """Sync *sources* concurrently; return a report per source (see :meth:`run`).

        A source whose run fails does not stop the others; its report says why.
        """
        connectors = self._connectors(sources)
        if isinstance(allow_shrink, bool):
            allowed = {name for name, _ in connectors} if allow_shrink else set()
        else:
            allowed = set(allow_shrink)
            unknown = sorted(allowed - set(self.config.connectors))
            if unknown:
                raise ConfigError(
                    f"allow_shrink names {', '.join(map(repr, unknown))}, which "
                    f"{'is' if len(unknown) == 1 else 'are'} not configured"
                )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="efa-store")
        try:
            if dry_run:
                await self._call(self.store.begin)
            try:
                reports = await asyncio.gather(
                    *(
                        self._sync_source(name, c, dry_run=dry_run, allow_shrink=name in allowed)
                        for name, c in connectors
                    )
                )
            finally:
                if dry_run:
                    await self._call(self.store.rollback)
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None
        return SyncReport(tuple(reports), dry_run=dry_run)

    # -- helpers -------------------------------------------------------------------------------

    def _connectors(self, sources: Iterable[str] | None) -> list[tuple[str, Connector]]:
        names = list(self.config.connectors) if sources is None else list(dict.fromkeys(sources))
        out: list[tuple[str, Connector]] = []
        for name in names:
            connector = build_connector(self.registry, name, self.config)
            connector.store = self._view
            if connector.pull_mode is None:
                if sources is None:
                    log.info("skipping %s: it cannot pull", connector.label)
                    continue
                raise ConfigError(
                    f"{connector.label} cannot be synced: it declares no pull capability"
                )
            out.append((name, connector))
        return out

    async def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def _emit(self, progress: SyncProgress) -> None:
        if self.progress is not None:
            try:
                self.progress(progress)
            except Exception:  # a broken progress bar must not break the sync
                log.exception("progress callback failed")

    async def _lock(self, source: str) -> None:
        deadline = time.monotonic() + self.lock_timeout
        warned = False
        while not await self._call(self.store.try_lock_source, source):
            if time.monotonic() >= deadline:
                raise StoreLocked(
                    f"source {source!r} is being synced by another process into "
                    f"{self.store.url}; gave up after waiting {self.lock_timeout:g} s "
                    "(is another 'efa sync' still running?)"
                )
            if not warned:
                log.warning(
                    "source %r is being synced by another process; waiting up to %g s",
                    source,
                    self.lock_timeout,
                )
                warned = True
            await asyncio.sleep(0.1)

    async def _sync_source(
        self, name: str, connector: Connector, *, dry_run: bool, allow_shrink: bool
    ) -> SourceReport:
        mode = (
            RunMode.SNAPSHOT if connector.pull_mode is Capability.SNAPSHOT else RunMode.CHANGE_FEED
        )
        settings = self.config.connectors.get(name)
        share = settings.max_delete_share if settings is not None else DEFAULT_MAX_DELETE_SHARE
        run = _SourceRun(
            name=name,
            mode=mode,
            dry_run=dry_run,
            examples=self.examples,
            max_delete_share=None if allow_shrink else share,
            where=settings.where if settings is not None else f"[connectors.{name}]",
        )
        locked = False
        try:
            await self._lock(name)
            locked = True
            begun = await self._call(self.store.begin_run, name, mode)
            run_id = begun.run_id
            run.started(run_id, begun.cursor_before)
            self._emit(run.progress("started"))
            pulled = contextlib.aclosing(self._pull(connector, run.cursor_before, name))
            async with pulled as batches_in:
                async for batch, prepared, quarantined in batches_in:
                    result = await self._call(
                        self._apply,
                        run_id,
                        name,
                        prepared,
                        cursor=batch.cursor,
                        complete=batch.complete,
                        mode=mode,
                        quarantined=quarantined,
                        skipped=_skip_counts(batch),
                        unchanged_fingerprints=batch.unchanged,
                        examples=self.examples if dry_run else 0,
                        max_delete_share=run.max_delete_share,
                    )
                    run.on_batch(batch, result)
                    if not dry_run:
                        await self._notify_changes(name, run_id, result.applied)
                        if result.snapshot_deleted:
                            await self._notify_snapshot_deletes(
                                name, run_id, result.snapshot_history_after or 0
                            )
                    self._emit(run.progress("batch"))
                    if batch.complete:
                        break
            run.pulled()
        except Exception as exc:
            run.failed(exc)
        finally:
            if run.run_id is not None:
                try:
                    await self._call(
                        self.store.finish_run,
                        run.run_id,
                        run.status,
                        run.error,
                        warnings=run.warnings,
                    )
                except Exception as exc:  # pragma: no cover - the database went away
                    log.error("cannot record the end of run %s: %s", run.run_id, exc)
            if locked:
                try:
                    await self._call(self.store.unlock_source, name)
                except Exception as exc:  # pragma: no cover
                    log.error("cannot release the sync lock of %r: %s", name, exc)
        report = run.report()
        self._emit(run.progress("finished"))
        if run.run_id is not None and not dry_run:
            await self._notify(
                "efa_on_sync_finished",
                source=name,
                run_id=run.run_id,
                status=report.status.value,
                counts=report.counts(),
                error=report.error,
            )
        return report

    def _apply(
        self,
        run_id: str,
        source: str,
        prepared: Sequence[PreparedUpsert | PreparedDelete],
        *,
        unchanged_fingerprints: Sequence[bytes],
        **options: Any,
    ) -> BatchResult:
        """Apply a batch (on the store thread), with the fingerprints answered earlier."""
        known = self._view.take(source, unchanged_fingerprints)
        return self.store.apply(
            run_id,
            source,
            prepared,
            unchanged_fingerprints=unchanged_fingerprints,
            known_fingerprints=known,
            **options,
        )

    async def _pull(self, connector: Connector, cursor: str | None, source: str) -> Any:
        """Yield ``(batch, prepared, quarantined)``, pulling one batch ahead of the writer."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            try:
                async with connector:
                    number = 0
                    async for batch in connector.pull(cursor):
                        number += 1
                        prepared, quarantined = prepare_batch(batch, source=source, batch_no=number)
                        await queue.put((batch, prepared, quarantined))
                        if batch.complete:
                            break
            except Exception as exc:
                await queue.put(exc)
                return
            await queue.put(_DONE)

        task = asyncio.ensure_future(produce())
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, Exception):
                    raise item
                # A cancellation point before the batch goes to the store: a run cancelled
                # after batch N applies nothing after batch N, even when N+1 was prefetched.
                await asyncio.sleep(0)
                yield item
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a notification hook; a failing listener never fails the (committed) sync."""
        try:
            await self.registry.anotify(hook_name, **kwargs)
        except Exception as exc:
            log.error("%s listener failed for source %r: %s", hook_name, kwargs["source"], exc)

    async def _notify_changes(self, source: str, run_id: str, changes: Sequence[Change]) -> None:
        if changes:
            await self._notify(
                "efa_on_changes", source=source, run_id=run_id, changes=tuple(changes)
            )

    async def _notify_snapshot_deletes(self, source: str, run_id: str, after_id: int) -> None:
        def page(after: int) -> list[tuple[int, Delete]]:
            return [
                (entry.id, Delete(entry.kind, entry.natural_key))
                for entry in self.store.history(
                    run_id=run_id, op=Operation.DELETE, after_id=after, limit=_HOOK_CHUNK
                )
            ]

        while True:
            rows = await self._call(page, after_id)
            if not rows:
                return
            await self._notify_changes(source, run_id, [d for _, d in rows])
            after_id = rows[-1][0]
            if len(rows) < _HOOK_CHUNK:
                return


def _plan(
    by_kind: Mapping[tuple[str, str], int], examples: Mapping[tuple[str, str], Sequence[str]]
) -> Plan:
    kinds: dict[str, KindPlan] = {}
    for kind in sorted({k for k, _ in by_kind}):
        kinds[kind] = KindPlan(
            kind=kind,
            added=by_kind.get((kind, "added"), 0),
            changed=by_kind.get((kind, "changed"), 0),
            deleted=by_kind.get((kind, "deleted"), 0),
            examples={
                op: tuple(examples[kind, op])
                for op in ("added", "changed", "deleted")
                if examples.get((kind, op))
            },
        )
    return Plan(kinds=kinds)
