"""The values the store hands out and takes in.

Read side: :class:`StoredRecord` (a mirror row), :class:`HistoryEntry` (one applied change),
:class:`SyncRun` with its :class:`RunDetails`, :class:`SourceState` and
:class:`QuarantineEntry`.  Write side (used by the sync engine): :class:`PreparedUpsert` and
:class:`PreparedDelete` (changes with their key hash, payload and content hash computed),
:class:`Quarantined`, :class:`SkipCount`, and the :class:`BatchResult` of applying one batch
with the :class:`SnapshotCheck` of a completed snapshot.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from efa_core.connectors import Change
    from efa_core.model import Record

__all__ = [
    "COUNT_NAMES",
    "BatchResult",
    "HistoryEntry",
    "Operation",
    "PreparedDelete",
    "PreparedUpsert",
    "QuarantineEntry",
    "Quarantined",
    "RunDetails",
    "RunMode",
    "RunStatus",
    "SkipCount",
    "SnapshotCheck",
    "SourceState",
    "StoredRecord",
    "SyncRun",
]

#: The counters of a sync run, in report order.
COUNT_NAMES: tuple[str, ...] = (
    "added",
    "changed",
    "unchanged",
    "deleted",
    "orphan_deletes",
    "quarantined",
    "skipped",
)


class RunMode(str, enum.Enum):
    """How a source is pulled; decides what a completed pull may delete."""

    #: The pull delivers everything; a completed snapshot tombstones what it did not contain.
    SNAPSHOT = "snapshot"
    #: The pull delivers changes since the cursor; deletes of unknown keys are orphans.
    CHANGE_FEED = "change-feed"


class RunStatus(str, enum.Enum):
    """How a sync run ended (or that it is still running)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    #: The connector or the store raised; committed batches stay, nothing else happened.
    FAILED = "failed"
    #: The process ended without finishing the run (found and marked by the next run).
    INTERRUPTED = "interrupted"


class Operation(str, enum.Enum):
    """The operation of a history entry."""

    UPSERT = "upsert"
    DELETE = "delete"


def _record_from(payload: Mapping[str, Any], context: str) -> Record:
    from efa_core.serialization import record_from_dict

    return record_from_dict(payload, context=context)


