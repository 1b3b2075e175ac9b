"""A snapshot's statements do not depend on PostgreSQL's statistics (issue 14 §1, issue 15).

The old completion anti-joined ``records`` with a table of seen keys; with statistics
gathered while that table held another source's rows, PostgreSQL chose a nested loop and a
completion took tens of minutes.  The key look-ups by ``natural_key = ANY(array)`` went
wrong the same way during a first load: the planner scanned the source's rows and
filtered them by the array, once per batch.  Here the statistics are made wrong on purpose
first, then every statement a snapshot sends is explained: the only joins are the per-key
probes of an index (a nested loop over the batch's keys), no scan of ``records`` filters
by an array, and the result is right.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from efa_core.connectors import Delete, Upsert, fingerprint
from efa_core.ids import Ars
from efa_core.model import Area
from efa_core.store import RunMode, Store, open_store, prepare

from .conftest import postgres_schema

SNAP = RunMode.SNAPSHOT
FEED = RunMode.CHANGE_FEED
JOINS = {"Nested Loop", "Hash Join", "Merge Join"}


def _areas(codes: Iterator[str], name: str = "A") -> list[Any]:
    return [
        prepare(Upsert(Area(ars=Ars(code), name=name), fingerprint=fingerprint(name, code)))
        for code in codes
    ]


def _codes(n: int, land: str = "01") -> list[str]:
    return [f"{land}{k:03d}{g:04d}" for k in range(1, 999) for g in range(1, 10)][:n]


def _snapshot(store: Store, source: str, codes: list[str], batch: int = 2000) -> None:
    run = store.begin_run(source, SNAP).run_id
    chunks = [codes[i : i + batch] for i in range(0, len(codes), batch)] or [[]]
    for index, chunk in enumerate(chunks):
        store.apply(
            run,
            source,
            _areas(iter(chunk)),
            cursor=str(index + 1),
            complete=index == len(chunks) - 1,
            mode=SNAP,
            max_delete_share=None,
        )


def _nodes(plan: dict[str, Any]) -> Iterator[str]:
    yield plan["Node Type"]
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _walk(child)


#: Scans of records that are linear in the batch: index probes.
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _check_plan(sql: str, plan: dict[str, Any]) -> None:
    """Fail unless *plan* is linear in the batch whatever the statistics say.

    A statement that joins reads records only by index probes keyed by the batch: one per
    key of the batch (``… = u.…``, the LATERAL probe), or the batch's ids through the
    primary key (``id = ANY(…)``).  No statement scans records filtering by an array.
    """
    nodes = set(_nodes(plan))
    scans = [
        n
        for n in _walk(plan)
        if n.get("Relation Name") == "records" and n["Node Type"] != "ModifyTable"
    ]
    if nodes & JOINS:
        assert scans, f"{sql}: no probe of records in {sorted(nodes)}"
        for node in scans:
            assert node["Node Type"] in INDEX_SCANS, f"{sql} scans records: {sorted(nodes)}"
            cond = node.get("Index Cond", "") or node.get("Recheck Cond", "")
            assert "u." in cond or "id = ANY" in cond, f"{sql}: no probe by key or id ({cond})"
    for node in scans:
        assert "ANY" not in node.get("Filter", ""), f"{sql} filters records by an array"


class _Recorder:
    """Wraps a PostgreSQL backend's statement methods and keeps what they sent."""

    def __init__(self, store: Store) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []
        backend: Any = store.backend
        for name in ("execute", "fetchall", "fetchone", "stream"):
            original = getattr(backend, name)

            def wrapped(sql: str, params: Any = (), *args: Any, _orig: Any = original) -> Any:
                self.statements.append((sql, tuple(params)))
                return _orig(sql, params, *args)

            setattr(backend, name, wrapped)


@pytest.fixture
def pg_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    server = request.getfixturevalue("postgres_server")
    with postgres_schema(server) as url, open_store(url) as store:
        yield store


