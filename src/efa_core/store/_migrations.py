"""Versioned schema migrations.

The ``schema_version`` table holds one row per applied :class:`Migration`; a database's
version is the highest of them.  :data:`MIGRATIONS` lists every step in order, and a step,
once released, is never changed: a later release appends a new step (``ALTER TABLE``, a new
index, a data backfill) instead.  Version 1 creates the tables of
:data:`efa_core.store._schema.SCHEMA_V1`; version 2 counts skipped input and keeps each
run's counters per record kind; version 3 keeps the source fingerprint of each record;
version 4 keeps a snapshot's seen keys in chunks, indexes live rows by source in insertion
order instead of by key hash, and makes PostgreSQL compare keys byte-wise.

The recorded DDL of each released version lives in ``tests/store/schema/``; the test suite
builds a database from each of them and upgrades it to the latest version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from efa_core.store._schema import (
    RECORDS_V3_FINGERPRINT,
    RECORDS_V3_INDEX,
    RECORDS_V4_LIVE_INDEX,
    RUN_COUNTS,
    SCHEMA_V1,
    SNAPSHOT_CHUNKS,
    SYNC_RUNS_V2,
    Dialect,
    render_add_column,
    render_index,
    render_table,
)

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "schema_statements"]


@attrs.frozen(kw_only=True)
class Migration:
    """One step from version ``version - 1`` to *version*.

    *statements* returns the SQL statements of the step for a dialect; they run in one
    transaction together with the row that records the step in ``schema_version``.
    """

    version: int
    description: str
    statements: Callable[[Dialect], Sequence[str]]


def _v1(dialect: Dialect) -> list[str]:
    return [sql for table in SCHEMA_V1 for sql in render_table(table, dialect)]


def _v2(dialect: Dialect) -> list[str]:
    return [
        *(render_add_column("sync_runs", column, dialect) for column in SYNC_RUNS_V2),
        *render_table(RUN_COUNTS, dialect),
    ]


def _v3(dialect: Dialect) -> list[str]:
    return [
        render_add_column("records", RECORDS_V3_FINGERPRINT, dialect),
        render_index("records", RECORDS_V3_INDEX),
    ]


def _v4(dialect: Dialect) -> list[str]:
    statements = [
        # Snapshots in progress forget what they had seen and start anew: safe, and their
        # unchanged records cost no writes when seen again.
        "UPDATE sources SET cursor = NULL, snapshot_run_id = NULL"
        " WHERE mode = 'snapshot' AND snapshot_run_id IS NOT NULL",
        "DROP TABLE snapshot_seen",
        *render_table(SNAPSHOT_CHUNKS, dialect),
        "DROP INDEX ix_records_key_hash",
    ]
    if dialect is Dialect.POSTGRESQL:
        # Keys compare byte by byte (as in SQLite), whatever the database's collation:
        # prefix searches match case-sensitively, and the key indexes compare faster.
        statements += [
            f'ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT COLLATE "C"'
            for table in ("records", "history")
            for column in ("source", "kind", "natural_key")
        ]
    statements.append(render_index("records", RECORDS_V4_LIVE_INDEX))
    return statements


#: Every migration step, in order; ``MIGRATIONS[i].version == i + 1``.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, description="initial schema", statements=_v1),
    Migration(version=2, description="skipped input and per-kind run counts", statements=_v2),
    Migration(version=3, description="source fingerprints of records", statements=_v3),
    Migration(
        version=4,
        description="snapshot chunks, live-row index, byte-wise keys",
        statements=_v4,
    ),
)

#: The schema version this release of efa-core creates and understands.
LATEST_VERSION: int = MIGRATIONS[-1].version


def schema_statements(dialect: Dialect, *, upto: int = LATEST_VERSION) -> list[str]:
    """Return the DDL that builds the schema of version *upto* from an empty database."""
    return [sql for m in MIGRATIONS if m.version <= upto for sql in m.statements(dialect)]
