"""The :class:`Store`: mirrors, history, sync runs, cursors and quarantine in one database."""

from __future__ import annotations

import bisect
import contextlib
import heapq
import logging
import sys
import uuid
from array import array
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from itertools import groupby
from operator import itemgetter
from types import TracebackType
from typing import Any, overload

import orjson

from efa_core.errors import EfaError
from efa_core.store._backend import Backend, HistoryRow, MirrorRow, connect, mask_url
from efa_core.store._migrations import LATEST_VERSION, MIGRATIONS, Migration
from efa_core.store._schema import Dialect
from efa_core.store.types import (
    COUNT_NAMES,
    BatchResult,
    HistoryEntry,
    Operation,
    PreparedDelete,
    PreparedUpsert,
    Quarantined,
    QuarantineEntry,
    RunDetails,
    RunMode,
    RunStatus,
    SkipCount,
    SnapshotCheck,
    SourceState,
    StoredRecord,
    SyncRun,
)

__all__ = ["SchemaError", "Store", "open_store", "utcnow"]

log = logging.getLogger("efa_core.store")

_PAGE = 1000

_UPSERT = Operation.UPSERT.value
_DELETE = Operation.DELETE.value

#: The operations whose example keys a dry run's plan shows.
_EXAMPLE_OPS = frozenset({"added", "changed", "deleted"})


class SchemaError(EfaError):
    """The database's schema cannot be used by this version of efa-core."""

    def __init__(self, message: str, *, outdated: bool = False) -> None:
        super().__init__(message)
        #: The schema is older than this efa-core's, or there is none: a migration would help.
        self.outdated = outdated


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def open_store(
    url: str, *, migrate: bool = True, busy_timeout: float = 30.0, read_only: bool = False
) -> Store:
    """Open the store at *url*, creating and migrating its schema unless *migrate* is false.

    :param url: ``sqlite:///relative.db``, ``sqlite:////absolute/efa.db``, a file path, or
        ``postgresql://user:password@host/dbname`` (needs ``efa-core[postgres]``).
    :param busy_timeout: seconds SQLite waits for another writer before it gives up.
    :param read_only: only read an existing store: create nothing (no file, no folder, no
        schema), migrate nothing; a SQLite file is opened read-only, so this works on a
        read-only mount too.  Writing through such a store fails.  What the derived view
        caches (:class:`efa_core.rollout.RolloutView`) lives in temporary tables then.
    :raises efa_core.errors.ConfigError: the URL is not understood.
    :raises efa_core.errors.EfaError: *read_only* and there is no SQLite file at the path.
    :raises SchemaError: the database was written by a newer efa-core, or *migrate* is
        false or *read_only* true and the schema is not the latest
        (:attr:`SchemaError.outdated` then tells whether a migration would help).
    """
    store = Store(connect(url, busy_timeout=busy_timeout, read_only=read_only))
    try:
        if migrate and not read_only:
            store.migrate()
        else:
            version = store.schema_version()
            if version > LATEST_VERSION:
                raise SchemaError(
                    f"store {store.url} has schema version {version}, newer than this "
                    f"efa-core knows ({LATEST_VERSION}); upgrade efa-core"
                )
            if version != LATEST_VERSION:
                how = "open it for writing" if read_only else "open it with migrate=True"
                what = " (no efa-core schema)" if version == 0 else ""
                raise SchemaError(
                    f"store {store.url}: schema version {version}{what}, this efa-core needs "
                    f"{LATEST_VERSION}; "
                    f"{how} (efa sync does) to create or upgrade it",
                    outdated=True,
                )
    except BaseException:
        store.close()
        raise
    return store


@overload
def _clean(text: str) -> str: ...
@overload
def _clean(text: None) -> None: ...
def _clean(text: str | None) -> str | None:
    r"""Return *text* as the store keeps it: a NUL character becomes the visible ``\x00``.

    PostgreSQL stores no NUL in text or JSON; SQLite would.  Records with one are
    quarantined (:func:`efa_core.store.prepare`); what describes them (raw input, positions,
    problems, errors) keeps the place of the NUL visible, the same on both backends.
    """
    if text is None or "\x00" not in text:
        return text
    return text.replace("\x00", "\\x00")


