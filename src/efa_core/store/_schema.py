"""The store's schema as data, rendered to DDL per SQL dialect.

One definition serves SQLite and PostgreSQL: a :class:`Table` lists typed :class:`Column`
objects, keys and indexes, and :func:`render_table` turns it into ``CREATE`` statements for
one dialect.  Migrations (:mod:`efa_core.store._migrations`) create and alter tables from
these definitions; a schema version once released is never edited, later versions add
migration steps instead.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import attrs

__all__ = [
    "RECORDS_V3_FINGERPRINT",
    "RECORDS_V3_INDEX",
    "RECORDS_V4_LIVE_INDEX",
    "RUN_COUNTS",
    "SCHEMA_V1",
    "SNAPSHOT_CHUNKS",
    "Column",
    "ColumnType",
    "Dialect",
    "ForeignKey",
    "Index",
    "Table",
    "render_add_column",
    "render_column_type",
    "render_index",
    "render_table",
]


class Dialect(str, enum.Enum):
    """The SQL dialects the store speaks."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class ColumnType(enum.Enum):
    """Portable column types; see :func:`render_column_type` for their SQL per dialect."""

    TEXT = "text"
    INTEGER = "integer"  #: 64-bit signed integer
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  #: UTC ISO-8601 text in SQLite, timestamptz in PostgreSQL
    JSON = "json"  #: JSON text in SQLite, jsonb in PostgreSQL
    BLOB = "blob"  #: bytes: BLOB in SQLite, bytea in PostgreSQL
    #: auto-incrementing 64-bit primary key.  In SQLite the rowid (no AUTOINCREMENT: it
    #: costs a write per insert); ids only grow because the store never deletes the row
    #: with the highest id of history, records or quarantine.
    SERIAL = "serial"


_TYPES: dict[Dialect, dict[ColumnType, str]] = {
    Dialect.SQLITE: {
        ColumnType.TEXT: "TEXT",
        ColumnType.INTEGER: "INTEGER",
        ColumnType.BOOLEAN: "INTEGER",
        ColumnType.TIMESTAMP: "TEXT",
        ColumnType.JSON: "TEXT",
        ColumnType.BLOB: "BLOB",
        ColumnType.SERIAL: "INTEGER PRIMARY KEY",
    },
    Dialect.POSTGRESQL: {
        ColumnType.TEXT: "TEXT",
        ColumnType.INTEGER: "BIGINT",
        ColumnType.BOOLEAN: "BOOLEAN",
        ColumnType.TIMESTAMP: "TIMESTAMPTZ",
        ColumnType.JSON: "JSONB",
        ColumnType.BLOB: "BYTEA",
        ColumnType.SERIAL: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    },
}


def render_column_type(column_type: ColumnType, dialect: Dialect) -> str:
    """Return the SQL type of *column_type* in *dialect*."""
    return _TYPES[dialect][column_type]


@attrs.frozen(kw_only=True)
class Column:
    """One column: name, portable type, nullability and an optional SQL default."""

    name: str
    type: ColumnType
    nullable: bool = False
    default: str | None = None


@attrs.frozen(kw_only=True)
class ForeignKey:
    """A foreign key from *columns* to *ref_table* (*ref_columns*)."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Index:
    """A (possibly unique) index on *columns*; *where* makes it partial."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None