def test_snapshot_plans_stay_linear_even_with_wrong_statistics(pg_store: Store) -> None:
    store = pg_store
    db = store.backend
    # Statistics that describe another source: source "a" with a handful of rows, analysed,
    # and autovacuum kept away so that they stay wrong while source "b" grows.
    db.execute("ALTER TABLE records SET (autovacuum_enabled = false)")
    db.execute("ALTER TABLE history SET (autovacuum_enabled = false)")
    db.execute("ALTER TABLE snapshot_chunks SET (autovacuum_enabled = false)")
    _snapshot(store, "a", _codes(20, "16"))
    db.execute("ANALYZE records")
    db.execute("ANALYZE snapshot_chunks")
    codes = _codes(8000)
    _snapshot(store, "b", codes)
    row = db.fetchone(
        "SELECT (SELECT count(*) FROM records WHERE source = 'b'),"
        " (SELECT s.n_distinct FROM pg_stats s WHERE s.tablename = 'records'"
        "  AND s.attname = 'source' AND s.schemaname = current_schema())"
    )
    assert row is not None
    assert row[0] == 8000
    explain = db.fetchone("EXPLAIN (FORMAT JSON) SELECT id FROM records WHERE source = 'b'")
    assert explain is not None
    estimate = explain[0][0]["Plan"]["Plan Rows"]
    assert estimate < 800, f"the statistics should be wrong (estimate {estimate} of 8000 rows)"

    # The next snapshot of "b" changes some, leaves some out: record what it sends.
    recorder = _Recorder(store)
    changed = [*codes[:3000], *codes[3500:]]
    run = store.begin_run("b", SNAP).run_id
    for index in range(0, len(changed), 2000):
        chunk = changed[index : index + 2000]
        store.apply(
            run,
            "b",
            _areas(iter(chunk), name="B" if index == 0 else "A"),
            cursor=str(index),
            complete=index + 2000 >= len(changed),
            mode=SNAP,
            max_delete_share=0.5,
        )
    # ... and a connector asks which of its objects are stored unchanged
    asked = [fingerprint("A", code) for code in codes[4000:6000]]
    assert len(store.stored_fingerprints("b", asked)) == 2000
    # ... and a feed brings the same content from other bytes (new fingerprints, one
    # UPDATE of fingerprints) and deletes (one tombstone UPDATE).
    feed = store.begin_run("b", FEED).run_id
    refingered = codes[4000:6000]
    gone = codes[6000:8000]
    store.apply(
        feed,
        "b",
        [
            *(
                prepare(Upsert(Area(ars=Ars(code), name="A"), fingerprint=fingerprint("v2", code)))
                for code in refingered
            ),
            *(prepare(Delete("area", code)) for code in gone),
        ],
        cursor="feed",
        complete=True,
        mode=FEED,
        max_delete_share=None,
    )
    sent = list(recorder.statements)
    heads = " ".join(sql for sql, _ in sent)
    assert "SET fingerprint = " in heads
    assert "SET deleted = TRUE" in heads
    assert store.count("b") == 5500
    assert store.get("b", "area", codes[3200]) is None
    assert store.get("b", "area", codes[6400]) is None
    assert store.get("b", "area", codes[5999]) is not None
    assert len(store.stored_fingerprints("b", [fingerprint("v2", c) for c in refingered])) == 2000
    assert not store.stored_fingerprints("b", [fingerprint("A", c) for c in refingered])
    explained = 0
    for sql, params in sent:
        head = sql.lstrip().split(None, 1)[0].upper()
        if head not in {"SELECT", "UPDATE", "INSERT", "DELETE", "WITH"}:
            continue
        if "pg_advisory" in sql:
            continue
        plan = db.fetchone(f"EXPLAIN (FORMAT JSON) {sql}", params)
        assert plan is not None
        _check_plan(sql, plan[0][0]["Plan"])
        explained += 1
    assert explained >= 10


def test_the_old_anti_join_did_go_wrong_with_these_statistics(pg_store: Store) -> None:
    """The statistics trick of the test above does mislead the planner into a nested loop."""
    db = pg_store.backend
    db.execute(
        "CREATE TABLE old_seen (source TEXT, key_hash BIGINT, PRIMARY KEY (source, key_hash))"
    )
    db.execute("ALTER TABLE old_seen SET (autovacuum_enabled = false)")
    db.execute("ALTER TABLE records SET (autovacuum_enabled = false)")
    _snapshot(pg_store, "a", _codes(20, "16"))
    db.execute("INSERT INTO old_seen SELECT 'a', key_hash FROM records WHERE source = 'a'")
    db.execute("ANALYZE old_seen")
    db.execute("ANALYZE records")
    _snapshot(pg_store, "b", _codes(8000))
    db.execute("INSERT INTO old_seen SELECT 'b', key_hash FROM records WHERE source = 'b'")
    plan = db.fetchone(
        "EXPLAIN (FORMAT JSON) SELECT r.id FROM records r WHERE r.source = 'b'"
        " AND r.deleted = FALSE AND NOT EXISTS (SELECT 1 FROM old_seen s"
        " WHERE s.source = r.source AND s.key_hash = r.key_hash)"
    )
    assert plan is not None
    assert "Nested Loop" in set(_nodes(plan[0][0]["Plan"]))