def _after_prefix(prefix: str) -> str | None:
    """Return the least text greater than every text that starts with *prefix*.

    Keys compare by code point (SQLite's BINARY, PostgreSQL's ``COLLATE "C"`` on UTF-8), so
    a prefix search is the range from *prefix* to this bound: byte-wise and case-sensitive,
    using the key index.  ``None``: no such text (every character is U+10FFFF).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:  # surrogates are no text: skip to the code point after them
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def _pack(values: Sequence[int]) -> bytes:
    """Signed 64-bit integers as little-endian bytes (how snapshot chunks are stored)."""
    packed = array("q", values)
    if sys.byteorder == "big":  # pragma: no cover - big-endian machines
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob: bytes | memoryview) -> array[int]:
    """Read what :func:`_pack` wrote."""
    values = array("q")
    values.frombytes(bytes(blob))
    if sys.byteorder == "big":  # pragma: no cover
        values.byteswap()
    return values


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _loads(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (dict, list)):  # pragma: no cover - psycopg without ::text
        return value
    return orjson.loads(value)


class Store:
    """The persistent store of efa-core: one mirror per source, history, runs, quarantine.

    Open it with :func:`open_store`; use it as a context manager or call :meth:`close`.  A
    store is used from one thread at a time (the sync engine runs all its store calls in
    one writer thread).  Read methods that return iterators fetch page by page, so memory
    does not grow with the number of rows.

    The write methods (:meth:`begin_run`, :meth:`apply`, :meth:`finish_run`) each run in
    their own transaction, or inside the caller's if one is open (:meth:`transaction`),
    which is how a dry run applies everything and rolls it back.
    """

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The store's URL with any password masked."""
        return mask_url(self._db.url)

    @property
    def dialect(self) -> Dialect:
        """The SQL dialect of the backend."""
        return self._db.dialect

    @property
    def backend(self) -> Backend:
        """The backend (connection and dialect operations); for tests and tools."""
        return self._db

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def close(self) -> None:
        """Close the connection and release every lock the store holds."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------------

    def begin(self) -> None:
        """Open a transaction that the write methods join instead of committing."""
        self._db.begin()

    def commit(self) -> None:
        """Commit the transaction opened by :meth:`begin`."""
        self._db.commit()

    def rollback(self) -> None:
        """Roll back the transaction opened by :meth:`begin` (no-op without one)."""
        self._db.rollback()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in a transaction (joining an open one): commit, or roll back on error."""
        if self._db.in_transaction:
            yield
            return
        self._db.begin()
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    # -- schema ----------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the schema version of the database (0 for an empty database)."""
        if not self._db.table_exists("schema_version"):
            return 0
        row = self._db.fetchone("SELECT MAX(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
        """Apply the missing migration steps in order; return the versions applied.

        Each step runs in its own transaction together with its ``schema_version`` row, so
        an interrupted upgrade resumes at the first missing step.

        :raises SchemaError: the database is newer than *migrations* know.
        """
        applied: list[int] = []
        latest = migrations[-1].version if migrations else 0
        for migration in migrations:
            with self.transaction():
                self._db.lock_schema()
                version = self.schema_version()
                if version > latest:
                    raise SchemaError(
                        f"store {self.url} has schema version {version}, newer than this "
                        f"efa-core knows ({latest}); upgrade efa-core"
                    )
                if migration.version <= version:
                    continue
                if migration.version != version + 1:
                    raise SchemaError(
                        f"store {self.url}: migration to version {migration.version} needs "
                        f"version {migration.version - 1}, the database has {version}"
                    )
                log.info("store %s: migrating to schema version %d", self.url, migration.version)
                for sql in migration.statements(self.dialect):
                    self._db.execute(sql)
                self._db.execute(
                    "INSERT INTO schema_version (version, description, applied_at)"
                    " VALUES (?, ?, ?)",
                    (migration.version, migration.description, self._db.ts(utcnow())),
                )
                applied.append(migration.version)
        if not migrations or not applied:
            version = self.schema_version()
            if version > latest:
                raise SchemaError(
                    f"store {self.url} has schema version {version}, newer than this "
                    f"efa-core knows ({latest}); upgrade efa-core"
                )
        return applied

    # -- locks -----------------------------------------------------------------------------------

    def try_lock_source(self, source: str) -> bool:
        """Try to take the sync lock of *source* without waiting; return whether it was taken.

        PostgreSQL: a session advisory lock per source.  SQLite: one lock file for the
        database.  Either is released by :meth:`unlock_source`, :meth:`close`, or the end
        of the process.
        """
        return self._db.try_lock_source(source)

    def unlock_source(self, source: str) -> None:
        """Release the sync lock of *source*."""
        self._db.unlock_source(source)

    # -- write side: runs --------------------------------------------------------------------------

    def begin_run(self, source: str, mode: RunMode, *, run_id: str | None = None) -> SyncRun:
        """Record the start of a sync run of *source* and return it.

        Call it holding the source's sync lock: runs of the source still marked
        ``running`` are then known to be dead and are marked ``interrupted``.  A snapshot
        run that starts without a cursor starts a new snapshot and forgets the keys a
        previous, unfinished snapshot had seen.
        """
        run_id = run_id or uuid.uuid4().hex
        now = utcnow()
        t = self._db.ts(now)
        db = self._db
        with self.transaction():
            db.execute(
                "INSERT INTO sources (source, mode, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO NOTHING",
                (source, mode.value, t),
            )
            db.execute(
                "UPDATE sync_runs SET status = ?, error = ? WHERE source = ? AND status = ?",
                (
                    RunStatus.INTERRUPTED.value,
                    "the process ended before the run finished",
                    source,
                    RunStatus.RUNNING.value,
                ),
            )
            row = db.fetchone("SELECT cursor, mode FROM sources WHERE source = ?", (source,))
            cursor = row[0] if row else None
            if row and row[1] != mode.value:
                log.warning("source %r changed its pull mode from %s to %s", source, row[1], mode)
                cursor = None
            db.execute(
                "INSERT INTO sync_runs (run_id, source, mode, started_at, status, cursor_before)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, source, mode.value, t, RunStatus.RUNNING.value, cursor),
            )
            if mode is RunMode.SNAPSHOT and cursor is None:
                db.execute("DELETE FROM snapshot_chunks WHERE source = ?", (source,))
                db.execute(
                    "UPDATE sources SET mode = ?, cursor = NULL, snapshot_run_id = ?"
                    " WHERE source = ?",
                    (mode.value, run_id, source),
                )
            elif mode is not RunMode.SNAPSHOT:
                db.execute("DELETE FROM snapshot_chunks WHERE source = ?", (source,))
                db.execute(
                    "UPDATE sources SET mode = ?, cursor = ?, snapshot_run_id = NULL"
                    " WHERE source = ?",
                    (mode.value, cursor, source),
                )
        return self.run(run_id)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str | None = None,
        *,
        warnings: Sequence[str] = (),
    ) -> SyncRun:
        """Record the end of a run: its status, end time, error message and warnings."""
        with self.transaction():
            self._db.execute(
                "UPDATE sync_runs SET status = ?, finished_at = ?, error = ?, warnings = ?"
                " WHERE run_id = ?",
                (
                    status.value,
                    self._db.ts(utcnow()),
                    _clean(error),
                    _json([_clean(w) for w in warnings]) if warnings else None,
                    run_id,
                ),
            )
        return self.run(run_id)

    # -- write side: batches ----------------------------------------------------------------

    def apply(
        self,
        run_id: str,
        source: str,
        changes: Sequence[PreparedUpsert | PreparedDelete],
        *,
        cursor: str | None,
        complete: bool = False,
        mode: RunMode,
        quarantined: Sequence[Quarantined] = (),
        skipped: Sequence[SkipCount] = (),
        unchanged_fingerprints: Sequence[bytes] = (),
        known_fingerprints: Mapping[bytes, Sequence[tuple[str, int]]] | None = None,
        examples: int = 0,
        max_delete_share: float | None = None,
    ) -> BatchResult:
        """Apply one batch in one transaction: mirror rows, history, quarantine, cursor.

        Upserts whose content hash equals the stored one are no-ops (counted as
        unchanged, not written); deletes of keys that are absent or already deleted are
        orphan deletes (counted, not written).  In snapshot mode the batch's keys are
        remembered as seen; when *complete* is true the snapshot is finished: every live
        row of *source* it did not contain is tombstoned (with history rows), the seen
        keys are forgotten, and the cursor is reset so that the next run starts a new
        snapshot.  In change-feed mode *cursor* is stored as given.

        :param skipped: input objects the connector skipped, counted with the run.
        :param unchanged_fingerprints: fingerprints of input objects the connector found stored
            unchanged (``Batch.unchanged``): their live records count as unchanged and, in
            snapshot mode, as seen.
        :param known_fingerprints: what :meth:`fingerprint_records` answered for some of
            them earlier in this run (saves looking them up again).
        :raises efa_core.errors.EfaError: an unchanged fingerprint is carried by no live
            record of *source* (the batch is not applied).
        :param examples: keep up to this many natural keys per kind and operation in the
            result (for dry-run plans).
        :param max_delete_share: the shrink guard of a completing snapshot (``None``: off).
            When the snapshot delivered no record while the source has live records, or
            would tombstone more than this share of them, nothing is tombstoned: the
            batch's upserts are kept, the snapshot ends without deleting (the next run
            starts a new one) and :attr:`BatchResult.snapshot` says ``refused``.
        """
        if cursor is not None and "\x00" in cursor:
            raise EfaError(
                f"source {source!r}: the connector's cursor contains a NUL character "
                f"({_clean(cursor)!r}); the store cannot keep it"
            )
        now = utcnow()
        db = self._db
        by_kind: Counter[tuple[str, str]] = Counter()
        example_lists: dict[tuple[str, str], list[str]] = {}

        def example(kind: str, op: str, key: str) -> None:
            keys = example_lists.setdefault((kind, op), [])
            if len(keys) < examples:
                keys.append(key)

        def note(kind: str, op: str, key: str) -> None:
            by_kind[kind, op] += 1
            if examples and op in _EXAMPLE_OPS:
                example(kind, op, key)

        with self.transaction():
            wanted = list({(c.kind, c.natural_key): c.key_hash for c in changes}.items())
            found = db.lookup_keys(source, [(k, n, h) for (k, n), h in wanted]) if wanted else ()
            state: dict[tuple[str, str], tuple[str, bool]] = {}
            stored_fp: dict[tuple[str, str], bytes | None] = {}
            for kind, key, chash, dead, fp in found:
                state[kind, key] = (chash, bool(dead))
                stored_fp[kind, key] = None if fp is None else bytes(fp)
            fingerprint_updates: list[tuple[str, str, bytes | None]] = []
            added = changed = unchanged = deleted = orphans = 0
            history: list[HistoryRow] = []
            applied: list[Any] = []
            # final mirror write per key: an upsert (with the deleted flag) or a tombstone
            mirror: dict[tuple[str, str], PreparedUpsert | None] = {}
            tomb_deleted: dict[tuple[str, str], bool] = {}
            upsert_op, delete_op = _UPSERT, _DELETE
            history_append, applied_append = history.append, applied.append
            # The loop runs once per record of the batch: counters are kept per kind in
            # plain dicts and added to ``by_kind`` after it.
            n_added: Counter[str] = Counter()
            n_changed: Counter[str] = Counter()
            n_unchanged: Counter[str] = Counter()
            for change in changes:
                kind = change.kind
                k = (kind, change.natural_key)
                current = state.get(k)
                if isinstance(change, PreparedUpsert):
                    if current is not None and not current[1]:
                        if current[0] == change.content_hash:
                            n_unchanged[kind] += 1
                            if stored_fp.get(k) != change.fingerprint:
                                # same content from other bytes: remember the new ones
                                fingerprint_updates.append(
                                    (kind, change.natural_key, change.fingerprint)
                                )
                                stored_fp[k] = change.fingerprint
                            continue
                        n_changed[kind] += 1
                        old = current[0]
                        if examples:
                            example(kind, "changed", change.natural_key)
                    else:
                        n_added[kind] += 1
                        old = None
                        if examples:
                            example(kind, "added", change.natural_key)
                    history_append(
                        (
                            kind,
                            change.natural_key,
                            upsert_op,
                            old,
                            change.content_hash,
                            change.payload,
                        )
                    )
                    state[k] = (change.content_hash, False)
                    mirror[k] = change
                    tomb_deleted[k] = False
                else:
                    if current is None or current[1]:
                        orphans += 1
                        by_kind[kind, "orphan_deletes"] += 1
                        continue
                    deleted += 1
                    note(kind, "deleted", change.natural_key)
                    history_append((kind, change.natural_key, delete_op, current[0], None, None))
                    state[k] = (current[0], True)
                    if mirror.get(k) is None:
                        mirror[k] = None
                    tomb_deleted[k] = True
                if change.change is not None:
                    applied_append(change.change)
            for counter, op in (
                (n_added, "added"),
                (n_changed, "changed"),
                (n_unchanged, "unchanged"),
            ):
                for kind, n in counter.items():
                    by_kind[kind, op] += n
            added = sum(n_added.values())
            changed = sum(n_changed.values())
            unchanged = sum(n_unchanged.values())

            rows: list[MirrorRow] = []
            tombstones: list[tuple[str, str]] = []
            for k, upsert in mirror.items():
                if upsert is None:
                    tombstones.append(k)
                else:
                    dead = tomb_deleted[k]
                    rows.append(
                        (
                            upsert.kind,
                            upsert.natural_key,
                            upsert.key_hash,
                            upsert.leika_key,
                            upsert.ars,
                            upsert.payload,
                            upsert.content_hash,
                            dead,
                            upsert.modified_at,
                            None if dead else upsert.fingerprint,
                        )
                    )
            if rows:
                db.upsert_mirror(source, run_id, now, rows)
            if fingerprint_updates:
                db.set_fingerprints(source, fingerprint_updates)
            kept_kinds, kept_hashes = self._kept(source, unchanged_fingerprints, known_fingerprints)
            for kind, n in kept_kinds.items():
                by_kind[kind, "unchanged"] += n
            unchanged += len(kept_hashes)
            if tombstones:
                db.tombstone(source, run_id, now, tombstones)
            if history:
                db.insert_history(source, run_id, now, history)
            if mode is RunMode.SNAPSHOT:
                kept_hashes.extend(c.key_hash for c in changes if isinstance(c, PreparedUpsert))
                self._remember_seen(source, kept_hashes)
            if quarantined:
                t = db.ts(now)
                db.executemany(
                    "INSERT INTO quarantine (source, run_id, kind, position, raw, problems,"
                    " quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            source,
                            run_id,
                            _clean(q.kind),
                            _clean(q.position),
                            _clean(q.raw),
                            _json([[_clean(p), _clean(m)] for p, m in q.problems]),
                            t,
                        )
                        for q in quarantined
                    ],
                )

            for q in quarantined:
                by_kind[q.kind or "?", "quarantined"] += 1
            n_skipped = sum(skip.count for skip in skipped)
            for skip in skipped:
                by_kind[skip.kind, "skipped"] += skip.count

            snapshot_deleted = 0
            history_after: int | None = None
            check: SnapshotCheck | None = None
            stored_cursor = cursor
            if mode is RunMode.SNAPSHOT and complete:
                check, history_after, snapshot_deleted, per_kind, kind_keys = (
                    self._complete_snapshot(
                        source,
                        run_id,
                        now,
                        examples,
                        added_now=added,
                        deleted_now=deleted,
                        max_delete_share=max_delete_share,
                    )
                )
                for kind, n in per_kind.items():
                    by_kind[kind, "deleted"] += n
                for kind, keys in kind_keys.items():
                    lst = example_lists.setdefault((kind, "deleted"), [])
                    lst.extend(keys[: max(examples - len(lst), 0)])
                deleted += snapshot_deleted
                stored_cursor = None
            self._count_by_kind(run_id, by_kind, skipped)
            counts = (added, changed, unchanged, deleted, orphans, len(quarantined), n_skipped)
            db.execute(
                "UPDATE sync_runs SET batches = batches + 1, "  # noqa: S608 - fixed names
                + ", ".join(f"{name} = {name} + ?" for name in COUNT_NAMES)
                + ", cursor_after = ? WHERE run_id = ?",
                (*counts, stored_cursor, run_id),
            )
            db.execute(
                "UPDATE sources SET cursor = ?, cursor_updated_at = ? WHERE source = ?",
                (stored_cursor, db.ts(now), source),
            )
        return BatchResult(
            added=added,
            changed=changed,
            unchanged=unchanged,
            deleted=deleted,
            orphan_deletes=orphans,
            quarantined=len(quarantined),
            skipped=n_skipped,
            applied=tuple(applied),
            snapshot_deleted=snapshot_deleted,
            snapshot_history_after=history_after,
            snapshot=check,
            by_kind=dict(by_kind),
            examples={k: tuple(v) for k, v in example_lists.items()},
        )

    def _kept(
        self,
        source: str,
        unchanged_fingerprints: Sequence[bytes],
        known: Mapping[bytes, Sequence[tuple[str, int]]] | None,
    ) -> tuple[Counter[str], list[int]]:
        """Return the live records of unchanged input objects: counted per kind, key hashes."""
        kinds: Counter[str] = Counter()
        hashes: list[int] = []
        if not unchanged_fingerprints:
            return kinds, hashes
        ask: list[bytes] = []
        kept: list[tuple[str, int]] = []
        get = known.get if known else None
        for fp in unchanged_fingerprints:
            records = get(fp) if get is not None else None
            if records:
                kept.extend(records)
            else:
                ask.append(fp)
        if ask:
            rows = self._db.fingerprint_rows(source, ask)
            missing = set(ask) - {bytes(fp) for fp, _, _ in rows}
            if missing:
                raise EfaError(
                    f"source {source!r}: {len(missing)} input objects were reported unchanged "
                    "(Batch.unchanged) but no live record of the source carries their "
                    f"fingerprint, e.g. {next(iter(missing)).hex()}; the connector must list "
                    "only fingerprints that stored_fingerprints() returned"
                )
            kept.extend((kind, int(kh)) for _, kind, kh in rows)
        kinds.update(map(itemgetter(0), kept))
        hashes.extend(map(itemgetter(1), kept))
        return kinds, hashes

    def stored_fingerprints(
        self, source: str, fingerprints: Collection[bytes]
    ) -> dict[bytes, tuple[int, ...]]:
        """Return which *fingerprints* live records of *source* carry, with their key hashes.

        See :meth:`efa_core.connectors.Connector.stored_fingerprints`.
        """
        return {
            fp: tuple(kh for _, kh in records)
            for fp, records in self.fingerprint_records(source, fingerprints).items()
        }

    def fingerprint_records(
        self, source: str, fingerprints: Collection[bytes]
    ) -> dict[bytes, tuple[tuple[str, int], ...]]:
        """Return ``(kind, key_hash)`` of the live records of *source* per stored fingerprint."""
        out: dict[bytes, tuple[tuple[str, int], ...]] = {}
        for fp, kind, kh in self._db.fingerprint_rows(source, list(fingerprints)):
            have = out.get(fp)
            out[fp] = ((kind, kh),) if have is None else (*have, (kind, kh))
        return out

    def _count_by_kind(
        self, run_id: str, by_kind: Counter[tuple[str, str]], skipped: Sequence[SkipCount]
    ) -> None:
        """Add the batch's counters per kind (and its skips per reason) to the run's."""
        rows: list[tuple[str, str, str, str, int, str | None]] = [
            (run_id, _clean(kind), counter, "", n, None)
            for (kind, counter), n in sorted(by_kind.items())
            if n and counter != "skipped"
        ]
        reasons: dict[tuple[str, str], list[Any]] = {}
        for skip in skipped:
            entry = reasons.setdefault((skip.kind, skip.reason), [0, skip.position])
            entry[0] += skip.count
            entry[1] = entry[1] or skip.position
        rows.extend(
            (run_id, _clean(kind), "skipped", _clean(reason), n, _clean(position))
            for (kind, reason), (n, position) in sorted(reasons.items())
        )
        if rows:
            self._db.executemany(
                "INSERT INTO run_counts (run_id, kind, counter, detail, n, position)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, kind, counter, detail)"
                " DO UPDATE SET n = run_counts.n + excluded.n,"
                " position = COALESCE(run_counts.position, excluded.position)",
                rows,
            )

    def _remember_seen(self, source: str, key_hashes: list[int]) -> None:
        """Append the batch's key hashes to the snapshot in progress: one row, 8 bytes a key."""
        if not key_hashes:
            return
        self._db.execute(
            "INSERT INTO snapshot_chunks (source, seq, key_hashes) VALUES (?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM snapshot_chunks WHERE source = ?), ?)",
            (source, source, _pack(sorted(set(key_hashes)))),
        )

    def _chunks(self, source: str) -> list[array[int]]:
        """Return the key hash chunks of the snapshot in progress (each sorted, distinct)."""
        # One blob at a time from the database: each is freed once unpacked.
        return [
            _unpack(blob)
            for (blob,) in self._db.stream(
                "SELECT key_hashes FROM snapshot_chunks WHERE source = ? ORDER BY seq",
                (source,),
                1,
            )
        ]

    @staticmethod
    def _merged(chunks: Sequence[array[int]]) -> Iterator[int]:
        """Yield the distinct key hashes of *chunks* in order (each chunk sorted), keeping none."""
        return (value for value, _ in groupby(heapq.merge(*chunks)))

    def _nothing_missing(
        self, source: str, snapshot_run_id: str | None, deleted_now: int, delivered: int
    ) -> int | None:
        """Return the number of live rows when the snapshot surely saw every one of them.

        Every key the snapshot saw was alive when it was seen (an upsert, or a record kept
        unchanged), and only a delete makes a row dead: when the snapshot's runs deleted
        nothing, the keys it saw are live rows.  *delivered* counts their distinct key
        hashes, at most one per key: if it equals the number of live rows, the keys seen
        are exactly the live rows and nothing is missing (a key hash collision can only
        make *delivered* smaller, which takes the full comparison).  ``None``: compare.
        """
        if snapshot_run_id is None or deleted_now:
            return None
        db = self._db
        row = db.fetchone(
            "SELECT COALESCE(SUM(deleted), 0) FROM sync_runs WHERE source = ? AND started_at"
            " >= (SELECT started_at FROM sync_runs WHERE run_id = ?)",
            (source, snapshot_run_id),
        )
        if row is None or int(row[0]):
            return None
        row = db.fetchone(
            "SELECT COUNT(*) FROM records WHERE source = ? AND deleted = FALSE", (source,)
        )
        live = int(row[0]) if row else -1
        return live if live == delivered else None

    def _complete_snapshot(
        self,
        source: str,
        run_id: str,
        now: datetime,
        examples: int,
        *,
        added_now: int,
        deleted_now: int = 0,
        max_delete_share: float | None,
    ) -> tuple[SnapshotCheck, int, int, dict[str, int], dict[str, list[str]]]:
        """Tombstone the live rows a completed snapshot did not contain.

        No join: the snapshot's key hashes (kept in ``snapshot_chunks``, 8 bytes a key) are
        counted; when they are as many as the live rows and the snapshot deleted nothing,
        nothing is missing (:meth:`_nothing_missing`).  Otherwise they are merged into one
        sorted array, and one scan over the source's live rows finds those not in it, so
        the work is linear whatever the planner believes about the tables.
        Checks the shrink guard first (see :meth:`apply`).  Returns the check, the history
        id after which the tombstones' history rows start, their number, the number per
        kind and up to *examples* keys per kind.
        """
        db = self._db
        t = db.ts(now)
        prev = db.fetchone(
            "SELECT last_snapshot_at, snapshot_run_id FROM sources WHERE source = ?", (source,)
        )
        previous_snapshot = prev[0] if prev else None
        snapshot_run_id = prev[1] if prev else None
        chunks = self._chunks(source)
        delivered = sum(1 for _ in self._merged(chunks))
        missing = array("q")
        live = self._nothing_missing(source, snapshot_run_id, deleted_now, delivered)
        if live is None:
            # Compare: one scan over the live rows against the merged key hashes.
            seen = array("q", self._merged(chunks))
            del chunks
            live = 0
            n_seen, find, append = len(seen), bisect.bisect_left, missing.append
            for row_id, kh in db.stream(
                "SELECT id, key_hash FROM records WHERE source = ? AND deleted = FALSE",
                (source,),
            ):
                live += 1
                at = find(seen, kh)
                if at == n_seen or seen[at] != kh:
                    append(row_id)
            del seen
        else:
            del chunks
        check = self._shrink_check(
            source,
            snapshot_run_id=snapshot_run_id,
            added_now=added_now,
            delivered=delivered,
            live=live,
            missing=len(missing),
            max_delete_share=max_delete_share,
        )
        row = db.fetchone("SELECT COALESCE(MAX(id), 0) FROM history")
        after = int(row[0]) if row else 0
        count = 0
        per_kind: dict[str, int] = {}
        keys: dict[str, list[str]] = {}
        if missing and not check.refused:
            missing = array("q", sorted(missing))
            # A row alive when this snapshot started was in the previous completed
            # snapshot: that is when it was last seen.
            db.tombstone_ids(run_id, now, missing, previous_snapshot)
            count = len(missing)
            self._deleted_by_kind(run_id, after, examples, per_kind, keys)
        db.execute("DELETE FROM snapshot_chunks WHERE source = ?", (source,))
        if check.refused:
            db.execute("UPDATE sources SET snapshot_run_id = NULL WHERE source = ?", (source,))
        else:
            db.execute(
                "UPDATE sources SET snapshot_run_id = NULL, last_snapshot_at = ?,"
                " last_snapshot_run_id = ? WHERE source = ?",
                (t, run_id, source),
            )
        return check, after, count, per_kind, keys

    def _shrink_check(
        self,
        source: str,
        *,
        snapshot_run_id: str | None,
        added_now: int,
        delivered: int,
        live: int,
        missing: int,
        max_delete_share: float | None,
    ) -> SnapshotCheck:
        """Decide the shrink guard for a completing snapshot from what it found."""
        # Records this snapshot added (in this batch and in the runs it resumed) were not
        # alive before it: they do not count towards what it may delete.
        row = self._db.fetchone(
            "SELECT COALESCE(SUM(added), 0) FROM sync_runs WHERE source = ? AND started_at >="
            " (SELECT started_at FROM sync_runs WHERE run_id = ?)",
            (source, snapshot_run_id),
        )
        added = (int(row[0]) if row else 0) + added_now
        before = max(live - added, missing)
        refused = False
        if max_delete_share is not None and before:
            refused = delivered == 0 or missing > max_delete_share * before
        return SnapshotCheck(
            delivered=delivered,
            live=before,
            missing=missing,
            max_delete_share=max_delete_share,
            refused=refused,
        )

    def _deleted_by_kind(
        self,
        run_id: str,
        after: int,
        examples: int,
        per_kind: dict[str, int],
        keys: dict[str, list[str]],
    ) -> None:
        """Count a completion's tombstones per kind from its history rows (with examples)."""
        db = self._db
        for kind, n in db.fetchall(
            "SELECT kind, COUNT(*) FROM history WHERE id > ? AND run_id = ? AND op = ?"
            " GROUP BY kind",
            (after, run_id, Operation.DELETE.value),
        ):
            per_kind[kind] = int(n)
            if examples:
                keys[kind] = [
                    r[0]
                    for r in db.fetchall(
                        "SELECT natural_key FROM history WHERE id > ? AND run_id = ?"
                        " AND op = ? AND kind = ? ORDER BY id LIMIT ?",
                        (after, run_id, Operation.DELETE.value, kind, examples),
                    )
                ]

    # -- read side -----------------------------------------------------------------------------

    _RECORD_COLS = (
        "r.id, r.source, r.kind, r.natural_key, r.payload{j}, r.content_hash, r.deleted,"
        " r.leika_key, r.ars, r.first_seen, r.last_seen, r.fetched_at, r.modified_at, r.run_id,"
        " s.mode, s.last_snapshot_at"
    )

    def _record_cols(self) -> str:
        return self._RECORD_COLS.format(j=self._db.json_text)

    def _to_stored(self, row: Sequence[Any]) -> StoredRecord:
        db = self._db
        deleted = bool(row[6])
        last_seen = db.from_ts(row[10])
        if row[14] == RunMode.SNAPSHOT.value and not deleted and row[15] is not None:
            last_snapshot = db.from_ts(row[15])
            last_seen = max(last_seen, last_snapshot)
        return StoredRecord(
            source=row[1],
            kind=row[2],
            natural_key=row[3],
            payload=_loads(row[4]),
            content_hash=row[5],
            deleted=deleted,
            leika_key=row[7],
            ars=row[8],
            first_seen=db.from_ts(row[9]),
            last_seen=last_seen,
            fetched_at=db.from_ts(row[11]),
            modified_at=db.from_ts_opt(row[12]),
            run_id=row[13],
        )

    def get(
        self, source: str, kind: str, natural_key: str, *, include_deleted: bool = False
    ) -> StoredRecord | None:
        """Return the mirror row of one record (``None`` if absent, or deleted by default)."""
        row = self._db.fetchone(
            f"SELECT {self._record_cols()} FROM records r JOIN sources s ON s.source = r.source"  # noqa: S608
            " WHERE r.source = ? AND r.kind = ? AND r.natural_key = ?",
            (source, kind, natural_key),
        )
        if row is None:
            return None
        record = self._to_stored(row)
        return record if include_deleted or not record.deleted else None

    def records(
        self,
        source: str | None = None,
        kind: str | None = None,
        *,
        include_deleted: bool = False,
        leika_key: str | None = None,
        ars: str | None = None,
    ) -> Iterator[StoredRecord]:
        """Yield mirror rows (live only by default), filtered, in insertion order."""
        where, params = self._filters(
            source=source, kind=kind, leika_key=leika_key, ars=ars, prefix="r."
        )
        if not include_deleted:
            where.append("r.deleted = FALSE")
        last = 0
        while True:
            rows = self._db.fetchall(
                f"SELECT {self._record_cols()} FROM records r"  # noqa: S608
                " JOIN sources s ON s.source = r.source WHERE "
                + " AND ".join([*where, "r.id > ?"])
                + f" ORDER BY r.id LIMIT {_PAGE}",
                (*params, last),
            )
            for row in rows:
                yield self._to_stored(row)
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def count(
        self, source: str | None = None, kind: str | None = None, *, include_deleted: bool = False
    ) -> int:
        """Count mirror rows (live only by default)."""
        where, params = self._filters(source=source, kind=kind)
        if not include_deleted:
            where.append("deleted = FALSE")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        row = self._db.fetchone(f"SELECT COUNT(*) FROM records{clause}", params)  # noqa: S608
        return int(row[0]) if row else 0

    @staticmethod
    def _filters(prefix: str = "", **values: str | None) -> tuple[list[str], list[Any]]:
        where = [f"{prefix}{name} = ?" for name, value in values.items() if value is not None]
        params = [value for value in values.values() if value is not None]
        return where, params

    def _to_history(self, row: Sequence[Any]) -> HistoryEntry:
        return HistoryEntry(
            id=int(row[0]),
            source=row[1],
            kind=row[2],
            natural_key=row[3],
            op=Operation(row[4]),
            old_hash=row[5],
            new_hash=row[6],
            payload=_loads(row[7]),
            run_id=row[8],
            changed_at=self._db.from_ts(row[9]),
        )

    def _history_cols(self, alias: str = "") -> str:
        a = alias
        return (
            f"{a}id, {a}source, {a}kind, {a}natural_key, {a}op, {a}old_hash, {a}new_hash,"
            f" {a}payload{self._db.json_text}, {a}run_id, {a}changed_at"
        )

    def history(
        self,
        natural_key: str | None = None,
        *,
        source: str | None = None,
        kind: str | None = None,
        run_id: str | None = None,
        op: Operation | None = None,
        key_prefix: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> Iterator[HistoryEntry]:
        """Yield history entries in the order they were applied, filtered.

        :param natural_key: only this key (of any source and kind unless given).
        :param key_prefix: only keys starting with this text, compared byte-wise and
            case-sensitively whatever the database's collation.
        :param after_id: only entries with a larger id (to page or to follow).
        :param limit: stop after this many entries.
        """
        where, params = self._filters(
            natural_key=natural_key,
            source=source,
            kind=kind,
            run_id=run_id,
            op=None if op is None else op.value,
        )
        if key_prefix:
            upper = _after_prefix(key_prefix)
            if upper is None:
                where.append("natural_key >= ?")
                params.append(key_prefix)
            else:
                where.append("natural_key >= ? AND natural_key < ?")
                params.extend([key_prefix, upper])
        last, produced = after_id, 0
        while limit is None or produced < limit:
            page = _PAGE if limit is None else min(_PAGE, limit - produced)
            rows = self._db.fetchall(
                f"SELECT {self._history_cols()} FROM history WHERE "  # noqa: S608
                + " AND ".join([*where, "id > ?"])
                + f" ORDER BY id LIMIT {page}",
                (*params, last),
            )
            for row in rows:
                yield self._to_history(row)
            produced += len(rows)
            if len(rows) < page:
                return
            last = rows[-1][0]

    def as_of(
        self, when: datetime, *, source: str | None = None, kind: str | None = None
    ) -> Iterator[HistoryEntry]:
        """Yield what the store knew at *when*: per key, its latest upsert at or before then.

        Keys whose latest change at that time was a delete (or that did not exist yet) are
        absent.  Each entry's :meth:`~HistoryEntry.to_record` gives the record as it was.
        """
        where, params = self._filters(source=source, kind=kind)
        where.append("changed_at <= ?")
        params.append(self._db.ts(when))
        sql = (
            f"SELECT {self._history_cols('h.')} FROM history h JOIN ("  # noqa: S608
            "SELECT MAX(id) AS id FROM history WHERE "
            + " AND ".join(where)
            + " GROUP BY source, kind, natural_key) m ON h.id = m.id"
            " WHERE h.op = ? ORDER BY h.id"
        )
        for row in self._db.stream(sql, (*params, Operation.UPSERT.value)):
            yield self._to_history(row)

    def _to_run(self, row: Sequence[Any]) -> SyncRun:
        db = self._db
        n = len(COUNT_NAMES)
        cursor_before, cursor_after, error, warnings = row[7 + n : 11 + n]
        return SyncRun(
            run_id=row[0],
            source=row[1],
            mode=RunMode(row[2]),
            status=RunStatus(row[3]),
            started_at=db.from_ts(row[4]),
            finished_at=db.from_ts_opt(row[5]),
            batches=int(row[6]),
            counts={name: int(v) for name, v in zip(COUNT_NAMES, row[7 : 7 + n], strict=True)},
            cursor_before=cursor_before,
            cursor_after=cursor_after,
            error=error,
            warnings=tuple(str(w) for w in _loads(warnings) or ()),
        )

    def _run_cols(self) -> str:
        return (
            "run_id, source, mode, status, started_at, finished_at, batches, "
            + ", ".join(COUNT_NAMES)
            + f", cursor_before, cursor_after, error, warnings{self._db.json_text}"
        )

    def run_details(self, run_id: str) -> RunDetails:
        """Return the counters of a run per record kind and its skipped input by reason."""
        by_kind: dict[str, dict[str, int]] = {}
        skipped: list[SkipCount] = []
        for kind, counter, detail, n, position in self._db.fetchall(
            "SELECT kind, counter, detail, n, position FROM run_counts WHERE run_id = ?"
            " ORDER BY kind, counter, detail",
            (run_id,),
        ):
            counts = by_kind.setdefault(kind, {})
            counts[counter] = counts.get(counter, 0) + int(n)
            if counter == "skipped":
                skipped.append(SkipCount(kind=kind, reason=detail, count=int(n), position=position))
        return RunDetails(run_id=run_id, by_kind=by_kind, skipped=tuple(skipped))

    def run(self, run_id: str) -> SyncRun:
        """Return one sync run.

        :raises KeyError: no run has this id.
        """
        row = self._db.fetchone(
            f"SELECT {self._run_cols()} FROM sync_runs WHERE run_id = ?",  # noqa: S608
            (run_id,),
        )
        if row is None:
            raise KeyError(f"no sync run {run_id!r} in store {self.url}")
        return self._to_run(row)

    def runs(self, source: str | None = None, *, limit: int | None = None) -> list[SyncRun]:
        """Return sync runs, newest first."""
        where, params = self._filters(source=source)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._db.fetchall(
            f"SELECT {self._run_cols()} FROM sync_runs{clause}"  # noqa: S608
            f" ORDER BY started_at DESC, run_id DESC{tail}",
            params,
        )
        return [self._to_run(row) for row in rows]

    def cursor(self, source: str) -> str | None:
        """Return the stored cursor of *source* (``None``: start from the beginning)."""
        row = self._db.fetchone("SELECT cursor FROM sources WHERE source = ?", (source,))
        return None if row is None else row[0]

    def sources(self) -> list[str]:
        """Return the names of the sources the store knows, sorted."""
        return [r[0] for r in self._db.fetchall("SELECT source FROM sources ORDER BY source")]

    def source_states(self) -> list[SourceState]:
        """Return the state of every known source (cursor, last run, record counts)."""
        db = self._db
        counts: dict[str, list[int]] = {}
        for source, deleted, n in db.fetchall(
            "SELECT source, deleted, COUNT(*) FROM records GROUP BY source, deleted"
        ):
            counts.setdefault(source, [0, 0])[1 if deleted else 0] += int(n)
        quarantined = dict(db.fetchall("SELECT source, COUNT(*) FROM quarantine GROUP BY source"))
        states = []
        for row in db.fetchall(
            "SELECT source, mode, cursor, cursor_updated_at, snapshot_run_id, last_snapshot_at"
            " FROM sources ORDER BY source"
        ):
            runs = self.runs(row[0], limit=1)
            live, dead = counts.get(row[0], [0, 0])
            states.append(
                SourceState(
                    source=row[0],
                    mode=None if row[1] is None else RunMode(row[1]),
                    cursor=row[2],
                    cursor_updated_at=db.from_ts_opt(row[3]),
                    snapshot_in_progress=row[4] is not None,
                    last_snapshot_at=db.from_ts_opt(row[5]),
                    last_run=runs[0] if runs else None,
                    live_records=live,
                    deleted_records=dead,
                    quarantined=int(quarantined.get(row[0], 0)),
                )
            )
        return states

    def quarantine(
        self, source: str | None = None, *, run_id: str | None = None
    ) -> Iterator[QuarantineEntry]:
        """Yield quarantined records, oldest first."""
        where, params = self._filters(source=source, run_id=run_id)
        last = 0
        while True:
            rows = self._db.fetchall(
                "SELECT id, source, run_id, kind, position, raw, problems"  # noqa: S608
                f"{self._db.json_text}, quarantined_at FROM quarantine WHERE "
                + " AND ".join([*where, "id > ?"])
                + f" ORDER BY id LIMIT {_PAGE}",
                (*params, last),
            )
            for row in rows:
                yield QuarantineEntry(
                    id=int(row[0]),
                    source=row[1],
                    run_id=row[2],
                    kind=row[3],
                    position=row[4],
                    raw=row[5],
                    problems=tuple((str(p), str(m)) for p, m in _loads(row[6])),
                    quarantined_at=self._db.from_ts(row[7]),
                )
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    # -- integrity -----------------------------------------------------------------------------

    def check_integrity(self) -> list[str]:
        """Check the store's invariants; return the problems found (empty: all is well).

        Checks the database's own integrity (SQLite), that mirror and history rows refer to
        known sources and runs, that every mirror row agrees with the latest history entry
        of its key and has one, and that every run's counters agree with the history rows
        it wrote.
        """
        db = self._db
        problems: list[str] = []
        if db.dialect is Dialect.SQLITE:
            result = [r[0] for r in db.fetchall("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems.extend(f"sqlite integrity_check: {r}" for r in result)
            for row in db.fetchall("PRAGMA foreign_key_check"):
                problems.append(f"foreign key violation: {tuple(row)}")
        for row in db.fetchall(
            "SELECT h.source, h.kind, h.natural_key, h.op, h.new_hash, r.content_hash, r.deleted"
            " FROM history h JOIN (SELECT MAX(id) AS id FROM history"
            " GROUP BY source, kind, natural_key) m ON h.id = m.id"
            " LEFT JOIN records r ON r.source = h.source AND r.kind = h.kind"
            " AND r.natural_key = h.natural_key"
            " WHERE r.id IS NULL OR (h.op = 'delete') <> (r.deleted = TRUE)"
            " OR (h.op = 'upsert' AND h.new_hash <> r.content_hash)"
        ):
            problems.append(
                f"mirror row {row[0]}/{row[1]}/{row[2]} disagrees with its latest history "
                f"entry ({row[3]} {row[4]}): stored hash {row[5]}, deleted {row[6]}"
            )
        for row in db.fetchall(
            "SELECT r.source, r.kind, r.natural_key FROM records r WHERE NOT EXISTS ("
            "SELECT 1 FROM history h WHERE h.natural_key = r.natural_key"
            " AND h.source = r.source AND h.kind = r.kind)"
        ):
            problems.append(f"mirror row {row[0]}/{row[1]}/{row[2]} has no history")
        # records and history carry no foreign keys (they would cost a check per row on
        # the hot path); the single writer keeps them consistent and this checks it.
        for table in ("records", "history"):
            for row in db.fetchall(
                f"SELECT DISTINCT t.source, t.run_id FROM {table} t"  # noqa: S608
                " WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source = t.source)"
                " OR NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.run_id = t.run_id)"
            ):
                problems.append(f"{table} rows of source {row[0]!r}, run {row[1]!r}: unknown")
        for row in db.fetchall(
            "SELECT s.run_id, s.added + s.changed + s.deleted, COUNT(h.id) FROM sync_runs s"
            " LEFT JOIN history h ON h.run_id = s.run_id"
            " GROUP BY s.run_id, s.added, s.changed, s.deleted"
            " HAVING s.added + s.changed + s.deleted <> COUNT(h.id)"
        ):
            problems.append(
                f"sync run {row[0]} counts {row[1]} changes but wrote {row[2]} history rows"
            )
        return problems