@attrs.frozen(kw_only=True)
class StoredRecord:
    """One row of a source's mirror: the latest content the source delivered for a key.

    ``first_seen`` is when the key first appeared; ``fetched_at`` when the stored content
    was fetched; ``modified_at`` when the source says it changed the object (if it says);
    ``last_seen`` when the source last confirmed the record: for a snapshot source the
    completion time of its last completed snapshot that contained the record (the store
    derives it instead of rewriting unchanged rows), for a change feed the time of the last
    change.  A deleted record is a tombstone: ``deleted`` is true and the payload is the last
    content before the delete.
    """

    source: str
    kind: str
    natural_key: str
    payload: Mapping[str, Any]
    content_hash: str
    deleted: bool
    leika_key: str | None
    ars: str | None
    first_seen: datetime
    last_seen: datetime
    fetched_at: datetime
    modified_at: datetime | None
    run_id: str

    def to_record(self) -> Record:
        """Build the typed record from the payload."""
        return _record_from(self.payload, f"{self.source}/{self.kind}/{self.natural_key}")


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One applied change, as appended to the history.

    *payload* is the new content for an upsert and ``None`` for a delete; *old_hash* and
    *new_hash* are the content hashes before and after (``None`` where the key was absent
    or deleted).  *id* orders the history: replaying it in *id* order reproduces the mirror.
    """

    id: int
    source: str
    kind: str
    natural_key: str
    op: Operation
    old_hash: str | None
    new_hash: str | None
    payload: Mapping[str, Any] | None
    run_id: str
    changed_at: datetime

    def to_record(self) -> Record | None:
        """Build the typed record of an upsert (``None`` for a delete)."""
        if self.payload is None:
            return None
        return _record_from(self.payload, f"{self.source}/{self.kind}/{self.natural_key}")


@attrs.frozen(kw_only=True)
class SyncRun:
    """One sync run of one source: when, how it ended, what it did, where its cursor moved."""

    run_id: str
    source: str
    mode: RunMode
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    batches: int
    counts: Mapping[str, int]
    cursor_before: str | None
    cursor_after: str | None
    error: str | None
    #: Things worth knowing about a run that did not fail it (e.g. an empty snapshot).
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (``None`` while running or if interrupted)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@attrs.frozen(kw_only=True)
class SkipCount:
    """Input objects of one kind that a run skipped for one reason (see ``Batch.skipped``)."""

    kind: str
    reason: str
    count: int
    #: Where the first of them was (``None`` if the connector did not say).
    position: str | None = None


@attrs.frozen(kw_only=True)
class RunDetails:
    """The counters of one run per record kind, and what it skipped, by kind and reason.

    ``by_kind[kind]`` maps counter names (:data:`COUNT_NAMES`) to numbers; so for every kind
    *objects in the input = added + changed + unchanged + quarantined + skipped* (a snapshot's
    tombstones are counted in ``deleted`` of the kind they deleted).
    """

    run_id: str
    by_kind: Mapping[str, Mapping[str, int]]
    skipped: tuple[SkipCount, ...]


@attrs.frozen(kw_only=True)
class SourceState:
    """What the store knows about one source (the data of ``efa status``)."""

    source: str
    mode: RunMode | None
    cursor: str | None
    cursor_updated_at: datetime | None
    #: A snapshot was started and has not completed yet (it resumes from the cursor).
    snapshot_in_progress: bool
    last_snapshot_at: datetime | None
    last_run: SyncRun | None
    live_records: int
    deleted_records: int
    #: Quarantined records of every run of the source (the last run's: ``last_run.counts``).
    quarantined: int


@attrs.frozen(kw_only=True)
class QuarantineEntry:
    """A record that failed validation: where it was, what it was and what is wrong."""

    id: int
    source: str
    run_id: str
    kind: str | None
    position: str | None
    raw: str | None
    problems: tuple[tuple[str, str], ...]
    quarantined_at: datetime


@attrs.frozen(slots=True)
class PreparedUpsert:
    """An upsert ready for the store: key, key hash, payload JSON and content hash.

    *change* is the connector's change, handed to ``efa_on_changes`` listeners.
    """

    kind: str
    natural_key: str
    key_hash: int
    payload: str
    content_hash: str
    leika_key: str | None
    ars: str | None
    modified_at: datetime | None
    change: Change | None = None
    #: The source fingerprint of the input object (``Upsert.fingerprint``).
    fingerprint: bytes | None = None


@attrs.frozen(slots=True)
class PreparedDelete:
    """A delete ready for the store."""

    kind: str
    natural_key: str
    key_hash: int
    change: Change | None = None


@attrs.frozen(kw_only=True)
class Quarantined:
    """A record to put into quarantine."""

    kind: str | None
    position: str | None
    raw: str | None
    problems: tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class SnapshotCheck:
    """What completing a snapshot found, and whether the shrink guard stopped it.

    *live* counts the source's live records that the snapshot could delete: those alive
    before it started (records it added itself are not counted).  *missing* of them were not
    in the snapshot.  The guard refuses to delete them when the snapshot *delivered* no record
    at all while *live* is not zero, or when *missing* is more than *max_delete_share* of
    *live*; then *refused* is true, nothing was deleted, and the upserts stay.
    """

    delivered: int
    live: int
    missing: int
    #: The share allowed (``None``: the guard was off for this run).
    max_delete_share: float | None
    refused: bool = False

    @property
    def share(self) -> float:
        """*missing* as a share of *live* (0 when nothing was live)."""
        return self.missing / self.live if self.live else 0.0

    @property
    def reason(self) -> str | None:
        """Why the guard refused, for people (``None`` if it did not)."""
        if not self.refused:
            return None
        if self.delivered == 0:
            return (
                f"the snapshot delivered no records, but the store holds {self.live} live "
                "records of the source"
            )
        return (
            f"the snapshot would delete {self.missing} of {self.live} live records "
            f"({self.share:.0%}), more than max_delete_share = {self.max_delete_share:g} allows"
        )


@attrs.frozen(kw_only=True)
class BatchResult:
    """What applying one batch did.

    *applied* lists the changes that changed the store, in order (no-ops and orphan
    deletes left out); deletes made by a completed snapshot are not in it (see
    *snapshot_deleted*).  *by_kind* counts ``(kind, counter)`` for every counter of
    :data:`COUNT_NAMES`.
    *examples* holds up to a few natural keys per ``(kind, operation)`` for plans.
    """

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    orphan_deletes: int = 0
    quarantined: int = 0
    skipped: int = 0
    applied: tuple[Change, ...] = ()
    #: Deletes made by completing a snapshot.
    snapshot_deleted: int = 0
    #: History ids after which this batch's snapshot tombstones were appended (or None).
    snapshot_history_after: int | None = None
    #: What completing the snapshot found (``None`` unless this batch completed one).
    snapshot: SnapshotCheck | None = None
    by_kind: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    examples: Mapping[tuple[str, str], tuple[str, ...]] = attrs.field(factory=dict)

    def counts(self) -> dict[str, int]:
        """Return the counters as a dict (see :data:`COUNT_NAMES`)."""
        return {name: getattr(self, name) for name in COUNT_NAMES}
