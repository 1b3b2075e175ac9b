"""Schema versions and migrations.

``schema/v<N>.<dialect>.sql`` records the DDL of every released schema version.  A database
built from each of them must upgrade to the latest version and end up with the same schema
as a new database, keeping its data.  When you add a migration, record the new version's
DDL here (``schema_statements(dialect, upto=N)``) and keep the old files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from efa_core.store import LATEST_VERSION, MIGRATIONS, Migration, SchemaError, open_store
from efa_core.store._backend import connect
from efa_core.store._migrations import schema_statements
from efa_core.store._schema import Dialect
from efa_core.store._store import Store, utcnow

SCHEMA_DIR = Path(__file__).with_name("schema")


def recorded_versions() -> list[int]:
    found = {
        int(m.group(1)) for p in SCHEMA_DIR.glob("v*.sql") if (m := re.match(r"v(\d+)\.", p.name))
    }
    return sorted(found)


def recorded_ddl(version: int, dialect: Dialect) -> list[str]:
    text = (SCHEMA_DIR / f"v{version}.{dialect.value}.sql").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


def columns(store: Store) -> dict[str, list[tuple[str, str, bool]]]:
    """table -> [(column, declared type, nullable)], as the database reports them."""
    db = store.backend
    out: dict[str, list[tuple[str, str, bool]]] = {}
    if store.dialect is Dialect.SQLITE:
        tables = [
            r[0]
            for r in db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            out[table] = [
                (r[1], r[2], not r[3]) for r in db.fetchall(f"PRAGMA table_info({table})")
            ]
        indexes = sorted(
            r[0]
            for r in db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
            )
        )
    else:
        for table, column, type_, nullable in db.fetchall(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ):
            out.setdefault(table, []).append((column, type_, nullable == "YES"))
        indexes = sorted(
            r[0]
            for r in db.fetchall(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND indexname LIKE 'ix_%'"
            )
        )
    out["<indexes>"] = [(name, "", False) for name in indexes]
    return out


def test_versions_are_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_every_released_version_is_recorded() -> None:
    assert recorded_versions() == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("dialect", list(Dialect))
def test_recorded_ddl_of_the_latest_version_is_what_the_migrations_build(dialect: Dialect) -> None:
    assert schema_statements(dialect) == recorded_ddl(LATEST_VERSION, dialect), (
        "the schema changed: add a migration step instead of editing a released version, "
        "and record the new version's DDL under tests/store/schema/"
    )


@pytest.mark.parametrize("version", recorded_versions())
def test_database_of_every_earlier_version_upgrades(store_url: str, version: int) -> None:
    backend = connect(store_url)
    dialect = backend.dialect
    backend.begin()
    for sql in recorded_ddl(version, dialect):
        backend.execute(sql)
    for step in range(1, version + 1):
        backend.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (step, f"v{step}", backend.ts(utcnow())),
        )
    # data as that version wrote it
    t = backend.ts(utcnow())
    backend.execute(
        "INSERT INTO sources (source, mode, created_at) VALUES ('s', 'snapshot', ?)", (t,)
    )
    backend.execute(
        "INSERT INTO sync_runs (run_id, source, mode, started_at, status, added)"
        " VALUES ('r1', 's', 'snapshot', ?, 'succeeded', 1)",
        (t,),
    )
    backend.execute(
        "INSERT INTO records (source, kind, natural_key, key_hash, payload, content_hash, deleted,"
        " first_seen, last_seen, fetched_at, run_id) VALUES ('s', 'area', '16', 1,"
        ' \'{"kind": "area", "ars": "16", "name": "Thüringen"}\', \'h\', FALSE, ?, ?, ?,'
        " 'r1')",
        (t, t, t),
    )
    backend.execute(
        "INSERT INTO history (source, kind, natural_key, op, new_hash, payload, run_id,"
        " changed_at) VALUES ('s', 'area', '16', 'upsert', 'h',"
        ' \'{"kind": "area", "ars": "16", "name": "Thüringen"}\', \'r1\', ?)',
        (t,),
    )
    backend.commit()
    backend.close()

    with open_store(store_url) as upgraded:
        assert upgraded.schema_version() == LATEST_VERSION
        assert upgraded.check_integrity() == []
        row = upgraded.get("s", "area", "16")
        assert row is not None
        assert row.payload["name"] == "Thüringen"
        upgraded_columns = columns(upgraded)
    fresh_url = store_url.replace("efa.db", "fresh.db")
    if fresh_url == store_url:  # postgresql: compare with the DDL of the latest version
        backend = connect(store_url)
        backend.begin()
        backend.execute("CREATE SCHEMA fresh_compare")
        backend.execute("SET LOCAL search_path = fresh_compare")
        for sql in schema_statements(dialect):
            backend.execute(sql)
        fresh_columns = columns(Store(backend))
        backend.rollback()
        backend.close()
    else:
        with open_store(fresh_url) as fresh:
            fresh_columns = columns(fresh)
    assert upgraded_columns == fresh_columns


def _add_column(dialect: Dialect) -> list[str]:
    return ["ALTER TABLE sources ADD COLUMN note TEXT"]


def _add_index(dialect: Dialect) -> list[str]:
    return ["CREATE INDEX ix_sources_note ON sources (note)"]


def test_migrations_apply_missing_steps_in_order(store_url: str) -> None:
    n = LATEST_VERSION
    v2 = Migration(version=n + 1, description="add note", statements=_add_column)
    v3 = Migration(version=n + 2, description="index note", statements=_add_index)
    with open_store(store_url) as store:
        assert store.migrate([*MIGRATIONS, v2]) == [n + 1]
        assert store.migrate([*MIGRATIONS, v2, v3]) == [n + 2]
        assert store.migrate([*MIGRATIONS, v2, v3]) == []
        assert store.schema_version() == n + 2
        rows = store.backend.fetchall("SELECT version, description FROM schema_version ORDER BY 1")
        assert [tuple(r) for r in rows] == [
            *((m.version, m.description) for m in MIGRATIONS),
            (n + 1, "add note"),
            (n + 2, "index note"),
        ]
    with pytest.raises(SchemaError, match="newer than this efa-core knows"):
        open_store(store_url)


def _broken(dialect: Dialect) -> list[str]:
    return ["ALTER TABLE sources ADD COLUMN extra TEXT", "THIS IS NOT SQL"]


def test_a_failed_step_leaves_the_previous_version(store_url: str) -> None:
    broken = Migration(version=LATEST_VERSION + 1, description="broken", statements=_broken)
    with open_store(store_url) as store:
        with pytest.raises(Exception, match=r"(?i)syntax"):
            store.migrate([*MIGRATIONS, broken])
        assert store.schema_version() == LATEST_VERSION
        assert "extra" not in [c for c, _, _ in columns(store)["sources"]]


def test_open_without_migrating_refuses_an_old_schema(store_url: str) -> None:
    with pytest.raises(SchemaError, match="schema version 0"):
        open_store(store_url, migrate=False)


def test_version_4_restarts_snapshots_in_progress(store_url: str) -> None:
    backend = connect(store_url)
    backend.begin()
    for sql in recorded_ddl(3, backend.dialect):
        backend.execute(sql)
    for step in (1, 2, 3):
        backend.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (step, f"v{step}", backend.ts(utcnow())),
        )
    t = backend.ts(utcnow())
    backend.execute(
        "INSERT INTO sources (source, mode, cursor, snapshot_run_id, created_at)"
        " VALUES ('s', 'snapshot', '40', 'r1', ?), ('f', 'change-feed', 'c9', NULL, ?)",
        (t, t),
    )
    backend.execute("INSERT INTO snapshot_seen (source, key_hash) VALUES ('s', 1), ('s', 2)")
    backend.commit()
    backend.close()
    with open_store(store_url) as upgraded:
        states = {s.source: s for s in upgraded.source_states()}
        assert states["s"].cursor is None, "the snapshot starts anew (its seen keys are gone)"
        assert not states["s"].snapshot_in_progress
        assert states["f"].cursor == "c9", "a change feed keeps its cursor"
        assert not upgraded.backend.table_exists("snapshot_seen")