@attrs.frozen(kw_only=True)
class Table:
    """A table definition.

    *primary_key* is empty when a :attr:`ColumnType.SERIAL` column is the key.
    *without_rowid* is a SQLite storage hint for compact tables keyed by their primary key.
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    without_rowid: bool = False


def _render_column(column: Column, dialect: Dialect) -> str:
    sql = f"{column.name} {render_column_type(column.type, dialect)}"
    if column.type is not ColumnType.SERIAL and not column.nullable:
        sql += " NOT NULL"
    if column.default is not None:
        sql += f" DEFAULT {column.default}"
    return sql


def render_add_column(table_name: str, column: Column, dialect: Dialect) -> str:
    """Return the ``ALTER TABLE … ADD COLUMN`` statement adding *column* (a migration step).

    SQLite adds a ``NOT NULL`` column only with a default.
    """
    return f"ALTER TABLE {table_name} ADD COLUMN {_render_column(column, dialect)}"


def render_table(table: Table, dialect: Dialect) -> list[str]:
    """Return the ``CREATE TABLE`` and ``CREATE INDEX`` statements of *table* in *dialect*."""
    parts: list[str] = [_render_column(column, dialect) for column in table.columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    parts.extend(f"UNIQUE ({', '.join(cols)})" for cols in table.unique)
    parts.extend(
        f"FOREIGN KEY ({', '.join(fk.columns)}) "
        f"REFERENCES {fk.ref_table} ({', '.join(fk.ref_columns)})"
        for fk in table.foreign_keys
    )
    body = ",\n    ".join(parts)
    suffix = " WITHOUT ROWID" if table.without_rowid and dialect is Dialect.SQLITE else ""
    statements = [f"CREATE TABLE {table.name} (\n    {body}\n){suffix}"]
    statements.extend(render_index(table.name, index) for index in table.indexes)
    return statements


def render_index(table_name: str, index: Index) -> str:
    """Return the ``CREATE INDEX`` statement of *index* on *table_name* (same in both dialects)."""
    unique = "UNIQUE " if index.unique else ""
    where = f" WHERE {index.where}" if index.where else ""
    return f"CREATE {unique}INDEX {index.name} ON {table_name} ({', '.join(index.columns)}){where}"


def _cols(*columns: Column) -> tuple[Column, ...]:
    return columns


def _c(
    name: str, type_: ColumnType, *, nullable: bool = False, default: str | None = None
) -> Column:
    return Column(name=name, type=type_, nullable=nullable, default=default)


_T = ColumnType

#: Schema version 1: the tables as the first release created them.  Never edit this; add a
#: migration step instead.
SCHEMA_V1: Sequence[Table] = (
    Table(
        name="schema_version",
        columns=_cols(
            _c("version", _T.INTEGER),
            _c("description", _T.TEXT),
            _c("applied_at", _T.TIMESTAMP),
        ),
        primary_key=("version",),
    ),
    Table(
        name="sources",
        columns=_cols(
            _c("source", _T.TEXT),
            _c("mode", _T.TEXT, nullable=True),
            _c("cursor", _T.TEXT, nullable=True),
            _c("cursor_updated_at", _T.TIMESTAMP, nullable=True),
            _c("snapshot_run_id", _T.TEXT, nullable=True),
            _c("last_snapshot_at", _T.TIMESTAMP, nullable=True),
            _c("last_snapshot_run_id", _T.TEXT, nullable=True),
            _c("created_at", _T.TIMESTAMP),
        ),
        primary_key=("source",),
    ),
    Table(
        name="sync_runs",
        columns=_cols(
            _c("run_id", _T.TEXT),
            _c("source", _T.TEXT),
            _c("mode", _T.TEXT),
            _c("started_at", _T.TIMESTAMP),
            _c("finished_at", _T.TIMESTAMP, nullable=True),
            _c("status", _T.TEXT),
            _c("batches", _T.INTEGER, default="0"),
            _c("added", _T.INTEGER, default="0"),
            _c("changed", _T.INTEGER, default="0"),
            _c("unchanged", _T.INTEGER, default="0"),
            _c("deleted", _T.INTEGER, default="0"),
            _c("orphan_deletes", _T.INTEGER, default="0"),
            _c("quarantined", _T.INTEGER, default="0"),
            _c("cursor_before", _T.TEXT, nullable=True),
            _c("cursor_after", _T.TEXT, nullable=True),
            _c("error", _T.TEXT, nullable=True),
        ),
        primary_key=("run_id",),
        foreign_keys=(
            ForeignKey(columns=("source",), ref_table="sources", ref_columns=("source",)),
        ),
        indexes=(Index(name="ix_sync_runs_source", columns=("source", "started_at")),),
    ),
    Table(
        name="records",
        columns=_cols(
            _c("id", _T.SERIAL),
            _c("source", _T.TEXT),
            _c("kind", _T.TEXT),
            _c("natural_key", _T.TEXT),
            _c("key_hash", _T.INTEGER),
            _c("leika_key", _T.TEXT, nullable=True),
            _c("ars", _T.TEXT, nullable=True),
            _c("payload", _T.JSON),
            _c("content_hash", _T.TEXT),
            _c("deleted", _T.BOOLEAN),
            _c("first_seen", _T.TIMESTAMP),
            _c("last_seen", _T.TIMESTAMP),
            _c("fetched_at", _T.TIMESTAMP),
            _c("modified_at", _T.TIMESTAMP, nullable=True),
            _c("run_id", _T.TEXT),
        ),
        unique=(("source", "kind", "natural_key"),),
        indexes=(
            Index(name="ix_records_key_hash", columns=("source", "key_hash")),
            Index(name="ix_records_leika_key", columns=("leika_key", "ars")),
            Index(name="ix_records_ars", columns=("ars",)),
        ),
    ),
    Table(
        name="history",
        columns=_cols(
            _c("id", _T.SERIAL),
            _c("source", _T.TEXT),
            _c("kind", _T.TEXT),
            _c("natural_key", _T.TEXT),
            _c("op", _T.TEXT),
            _c("old_hash", _T.TEXT, nullable=True),
            _c("new_hash", _T.TEXT, nullable=True),
            _c("payload", _T.JSON, nullable=True),
            _c("run_id", _T.TEXT),
            _c("changed_at", _T.TIMESTAMP),
        ),
        indexes=(Index(name="ix_history_key", columns=("natural_key", "changed_at")),),
    ),
    Table(
        name="snapshot_seen",
        columns=_cols(_c("source", _T.TEXT), _c("key_hash", _T.INTEGER)),
        primary_key=("source", "key_hash"),
        without_rowid=True,
    ),
    Table(
        name="quarantine",
        columns=_cols(
            _c("id", _T.SERIAL),
            _c("source", _T.TEXT),
            _c("run_id", _T.TEXT),
            _c("kind", _T.TEXT, nullable=True),
            _c("position", _T.TEXT, nullable=True),
            _c("raw", _T.TEXT, nullable=True),
            _c("problems", _T.JSON),
            _c("quarantined_at", _T.TIMESTAMP),
        ),
        foreign_keys=(
            ForeignKey(columns=("source",), ref_table="sources", ref_columns=("source",)),
            ForeignKey(columns=("run_id",), ref_table="sync_runs", ref_columns=("run_id",)),
        ),
        indexes=(Index(name="ix_quarantine_source", columns=("source", "quarantined_at")),),
    ),
)


#: Schema version 2: the per-kind counters of a run and its skipped input, by reason.
#: ``counter`` is one of :data:`efa_core.store.COUNT_NAMES`; ``detail`` is the reason of a
#: ``skipped`` counter (empty otherwise); ``position`` where the first such object was.
RUN_COUNTS = Table(
    name="run_counts",
    columns=_cols(
        _c("run_id", _T.TEXT),
        _c("kind", _T.TEXT),
        _c("counter", _T.TEXT),
        _c("detail", _T.TEXT, default="''"),
        _c("n", _T.INTEGER, default="0"),
        _c("position", _T.TEXT, nullable=True),
    ),
    primary_key=("run_id", "kind", "counter", "detail"),
    foreign_keys=(ForeignKey(columns=("run_id",), ref_table="sync_runs", ref_columns=("run_id",)),),
)

#: The columns version 2 adds to ``sync_runs``: skipped input objects and run warnings.
SYNC_RUNS_V2: Sequence[Column] = (
    _c("skipped", _T.INTEGER, default="0"),
    _c("warnings", _T.JSON, nullable=True),
)

#: Schema version 3: the source fingerprint of each record (see ``Upsert.fingerprint``).
RECORDS_V3_FINGERPRINT = _c("fingerprint", _T.BLOB, nullable=True)

#: Finds the live records of an input object by its fingerprint; partial, so sources
#: without fingerprints do not pay for it, and covering, so the lookup reads no table row.
RECORDS_V3_INDEX = Index(
    name="ix_records_fingerprint",
    columns=("source", "fingerprint", "kind", "key_hash", "deleted"),
    where="fingerprint IS NOT NULL",
)

#: Schema version 4: what a snapshot in progress has seen, as one row per batch holding the
#: batch's key hashes (signed 64-bit, little-endian, sorted) in a blob: 8 bytes a key,
#: written once, instead of an index entry per key.
SNAPSHOT_CHUNKS = Table(
    name="snapshot_chunks",
    columns=_cols(
        _c("source", _T.TEXT),
        _c("seq", _T.INTEGER),
        _c("key_hashes", _T.BLOB),
    ),
    primary_key=("source", "seq"),
)

#: Schema version 4: a source's live rows in insertion order with their key hashes (what
#: completing a snapshot scans).  New rows append at its end, unlike an index on the key
#: hash, whose random order cost a page write per row and batch.  ``deleted`` is in it so
#: that SQLite reads no table row for the scan.
RECORDS_V4_LIVE_INDEX = Index(
    name="ix_records_live",
    columns=("source", "id", "key_hash", "deleted"),
    where="deleted = FALSE",
)
