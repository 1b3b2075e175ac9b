"""Versioned schema migrations.

The ``schema_version`` table holds one row per applied :class:`Migration`; a database's
version is the highest of them.  :data:`MIGRATIONS` lists every step in order, and a step,
once released, is never changed: a later release appends a new step (``ALTER TABLE``, a new
index, a data backfill) instead.  Version 1 creates the tables of
:data:`efa_core.store._schema.SCHEMA_V1`; version 2 counts skipped input and keeps each
run's counters per record kind; version 3 keeps the source fingerprint of each record.

The recorded DDL of each released version lives in ``tests/store/schema/``; the test suite
builds a database from each of them and upgrades it to the latest version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from efa_core.store._schema import (
    RECORDS_V3_FINGERPRINT,
    RECORDS_V3_INDEX,
    RUN_COUNTS,
    SCHEMA_V1,
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


#: Every migration step, in order; ``MIGRATIONS[i].version == i + 1``.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, description="initial schema", statements=_v1),
    Migration(version=2, description="skipped input and per-kind run counts", statements=_v2),
    Migration(version=3, description="source fingerprints of records", statements=_v3),
)

#: The schema version this release of efa-core creates and understands.
LATEST_VERSION: int = MIGRATIONS[-1].version


def schema_statements(dialect: Dialect, *, upto: int = LATEST_VERSION) -> list[str]:
    """Return the DDL that builds the schema of version *upto* from an empty database."""
    return [sql for m in MIGRATIONS if m.version <= upto for sql in m.statements(dialect)]
